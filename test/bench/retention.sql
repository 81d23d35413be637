-- Revenue retention against sum(s) (the floor: one bare float8 sum over the
-- same table) and the plain-SQL sum(..) FILTER (WHERE ..) formulation.
-- One row per customer: 5% new (s = 0), 5% churned (e = 0), 20% expanding,
-- 10% contracting, the rest unchanged; cents-precision MRR.
CREATE TABLE bench_mrr AS
SELECT CASE WHEN k < 5 THEN 0 ELSE m END AS s,
       CASE WHEN k >= 5 AND k < 10 THEN 0
            WHEN k < 30 THEN round((m * 1.25)::numeric, 2)::float8
            WHEN k < 40 THEN round((m * 0.8)::numeric, 2)::float8
            ELSE m END AS e
FROM (SELECT (random() * 100)::int AS k, round((10 + random() * 5000)::numeric, 2)::float8 AS m
      FROM generate_series(1, :rows)) g;
VACUUM ANALYZE bench_mrr;

SELECT cs_bench.compare('nrr(s, e)',
	'SELECT nrr(s, e) FROM bench_mrr',
	'SELECT sum(s) FROM bench_mrr',
	'SELECT sum(e) FILTER (WHERE s > 0) / sum(s) FILTER (WHERE s > 0) FROM bench_mrr', :rounds);
SELECT cs_bench.compare('grr(retention_agg(s, e))',
	'SELECT grr(retention_agg(s, e)) FROM bench_mrr',
	'SELECT sum(s) FROM bench_mrr',
	'SELECT sum(least(s, e)) FILTER (WHERE s > 0) / sum(s) FILTER (WHERE s > 0) FROM bench_mrr', :rounds);
SELECT cs_bench.compare('all rates of one retention_agg(s, e)',
	$$SELECT nrr(r), grr(r), customer_churn_rate(r), revenue_churn_rate(r), new_mrr(r),
	         expansion_mrr(r), contraction_mrr(r)
	  FROM (SELECT retention_agg(s, e) AS r FROM bench_mrr) x$$,
	'SELECT sum(s) FROM bench_mrr',
	$$SELECT sum(e) FILTER (WHERE s > 0) / sum(s) FILTER (WHERE s > 0),
	         sum(least(s, e)) FILTER (WHERE s > 0) / sum(s) FILTER (WHERE s > 0),
	         count(*) FILTER (WHERE s > 0 AND e = 0)::float8 / count(*) FILTER (WHERE s > 0),
	         sum(s) FILTER (WHERE s > 0 AND e = 0) / sum(s) FILTER (WHERE s > 0),
	         sum(e) FILTER (WHERE s = 0),
	         sum(e - s) FILTER (WHERE s > 0 AND e > s),
	         sum(s - e) FILTER (WHERE s > 0 AND e > 0 AND e < s)
	  FROM bench_mrr$$, :rounds);
SELECT cs_bench.compare('count(*) by mrr_movement(s, e)',
	'SELECT mrr_movement(s, e), count(*) FROM bench_mrr GROUP BY 1',
	'SELECT count(*) FROM bench_mrr',
	$$SELECT CASE WHEN s = 0 THEN CASE WHEN e = 0 THEN 'inactive' ELSE 'new' END
	              WHEN e = 0 THEN 'churn' WHEN e > s THEN 'expansion'
	              WHEN e < s THEN 'contraction' ELSE 'retained' END, count(*)
	  FROM bench_mrr GROUP BY 1$$, :rounds);
DROP TABLE bench_mrr;
