
-- Cohort churn with censoring: Kaplan-Meier survival

CREATE TYPE survival_summary;
CREATE FUNCTION survival_summary_in(cstring) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_summary_out(survival_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_summary_recv(internal) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_summary_send(survival_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- a summary grows with its distinct durations: let large ones be TOASTed
CREATE TYPE survival_summary (
	INPUT = survival_summary_in, OUTPUT = survival_summary_out,
	RECEIVE = survival_summary_recv, SEND = survival_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE survival_summary IS 'Mergeable Kaplan-Meier summary: per distinct duration, the number of churn events and of censored (still active) customers; with late entry or weights, per distinct time the weight entering, churning and censored';

CREATE FUNCTION survival_accum(survival_summary, double precision, boolean) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION survival_cohort_accum(survival_summary, double precision, boolean, double precision)
	RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION survival_combine(survival_summary, survival_summary) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION survival_agg_final(survival_summary) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_cohort_final(survival_summary) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE survival_agg(duration double precision, churned boolean) (
	SFUNC = survival_accum, STYPE = survival_summary,
	FINALFUNC = survival_agg_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);
CREATE AGGREGATE rollup(survival_summary) (
	SFUNC = survival_combine, STYPE = survival_summary,
	FINALFUNC = survival_agg_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);
CREATE AGGREGATE cohort_churn(duration double precision, churned boolean, t double precision) (
	SFUNC = survival_cohort_accum, STYPE = survival_summary,
	FINALFUNC = survival_cohort_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);

CREATE FUNCTION survival_at(survival_summary, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_rate_at(survival_summary, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median_lifetime(survival_summary) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mean_lifetime(survival_summary, horizon double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_customers(survival_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_churned(survival_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survival_curve(survival_summary, confidence double precision DEFAULT 0.95)
	RETURNS TABLE (duration double precision, at_risk bigint, churned bigint, censored bigint,
	               survival double precision, lower double precision, upper double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
CREATE FUNCTION ltv(survival_summary, arpa double precision, gross_margin double precision,
                    horizon double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'survival_ltv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION survival_summary_in(cstring) IS 'Reads a survival_summary from its text form';
COMMENT ON FUNCTION survival_summary_out(survival_summary) IS 'Writes a survival_summary as text: v=1 durations={t,...} churned={n,...} censored={n,...}, with entered={w,...} (and weighted=true) for late entry and weights';
COMMENT ON FUNCTION survival_summary_recv(internal) IS 'Reads a survival_summary from its binary form';
COMMENT ON FUNCTION survival_summary_send(survival_summary) IS 'Writes a survival_summary in binary form';
COMMENT ON FUNCTION survival_accum(survival_summary, double precision, boolean) IS 'Transition function of survival_agg(): counts one customer''s duration, as a churn event or censored';
COMMENT ON FUNCTION survival_cohort_accum(survival_summary, double precision, boolean, double precision) IS 'Transition function of cohort_churn(): counts one customer and keeps the age t';
COMMENT ON FUNCTION survival_combine(survival_summary, survival_summary) IS 'Merges two survival summaries (combine function, and transition of rollup)';
COMMENT ON FUNCTION survival_agg_final(survival_summary) IS 'Final function of survival_agg() and rollup(): the summary with one point per distinct duration, sorted';
COMMENT ON FUNCTION survival_cohort_final(survival_summary) IS 'Final function of cohort_churn(): 1 - Kaplan-Meier S(t) at the age t the rows carried';
COMMENT ON AGGREGATE survival_agg(double precision, boolean) IS 'Mergeable Kaplan-Meier summary of (duration, churned) per customer, censored when churned is false; for storing, rollup() and the survival functions';
COMMENT ON AGGREGATE rollup(survival_summary) IS 'Merges survival summaries of disjoint sets of customers, e.g. cohorts into a year';
COMMENT ON AGGREGATE cohort_churn(double precision, boolean, double precision) IS 'Cohort churn by age t, censoring-aware: 1 - Kaplan-Meier S(t), as churn_rate_at(survival_agg(duration, churned), t); t must be the same in every row';
COMMENT ON FUNCTION survival_at(survival_summary, double precision) IS 'Kaplan-Meier S(t): share of the cohort still retained after age t, from 0 to 1; NULL when empty';
COMMENT ON FUNCTION churn_rate_at(survival_summary, double precision) IS 'Cohort churn by age t: 1 - Kaplan-Meier S(t), from 0 to 1; NULL when empty';
COMMENT ON FUNCTION median_lifetime(survival_summary) IS 'Median lifetime: the smallest duration t with Kaplan-Meier S(t) <= 0.5; NULL if S never falls that low';
COMMENT ON FUNCTION mean_lifetime(survival_summary, double precision) IS 'Restricted mean lifetime: area under the Kaplan-Meier curve S from 0 to horizon, in duration units; NULL when empty';
COMMENT ON FUNCTION survival_customers(survival_summary) IS 'Number of customers in a survival summary (churned and censored)';
COMMENT ON FUNCTION survival_churned(survival_summary) IS 'Number of churn events in a survival summary';
COMMENT ON FUNCTION survival_curve(survival_summary, double precision) IS 'Kaplan-Meier curve: one row per distinct duration with at_risk, churned, censored, S and its confidence interval (Greenwood variance on the log(-log S) scale)';
COMMENT ON FUNCTION ltv(survival_summary, double precision, double precision, double precision) IS 'Cohort lifetime value: arpa * gross_margin * restricted mean lifetime up to horizon, arpa being revenue per unit of duration';

-- 1.2: late entry, weights, survfit's table (SPEC section 6)
CREATE FUNCTION survival_entry_accum(survival_summary, double precision, boolean, double precision)
	RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION survival_weighted_accum(survival_summary, double precision, boolean, double precision,
                                        double precision) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE survival_agg(duration double precision, churned boolean, entry double precision) (
	SFUNC = survival_entry_accum, STYPE = survival_summary,
	FINALFUNC = survival_agg_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);
CREATE AGGREGATE survival_agg(duration double precision, churned boolean, entry double precision,
                              weight double precision) (
	SFUNC = survival_weighted_accum, STYPE = survival_summary,
	FINALFUNC = survival_agg_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);
CREATE FUNCTION survival_table(survival_summary, confidence double precision DEFAULT 0.95,
                               conf_type text DEFAULT 'log-log')
	RETURNS TABLE (duration double precision, at_risk double precision, entered double precision,
	               churned double precision, censored double precision, survival double precision,
	               std_error double precision, lower double precision, upper double precision,
	               cumulative_hazard double precision, cumulative_hazard_std_error double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
CREATE FUNCTION cumulative_hazard_at(survival_summary, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median_lifetime_lower(survival_summary, confidence double precision DEFAULT 0.95,
                                      conf_type text DEFAULT 'log-log') RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median_lifetime_upper(survival_summary, confidence double precision DEFAULT 0.95,
                                      conf_type text DEFAULT 'log-log') RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mean_lifetime_std_error(survival_summary, horizon double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION survival_entry_accum(survival_summary, double precision, boolean, double precision) IS 'Transition function of survival_agg(duration, churned, entry): counts one customer at risk from its entry time';
COMMENT ON FUNCTION survival_weighted_accum(survival_summary, double precision, boolean, double precision, double precision) IS 'Transition function of survival_agg(duration, churned, entry, weight): adds one customer''s weight at its entry time and duration';
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision) IS 'Mergeable Kaplan-Meier summary with late entry: a customer is at risk when entry < t <= duration, as R''s Surv(entry, duration, churned); an entry of 0 means observed from the start, for any duration >= 0 (the row counts as in survival_agg(duration, churned)); an entry above 0 must be below the duration';
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision, double precision) IS 'Weighted Kaplan-Meier summary with late entry: case weights >= 0 (frequency or sampling weights, as R''s weights =); rows of weight 0 add nothing';
COMMENT ON FUNCTION survival_table(survival_summary, double precision, text) IS 'R''s summary(survfit(...), censored = TRUE): one row per distinct duration with at_risk, entered, churned, censored (weights), S, its standard error (Greenwood), the confidence interval (conf_type log-log, log or plain), Nelson-Aalen cumulative hazard and its standard error';
COMMENT ON FUNCTION cumulative_hazard_at(survival_summary, double precision) IS 'Nelson-Aalen cumulative hazard H(t) = sum of churned / at risk over durations <= t; NULL when empty';
COMMENT ON FUNCTION median_lifetime_lower(survival_summary, double precision, text) IS 'Lower confidence bound of the median lifetime as R''s print(survfit): the smallest duration where the lower confidence curve is <= 0.5; NULL if none';
COMMENT ON FUNCTION median_lifetime_upper(survival_summary, double precision, text) IS 'Upper confidence bound of the median lifetime as R''s print(survfit): the smallest duration where the upper confidence curve is <= 0.5; NULL if none';
COMMENT ON FUNCTION mean_lifetime_std_error(survival_summary, double precision) IS 'Standard error of the restricted mean lifetime up to horizon, as R''s print(survfit, rmean = horizon) se(rmean); NULL when empty';

-- SPEC §11: merge two summaries (rollup(a, b) and a + b)
CREATE FUNCTION rollup(a survival_summary, b survival_summary) RETURNS survival_summary
	AS 'MODULE_PATHNAME', 'survival_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = survival_summary, RIGHTARG = survival_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(survival_summary, survival_summary) IS 'Merges two survival summaries (of disjoint sets of customers; any layouts): the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (survival_summary, survival_summary) IS 'Merges two survival summaries (of disjoint sets of customers; any layouts): rollup(a, b)';
