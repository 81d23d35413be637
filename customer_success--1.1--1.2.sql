-- customer_success 1.1 -> 1.2 (ALTER EXTENSION customer_success UPDATE TO '1.2')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.2'" to load this file. \quit

-- Every object new in 1.2, or changed since 1.1, exactly as src/*.sql defines
-- it for a fresh install (test/t/reliability-upgrade.sh compares the two
-- catalogues entry by entry).  Sections by family, in the order of src/*.sql.

-- survival
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
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision) IS 'Mergeable Kaplan-Meier summary with late entry: a customer is at risk when entry < t <= duration, as R''s Surv(entry, duration, churned); entry >= 0 and < duration';
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision, double precision) IS 'Weighted Kaplan-Meier summary with late entry: case weights >= 0 (frequency or sampling weights, as R''s weights =); rows of weight 0 add nothing';
COMMENT ON FUNCTION survival_table(survival_summary, double precision, text) IS 'R''s summary(survfit(...), censored = TRUE): one row per distinct duration with at_risk, entered, churned, censored (weights), S, its standard error (Greenwood), the confidence interval (conf_type log-log, log or plain), Nelson-Aalen cumulative hazard and its standard error';
COMMENT ON FUNCTION cumulative_hazard_at(survival_summary, double precision) IS 'Nelson-Aalen cumulative hazard H(t) = sum of churned / at risk over durations <= t; NULL when empty';
COMMENT ON FUNCTION median_lifetime_lower(survival_summary, double precision, text) IS 'Lower confidence bound of the median lifetime as R''s print(survfit): the smallest duration where the lower confidence curve is <= 0.5; NULL if none';
COMMENT ON FUNCTION median_lifetime_upper(survival_summary, double precision, text) IS 'Upper confidence bound of the median lifetime as R''s print(survfit): the smallest duration where the upper confidence curve is <= 0.5; NULL if none';
COMMENT ON FUNCTION mean_lifetime_std_error(survival_summary, double precision) IS 'Standard error of the restricted mean lifetime up to horizon, as R''s print(survfit, rmean = horizon) se(rmean); NULL when empty';
COMMENT ON TYPE survival_summary IS 'Mergeable Kaplan-Meier summary: per distinct duration, the number of churn events and of censored (still active) customers; with late entry or weights, per distinct time the weight entering, churning and censored';
COMMENT ON FUNCTION survival_summary_out(survival_summary) IS 'Writes a survival_summary as text: v=1 durations={t,...} churned={n,...} censored={n,...}, with entered={w,...} (and weighted=true) for late entry and weights';
