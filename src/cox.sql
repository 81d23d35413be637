-- Cox regression (SPEC §10): cox_fit and the cox_model type

CREATE TYPE cox_model;
CREATE FUNCTION cox_model_in(cstring) RETURNS cox_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_model_out(cox_model) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_model_recv(internal) RETURNS cox_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_model_send(cox_model) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE cox_model (
	INPUT = cox_model_in, OUTPUT = cox_model_out,
	RECEIVE = cox_model_recv, SEND = cox_model_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE cox_model IS 'Fitted Cox proportional-hazards model: coefficients, model-based and robust standard errors, log-likelihoods, tests, concordance, proportional-hazards test, means and the baseline cumulative hazard of each stratum';
COMMENT ON FUNCTION cox_model_in(cstring) IS 'Reads a cox_model from its text form';
COMMENT ON FUNCTION cox_model_out(cox_model) IS 'Writes a cox_model as text: v=1 ties=.. robust=.. stratified=.. signals=.. n=.. events=.. iterations=.. loglik={..} wald=.. score=.. robust_score=.. concordance=.. concordance_std_error=.. coefficients={..} std_errors={..} robust_std_errors={..} means={..} ph_chisq={..} ph_df={..} strata=[..]';
COMMENT ON FUNCTION cox_model_recv(internal) IS 'Reads a cox_model from its binary form';
COMMENT ON FUNCTION cox_model_send(cox_model) IS 'Writes a cox_model in binary form';

CREATE FUNCTION cox_fit_accum(internal, double precision, boolean, double precision[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION cox_fit_counting_accum(internal, double precision, double precision, boolean, double precision[]) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION cox_fit_full_accum(internal, double precision, double precision, boolean, double precision[], double precision, text, text, text) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION cox_fit_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION cox_fit_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_fit_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_fit_final(internal) RETURNS cox_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cox_fit_accum(internal, double precision, boolean, double precision[]) IS 'Transition function of cox_fit(duration, churned, signals): keeps one row';
COMMENT ON FUNCTION cox_fit_counting_accum(internal, double precision, double precision, boolean, double precision[]) IS 'Transition function of cox_fit(entry, duration, churned, signals): keeps one counting-process row';
COMMENT ON FUNCTION cox_fit_full_accum(internal, double precision, double precision, boolean, double precision[], double precision, text, text, text) IS 'Transition function of cox_fit(entry, duration, churned, signals, weight, stratum, cluster, ties): keeps one row with its weight, stratum and cluster';
COMMENT ON FUNCTION cox_fit_combine(internal, internal) IS 'Combine function of cox_fit(): joins the rows of two partial states';
COMMENT ON FUNCTION cox_fit_serialize(internal) IS 'Serializes the state of cox_fit() for parallel query';
COMMENT ON FUNCTION cox_fit_deserialize(bytea, internal) IS 'Reads back and validates a serialized cox_fit() state';
COMMENT ON FUNCTION cox_fit_final(internal) IS 'Final function of cox_fit(): the Cox fit (Newton-Raphson with step halving on the partial likelihood, as R''s coxph)';

CREATE AGGREGATE cox_fit(duration double precision, churned boolean, VARIADIC signals double precision[]) (
	SFUNC = cox_fit_accum, STYPE = internal,
	FINALFUNC = cox_fit_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = cox_fit_combine,
	SERIALFUNC = cox_fit_serialize, DESERIALFUNC = cox_fit_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cox_fit(entry double precision, duration double precision, churned boolean, signals double precision[]) (
	SFUNC = cox_fit_counting_accum, STYPE = internal,
	FINALFUNC = cox_fit_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = cox_fit_combine,
	SERIALFUNC = cox_fit_serialize, DESERIALFUNC = cox_fit_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE cox_fit(entry double precision, duration double precision, churned boolean, signals double precision[],
		weight double precision, stratum text, cluster text, ties text) (
	SFUNC = cox_fit_full_accum, STYPE = internal,
	FINALFUNC = cox_fit_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = cox_fit_combine,
	SERIALFUNC = cox_fit_serialize, DESERIALFUNC = cox_fit_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE cox_fit(double precision, boolean, double precision[]) IS 'Cox proportional-hazards fit, one row per account: R''s coxph(Surv(duration, churned) ~ signals), ties = "efron"; NULL without a row or an event';
COMMENT ON AGGREGATE cox_fit(double precision, double precision, boolean, double precision[]) IS 'Cox fit on counting-process rows (at risk in (entry, duration], entry 0 = from the start; time-varying signals, late entry): R''s coxph(Surv(entry, duration, churned) ~ signals)';
COMMENT ON AGGREGATE cox_fit(double precision, double precision, boolean, double precision[], double precision, text, text, text) IS 'Cox fit with every option: case weights (0 adds nothing), strata (NULL a stratum of its own), cluster (robust variance; NULL a cluster of its own), ties ''efron'' or ''breslow''';

CREATE FUNCTION cox_coefficients(cox_model) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_std_errors(cox_model) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_robust_std_errors(cox_model) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_summary(model cox_model, confidence double precision DEFAULT 0.95,
		OUT signal integer, OUT coefficient double precision, OUT hazard_ratio double precision,
		OUT std_error double precision, OUT robust_std_error double precision,
		OUT z double precision, OUT p_value double precision,
		OUT lower double precision, OUT upper double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION cox_log_likelihood(cox_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_null_log_likelihood(cox_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_tests(model cox_model,
		OUT test text, OUT statistic double precision, OUT df integer, OUT p_value double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
CREATE FUNCTION cox_concordance(cox_model) RETURNS double precision
	AS 'MODULE_PATHNAME', 'cox_concordance_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_concordance_std_error(cox_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_ph_test(model cox_model,
		OUT signal integer, OUT chisq double precision, OUT df integer, OUT p_value double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION cox_observations(cox_model) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_events(cox_model) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_means(cox_model) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_risk_score(model cox_model, VARIADIC signals double precision[]) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_survival_at(model cox_model, t double precision, VARIADIC signals double precision[]) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_survival_at(model cox_model, t double precision, stratum text, VARIADIC signals double precision[]) RETURNS double precision
	AS 'MODULE_PATHNAME', 'cox_survival_at_stratum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cox_survival_table(model cox_model, VARIADIC signals double precision[],
		OUT stratum text, OUT duration double precision, OUT survival double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;

COMMENT ON FUNCTION cox_coefficients(cox_model) IS 'Coefficients of a Cox model as double precision[], one per signal (log hazard ratio per unit of signal); NULL where R gives NA (a signal collinear with earlier ones)';
COMMENT ON FUNCTION cox_std_errors(cox_model) IS 'Model-based standard errors of the coefficients: R''s sqrt(diag(fit$naive.var)) when the fit is robust, else sqrt(diag(fit$var))';
COMMENT ON FUNCTION cox_robust_std_errors(cox_model) IS 'Robust (sandwich) standard errors: the per-cluster dfbeta residuals, each row its own cluster without a cluster column (R''s robust se)';
COMMENT ON FUNCTION cox_summary(cox_model, double precision) IS 'One row per signal: coefficient, hazard ratio, standard error, robust standard error, z, p-value and the confidence interval of the hazard ratio, as R''s summary(coxph) (robust where R is)';
COMMENT ON FUNCTION cox_log_likelihood(cox_model) IS 'Log partial likelihood at the fitted coefficients (R''s fit$loglik[2])';
COMMENT ON FUNCTION cox_null_log_likelihood(cox_model) IS 'Log partial likelihood with every coefficient 0 (R''s fit$loglik[1])';
COMMENT ON FUNCTION cox_tests(cox_model) IS 'Likelihood-ratio, Wald, score and (robust fits) robust score tests of all coefficients: statistic, degrees of freedom and p-value, as R''s summary(coxph)';
COMMENT ON FUNCTION cox_concordance(cox_model) IS 'Harrell''s concordance of the fitted risk with the durations (R''s fit$concordance["concordance"])';
COMMENT ON FUNCTION cox_concordance_std_error(cox_model) IS 'Standard error of the concordance (R''s fit$concordance["std"]); NULL where R gives NA';
COMMENT ON FUNCTION cox_ph_test(cox_model) IS 'Proportional-hazards test of R''s cox.zph(fit) (transform "km"): chi-square, degrees of freedom and p-value per signal, signal NULL for the global test';
COMMENT ON FUNCTION cox_observations(cox_model) IS 'Rows used in the fit (R''s fit$n); rows of weight 0 are not used';
COMMENT ON FUNCTION cox_events(cox_model) IS 'Rows with an event in the fit (R''s fit$nevent)';
COMMENT ON FUNCTION cox_means(cox_model) IS 'Weighted means of the signals over the rows used (R''s fit$means), the reference of the risk scores';
COMMENT ON FUNCTION cox_risk_score(cox_model, double precision[]) IS 'Relative hazard exp(beta . (x - means)) of an account with these signals (R''s predict(fit, newdata, type = "risk", reference = "sample")); NULL if a signal is NULL';
COMMENT ON FUNCTION cox_survival_at(cox_model, double precision, double precision[]) IS 'Predicted share still a customer at time t for an account with these signals held fixed (R''s survfit(fit, newdata)); for a fit with one stratum';
COMMENT ON FUNCTION cox_survival_at(cox_model, double precision, text, double precision[]) IS 'Predicted share still a customer at time t in the given stratum for an account with these signals held fixed (R''s survfit(fit, newdata) with the stratum in newdata)';
COMMENT ON FUNCTION cox_survival_table(cox_model, double precision[]) IS 'Every step of the predicted survival curve of an account with these signals, per stratum: stratum, duration (event time), survival (R''s summary(survfit(fit, newdata)))';
