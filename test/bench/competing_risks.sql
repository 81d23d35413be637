-- Competing risks: competing_risks_agg(duration, reason) against
-- survival_agg(duration, churned) on the same rows (48 distinct durations, 3
-- reasons, 30% censored: the target is at most 1.3x; its "plain" column
-- here is survival_agg, not plain SQL), against a bare scan, and the
-- plain-SQL cumulative incidence a peer would write (group by duration and
-- reason, at-risk counts by a window sum, S(t-) by exp(sum(ln))).  Also the
-- log-rank test over the per-plan summaries of the same rows.  Late entry:
-- competing_risks_agg(duration, reason, entry) with 30% of the customers
-- entering late at a whole age (up to 48 x 47 / 2 x 4 distinct pairs)
-- against the two-argument form ("plain" column).
CREATE TABLE bench_cr AS
SELECT dur48, reason, churned, plan,
       CASE WHEN random() < 0.3 THEN floor(random() * dur48) ELSE 0 END AS entry
FROM (SELECT 1 + floor(random() * 48)::float8 AS dur48,
             CASE WHEN r < 0.3 THEN NULL WHEN r < 0.55 THEN 'payment failure'
                  WHEN r < 0.75 THEN 'downgrade to free' ELSE 'voluntary' END AS reason,
             r >= 0.3 AS churned, (floor(random() * 4))::int AS plan
      FROM (SELECT random() AS r FROM generate_series(1, :rows)) g) x;
VACUUM ANALYZE bench_cr;

SELECT cs_bench.compare('competing_risks_agg vs survival_agg, 48 durations, 3 reasons',
	'SELECT cumulative_incidence_at(competing_risks_agg(dur48, reason), ''voluntary'', 24) FROM bench_cr',
	'SELECT count(dur48), count(reason) FROM bench_cr',
	'SELECT survival_at(survival_agg(dur48, churned), 24) FROM bench_cr', :rounds);
SELECT cs_bench.compare('cumulative_incidence_at(competing_risks_agg), vs plain SQL',
	'SELECT cumulative_incidence_at(competing_risks_agg(dur48, reason), ''voluntary'', 24) FROM bench_cr',
	'SELECT count(dur48), count(reason) FROM bench_cr',
	$$SELECT sum(s_before * d_k / n)
	  FROM (SELECT dur, d_k, n,
	               coalesce(exp(sum(ln(1 - d::float8 / n)) OVER (ORDER BY dur ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)), 1) AS s_before
	        FROM (SELECT dur, d, d_k, sum(d + c) OVER (ORDER BY dur DESC) AS n
	              FROM (SELECT dur48 AS dur, count(reason) AS d, count(*) FILTER (WHERE reason = 'voluntary') AS d_k,
	                           count(*) FILTER (WHERE reason IS NULL) AS c
	                    FROM bench_cr WHERE dur48 IS NOT NULL GROUP BY dur48) g) x) y
	  WHERE dur <= 24$$, :rounds);
SELECT cs_bench.compare('competing_risks_agg with late entry vs without, 30% late',
	'SELECT cumulative_incidence_at(competing_risks_agg(dur48, reason, entry), ''voluntary'', 24) FROM bench_cr',
	'SELECT count(dur48), count(reason), count(entry) FROM bench_cr',
	'SELECT cumulative_incidence_at(competing_risks_agg(dur48, reason), ''voluntary'', 24) FROM bench_cr', :rounds);
SELECT cs_bench.compare('logrank_p_value over 4 plans (survival_agg per plan)',
	'SELECT logrank_p_value(s) FROM (SELECT plan, survival_agg(dur48, churned) AS s FROM bench_cr GROUP BY plan) g',
	'SELECT count(dur48), count(plan) FROM bench_cr', NULL, :rounds);
DROP TABLE bench_cr;
