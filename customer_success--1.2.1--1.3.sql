-- customer_success 1.2.1 -> 1.3 (ALTER EXTENSION customer_success UPDATE TO '1.3')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3: Cox regression (SPEC §10), merging two stored summaries
-- (SPEC §11).  Each change below is the same as in src/*.sql, which make the
-- fresh install script customer_success--1.3.sql.

-- SPEC §11: merge two summaries: rollup(a, b) and a + b for each summary type
CREATE FUNCTION rollup(a nps_summary, b nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME', 'nps_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = nps_summary, RIGHTARG = nps_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(nps_summary, nps_summary) IS 'Merges two NPS summaries: the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (nps_summary, nps_summary) IS 'Merges two NPS summaries: rollup(a, b)';
CREATE FUNCTION rollup(a csat_summary, b csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME', 'csat_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = csat_summary, RIGHTARG = csat_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(csat_summary, csat_summary) IS 'Merges two CSAT summaries: the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (csat_summary, csat_summary) IS 'Merges two CSAT summaries: rollup(a, b)';
CREATE FUNCTION rollup(a retention_summary, b retention_summary) RETURNS retention_summary
	AS 'MODULE_PATHNAME', 'retention_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = retention_summary, RIGHTARG = retention_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(retention_summary, retention_summary) IS 'Merges two retention summaries (of disjoint customer sets): the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (retention_summary, retention_summary) IS 'Merges two retention summaries (of disjoint customer sets): rollup(a, b)';
CREATE FUNCTION rollup(a health_summary, b health_summary) RETURNS health_summary
	AS 'MODULE_PATHNAME', 'health_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = health_summary, RIGHTARG = health_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(health_summary, health_summary) IS 'Merges two health summaries with the same weights: the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (health_summary, health_summary) IS 'Merges two health summaries with the same weights: rollup(a, b)';
CREATE FUNCTION rollup(a survival_summary, b survival_summary) RETURNS survival_summary
	AS 'MODULE_PATHNAME', 'survival_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = survival_summary, RIGHTARG = survival_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(survival_summary, survival_summary) IS 'Merges two survival summaries (of disjoint sets of customers; any layouts): the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (survival_summary, survival_summary) IS 'Merges two survival summaries (of disjoint sets of customers; any layouts): rollup(a, b)';
CREATE FUNCTION rollup(a competing_risks_summary, b competing_risks_summary) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME', 'competing_risks_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = competing_risks_summary, RIGHTARG = competing_risks_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(competing_risks_summary, competing_risks_summary) IS 'Merges two competing-risks summaries (of disjoint sets of customers): the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (competing_risks_summary, competing_risks_summary) IS 'Merges two competing-risks summaries (of disjoint sets of customers): rollup(a, b)';

-- ===== refactor (issue 21) and the entry rule (issue 22 item 4) =====
-- An entry of 0 means observed from the start for any duration >= 0 (the C
-- functions changed; only the comments of the two aggregates say so).
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision) IS 'Mergeable Kaplan-Meier summary with late entry: a customer is at risk when entry < t <= duration, as R''s Surv(entry, duration, churned); an entry of 0 means observed from the start, for any duration >= 0 (the row counts as in survival_agg(duration, churned)); an entry above 0 must be below the duration';
COMMENT ON AGGREGATE competing_risks_agg(double precision, text, double precision) IS 'Mergeable competing-risks summary with late entry: the customer is at risk at ages t with entry < t <= duration, as R''s Surv(entry, duration, status); an entry of 0 means observed from the start, for any duration >= 0 (the row counts as in competing_risks_agg(duration, reason)); an entry above 0 must be below the duration';
