
-- Revenue retention and churn (one period), MRR movements

CREATE TYPE retention_summary;
CREATE FUNCTION retention_summary_in(cstring) RETURNS retention_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_out(retention_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_recv(internal) RETURNS retention_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_send(retention_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention_summary (
	INPUT = retention_summary_in, OUTPUT = retention_summary_out,
	RECEIVE = retention_summary_recv, SEND = retention_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE retention_summary IS 'Mergeable revenue retention summary of one period: starting, churned and new customer counts and compensated sums of starting, retained, new, expansion, contraction and churned MRR';

CREATE FUNCTION retention_accum(retention_summary, double precision, double precision)
	RETURNS retention_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention_combine(retention_summary, retention_summary) RETURNS retention_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention_summary_in(cstring) IS 'Reads a retention_summary from its text form';
COMMENT ON FUNCTION retention_summary_out(retention_summary) IS 'Writes a retention_summary as text: v=1 starting=n churned=n new=n starting_mrr=.. retained_mrr=.. new_mrr=.. expansion_mrr=.. contraction_mrr=.. churned_mrr=.. (a sum with a compensation term prints as {sum,compensation})';
COMMENT ON FUNCTION retention_summary_recv(internal) IS 'Reads a retention_summary from its binary form';
COMMENT ON FUNCTION retention_summary_send(retention_summary) IS 'Writes a retention_summary in binary form';
COMMENT ON FUNCTION retention_accum(retention_summary, double precision, double precision) IS 'Transition function of retention_agg() and the direct retention aggregates: adds one customer''s starting and ending MRR';
COMMENT ON FUNCTION retention_combine(retention_summary, retention_summary) IS 'Merges two retention summaries of disjoint customer sets (combine function, and transition of rollup)';

CREATE AGGREGATE retention_agg(mrr_start double precision, mrr_end double precision) (
	SFUNC = retention_accum, STYPE = retention_summary,
	COMBINEFUNC = retention_combine, PARALLEL = SAFE
);
CREATE AGGREGATE rollup(retention_summary) (
	SFUNC = retention_combine, STYPE = retention_summary,
	COMBINEFUNC = retention_combine, PARALLEL = SAFE
);
COMMENT ON AGGREGATE retention_agg(double precision, double precision) IS 'Mergeable revenue retention summary of one period, one row per customer with its MRR at the start and at the end (coalesce(end, 0) after a LEFT JOIN), for storing and rollup()';
COMMENT ON AGGREGATE rollup(retention_summary) IS 'Merges retention summaries of disjoint customer sets, e.g. segments into the whole';

-- The rates: each an accessor and a direct aggregate (src/retention_rate.sql.in)

-- @expand src/retention_rate.sql.in
-- @ name = nrr
-- @ description = Net revenue retention: sum of ending MRR over starting customers / starting MRR
-- @ null = NULL without starting MRR
-- @end

-- @expand src/retention_rate.sql.in
-- @ name = grr
-- @ description = Gross revenue retention: sum of min(start, end) over starting customers / starting MRR
-- @ null = NULL without starting MRR
-- @end

-- @expand src/retention_rate.sql.in
-- @ name = customer_churn_rate
-- @ description = Customer (logo) churn rate: churned customers / starting customers
-- @ null = NULL without starting customers
-- @end

-- @expand src/retention_rate.sql.in
-- @ name = revenue_churn_rate
-- @ description = Revenue churn rate (cancellations only): churned MRR / starting MRR
-- @ null = NULL without starting MRR
-- @end

-- @expand src/retention_rate.sql.in
-- @ name = gross_revenue_churn_rate
-- @ description = Gross revenue churn rate: (churned + contraction MRR) / starting MRR = 1 - GRR
-- @ null = NULL without starting MRR
-- @end

-- @expand src/retention_rate.sql.in
-- @ name = net_revenue_churn_rate
-- @ description = Net revenue churn rate: (churned + contraction - expansion MRR) / starting MRR = 1 - NRR
-- @ null = NULL without starting MRR
-- @end

CREATE FUNCTION starting_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_starting_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ending_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_ending_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retained_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_retained_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION new_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_new_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expansion_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_expansion_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION contraction_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_contraction_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churned_mrr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_churned_mrr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION starting_customers(retention_summary) RETURNS bigint
	AS 'MODULE_PATHNAME', 'retention_starting_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churned_customers(retention_summary) RETURNS bigint
	AS 'MODULE_PATHNAME', 'retention_churned_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION new_customers(retention_summary) RETURNS bigint
	AS 'MODULE_PATHNAME', 'retention_new_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION starting_mrr(retention_summary) IS 'Starting MRR: sum of mrr_start over all customers';
COMMENT ON FUNCTION ending_mrr(retention_summary) IS 'Ending MRR: sum of mrr_end over all customers, new customers included';
COMMENT ON FUNCTION retained_mrr(retention_summary) IS 'Retained MRR: sum of mrr_end over starting customers (the numerator of NRR)';
COMMENT ON FUNCTION new_mrr(retention_summary) IS 'New MRR: sum of mrr_end over new customers (mrr_start = 0)';
COMMENT ON FUNCTION expansion_mrr(retention_summary) IS 'Expansion MRR: sum of max(end - start, 0) over starting customers still paying';
COMMENT ON FUNCTION contraction_mrr(retention_summary) IS 'Contraction MRR: sum of max(start - end, 0) over starting customers still paying';
COMMENT ON FUNCTION churned_mrr(retention_summary) IS 'Churned MRR: sum of mrr_start over churned customers (mrr_start > 0, mrr_end = 0)';
COMMENT ON FUNCTION starting_customers(retention_summary) IS 'Number of starting customers (mrr_start > 0)';
COMMENT ON FUNCTION churned_customers(retention_summary) IS 'Number of churned customers (mrr_start > 0, mrr_end = 0)';
COMMENT ON FUNCTION new_customers(retention_summary) IS 'Number of new customers (mrr_start = 0, mrr_end > 0)';

-- SaaS dashboard ratios (1.2)
CREATE FUNCTION ending_customers(retention_summary) RETURNS bigint
	AS 'MODULE_PATHNAME', 'retention_ending_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ending_customers(retention_summary) IS 'Number of customers paying at the end of the period (mrr_end > 0): starting customers who did not churn plus new customers';
-- @expand src/retention_rate.sql.in
-- @ name = quick_ratio
-- @ description = SaaS quick ratio: (new + expansion MRR) / (contraction + churned MRR)
-- @ null = NULL when no MRR was lost
-- @end
-- @expand src/retention_rate.sql.in
-- @ name = mrr_growth_rate
-- @ description = MRR growth rate: ending MRR / starting MRR - 1
-- @ null = NULL without starting MRR
-- @end
CREATE FUNCTION arpa(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_arpa' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION arpa(retention_summary) IS 'Average revenue per account: ending MRR / ending customers; NULL without ending customers';
CREATE FUNCTION arr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_arr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION arr(retention_summary) IS 'Annual run rate: 12 x ending MRR';
CREATE FUNCTION average_sale_price(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_average_sale_price' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION average_sale_price(retention_summary) IS 'Average sale price: new MRR / new customers; NULL without new customers';

CREATE FUNCTION mrr_movement(previous_mrr double precision, current_mrr double precision,
                             was_customer boolean DEFAULT false) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mrr_movement(double precision, double precision, boolean) IS 'Movement of one customer''s MRR between two periods: new, reactivation (previous 0, current > 0, was a customer before), expansion, contraction, churn, retained (unchanged > 0) or inactive (both 0); NULL MRR counts as 0';

-- SPEC §11: merge two summaries (rollup(a, b) and a + b)
CREATE FUNCTION rollup(a retention_summary, b retention_summary) RETURNS retention_summary
	AS 'MODULE_PATHNAME', 'retention_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = retention_summary, RIGHTARG = retention_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(retention_summary, retention_summary) IS 'Merges two retention summaries (of disjoint customer sets): the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (retention_summary, retention_summary) IS 'Merges two retention summaries (of disjoint customer sets): rollup(a, b)';
