-- Health score against the plain-SQL weighted average and a bare sum(a), with
-- signal columns (the fixed-arity overload) and with an explicit VARIADIC array;
-- auc against a plain-SQL rank-based AUC (mid-ranks from window functions)
CREATE TABLE bench_health AS
SELECT random() AS a, random() AS b, CASE WHEN random() < 0.9 THEN random() END AS c,
       random() < 0.3 AS churned
FROM generate_series(1, :rows);
VACUUM ANALYZE bench_health;

SELECT cs_bench.compare('health_score(array[...], a, b, c)',
	'SELECT health_score(array[0.5, 0.3, 0.2], a, b, c) FROM bench_health',
	'SELECT sum(a) FROM bench_health',
	'SELECT 100 * (0.5 * avg(a) + 0.3 * avg(b) + 0.2 * avg(c)) FROM bench_health', :rounds);
SELECT cs_bench.compare('health_score(.., VARIADIC array[a, b, c])',
	'SELECT health_score(array[0.5, 0.3, 0.2], VARIADIC array[a, b, c]) FROM bench_health',
	'SELECT sum(a) FROM bench_health',
	'SELECT 100 * (0.5 * avg(a) + 0.3 * avg(b) + 0.2 * avg(c)) FROM bench_health', :rounds);
SELECT cs_bench.compare('auc(score, outcome)',
	'SELECT auc(a, churned) FROM bench_health',
	'SELECT sum(a) FROM bench_health',
	$$SELECT (sum(r) FILTER (WHERE churned) - n1 * (n1 + 1) / 2.0) / (n1 * (n - n1))
	  FROM (SELECT churned, rank() OVER (ORDER BY a) + (count(*) OVER (PARTITION BY a) - 1) / 2.0 AS r,
	               count(*) FILTER (WHERE churned) OVER () AS n1, count(*) OVER () AS n
	        FROM bench_health) x
	  GROUP BY n1, n$$, :rounds);
DROP TABLE bench_health;
