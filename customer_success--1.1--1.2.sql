-- customer_success 1.1 -> 1.2 (ALTER EXTENSION customer_success UPDATE TO '1.2')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.2'" to load this file. \quit

-- Every object new in 1.2, or changed since 1.1, exactly as src/*.sql defines
-- it for a fresh install (test/t/reliability-upgrade.sh compares the two
-- catalogues entry by entry).  Sections by family, in the order of src/*.sql.

-- churn model

-- fit statistics (1.2), read from what every stored model holds
CREATE FUNCTION churn_model_log_likelihood(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_null_log_likelihood(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_lr_p_value(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_pseudo_r2(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION churn_model_log_likelihood(churn_model) IS 'Log-likelihood of a churn model at its fitted coefficients (statsmodels Logit llf)';
COMMENT ON FUNCTION churn_model_null_log_likelihood(churn_model) IS 'Log-likelihood of the intercept-only model on the same rows, churned * ln(r) + retained * ln(1 - r) with r the churn rate (statsmodels llnull)';
COMMENT ON FUNCTION churn_model_lr_p_value(churn_model) IS 'p-value of the likelihood-ratio test of all signals against the intercept-only model: chi-square upper tail of 2 (llf - llnull) with one degree of freedom per signal (statsmodels llr_pvalue)';
COMMENT ON FUNCTION churn_model_pseudo_r2(churn_model) IS 'McFadden pseudo-R squared of a churn model, 1 - llf / llnull (statsmodels prsquared)';

-- DeLong confidence interval of the AUC (1.2).  The two-argument forms share
-- auc()'s state and support functions, so auc(), auc_lower() and auc_upper()
-- over the same columns in one query keep and sort the scores once.
CREATE FUNCTION auc_lower_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_upper_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_accum(internal, double precision, boolean, double precision) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_ci_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_ci_lower_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_upper_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE auc_lower(score double precision, outcome boolean) (
	SFUNC = auc_accum, STYPE = internal,
	FINALFUNC = auc_lower_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_combine,
	SERIALFUNC = auc_serialize, DESERIALFUNC = auc_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE auc_upper(score double precision, outcome boolean) (
	SFUNC = auc_accum, STYPE = internal,
	FINALFUNC = auc_upper_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_combine,
	SERIALFUNC = auc_serialize, DESERIALFUNC = auc_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE auc_lower(score double precision, outcome boolean, confidence double precision) (
	SFUNC = auc_ci_accum, STYPE = internal,
	FINALFUNC = auc_ci_lower_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_ci_combine,
	SERIALFUNC = auc_ci_serialize, DESERIALFUNC = auc_ci_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE auc_upper(score double precision, outcome boolean, confidence double precision) (
	SFUNC = auc_ci_accum, STYPE = internal,
	FINALFUNC = auc_ci_upper_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_ci_combine,
	SERIALFUNC = auc_ci_serialize, DESERIALFUNC = auc_ci_deserialize,
	PARALLEL = SAFE
);

COMMENT ON FUNCTION auc_lower_final(internal) IS 'Final function of auc_lower(score, outcome): lower bound of the 95% DeLong interval of the AUC';
COMMENT ON FUNCTION auc_upper_final(internal) IS 'Final function of auc_upper(score, outcome): upper bound of the 95% DeLong interval of the AUC';
COMMENT ON FUNCTION auc_ci_accum(internal, double precision, boolean, double precision) IS 'Transition function of auc_lower/auc_upper(score, outcome, confidence): keeps one score under its outcome and checks the confidence';
COMMENT ON FUNCTION auc_ci_combine(internal, internal) IS 'Combine function of auc_lower/auc_upper(score, outcome, confidence): joins the scores of two partial states';
COMMENT ON FUNCTION auc_ci_serialize(internal) IS 'Serializes the state of auc_lower/auc_upper(score, outcome, confidence) for parallel query';
COMMENT ON FUNCTION auc_ci_deserialize(bytea, internal) IS 'Reads back and validates a serialized auc_lower/auc_upper(score, outcome, confidence) state';
COMMENT ON FUNCTION auc_ci_lower_final(internal) IS 'Final function of auc_lower(score, outcome, confidence): lower bound of the DeLong interval of the AUC';
COMMENT ON FUNCTION auc_ci_upper_final(internal) IS 'Final function of auc_upper(score, outcome, confidence): upper bound of the DeLong interval of the AUC';
COMMENT ON AGGREGATE auc_lower(double precision, boolean) IS 'Lower bound of the 95% DeLong confidence interval of the ROC AUC, as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';
COMMENT ON AGGREGATE auc_upper(double precision, boolean) IS 'Upper bound of the 95% DeLong confidence interval of the ROC AUC, as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';
COMMENT ON AGGREGATE auc_lower(double precision, boolean, double precision) IS 'Lower bound of the DeLong confidence interval of the ROC AUC at the given confidence level (strictly between 0 and 1, the same on every row), as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';
COMMENT ON AGGREGATE auc_upper(double precision, boolean, double precision) IS 'Upper bound of the DeLong confidence interval of the ROC AUC at the given confidence level (strictly between 0 and 1, the same on every row), as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';

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
