-- Revenue retention sections of the HTML report (test/demo/html/README.md):
-- the MRR bridge of the last month and NRR/GRR by month.
-- requires: retention_agg, mrr_movement, nrr, grr

-- MRR bridge, September -> October 2026: each account classified by
-- mrr_movement() over a calendar spine (a month without a row counts as 0)
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
	SELECT mrr_movement(previous_mrr, mrr, was_customer) AS movement, previous_mrr, mrr, mrr - previous_mrr AS delta
	FROM series WHERE month = date '2026-10-01'
)
SELECT json_build_object(
	'kind', 'waterfall',
	'id', 'mrr-bridge',
	'title', 'MRR bridge, September to October 2026',
	'subtitle', 'Each account''s move classified by mrr_movement()',
	'y_label', 'MRR',
	'zero', false,
	'thousands', true,
	'steps', json_build_array(
		json_build_object('label', 'September MRR', 'value', round(sum(previous_mrr)), 'total', true),
		json_build_object('label', 'New', 'value', round(coalesce(sum(delta) FILTER (WHERE movement = 'new'), 0))),
		json_build_object('label', 'Reactivation', 'value', round(coalesce(sum(delta) FILTER (WHERE movement = 'reactivation'), 0))),
		json_build_object('label', 'Expansion', 'value', round(coalesce(sum(delta) FILTER (WHERE movement = 'expansion'), 0))),
		json_build_object('label', 'Contraction', 'value', round(coalesce(sum(delta) FILTER (WHERE movement = 'contraction'), 0))),
		json_build_object('label', 'Churn', 'value', round(coalesce(sum(delta) FILTER (WHERE movement = 'churn'), 0))),
		json_build_object('label', 'October MRR', 'value', round(sum(mrr)), 'total', true)),
	'note', format('%s new and %s churned accounts; amounts rounded to whole units.',
	               count(*) FILTER (WHERE movement = 'new'), count(*) FILTER (WHERE movement = 'churn')))
FROM moves;

-- NRR and GRR month by month: start = last month's MRR, end = this month's
SELECT json_build_object(
	'kind', 'line',
	'id', 'nrr-grr',
	'title', 'Net and gross revenue retention by month',
	'subtitle', 'retention_agg over each account''s MRR in the previous and the current month; NRR counts expansion, GRR does not',
	'y_label', '% of starting MRR',
	'labels', true,
	'x', json_agg(to_char(month, 'YYYY-MM') ORDER BY month),
	'series', json_build_array(
		json_build_object('name', 'NRR %', 'values', json_agg(round(100 * nrr(r)::numeric, 1) ORDER BY month)),
		json_build_object('name', 'GRR %', 'values', json_agg(round(100 * grr(r)::numeric, 1) ORDER BY month))))
FROM (SELECT (p.month + interval '1 month')::date AS month, retention_agg(p.mrr, coalesce(c.mrr, 0)) AS r
      FROM mrr_monthly p
      LEFT JOIN mrr_monthly c ON c.account_id = p.account_id AND c.month = p.month + interval '1 month'
      WHERE p.month >= date '2025-10-01' AND p.month < date '2026-10-01'
      GROUP BY p.month) x;
