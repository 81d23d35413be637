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
-- a rolling window (30 rows): ours slides (inverse transition, since 1.1);
-- plain SQL slides too (count has an inverse); "recount" is nps() without
-- its moving-aggregate support, as in 1.0, which recounts every frame
SELECT cs_bench.compare('nps(score) over a 30-row sliding frame',
	'SELECT sum(n) FROM (SELECT nps(score) OVER w AS n FROM bench_scores WINDOW w AS (ROWS 29 PRECEDING)) x',
	'SELECT sum(n) FROM (SELECT count(score) OVER w AS n FROM bench_scores WINDOW w AS (ROWS 29 PRECEDING)) x',
	$$SELECT sum(n) FROM (SELECT 100.0 * (count(*) FILTER (WHERE score >= 9) OVER w
	                                      - count(*) FILTER (WHERE score <= 6) OVER w) / count(score) OVER w AS n
	                      FROM bench_scores WINDOW w AS (ROWS 29 PRECEDING)) x$$, :rounds);
CREATE AGGREGATE cs_bench.nps_recount(integer) (SFUNC = nps_accum, STYPE = nps_summary, FINALFUNC = nps);
SELECT cs_bench.compare('nps(score) sliding vs recounting (plain = 1.0 recount)',
	'SELECT sum(n) FROM (SELECT nps(score) OVER w AS n FROM bench_scores WINDOW w AS (ROWS 29 PRECEDING)) x',
	'SELECT sum(n) FROM (SELECT count(score) OVER w AS n FROM bench_scores WINDOW w AS (ROWS 29 PRECEDING)) x',
	'SELECT sum(n) FROM (SELECT cs_bench.nps_recount(score) OVER w AS n FROM bench_scores WINDOW w AS (ROWS 29 PRECEDING)) x',
	:rounds);
DROP TABLE bench_scores;
