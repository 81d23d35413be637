-- Recipe "Time to value" of docs/survival.md (checked by test/t/recipes-survival.sh).
WITH ttv AS (
	SELECT a.plan,
	       greatest(date '2026-05-04' - a.signed_up, 0) AS entry,
	       coalesce(min(u.week) FILTER (WHERE u.features_used >= 8),
	                least(a.churned_on, date '2026-10-31')) - a.signed_up AS days,
	       min(u.week) FILTER (WHERE u.features_used >= 8) IS NOT NULL AS reached,
	       bool_or(u.features_used >= 8) FILTER (WHERE u.week = date '2026-05-04') AS at_value_when_tracked
	FROM accounts a JOIN usage_weekly u USING (account_id)
	GROUP BY a.account_id, a.plan, a.signed_up, a.churned_on
), by_plan AS (
	SELECT plan, survival_agg(days, reached) AS s FROM ttv WHERE entry = 0 GROUP BY plan
	UNION ALL
	SELECT plan, survival_agg(days, reached, entry) FROM ttv
	WHERE entry > 0 AND NOT at_value_when_tracked GROUP BY plan
)
SELECT plan, survival_customers(rollup(s)) AS accounts,
       median_lifetime(rollup(s)) AS median_days_to_value,
       median_lifetime_lower(rollup(s), 0.95, 'log') AS lower_95,
       median_lifetime_upper(rollup(s), 0.95, 'log') AS upper_95,
       round(churn_rate_at(rollup(s), 30)::numeric, 3) AS reached_by_day_30
FROM by_plan GROUP BY plan ORDER BY plan;
