-- Binary round trip of every summary and model type: send -> receive -> send
-- gives identical bytes and an equal value, and the text form reads back to
-- itself.  Citus 14 moves the partial states of split aggregates between
-- nodes in binary (send on the worker, receive on the coordinator), Citus 13
-- and pg_dump/COPY as text, so both must be exact, at the edges too: empty
-- summaries, the largest counts a bigint holds, the extreme finite doubles
-- (largest, smallest normal, smallest subnormal, negative zero), Neumaier
-- compensation terms, the most signals a model or health summary takes.

-- For one value (given as text): its send bytes b1; the value received from
-- b1 through COPY ... FORMAT binary; that value's send bytes b2 and text.
-- Returns 'ok' (with the number of bytes and of functions compared) or what
-- differs.  "Equal value": besides the text form (exact,
-- shortest round-trip doubles), every function of the extension that takes
-- the value as its only required argument (accessors, curves, parameters)
-- returns the same rows, or the same error, for the value and its copy.
CREATE FUNCTION cs_test.send_recv_send(typ regtype, value text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	sendfn regproc;
	f text := current_setting('data_directory') || '/cs_test_send_recv.copy';
	b1 bytea;
	b2 bytea;
	t1 text;
	t2 text;
	t3 text;
	r1 text;
	r2 text;
	fn regprocedure;
	problems text[] := '{}';
	checked int := 0;
BEGIN
	SELECT typsend INTO STRICT sendfn FROM pg_type WHERE oid = typ;
	EXECUTE format('SELECT %s(%L::%s), %L::%s::text', sendfn, value, typ, value, typ) INTO b1, t1;
	EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', b1, f);
	EXECUTE format('CREATE TEMP TABLE cs_test_received (v %s)', typ);
	EXECUTE format('COPY cs_test_received FROM %L (FORMAT binary)', f);
	EXECUTE format('SELECT %s(v), v::text FROM cs_test_received', sendfn) INTO b2, t2;
	EXECUTE format('SELECT %L::%s::text', t1, typ) INTO t3;
	IF b2 IS DISTINCT FROM b1 THEN
		problems := problems || format('send bytes differ: %s vs %s', b1, b2);
	END IF;
	IF t2 IS DISTINCT FROM t1 THEN
		problems := problems || format('text after receive differs: %s vs %s', t1, t2);
	END IF;
	IF t3 IS DISTINCT FROM t1 THEN
		problems := problems || format('text round trip differs: %s vs %s', t1, t3);
	END IF;
	FOR fn IN
		SELECT p.oid::regprocedure
		FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
		JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
		WHERE p.prokind = 'f' AND p.pronargs - p.pronargdefaults = 1 AND p.proargtypes[0] = typ
		  AND p.oid NOT IN (SELECT typoutput FROM pg_type WHERE oid = typ
		                    UNION ALL SELECT typsend FROM pg_type WHERE oid = typ)
		ORDER BY 1
	LOOP
		BEGIN
			EXECUTE format('SELECT array_agg(x::text)::text FROM %s(%L::%s) x', fn::regproc, t1, typ) INTO r1;
		EXCEPTION WHEN OTHERS THEN
			r1 := 'error ' || SQLSTATE || ': ' || SQLERRM;
		END;
		BEGIN
			EXECUTE format('SELECT array_agg(x::text)::text FROM cs_test_received, %s(v) x', fn::regproc) INTO r2;
		EXCEPTION WHEN OTHERS THEN
			r2 := 'error ' || SQLSTATE || ': ' || SQLERRM;
		END;
		IF r1 IS DISTINCT FROM r2 THEN
			problems := problems || format('%s differs: %s vs %s', fn, r1, r2);
		END IF;
		checked := checked + 1;
	END LOOP;
	DROP TABLE cs_test_received;
	IF checked = 0 THEN
		problems := problems || 'no function of the type to compare values with'::text;
	END IF;
	RETURN coalesce(nullif(array_to_string(problems, '; '), ''),
	                format('ok: %s bytes, %s functions agree', length(b1), checked));
END $$;

CREATE TABLE cs_test.send_recv_cases (typ regtype, label text, value text);

-- hand-written edge values
INSERT INTO cs_test.send_recv_cases VALUES
('nps_summary', 'empty', 'v=1 counts={0,0,0,0,0,0,0,0,0,0,0}'),
('nps_summary', 'maximum count in one score', 'v=1 counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807}'),
('nps_summary', 'maximum total over scores', 'v=1 counts={9223372036854775797,1,1,1,1,1,1,1,1,1,1}'),
('csat_summary', 'empty', 'v=1 counts={0,0,0,0,0}'),
('csat_summary', 'maximum count in one score', 'v=1 counts={9223372036854775807,0,0,0,0}'),
('csat_summary', 'maximum total over scores', 'v=1 counts={1,2,3,4,9223372036854775797}'),
('retention_summary', 'empty',
 'v=1 starting=0 churned=0 new=0 starting_mrr=0 retained_mrr=0 new_mrr=0 expansion_mrr=0 contraction_mrr=0 churned_mrr=0'),
('retention_summary', 'largest finite MRR, maximum counts',
 'v=1 starting=9223372036854775807 churned=9223372036854775806 new=9223372036854775807 starting_mrr=1.7976931348623157e308 retained_mrr=1.7976931348623157e308 new_mrr=1.7976931348623157e308 expansion_mrr=1.7976931348623157e308 contraction_mrr=8.988465674311579e307 churned_mrr=8.988465674311579e307'),
('retention_summary', 'subnormal and smallest normal MRR',
 'v=1 starting=2 churned=1 new=1 starting_mrr=2.2250738585072014e-308 retained_mrr=5e-324 new_mrr=5e-324 expansion_mrr=0 contraction_mrr=5e-324 churned_mrr=1e-308'),
('retention_summary', 'compensated sums',
 'v=1 starting=3 churned=1 new=1 starting_mrr={1e+300,1e+290} retained_mrr={6e+299,-1.5e+290} new_mrr={0.30000000000000004,-2.7755575615628914e-17} expansion_mrr=0 contraction_mrr=0 churned_mrr={4e+299,1e+290}'),
('survival_summary', 'empty', 'v=1 durations={} churned={} censored={}'),
('survival_summary', 'empty, with an age', 'v=1 at=0 durations={} churned={} censored={}'),
('survival_summary', 'extreme durations, maximum count',
 'v=1 at=1.7976931348623157e308 durations={0,5e-324,2.2250738585072014e-308,1.7976931348623157e308} churned={9223372036854775804,0,1,0} censored={0,1,0,1}'),
('survival_summary', 'maximum censored count', 'v=1 durations={12} churned={0} censored={9223372036854775807}'),
('survival_summary', 'late entry and weights, extreme values',
 'v=1 at=2 weighted=true durations={0,5e-324,2.2250738585072014e-308,1.7976931348623157e308} entered={1e+300,0,5e-324,0} churned={0,0.5,0,1e+300} censored={0,5e-324,0,0.25}'),
('competing_risks_summary', 'empty', 'v=1 reasons={} durations={} censored={} events={}'),
('competing_risks_summary', 'extreme durations, maximum count, quoted reasons',
 'v=1 reasons={"a,\"b\"","x\\y","é"} durations={0,5e-324,2.2250738585072014e-308,1.7976931348623157e308} censored={9223372036854775804,0,0,1} events={{0,1,0,0},{0,0,1,0},{0,0,0,0}}'),
('competing_risks_summary', 'late entry', 'v=1 reasons={"a"} durations={0,0.5,1} entered={2,1,0} censored={1,0,1} events={{0,1,1}}'),
('competing_risks_summary', 'late entry with pairs, extreme durations',
 'v=1 reasons={"a","b"} durations={5e-324,0.5,1,1.7976931348623157e308} entered={1,1,0,0} censored={1,0,1,0} events={{0,1,0,1},{1,0,0,0}} pairs={{5e-324,1,0,1},{0.5,1.7976931348623157e308,1,1}}'),
('logrank_state', 'empty', 'v=1 flags=0 rho=0 groups={}'),
('logrank_state', 'stratified, extreme values',
 'v=1 flags=7 rho=-1.7976931348623157e308 groups={{"","",0,{}},{"A","say \"x\"",5e-324,{0,0,5e-324,0}},{"B","x",8.988465674311579e307,{2.2250738585072014e-308,8.988465674311579e307,8.988465674311579e307,0,1.7976931348623157e308,0,8.988465674311579e307,0}}}'),
('health_summary', 'one signal, empty', 'v=1 weights={1} sums={0} counts={0}'),
('health_summary', 'extreme weights, maximum count',
 'v=1 weights={5e-324,0,8.988465674311579e307} sums={9.223372036854776e+18,0,{4.611686018427388e+18,1024}} counts={9223372036854775807,0,9223372036854775807}'),
('health_summary', 'the most signals (100)',
 'v=1 weights={' || (SELECT string_agg(i::text, ',') FROM generate_series(1, 100) i) ||
 '} sums={' || (SELECT string_agg((i / 4.0)::float8::text, ',') FROM generate_series(1, 100) i) ||
 '} counts={' || (SELECT string_agg(i::text, ',') FROM generate_series(1, 100) i) || '}'),
('bgnbd_model', 'largest finite parameters, maximum count',
 'v=1 r=1.7976931348623157e308 alpha=1.7976931348623157e308 a=1.7976931348623157e308 b=1.7976931348623157e308 log_likelihood=-1.7976931348623157e308 customers=9223372036854775807'),
('bgnbd_model', 'subnormal parameters, no customers',
 'v=1 r=5e-324 alpha=2.2250738585072014e-308 a=5e-324 b=5e-324 log_likelihood=-0 customers=0'),
('gamma_gamma_model', 'largest finite parameters, maximum count',
 'v=1 p=1.7976931348623157e308 q=1.7976931348623157e308 v=1.7976931348623157e308 log_likelihood=1.7976931348623157e308 customers=9223372036854775807'),
('gamma_gamma_model', 'subnormal parameters, no customers',
 'v=1 p=5e-324 q=5e-324 v=2.2250738585072014e-308 log_likelihood=-5e-324 customers=0'),
('churn_model', 'one signal, extreme values',
 'v=1 coefficients={-1.7976931348623157e308,5e-324} std_errors={1.7976931348623157e308,0} rows=9223372036854775807 churned=9223372036854775807 log_likelihood=-1.7976931348623157e308 iterations=2147483647'),
('churn_model', 'negative zero, no iterations',
 'v=1 coefficients={-0,0} std_errors={0,2.2250738585072014e-308} rows=0 churned=0 log_likelihood=-0 iterations=0'),
('cox_model', 'extreme values, NA signal, quoted and NULL strata',
 'v=1 ties=breslow robust=1 stratified=1 signals=2 n=9223372036854775807 events=9223372036854775807 iterations=100 loglik={-1.7976931348623157e308,1.7976931348623157e308} wald=0 score=5e-324 robust_score=1.7976931348623157e308 concordance=NULL concordance_std_error=NULL coefficients={-1.7976931348623157e308,NULL} std_errors={0,NULL} robust_std_errors={2.2250738585072014e-308,NULL} means={-1.7976931348623157e308,5e-324} ph_chisq={0,NULL,NULL} ph_df={1,NULL,NULL} strata=["a,\"b\"" {0,5e-324} {5e-324,1.7976931348623157e308}; "x\\y" {} {}; "é" {1} {1}; NULL {1.7976931348623157e308} {1e-300}]'),
('cox_model', 'one signal, Efron, no strata',
 'v=1 ties=efron robust=0 stratified=0 signals=1 n=1 events=1 iterations=0 loglik={0,0} wald=0 score=0 robust_score=NULL concordance=0.5 concordance_std_error=0 coefficients={0} std_errors={0} robust_std_errors={0} means={0} ph_chisq={0,0} ph_df={1,1} strata=[NULL {0} {1}]'),
('cox_model', 'the most signals (100)',
 'v=1 ties=efron robust=0 stratified=0 signals=100 n=1000 events=10 iterations=9 loglik={-123.5,-120.25} wald=3 score=2.5 robust_score=NULL concordance=1 concordance_std_error=NULL coefficients={' ||
 (SELECT string_agg(((-1) ^ i * i / 7.0)::float8::text, ',') FROM generate_series(1, 100) i) ||
 '} std_errors={' || (SELECT string_agg((i / 3.0)::float8::text, ',') FROM generate_series(1, 100) i) ||
 '} robust_std_errors={' || (SELECT string_agg((i / 5.0)::float8::text, ',') FROM generate_series(1, 100) i) ||
 '} means={' || (SELECT string_agg((i * 1.5)::float8::text, ',') FROM generate_series(1, 100) i) ||
 '} ph_chisq={' || (SELECT string_agg((i / 9.0)::float8::text, ',') FROM generate_series(0, 100) i) ||
 '} ph_df={' || (SELECT string_agg('1', ',') FROM generate_series(1, 100) i) || ',100} strata=[NULL {1,2} {0.5,0.75}]'),
('churn_model', 'the most signals (100)',
 'v=1 coefficients={' || (SELECT string_agg(((-1) ^ i * i / 7.0)::float8::text, ',') FROM generate_series(0, 100) i) ||
 '} std_errors={' || (SELECT string_agg((i / 3.0)::float8::text, ',') FROM generate_series(0, 100) i) ||
 '} rows=1000 churned=10 log_likelihood=-123.456 iterations=9');

-- values the aggregates and fits produce (full-precision doubles,
-- compensation terms, weights of the aggregate call)
INSERT INTO cs_test.send_recv_cases
SELECT 'nps_summary'::regtype, 'from nps_agg', nps_agg(i % 11)::text FROM generate_series(1, 1000) i
UNION ALL
SELECT 'csat_summary', 'from csat_agg', csat_agg(1 + i % 5)::text FROM generate_series(1, 997) i
UNION ALL
SELECT 'retention_summary', 'from retention_agg',
       retention_agg(CASE WHEN i % 7 = 0 THEN 0 ELSE 0.1 * i END, CASE WHEN i % 5 = 0 THEN 0 ELSE 0.1 * i * (1 + (i % 3 - 1) * 0.3) END)::text
FROM generate_series(1, 500) i
UNION ALL
SELECT 'survival_summary', 'from survival_agg', survival_agg(sqrt(i), i % 3 = 0)::text FROM generate_series(1, 300) i
UNION ALL
SELECT 'survival_summary', 'from survival_agg (ties)', survival_agg(i % 17, i % 4 = 0)::text
FROM generate_series(1, 3000) i
UNION ALL
SELECT 'survival_summary', 'from survival_agg with entry', survival_agg(1 + sqrt(i), i % 3 = 0, (i % 5) / 2.0)::text
FROM generate_series(1, 300) i
UNION ALL
SELECT 'survival_summary', 'from survival_agg with entry and weights',
       survival_agg(1 + sqrt(i), i % 3 = 0, (i % 5) / 2.0, 1.0 / i)::text
FROM generate_series(1, 300) i
UNION ALL
SELECT 'competing_risks_summary', 'from competing_risks_agg',
       competing_risks_agg(sqrt(i), (ARRAY[NULL, 'voluntary', 'payment failure', 'downgrade to free'])[1 + i % 4])::text
FROM generate_series(1, 300) i
UNION ALL
SELECT 'competing_risks_summary', 'from competing_risks_agg (late entry)',
       competing_risks_agg(3 + i % 17, (ARRAY[NULL, 'voluntary', 'payment failure'])[1 + i % 3], (i % 5) / 2.0)::text
FROM generate_series(1, 3000) i
UNION ALL
SELECT 'health_summary', 'from health_agg', health_agg(ARRAY[0.5, 0.3, 0.2], 1.0 / i, (i % 10) / 9.0, 0.1)::text
FROM generate_series(1, 400) i
UNION ALL
SELECT 'gamma_gamma_model', 'from gamma_gamma_fit', gamma_gamma_fit(1 + i % 6, 10 + (i * 37 % 101) / 3.0)::text
FROM generate_series(1, 400) i
UNION ALL
SELECT 'churn_model', 'from churn_model_fit', churn_model_fit((i * 7919) % 10 < 3 + i % 4, (i % 4)::float8, sin(i))::text
FROM generate_series(1, 600) i
UNION ALL
SELECT 'cox_model', 'from cox_fit', cox_fit(k, k + 1, (i * 7919 + k) % 10 < 2, ARRAY[(i % 4)::float8, sin(i * k), (i + k) % 2],
                                          1 + (i % 3) / 4.0, CASE WHEN i % 5 = 0 THEN NULL ELSE 'plan "' || i % 3 || '"' END,
                                          (i % 40)::text, 'efron')::text
FROM generate_series(1, 600) i, generate_series(0, i % 6) k;

-- BG/NBD on 600 simulated customers (purchase rates Gamma(1, 2), dropout
-- probabilities Uniform(0, 0.5), 40 weeks): the fitted doubles are whatever
-- the fit gives, only their round trip is printed
SELECT setseed(0.25) IS NULL AS seeded;
CREATE TEMP TABLE bgnbd_sim AS
WITH c AS (SELECT i, -ln(1 - random()) / 2.0 AS lam, random() * 0.5 AS p FROM generate_series(1, 600) i),
steps AS (SELECT i, k, sum(-ln(1 - random()) / lam) OVER (PARTITION BY i ORDER BY k) AS t, random() < p AS dropped
          FROM c, generate_series(1, 30) k),
alive AS (SELECT i, t, bool_or(dropped) OVER (PARTITION BY i ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gone
          FROM steps)
SELECT c.i, count(a.t)::float8 AS x, coalesce(max(a.t), 0) AS tx
FROM c LEFT JOIN alive a ON a.i = c.i AND a.t <= 40 AND a.gone IS NOT TRUE GROUP BY c.i;
INSERT INTO cs_test.send_recv_cases SELECT 'bgnbd_model', 'from bgnbd_fit', bgnbd_fit(x, tx, 40)::text FROM bgnbd_sim;

-- sBG: the extremes, and a fit of the Fader & Hardie 2007 "regular" cohort
INSERT INTO cs_test.send_recv_cases VALUES
('sbg_model', 'largest finite parameters, maximum count',
 'v=1 alpha=1.7976931348623157e308 beta=1.7976931348623157e308 log_likelihood=-1.7976931348623157e308 customers=9223372036854775807'),
('sbg_model', 'subnormal parameters, no customers',
 'v=1 alpha=5e-324 beta=2.2250738585072014e-308 log_likelihood=-0 customers=0');
INSERT INTO cs_test.send_recv_cases
SELECT 'sbg_model', 'from sbg_fit', sbg_fit(survival_agg(d, c))::text
FROM (VALUES (1.0, true, 369), (2, true, 163), (3, true, 86), (4, true, 56), (5, true, 37), (6, true, 27),
             (7, true, 21), (7, false, 241)) v(d, c, n), generate_series(1, n);

-- a log-rank state as the aggregates build it (the transition function
-- without a final function)
CREATE AGGREGATE cs_test.logrank_state_of(survival_summary, float8, text, text) (
	SFUNC = logrank_strata_accum, STYPE = logrank_state);
INSERT INTO cs_test.send_recv_cases
SELECT 'logrank_state', 'from logrank_strata_accum', cs_test.logrank_state_of(s, 0.5, 'plan ' || g % 3, 'region ' || g % 2)::text
FROM (SELECT g, survival_agg(sqrt(i * g), (i + g) % 3 = 0) AS s
      FROM generate_series(1, 50) i, generate_series(1, 8) g GROUP BY g) x;

-- every base type of the extension has cases here: a new summary or model
-- type must add its own (this returns the types without any)
SELECT t.oid::regtype AS type_without_cases
FROM pg_type t JOIN pg_depend d ON d.objid = t.oid AND d.classid = 'pg_type'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE t.typtype = 'b' AND t.typcategory <> 'A'
  AND (t.oid NOT IN (SELECT typ FROM cs_test.send_recv_cases WHERE label LIKE 'from %')
   OR t.oid NOT IN (SELECT typ FROM cs_test.send_recv_cases WHERE label NOT LIKE 'from %'));

SELECT typ, label, cs_test.send_recv_send(typ, value) AS round_trip
FROM cs_test.send_recv_cases ORDER BY typ::text, label;

-- the bytes themselves, for two values a person can check by hand: version
-- byte 1, then the fields in network order
SELECT nps_summary_send('v=1 counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807}');
SELECT survival_summary_send('v=1 at=0.5 durations={-0} churned={1} censored={0}');

DROP AGGREGATE cs_test.logrank_state_of(survival_summary, float8, text, text);
