
-- Log-rank tests: comparing the survival of groups (R's survdiff).  Takes
-- survival.sql's survival_summary, so it is in the Makefile's SQL_LATE.

CREATE TYPE logrank_state;
CREATE FUNCTION logrank_state_in(cstring) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_state_out(logrank_state) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_state_recv(internal) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_state_send(logrank_state) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE logrank_state (
	INPUT = logrank_state_in, OUTPUT = logrank_state_out,
	RECEIVE = logrank_state_recv, SEND = logrank_state_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE logrank_state IS 'State of the log-rank aggregates: the groups'' survival points (and names, for the stratified test), mergeable so that parallel query and Citus can split the test';

CREATE FUNCTION logrank_accum(logrank_state, survival_summary) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_rho_accum(logrank_state, survival_summary, double precision) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_strata_accum(logrank_state, survival_summary, double precision, text, text)
	RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_combine(logrank_state, logrank_state) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_chisq_final(logrank_state) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_p_value_final(logrank_state) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE logrank_chisq(survival_summary) (
	SFUNC = logrank_accum, STYPE = logrank_state,
	FINALFUNC = logrank_chisq_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_p_value(survival_summary) (
	SFUNC = logrank_accum, STYPE = logrank_state,
	FINALFUNC = logrank_p_value_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_chisq(survival_summary, rho double precision) (
	SFUNC = logrank_rho_accum, STYPE = logrank_state,
	FINALFUNC = logrank_chisq_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_p_value(survival_summary, rho double precision) (
	SFUNC = logrank_rho_accum, STYPE = logrank_state,
	FINALFUNC = logrank_p_value_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_chisq(survival_summary, rho double precision, grp text, stratum text) (
	SFUNC = logrank_strata_accum, STYPE = logrank_state,
	FINALFUNC = logrank_chisq_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_p_value(survival_summary, rho double precision, grp text, stratum text) (
	SFUNC = logrank_strata_accum, STYPE = logrank_state,
	FINALFUNC = logrank_p_value_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);

COMMENT ON FUNCTION logrank_state_in(cstring) IS 'Reads a logrank_state from its text form';
COMMENT ON FUNCTION logrank_state_out(logrank_state) IS 'Writes a logrank_state as text: v=1 flags=F rho=R groups={{grp,stratum,initial,{t,entered,churned,censored,...}},...}';
COMMENT ON FUNCTION logrank_state_recv(internal) IS 'Reads a logrank_state from its binary form';
COMMENT ON FUNCTION logrank_state_send(logrank_state) IS 'Writes a logrank_state in binary form';
COMMENT ON FUNCTION logrank_accum(logrank_state, survival_summary) IS 'Transition function of logrank_chisq/logrank_p_value(summary): adds one group';
COMMENT ON FUNCTION logrank_rho_accum(logrank_state, survival_summary, double precision) IS 'Transition function of logrank_chisq/logrank_p_value(summary, rho): adds one group; rho must be the same in every row';
COMMENT ON FUNCTION logrank_strata_accum(logrank_state, survival_summary, double precision, text, text) IS 'Transition function of the stratified logrank_chisq/logrank_p_value: adds one (grp, stratum) summary';
COMMENT ON FUNCTION logrank_combine(logrank_state, logrank_state) IS 'Merges two log-rank states (combine function)';
COMMENT ON FUNCTION logrank_chisq_final(logrank_state) IS 'Final function of logrank_chisq(): the chi-square statistic';
COMMENT ON FUNCTION logrank_p_value_final(logrank_state) IS 'Final function of logrank_p_value(): the chi-square upper tail of the statistic';
COMMENT ON AGGREGATE logrank_chisq(survival_summary) IS 'Log-rank test over one survival summary per row (one row per group): chi-square statistic with k - 1 degrees of freedom, as R''s survdiff() chisq; NULL when fewer than two groups have churn events at risk';
COMMENT ON AGGREGATE logrank_p_value(survival_summary) IS 'Log-rank test over one survival summary per row (one row per group): p-value of the chi-square statistic with k - 1 degrees of freedom, as R''s survdiff(); NULL when there is no test';
COMMENT ON AGGREGATE logrank_chisq(survival_summary, double precision) IS 'Fleming-Harrington G-rho test (weights S(t-)^rho, rho = 1: Peto-Peto) over one summary per group: chi-square statistic, as R''s survdiff(rho = )';
COMMENT ON AGGREGATE logrank_p_value(survival_summary, double precision) IS 'Fleming-Harrington G-rho test over one summary per group: p-value, as R''s survdiff(rho = )';
COMMENT ON AGGREGATE logrank_chisq(survival_summary, double precision, text, text) IS 'Stratified G-rho test, one summary per (grp, stratum) row (rows of the same pair merged): chi-square statistic, as R''s survdiff(Surv(d, churned) ~ grp + strata(stratum), rho = ); a NULL stratum in every row means no strata';
COMMENT ON AGGREGATE logrank_p_value(survival_summary, double precision, text, text) IS 'Stratified G-rho test, one summary per (grp, stratum) row: p-value, as R''s survdiff(Surv(d, churned) ~ grp + strata(stratum), rho = )';
