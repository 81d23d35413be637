-- Kaplan-Meier: survival_at(survival_agg(dur, churned), t) against a bare
-- count(dur) scan and the plain-SQL Kaplan-Meier a peer would write (group by
-- duration, at-risk counts by a window running sum, product of (1 - d/n) as
-- exp(sum(ln(...)))), with few (48) and with many (50,000) distinct durations.
CREATE TABLE bench_survival AS
SELECT floor(random() * 48)::float8 AS dur48,
       floor(random() * 50000)::float8 AS dur50k,
       random() < 0.3 AS churned
FROM generate_series(1, :rows);
VACUUM ANALYZE bench_survival;

SELECT cs_bench.compare('survival_at(survival_agg), 48 durations',
	'SELECT survival_at(survival_agg(dur48, churned), 24) FROM bench_survival',
	'SELECT count(dur48) FROM bench_survival',
	$$SELECT exp(sum(ln(1 - d::float8 / n)))
	  FROM (SELECT dur, d, sum(d + c) OVER (ORDER BY dur DESC) AS n
	        FROM (SELECT dur48 AS dur, count(*) FILTER (WHERE churned) AS d,
	                     count(*) FILTER (WHERE NOT churned) AS c
	              FROM bench_survival WHERE dur48 IS NOT NULL AND churned IS NOT NULL
	              GROUP BY dur48) g) x
	  WHERE dur <= 24 AND d > 0$$, :rounds);
SELECT cs_bench.compare('survival_at(survival_agg), 50000 durations',
	'SELECT survival_at(survival_agg(dur50k, churned), 25000) FROM bench_survival',
	'SELECT count(dur50k) FROM bench_survival',
	$$SELECT exp(sum(ln(1 - d::float8 / n)))
	  FROM (SELECT dur, d, sum(d + c) OVER (ORDER BY dur DESC) AS n
	        FROM (SELECT dur50k AS dur, count(*) FILTER (WHERE churned) AS d,
	                     count(*) FILTER (WHERE NOT churned) AS c
	              FROM bench_survival WHERE dur50k IS NOT NULL AND churned IS NOT NULL
	              GROUP BY dur50k) g) x
	  WHERE dur <= 25000 AND d > 0$$, :rounds);
SELECT cs_bench.compare('cohort_churn, 48 durations',
	'SELECT cohort_churn(dur48, churned, 24) FROM bench_survival',
	'SELECT count(dur48) FROM bench_survival', NULL, :rounds);
DROP TABLE bench_survival;
