-- Memory per group: the peak memory of a HashAggregate (EXPLAIN ANALYZE,
-- serial, work_mem large enough not to spill) computing each aggregate over
-- 1,000,000 rows in 200,000 groups, next to count(*)'s over the same groups
-- and to the size of the summaries themselves.  A streaming aggregate should
-- cost count(*)'s memory plus one allocated summary per group: one copy of
-- each state alive.  Fixed size, whatever BENCH_ROWS is.  competing_risks_agg:
-- 5 customers per group, 3 reasons, late entry from age 0 to 4.  survival_agg: 4
-- groups of 250,000 distinct durations.  The fits keep an internal state, so
-- their rows use an aggregate whose final function is the serialize
-- function (the state's own size, without the fit per group).
CREATE TABLE bench_mem AS
SELECT i % 200000 AS g, (i * 7 % 11)::int AS score, 1 + (i * 3 % 5)::int AS csat_score,
       (i % 13)::float8 * 10 AS mrr_start, (i % 9)::float8 * 12 AS mrr_end,
       (i % 10) / 10.0::float8 AS signal,
       (i % 5)::float8 AS frequency, (i % 5)::float8 * 3 AS recency, 20::float8 AS t,
       10 + (i % 7)::float8 AS spend, i % 3 = 0 AS churned,
       CASE i % 4 WHEN 1 THEN 'voluntary' WHEN 2 THEN 'payment failure'
                  WHEN 3 THEN 'downgrade to free' END AS reason
FROM generate_series(1, 1000000) i;
CREATE TABLE bench_mem_survival AS
SELECT i % 4 AS g, (i / 4)::float8 AS duration, i % 3 = 0 AS churned
FROM generate_series(0, 999999) i;
VACUUM ANALYZE bench_mem;
VACUUM ANALYZE bench_mem_survival;
CREATE TABLE bench_mem_nps AS SELECT g, nps_agg(score) AS s FROM bench_mem GROUP BY g, score;
VACUUM ANALYZE bench_mem_nps;

CREATE AGGREGATE cs_bench.bgnbd_state(float8, float8, float8) (
	SFUNC = bgnbd_fit_accum, STYPE = internal, FINALFUNC = bgnbd_fit_serialize);
CREATE AGGREGATE cs_bench.gamma_gamma_state(float8, float8) (
	SFUNC = gamma_gamma_fit_accum, STYPE = internal, FINALFUNC = gamma_gamma_fit_serialize);
CREATE AGGREGATE cs_bench.churn_model_state(boolean, VARIADIC float8[]) (
	SFUNC = churn_fit_accum, STYPE = internal, FINALFUNC = churn_fit_serialize);
CREATE AGGREGATE cs_bench.auc_state(float8, boolean) (
	SFUNC = auc_accum, STYPE = internal, FINALFUNC = auc_serialize);

CREATE FUNCTION cs_bench.mem_row(name text, agg text, tab text DEFAULT 'bench_mem',
                                 size text DEFAULT 'pg_column_size') RETURNS void
LANGUAGE sql AS $$
	SELECT cs_bench.memory(name,
		format('SELECT g, %s FROM %s GROUP BY g', agg, tab),
		format('SELECT g, count(*) FROM %s GROUP BY g', tab),
		format('SELECT sum(%s(s)) FROM (SELECT %s AS s FROM %s GROUP BY g) x', size, agg, tab));
$$;

SELECT cs_bench.mem_row('nps_agg(score)', 'nps_agg(score)');
SELECT cs_bench.mem_row('csat_agg(score)', 'csat_agg(csat_score)');
SELECT cs_bench.mem_row('rollup(nps_summary), 5.5 summaries per group', 'rollup(s)', 'bench_mem_nps');
SELECT cs_bench.mem_row('retention_agg(s, e)', 'retention_agg(mrr_start, mrr_end)');
SELECT cs_bench.mem_row('health_agg(weights, one signal)', 'health_agg(array[1.0], signal)');
SELECT cs_bench.mem_row('health_agg(weights, three signals)', 'health_agg(array[0.5, 0.3, 0.2], signal, signal, signal)');
SELECT cs_bench.mem_row('survival_agg(d, c), 4 x 250,000 durations', 'survival_agg(duration, churned)', 'bench_mem_survival');
SELECT cs_bench.mem_row('competing_risks_agg(d, reason), 3 reasons', 'competing_risks_agg(recency, reason)');
SELECT cs_bench.mem_row('competing_risks_agg(d, reason, entry), 3 reasons', 'competing_risks_agg(recency + 1, reason, frequency)');
SELECT cs_bench.mem_row('bgnbd_fit state', 'cs_bench.bgnbd_state(frequency, recency, t)', size => 'octet_length');
SELECT cs_bench.mem_row('gamma_gamma_fit state', 'cs_bench.gamma_gamma_state(frequency + 1, spend)', size => 'octet_length');
SELECT cs_bench.mem_row('churn_model_fit state, 2 signals', 'cs_bench.churn_model_state(churned, signal, spend)', size => 'octet_length');
SELECT cs_bench.mem_row('auc state', 'cs_bench.auc_state(signal, churned)', size => 'octet_length');

DROP TABLE bench_mem, bench_mem_survival, bench_mem_nps;
