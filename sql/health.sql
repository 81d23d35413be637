-- Health score: health_scale, health_score(), health_agg(), rollup(),
-- health_band, health_contributions, summary I/O
SET extra_float_digits = 0;

-- health_scale: 0 at or beyond red, 1 at or beyond green, linear between
SELECT health_scale(2, 0, 10) AS up_02,        -- (2 - 0) / 10
       health_scale(-3, 0, 10) AS below_red,
       health_scale(15, 0, 10) AS beyond_green,
       health_scale(5, 10, 0) AS down_05,       -- fewer is better: (5 - 10) / (0 - 10)
       health_scale(12, 10, 0) AS beyond_red,
       health_scale(-1, 10, 0) AS beyond_green2,
       health_scale(7.5, 5, 10) AS up_05,
       health_scale(1e308, -1e308, 1e308) AS huge_range,  -- (1e308 + 1e308) / 2e308 = 1
       health_scale(NULL, 0, 1) IS NULL AS strict;
SELECT cs_test.error_of('SELECT health_scale(1, 3, 3)');
SELECT cs_test.error_of($$SELECT health_scale('NaN', 0, 1)$$);
SELECT cs_test.error_of($$SELECT health_scale(1, '-Infinity', 1)$$);
SELECT cs_test.error_of($$SELECT health_scale(1, 0, 'Infinity')$$);

CREATE TABLE usage (account int, week int, a float8, b float8, c float8);
INSERT INTO usage VALUES
	(1, 1, 1.0, 0.5, NULL), (1, 2, 0.5, NULL, NULL), (1, 3, 0.0, 1.0, NULL),
	(2, 1, 0.25, 0.375, 0.625), (2, 2, 0.5, 0.625, 0.875),
	(3, 1, NULL, NULL, NULL);

-- account 1: a = 1.5/3 = 0.5, b = 1.5/2 = 0.75, c has no data: weights
--   renormalized over 0.5 + 0.3 = 0.8: 100 * (0.5*0.5 + 0.3*0.75) / 0.8 = 59.375
-- account 2: a = 0.375, b = 0.5, c = 0.75:
--   100 * (0.5*0.375 + 0.3*0.5 + 0.2*0.75) = 18.75 + 15 + 15 = 48.75
-- account 3: no signal has data: NULL
SELECT account, health_score(array[0.5, 0.3, 0.2], a, b, c) AS score,
       health_band(health_score(array[0.5, 0.3, 0.2], a, b, c)) AS band,
       health_agg(array[0.5, 0.3, 0.2], a, b, c) AS summary
FROM usage GROUP BY account ORDER BY account;
-- all accounts: a = 2.25/5 = 0.45, b = 2.5/4 = 0.625, c = 1.5/2 = 0.75
--   100 * (0.5*0.45 + 0.3*0.625 + 0.2*0.75) = 22.5 + 18.75 + 15 = 56.25
SELECT health_score(array[0.5, 0.3, 0.2], a, b, c) FROM usage;
-- weights need not sum to 1: (5, 3, 2) gives the same score
SELECT health_score(array[5, 3, 2], a, b, c) FROM usage;
-- the same with plain SQL
SELECT 100 * (0.5 * avg(a) + 0.3 * avg(b) + 0.2 * avg(c)) AS plain FROM usage;
-- integer and numeric signals are cast to double precision
SELECT health_score(array[1, 1], 1, 0.5) AS mixed_types;  -- 100 * (1 + 0.5) / 2 = 75

-- contributions: applied weight, mean and points per signal; they add up to the score
SELECT * FROM health_contributions((SELECT health_agg(array[0.5, 0.3, 0.2], a, b, c) FROM usage WHERE account = 1));
WITH x AS (SELECT health_agg(array[0.7, 0.2, 0.1], a, b, c) AS s FROM usage)
SELECT (SELECT sum(contribution) FROM x, health_contributions(s)) = (SELECT health_score(s) FROM x)
         AS contributions_sum_exactly,
       (SELECT sum(weight) FROM x, health_contributions(s)) AS weights_sum,
       (SELECT health_score(s) FROM x);  -- 100 * (0.7*0.45 + 0.2*0.625 + 0.1*0.75) = 51.5
-- a summary without data: every row has NULL weight, mean and contribution
SELECT * FROM health_contributions('v=1 weights={1,2} sums={0,0} counts={0,0}');
-- data only for a signal of weight 0: no score
SELECT health_score(array[1, 0], NULL, 0.5) IS NULL AS zero_weight_only;

-- health_band
SELECT health_band(39.999) AS b1, health_band(40) AS b2, health_band(69.99) AS b3,
       health_band(70) AS b4, health_band(100) AS b5, health_band(0) AS b6,
       health_band(55, 60, 80) AS custom1, health_band(85, 60, 80) AS custom2,
       health_band(50, 50, 50) AS equal_thresholds,
       health_band(NULL::float8) IS NULL AS null_score;
SELECT health_band(s), health_band(s, 50, 55), health_band(s, 60, 90)
FROM (SELECT health_agg(array[0.5, 0.3, 0.2], a, b, c) AS s FROM usage) x;   -- 56.25
SELECT health_band('v=1 weights={1} sums={0} counts={0}'::health_summary) IS NULL AS no_score_no_band;
SELECT cs_test.error_of('SELECT health_band(50, 80, 60)');
SELECT cs_test.error_of($$SELECT health_band('NaN'::float8)$$);
SELECT cs_test.error_of($$SELECT health_band(50, 40, 'Infinity')$$);

-- NULL and empty input
SELECT health_score(w, a) AS null_weights_row_skipped, health_agg(w, a)
FROM (VALUES (NULL::float8[], 0.5::float8), (array[1.0], 0.25)) v(w, a);
SELECT health_score(array[1, 1], a, b) IS NULL AS no_rows, health_agg(array[1, 1], a, b) IS NULL AS agg_null
FROM usage WHERE false;
SELECT health_score(array[1.0], VARIADIC s) FROM (VALUES (NULL::float8[]), ('{0.5}')) v(s);
SELECT health_score(NULL::health_summary) IS NULL AS strict_null;

-- errors
SELECT cs_test.error_of($$SELECT health_score(array[0.5, 0.5], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[0.5, 0.3, 0.2, 0.1], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[0.5, -0.3, 0.2], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[0.5, 'NaN', 0.2], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[0.5, 'Infinity', 0.2], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[0, 0, 0], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[1e308, 1e308], a, b) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[0.5, NULL, 0.2], a, b, c) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score('{}'::float8[], a) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score('{{0.5,0.5},{0.5,0.5}}'::float8[], a, b) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], VARIADIC '{{0.5,0.5},{0.5,0.5}}'::float8[])$$);
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], VARIADIC '{}'::float8[])$$);
SELECT cs_test.error_of($$SELECT health_score(array_fill(1.0::float8, array[101]), VARIADIC array_fill(0.5::float8, array[101]))$$);
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], a, b * 2) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], a - 0.5, b) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], 'NaN', b) FROM usage$$);
-- weights that change between rows of one group
SELECT cs_test.error_of($$SELECT health_score(array[1, week], a, b) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(CASE WHEN week = 1 THEN array[1, 1] ELSE array[1, 1, 1] END, a, b) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(CASE WHEN week = 1 THEN array[1, 1] ELSE array[1, -1] END, a, b) FROM usage$$);
-- ... but the same weights as another array (or -0 for 0) are fine
SELECT health_score(CASE WHEN week = 1 THEN array[1, 0] ELSE array[1, '-0'::float8] END, a, b) FROM usage;
-- grouping by the weights compares two weightings side by side
SELECT w, health_score(w, a, b, c)
FROM usage, (VALUES (array[1, 0, 0]), (array[0, 0, 1])) v(w) GROUP BY w ORDER BY w;
-- the VARIADIC form (an array per row, read in place with its null bitmap)
-- gives the same answers as the overloads for signal columns
SELECT account, health_score(array[0.5, 0.3, 0.2], VARIADIC array[a, b, c]) AS score,
       health_agg(array[0.5, 0.3, 0.2], VARIADIC array[a, b, c])::text
         = health_agg(array[0.5, 0.3, 0.2], a, b, c)::text AS same_summary
FROM usage GROUP BY account ORDER BY account;
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], VARIADIC array[a, b * 2]) FROM usage$$);
SELECT cs_test.error_of($$SELECT health_score(array[1, 1], VARIADIC array[a, b, c]) FROM usage$$);
-- nine signals: beyond the overloads, the VARIADIC form is used
-- (1 + 0.5 + 0 + 0.25 + NULL + 1 + 1 + 0 + 0.75) / 8 = 4.5 / 8 = 56.25
SELECT health_score(array_fill(1::float8, array[9]), 1, 0.5, 0, 0.25, NULL, 1, 1, 0, 0.75);
EXPLAIN (VERBOSE, COSTS OFF) SELECT health_score(array[1, 1], a, b), health_score(array[1, 1], VARIADIC array[a, b]) FROM usage;
-- the support functions refuse to run outside an aggregate
SELECT cs_test.error_of($$SELECT health_accum(NULL, array[1.0], array[0.5])$$);
SELECT cs_test.error_of($$SELECT health_accum(NULL, array[1.0], 0.5)$$);
SELECT cs_test.error_of($$SELECT health_combine(NULL, 'v=1 weights={1} sums={0} counts={0}')$$);

-- text form and exact round trip
CREATE TABLE odd AS
SELECT i, (i * 0.1) % 1 AS a, CASE WHEN i % 3 > 0 THEN 1.0 / i END AS b FROM generate_series(1, 1000) i;
SELECT health_agg(array[2, 1], a, b) FROM odd;
SELECT health_agg(array[2, 1], a, b)::text::health_summary::text = health_agg(array[2, 1], a, b)::text AS round_trip
FROM odd;
SELECT health_score(' v=1  weights={ 1 , 3 } sums={ 1, {2.5,1e-20} } counts={ 2 ,5 } '::health_summary);  -- 100 * (0.5 + 3 * 0.5) / 4
SELECT 'v=1 weights={0.5,0.5} sums={1,{2,1e-17}} counts={2,4}'::health_summary;
-- malformed text is rejected with 22P02
SELECT cs_test.error_of($$SELECT ''::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=2 weights={1} sums={0} counts={0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 sums={0} counts={0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={} sums={} counts={}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1,1} sums={0} counts={0,0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={0,0} counts={0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={0} counts={0,0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={-1} sums={0} counts={0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={0,0} sums={0,0} counts={0,0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={NaN} sums={0} counts={0}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={3} counts={2}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={-1} counts={2}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={1} counts={-2}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={{1,0.5}} counts={2}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={0} counts={0} x'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={0} counts={1.5}'::health_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weights={1} sums={0} counts={99999999999999999999}'::health_summary$$);
SELECT cs_test.error_of(format('SELECT %L::health_summary',
	'v=1 weights={' || array_to_string(array_fill(1, array[101]), ',') || '} sums={0} counts={0}'));

-- binary form: send/recv through COPY ... FORMAT binary
SELECT encode(health_summary_send('v=1 weights={0.5,0.5} sums={1,{2,1e-17}} counts={2,4}'), 'hex');
SELECT cs_test.binary_input('health_summary', health_summary_send(health_agg(array[2, 1], a, b)))
       = health_agg(array[2, 1], a, b)::text AS binary_round_trip
FROM odd;
-- wrong version, truncated, trailing bytes, bad signal count, negative weight,
-- sum above its count, negative count: 22P03 or 08P01
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    overlay(health_summary_send('v=1 weights={1} sums={0} counts={0}') placing '\x02' from 1 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    substr(health_summary_send('v=1 weights={1} sums={0} counts={0}'), 1, 20))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    health_summary_send('v=1 weights={1} sums={0} counts={0}') || '\x00'::bytea)$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    overlay(health_summary_send('v=1 weights={1} sums={0} counts={0}') placing '\x00000000' from 2 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    overlay(health_summary_send('v=1 weights={1} sums={0} counts={0}') placing '\x7fffffff' from 2 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    overlay(health_summary_send('v=1 weights={1} sums={0} counts={0}') placing '\xbff0000000000000' from 6 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    overlay(health_summary_send('v=1 weights={1} sums={0} counts={0}') placing '\x4000000000000000' from 14 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary',
    overlay(health_summary_send('v=1 weights={1} sums={0} counts={0}') placing '\xffffffffffffffff' from 30 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('health_summary', '\x'::bytea)$$);

-- rollup of weekly summaries equals the whole (dyadic values: sums are exact)
CREATE TABLE weekly AS
SELECT week, health_agg(array[0.5, 0.3, 0.2], a, b, c) AS s FROM usage GROUP BY week;
SELECT (SELECT rollup(s)::text FROM weekly) = (SELECT health_agg(array[0.5, 0.3, 0.2], a, b, c)::text FROM usage)
       AS rollup_equals_whole,
       (SELECT health_score(rollup(s)) FROM weekly) AS score_rolled_up;
-- rolled up per account from (account, week) rows, against the direct score
SELECT count(*) AS accounts_differing
FROM (SELECT account, health_score(rollup(s)) AS r
      FROM (SELECT account, week, health_agg(array[2, 1], a, b) AS s
            FROM (SELECT i % 7 AS account, i % 5 AS week, a, b FROM odd) o GROUP BY 1, 2) x
      GROUP BY account) r
JOIN (SELECT i % 7 AS account, health_score(array[2, 1], a, b) AS d FROM odd GROUP BY 1) d USING (account)
WHERE abs(r - d) > 1e-12 * abs(d);
SELECT health_score(rollup(s)) FROM (SELECT s FROM weekly UNION ALL SELECT NULL) x;
SELECT rollup(s) IS NULL AS empty_rollup FROM weekly WHERE false;
-- summaries with different weights or signal counts refuse to merge
SELECT cs_test.error_of($$SELECT rollup(s) FROM (VALUES ('v=1 weights={1,2} sums={0,0} counts={0,0}'::health_summary),
	('v=1 weights={1,3} sums={0,0} counts={0,0}')) v(s)$$);
SELECT cs_test.error_of($$SELECT rollup(s) FROM (VALUES ('v=1 weights={1,2} sums={0,0} counts={0,0}'::health_summary),
	('v=1 weights={1} sums={0} counts={0}')) v(s)$$);
SELECT cs_test.error_of($$SELECT rollup(s) FROM (VALUES ('v=1 weights={1} sums={1} counts={9223372036854775807}'::health_summary),
	('v=1 weights={1} sums={1} counts={1}')) v(s)$$);

-- as a window aggregate: running score by week
SELECT week, health_score(rollup(s) OVER w) AS running
FROM weekly WINDOW w AS (ORDER BY week) ORDER BY week;

-- a forced parallel plan gives the same answer
CREATE TABLE big_usage AS
SELECT i % 50 AS account, ((i * 7919) % 1000) / 1000.0 AS a,
       CASE WHEN i % 4 > 0 THEN ((i * 104729) % 997) / 997.0 END AS b,
       ((i * 31) % 101) / 101.0 AS c
FROM generate_series(1::bigint, 200000) i;
ANALYZE big_usage;
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT health_score(array[0.5, 0.3, 0.2], a, b, c) FROM big_usage');
CREATE TABLE par AS
SELECT health_score(array[0.5, 0.3, 0.2], a, b, c) AS score, health_agg(array[0.5, 0.3, 0.2], a, b, c) AS s,
       health_score(array[0.5, 0.3, 0.2], VARIADIC array[a, b, c]) AS vscore
FROM big_usage;
SELECT * FROM cs_test.plan_of('SELECT rollup(s) FROM (SELECT health_agg(array[1, 1, 1], a, b, c) AS s FROM big_usage GROUP BY account) x');
RESET ALL;
SET extra_float_digits = 0;
SELECT abs(p.score - d.score) <= 1e-12 * d.score AS same_score,
       abs(health_score(p.s) - d.score) <= 1e-12 * d.score AS same_summary_score,
       abs(p.vscore - d.score) <= 1e-12 * d.score AS same_variadic_score,
       abs(p.score - d.plain) <= 1e-12 * d.plain AS same_as_plain_sql, round(d.score::numeric, 10) AS score
FROM par p, (SELECT health_score(array[0.5, 0.3, 0.2], a, b, c) AS score,
                    100 * (0.5 * avg(a) + 0.3 * avg(b) + 0.2 * avg(c)) AS plain FROM big_usage) d;

DROP TABLE usage, odd, weekly, big_usage, par;
