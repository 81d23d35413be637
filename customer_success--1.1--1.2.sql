-- customer_success 1.1 -> 1.2 (ALTER EXTENSION customer_success UPDATE TO '1.2')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.2'" to load this file. \quit

-- Every object new in 1.2, or changed since 1.1, exactly as src/*.sql defines
-- it for a fresh install (test/t/reliability-upgrade.sh compares the two
-- catalogues entry by entry).  Sections by family, in the order of src/*.sql.

-- predictive
CREATE FUNCTION bgnbd_probability_of_purchases(model bgnbd_model, t double precision, n integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bgnbd_probability_of_purchases(bgnbd_model, double precision, integer) IS 'Probability that a customer drawn at random at time 0 makes exactly n purchases in (0, t] (Fader, Hardie & Lee 2005, eq. 8)';

-- retention
CREATE FUNCTION ending_customers(retention_summary) RETURNS bigint
	AS 'MODULE_PATHNAME', 'retention_ending_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ending_customers(retention_summary) IS 'Number of customers paying at the end of the period (mrr_end > 0): starting customers who did not churn plus new customers';
CREATE FUNCTION quick_ratio(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_quick_ratio' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE quick_ratio(mrr_start double precision, mrr_end double precision) (
	SFUNC = retention_accum, STYPE = retention_summary,
	FINALFUNC = quick_ratio, COMBINEFUNC = retention_combine, PARALLEL = SAFE
);
COMMENT ON FUNCTION quick_ratio(retention_summary) IS 'SaaS quick ratio: (new + expansion MRR) / (contraction + churned MRR); NULL when no MRR was lost';
COMMENT ON AGGREGATE quick_ratio(double precision, double precision) IS 'SaaS quick ratio: (new + expansion MRR) / (contraction + churned MRR) of one period, one row per customer with its MRR at the start and at the end; NULL when no MRR was lost';
CREATE FUNCTION mrr_growth_rate(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_mrr_growth_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE mrr_growth_rate(mrr_start double precision, mrr_end double precision) (
	SFUNC = retention_accum, STYPE = retention_summary,
	FINALFUNC = mrr_growth_rate, COMBINEFUNC = retention_combine, PARALLEL = SAFE
);
COMMENT ON FUNCTION mrr_growth_rate(retention_summary) IS 'MRR growth rate: ending MRR / starting MRR - 1; NULL without starting MRR';
COMMENT ON AGGREGATE mrr_growth_rate(double precision, double precision) IS 'MRR growth rate: ending MRR / starting MRR - 1 of one period, one row per customer with its MRR at the start and at the end; NULL without starting MRR';
CREATE FUNCTION arpa(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_arpa' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION arpa(retention_summary) IS 'Average revenue per account: ending MRR / ending customers; NULL without ending customers';
CREATE FUNCTION arr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_arr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION arr(retention_summary) IS 'Annual run rate: 12 x ending MRR';
CREATE FUNCTION average_sale_price(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_average_sale_price' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION average_sale_price(retention_summary) IS 'Average sale price: new MRR / new customers; NULL without new customers';

-- sbg
-- sbg: the shifted-beta-geometric model of contractual retention (Fader &
-- Hardie 2007), fitted by maximum likelihood to a survival_summary of whole
-- renewal periods
CREATE TYPE sbg_model;
CREATE FUNCTION sbg_model_in(cstring) RETURNS sbg_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_model_out(sbg_model) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_model_recv(internal) RETURNS sbg_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_model_send(sbg_model) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE sbg_model (
	INPUT = sbg_model_in, OUTPUT = sbg_model_out,
	RECEIVE = sbg_model_recv, SEND = sbg_model_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE sbg_model IS 'Fitted shifted-beta-geometric retention model: alpha, beta, log-likelihood and customer count';
COMMENT ON FUNCTION sbg_model_in(cstring) IS 'Reads an sbg_model from its text form';
COMMENT ON FUNCTION sbg_model_out(sbg_model) IS 'Writes an sbg_model as text: v=1 alpha=.. beta=.. log_likelihood=.. customers=..';
COMMENT ON FUNCTION sbg_model_recv(internal) IS 'Reads an sbg_model from its binary form';
COMMENT ON FUNCTION sbg_model_send(sbg_model) IS 'Writes an sbg_model in binary form';

CREATE FUNCTION sbg_fit(summary survival_summary) RETURNS sbg_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_params(model sbg_model, OUT alpha double precision, OUT beta double precision,
	OUT log_likelihood double precision, OUT customers bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_survival_at(model sbg_model, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_retention_rate(model sbg_model, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_derl(model sbg_model, discount_rate double precision, renewals integer DEFAULT 0)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION sbg_fit(survival_summary) IS 'Shifted-beta-geometric model fitted by maximum likelihood to a survival_summary of whole renewal periods (duration = periods paid, churned = cancelled); NULL for an empty summary';
COMMENT ON FUNCTION sbg_params(sbg_model) IS 'Parameters of an sBG model: alpha, beta, log_likelihood and the number of customers fitted';
COMMENT ON FUNCTION sbg_survival_at(sbg_model, double precision) IS 'Projected share of a cohort still subscribed after t whole periods: S(t) = B(alpha, beta + t) / B(alpha, beta)';
COMMENT ON FUNCTION sbg_retention_rate(sbg_model, double precision) IS 'Projected renewal rate at period t (t >= 1, whole): (beta + t - 1) / (alpha + beta + t - 1)';
COMMENT ON FUNCTION sbg_derl(sbg_model, double precision, integer) IS 'Discounted expected residual lifetime, in payments, of a customer who has renewed `renewals` times (Fader & Hardie 2010)';
