\echo
\echo '== Is the difference between plans real? (log-rank test over one survival summary per plan)'
WITH lifetimes AS (
	SELECT plan, (SELECT extract(year FROM a) * 12 + extract(month FROM a)
	              FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) a) AS months,
	       churned_on IS NOT NULL AS churned
	FROM accounts
), by_plan AS (
	SELECT plan, survival_agg(months, churned) AS s FROM lifetimes GROUP BY plan
)
SELECT count(*) AS plans, round(logrank_chisq(s)::numeric, 1) AS chisq,
       logrank_p_value(s) AS p_value, logrank_p_value(s, 1) AS p_value_peto
FROM by_plan;

\echo
\echo '== Why do they leave? (% churned by each reason by months since signup; Aalen-Johansen, competing risks)'
WITH lifetimes AS (
	SELECT a.plan, (SELECT extract(year FROM x) * 12 + extract(month FROM x)
	                FROM age(coalesce(a.churned_on, date '2026-11-01'), date_trunc('month', a.signed_up)) x) AS months,
	       c.reason
	FROM accounts a LEFT JOIN cancellations c USING (account_id)
), s AS (
	SELECT competing_risks_agg(months, reason) AS s FROM lifetimes
)
SELECT m AS months, round(100 * cumulative_incidence_at(s, 'payment failure', m)::numeric, 1) AS payment_failure,
       round(100 * cumulative_incidence_at(s, 'downgrade to free', m)::numeric, 1) AS downgrade_to_free,
       round(100 * cumulative_incidence_at(s, 'voluntary', m)::numeric, 1) AS voluntary,
       round(100 * survival_at(s, m)::numeric, 1) AS still_paying
FROM s, unnest(ARRAY[3, 6, 12, 18, 24]) m ORDER BY m;
