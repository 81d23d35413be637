-- Health score

CREATE FUNCTION health_scale(value double precision, red double precision, green double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION health_scale(double precision, double precision, double precision) IS 'Maps a raw signal to [0, 1]: 0 at or beyond red, 1 at or beyond green, linear between; red > green means lower is better';

CREATE TYPE health_summary;
CREATE FUNCTION health_summary_in(cstring) RETURNS health_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION health_summary_out(health_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION health_summary_recv(internal) RETURNS health_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION health_summary_send(health_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE health_summary (
	INPUT = health_summary_in, OUTPUT = health_summary_out,
	RECEIVE = health_summary_recv, SEND = health_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE health_summary IS 'Mergeable health summary: the weights, and per signal a compensated sum and a count of its non-NULL values';

CREATE FUNCTION health_accum(health_summary, double precision[], double precision[]) RETURNS health_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION health_combine(health_summary, health_summary) RETURNS health_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION health_score(health_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'health_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE health_score(weights double precision[], VARIADIC signals double precision[]) (
	SFUNC = health_accum, STYPE = health_summary,
	FINALFUNC = health_score, COMBINEFUNC = health_combine, PARALLEL = SAFE
);
CREATE AGGREGATE health_agg(weights double precision[], VARIADIC signals double precision[]) (
	SFUNC = health_accum, STYPE = health_summary,
	COMBINEFUNC = health_combine, PARALLEL = SAFE
);
CREATE AGGREGATE rollup(health_summary) (
	SFUNC = health_combine, STYPE = health_summary,
	COMBINEFUNC = health_combine, PARALLEL = SAFE
);

-- Overloads for 1 to 8 signal columns.  When a call matches both these and
-- the VARIADIC form, PostgreSQL picks the non-variadic one, so that
-- health_score(array[...], a, b, c) passes its signals as plain arguments
-- instead of building an array for every row.  Same state, same answers.
-- One template, src/health_columns.sql.in, written out for each.
-- @expand src/health_columns.sql.in
-- @ n = 1
-- @ args = double precision[], double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 2
-- @ args = double precision[], double precision, double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 3
-- @ args = double precision[], double precision, double precision, double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 4
-- @ args = double precision[], double precision, double precision, double precision, double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 5
-- @ args = double precision[], double precision, double precision, double precision, double precision, double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 6
-- @ args = double precision[], double precision, double precision, double precision, double precision, double precision, double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 7
-- @ args = double precision[], double precision, double precision, double precision, double precision, double precision, double precision, double precision
-- @end

-- @expand src/health_columns.sql.in
-- @ n = 8
-- @ args = double precision[], double precision, double precision, double precision, double precision, double precision, double precision, double precision, double precision
-- @end

CREATE FUNCTION health_band(score double precision, red_below double precision DEFAULT 40,
                            green_from double precision DEFAULT 70) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION health_band(summary health_summary, red_below double precision DEFAULT 40,
                            green_from double precision DEFAULT 70) RETURNS text
	AS 'MODULE_PATHNAME', 'health_band_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION health_contributions(health_summary)
	RETURNS TABLE (signal integer, weight double precision, mean double precision,
	               contribution double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 5;

COMMENT ON FUNCTION health_summary_in(cstring) IS 'Reads a health_summary from its text form';
COMMENT ON FUNCTION health_summary_out(health_summary) IS 'Writes a health_summary as text: v=1 weights={...} sums={...} counts={...}';
COMMENT ON FUNCTION health_summary_recv(internal) IS 'Reads a health_summary from its binary form';
COMMENT ON FUNCTION health_summary_send(health_summary) IS 'Writes a health_summary in binary form';
COMMENT ON FUNCTION health_accum(health_summary, double precision[], double precision[]) IS 'Transition function of health_score() and health_agg(): adds one row of signals';
COMMENT ON FUNCTION health_combine(health_summary, health_summary) IS 'Merges two health summaries with the same weights (combine function, and transition of rollup)';
COMMENT ON FUNCTION health_score(health_summary) IS 'Health score of a summary, 0 to 100: weighted mean of the signal averages, weights renormalized over the signals with data; NULL when none has';
COMMENT ON AGGREGATE health_score(double precision[], double precision[]) IS 'Health score 0 to 100 of signals in [0, 1]: each averaged over its non-NULL rows, then weighted, weights renormalized over the signals with data';
COMMENT ON AGGREGATE health_agg(double precision[], double precision[]) IS 'Mergeable health summary (weights, per-signal sums and counts), for storing and rollup()';
COMMENT ON AGGREGATE rollup(health_summary) IS 'Merges health summaries that share their weights, e.g. weekly rows into quarters';
COMMENT ON FUNCTION health_band(double precision, double precision, double precision) IS 'Band of a health score: red below red_below, green from green_from, yellow between';
COMMENT ON FUNCTION health_band(health_summary, double precision, double precision) IS 'Band of the health score of a summary: red, yellow or green; NULL when it has no score';
COMMENT ON FUNCTION health_contributions(health_summary) IS 'Per signal: applied (renormalized) weight, mean, and contribution in score points; contributions sum to the score';

-- SPEC §11: merge two summaries (rollup(a, b) and a + b)
CREATE FUNCTION rollup(a health_summary, b health_summary) RETURNS health_summary
	AS 'MODULE_PATHNAME', 'health_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR + (
	LEFTARG = health_summary, RIGHTARG = health_summary, FUNCTION = rollup, COMMUTATOR = +
);
COMMENT ON FUNCTION rollup(health_summary, health_summary) IS 'Merges two health summaries with the same weights: the same value as the rollup() aggregate over a then b; a NULL argument gives the other, two NULLs give NULL; for INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s';
COMMENT ON OPERATOR + (health_summary, health_summary) IS 'Merges two health summaries with the same weights: rollup(a, b)';
