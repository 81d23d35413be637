-- Log-rank tests: logrank_chisq() and logrank_p_value() in their three forms,
-- the logrank_state I/O.  (R's survdiff and coxph are compared in
-- test/t/logrank-r.py.)
SET extra_float_digits = 0;

-- Two plans: A churns at 1 and 2; B churns at 3 and is censored at 4.
-- By hand: t=1: n_A=2, n=4, d=1 (A): E_A = 1/2, V = 1*3/3 * 1/2 * 1/2 = 1/4
--          t=2: n_A=1, n=3, d=1 (A): E_A = 1/3, V = 1*2/2 * 1/3 * 2/3 = 2/9
--          t=3: n_A=0, n=2, d=1 (B): nothing for A
-- O_A - E_A = 2 - 5/6 = 7/6, V = 17/36: chisq = (49/36) / (17/36) = 49/17 = 2.882353;
-- p = P(chi-square(1) > 2.882353) = 0.0896 (R: survdiff gives the same)
CREATE TABLE lr (plan text, region text, dur float8, churned bool);
INSERT INTO lr VALUES ('A', 'north', 1, true), ('A', 'north', 2, true), ('B', 'north', 3, true), ('B', 'north', 4, false);
SELECT round(logrank_chisq(s)::numeric, 6) AS chisq, round(logrank_p_value(s)::numeric, 6) AS p
FROM (SELECT plan, survival_agg(dur, churned) AS s FROM lr GROUP BY plan) g;
-- rho = 0 is the same test; Peto-Peto (rho = 1) weights S(t-): 1, 3/4, 1/2:
-- O-E = 1/2 + 3/4*2/3 = 1, V = 1/4 + 9/16*2/9 = 3/8: chisq = 8/3
SELECT round(logrank_chisq(s, 0)::numeric, 6) AS rho0, round(logrank_chisq(s, 1)::numeric, 6) AS rho1
FROM (SELECT plan, survival_agg(dur, churned) AS s FROM lr GROUP BY plan) g;
-- stratified: with one stratum, the same; rows of one (grp, stratum) are merged
SELECT round(logrank_chisq(s, 0, plan, region)::numeric, 6) AS one_stratum,
       round(logrank_chisq(s, 0, plan, NULL)::numeric, 6) AS no_strata
FROM (SELECT plan, region, dur, survival_agg(dur, churned) AS s FROM lr GROUP BY plan, region, dur) g;
-- a second stratum: A churns at 1, B at 2; at t=1 n=2, d=1 (A): E_A = 1/2,
-- V = 1*1/1 * 1/2 * 1/2 = 1/4.  Summed: O - E = 7/6 + 1/2 = 5/3,
-- V = 17/36 + 9/36 = 26/36: chisq = (25/9) / (26/36) = 50/13 = 3.846154
INSERT INTO lr VALUES ('A', 'south', 1, true), ('B', 'south', 2, true);
SELECT round(logrank_chisq(s, 0, plan, region)::numeric, 6) AS stratified
FROM (SELECT plan, region, survival_agg(dur, churned) AS s FROM lr GROUP BY plan, region) g;
SELECT round(50.0 / 13, 6) AS by_hand;
DELETE FROM lr WHERE region = 'south';

-- no test: a single group, no churn at all, no rows: NULL
SELECT logrank_chisq(s), logrank_p_value(s)
FROM (SELECT survival_agg(dur, churned) AS s FROM lr WHERE plan = 'A') g;
SELECT logrank_chisq(s), logrank_p_value(s)
FROM (SELECT plan, survival_agg(dur, false) AS s FROM lr GROUP BY plan) g;
SELECT logrank_chisq(s), logrank_p_value(s) FROM (SELECT NULL::survival_summary AS s WHERE false) g;
-- NULL summaries, rho or grp skip the row
SELECT round(logrank_chisq(s)::numeric, 6) AS chisq
FROM (SELECT plan, survival_agg(dur, churned) AS s FROM lr GROUP BY plan UNION ALL SELECT NULL, NULL) g;
SELECT round(logrank_chisq(s, r)::numeric, 6) AS chisq
FROM (SELECT plan, survival_agg(dur, churned) AS s, 0.0::float8 AS r FROM lr GROUP BY plan
      UNION ALL SELECT 'C', survival_agg(1, true), NULL) g;
-- a p-value far in the tail is a number, not 0: two cohorts of 500 (chisq 1058.57, p 3.3e-232)
SELECT logrank_p_value(s) < 1e-100 AND logrank_p_value(s) > 0 AS tiny_but_positive
FROM (SELECT i % 2 AS plan, survival_agg(CASE WHEN i % 2 = 0 THEN 1 + i % 10 ELSE 5 + i % 40 END,
                                         i % 2 = 0 OR i % 7 = 0) AS s
      FROM generate_series(1, 1000) i GROUP BY 1) g;

-- errors
SELECT cs_test.error_of($$SELECT logrank_chisq(s, 'NaN') FROM (SELECT survival_agg(dur, churned) s FROM lr) g$$);
SELECT cs_test.error_of($$SELECT logrank_p_value(s, 'Infinity') FROM (SELECT survival_agg(dur, churned) s FROM lr) g$$);
SELECT cs_test.error_of($$SELECT logrank_chisq(s, r) FROM (SELECT survival_agg(1, true) s, 0.0::float8 r
                          UNION ALL SELECT survival_agg(2, true), 1.0) g$$);
SELECT cs_test.error_of($$SELECT logrank_chisq(s, 0, plan, CASE WHEN plan = 'A' THEN 'x' END)
                          FROM (SELECT plan, survival_agg(dur, churned) s FROM lr GROUP BY plan) g$$);
SELECT cs_test.error_of($$SELECT logrank_p_value(s, 0, repeat('g', 256), NULL)
                          FROM (SELECT survival_agg(dur, churned) s FROM lr) g$$);
SELECT cs_test.error_of($$SELECT logrank_chisq(s, 0, 'g', repeat('s', 256))
                          FROM (SELECT survival_agg(dur, churned) s FROM lr) g$$);
SELECT cs_test.error_of($$SELECT logrank_accum(NULL, survival_agg(1, true))$$);
-- at most 1,000 groups compared (the variance is k x k)
SELECT cs_test.error_of($$SELECT logrank_chisq(s) FROM (SELECT i, survival_agg(i % 7 + 1, i % 2 = 0) s
                          FROM generate_series(1, 1001) i GROUP BY i) g$$);
SELECT logrank_chisq(s) > 0 AS thousand_groups_ok FROM (SELECT i, survival_agg(i % 7 + 1, i % 2 = 0) s
                          FROM generate_series(1, 1000) i GROUP BY i) g;

-- the state type: text and binary round trips, malformed values rejected
SELECT 'v=1 flags=7 rho=0.5 groups={{"A","x",2,{1,0,1,0,2,0,1,0}},{"B","x",2,{3,0,1,0,4,0,0,1}}}'::logrank_state;
SELECT round(logrank_chisq_final('v=1 flags=0 rho=0 groups={{-,-,2,{1,0,1,0,2,0,1,0}},{-,-,2,{3,0,1,0,4,0,0,1}}}')::numeric, 12) AS final_from_text;
SELECT cs_test.binary_input('logrank_state', logrank_state_send(
       'v=1 flags=7 rho=0.5 groups={{"A","say \"x\"",2.5,{1,0.5,1,0,2,0,1,1}}}'));
SELECT cs_test.error_of($$SELECT 'v=2 flags=0 rho=0 groups={}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=16 rho=0 groups={}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=1 groups={}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=15 rho=0 groups={}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={{-,-,1,{1,0,1}}}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={{-,-,2,{2,0,1,0,1,0,1,0}}}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={{-,-,5,{1,0,1,0}}}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={{-,-,-1,{1,0,-1,0}}}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={{"A",-,1,{1,0,1,0}}}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={{-,-,1,{NaN,0,1,0}}}'::logrank_state$$);
SELECT cs_test.error_of($$SELECT 'v=1 flags=0 rho=0 groups={} x'::logrank_state$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('logrank_state',
    overlay(logrank_state_send('v=1 flags=0 rho=0 groups={{-,-,1,{1,0,1,0}}}') placing '\x02' from 1 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('logrank_state',
    overlay(logrank_state_send('v=1 flags=0 rho=0 groups={{-,-,1,{1,0,1,0}}}') placing '\x7fffffff' from 31 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('logrank_state',
    overlay(logrank_state_send('v=1 flags=0 rho=0 groups={{-,-,1,{1,0,1,0}}}') placing '\x00000005' from 19 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('logrank_state',
    logrank_state_send('v=1 flags=0 rho=0 groups={{-,-,1,{1,0,1,0}}}') || '\x00'::bytea)$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('logrank_state', '\x'::bytea)$$);

-- forced parallel plan over many groups: Partial Aggregate, the same answers
CREATE TABLE lr_groups AS
SELECT g, survival_agg((i * 7919 + g) % 50, (i + g) % 3 > 0) AS s, (g % 4)::text AS stratum
FROM generate_series(1, 300) i, generate_series(1, 40) g GROUP BY g;
CREATE TEMP TABLE lr_serial AS
SELECT logrank_chisq(s) AS c, logrank_p_value(s, 0.5) AS p, logrank_chisq(s, 1, (g % 7)::text, stratum) AS cs
FROM lr_groups;
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT logrank_chisq(s) FROM lr_groups');
SELECT (SELECT c FROM lr_serial) = logrank_chisq(s) AS same_chisq,
       (SELECT p FROM lr_serial) = logrank_p_value(s, 0.5) AS same_p,
       (SELECT cs FROM lr_serial) = logrank_chisq(s, 1, (g % 7)::text, stratum) AS same_stratified
FROM lr_groups;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;

DROP TABLE lr, lr_groups, lr_serial;
