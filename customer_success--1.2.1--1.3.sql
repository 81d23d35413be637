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
