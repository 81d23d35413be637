\echo
\echo '== Cohort retention (Kaplan-Meier, % of each signup cohort still paying after N months; blank = not yet observed)'
-- duration = paying months, from the signup month to the first month without
-- revenue, or to the end of observation (2026-10-31) for accounts still paying
WITH customers AS (
	SELECT date_trunc('month', signed_up)::date AS cohort,
	       (SELECT extract(year FROM a) * 12 + extract(month FROM a)
	        FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) a) AS months,
	       churned_on IS NOT NULL AS churned
	FROM accounts
), cohorts AS (
	SELECT cohort, survival_agg(months, churned) AS s,
	       (SELECT extract(year FROM a) * 12 + extract(month FROM a)
	        FROM age(date '2026-11-01', cohort) a) AS observed
	FROM customers GROUP BY cohort
), cells AS (
	SELECT cohort, survival_customers(s) AS accounts, age,
	       CASE WHEN age <= observed THEN round(100 * survival_at(s, age))::int END AS pct
	FROM cohorts, generate_series(0, 12) age
)
SELECT to_char(cohort, 'YYYY-MM') AS cohort, max(accounts) AS accounts,
       max(pct) FILTER (WHERE age = 0) AS "M0", max(pct) FILTER (WHERE age = 1) AS "M1",
       max(pct) FILTER (WHERE age = 2) AS "M2", max(pct) FILTER (WHERE age = 3) AS "M3",
       max(pct) FILTER (WHERE age = 4) AS "M4", max(pct) FILTER (WHERE age = 5) AS "M5",
       max(pct) FILTER (WHERE age = 6) AS "M6", max(pct) FILTER (WHERE age = 7) AS "M7",
       max(pct) FILTER (WHERE age = 8) AS "M8", max(pct) FILTER (WHERE age = 9) AS "M9",
       max(pct) FILTER (WHERE age = 10) AS "M10", max(pct) FILTER (WHERE age = 11) AS "M11",
       max(pct) FILTER (WHERE age = 12) AS "M12"
FROM cells GROUP BY cohort ORDER BY cohort;

\echo
\echo '== Lifetime by plan (Kaplan-Meier over all cohorts; 12-month retention with its 95% interval; LTV at 80% margin over 24 months (the longest follow-up))'
WITH customers AS (
	SELECT a.plan, (SELECT extract(year FROM x) * 12 + extract(month FROM x)
	                FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) x) AS months,
	       churned_on IS NOT NULL AS churned
	FROM accounts a
), by_plan AS (
	SELECT plan, survival_agg(months, churned) AS s FROM customers GROUP BY plan
), arpa AS (
	SELECT a.plan, avg(m.mrr)::float8 AS arpa FROM mrr_monthly m JOIN accounts a USING (account_id) GROUP BY a.plan
)
SELECT plan, survival_customers(s) AS accounts, survival_churned(s) AS churned,
       round(100 * c.survival::numeric, 1) AS "retained 12m %",
       round(100 * c.lower::numeric, 1) || ' – ' || round(100 * c.upper::numeric, 1) AS "95% CI",
       coalesce(median_lifetime(s)::text,
                '> ' || (SELECT max(duration) FROM survival_curve(s))) AS "median months",
       round(mean_lifetime(s, 24)::numeric, 1) AS "mean months (24m)",
       round(ltv(s, arpa, 0.8, 24)::numeric) AS "LTV 24m"
FROM by_plan JOIN arpa USING (plan)
CROSS JOIN LATERAL (SELECT * FROM survival_curve(s) WHERE duration <= 12 ORDER BY duration DESC LIMIT 1) c
ORDER BY "LTV 24m";

\echo
\echo '== Time to value: days from signup to the first week using 8+ of 12 features (accounts signed up since usage tracking began, 2026-05-04)'
WITH ttv AS (
	SELECT a.plan,
	       coalesce(min(u.week) FILTER (WHERE u.features_used >= 8),
	                least(a.churned_on, date '2026-10-31')) - a.signed_up AS days,
	       min(u.week) FILTER (WHERE u.features_used >= 8) IS NOT NULL AS reached
	FROM accounts a LEFT JOIN usage_weekly u USING (account_id)
	WHERE a.signed_up >= date '2026-05-04'
	GROUP BY a.account_id, a.plan, a.signed_up, a.churned_on
)
SELECT plan, count(*) AS accounts, count(*) FILTER (WHERE reached) AS reached,
       median_lifetime(survival_agg(days, reached)) AS "median days",
       round(100 * churn_rate_at(survival_agg(days, reached), 30)::numeric, 1) AS "reached by day 30 %",
       round(100 * churn_rate_at(survival_agg(days, reached), 90)::numeric, 1) AS "reached by day 90 %"
FROM ttv GROUP BY plan ORDER BY plan;
