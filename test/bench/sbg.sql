-- sbg_fit on a stored survival_summary of 1,000,000 customers over 60
-- monthly periods (whatever :rows is: the fit reads one count pair per
-- period, so its time does not grow with the customers; the target is
-- 50 ms per fit).  Heterogeneous
-- churn probabilities (0.02 to 0.32), staggered observation windows of 1 to
-- 60 periods.  Floor: reading the same summary (survival_at at 30).
CREATE TABLE bench_sbg AS
SELECT survival_agg(least(d, w)::float8, d <= w) AS s
FROM (SELECT ceil(ln(1 - random()) / ln(1 - (0.02 + 0.3 * random() ^ 2)))::int AS d,
             1 + floor(random() * 60)::int AS w
      FROM generate_series(1, 1000000)) g;
-- 1000 fits per run, so that the time is measurable: ms per run = us per fit
SELECT cs_bench.compare('1000 x sbg_fit(summary of 1M customers, 60 periods)',
	'SELECT count(sbg_fit(s)) FROM bench_sbg, generate_series(1, 1000)',
	'SELECT count(survival_at(s, 30)) FROM bench_sbg, generate_series(1, 1000)', NULL, :rounds);
DROP TABLE bench_sbg;
