-- The SaaS ratio aggregates (1.2) against nrr(s, e) on the same rows (the
-- "plain" column here: they share its transition function, so they should
-- cost the same) and sum(s) as the floor.  Data as test/bench/retention.sql.
CREATE TABLE bench_ratios AS
SELECT CASE WHEN k < 5 THEN 0 ELSE m END AS s,
       CASE WHEN k >= 5 AND k < 10 THEN 0
            WHEN k < 30 THEN round((m * 1.25)::numeric, 2)::float8
            WHEN k < 40 THEN round((m * 0.8)::numeric, 2)::float8
            ELSE m END AS e
FROM (SELECT (random() * 100)::int AS k, round((10 + random() * 5000)::numeric, 2)::float8 AS m
      FROM generate_series(1, :rows)) g;
VACUUM ANALYZE bench_ratios;

SELECT cs_bench.compare('quick_ratio(s, e) (plain = nrr(s, e))',
	'SELECT quick_ratio(s, e) FROM bench_ratios',
	'SELECT sum(s) FROM bench_ratios',
	'SELECT nrr(s, e) FROM bench_ratios', :rounds);
SELECT cs_bench.compare('mrr_growth_rate(s, e) (plain = nrr(s, e))',
	'SELECT mrr_growth_rate(s, e) FROM bench_ratios',
	'SELECT sum(s) FROM bench_ratios',
	'SELECT nrr(s, e) FROM bench_ratios', :rounds);
SELECT cs_bench.compare('all six ratios of one retention_agg(s, e) (plain = nrr(s, e))',
	$$SELECT ending_customers(r), quick_ratio(r), mrr_growth_rate(r), arpa(r), arr(r), average_sale_price(r)
	  FROM (SELECT retention_agg(s, e) AS r FROM bench_ratios) x$$,
	'SELECT sum(s) FROM bench_ratios',
	'SELECT nrr(s, e) FROM bench_ratios', :rounds);
DROP TABLE bench_ratios;
