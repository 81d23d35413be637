-- Churn model: churn_model_fit(), churn_model_coefficients/std_errors,
-- churn_probability(), model I/O; auc()
SET extra_float_digits = 0;

-- One 0/1 signal: the fit is saturated, so the MLE is in closed form:
--   x = 0: 1 of 4 churned, b0 = logit(1/4) = ln(1/3) = -1.0986122887
--   x = 1: 3 of 4 churned, b0 + b1 = logit(3/4) = ln 3, b1 = 2 ln 3 = 2.1972245773
--   standard errors sqrt(1 / (n p (1 - p))): se0 = sqrt(4/3) = 1.1547005384,
--   se1 = sqrt(4/3 + 4/3) = 1.6329931619
--   log-likelihood 2 * (ln(1/4) + 3 ln(3/4)) = -4.49868115695
CREATE TABLE tiny (id int, churned boolean, x float8, z float8);
INSERT INTO tiny VALUES
	(1, true, 0, 0), (2, false, 0, 0), (3, false, 0, 0), (4, false, 0, 0),
	(5, true, 1, 0), (6, true, 1, 0), (7, true, 1, 0), (8, false, 1, 0);
SELECT (SELECT array_agg(round(c::numeric, 10)) FROM unnest(churn_model_coefficients(m)) c) AS coefficients,
       (SELECT array_agg(round(c::numeric, 10)) FROM unnest(churn_model_std_errors(m)) c) AS std_errors,
       round(churn_probability(m, 0)::numeric, 12) AS p0,   -- 1/4
       round(churn_probability(m, 1)::numeric, 12) AS p1,   -- 3/4
       round(split_part(split_part(m::text, 'log_likelihood=', 2), ' ', 1)::numeric, 10) AS log_likelihood,
       m::text ~ 'rows=8 churned=4 ' AS counts
FROM (SELECT churn_model_fit(churned, x) AS m FROM tiny) f;

-- fit statistics of the same model:
--   llnull = 8 ln(1/2) = -5.5451774445 (4 of 8 churned)
--   LR = 2 (llf - llnull) = 2.0929925751 on 1 degree of freedom:
--   p = erfc(sqrt(LR / 2)) = 0.1479759594
--   McFadden R^2 = 1 - llf / llnull = 0.1887218755
SELECT round(churn_model_log_likelihood(m)::numeric, 10) AS llf,
       round(churn_model_null_log_likelihood(m)::numeric, 10) AS llnull,
       round(churn_model_lr_p_value(m)::numeric, 10) AS lr_p_value,
       round(churn_model_pseudo_r2(m)::numeric, 10) AS pseudo_r2
FROM (SELECT churn_model_fit(churned, x) AS m FROM tiny) f;
-- a model in the text form of 1.0 and 1.1 (2 signals, 20 of 100 churned):
--   llnull = 20 ln 0.2 + 80 ln 0.8 = -50.0402423538, LR = 19.0804847076 on
--   2 degrees of freedom: p = exp(-LR / 2) = 7.18994204465e-05,
--   R^2 = 1 - 40.5 / 50.0402423538 = 0.1906514019
SELECT churn_model_log_likelihood(m) AS llf,
       round(churn_model_null_log_likelihood(m)::numeric, 10) AS llnull,
       round((churn_model_lr_p_value(m) * 1e5)::numeric, 10) AS lr_p_value_e5,
       round(churn_model_pseudo_r2(m)::numeric, 10) AS pseudo_r2
FROM (VALUES ('v=1 coefficients={-1.5,0.25,3} std_errors={0.5,0.125,1} rows=100 churned=20 log_likelihood=-40.5 iterations=6'::churn_model)) v(m);
-- a written model without churned or retained rows has no null model: NULL
SELECT churn_model_log_likelihood(m) AS llf, churn_model_null_log_likelihood(m) IS NULL AS no_llnull,
       churn_model_lr_p_value(m) IS NULL AS no_p, churn_model_pseudo_r2(m) IS NULL AS no_r2
FROM (VALUES ('v=1 coefficients={0,1} std_errors={1,1} rows=10 churned=0 log_likelihood=-1 iterations=1'::churn_model),
             ('v=1 coefficients={0,1} std_errors={1,1} rows=10 churned=10 log_likelihood=-1 iterations=1'::churn_model),
             ('v=1 coefficients={0,1} std_errors={1,1} rows=0 churned=0 log_likelihood=0 iterations=1'::churn_model)) v(m);
SELECT churn_model_lr_p_value(NULL) IS NULL AS strict;

-- Two 0/1 signals, three groups, saturated again:
--   (0,0): 1 of 5 churned, b0 = logit(1/5) = -ln 4 = -1.3862943611
--   (1,0): 1 of 3, b0 + b1 = logit(1/3) = -ln 2, b1 = ln 2 = 0.6931471806
--   (0,1): 4 of 5, b0 + b2 = ln 4, b2 = 2 ln 4 = 2.7725887222
TRUNCATE tiny;
INSERT INTO tiny VALUES
	(1, true, 0, 0), (2, false, 0, 0), (3, false, 0, 0), (4, false, 0, 0), (5, false, 0, 0),
	(6, true, 1, 0), (7, false, 1, 0), (8, false, 1, 0),
	(9, true, 0, 1), (10, true, 0, 1), (11, true, 0, 1), (12, true, 0, 1), (13, false, 0, 1);
SELECT (SELECT array_agg(round(c::numeric, 10)) FROM unnest(churn_model_coefficients(churn_model_fit(churned, x, z))) c)
FROM tiny;
-- numeric and integer signals are cast to double precision
SELECT (SELECT array_agg(round(c::numeric, 10)) FROM unnest(churn_model_coefficients(churn_model_fit(churned, x::int, z::numeric))) c)
FROM tiny;
-- churn_probability: 1 / (1 + exp(-(b0 + b2))) = 4/5, and 1/3 for (1, 0)
SELECT round(churn_probability(m, 0, 1)::numeric, 12), round(churn_probability(m, 1, 0)::numeric, 12)
FROM (SELECT churn_model_fit(churned, x, z) AS m FROM tiny) f;

-- NULL and empty input: rows with a NULL outcome or signal are left out
SELECT (SELECT array_agg(round(c::numeric, 10)) FROM unnest(churn_model_coefficients(churn_model_fit(churned, x, z))) c)
FROM (SELECT churned, x, z FROM tiny UNION ALL VALUES (NULL, 1, 1), (true, NULL, 1), (true, 1, NULL)) t;
SELECT churn_model_fit(churned, x) IS NULL AS no_rows FROM tiny WHERE false;
SELECT churn_model_fit(churned, VARIADIC s) IS NULL AS null_array FROM (VALUES (true, NULL::float8[])) v(churned, s);
-- one class only: no model (like auc)
SELECT churn_model_fit(churned, x) IS NULL AS all_retained FROM tiny WHERE NOT churned;
SELECT churn_model_fit(churned, x) IS NULL AS all_churned FROM tiny WHERE churned;
SELECT churn_probability(churn_model_fit(churned, x, z), 0, NULL) IS NULL AS null_signal FROM tiny;

-- perfectly separable data: a clear error, after a few iterations
SELECT cs_test.error_of($$SELECT churn_model_fit(y, x) FROM (VALUES (false, 0), (false, 1), (true, 2), (true, 3)) v(y, x)$$);
-- quasi-complete separation: x = 0 never churns
SELECT cs_test.error_of($$SELECT churn_model_fit(y, x) FROM (VALUES (false, 0), (false, 0), (true, 1), (false, 1), (true, 1)) v(y, x)$$);
-- separation on a large scale, with many rows
SELECT cs_test.error_of($$SELECT churn_model_fit(i > 5000, i) FROM generate_series(1, 10000) i$$);
-- singular designs: a constant signal, collinear signals, too few distinct rows
SELECT cs_test.error_of($$SELECT churn_model_fit(churned, x, 3) FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(churned, x, z, x + 2 * z) FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(y, x) FROM (VALUES (false, 1), (true, 1)) v(y, x)$$);
-- bad signals
SELECT cs_test.error_of($$SELECT churn_model_fit(churned, x, 'NaN') FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(churned, x, 'Infinity') FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(churned, VARIADIC CASE WHEN id = 3 THEN array[x] ELSE array[x, z] END) FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(true, VARIADIC '{}'::float8[])$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(true, VARIADIC array_fill(0.5::float8, array[101]))$$);
SELECT cs_test.error_of($$SELECT churn_model_fit(true, VARIADIC '{{1,2},{3,4}}'::float8[])$$);
-- churn_probability: as many signals as the model, finite
SELECT cs_test.error_of($$SELECT churn_probability(churn_model_fit(churned, x, z), 1) FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_probability(churn_model_fit(churned, x, z), 1, 'NaN') FROM tiny$$);
SELECT cs_test.error_of($$SELECT churn_probability(churn_model_fit(churned, x, z), VARIADIC '{{1,2}}'::float8[]) FROM tiny$$);
-- extreme linear predictors give probabilities 0 and 1 without overflow
SELECT churn_probability('v=1 coefficients={0,1} std_errors={1,1} rows=2 churned=1 log_likelihood=-1 iterations=1', 1e300) AS one,
       churn_probability('v=1 coefficients={0,1} std_errors={1,1} rows=2 churned=1 log_likelihood=-1 iterations=1', -1e300) AS zero;

-- text form and exact round trip
CREATE TABLE noisy AS
SELECT i, (i * 7919 % 1000) / 1000.0 AS a, (i * 104729 % 997) / 997.0 AS b,
       ((i * 7919 % 1000) / 1000.0 - (i * 104729 % 997) / 997.0 + (i * 31 % 101) / 101.0 - 0.5) > 0 AS churned
FROM generate_series(1::bigint, 3000) i;
SELECT churn_model_fit(churned, a, b)::text::churn_model::text = churn_model_fit(churned, a, b)::text AS round_trip
FROM noisy;
SELECT 'v=1 coefficients={-1.5,0.25,3} std_errors={0.5,0.125,1} rows=100 churned=20 log_likelihood=-40.5 iterations=6'::churn_model;
SELECT churn_model_coefficients(' v=1 coefficients={ -1.5 , 0.25 } std_errors={0.5,0.1} rows=100 churned=20 log_likelihood=-40.5 iterations=6 '::churn_model);
-- malformed text is rejected with 22P02
SELECT cs_test.error_of($$SELECT ''::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=2 coefficients={1,2} std_errors={1,1} rows=2 churned=1 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1} std_errors={1} rows=2 churned=1 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1} rows=2 churned=1 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,-1} rows=2 churned=1 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,Infinity} std_errors={1,1} rows=2 churned=1 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,1} rows=2 churned=3 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,1} rows=-2 churned=1 log_likelihood=-1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,1} rows=2 churned=1 log_likelihood=1 iterations=1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,1} rows=2 churned=1 log_likelihood=-1 iterations=-1'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,1} rows=2 churned=1 log_likelihood=-1 iterations=1 x'::churn_model$$);
SELECT cs_test.error_of($$SELECT 'v=1 coefficients={1,2} std_errors={1,1} rows=2 churned=1 log_likelihood=-1'::churn_model$$);
SELECT cs_test.error_of(format('SELECT %L::churn_model',
	'v=1 coefficients={' || array_to_string(array_fill(1, array[102]), ',') || '} std_errors={1} rows=2 churned=1 log_likelihood=-1 iterations=1'));

-- binary form
SELECT encode(churn_model_send('v=1 coefficients={-1.5,0.25} std_errors={0.5,0.125} rows=100 churned=20 log_likelihood=-40.5 iterations=6'), 'hex');
SELECT cs_test.binary_input('churn_model', churn_model_send(churn_model_fit(churned, a, b)))
       = churn_model_fit(churned, a, b)::text AS binary_round_trip
FROM noisy;
-- wrong version, truncated, trailing bytes, bad coefficient count, churned > rows,
-- positive log-likelihood, infinite coefficient: 22P03 or 08P01
CREATE TABLE m1 AS SELECT churn_model_send('v=1 coefficients={-1.5,0.25} std_errors={0.5,0.125} rows=100 churned=20 log_likelihood=-40.5 iterations=6') AS b;
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', overlay(b placing '\x02' from 1 for 1)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', substr(b, 1, 40)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', b || '\x00'::bytea) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', overlay(b placing '\x00000001' from 2 for 4)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', overlay(b placing '\x7fffffff' from 2 for 4)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', overlay(b placing '\x00000000000000ff' from 18 for 8)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', overlay(b placing '\x4000000000000000' from 26 for 8)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', overlay(b placing '\x7ff0000000000000' from 34 for 8)) FROM m1$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('churn_model', '\x'::bytea)$$);

-- AUC.  Outcome true scores 0.9, 0.8, 0.5, 0.5; outcome false 0.7, 0.5, 0.3.
-- Of the 4 * 3 = 12 pairs, 0.9 and 0.8 beat all three (6), each 0.5 beats
-- 0.3 and ties 0.5 (2 * 1.5 = 3): AUC = 9 / 12 = 0.75
CREATE TABLE scored (score float8, outcome boolean);
INSERT INTO scored VALUES (0.9, true), (0.8, true), (0.5, true), (0.5, true),
	(0.7, false), (0.5, false), (0.3, false);
SELECT auc(score, outcome) FROM scored;
SELECT auc(-score, outcome) AS reversed FROM scored;           -- 1 - 0.75 (no ties flip)
SELECT auc(score, NOT outcome) AS swapped FROM scored;         -- 0.25
SELECT auc(1, outcome) AS all_tied FROM scored;                -- 0.5
SELECT auc(score, score > 0.6) AS perfect FROM scored;         -- 1
SELECT auc(score, score < 0.6) AS worst FROM scored;           -- 0
-- NULL scores and outcomes are skipped; one class empty gives NULL
SELECT auc(score, outcome) FROM (SELECT * FROM scored UNION ALL VALUES (NULL, true), (0.1, NULL)) s;
SELECT auc(score, outcome) IS NULL AS only_true FROM scored WHERE outcome;
SELECT auc(score, outcome) IS NULL AS no_rows FROM scored WHERE false;
SELECT cs_test.error_of($$SELECT auc(s, true) FROM (VALUES ('NaN'::float8)) v(s)$$);
SELECT cs_test.error_of($$SELECT auc(s, true) FROM (VALUES ('-Infinity'::float8)) v(s)$$);
-- per group, and as a running window aggregate: after 0.5 f, true {0.9, 0.8}
-- beat false {0.7, 0.5}: 1; then 4.5 / 6 = 0.75, 5 / 8 = 0.625, 9 / 12 = 0.75
SELECT outcome, auc(score, score > 0.6) FROM scored GROUP BY outcome ORDER BY outcome;
SELECT score, outcome, auc(score, outcome) OVER (ORDER BY score DESC, outcome ROWS UNBOUNDED PRECEDING) AS running
FROM scored ORDER BY score DESC, outcome;

-- DeLong interval of the same AUC.  Placements of the positives (negatives
-- below + half the ties, over 3): 0.9 -> 1, 0.8 -> 1, 0.5 -> 0.5, 0.5 -> 0.5,
-- S10 = 4 * 0.25^2 / 3 = 1/12; of the negatives (positives above + half the
-- ties, over 4): 0.7 -> 0.5, 0.5 -> 0.75, 0.3 -> 1, S01 = 2 * 0.25^2 / 2 =
-- 1/16; var = S10 / 4 + S01 / 3 = 1/24, sd = 0.2041241452.
-- 95%: 0.75 -/+ 1.9599639845 sd = [0.3499240270, 1.1500759730 -> clamped to 1]
-- 50%: 0.75 -/+ 0.6744897502 sd = [0.6123203563, 0.8876796437]
SELECT round(auc(score, outcome)::numeric, 10) AS auc,
       round(auc_lower(score, outcome)::numeric, 10) AS lower_95,
       auc_upper(score, outcome) AS upper_95,
       round(auc_lower(score, outcome, 0.95)::numeric, 10) AS lower_95_explicit,
       round(auc_lower(score, outcome, 0.5)::numeric, 10) AS lower_50,
       round(auc_upper(score, outcome, 0.5)::numeric, 10) AS upper_50
FROM scored;
-- mirrored: the interval of 1 - AUC is 1 - the interval, clamped at 0 now
SELECT auc_lower(score, NOT outcome) AS lower_95, round(auc_upper(score, NOT outcome)::numeric, 10) AS upper_95
FROM scored;
-- no variance when every pair is ordered the same way, or every score ties
SELECT auc_lower(score, score > 0.6) AS perfect_lower, auc_upper(score, score > 0.6) AS perfect_upper,
       auc_lower(1, outcome) AS tied_lower, auc_upper(1, outcome, 0.99) AS tied_upper
FROM scored;
-- NULL rows are skipped (a NULL confidence too); fewer than two rows of
-- either outcome: NULL, as pROC gives NA
SELECT round(auc_lower(score, outcome, c)::numeric, 10) AS lower_50
FROM (SELECT score, outcome, 0.5 AS c FROM scored UNION ALL VALUES (NULL, true, 0.5), (0.1, NULL, 0.5), (0.2, true, NULL)) s;
SELECT auc_lower(score, outcome) IS NULL AS one_negative, auc_upper(score, outcome, 0.9) IS NULL AS one_negative_90
FROM scored WHERE outcome OR score = 0.7;
SELECT auc_lower(score, outcome) IS NULL AS no_rows, auc_upper(score, outcome, 0.9) IS NULL AS no_rows_90
FROM scored WHERE false;
-- bad confidence levels: 22023 naming the aggregate and the value
SELECT cs_test.error_of($$SELECT auc_lower(score, outcome, 1) FROM scored$$);
SELECT cs_test.error_of($$SELECT auc_upper(score, outcome, 0) FROM scored$$);
SELECT cs_test.error_of($$SELECT auc_upper(score, outcome, 95) FROM scored$$);
SELECT cs_test.error_of($$SELECT auc_lower(score, outcome, -0.5) FROM scored$$);
SELECT cs_test.error_of($$SELECT auc_lower(score, outcome, 'NaN') FROM scored$$);
SELECT cs_test.error_of($$SELECT auc_upper(score, outcome, CASE WHEN score > 0.6 THEN 0.9 ELSE 0.95 END) FROM scored$$);
SELECT cs_test.error_of($$SELECT auc_lower(s, true, 0.9) FROM (VALUES ('Infinity'::float8)) v(s)$$);
SELECT cs_test.error_of($$SELECT auc_upper(s, true) FROM (VALUES ('NaN'::float8)) v(s)$$);

-- against a plain-SQL rank-based AUC (mid-ranks), with many ties
CREATE TABLE big_scored AS
SELECT i, (i * 7919 % 100) / 10.0 AS score, (i * 104729 % 997) < 400 + 4 * (i * 7919 % 100) AS outcome
FROM generate_series(1::bigint, 200000) i;
ANALYZE big_scored;
CREATE VIEW plain_auc AS
SELECT (sum(r) FILTER (WHERE outcome) - n1 * (n1 + 1) / 2.0) / (n1 * (n - n1)) AS auc
FROM (SELECT outcome, rank() OVER (ORDER BY score) + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS r,
             count(*) FILTER (WHERE outcome) OVER () AS n1, count(*) OVER () AS n
      FROM big_scored) x
GROUP BY n1, n;
SELECT abs(auc - (SELECT auc FROM plain_auc)) < 1e-12 AS same_as_plain, round(auc::numeric, 12)
FROM (SELECT auc(score, outcome) FROM big_scored) a;

-- forced parallel plans give the same answers
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT auc(score, outcome) FROM big_scored');
SELECT * FROM cs_test.plan_of('SELECT churn_model_fit(outcome, score) FROM big_scored');
SELECT * FROM cs_test.plan_of('SELECT auc_lower(score, outcome, 0.9) FROM big_scored');
CREATE TABLE par AS
SELECT auc(score, outcome), churn_model_coefficients(churn_model_fit(outcome, score)) AS coef,
       auc_lower(score, outcome) AS lower_95, auc_upper(score, outcome, 0.9) AS upper_90
FROM big_scored;
RESET ALL;
SET extra_float_digits = 0;
SELECT abs(p.auc - d.auc) < 1e-15 AS same_auc,
       abs(p.coef[1] - d.coef[1]) < 1e-9 * abs(d.coef[1]) AND abs(p.coef[2] - d.coef[2]) < 1e-9 * abs(d.coef[2])
         AS same_coefficients,
       p.lower_95 = d.lower_95 AND p.upper_90 = d.upper_90 AS same_interval,
       d.lower_95 < d.auc AND d.auc < d.upper_90 AS around_auc
FROM par p, (SELECT auc(score, outcome), churn_model_coefficients(churn_model_fit(outcome, score)) AS coef,
                    auc_lower(score, outcome) AS lower_95, auc_upper(score, outcome, 0.9) AS upper_90
             FROM big_scored) d;

-- a state that would pass the limit of a serialized value (1 GB; lowered
-- here) is refused in the transition or combine function, with the same
-- error in a serial and a parallel plan
SET customer_success.fit_state_max_values = 150000;
SELECT cs_test.error_of('SELECT auc(score, outcome) FROM big_scored');
SELECT cs_test.error_of('SELECT churn_model_fit(outcome, score) FROM big_scored');
SELECT cs_test.error_of('SELECT auc_lower(score, outcome) FROM big_scored');
SELECT cs_test.error_of('SELECT auc_upper(score, outcome, 0.9) FROM big_scored');
SELECT cs_test.force_parallel();
SELECT cs_test.error_of('SELECT auc(score, outcome) FROM big_scored');
SELECT cs_test.error_of('SELECT churn_model_fit(outcome, score) FROM big_scored');
SELECT cs_test.error_of('SELECT auc_lower(score, outcome) FROM big_scored');
SELECT cs_test.error_of('SELECT auc_upper(score, outcome, 0.9) FROM big_scored');
RESET ALL;
-- auc_upper at the limit: 200,000 scores
SET customer_success.fit_state_max_values = 200000;
SELECT auc_upper(score, outcome, 0.9) IS NOT NULL AS interval_at_the_limit FROM big_scored;
SELECT cs_test.force_parallel();
SELECT auc_upper(score, outcome, 0.9) IS NOT NULL AS interval_at_the_limit_in_parallel FROM big_scored;
RESET ALL;
-- at the limit: 200,000 rows of (outcome, score) are 400,000 values
SET customer_success.fit_state_max_values = 400000;
SELECT churn_model_fit(outcome, score) IS NOT NULL AS fits_at_the_limit FROM big_scored;
SELECT cs_test.force_parallel();
SELECT churn_model_fit(outcome, score) IS NOT NULL AS fits_at_the_limit_in_parallel FROM big_scored;
RESET ALL;
-- the setting only lowers the built-in limit
SELECT cs_test.error_of('SET customer_success.fit_state_max_values = 200000000');
-- the setting's name up to 1.2.1, customer_success.state_max_values, is a
-- deprecated alias through 1.3: the lower of the two limits applies
SET customer_success.state_max_values = 150000;
SELECT cs_test.error_of('SELECT auc(score, outcome) FROM big_scored');
SET customer_success.fit_state_max_values = 120000;
SELECT cs_test.error_of('SELECT auc(score, outcome) FROM big_scored');
RESET customer_success.fit_state_max_values;
SELECT cs_test.error_of('SELECT churn_model_fit(outcome, score) FROM big_scored');
RESET ALL;
SELECT auc(score, outcome) IS NOT NULL AS no_limit_after_reset FROM big_scored;
SELECT cs_test.error_of('SET customer_success.state_max_values = 200000000');
-- the prefix customer_success is reserved: a mistyped setting is refused
SELECT cs_test.error_of('SET customer_success.fit_state_max_value = 100');
SELECT cs_test.error_of('SHOW customer_success.fit_max_values');

DROP VIEW plain_auc;
DROP TABLE tiny, noisy, m1, scored, big_scored, par;

-- a customer_success.* placeholder set before the library is loaded is
-- removed with a warning when it loads (and the defined settings keep it)
\c
SET customer_success.fit_state_max_vaules = 5;
SET customer_success.fit_state_max_values = 7;
LOAD 'customer_success';
SHOW customer_success.fit_state_max_values;
SELECT cs_test.error_of('SHOW customer_success.fit_state_max_vaules');
