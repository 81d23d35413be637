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


-- ===== 1.2: late entry, weights, survival_table (R's survfit) =====
-- Late entry by hand: (entry, duration, churned) A(0,4,t) B(2,6,t) C(0,3,f)
-- D(3,5,f) E(1,6,f) F(4,6,t).  At risk when entry < t <= duration:
-- t=3: A B C E = 4 (D enters at 3, F at 4), C censored, S = 1;
-- t=4: A B D E = 4, A churns, S = 3/4; t=5: B D E F = 4, D censored;
-- t=6: B E F = 3, B and F churn, E censored, S = 3/4 * 1/3 = 1/4.
-- entered: before 3: A B C E = 4; in [3,4): D; in [4,5): F; then 0.
-- Greenwood: 1/(4*3) = 1/12, then + 2/(3*1): 3/4; std_error = S sqrt(that):
-- 0.75*0.288675 = 0.216506 and 0.25*0.866025 = 0.216506.  Nelson-Aalen:
-- 1/4, then + 2/3 = 0.916667; its se sqrt(1/16) = 0.25, sqrt(1/16 + 2/9)
-- = 0.533594.  log interval at 4 (R's default): 0.75 exp(-+1.959964 *
-- 0.288675) = 0.425932 and 1.3206, clipped to 1.
CREATE TABLE late (id text, entry float8, dur float8, churned bool);
INSERT INTO late VALUES ('A', 0, 4, true), ('B', 2, 6, true), ('C', 0, 3, false),
                        ('D', 3, 5, false), ('E', 1, 6, false), ('F', 4, 6, true);
SELECT survival_agg(dur, churned, entry) FROM late;
SELECT duration, at_risk, entered, churned, censored, round(survival::numeric, 6) AS survival,
       round(std_error::numeric, 6) AS std_error, round(lower::numeric, 6) AS lower,
       round(upper::numeric, 6) AS upper, round(cumulative_hazard::numeric, 6) AS chaz,
       round(cumulative_hazard_std_error::numeric, 6) AS chaz_se
FROM survival_table((SELECT survival_agg(dur, churned, entry) FROM late), 0.95, 'log');
-- log-log (our default): NULL where S = 1 as in R; plain: S -+ z * std_error
SELECT duration, round(lower::numeric, 6) AS loglog_lower, round(upper::numeric, 6) AS loglog_upper
FROM survival_table((SELECT survival_agg(dur, churned, entry) FROM late));
SELECT duration, round(lower::numeric, 6) AS plain_lower, round(upper::numeric, 6) AS plain_upper
FROM survival_table((SELECT survival_agg(dur, churned, entry) FROM late), 0.95, 'plain');
-- the naive curve (everyone at risk from 0) is biased upwards: S(6) = 4/5 * 1/3
-- = 0.266667 instead of 0.25.  median 6; restricted mean to 6 = 4 + 2 * 3/4
-- = 5.5; its se: the event at 4 leaves area 1.5 after it: sqrt(1.5^2 / 12) =
-- 0.433013 (the event at 6 leaves none).  H(4.5) = 0.25.
SELECT round(survival_at(n, 6)::numeric, 6) AS naive_s6, survival_at(s, 6) AS s6,
       median_lifetime(s), mean_lifetime(s, 6), round(mean_lifetime_std_error(s, 6)::numeric, 6) AS rmean_se,
       cumulative_hazard_at(s, 4.5) AS h45, round(cumulative_hazard_at(s, 6)::numeric, 6) AS h6,
       cumulative_hazard_at(s, 3.9) AS h39, churn_rate_at(s, 4), ltv(s, 10, 0.5, 6)
FROM (SELECT survival_agg(dur, churned, entry) AS s, survival_agg(dur, churned) AS n FROM late) x;
-- survival_curve still serves unweighted summaries with late entry (counts)
SELECT duration, at_risk, churned, censored, survival FROM survival_curve((SELECT survival_agg(dur, churned, entry) FROM late));
-- entry 0 is R's Surv(0, duration): same curve as no entry when durations are > 0
SELECT (SELECT array_agg(survival ORDER BY duration) FROM survival_table((SELECT survival_agg(dur, churned, 0) FROM late)))
     = (SELECT array_agg(survival ORDER BY duration) FROM survival_table((SELECT survival_agg(dur, churned) FROM late)))
       AS entry0_same;
-- entry 0 means observed from the start for any duration >= 0 (1.3), 0
-- too: the row counts exactly as in the two-argument form, churn at age 0
-- included (R refuses Surv(0, 0, event); its equivalent is Surv(duration,
-- event), or Surv(-1, duration, event) beside late entries).  By hand:
-- (entry, dur, churned) (0,0,t) (0,0,f) (0,3,f) (2,6,t) (0,5,t) (0,4,t):
-- t=0: n = 5, d = 1, S = 0.8, entered 5 (from the start); t=3: n = 4 (the
-- entrant at 2 too, entered 1), censored 1; t=4: n = 3, S = 0.8 * 2/3 =
-- 0.533333; t=5: n = 2, S = 0.266667; t=6: n = 1, S = 0.  The summary
-- records only the entry at 2.
CREATE TABLE zero (entry float8, dur float8, churned bool);
INSERT INTO zero VALUES (0, 0, true), (0, 0, false), (0, 3, false), (2, 6, true), (0, 5, true), (0, 4, true);
SELECT survival_agg(dur, churned, entry) FROM zero;
SELECT duration, at_risk, entered, churned, censored, round(survival::numeric, 6) AS survival
FROM survival_table((SELECT survival_agg(dur, churned, entry) FROM zero));
-- entry 0 everywhere: the two-argument form's table row for row, and with
-- weight 2 the two-argument form over every row twice
SELECT (SELECT array_agg(row(t.*)::text) FROM survival_table((SELECT survival_agg(dur, churned, 0) FROM zero)) t)
     = (SELECT array_agg(row(t.*)::text) FROM survival_table((SELECT survival_agg(dur, churned) FROM zero)) t)
       AS entry0_as_two_argument,
       (SELECT array_agg(row(t.*)::text) FROM survival_table((SELECT survival_agg(dur, churned, 0, 2) FROM zero)) t)
     = (SELECT array_agg(row(t.*)::text) FROM survival_table((SELECT survival_agg(dur, churned) FROM zero, generate_series(1, 2))) t)
       AS entry0_weight2_as_two_argument;
SELECT survival_agg(0, true, 0) AS zero_length, survival_agg(0, false, 0, 2.5) AS zero_length_weighted;
-- an entry above 0 must still be below the duration
SELECT cs_test.error_of('SELECT survival_agg(0, true, 0.5)');
SELECT cs_test.error_of('SELECT survival_agg(1, true, 1, 2)');

-- Weights by hand: entry 0; churned at 2 weight 2.5, censored at 3 weight
-- 0.5, churned at 4 weight 1, and a row of weight 0 (adds nothing).
-- t=2: n = 4, d = 2.5, S = 1.5/4 = 0.375, Greenwood 2.5/(4*1.5) = 0.416667,
-- std_error 0.375*0.645497 = 0.242061; t=3: n = 1.5; t=4: n = 1, d = 1, S = 0:
-- std_error and interval NULL (R: NA).  H = 0.625, then + 1 = 1.625.
CREATE TABLE wt (dur float8, churned bool, w float8);
INSERT INTO wt VALUES (2, true, 2.5), (3, false, 0.5), (4, true, 1), (9, true, 0);
SELECT survival_agg(dur, churned, 0, w) FROM wt;
SELECT duration, at_risk, entered, churned, censored, survival, round(std_error::numeric, 6) AS std_error,
       round(lower::numeric, 6) AS lower, round(upper::numeric, 6) AS upper, cumulative_hazard,
       round(cumulative_hazard_std_error::numeric, 6) AS chaz_se
FROM survival_table((SELECT survival_agg(dur, churned, 0, w) FROM wt));
SELECT median_lifetime(s), median_lifetime_lower(s), median_lifetime_upper(s) IS NULL AS upper_null,
       mean_lifetime(s, 5) AS rmean5
FROM (SELECT survival_agg(dur, churned, 0, w) AS s FROM wt) x;
-- whole-number weights are frequency weights: weight 3 = the row three times
SELECT (SELECT array_agg(row(t.*)::text) FROM survival_table((SELECT survival_agg(dur, churned, entry, 3) FROM late)) t)
     = (SELECT array_agg(row(t.*)::text) FROM survival_table((SELECT survival_agg(dur, churned, entry)
                                                              FROM late, generate_series(1, 3))) t) AS weight3_is_three_rows;
-- a weighted summary has no whole-number counts
SELECT cs_test.error_of('SELECT * FROM survival_curve((SELECT survival_agg(dur, churned, 0, w) FROM wt))');
SELECT cs_test.error_of('SELECT survival_customers(survival_agg(dur, churned, 0, w)) FROM wt');
-- weights that are all 1 are no weights: survival_curve serves it
SELECT count(*) FROM survival_curve((SELECT survival_agg(dur, churned, entry, 1) FROM late));
-- only rows of weight 0, or NULL arguments: no usable rows, NULL
SELECT survival_agg(dur, churned, 0, 0) IS NULL AS zero_weights_null,
       survival_agg(dur, churned, NULL::float8) IS NULL AS null_entry,
       survival_agg(dur, churned, 0, NULL::float8) IS NULL AS null_weight
FROM wt;
-- a single row; all churned; all censored
SELECT * FROM survival_table((SELECT survival_agg(5, true, 2)));
SELECT duration, survival, std_error, lower, upper FROM survival_table((SELECT survival_agg(5, false, 2)), 0.95, 'log');
SELECT median_lifetime(s), median_lifetime_lower(s), median_lifetime_upper(s), mean_lifetime_std_error(s, 10)
FROM (SELECT survival_agg(5, false, 2) AS s) x;
-- an empty summary: no rows, NULL scalars
SELECT (SELECT count(*) FROM survival_table(s)) AS rows, cumulative_hazard_at(s, 1) IS NULL AS h_null,
       median_lifetime_lower(s) IS NULL AS lcl_null, mean_lifetime_std_error(s, 1) IS NULL AS se_null
FROM (SELECT 'v=1 durations={} churned={} censored={}'::survival_summary AS s) x;

-- rollup mixes both layouts: customers of a compact summary are at risk from
-- the start; equals the aggregate over all rows
SELECT rollup(s) FROM (SELECT survival_agg(dur, churned) AS s FROM late WHERE id < 'C'
                       UNION ALL SELECT survival_agg(dur, churned, entry) FROM late WHERE id >= 'C') x;
SELECT duration, at_risk, entered, survival FROM survival_table((SELECT rollup(s) FROM (
       SELECT survival_agg(dur, churned) AS s FROM late WHERE id < 'C'
       UNION ALL SELECT survival_agg(dur, churned, entry) FROM late WHERE id >= 'C') x));
-- survival.h's reader sees the same points (through the other families'
-- functions later); here: text and binary round trips of the new layout
SELECT survival_agg(dur, churned, entry)::text::survival_summary::text = survival_agg(dur, churned, entry)::text AS rt_entry,
       cs_test.binary_input('survival_summary', survival_summary_send(survival_agg(dur, churned, entry)))
       = survival_agg(dur, churned, entry)::text AS binary_rt_entry
FROM late;
SELECT survival_agg(d, c, e, w)::text::survival_summary::text = survival_agg(d, c, e, w)::text AS exact_round_trip,
       cs_test.binary_input('survival_summary', survival_summary_send(survival_agg(d, c, e, w)))
       = survival_agg(d, c, e, w)::text AS exact_binary_round_trip
FROM (SELECT random() * 100 AS e, random() < 0.4 AS c, random() * 3 AS w, i FROM generate_series(1, 2000) i) x,
     LATERAL (SELECT e + random() * 1000 + 1e-9 AS d) y;
SELECT 'v=1 at=3 weighted=true durations={0,1.5,2} entered={1,0.25,0} churned={0,0.5,0} censored={0,0,0.75}'::survival_summary;
SELECT encode(survival_summary_send('v=1 weighted=true durations={0,2} entered={0.5,0} churned={0,0.5} censored={0,0}'), 'hex');
SELECT cs_test.binary_input('survival_summary',
       survival_summary_send('v=1 at=3 weighted=true durations={0,1.5,2} entered={1,0.25,0} churned={0,0.5,0} censored={0,0,0.75}'));

-- bad input: 22023 naming the function and the value
SELECT cs_test.error_of('SELECT survival_agg(d, true, -1) FROM (VALUES (1)) v(d)');
SELECT cs_test.error_of('SELECT survival_agg(d, true, 2) FROM (VALUES (2)) v(d)');
SELECT cs_test.error_of('SELECT survival_agg(d, true, 3) FROM (VALUES (2)) v(d)');
SELECT cs_test.error_of($$SELECT survival_agg(d, true, 'NaN') FROM (VALUES (2)) v(d)$$);
SELECT cs_test.error_of($$SELECT survival_agg(d, true, 'Infinity') FROM (VALUES (2)) v(d)$$);
SELECT cs_test.error_of('SELECT survival_agg(d, true, 0, -0.5) FROM (VALUES (2)) v(d)');
SELECT cs_test.error_of($$SELECT survival_agg(d, true, 0, 'NaN') FROM (VALUES (2)) v(d)$$);
SELECT cs_test.error_of($$SELECT survival_agg(d, true, 0, 'Infinity') FROM (VALUES (2)) v(d)$$);
SELECT cs_test.error_of($$SELECT survival_agg(d, true, 0, 1) FROM (VALUES ('-1'::float8)) v(d)$$);
SELECT cs_test.error_of($$SELECT * FROM survival_table((SELECT survival_agg(dur, churned) FROM tv), 0.95, 'logit')$$);
SELECT cs_test.error_of($$SELECT * FROM survival_table((SELECT survival_agg(dur, churned) FROM tv), 0, 'log')$$);
SELECT cs_test.error_of($$SELECT * FROM survival_table((SELECT survival_agg(dur, churned) FROM tv), 1, 'log')$$);
SELECT cs_test.error_of($$SELECT median_lifetime_lower(survival_agg(dur, churned), 1.5) FROM tv$$);
SELECT cs_test.error_of($$SELECT median_lifetime_upper(survival_agg(dur, churned), 0.9, 'Log') FROM tv$$);
SELECT cs_test.error_of($$SELECT mean_lifetime_std_error(survival_agg(dur, churned), -1) FROM tv$$);
SELECT cs_test.error_of($$SELECT cumulative_hazard_at(survival_agg(dur, churned), 'NaN') FROM tv$$);
-- malformed new layouts are rejected: 22P02 (text), 22P03 (binary)
SELECT cs_test.error_of($$SELECT 'v=1 weighted=true durations={1} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weighted=yes durations={1} entered={0} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} entered={0.5} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,2} entered={2,0} churned={0,0} censored={0,1}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} entered={1} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1,2} entered={0,1} churned={1,1} censored={0,0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 weighted=true durations={1} entered={0} churned={-1} censored={2}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} entered={0} churned={0} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 durations={1} entered={0,0} churned={1} censored={0}'::survival_summary$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={0,1} entered={1,0} churned={0,1} censored={0,0}') placing '\x10' from 2 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={0,1} entered={1,0} churned={0,1} censored={0,0}') placing '\x08' from 2 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={0,1} entered={1,0} churned={0,1} censored={0,0}') placing '\x00' from 2 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    overlay(survival_summary_send('v=1 durations={0,1} entered={1,0} churned={0,1} censored={0,0}') placing '\x3fe0000000000000' from 55 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('survival_summary',
    substr(survival_summary_send('v=1 durations={0,1} entered={1,0} churned={0,1} censored={0,0}'), 1, 60))$$);

-- forced parallel plans give the same answers for the new forms
CREATE TABLE big2 AS
SELECT (i * 7919) % 3001 + 1 + (i * 13) % 7 AS dur, (i * 31) % 10 < 3 AS churned, (i * 13) % 7 AS entry,
       ((i * 17) % 8) / 4.0 AS w
FROM generate_series(1, 200000) i;
ANALYZE big2;
CREATE TABLE serial2 AS
SELECT survival_agg(dur, churned, entry)::text AS e, survival_agg(dur, churned, entry, w)::text AS w FROM big2;
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT survival_agg(dur, churned, entry), survival_agg(dur, churned, entry, w) FROM big2');
SELECT p.e = s.e AS entry_same, p.w = s.w AS weighted_same
FROM (SELECT survival_agg(dur, churned, entry)::text AS e, survival_agg(dur, churned, entry, w)::text AS w FROM big2) p,
     serial2 s;
SELECT rollup(x)::text = (SELECT w FROM serial2) AS parallel_rollup_same
FROM (SELECT survival_agg(dur, churned, entry, w) AS x FROM big2 GROUP BY dur % 10) y;
RESET ALL;
SET extra_float_digits = 0;
DROP TABLE late, wt, big2, serial2;

DROP TABLE tv, ties, customers, by_cohort, wide, big, serial_answer;
