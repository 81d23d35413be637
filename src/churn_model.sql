-- Churn model (logistic regression) and AUC

CREATE TYPE churn_model;
CREATE FUNCTION churn_model_in(cstring) RETURNS churn_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_out(churn_model) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_recv(internal) RETURNS churn_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_send(churn_model) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE churn_model (
	INPUT = churn_model_in, OUTPUT = churn_model_out,
	RECEIVE = churn_model_recv, SEND = churn_model_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE churn_model IS 'Fitted logistic churn model: coefficients (intercept first), standard errors, rows, churned rows, log-likelihood, iterations';

CREATE FUNCTION churn_fit_accum(internal, boolean, double precision[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn_fit_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn_fit_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_fit_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_fit_final(internal) RETURNS churn_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE churn_model_fit(churned boolean, VARIADIC signals double precision[]) (
	SFUNC = churn_fit_accum, STYPE = internal,
	FINALFUNC = churn_fit_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = churn_fit_combine,
	SERIALFUNC = churn_fit_serialize, DESERIALFUNC = churn_fit_deserialize,
	PARALLEL = SAFE
);

CREATE FUNCTION churn_model_coefficients(churn_model) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_std_errors(churn_model) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_probability(model churn_model, VARIADIC signals double precision[])
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION churn_model_in(cstring) IS 'Reads a churn_model from its text form';
COMMENT ON FUNCTION churn_model_out(churn_model) IS 'Writes a churn_model as text: v=1 coefficients={...} std_errors={...} rows=.. churned=.. log_likelihood=.. iterations=..';
COMMENT ON FUNCTION churn_model_recv(internal) IS 'Reads a churn_model from its binary form';
COMMENT ON FUNCTION churn_model_send(churn_model) IS 'Writes a churn_model in binary form';
COMMENT ON FUNCTION churn_fit_accum(internal, boolean, double precision[]) IS 'Transition function of churn_model_fit(): keeps one row';
COMMENT ON FUNCTION churn_fit_combine(internal, internal) IS 'Combine function of churn_model_fit(): joins the rows of two partial states';
COMMENT ON FUNCTION churn_fit_serialize(internal) IS 'Serializes the state of churn_model_fit() for parallel query';
COMMENT ON FUNCTION churn_fit_deserialize(bytea, internal) IS 'Reads back and validates a serialized churn_model_fit() state';
COMMENT ON FUNCTION churn_fit_final(internal) IS 'Final function of churn_model_fit(): the maximum-likelihood logistic fit (Newton/IRLS with step halving)';
COMMENT ON AGGREGATE churn_model_fit(boolean, double precision[]) IS 'Logistic regression of churned on the signals with an intercept, by maximum likelihood; NULL without both churned and retained rows; error on separable data or collinear signals';
COMMENT ON FUNCTION churn_model_coefficients(churn_model) IS 'Coefficients of a churn model as double precision[]: intercept first, then one per signal (log-odds of churn per unit of signal)';
COMMENT ON FUNCTION churn_model_std_errors(churn_model) IS 'Standard errors of the coefficients of a churn model, from the inverse Fisher information, in the same order';
COMMENT ON FUNCTION churn_probability(churn_model, double precision[]) IS 'Predicted churn probability for the given signals: 1 / (1 + exp(-(b0 + b1 x1 + ...))); NULL if a signal is NULL';

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

CREATE FUNCTION auc_accum(internal, double precision, boolean) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The final function sorts the kept scores in place: that only reorders a
-- multiset, so the state stays valid for more rows and further final calls.
CREATE AGGREGATE auc(score double precision, outcome boolean) (
	SFUNC = auc_accum, STYPE = internal,
	FINALFUNC = auc_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_combine,
	SERIALFUNC = auc_serialize, DESERIALFUNC = auc_deserialize,
	PARALLEL = SAFE
);

COMMENT ON FUNCTION auc_accum(internal, double precision, boolean) IS 'Transition function of auc(): keeps one score under its outcome';
COMMENT ON FUNCTION auc_combine(internal, internal) IS 'Combine function of auc(): joins the scores of two partial states';
COMMENT ON FUNCTION auc_serialize(internal) IS 'Serializes the state of auc() for parallel query';
COMMENT ON FUNCTION auc_deserialize(bytea, internal) IS 'Reads back and validates a serialized auc() state';
COMMENT ON FUNCTION auc_final(internal) IS 'Final function of auc(): exact ROC AUC by sorting (Mann-Whitney), ties counting half';
COMMENT ON AGGREGATE auc(double precision, boolean) IS 'ROC AUC: probability that a row with outcome true scores higher than one with outcome false, ties counting half; NULL when either outcome is missing';

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
