
-- NPS and CSAT

CREATE TYPE nps_summary;
CREATE FUNCTION nps_summary_in(cstring) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_out(nps_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_recv(internal) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_send(nps_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE nps_summary (
	INPUT = nps_summary_in, OUTPUT = nps_summary_out,
	RECEIVE = nps_summary_recv, SEND = nps_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE nps_summary IS 'Mergeable NPS summary: the count of responses per score 0..10';

CREATE FUNCTION nps_accum(nps_summary, integer) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION nps_combine(nps_summary, nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION nps(nps_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'nps_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- sliding window frames (since 1.1; see score_accum_inv in nps.c): a rolling
-- 30-day nps() adds the row that enters and removes the one that leaves
CREATE FUNCTION nps_accum_inv(nps_summary, integer) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION nps_agg_moving_final(nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_rollup_accum(nps_summary, nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME', 'nps_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_uncombine(nps_summary, nps_summary) RETURNS nps_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE nps(score integer) (
	SFUNC = nps_accum, STYPE = nps_summary,
	FINALFUNC = nps, COMBINEFUNC = nps_combine, PARALLEL = SAFE,
	MSFUNC = nps_accum, MINVFUNC = nps_accum_inv, MSTYPE = nps_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}', MFINALFUNC = nps
);
CREATE AGGREGATE nps_agg(score integer) (
	SFUNC = nps_accum, STYPE = nps_summary,
	COMBINEFUNC = nps_combine, PARALLEL = SAFE,
	MSFUNC = nps_accum, MINVFUNC = nps_accum_inv, MSTYPE = nps_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}', MFINALFUNC = nps_agg_moving_final
);
CREATE AGGREGATE rollup(nps_summary) (
	SFUNC = nps_combine, STYPE = nps_summary,
	COMBINEFUNC = nps_combine, PARALLEL = SAFE,
	MSFUNC = nps_rollup_accum, MINVFUNC = nps_uncombine, MSTYPE = nps_summary
);

CREATE FUNCTION nps_responses(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_promoters(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_passives(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_detractors(nps_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_score_counts(nps_summary) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_margin_of_error(nps_summary, confidence double precision DEFAULT 0.95)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nps_summary_in(cstring) IS 'Reads an nps_summary from its text form';
COMMENT ON FUNCTION nps_summary_out(nps_summary) IS 'Writes an nps_summary as text: v=1 counts={n0,...,n10}';
COMMENT ON FUNCTION nps_summary_recv(internal) IS 'Reads an nps_summary from its binary form';
COMMENT ON FUNCTION nps_summary_send(nps_summary) IS 'Writes an nps_summary in binary form';
COMMENT ON FUNCTION nps_accum(nps_summary, integer) IS 'Transition function of nps() and nps_agg(): counts one score';
COMMENT ON FUNCTION nps_combine(nps_summary, nps_summary) IS 'Merges two NPS summaries (combine function, and transition of rollup)';
COMMENT ON FUNCTION nps_accum_inv(nps_summary, integer) IS 'Inverse transition of nps() and nps_agg() over a sliding window frame: uncounts one score';
COMMENT ON FUNCTION nps_agg_moving_final(nps_summary) IS 'Final function of nps_agg() over a sliding window frame: the summary, or NULL when the frame has no response';
COMMENT ON FUNCTION nps_rollup_accum(nps_summary, nps_summary) IS 'Transition of rollup() over a sliding window frame: strict nps_combine, NULL summaries skipped';
COMMENT ON FUNCTION nps_uncombine(nps_summary, nps_summary) IS 'Inverse transition of rollup() over a sliding window frame: subtracts one summary';
COMMENT ON FUNCTION nps(nps_summary) IS 'Net Promoter Score of a summary: 100 * (promoters - detractors) / responses, from -100 to 100; NULL when empty';
COMMENT ON AGGREGATE nps(integer) IS 'Net Promoter Score of 0..10 survey scores: 100 * (promoters (9-10) - detractors (0-6)) / responses';
COMMENT ON AGGREGATE nps_agg(integer) IS 'Mergeable NPS summary (counts per score 0..10) of survey scores, for storing and rollup()';
COMMENT ON AGGREGATE rollup(nps_summary) IS 'Merges NPS summaries, e.g. daily rows into months';
COMMENT ON FUNCTION nps_responses(nps_summary) IS 'Number of responses in an NPS summary';
COMMENT ON FUNCTION nps_promoters(nps_summary) IS 'Number of promoters (scores 9 and 10) in an NPS summary';
COMMENT ON FUNCTION nps_passives(nps_summary) IS 'Number of passives (scores 7 and 8) in an NPS summary';
COMMENT ON FUNCTION nps_detractors(nps_summary) IS 'Number of detractors (scores 0 to 6) in an NPS summary';
COMMENT ON FUNCTION nps_score_counts(nps_summary) IS 'Responses per score as bigint[11], score 0 first';
COMMENT ON FUNCTION nps_margin_of_error(nps_summary, double precision) IS 'Half-width in NPS points of the confidence interval of the NPS: z * sqrt((p + d - (p - d)^2) / n) * 100';

CREATE TYPE csat_summary;
CREATE FUNCTION csat_summary_in(cstring) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_out(csat_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_recv(internal) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_send(csat_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE csat_summary (
	INPUT = csat_summary_in, OUTPUT = csat_summary_out,
	RECEIVE = csat_summary_recv, SEND = csat_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE csat_summary IS 'Mergeable CSAT summary: the count of responses per score 1..5';

CREATE FUNCTION csat_accum(csat_summary, integer) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_combine(csat_summary, csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat(csat_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'csat_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- sliding window frames (since 1.1), as for NPS
CREATE FUNCTION csat_accum_inv(csat_summary, integer) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_moving_final(csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_rollup_accum(csat_summary, csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME', 'csat_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_uncombine(csat_summary, csat_summary) RETURNS csat_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE csat(score integer) (
	SFUNC = csat_accum, STYPE = csat_summary,
	FINALFUNC = csat, COMBINEFUNC = csat_combine, PARALLEL = SAFE,
	MSFUNC = csat_accum, MINVFUNC = csat_accum_inv, MSTYPE = csat_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0}', MFINALFUNC = csat
);
CREATE AGGREGATE csat_agg(score integer) (
	SFUNC = csat_accum, STYPE = csat_summary,
	COMBINEFUNC = csat_combine, PARALLEL = SAFE,
	MSFUNC = csat_accum, MINVFUNC = csat_accum_inv, MSTYPE = csat_summary,
	MINITCOND = 'v=1 counts={0,0,0,0,0}', MFINALFUNC = csat_agg_moving_final
);
CREATE AGGREGATE rollup(csat_summary) (
	SFUNC = csat_combine, STYPE = csat_summary,
	COMBINEFUNC = csat_combine, PARALLEL = SAFE,
	MSFUNC = csat_rollup_accum, MINVFUNC = csat_uncombine, MSTYPE = csat_summary
);

CREATE FUNCTION csat_responses(csat_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_satisfied(csat_summary) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_score_counts(csat_summary) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_margin_of_error(csat_summary, confidence double precision DEFAULT 0.95)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION csat_summary_in(cstring) IS 'Reads a csat_summary from its text form';
COMMENT ON FUNCTION csat_summary_out(csat_summary) IS 'Writes a csat_summary as text: v=1 counts={n1,...,n5}';
COMMENT ON FUNCTION csat_summary_recv(internal) IS 'Reads a csat_summary from its binary form';
COMMENT ON FUNCTION csat_summary_send(csat_summary) IS 'Writes a csat_summary in binary form';
COMMENT ON FUNCTION csat_accum(csat_summary, integer) IS 'Transition function of csat() and csat_agg(): counts one score';
COMMENT ON FUNCTION csat_combine(csat_summary, csat_summary) IS 'Merges two CSAT summaries (combine function, and transition of rollup)';
COMMENT ON FUNCTION csat_accum_inv(csat_summary, integer) IS 'Inverse transition of csat() and csat_agg() over a sliding window frame: uncounts one score';
COMMENT ON FUNCTION csat_agg_moving_final(csat_summary) IS 'Final function of csat_agg() over a sliding window frame: the summary, or NULL when the frame has no response';
COMMENT ON FUNCTION csat_rollup_accum(csat_summary, csat_summary) IS 'Transition of rollup() over a sliding window frame: strict csat_combine, NULL summaries skipped';
COMMENT ON FUNCTION csat_uncombine(csat_summary, csat_summary) IS 'Inverse transition of rollup() over a sliding window frame: subtracts one summary';
COMMENT ON FUNCTION csat(csat_summary) IS 'CSAT of a summary: share of responses scoring 4 or 5, from 0 to 1; NULL when empty';
COMMENT ON AGGREGATE csat(integer) IS 'CSAT of 1..5 survey scores: share of responses scoring 4 or 5, from 0 to 1';
COMMENT ON AGGREGATE csat_agg(integer) IS 'Mergeable CSAT summary (counts per score 1..5) of survey scores, for storing and rollup()';
COMMENT ON AGGREGATE rollup(csat_summary) IS 'Merges CSAT summaries, e.g. daily rows into months';
COMMENT ON FUNCTION csat_responses(csat_summary) IS 'Number of responses in a CSAT summary';
COMMENT ON FUNCTION csat_satisfied(csat_summary) IS 'Number of satisfied responses (scores 4 and 5) in a CSAT summary';
COMMENT ON FUNCTION csat_score_counts(csat_summary) IS 'Responses per score as bigint[5], score 1 first';
COMMENT ON FUNCTION csat_margin_of_error(csat_summary, double precision) IS 'Half-width of the confidence interval of the CSAT share: z * sqrt(p (1 - p) / n)';
