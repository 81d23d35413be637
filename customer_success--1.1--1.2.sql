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
