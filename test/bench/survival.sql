-- Kaplan-Meier: survival_at(survival_agg(dur, churned), t) against a bare
-- count(dur) scan and the plain-SQL Kaplan-Meier a peer would write (group by
-- duration, at-risk counts by a window running sum, product of (1 - d/n) as
-- exp(sum(ln(...)))), with few (48) and with many (50,000) distinct durations.
-- Then the 1.2 forms on the same rows: survival_agg(dur, churned, entry) and
-- survival_agg(dur, churned, entry, weight) against the two-argument form
-- (target: at most 1.2x), survival_table over 50,000 distinct durations
-- (target: under 100 ms), and the HashAggregate memory of survival_agg over
-- 4 groups of 250,000 distinct durations (target: at most 50 MB).
CREATE TABLE bench_survival AS
SELECT floor(random() * 48)::float8 AS dur48,
       floor(random() * 50000)::float8 AS dur50k,
       random() < 0.3 AS churned
FROM generate_series(1, :rows);
ALTER TABLE bench_survival ADD COLUMN entry48 float8, ADD COLUMN weight float8;
UPDATE bench_survival SET dur48 = dur48 + 1, entry48 = floor(random() * (dur48 + 1)),
                          weight = 0.5 + floor(random() * 4);
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
-- the 1.2 forms: "floor" is the two-argument form on the same rows
SELECT cs_bench.compare('survival_agg(d, c, entry) vs (d, c), 48 durations',
	'SELECT survival_agg(dur48, churned, entry48) IS NULL FROM bench_survival',
	'SELECT survival_agg(dur48, churned) IS NULL FROM bench_survival', NULL, :rounds);
SELECT cs_bench.compare('survival_agg(d, c, entry, w) vs (d, c), 48 durations',
	'SELECT survival_agg(dur48, churned, entry48, weight) IS NULL FROM bench_survival',
	'SELECT survival_agg(dur48, churned) IS NULL FROM bench_survival', NULL, :rounds);
-- survival_table over a stored summary of 50,000 distinct durations (with
-- late entry and weights); "floor" reads the summary (detoast)
CREATE TABLE bench_survival_summary AS
SELECT survival_agg(dur50k + 1, churned, least(entry48, dur50k), weight) AS s FROM bench_survival;
SELECT cs_bench.compare('survival_table, 50000 durations',
	$$SELECT count(*) FROM bench_survival_summary, survival_table(s, 0.95, 'log')$$,
	'SELECT length(s::text) FROM bench_survival_summary', NULL, :rounds);

-- HashAggregate memory of survival_agg(d, c) over 4 groups x 250,000
-- distinct durations (1,000,000 rows), next to count(*) and to 4 x the
-- summary's own size (issue 13: one copy of the state per group)
SET work_mem = '1GB';
CREATE TABLE bench_survival_mem AS
SELECT i % 4 AS g, (i / 4)::float8 AS d, i % 3 = 0 AS c, (i % 7)::float8 / 8 AS e
FROM generate_series(0, 999999) i;
VACUUM ANALYZE bench_survival_mem;
CREATE FUNCTION pg_temp.hash_kb(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || q INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Peak Memory Usage')::bigint;
END $$;
DO $$
DECLARE
	ours bigint := pg_temp.hash_kb('SELECT g, survival_agg(d, c) FROM bench_survival_mem GROUP BY g');
	entry bigint := pg_temp.hash_kb('SELECT g, survival_agg(d + 1, c, e) FROM bench_survival_mem GROUP BY g');
	cnt bigint := pg_temp.hash_kb('SELECT g, count(*) FROM bench_survival_mem GROUP BY g');
	own bigint := (SELECT sum(pg_column_size(s)) / 1024 FROM
	               (SELECT survival_agg(d, c) AS s FROM bench_survival_mem GROUP BY g) x);
BEGIN
	RAISE NOTICE 'memory: survival_agg(d, c), 4 groups x 250,000 durations: HashAggregate % kB (target <= 51200), count(*) % kB, 4 summaries % kB; survival_agg(d, c, entry): % kB',
		ours, cnt, own, entry;
	IF ours > 51200 THEN
		RAISE WARNING 'survival_agg uses % kB, over the 50 MB target', ours;
	END IF;
END $$;
RESET work_mem;
DROP TABLE bench_survival, bench_survival_summary, bench_survival_mem;
