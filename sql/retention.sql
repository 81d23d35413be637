-- Revenue retention: retention_agg(), rollup(), accessors, the direct
-- aggregates, mrr_movement(), summary I/O, exactness of the sums
SET extra_float_digits = 0;

-- The worked example: 10 customers at 50,000 and 10 at 100,000 per month;
-- 3 of the 100,000 customers cancel.
--   starting MRR = 10 * 50,000 + 10 * 100,000 = 1,500,000 (20 customers)
--   churned MRR = 3 * 100,000 = 300,000 (3 customers)
--   customer churn = 3 / 20 = 0.15; revenue churn = 300,000 / 1,500,000 = 0.2
--   NRR = GRR = 1,200,000 / 1,500,000 = 0.8; ARPA at start = 1,500,000 / 20 = 75,000
--   simple LTV = 75,000 / 0.15 = 500,000
CREATE TABLE worked (account int, mrr_start float8, mrr_end float8);
INSERT INTO worked
SELECT i, CASE WHEN i <= 10 THEN 50000 ELSE 100000 END,
       CASE WHEN i <= 10 THEN 50000 WHEN i <= 17 THEN 100000 ELSE 0 END
FROM generate_series(1, 20) i;
SELECT nrr(mrr_start, mrr_end), grr(mrr_start, mrr_end),
       customer_churn_rate(mrr_start, mrr_end), revenue_churn_rate(mrr_start, mrr_end),
       gross_revenue_churn_rate(mrr_start, mrr_end), net_revenue_churn_rate(mrr_start, mrr_end)
FROM worked;
SELECT nrr(s), grr(s), customer_churn_rate(s), revenue_churn_rate(s),
       gross_revenue_churn_rate(s), net_revenue_churn_rate(s),
       starting_mrr(s) / starting_customers(s) AS arpa_start,
       ltv(starting_mrr(s) / starting_customers(s), customer_churn_rate(s)) AS simple_ltv
FROM (SELECT retention_agg(mrr_start, mrr_end) AS s FROM worked) x;
SELECT starting_mrr(s), ending_mrr(s), retained_mrr(s), new_mrr(s), expansion_mrr(s),
       contraction_mrr(s), churned_mrr(s), starting_customers(s), churned_customers(s),
       new_customers(s)
FROM (SELECT retention_agg(mrr_start, mrr_end) AS s FROM worked) x;

-- Every role at once:
--   (100, 120) expansion 20   (200, 150) contraction 50   (300, 0) churn
--   (0, 80) new               (0, 0) inactive              (400, 400) retained
--   starting = 1000 (4 customers), retained = 120 + 150 + 400 = 670, new = 80,
--   ending = 750, churned = 300 (1 customer)
--   NRR = 670 / 1000 = 0.67; GRR = (100 + 150 + 0 + 400) / 1000 = 0.65
--   customer churn = 1/4; revenue churn = 0.3; gross revenue churn = 350/1000 = 0.35;
--   net revenue churn = (300 + 50 - 20) / 1000 = 0.33
CREATE TABLE roles (s float8, e float8);
INSERT INTO roles VALUES (100, 120), (200, 150), (300, 0), (0, 80), (0, 0), (400, 400);
SELECT nrr(s, e), grr(s, e), customer_churn_rate(s, e), revenue_churn_rate(s, e),
       gross_revenue_churn_rate(s, e), net_revenue_churn_rate(s, e)
FROM roles;
SELECT retention_agg(s, e) FROM roles;
SELECT starting_mrr(r), ending_mrr(r), retained_mrr(r), new_mrr(r), expansion_mrr(r),
       contraction_mrr(r), churned_mrr(r), starting_customers(r), churned_customers(r),
       new_customers(r)
FROM (SELECT retention_agg(s, e) AS r FROM roles) x;
-- numeric, integer and bigint columns cast implicitly
SELECT nrr(s::numeric, e::numeric), grr(s::int, e::int), customer_churn_rate(s::bigint, e::bigint)
FROM roles;

-- NULL rows are skipped; no usable rows gives NULL
SELECT nrr(s, e), starting_customers(retention_agg(s, e)), new_customers(retention_agg(s, e))
FROM (VALUES (100::float8, 50::float8), (NULL, 70), (200, NULL), (NULL, NULL), (0, 10)) v(s, e);
SELECT nrr(s, e) IS NULL AS nrr_null, retention_agg(s, e) IS NULL AS agg_null
FROM (VALUES (NULL::float8, 1::float8), (2, NULL)) v(s, e);
SELECT nrr(s, e) IS NULL AS nrr_null, grr(s, e) IS NULL AS grr_null,
       retention_agg(s, e) IS NULL AS agg_null
FROM roles WHERE false;
SELECT nrr(NULL::retention_summary) IS NULL AS strict_null,
       starting_mrr(NULL::retention_summary) IS NULL AS strict_null_sum;

-- zero starting MRR: every rate is NULL, the sums and counts are still there
SELECT nrr(r) IS NULL AS nrr, grr(r) IS NULL AS grr, customer_churn_rate(r) IS NULL AS logo,
       revenue_churn_rate(r) IS NULL AS rev, gross_revenue_churn_rate(r) IS NULL AS gross,
       net_revenue_churn_rate(r) IS NULL AS net, starting_mrr(r), new_mrr(r), ending_mrr(r),
       new_customers(r), r
FROM (SELECT retention_agg(s, e) AS r FROM (VALUES (0::float8, 10::float8), (0, 0), (0, 5.5)) v(s, e)) x;
SELECT nrr(s, e) IS NULL AS only_inactive FROM (VALUES (0::float8, 0::float8)) v(s, e);
-- everyone churned: NRR = GRR = 0, churn rates 1
SELECT nrr(s, e), grr(s, e), customer_churn_rate(s, e), net_revenue_churn_rate(s, e)
FROM (VALUES (10::float8, 0::float8), (30, 0)) v(s, e);
-- -0 counts as 0
SELECT retention_agg(s, e) FROM (VALUES ('-0'::float8, 5::float8), (3, '-0')) v(s, e);

-- the same numbers by plain SQL (exact numeric), per segment of random cents data
SELECT setseed(0.3);
CREATE TABLE accounts_mrr AS
SELECT i AS account, i % 7 AS segment,
       CASE WHEN k < 10 THEN 0 ELSE m END::numeric(12, 2) AS s_num,
       CASE WHEN k >= 10 AND k < 18 THEN 0
            WHEN k < 40 THEN round(m * (1 + random()::numeric), 2)
            WHEN k < 55 THEN round(m * random()::numeric, 2)
            ELSE m END::numeric(12, 2) AS e_num
FROM (SELECT i, floor(random() * 100) AS k, round((1 + random() * 3000)::numeric, 2) AS m
      FROM generate_series(1, 20000) i) g;
ALTER TABLE accounts_mrr ADD s float8, ADD e float8;
UPDATE accounts_mrr SET s = s_num, e = e_num;
ANALYZE accounts_mrr;
CREATE TABLE plain AS
SELECT segment,
       sum(e_num) FILTER (WHERE s_num > 0) / sum(s_num) AS nrr,
       sum(least(s_num, e_num)) FILTER (WHERE s_num > 0) / sum(s_num) AS grr,
       count(*) FILTER (WHERE s_num > 0 AND e_num = 0)::numeric / count(*) FILTER (WHERE s_num > 0) AS logo,
       sum(s_num) FILTER (WHERE s_num > 0 AND e_num = 0) / sum(s_num) AS rev,
       sum(e_num) AS ending, sum(e_num) FILTER (WHERE s_num = 0) AS new,
       sum(e_num - s_num) FILTER (WHERE s_num > 0 AND e_num > s_num) AS expansion,
       sum(s_num - e_num) FILTER (WHERE s_num > 0 AND e_num > 0 AND e_num < s_num) AS contraction,
       count(*) FILTER (WHERE s_num = 0 AND e_num > 0) AS new_customers
FROM accounts_mrr GROUP BY ROLLUP (segment);
CREATE TABLE ours AS
SELECT segment, retention_agg(s, e) AS r FROM accounts_mrr GROUP BY ROLLUP (segment);
SELECT count(*) AS groups,
       count(*) FILTER (WHERE abs(nrr(r) - p.nrr) > 1e-12
                           OR abs(grr(r) - p.grr) > 1e-12
                           OR abs(customer_churn_rate(r) - p.logo) > 1e-12
                           OR abs(revenue_churn_rate(r) - p.rev) > 1e-12
                           OR abs(gross_revenue_churn_rate(r) - (1 - p.grr)) > 1e-12
                           OR abs(net_revenue_churn_rate(r) - (1 - p.nrr)) > 1e-12
                           OR round(ending_mrr(r)::numeric, 2) <> p.ending
                           OR round(new_mrr(r)::numeric, 2) <> p.new
                           OR round(expansion_mrr(r)::numeric, 2) <> p.expansion
                           OR round(contraction_mrr(r)::numeric, 2) <> p.contraction
                           OR new_customers(r) <> p.new_customers) AS differing
FROM ours o JOIN plain p ON o.segment IS NOT DISTINCT FROM p.segment;

-- rollup of the segments equals the whole
SELECT starting_customers(w) = starting_customers(g) AND churned_customers(w) = churned_customers(g)
       AND new_customers(w) = new_customers(g) AS counts_equal,
       abs(nrr(w) - nrr(g)) < 1e-12 AND abs(grr(w) - grr(g)) < 1e-12
       AND abs(revenue_churn_rate(w) - revenue_churn_rate(g)) < 1e-12
       AND abs(net_revenue_churn_rate(w) - net_revenue_churn_rate(g)) < 1e-12 AS rates_equal,
       round(starting_mrr(w)::numeric, 2) = round(starting_mrr(g)::numeric, 2)
       AND round(ending_mrr(w)::numeric, 2) = round(ending_mrr(g)::numeric, 2)
       AND round(expansion_mrr(w)::numeric, 2) = round(expansion_mrr(g)::numeric, 2)
       AND round(contraction_mrr(w)::numeric, 2) = round(contraction_mrr(g)::numeric, 2)
       AND round(churned_mrr(w)::numeric, 2) = round(churned_mrr(g)::numeric, 2) AS sums_equal
FROM (SELECT r AS w FROM ours WHERE segment IS NULL) w,
     (SELECT rollup(r) AS g FROM ours WHERE segment IS NOT NULL) g;
-- NULL summaries are skipped; rollup over nothing is NULL
SELECT starting_customers(rollup(r)) FROM (SELECT r FROM ours WHERE segment = 1 UNION ALL SELECT NULL) x;
SELECT rollup(r) IS NULL AS empty_rollup FROM ours WHERE false;
-- as a window aggregate: NRR of the segments 0..k together, against plain SQL
SELECT segment, round(nrr(rollup(r) OVER w)::numeric, 12) AS running,
       round((SELECT sum(e_num) FILTER (WHERE s_num > 0) / sum(s_num) FROM accounts_mrr a
              WHERE a.segment <= o.segment), 12) AS plain
FROM ours o WHERE segment IS NOT NULL WINDOW w AS (ORDER BY segment) ORDER BY segment;

-- the direct aggregate as a window function: accounts 16..k of the worked example
-- (16, 17 stay at 100,000; 18, 19, 20 cancel): at 18, 2 of 3 stay, NRR 2/3
SELECT account, nrr(mrr_start, mrr_end) OVER w, customer_churn_rate(mrr_start, mrr_end) OVER w
FROM worked WHERE account >= 16 WINDOW w AS (ORDER BY account) ORDER BY account;

-- errors: negative, NaN and infinite MRR name the aggregate and the value
SELECT cs_test.error_of($$SELECT retention_agg(s, e) FROM (VALUES (10::float8, 5::float8), (-5, 1)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT nrr(s, e) FROM (VALUES (10::float8, -0.01::float8)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT grr(s, e) FROM (VALUES ('NaN'::float8, 1::float8)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT customer_churn_rate(s, e) FROM (VALUES (1::float8, 'NaN'::float8)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT revenue_churn_rate(s, e) FROM (VALUES ('Infinity'::float8, 1::float8)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT net_revenue_churn_rate(s, e) FROM (VALUES (1::float8, '-Infinity'::float8)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT gross_revenue_churn_rate(s, e) FROM (VALUES (0::float8, -1e300::float8)) v(s, e)$$);
-- a running sum beyond the double range
SELECT cs_test.error_of($$SELECT retention_agg(s, e) FROM (VALUES (1e308::float8, 1::float8), (1e308, 1)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT rollup(r) FROM (SELECT retention_agg(1e308::float8, 0::float8) AS r UNION ALL SELECT retention_agg(1e308::float8, 0::float8)) x$$);
-- a rate beyond the double range: expansion near DBL_MAX over a starting MRR of 0.5
SELECT cs_test.error_of($$SELECT net_revenue_churn_rate(s, e) FROM (VALUES (0.5::float8, 1.7976931348623157e308::float8)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT nrr(retention_agg(s, e)) FROM (VALUES (0.5::float8, 1.7976931348623157e308::float8)) v(s, e)$$);
-- the support functions refuse to run outside an aggregate
SELECT cs_test.error_of($$SELECT retention_accum(NULL, 1, 2)$$);
SELECT cs_test.error_of($$SELECT retention_accum('v=1 starting=0 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0', 1, 2)$$);
SELECT cs_test.error_of($$SELECT retention_combine(NULL, NULL)$$);

-- text form and exact round trip, compensation terms included
SELECT 'v=1 starting=4 churned=1 new=1 starting_mrr=1000 retained_mrr=670 new_mrr=80 expansion_mrr=20 contraction_mrr=50 churned_mrr=300'::retention_summary;
SELECT nrr(' v=1  starting=2 churned=0 new=0 starting_mrr={ 0.30000000000000004 , -5.551115123125783e-17 } retained_mrr=0.3 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0 '::retention_summary);
-- 0.1 + 0.2 in one compensated sum keeps its rounding error as compensation
SELECT retention_agg(s, s) FROM (VALUES (0.1::float8), (0.2)) v(s);
SELECT retention_agg(s, s)::text::retention_summary::text = retention_agg(s, s)::text AS round_trip
FROM (VALUES (0.1::float8), (0.2)) v(s);
SELECT r::text::retention_summary::text = r::text AS round_trip,
       nrr(r::text::retention_summary) = nrr(r) AND grr(r::text::retention_summary) = grr(r)
       AND ending_mrr(r::text::retention_summary) = ending_mrr(r) AS same_values,
       r::text LIKE '%{%' AS has_compensation
FROM ours WHERE segment IS NULL;
SET extra_float_digits = 3;
SELECT r::text::retention_summary::text = r::text AS round_trip_efd3 FROM ours WHERE segment IS NULL;
SET extra_float_digits = -15;
SELECT r::text::retention_summary::text = r::text AS round_trip_efd_neg FROM ours WHERE segment IS NULL;
SET extra_float_digits = 0;

-- malformed text is rejected with 22P02
SELECT cs_test.error_of($$SELECT ''::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=2 starting=0 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=0 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 churned=0 starting=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=0 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0 x'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=-1 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1.5 churned=0 new=0 starting_mrr=1 retained_mrr=1 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=99999999999999999999 churned=0 new=0 starting_mrr=1 retained_mrr=1 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=2 new=0 starting_mrr=10 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=10'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=0 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=5 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=1 new=0 starting_mrr=10 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=1 new=0 starting_mrr=10 retained_mrr=3 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=10'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr=10 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=1 new=0 starting_mrr=10 retained_mrr=0 new_mrr=0 expansion_mrr=2 contraction_mrr=0 churned_mrr=10'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=2 churned=1 new=0 starting_mrr=10 retained_mrr=1 new_mrr=0 expansion_mrr=0 contraction_mrr=5 churned_mrr=6'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr=-10 retained_mrr=10 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr=NaN retained_mrr=10 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr=Infinity retained_mrr=10 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr=1e999 retained_mrr=10 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr={10,3} retained_mrr=10 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 starting=1 churned=0 new=0 starting_mrr={10,0 retained_mrr=10 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'::retention_summary$$);
-- a valid summary whose ending MRR is beyond the double range
SELECT cs_test.error_of($$SELECT ending_mrr('v=1 starting=1 churned=0 new=1 starting_mrr=1e308 retained_mrr=1e308 new_mrr=1e308 expansion_mrr=0 contraction_mrr=0 churned_mrr=0')$$);

-- binary form: send/recv through COPY ... FORMAT binary
-- version byte, 3 bigint counts, 6 pairs (sum, compensation) of float8: 1 + 24 + 96 = 121 bytes
SELECT length(retention_summary_send(r)) AS bytes, encode(retention_summary_send(r), 'hex')
FROM (SELECT retention_agg(s, e) AS r FROM roles) x;
SELECT cs_test.binary_input('retention_summary', retention_summary_send(r)) = r::text AS binary_round_trip
FROM ours WHERE segment IS NULL;
-- wrong version, truncated, trailing bytes, negative count, churned > starting,
-- NaN sum, large compensation, empty: 22P03 or 08P01
CREATE TABLE roles_bin AS SELECT retention_summary_send(retention_agg(s, e)) AS b FROM roles;
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', overlay(b placing '\x02' from 1 for 1)) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', substr(b, 1, 120)) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', b || '\x00'::bytea) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', overlay(b placing '\xffffffffffffffff' from 18 for 8)) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', overlay(b placing '\x0000000000000009' from 10 for 8)) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', overlay(b placing '\x7ff8000000000000' from 26 for 8)) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', overlay(b placing '\x4059000000000000' from 34 for 8)) FROM roles_bin$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('retention_summary', '\x'::bytea)$$);

-- mrr_movement: every outcome; NULL counts as 0, a NULL was_customer as false
SELECT p, c, w, mrr_movement(p, c, w) AS with_flag, mrr_movement(p, c) AS default_flag
FROM (VALUES (0::float8, 100::float8, false), (0, 100, true), (NULL, 100, true), (100, 150, false),
             (150, 100, false), (100, 0, true), (100, NULL, false), (100, 100, false),
             (0, 0, true), (NULL, NULL, NULL), (NULL, 5, NULL), (0.01, 0.02, false)) v(p, c, w);
-- constant arguments (folded at plan time) and the result used in expressions
SELECT mrr_movement(100, 50), mrr_movement(0, 0, NULL), upper(mrr_movement(0, 1, true)),
       mrr_movement(2, 1) || '/' || mrr_movement(1, 2) AS both;
SELECT provolatile, proisstrict, proparallel FROM pg_proc WHERE proname = 'mrr_movement';
SELECT cs_test.error_of($$SELECT mrr_movement(-1, 5)$$);
SELECT cs_test.error_of($$SELECT mrr_movement(1, -5, true)$$);
SELECT cs_test.error_of($$SELECT mrr_movement('NaN', 5)$$);
SELECT cs_test.error_of($$SELECT mrr_movement(1, 'Infinity')$$);

-- a forced parallel plan gives the same answer
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT nrr(s, e), retention_agg(s, e) FROM accounts_mrr');
CREATE TABLE par AS
SELECT nrr(s, e) AS nrr, grr(s, e) AS grr, customer_churn_rate(s, e) AS logo,
       retention_agg(s, e) AS r
FROM accounts_mrr;
SELECT * FROM cs_test.plan_of('SELECT rollup(r) FROM (SELECT retention_agg(s, e) AS r FROM accounts_mrr GROUP BY segment) x');
RESET ALL;
SET extra_float_digits = 0;
SELECT abs(p.nrr - nrr(o.r)) < 1e-12 AND abs(p.grr - grr(o.r)) < 1e-12
       AND p.logo = customer_churn_rate(o.r) AS same_rates,
       starting_customers(p.r) = starting_customers(o.r) AND churned_customers(p.r) = churned_customers(o.r)
       AND new_customers(p.r) = new_customers(o.r) AS same_counts,
       round(starting_mrr(p.r)::numeric, 2) = round(starting_mrr(o.r)::numeric, 2)
       AND round(ending_mrr(p.r)::numeric, 2) = round(ending_mrr(o.r)::numeric, 2) AS same_sums
FROM par p, ours o WHERE o.segment IS NULL;

-- Exactness: 10 million rows of cents-precision MRR (100,000 accounts, each
-- 100 times) give the exact cent total, in one process and in a parallel
-- plan; the exact totals come from numeric arithmetic.  (Whether a naive
-- float8 sum of the same rows hits the cent total depends on the order the
-- plan feeds it the rows: on PostgreSQL 15 it missed by 0.0156, on 19 it
-- hit, so it is not shown.)
SELECT setseed(0.5);
CREATE TABLE cents AS
SELECT i AS id, round((0.01 + random() * 9999)::numeric, 2) AS s_num,
       round((random() * 9999)::numeric, 2) AS e_num
FROM generate_series(1, 100000) i;
ALTER TABLE cents ADD s float8, ADD e float8;
UPDATE cents SET s = s_num, e = e_num;
ANALYZE cents;
-- the repetitions: scanned whole by every worker
CREATE TABLE hundred WITH (parallel_workers = 0) AS SELECT g FROM generate_series(1, 100) g;
ANALYZE hundred;
CREATE TABLE exact AS SELECT 100 * sum(s_num) AS starting, 100 * sum(e_num) AS ending FROM cents;
SELECT * FROM exact;
CREATE TABLE serial AS SELECT retention_agg(s, e) AS r FROM cents, hundred;
SELECT starting_customers(r), round(starting_mrr(r)::numeric, 2) = x.starting AS starting_exact,
       round(ending_mrr(r)::numeric, 2) = x.ending AS ending_exact
FROM serial, exact x;
SELECT cs_test.force_parallel();
-- PostgreSQL 15 cannot materialize the inner side of a parallel nested loop:
-- without this the serial plan with a Materialize looks cheaper
SET enable_material = off;
SELECT * FROM cs_test.plan_of('SELECT retention_agg(s, e) FROM cents, hundred');
SELECT starting_customers(r), round(starting_mrr(r)::numeric, 2) = x.starting AS starting_exact,
       round(ending_mrr(r)::numeric, 2) = x.ending AS ending_exact
FROM (SELECT retention_agg(s, e) AS r FROM cents, hundred) p, exact x;
RESET ALL;

-- ---------- SaaS dashboard ratios (1.2) ----------
-- roles (above): gained = new 80 + expansion 20 = 100, lost = contraction 50
-- + churned 300 = 350: quick ratio 100/350 = 2/7; ending MRR 750 over
-- starting 1000: growth -0.25; ending customers 120, 150, 80, 400 = 4 (3
-- starting who stayed + 1 new): ARPA 750/4 = 187.5; ARR 12 * 750 = 9000;
-- average sale price 80/1 = 80
SELECT ending_customers(r), quick_ratio(r), mrr_growth_rate(r), arpa(r), arr(r), average_sale_price(r)
FROM (SELECT retention_agg(s, e) AS r FROM roles) x;
SELECT quick_ratio(s, e), mrr_growth_rate(s, e) FROM roles;
-- worked example: 17 paying at the end, nothing gained: quick ratio 0,
-- growth 1,200,000 / 1,500,000 - 1 = -0.2, ARPA 1,200,000/17, no new customers: no ASP
SELECT ending_customers(r), quick_ratio(r), mrr_growth_rate(r), round(arpa(r)::numeric, 6) AS arpa,
       arr(r), average_sale_price(r) IS NULL AS asp_null
FROM (SELECT retention_agg(mrr_start, mrr_end) AS r FROM worked) x;
-- edge cases: nothing lost -> NULL quick ratio; no starting MRR -> NULL growth;
-- no ending customers -> NULL ARPA (ARR 0, growth -1, quick ratio 0)
SELECT 'nothing lost' AS edge, ending_customers(r), quick_ratio(r), mrr_growth_rate(r), arpa(r), arr(r), average_sale_price(r)
FROM (SELECT retention_agg(s, e) r FROM (VALUES (100.0, 120.0), (0, 50)) v(s, e)) x
UNION ALL
SELECT 'no starting MRR', ending_customers(r), quick_ratio(r), mrr_growth_rate(r), arpa(r), arr(r), average_sale_price(r)
FROM (SELECT retention_agg(s, e) r FROM (VALUES (0.0, 80.0), (0, 40), (0, 0)) v(s, e)) x
UNION ALL
SELECT 'no ending customers', ending_customers(r), quick_ratio(r), mrr_growth_rate(r), arpa(r), arr(r), average_sale_price(r)
FROM (SELECT retention_agg(s, e) r FROM (VALUES (100.0, 0.0), (0, 0)) v(s, e)) x;
SELECT quick_ratio(s, e) AS nothing_lost FROM (VALUES (100.0, 120.0), (0, 50)) v(s, e);
SELECT mrr_growth_rate(s, e) AS no_starting FROM (VALUES (0.0, 80.0)) v(s, e);
-- no usable rows
SELECT quick_ratio(s, e), mrr_growth_rate(s, e) FROM roles WHERE false;
-- a ratio beyond the double range: a loss of 1e-300
SELECT cs_test.error_of($$SELECT quick_ratio(s, e) FROM (VALUES (1e-300, 0.0), (0, 1e300)) v(s, e)$$);
SELECT cs_test.error_of($$SELECT arr(retention_agg(s, e)) FROM (VALUES (0.0, 1e308)) v(s, e)$$);

-- ending_customers is derived (starting - churned + new): it equals the
-- count of rows with mrr_end > 0, and the ratios equal plain SQL (numeric),
-- per segment of the random data and in total
SELECT count(*) AS groups,
       count(*) FILTER (WHERE ending_customers(r) <> p.ending_customers
                           OR abs(quick_ratio(r) - p.quick) > 1e-12 * p.quick
                           OR abs(mrr_growth_rate(r) - p.growth) > 1e-12
                           OR abs(arpa(r) - p.arpa) > 1e-12 * p.arpa
                           OR round((arr(r) / 12)::numeric, 2) <> p.ending
                           OR abs(average_sale_price(r) - p.asp) > 1e-12 * p.asp) AS differing
FROM ours o JOIN (
  SELECT segment,
         count(*) FILTER (WHERE e_num > 0) AS ending_customers,
         (sum(e_num) FILTER (WHERE s_num = 0) + coalesce(sum(e_num - s_num) FILTER (WHERE s_num > 0 AND e_num > s_num), 0))
           / (sum(s_num - e_num) FILTER (WHERE s_num > 0 AND e_num < s_num)) AS quick,
         sum(e_num) / sum(s_num) - 1 AS growth,
         sum(e_num) / count(*) FILTER (WHERE e_num > 0) AS arpa,
         sum(e_num) AS ending,
         sum(e_num) FILTER (WHERE s_num = 0) / count(*) FILTER (WHERE s_num = 0 AND e_num > 0) AS asp
  FROM accounts_mrr GROUP BY ROLLUP (segment)) p ON o.segment IS NOT DISTINCT FROM p.segment;
-- the direct aggregates equal the functions on the summary, also in a parallel plan
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT quick_ratio(s, e), mrr_growth_rate(s, e) FROM accounts_mrr');
SELECT abs(a.q / quick_ratio(o.r) - 1) < 1e-12 AS quick_equal, abs(a.g - mrr_growth_rate(o.r)) < 1e-12 AS growth_equal
FROM (SELECT quick_ratio(s, e) q, mrr_growth_rate(s, e) g FROM accounts_mrr) a, ours o WHERE o.segment IS NULL;
RESET ALL;

DROP TABLE worked, roles, roles_bin, accounts_mrr, plain, ours, par, cents, hundred, exact, serial;
