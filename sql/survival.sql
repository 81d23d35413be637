-- Kaplan-Meier survival: survival_agg(), rollup(), cohort_churn(), accessors,
-- survival_curve(), ltv(summary, ...), summary I/O
SET extra_float_digits = 0;

-- The published test vector (lifelines and R's survival package agree):
-- churn events at 9, 19, 32, 34; censored at 48, 50.
CREATE TABLE tv (dur float8, churned bool);
INSERT INTO tv VALUES (9, true), (19, true), (32, true), (34, true), (48, false), (50, false);
SELECT survival_agg(dur, churned) FROM tv;
-- S = 5/6, 4/6, 3/6, 2/6; 95% log-log intervals published as
-- lower 0.2731 0.1946 0.1109 0.0461, upper 0.9747 0.9044 0.8037 0.6756.
-- By hand at t = 9: Greenwood 1/(6*5) = 0.03333, se = sqrt(0.03333)/|ln(5/6)|
-- = 0.18257/0.18232 = 1.00137, lower = (5/6)^exp(1.95996*1.00137) = (5/6)^7.1171
-- = 0.2731, upper = (5/6)^exp(-1.96264) = (5/6)^0.14051 = 0.9747.
SELECT duration, at_risk, churned, censored, round(survival::numeric, 4) AS survival,
       round(lower::numeric, 4) AS lower, round(upper::numeric, 4) AS upper
FROM survival_curve((SELECT survival_agg(dur, churned) FROM tv));
-- 90%: z = 1.644854; at t = 9 lower = (5/6)^exp(1.644854*1.00137) = (5/6)^5.1920 = 0.3880,
-- upper = (5/6)^(1/5.1920) = 0.9655
SELECT duration, round(lower::numeric, 4) AS lower90, round(upper::numeric, 4) AS upper90
FROM survival_curve((SELECT survival_agg(dur, churned) FROM tv), 0.90) WHERE duration = 9;
-- median 32 (S(32) = 0.5 exactly; the product 5/6 * 4/5 * 3/4 must not miss it by rounding)
-- restricted mean to 60: 9*1 + 10*5/6 + 13*4/6 + 2*3/6 + 26*2/6 = 35.6667
-- to 20: 9 + 10*5/6 + 1*4/6 = 18; to 9: 9; to 0: 0
SELECT median_lifetime(s), round(mean_lifetime(s, 60)::numeric, 4) AS rmst60,
       round(mean_lifetime(s, 20)::numeric, 4) AS rmst20, mean_lifetime(s, 9) AS rmst9,
       mean_lifetime(s, 0) AS rmst0, survival_customers(s), survival_churned(s)
FROM (SELECT survival_agg(dur, churned) AS s FROM tv) x;
-- S just before, at and after each step; churn_rate_at = 1 - S
SELECT t, round(survival_at(s, t)::numeric, 6) AS s, round(churn_rate_at(s, t)::numeric, 6) AS churn
FROM (SELECT survival_agg(dur, churned) AS s FROM tv) x,
     unnest(ARRAY[0, 8.999, 9, 18, 19, 32, 33.5, 34, 49, 50, 1000]::float8[]) t;
-- cohort_churn(duration, churned, t) = churn_rate_at(survival_agg(..), t)
SELECT cohort_churn(dur, churned, 20) = churn_rate_at(survival_agg(dur, churned), 20) AS same,
       round(cohort_churn(dur, churned, 33)::numeric, 6) AS churn33
FROM tv;
-- ltv = arpa * margin * restricted mean: 10 * 0.8 * 35.6667 = 285.3333
SELECT round(ltv(survival_agg(dur, churned), 10, 0.8, 60)::numeric, 4) AS ltv,
       ltv(survival_agg(dur, churned), 10, 0, 60) AS zero_margin FROM tv;

-- Ties: at one time churn events come before censorings.  Churned at 1,
-- censored at 1, churned twice at 2, censored at 3: at t = 1 five are at
-- risk (the censored one too), S = 4/5; at t = 2 three are at risk,
-- S = 0.8 * 1/3 = 0.266667 (censoring first would give 3/4 at t = 1).
-- Greenwood: 1/(5*4) = 0.05, then + 2/(3*1): 0.716667.
-- Mean to 3: 1 + 0.8 + 0.266667 = 2.066667.  Median: 2.
CREATE TABLE ties (dur float8, churned bool);
INSERT INTO ties VALUES (1, true), (1, false), (2, true), (2, true), (3, false);
SELECT duration, at_risk, churned, censored, round(survival::numeric, 6) AS survival,
       round(lower::numeric, 4) AS lower, round(upper::numeric, 4) AS upper
FROM survival_curve((SELECT survival_agg(dur, churned) FROM ties));
SELECT median_lifetime(s), round(mean_lifetime(s, 3)::numeric, 6) AS rmst3
FROM (SELECT survival_agg(dur, churned) AS s FROM ties) x;
-- order of the rows does not matter
SELECT (SELECT survival_agg(dur, churned ORDER BY dur DESC)::text FROM ties) =
       (SELECT survival_agg(dur, churned ORDER BY dur)::text FROM ties) AS order_independent;

-- Everyone churns: S falls to 0, the interval there is undefined (NULL);
-- median 1 since S(1) = 0.5
SELECT duration, at_risk, survival, lower IS NULL AS lower_null, upper IS NULL AS upper_null
FROM survival_curve((SELECT survival_agg(d, true) FROM (VALUES (1.0), (2.0)) v(d)));
SELECT median_lifetime(survival_agg(d, true)), mean_lifetime(survival_agg(d, true), 10)
FROM (VALUES (1.0), (2.0)) v(d);
-- All censored: S stays 1 with interval [1, 1], median NULL, mean = horizon
SELECT duration, at_risk, survival, lower, upper
FROM survival_curve((SELECT survival_agg(d, false) FROM (VALUES (3), (5), (5)) v(d)));
SELECT survival_at(s, 100), churn_rate_at(s, 100), median_lifetime(s) IS NULL AS median_null,
       mean_lifetime(s, 12)
FROM (SELECT survival_agg(d, false) AS s FROM (VALUES (3), (5), (5)) v(d)) x;
-- durations 0 and -0 are one duration; an event at 0 drops S at 0
SELECT survival_agg(d, c), survival_at(survival_agg(d, c), 0)
FROM (VALUES (0.0::float8, true), ('-0'::float8, false), (2, false)) v(d, c);
-- integer, numeric and fractional durations
SELECT survival_agg(d, c) FROM (VALUES (1.5::numeric, true), (0.25, false), (1e-300, true)) v(d, c);
SELECT survival_agg(d, c) FROM (VALUES (7::int, true), (7, false), (3::int, false)) v(d, c);

-- NULLs are skipped; no usable rows gives NULL
SELECT survival_agg(d, c), cohort_churn(d, c, 1)
FROM (VALUES (1.0, true), (NULL, true), (2.0, NULL), (3.0, false)) v(d, c);
SELECT cohort_churn(d, c, t) FROM (VALUES (1.0, true, NULL), (2.0, true, 1.5), (3.0, false, 1.5)) v(d, c, t);
SELECT survival_agg(d, c) IS NULL AS agg_null, cohort_churn(d, c, 1) IS NULL AS churn_null
FROM (VALUES (NULL::float8, NULL::bool)) v(d, c);
SELECT survival_agg(dur, churned) IS NULL AS empty_agg, cohort_churn(dur, churned, 5) IS NULL AS empty_churn
FROM tv WHERE false;
SELECT survival_at(NULL::survival_summary, 1) IS NULL AS strict_null,
       survival_at(survival_agg(dur, churned), NULL) IS NULL AS null_t FROM tv;
-- an empty summary (read from text) has no customers: NULL everywhere, no curve
SELECT survival_at(s, 1) IS NULL, churn_rate_at(s, 1) IS NULL, median_lifetime(s) IS NULL,
       mean_lifetime(s, 1) IS NULL, ltv(s, 1, 1, 1) IS NULL, survival_customers(s),
       (SELECT count(*) FROM survival_curve(s)) AS curve_rows
FROM (SELECT 'v=1 durations={} churned={} censored={}'::survival_summary AS s) x;

-- errors
SELECT cs_test.error_of('SELECT survival_agg(d, true) FROM (VALUES (1), (-1)) v(d)');
SELECT cs_test.error_of($$SELECT survival_agg(d, true) FROM (VALUES ('NaN'::float8)) v(d)$$);
SELECT cs_test.error_of($$SELECT survival_agg(d, false) FROM (VALUES ('Infinity'::float8)) v(d)$$);
SELECT cs_test.error_of($$SELECT survival_agg(d, false) FROM (VALUES ('-Infinity'::float8)) v(d)$$);
SELECT cs_test.error_of('SELECT cohort_churn(d, true, 12) FROM (VALUES (-0.5)) v(d)');
SELECT cs_test.error_of('SELECT cohort_churn(d, true, d) FROM (VALUES (1), (2)) v(d)');
SELECT cs_test.error_of('SELECT cohort_churn(d, true, -1) FROM (VALUES (1), (2)) v(d)');
SELECT cs_test.error_of($$SELECT cohort_churn(d, true, 'NaN') FROM (VALUES (1), (2)) v(d)$$);
SELECT cs_test.error_of('SELECT survival_at(survival_agg(dur, churned), -1) FROM tv');
SELECT cs_test.error_of($$SELECT survival_at(survival_agg(dur, churned), 'NaN') FROM tv$$);
SELECT cs_test.error_of($$SELECT churn_rate_at(survival_agg(dur, churned), 'Infinity') FROM tv$$);
SELECT cs_test.error_of('SELECT mean_lifetime(survival_agg(dur, churned), -5) FROM tv');
SELECT cs_test.error_of('SELECT * FROM survival_curve((SELECT survival_agg(dur, churned) FROM tv), 0)');
SELECT cs_test.error_of('SELECT * FROM survival_curve((SELECT survival_agg(dur, churned) FROM tv), 1)');
SELECT cs_test.error_of('SELECT * FROM survival_curve((SELECT survival_agg(dur, churned) FROM tv), 1.5)');
SELECT cs_test.error_of('SELECT ltv(survival_agg(dur, churned), -10, 0.8, 60) FROM tv');
SELECT cs_test.error_of('SELECT ltv(survival_agg(dur, churned), 10, 1.5, 60) FROM tv');
SELECT cs_test.error_of('SELECT ltv(survival_agg(dur, churned), 10, -0.1, 60) FROM tv');
SELECT cs_test.error_of($$SELECT ltv(survival_agg(dur, churned), 10, 0.8, 'NaN') FROM tv$$);
SELECT cs_test.error_of($$SELECT ltv(survival_agg(dur, churned), 'Infinity', 0.8, 60) FROM tv$$);
SELECT cs_test.error_of('SELECT ltv(survival_agg(dur, churned), 1e308, 1, 60) FROM tv');
-- the support functions refuse to run outside an aggregate
SELECT cs_test.error_of('SELECT survival_accum(NULL, 1, true)');
SELECT cs_test.error_of($$SELECT survival_accum('v=1 durations={1} churned={1} censored={0}', 1, true)$$);
SELECT cs_test.error_of('SELECT survival_cohort_accum(NULL, 1, true, 2)');
SELECT cs_test.error_of($$SELECT survival_combine(NULL, 'v=1 durations={1} churned={1} censored={0}')$$);
-- cohort_churn's final function needs the t that the rows carried
SELECT cs_test.error_of($$SELECT survival_cohort_final('v=1 durations={1} churned={1} censored={0}')$$);
SELECT survival_cohort_final('v=1 at=1 durations={1,2} churned={1,1} censored={0,0}');

-- text form and exact round trip
SELECT survival_agg(dur, churned)::text::survival_summary::text = survival_agg(dur, churned)::text
       AS round_trip FROM tv;
SELECT survival_agg(d, c) FROM (VALUES (0.1::float8, true), (1e-7, false), (123456.789, true),
                                      (1.7976931348623157e308, false)) v(d, c);
SELECT survival_agg(d, c)::text::survival_summary::text = survival_agg(d, c)::text AS exact_round_trip
FROM (SELECT random() * 1000 AS d, random() < 0.4 AS c FROM generate_series(1, 2000)) x;
SELECT ' v=1  durations={ 1 , 2.5 }  churned={0,3} censored={ 4 ,0 } '::survival_summary;
SELECT 'v=1 at=12 durations={1} churned={1} censored={0}'::survival_summary;
SELECT 'v=1 durations={-0} churned={1} censored={0}'::survival_summary;

-- malformed text is rejected with 22P02
SELECT cs_test.error_of($$SELECT ''::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=2 durations={} churned={} censored={}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'durations={} churned={} censored={}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={1}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,2} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,2} churned={1,1} censored={0,0,0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={2,1} churned={1,1} censored={0,0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,1} churned={1,1} censored={0,0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={-1} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={NaN} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={inf} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1e999} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={-1} censored={2}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={0} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={1.5} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={99999999999999999999} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,2} churned={9223372036854775807,1} censored={0,0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={1} censored={0} x'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} churned={1} censored={0'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 at=-1 durations={1} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 at=1 at=2 durations={1} churned={1} censored={0}'::survival_summary$$);

-- binary form: send/recv through COPY ... FORMAT binary
SELECT encode(survival_summary_send('v=1 durations={1,2.5} churned={0,3} censored={4,0}'), 'hex');
SELECT encode(survival_summary_send('v=1 at=2 durations={} churned={} censored={}'), 'hex');
SELECT cs_test.binary_input('survival_summary', survival_summary_send(survival_agg(dur, churned)))
       = survival_agg(dur, churned)::text AS binary_round_trip
FROM tv;
SELECT cs_test.binary_input('survival_summary',
       survival_summary_send('v=1 at=2 durations={1,2.5} churned={0,3} censored={4,0}'));
-- wrong version, unknown flags, truncated, trailing bytes, negative count,
-- unsorted, NaN, zero customers, a point count larger than the message, a
-- negative point count: 22P03 or 08P01
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\x02' from 1 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\x01' from 2 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    substr(survival_summary_send('v=1 durations={1} churned={1} censored={0}'), 1, 20))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    survival_summary_send('v=1 durations={1} churned={1} censored={0}') || '\x00'::bytea)$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\xffffffffffffffff' from 15 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1,2} churned={1,1} censored={0,0}') placing '\x4008000000000000' from 7 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\x7ff8000000000000' from 7 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\x0000000000000000' from 15 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\x00100000' from 3 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={1} churned={1} censored={0}') placing '\xffffffff' from 3 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary', '\x'::bytea)$$);

-- rollup of per-cohort summaries equals the whole
CREATE TABLE customers AS
SELECT i AS id, i % 12 AS cohort, (i * 7919) % 97 AS dur, (i * 31) % 5 < 2 AS churned
FROM generate_series(1, 5000) i;
CREATE TABLE by_cohort AS SELECT cohort, survival_agg(dur, churned) AS s FROM customers GROUP BY cohort;
SELECT (SELECT rollup(s)::text FROM by_cohort) = (SELECT survival_agg(dur, churned)::text FROM customers)
       AS rollup_equals_whole,
       (SELECT survival_customers(rollup(s)) FROM by_cohort) AS customers;
-- NULL summaries are skipped; rollup over nothing is NULL
SELECT survival_customers(rollup(s)) FROM (SELECT s FROM by_cohort UNION ALL SELECT NULL) x;
SELECT rollup(s) IS NULL AS empty_rollup FROM by_cohort WHERE false;
-- as a window aggregate: running summary over cohorts, checked against a direct aggregate
SELECT count(*) AS cohorts_differing
FROM (SELECT cohort, rollup(s) OVER (ORDER BY cohort)::text AS running FROM by_cohort) r
WHERE running <> (SELECT survival_agg(dur, churned)::text FROM customers c WHERE c.cohort <= r.cohort);

-- Kaplan-Meier by plain SQL (group by duration, at risk by a running sum)
-- agrees with survival_at per cohort and age
CREATE FUNCTION pg_temp.plain_km(c int, t float8) RETURNS float8 LANGUAGE sql AS $$
	SELECT coalesce(exp(sum(ln(1 - d::float8 / n))), 1)
	FROM (SELECT dur, d, sum(d + e) OVER (ORDER BY dur DESC) AS n
	      FROM (SELECT dur, count(*) FILTER (WHERE churned) AS d, count(*) FILTER (WHERE NOT churned) AS e
	            FROM customers WHERE cohort = c GROUP BY dur) g) x
	WHERE dur <= t AND d > 0 $$;
SELECT count(*) AS points_checked,
       count(*) FILTER (WHERE abs(survival_at(s, t) - pg_temp.plain_km(cohort, t)) > 1e-12) AS differing
FROM by_cohort, generate_series(0, 100, 5) t;

-- many distinct durations (the table outgrows the direct hash and uses its
-- insertion buffer): rollup equals the whole, and S agrees with plain SQL
CREATE TABLE wide AS
SELECT (i * 7919) % 20011 AS dur, (i * 13) % 7 < 3 AS churned, i % 4 AS part
FROM generate_series(1, 60000) i;
SELECT (SELECT rollup(s)::text FROM (SELECT survival_agg(dur, churned) AS s FROM wide GROUP BY part) x)
       = (SELECT survival_agg(dur, churned)::text FROM wide) AS wide_rollup_equals_whole,
       (SELECT survival_customers(survival_agg(dur, churned)) FROM wide) AS customers;
SELECT count(*) AS points_checked,
       count(*) FILTER (WHERE abs(km - plain) > 1e-12 * plain) AS differing
FROM (SELECT t, survival_at((SELECT survival_agg(dur, churned) FROM wide), t) AS km,
             (SELECT exp(sum(ln(1 - d::float8 / n)))
              FROM (SELECT dur, d, sum(d + e) OVER (ORDER BY dur DESC) AS n
                    FROM (SELECT dur, count(*) FILTER (WHERE churned) AS d,
                                 count(*) FILTER (WHERE NOT churned) AS e
                          FROM wide GROUP BY dur) g) x
              WHERE dur <= t AND d > 0) AS plain
      FROM generate_series(2000, 20000, 2000) t) y;

-- user-defined aggregates over the same support functions: an initial
-- condition is taken into the state, and a state returned without the final
-- function (hash table and insertion buffer) prints in the compact form
CREATE AGGREGATE pg_temp.survival_from(float8, bool) (
	SFUNC = survival_accum, STYPE = survival_summary, FINALFUNC = survival_agg_final,
	INITCOND = 'v=1 durations={5,9} churned={1,0} censored={2,1}'
);
CREATE AGGREGATE pg_temp.survival_raw(float8, bool) (SFUNC = survival_accum, STYPE = survival_summary);
SELECT pg_temp.survival_from(dur, churned) FROM tv;
SELECT pg_temp.survival_raw(dur, churned)::text = survival_agg(dur, churned)::text AS raw_small,
       cs_test.binary_input('survival_summary', survival_summary_send(pg_temp.survival_raw(dur, churned)))
       = survival_agg(dur, churned)::text AS raw_small_binary
FROM tv;
SELECT pg_temp.survival_raw(dur, churned)::text = survival_agg(dur, churned)::text AS raw_wide,
       survival_at(pg_temp.survival_raw(dur, churned), 5000) = survival_at(survival_agg(dur, churned), 5000)
       AS raw_wide_accessor
FROM wide;

-- a forced parallel plan gives the same answer
CREATE TABLE big AS
SELECT (i * 7919) % 3001 AS dur, (i * 31) % 10 < 3 AS churned, (i * 17) % 48 AS tenure
FROM generate_series(1, 200000) i;
ANALYZE big;
CREATE TABLE serial_answer AS
SELECT survival_agg(dur, churned)::text AS wide, survival_agg(tenure, churned)::text AS narrow,
       cohort_churn(tenure, churned, 24) AS churn24
FROM big;
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT survival_agg(dur, churned), cohort_churn(tenure, churned, 24) FROM big');
SELECT p.wide = s.wide AS wide_same, p.narrow = s.narrow AS narrow_same, p.churn24 = s.churn24 AS churn_same,
       round(p.churn24::numeric, 12) AS churn24
FROM (SELECT survival_agg(dur, churned)::text AS wide, survival_agg(tenure, churned)::text AS narrow,
             cohort_churn(tenure, churned, 24) AS churn24
      FROM big) p, serial_answer s;
SELECT * FROM cs_test.plan_of('SELECT rollup(s) FROM (SELECT survival_agg(dur, churned) AS s FROM big GROUP BY tenure) x');
SELECT rollup(s)::text = (SELECT wide FROM serial_answer) AS parallel_rollup_same
FROM (SELECT survival_agg(dur, churned) AS s FROM big GROUP BY tenure) x;
-- (which two values the message names depends on the workers' order)
SELECT split_part(cs_test.error_of('SELECT cohort_churn(tenure, churned, dur % 2) FROM big'), ',', 1);
RESET ALL;
SET extra_float_digits = 0;

DROP TABLE tv, ties, customers, by_cohort, wide, big, serial_answer;
