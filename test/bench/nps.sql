-- NPS and CSAT against count(score) and the plain-SQL formulation
CREATE TABLE bench_scores AS
SELECT (random() * 10)::int AS score, 1 + (random() * 4)::int AS csat_score
FROM generate_series(1, :rows);
VACUUM ANALYZE bench_scores;

SELECT cs_bench.compare('nps(score)',
	'SELECT nps(score) FROM bench_scores',
	'SELECT count(score) FROM bench_scores',
	$$SELECT 100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6))
	         / count(score) FROM bench_scores$$, :rounds);
SELECT cs_bench.compare('nps(nps_agg(score)) + margin',
	'SELECT nps(s), nps_margin_of_error(s) FROM (SELECT nps_agg(score) AS s FROM bench_scores) x',
	'SELECT count(score) FROM bench_scores',
	$$SELECT 100.0 * (p - d) / n, 196 * sqrt(((p + d)::float8 / n - ((p - d)::float8 / n)^2) / n)
	  FROM (SELECT count(*) FILTER (WHERE score >= 9) AS p, count(*) FILTER (WHERE score <= 6) AS d,
	               count(score) AS n FROM bench_scores) x$$, :rounds);
SELECT cs_bench.compare('csat(score)',
	'SELECT csat(csat_score) FROM bench_scores',
	'SELECT count(csat_score) FROM bench_scores',
	'SELECT avg((csat_score >= 4)::int) FROM bench_scores', :rounds);
DROP TABLE bench_scores;
