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
