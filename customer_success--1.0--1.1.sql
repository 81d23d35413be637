-- customer_success 1.0 -> 1.1 (ALTER EXTENSION customer_success UPDATE TO '1.1')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.1'" to load this file. \quit

-- Sliding window frames for NPS and CSAT: moving-aggregate support, so that
-- nps(), csat(), nps_agg(), csat_agg() and rollup() over a frame such as
-- ROWS BETWEEN 29 PRECEDING AND CURRENT ROW remove the row that leaves the
-- frame instead of recounting the whole frame for every row.  The aggregates
-- are replaced in place (CREATE OR REPLACE AGGREGATE keeps their OIDs), so
-- views, materialized views and stored summaries that depend on them stay.

CREATE FUNCTION nps_accum_inv(nps_summary, integer) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION nps_agg_moving_final(nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_rollup_accum(nps_summary, nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME', 'nps_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_uncombine(nps_summary, nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_accum_inv(csat_summary, integer) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_moving_final(csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_rollup_accum(csat_summary, csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME', 'csat_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_uncombine(csat_summary, csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps_accum_inv(nps_summary, integer) IS 'Inverse transition of nps() and nps_agg() over a sliding window frame: uncounts one score';
COMMENT ON FUNCTION nps_agg_moving_final(nps_summary) IS 'Final function of nps_agg() over a sliding window frame: the summary, or NULL when the frame has no response';
COMMENT ON FUNCTION nps_rollup_accum(nps_summary, nps_summary) IS 'Transition of rollup() over a sliding window frame: strict nps_combine, NULL summaries skipped';
COMMENT ON FUNCTION nps_uncombine(nps_summary, nps_summary) IS 'Inverse transition of rollup() over a sliding window frame: subtracts one summary';
COMMENT ON FUNCTION csat_accum_inv(csat_summary, integer) IS 'Inverse transition of csat() and csat_agg() over a sliding window frame: uncounts one score';
COMMENT ON FUNCTION csat_agg_moving_final(csat_summary) IS 'Final function of csat_agg() over a sliding window frame: the summary, or NULL when the frame has no response';
COMMENT ON FUNCTION csat_rollup_accum(csat_summary, csat_summary) IS 'Transition of rollup() over a sliding window frame: strict csat_combine, NULL summaries skipped';
COMMENT ON FUNCTION csat_uncombine(csat_summary, csat_summary) IS 'Inverse transition of rollup() over a sliding window frame: subtracts one summary';

CREATE OR REPLACE AGGREGATE nps(score integer) (
	SFUNC = nps_accum, STYPE = nps_summary,
	FINALFUNC = nps, COMBINEFUNC = nps_combine, PARALLEL = SAFE,
	MSFUNC = nps_accum, MINVFUNC = nps_accum_inv, MSTYPE = nps_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}', MFINALFUNC = nps
);
CREATE OR REPLACE AGGREGATE nps_agg(score integer) (
	SFUNC = nps_accum, STYPE = nps_summary,
	COMBINEFUNC = nps_combine, PARALLEL = SAFE,
	MSFUNC = nps_accum, MINVFUNC = nps_accum_inv, MSTYPE = nps_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}', MFINALFUNC = nps_agg_moving_final
);
CREATE OR REPLACE AGGREGATE rollup(nps_summary) (
	SFUNC = nps_combine, STYPE = nps_summary,
	COMBINEFUNC = nps_combine, PARALLEL = SAFE,
	MSFUNC = nps_rollup_accum, MINVFUNC = nps_uncombine, MSTYPE = nps_summary
);
CREATE OR REPLACE AGGREGATE csat(score integer) (
	SFUNC = csat_accum, STYPE = csat_summary,
	FINALFUNC = csat, COMBINEFUNC = csat_combine, PARALLEL = SAFE,
	MSFUNC = csat_accum, MINVFUNC = csat_accum_inv, MSTYPE = csat_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0}', MFINALFUNC = csat
);
CREATE OR REPLACE AGGREGATE csat_agg(score integer) (
	SFUNC = csat_accum, STYPE = csat_summary,
	COMBINEFUNC = csat_combine, PARALLEL = SAFE,
	MSFUNC = csat_accum, MINVFUNC = csat_accum_inv, MSTYPE = csat_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0}', MFINALFUNC = csat_agg_moving_final
);
CREATE OR REPLACE AGGREGATE rollup(csat_summary) (
	SFUNC = csat_combine, STYPE = csat_summary,
	COMBINEFUNC = csat_combine, PARALLEL = SAFE,
	MSFUNC = csat_rollup_accum, MINVFUNC = csat_uncombine, MSTYPE = csat_summary
);
