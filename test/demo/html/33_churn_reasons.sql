-- Churn by reason in the HTML report (test/demo/html/README.md): the
-- Aalen-Johansen cumulative incidence of each cancellation reason, stacked,
-- by months since signup (competing risks: an account that left for one
-- reason can no longer leave for another).  The log-rank p-value across
-- plans is printed under the survival curves (30_survival.sql).
-- requires: competing_risks_agg, cumulative_incidence_at, survival_at

WITH l AS (
	SELECT (SELECT extract(year FROM x) * 12 + extract(month FROM x)
	        FROM age(coalesce(a.churned_on, date '2026-11-01'), date_trunc('month', a.signed_up)) x) AS months,
	       c.reason
	FROM accounts a LEFT JOIN cancellations c USING (account_id)
), s AS (
	SELECT competing_risks_agg(months, reason) AS s FROM l
), r AS (
	SELECT reason, ord FROM unnest(ARRAY['payment failure', 'downgrade to free', 'voluntary']) WITH ORDINALITY u(reason, ord)
)
SELECT json_build_object(
	'kind', 'line',
	'id', 'churn-by-reason',
	'title', 'Why accounts leave: share churned by each reason, by months since signup',
	'subtitle', 'cumulative_incidence_at() per reason, stacked (Aalen-Johansen, competing risks); the top edge is 1 - survival',
	'x_label', 'months since signup',
	'y_label', '% churned',
	'step', true,
	'stack', true,
	'y_min', 0,
	'x', (SELECT json_agg(k ORDER BY k) FROM generate_series(0, 24) k),
	'series', (SELECT json_agg(json_build_object(
		'name', r.reason,
		'values', (SELECT json_agg(round(100 * cumulative_incidence_at(s.s, r.reason, k)::numeric, 1) ORDER BY k)
		           FROM generate_series(0, 24) k)) ORDER BY r.ord) FROM r),
	'note', 'At 24 months: ' || (SELECT string_agg(r.reason || ' ' || round(100 * cumulative_incidence_at(s.s, r.reason, 24)::numeric, 1) || '%', ', ' ORDER BY r.ord) FROM r)
	        || '; still paying ' || round(100 * survival_at(s.s, 24)::numeric, 1) || '%.')
FROM s;
