-- NPS: nps(), nps_agg(), rollup(), accessors, margin of error, summary I/O
SET extra_float_digits = 0;

-- The worked example: 50 promoters, 30 passives, 20 detractors
CREATE TABLE survey (day date, account int, score int);
INSERT INTO survey
SELECT date '2026-01-01' + (i % 7)::int, i % 13, s
FROM (SELECT row_number() OVER () AS i, s
      FROM (SELECT 10 FROM generate_series(1, 25)
            UNION ALL SELECT 9 FROM generate_series(1, 25)
            UNION ALL SELECT 8 FROM generate_series(1, 15)
            UNION ALL SELECT 7 FROM generate_series(1, 15)
            UNION ALL SELECT 6 FROM generate_series(1, 10)
            UNION ALL SELECT 0 FROM generate_series(1, 10)) g(s)) n;

-- NPS = 100 * (50 - 20) / 100 = 30
-- margin = 1.959964 * sqrt((0.5 + 0.2 - 0.3^2) / 100) * 100 = 1.959964 * 7.81025 = 15.3078
SELECT nps(score) FROM survey;
SELECT round(nps_margin_of_error(nps_agg(score))::numeric, 2) AS moe95,
       round(nps_margin_of_error(nps_agg(score), 0.95)::numeric, 4) AS moe95_4,
       -- z(0.995) = 2.575829: 2.575829 * 7.81025 = 20.1179
       round(nps_margin_of_error(nps_agg(score), 0.99)::numeric, 4) AS moe99
FROM survey;
SELECT nps_responses(s), nps_promoters(s), nps_passives(s), nps_detractors(s),
       nps_score_counts(s), nps(s)
FROM (SELECT nps_agg(score) AS s FROM survey) x;

-- the same numbers by plain SQL, per account
SELECT count(*) AS accounts_differing
FROM (SELECT account, nps(score) AS ours,
             100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6))
                   / count(score) AS plain
      FROM survey GROUP BY account) x
WHERE abs(ours - plain) > 1e-12;

-- NULL scores are skipped; no usable rows gives NULL
SELECT nps(s), nps_responses(nps_agg(s)) FROM (VALUES (10), (NULL), (0), (NULL)) v(s);
SELECT nps(s) IS NULL AS nps_null, nps_agg(s) IS NULL AS agg_null
FROM (VALUES (NULL::int), (NULL)) v(s);
SELECT nps(score) IS NULL AS nps_null, nps_agg(score) IS NULL AS agg_null
FROM survey WHERE false;
SELECT nps(NULL::nps_summary) IS NULL AS strict_null;

-- extremes
SELECT nps(s), nps_margin_of_error(nps_agg(s)) FROM (VALUES (10), (9), (10)) v(s);
SELECT nps(s), nps_margin_of_error(nps_agg(s)) FROM (VALUES (0), (6), (3)) v(s);
SELECT nps(s), nps_margin_of_error(nps_agg(s)) FROM (VALUES (7), (8)) v(s);
-- one promoter, one detractor: p = d = 0.5, variance 1, moe = 1.959964 * sqrt(1/2) * 100
SELECT nps(s), round(nps_margin_of_error(nps_agg(s))::numeric, 4) FROM (VALUES (10), (0)) v(s);

-- errors
SELECT cs_test.error_of('SELECT nps(s) FROM (VALUES (5), (11)) v(s)');
SELECT cs_test.error_of('SELECT nps(s) FROM (VALUES (-1)) v(s)');
SELECT cs_test.error_of('SELECT nps_agg(s) FROM (VALUES (2147483647)) v(s)');
SELECT cs_test.error_of('SELECT nps_margin_of_error(nps_agg(score), 0) FROM survey');
SELECT cs_test.error_of('SELECT nps_margin_of_error(nps_agg(score), 1) FROM survey');
SELECT cs_test.error_of('SELECT nps_margin_of_error(nps_agg(score), 1.5) FROM survey');
SELECT cs_test.error_of('SELECT nps_margin_of_error(nps_agg(score), -0.5) FROM survey');
SELECT cs_test.error_of($$SELECT nps_margin_of_error(nps_agg(score), 'NaN') FROM survey$$);
-- the support functions refuse to run outside an aggregate
SELECT cs_test.error_of($$SELECT nps_accum(NULL, 5)$$);

-- text form and exact round trip
SELECT nps_agg(score) FROM survey;
SELECT nps_agg(score)::text::nps_summary::text = nps_agg(score)::text AS round_trip FROM survey;
SELECT 'v=1 counts={1,2,3,4,5,6,7,8,9,10,11}'::nps_summary;
SELECT nps(' v=1  counts={ 0,0,0,0,0,0,0,0,0,0, 1 } '::nps_summary);
SELECT nps('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}'::nps_summary) IS NULL AS empty_summary_null,
       nps_responses('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}');

-- malformed text is rejected with 22P02
SELECT cs_test.error_of($$SELECT ''::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=2 counts={0,0,0,0,0,0,0,0,0,0,0}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'counts={0,0,0,0,0,0,0,0,0,0,0}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,0}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0,0}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,-1,0,0,0,0,0}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0} x'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,0,1.5}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,0,99999999999999999999}'::nps_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,9223372036854775807,1}'::nps_summary$$);

-- binary form: send/recv through COPY ... FORMAT binary
SELECT encode(nps_summary_send('v=1 counts={1,2,3,4,5,6,7,8,9,10,11}'), 'hex');
SELECT cs_test.binary_input('nps_summary', nps_summary_send(nps_agg(score))) = nps_agg(score)::text
       AS binary_round_trip
FROM survey;
-- wrong version, truncated, trailing bytes, negative count, total overflow: 22P03 or 08P01
SELECT cs_test.error_of($$SELECT cs_test.binary_input('nps_summary',
    overlay(nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}') placing '\x02' from 1 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('nps_summary',
    substr(nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}'), 1, 80))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('nps_summary',
    nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}') || '\x00'::bytea)$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('nps_summary',
    overlay(nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}') placing '\xffffffffffffffff' from 2 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('nps_summary',
    overlay(nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}') placing '\x7fffffffffffffff7fffffffffffffff' from 2 for 16))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('nps_summary', '\x'::bytea)$$);

-- rollup of daily summaries equals the whole
CREATE TABLE daily AS SELECT day, nps_agg(score) AS s FROM survey GROUP BY day;
SELECT (SELECT rollup(s)::text FROM daily) = (SELECT nps_agg(score)::text FROM survey) AS rollup_equals_whole,
       (SELECT nps(rollup(s)) FROM daily) AS nps_rolled_up;
-- NULL summaries are skipped; rollup over nothing is NULL
SELECT nps(rollup(s)) FROM (SELECT s FROM daily UNION ALL SELECT NULL) x;
SELECT rollup(s) IS NULL AS empty_rollup FROM daily WHERE false;
-- a rollup whose total count would overflow bigint is an error (each
-- count alone fits, 2^62 + 2^62 = 2^63 does not), never a summary that
-- cannot be read back
SELECT cs_test.error_of($$SELECT rollup(s) FROM (VALUES
    ('v=1 counts={4611686018427387904,0,0,0,0,0,0,0,0,0,0}'::nps_summary),
    ('v=1 counts={0,0,0,0,0,0,0,0,0,0,4611686018427387904}')) v(s)$$);

-- as a window aggregate: running NPS by day, checked against plain SQL
SELECT day, nps(rollup(s) OVER w) AS running,
       (SELECT 100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*)
        FROM survey v WHERE v.day <= d.day) AS plain
FROM daily d WINDOW w AS (ORDER BY day) ORDER BY day;

-- ---------- sliding window frames (moving-aggregate mode, since 1.1) ----------
-- nps(), nps_agg() and rollup() have inverse transition functions, so a frame
-- that slides removes the row that leaves it instead of recounting
SELECT aggfnoid::regprocedure AS aggregate, aggminvtransfn AS inverse
FROM pg_aggregate WHERE aggfnoid IN ('nps(integer)'::regprocedure, 'nps_agg(integer)'::regprocedure,
                                     'rollup(nps_summary)'::regprocedure) ORDER BY 1::text;
-- scores with NULLs, and a run of NULLs long enough to empty a frame
CREATE TABLE slide AS
SELECT i, CASE WHEN i % 13 = 0 OR i BETWEEN 500 AND 530 THEN NULL ELSE (i * 7 + i / 11) % 11 END AS score
FROM generate_series(1, 2000) i;
-- every row of three kinds of frame against count(*) FILTER over the same frame
CREATE FUNCTION pg_temp.slide_check(frame text) RETURNS TABLE (rows bigint, differ bigint, null_frames bigint)
LANGUAGE plpgsql AS $f$
BEGIN
	RETURN QUERY EXECUTE format($q$
	SELECT count(*), count(*) FILTER (WHERE NOT (
	           (n IS NULL AND total = 0 OR abs(n - 100.0 * (p - d) / total) < 1e-9)
	       AND (s IS NULL) = (total = 0)
	       AND coalesce(nps_responses(s) = total AND nps_promoters(s) = p AND nps_detractors(s) = d, true))),
	       count(*) FILTER (WHERE total = 0)
	FROM (SELECT nps(score) OVER w AS n, nps_agg(score) OVER w AS s, count(score) OVER w AS total,
	             count(*) FILTER (WHERE score >= 9) OVER w AS p, count(*) FILTER (WHERE score <= 6) OVER w AS d
	      FROM slide WINDOW w AS (ORDER BY i %s)) x $q$, frame);
END $f$;
SELECT 'rows 9 preceding' AS frame, * FROM pg_temp.slide_check('ROWS BETWEEN 9 PRECEDING AND CURRENT ROW')
UNION ALL
SELECT 'range +-3, exclude current', * FROM pg_temp.slide_check('RANGE BETWEEN 3 PRECEDING AND 3 FOLLOWING EXCLUDE CURRENT ROW')
UNION ALL
SELECT 'rows 2..6 following', * FROM pg_temp.slide_check('ROWS BETWEEN 2 FOLLOWING AND 6 FOLLOWING');
-- rollup() over a sliding frame of stored summaries, with NULLs and an empty summary
CREATE TABLE slide_days AS
SELECT i / 10 AS day, nps_agg(score) AS s FROM slide GROUP BY 1
UNION ALL SELECT 1000, NULL UNION ALL SELECT 1001, 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}'
UNION ALL SELECT 1002, NULL UNION ALL SELECT 1003, 'v=1 counts={1,0,0,0,0,0,0,0,0,0,2}';
SELECT count(*) AS days,
       count(*) FILTER (WHERE (r IS NULL) <> (summaries = 0)
                        OR nps_responses(r) IS DISTINCT FROM total
                        OR nps_promoters(r) IS DISTINCT FROM p) AS differ,
       string_agg(day || ': ' || coalesce(r::text, 'NULL'), '; ') FILTER (WHERE day >= 1000) AS tail
FROM (SELECT day, rollup(s) OVER w AS r, count(s) OVER w AS summaries,
             sum(nps_responses(s)) OVER w AS total, sum(nps_promoters(s)) OVER w AS p
      FROM slide_days WINDOW w AS (ORDER BY day ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) x;
-- the inverse transition is only for the aggregate machinery
SELECT cs_test.error_of($$SELECT nps_accum_inv('v=1 counts={0,0,0,0,0,0,0,0,0,0,1}', 10)$$);
SELECT cs_test.error_of($$SELECT nps_uncombine('v=1 counts={0,0,0,0,0,0,0,0,0,0,1}', 'v=1 counts={0,0,0,0,0,0,0,0,0,0,1}')$$);
DROP TABLE slide, slide_days;

-- a forced parallel plan gives the same answer
CREATE TABLE big_survey AS
SELECT (i * 7919) % 11 AS score, i % 50 AS account FROM generate_series(1, 200000) i;
ANALYZE big_survey;
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT nps(score), nps_agg(score) FROM big_survey');
SELECT nps(score), nps_agg(score) FROM big_survey;
SELECT * FROM cs_test.plan_of('SELECT rollup(s) FROM (SELECT nps_agg(score) AS s FROM big_survey GROUP BY account) x');
RESET ALL;
SET extra_float_digits = 0;
SELECT nps(score), nps_agg(score),
       100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*) AS plain
FROM big_survey;

DROP TABLE survey, daily, big_survey;
