-- Recipe "SaaS dashboard ratios" of the README: one retention_summary per
-- month (FULL JOIN, so that new accounts are in it), every ratio read from it.
-- Runs against the demo data (test/demo/data.sql); test/t/sbg-recipes.sh.
CREATE VIEW saas_monthly AS
WITH pairs AS (
	SELECT coalesce(c.month, (p.month + interval '1 month')::date) AS month,
	       coalesce(p.mrr, 0) AS mrr_start, coalesce(c.mrr, 0) AS mrr_end
	FROM mrr_monthly p
	FULL JOIN mrr_monthly c ON c.account_id = p.account_id
	                       AND c.month = p.month + interval '1 month'
)
SELECT month, retention_agg(mrr_start, mrr_end) AS r
FROM pairs WHERE month <= date '2026-10-01'
GROUP BY month;

SELECT month,
       round(quick_ratio(r)::numeric, 2)           AS quick_ratio,
       round(100 * mrr_growth_rate(r)::numeric, 1) AS mrr_growth_pct,
       ending_customers(r)                         AS customers,
       round(arpa(r)::numeric, 2)                  AS arpa,
       round(arr(r)::numeric)                      AS arr,
       round(average_sale_price(r)::numeric, 2)    AS average_sale_price,
       round(100 * nrr(r)::numeric, 1)             AS nrr_pct
FROM saas_monthly
ORDER BY month DESC LIMIT 3;

-- the quarter: rollup() of its months gives pooled ratios (quick ratio of
-- the quarter's gains over its losses), and the aggregate forms in one pass
SELECT date_trunc('quarter', month)::date AS quarter, round(quick_ratio(rollup(r))::numeric, 2) AS quick_ratio
FROM saas_monthly WHERE month >= date '2026-01-01' GROUP BY 1 ORDER BY 1;
SELECT quick_ratio(p.mrr, coalesce(c.mrr, 0)) AS quick_ratio_churn_and_expansion_only,
       mrr_growth_rate(p.mrr, coalesce(c.mrr, 0)) AS growth_of_september_accounts
FROM mrr_monthly p
LEFT JOIN mrr_monthly c ON c.account_id = p.account_id AND c.month = date '2026-10-01'
WHERE p.month = date '2026-09-01';
