
-- Churn by reason: competing risks (Aalen-Johansen cumulative incidence)

CREATE TYPE competing_risks_summary;
CREATE FUNCTION competing_risks_summary_in(cstring) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_summary_out(competing_risks_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_summary_recv(internal) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_summary_send(competing_risks_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE competing_risks_summary (
	INPUT = competing_risks_summary_in, OUTPUT = competing_risks_summary_out,
	RECEIVE = competing_risks_summary_recv, SEND = competing_risks_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE competing_risks_summary IS 'Mergeable competing-risks summary: per distinct duration, the churn events of each reason, the censored (still active) customers and, with late entry, the customers who entered then and how many share each (entry, exit, reason)';

CREATE FUNCTION competing_risks_accum(competing_risks_summary, double precision, text)
	RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION competing_risks_entry_accum(competing_risks_summary, double precision, text, double precision)
	RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION competing_risks_combine(competing_risks_summary, competing_risks_summary)
	RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION competing_risks_agg_final(competing_risks_summary) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE competing_risks_agg(duration double precision, reason text) (
	SFUNC = competing_risks_accum, STYPE = competing_risks_summary,
	FINALFUNC = competing_risks_agg_final, COMBINEFUNC = competing_risks_combine, PARALLEL = SAFE
);
CREATE AGGREGATE competing_risks_agg(duration double precision, reason text, entry double precision) (
	SFUNC = competing_risks_entry_accum, STYPE = competing_risks_summary,
	FINALFUNC = competing_risks_agg_final, COMBINEFUNC = competing_risks_combine, PARALLEL = SAFE
);
CREATE AGGREGATE rollup(competing_risks_summary) (
	SFUNC = competing_risks_combine, STYPE = competing_risks_summary,
	FINALFUNC = competing_risks_agg_final, COMBINEFUNC = competing_risks_combine, PARALLEL = SAFE
);

CREATE FUNCTION cumulative_incidence_at(competing_risks_summary, reason text, t double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cumulative_incidence_curve(competing_risks_summary, reason text)
	RETURNS TABLE (duration double precision, at_risk double precision, events double precision,
	               cumulative_incidence double precision, std_error double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
CREATE FUNCTION survival_at(competing_risks_summary, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'competing_risks_survival_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_reasons(competing_risks_summary) RETURNS text[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION competing_risks_summary_in(cstring) IS 'Reads a competing_risks_summary from its text form';
COMMENT ON FUNCTION competing_risks_summary_out(competing_risks_summary) IS 'Writes a competing_risks_summary as text: v=1 reasons={"r",...} durations={t,...} [entered={n,...}] censored={n,...} events={{n,...},...}';
COMMENT ON FUNCTION competing_risks_summary_recv(internal) IS 'Reads a competing_risks_summary from its binary form';
COMMENT ON FUNCTION competing_risks_summary_send(competing_risks_summary) IS 'Writes a competing_risks_summary in binary form';
COMMENT ON FUNCTION competing_risks_accum(competing_risks_summary, double precision, text) IS 'Transition function of competing_risks_agg(duration, reason): counts one customer, churned for reason or censored when reason is NULL';
COMMENT ON FUNCTION competing_risks_entry_accum(competing_risks_summary, double precision, text, double precision) IS 'Transition function of competing_risks_agg(duration, reason, entry): counts one customer observed from age entry';
COMMENT ON FUNCTION competing_risks_combine(competing_risks_summary, competing_risks_summary) IS 'Merges two competing-risks summaries (combine function, and transition of rollup)';
COMMENT ON FUNCTION competing_risks_agg_final(competing_risks_summary) IS 'Final function of competing_risks_agg() and rollup(): the summary with one row of counts per distinct duration, sorted';
COMMENT ON AGGREGATE competing_risks_agg(double precision, text) IS 'Mergeable competing-risks summary of (duration, reason) per customer: reason is why the customer churned (at most 63 bytes, not empty), NULL for a customer still active (censored)';
COMMENT ON AGGREGATE competing_risks_agg(double precision, text, double precision) IS 'Mergeable competing-risks summary with late entry: the customer is at risk at ages t with entry < t <= duration, as R''s Surv(entry, duration, status); an entry of 0 means observed from the start, for any duration >= 0 (the row counts as in competing_risks_agg(duration, reason)); an entry above 0 must be below the duration';
COMMENT ON AGGREGATE rollup(competing_risks_summary) IS 'Merges competing-risks summaries of disjoint sets of customers';
COMMENT ON FUNCTION cumulative_incidence_at(competing_risks_summary, text, double precision) IS 'Aalen-Johansen cumulative incidence: probability of having churned for reason by age t, from 0 to 1 (0 for a reason never seen); NULL when empty';
COMMENT ON FUNCTION cumulative_incidence_curve(competing_risks_summary, text) IS 'Cumulative incidence of one reason: a row per distinct duration at which a customer leaves, with the number at risk, that reason''s churn events, the Aalen-Johansen cumulative incidence and its infinitesimal-jackknife standard error (as R''s survfit, also with late entry; NULL only for late-entry summaries stored by 1.2)';
COMMENT ON FUNCTION survival_at(competing_risks_summary, double precision) IS 'Probability of no churn of any reason by age t (Kaplan-Meier on all reasons together); NULL when empty';
COMMENT ON FUNCTION competing_risks_reasons(competing_risks_summary) IS 'The churn reasons a competing-risks summary has seen, sorted bytewise';

-- SPEC §11: merge two summaries (rollup(a, b) and a + b)
CREATE FUNCTION rollup(a competing_risks_summary, b competing_risks_summary) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME', 'competing_risks_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = competing_risks_summary, RIGHTARG = competing_risks_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(competing_risks_summary, competing_risks_summary) IS 'Merges two competing-risks summaries (of disjoint sets of customers): the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (competing_risks_summary, competing_risks_summary) IS 'Merges two competing-risks summaries (of disjoint sets of customers): rollup(a, b)';
