-- Survival sections of the HTML report (test/demo/html/README.md): cohort
-- retention heatmap and survival curves by plan with confidence bands (R's
-- default: the log band of survival_table(s, 0.95, 'log')).
-- Duration = paying months, from the signup month to the first month without
-- revenue, or to the end of observation for accounts still paying.
-- requires: survival_agg, survival_at, survival_table

CREATE TEMP VIEW report_lifetimes AS
SELECT a.plan, date_trunc('quarter', a.signed_up)::date AS cohort,
       (SELECT extract(year FROM x) * 12 + extract(month FROM x)
        FROM age(coalesce(a.churned_on, date '2026-11-01'), date_trunc('month', a.signed_up)) x) AS months,
       a.churned_on IS NOT NULL AS churned
FROM accounts a;

-- cohort heatmap: % of each signup quarter still paying after k months
-- (Kaplan-Meier, so accounts that signed up late in the quarter count as
-- long as they are observed); ages beyond the cohort's longest observation
-- are left empty
WITH c AS (
	SELECT cohort, survival_agg(months, churned) AS s, max(months) AS observed, count(*) AS accounts
	FROM report_lifetimes GROUP BY cohort
)
SELECT json_build_object(
	'kind', 'heatmap',
	'id', 'cohort-retention',
	'title', 'Cohort retention: % of each signup quarter still paying after k months',
	'subtitle', 'Kaplan-Meier survival_at() per signup quarter; empty cells are not observed yet',
	'row_header', 'Signup quarter',
	'min', 50, 'max', 100,
	'columns', (SELECT json_agg('M' || k ORDER BY k) FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24]) k),
	'rows', json_agg(to_char(cohort, 'YYYY "Q"Q') || ' (' || accounts || ')' ORDER BY cohort),
	'values', json_agg((SELECT json_agg(CASE WHEN k <= observed THEN round(100 * survival_at(s, k))::int END ORDER BY k)
	                    FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24]) k) ORDER BY cohort))
FROM c;

-- survival curves by plan, monthly, with the 95% Greenwood band on the log
-- scale, as R's survfit draws it by default
WITH p AS (
	SELECT plan, survival_agg(months, churned) AS s FROM report_lifetimes GROUP BY plan
), g AS (
	SELECT p.plan, k, coalesce(c.survival, 1) AS sv, coalesce(c.lower, 1) AS lo, coalesce(c.upper, 1) AS hi
	FROM p CROSS JOIN generate_series(0, 24) k
	LEFT JOIN LATERAL (SELECT * FROM survival_table(p.s, 0.95, 'log') WHERE duration <= k
	                   ORDER BY duration DESC LIMIT 1) c ON true
)
SELECT json_build_object(
	'kind', 'line',
	'id', 'survival-by-plan',
	'title', 'Share of accounts still paying, by months since signup',
	'subtitle', 'Kaplan-Meier survival_table() per plan with its 95% band: Greenwood, log scale (R''s default conf.type = "log")',
	'x_label', 'months since signup',
	'y_label', '% still paying',
	'step', true,
	'y_max', 100,
	'x', (SELECT json_agg(k ORDER BY k) FROM generate_series(0, 24) k),
	'series', json_agg(json_build_object(
		'name', pl.plan,
		'values', (SELECT json_agg(round(100 * sv::numeric, 1) ORDER BY k) FROM g WHERE g.plan = pl.plan),
		'lower', (SELECT json_agg(round(100 * lo::numeric, 1) ORDER BY k) FROM g WHERE g.plan = pl.plan),
		'upper', (SELECT json_agg(round(100 * hi::numeric, 1) ORDER BY k) FROM g WHERE g.plan = pl.plan),
		'band_name', pl.plan || ' 95%') ORDER BY pl.list_mrr))
FROM plans pl;
