-- CSAT: csat(), csat_agg(), rollup(), accessors, summary I/O
SET extra_float_digits = 0;

CREATE TABLE csat_responses_t (day int, score int);
-- scores 1..5 with counts 3, 2, 5, 6, 4: 10 of 20 satisfied (4 or 5)
INSERT INTO csat_responses_t
SELECT g % 3, s FROM (VALUES (1, 3), (2, 2), (3, 5), (4, 6), (5, 4)) c(s, n),
     generate_series(1, n) g;

SELECT csat(score) FROM csat_responses_t;
SELECT csat_responses(c), csat_satisfied(c), csat_score_counts(c), csat(c),
       -- 1.959964 * sqrt(0.5 * 0.5 / 20) = 0.219131
       round(csat_margin_of_error(c)::numeric, 6) AS moe95
FROM (SELECT csat_agg(score) AS c FROM csat_responses_t) x;

-- plain SQL agrees per day
SELECT day, csat(score), avg((score >= 4)::int)::float8 AS plain
FROM csat_responses_t GROUP BY day ORDER BY day;

-- NULL and empty
SELECT csat(s) FROM (VALUES (5), (NULL), (1)) v(s);
SELECT csat(score) IS NULL AS csat_null, csat_agg(score) IS NULL AS agg_null
FROM csat_responses_t WHERE false;

-- errors: the scale is 1..5
SELECT cs_test.error_of('SELECT csat(s) FROM (VALUES (0)) v(s)');
SELECT cs_test.error_of('SELECT csat(s) FROM (VALUES (6)) v(s)');
SELECT cs_test.error_of('SELECT csat_margin_of_error(csat_agg(score), 1) FROM csat_responses_t');

-- text and binary round trips, malformed input
SELECT csat_agg(score) FROM csat_responses_t;
SELECT csat_agg(score)::text::csat_summary::text = csat_agg(score)::text AS round_trip,
       cs_test.binary_input('csat_summary', csat_summary_send(csat_agg(score))) = csat_agg(score)::text
       AS binary_round_trip
FROM csat_responses_t;
SELECT cs_test.error_of($$SELECT 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}'::csat_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 counts={1,2,3,4,-5}'::csat_summary$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('csat_summary',
    nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,0}'))$$);

-- rollup equals the whole; parallel plan gives the same answer
SELECT (SELECT rollup(c)::text FROM (SELECT csat_agg(score) AS c FROM csat_responses_t GROUP BY day) d)
     = (SELECT csat_agg(score)::text FROM csat_responses_t) AS rollup_equals_whole;
CREATE TABLE big_csat AS SELECT 1 + (i * 31) % 5 AS score FROM generate_series(1, 100000) i;
ANALYZE big_csat;
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT csat(score) FROM big_csat');
SELECT csat(score), csat_agg(score) FROM big_csat;
RESET ALL;
SELECT csat(score), csat_agg(score) FROM big_csat;

-- sliding window frames (moving-aggregate mode since 1.1, as for NPS): every
-- row of a frame that slides over NULLs, against count(*) FILTER
SELECT aggfnoid::regprocedure AS aggregate, aggminvtransfn AS inverse, aggminitval AS initial
FROM pg_aggregate WHERE aggfnoid IN ('csat(integer)'::regprocedure, 'csat_agg(integer)'::regprocedure,
                                     'rollup(csat_summary)'::regprocedure) ORDER BY 1::text;
SELECT count(*) AS rows, count(*) FILTER (WHERE total = 0) AS empty_frames,
       count(*) FILTER (WHERE NOT ((c IS NULL AND total = 0 OR abs(c - satisfied::float8 / total) < 1e-12)
                                   AND (s IS NULL) = (total = 0)
                                   AND coalesce(csat_responses(s) = total AND csat_satisfied(s) = satisfied, true)
                                   AND (r IS NULL) = (total = 0)
                                   AND coalesce(csat_score_counts(r) = csat_score_counts(s), true))) AS differ
FROM (SELECT csat(score) OVER w AS c, csat_agg(score) OVER w AS s, count(score) OVER w AS total,
             count(*) FILTER (WHERE score >= 4) OVER w AS satisfied,
             rollup(one) OVER w AS r
      FROM (SELECT i, score, csat_agg(score) OVER (ROWS CURRENT ROW) AS one
            FROM (SELECT i, CASE WHEN i % 7 = 0 OR i BETWEEN 300 AND 320 THEN NULL ELSE 1 + (i * 3 + i / 5) % 5 END
                  FROM generate_series(1, 1000) i) v(i, score)) x
      WINDOW w AS (ORDER BY i ROWS BETWEEN 14 PRECEDING AND CURRENT ROW)) y;

DROP TABLE csat_responses_t, big_csat;
