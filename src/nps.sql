
-- NPS and CSAT: the objects both families have are written once, in
-- src/score.sql.in (expanded by src/expand.awk into plain SQL in the
-- install script); what differs follows each expansion.

-- @expand src/score.sql.in
-- @ p = nps
-- @ NAME = NPS
-- @ an = an
-- @ lo = 0
-- @ hi = 10
-- @ n = 11
-- @ zeros = 0,0,0,0,0,0,0,0,0,0,0
-- @end

CREATE FUNCTION nps_promoters(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_passives(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_detractors(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nps(nps_summary) IS 'Net Promoter Score of a summary: 100 * (promoters - detractors) / responses, from -100 to 100; NULL when empty';
COMMENT ON AGGREGATE nps(integer) IS 'Net Promoter Score of 0..10 survey scores: 100 * (promoters (9-10) - detractors (0-6)) / responses';
COMMENT ON FUNCTION nps_promoters(nps_summary) IS 'Number of promoters (scores 9 and 10) in an NPS summary';
COMMENT ON FUNCTION nps_passives(nps_summary) IS 'Number of passives (scores 7 and 8) in an NPS summary';
COMMENT ON FUNCTION nps_detractors(nps_summary) IS 'Number of detractors (scores 0 to 6) in an NPS summary';
COMMENT ON FUNCTION nps_margin_of_error(nps_summary, double precision) IS 'Half-width in NPS points of the confidence interval of the NPS: z * sqrt((p + d - (p - d)^2) / n) * 100';

-- @expand src/score.sql.in
-- @ p = csat
-- @ NAME = CSAT
-- @ an = a
-- @ lo = 1
-- @ hi = 5
-- @ n = 5
-- @ zeros = 0,0,0,0,0
-- @end

CREATE FUNCTION csat_satisfied(csat_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION csat(csat_summary) IS 'CSAT of a summary: share of responses scoring 4 or 5, from 0 to 1; NULL when empty';
COMMENT ON AGGREGATE csat(integer) IS 'CSAT of 1..5 survey scores: share of responses scoring 4 or 5, from 0 to 1';
COMMENT ON FUNCTION csat_satisfied(csat_summary) IS 'Number of satisfied responses (scores 4 and 5) in a CSAT summary';
COMMENT ON FUNCTION csat_margin_of_error(csat_summary, double precision) IS 'Half-width of the confidence interval of the CSAT share: z * sqrt(p (1 - p) / n)';

-- SPEC §11: merge two summaries (rollup(a, b) and a + b)
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
