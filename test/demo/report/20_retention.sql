\echo
\echo '== Revenue retention and SaaS ratios per month, last 12 months (start: last month''s MRR; end: this month''s, 0 if gone; new accounts count in ending MRR)'
-- a FULL JOIN, so that accounts new this month are in the summary too: they
-- do not change NRR, GRR or churn, but they are half of the quick ratio
WITH pairs AS (
	SELECT coalesce(c.month, (p.month + interval '1 month')::date) AS month,
	       coalesce(p.mrr, 0) AS mrr_start, coalesce(c.mrr, 0) AS mrr_end
	FROM mrr_monthly p
	FULL JOIN mrr_monthly c ON c.account_id = p.account_id AND c.month = p.month + interval '1 month'
)
SELECT to_char(month, 'YYYY-MM') AS month,
       starting_customers(r) AS customers,
       round(starting_mrr(r)::numeric, 2) AS "starting MRR",
       round(100 * nrr(r)::numeric, 2) AS "NRR %",
       round(100 * grr(r)::numeric, 2) AS "GRR %",
       round(100 * customer_churn_rate(r)::numeric, 2) AS "logo churn %",
       round(100 * revenue_churn_rate(r)::numeric, 2) AS "revenue churn %",
       round(100 * net_revenue_churn_rate(r)::numeric, 2) AS "net rev. churn %",
       round(quick_ratio(r)::numeric, 2) AS "quick ratio",
       round(100 * mrr_growth_rate(r)::numeric, 2) AS "MRR growth %",
       ending_customers(r) AS "ending customers",
       round(arpa(r)::numeric, 2) AS "ARPA",
       round(arr(r)::numeric, 0) AS "ARR",
       round(average_sale_price(r)::numeric, 2) AS "avg. sale price"
FROM (SELECT month, retention_agg(mrr_start, mrr_end) AS r
      FROM pairs
      WHERE month > date '2025-10-01' AND month <= date '2026-10-01'
      GROUP BY month) x
ORDER BY month;

\echo
\echo '== Annual NRR and GRR (October 2025 -> October 2026) by plan, and all plans by rollup()'
WITH by_plan AS (
	SELECT a.plan, retention_agg(p.mrr, coalesce(c.mrr, 0)) AS r
	FROM mrr_monthly p
	JOIN accounts a USING (account_id)
	LEFT JOIN mrr_monthly c ON c.account_id = p.account_id AND c.month = date '2026-10-01'
	WHERE p.month = date '2025-10-01'
	GROUP BY a.plan
)
SELECT plan, starting_customers(r) AS customers, round(starting_mrr(r)::numeric, 2) AS "starting MRR",
       round(100 * nrr(r)::numeric, 1) AS "NRR %", round(100 * grr(r)::numeric, 1) AS "GRR %",
       round(100 * customer_churn_rate(r)::numeric, 1) AS "logo churn %"
FROM (SELECT plan, r FROM by_plan
      UNION ALL SELECT 'all plans', rollup(r) FROM by_plan) x
ORDER BY plan = 'all plans', starting_mrr(r) DESC;

\echo
\echo '== MRR bridge, last 12 months (mrr_movement over a calendar spine; months without a row count as 0)'
WITH spine AS (
	SELECT a.account_id, m::date AS month
	FROM accounts a,
	     generate_series(date_trunc('month', a.signed_up), date '2026-10-01', interval '1 month') m
), series AS (
	SELECT s.account_id, s.month, coalesce(m.mrr, 0) AS mrr,
	       lag(coalesce(m.mrr, 0), 1, 0) OVER w AS previous_mrr,
	       coalesce(bool_or(m.mrr > 0) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS was_customer
	FROM spine s LEFT JOIN mrr_monthly m USING (account_id, month)
	WINDOW w AS (PARTITION BY s.account_id ORDER BY s.month)
), moves AS (
	SELECT month, mrr_movement(previous_mrr, mrr, was_customer) AS movement,
	       previous_mrr, mrr, mrr - previous_mrr AS delta
	FROM series
)
SELECT to_char(month, 'YYYY-MM') AS month,
       sum(previous_mrr) AS "starting MRR",
       coalesce(sum(delta) FILTER (WHERE movement = 'new'), 0) AS "+ new",
       coalesce(sum(delta) FILTER (WHERE movement = 'reactivation'), 0) AS "+ reactivation",
       coalesce(sum(delta) FILTER (WHERE movement = 'expansion'), 0) AS "+ expansion",
       coalesce(sum(delta) FILTER (WHERE movement = 'contraction'), 0) AS "- contraction",
       coalesce(sum(delta) FILTER (WHERE movement = 'churn'), 0) AS "- churn",
       sum(mrr) AS "ending MRR",
       count(*) FILTER (WHERE movement = 'new') AS "new logos",
       count(*) FILTER (WHERE movement = 'churn') AS "churned logos",
       sum(previous_mrr) + sum(delta) = sum(mrr) AS balances
FROM moves
WHERE month >= date '2025-11-01'
GROUP BY month ORDER BY month;

\echo
\echo '== Cohort NRR by signup month: MRR after 3, 6 and 12 months / MRR of the first month'
WITH cohort AS (
	SELECT a.account_id, date_trunc('month', a.signed_up)::date AS cohort, m.mrr
	FROM accounts a JOIN mrr_monthly m
	  ON m.account_id = a.account_id AND m.month = date_trunc('month', a.signed_up)
)
SELECT to_char(c.cohort, 'YYYY-MM') AS cohort, count(*) AS accounts,
       round(sum(c.mrr), 2) AS "first-month MRR",
       round(100 * nrr(c.mrr, coalesce(m3.mrr, 0))
             FILTER (WHERE c.cohort <= date '2026-07-01')::numeric, 1) AS "NRR 3m %",
       round(100 * nrr(c.mrr, coalesce(m6.mrr, 0))
             FILTER (WHERE c.cohort <= date '2026-04-01')::numeric, 1) AS "NRR 6m %",
       round(100 * nrr(c.mrr, coalesce(m12.mrr, 0))
             FILTER (WHERE c.cohort <= date '2025-10-01')::numeric, 1) AS "NRR 12m %",
       round(100 * grr(c.mrr, coalesce(m12.mrr, 0))
             FILTER (WHERE c.cohort <= date '2025-10-01')::numeric, 1) AS "GRR 12m %",
       round(100 * (1 - customer_churn_rate(c.mrr, coalesce(m12.mrr, 0))
             FILTER (WHERE c.cohort <= date '2025-10-01'))::numeric, 1) AS "logos left 12m %"
FROM cohort c
LEFT JOIN mrr_monthly m3 ON m3.account_id = c.account_id AND m3.month = c.cohort + interval '3 months'
LEFT JOIN mrr_monthly m6 ON m6.account_id = c.account_id AND m6.month = c.cohort + interval '6 months'
LEFT JOIN mrr_monthly m12 ON m12.account_id = c.account_id AND m12.month = c.cohort + interval '12 months'
GROUP BY c.cohort ORDER BY c.cohort;

\echo
\echo '== LTV by plan (gross margin 80%): ARPA in October 2026, logo churn pooled over the last 12 monthly periods'
WITH monthly AS (
	SELECT a.plan, p.month, retention_agg(p.mrr, coalesce(c.mrr, 0)) AS r
	FROM mrr_monthly p
	JOIN accounts a USING (account_id)
	LEFT JOIN mrr_monthly c ON c.account_id = p.account_id AND c.month = p.month + interval '1 month'
	WHERE p.month >= date '2025-10-01' AND p.month < date '2026-10-01'
	GROUP BY a.plan, p.month
), churn AS (
	SELECT plan, customer_churn_rate(rollup(r)) AS churn FROM monthly GROUP BY plan
), arpa AS (
	SELECT a.plan, avg(m.mrr)::float8 AS arpa
	FROM mrr_monthly m JOIN accounts a USING (account_id)
	WHERE m.month = date '2026-10-01' GROUP BY a.plan
)
SELECT plan, round(arpa::numeric, 2) AS "ARPA", round(100 * churn::numeric, 2) AS "monthly logo churn %",
       round(ltv(arpa, churn, 0.8)::numeric, 0) AS "LTV",
       round(ltv(arpa, churn, 0.8, 0.01)::numeric, 0) AS "LTV, 1%/month discount"
FROM arpa JOIN churn USING (plan)
ORDER BY arpa;
