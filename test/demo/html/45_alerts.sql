-- Alerts section of the HTML report (test/demo/html/README.md): the accounts
-- the alerts recipe of docs/keeping-current.md would raise for October
-- 2026, the largest by MRR: health band fell since September (monthly
-- health from weekly usage, weights as in 40_health.sql), or green with
-- more than 90% of seats active (an expansion opportunity).  A report is
-- built once, so it aggregates the raw rows directly; the recipe keeps the
-- same monthly summaries current as usage arrives and records each alert
-- once.
-- requires: health_agg, health_scale, health_score, health_band

WITH monthly AS (
	SELECT account_id, date_trunc('month', week)::date AS month,
	       health_agg(array[0.3, 0.3, 0.2, 0.2],
	                  health_scale(active_users::float8 / seats, 0.3, 0.8),
	                  health_scale(logins::float8 / seats, 1.5, 6),
	                  health_scale(features_used, 3, 10),
	                  health_scale(open_tickets, 3, 0)) AS h,
	       round(sum(active_users)::numeric / sum(seats), 3) AS seat_activation
	FROM usage_weekly WHERE week >= date '2026-09-01' GROUP BY 1, 2
), bands AS (
	SELECT account_id, month, health_band(h) AS band, round(health_score(h)::numeric, 1) AS score, seat_activation,
	       array_position(array['red', 'yellow', 'green'], health_band(h)) AS rank
	FROM monthly
), alerts AS (
	SELECT c.account_id, 'health fell' AS alert, p.band || ' → ' || c.band AS change, c.score, c.seat_activation
	FROM bands c JOIN bands p USING (account_id)
	WHERE c.month = date '2026-10-01' AND p.month = date '2026-09-01' AND c.rank < p.rank
	UNION ALL
	SELECT account_id, 'expansion', 'green, seats ' || round(100 * seat_activation) || '% active', score, seat_activation
	FROM bands WHERE month = date '2026-10-01' AND band = 'green' AND seat_activation > 0.9
), ranked AS (
	SELECT a.*, x.name, x.plan, m.mrr,
	       row_number() OVER (PARTITION BY a.alert ORDER BY m.mrr DESC, x.name) AS n,
	       count(*) OVER (PARTITION BY a.alert) AS total
	FROM alerts a JOIN accounts x USING (account_id)
	JOIN mrr_monthly m ON m.account_id = a.account_id AND m.month = date '2026-10-01'
)
SELECT json_build_object(
	'kind', 'table',
	'id', 'alerts',
	'title', 'Accounts to call, October 2026: health fell since September, and expansion opportunities',
	'subtitle', (SELECT string_agg(DISTINCT total || ' ' || alert || ' alerts', ', ') FROM ranked)
	            || ' among paying accounts; the 8 largest of each by MRR',
	'columns', json_build_array('account', 'plan', 'alert', 'change',
		json_build_object('name', 'health', 'align', 'right'),
		json_build_object('name', 'seats active', 'align', 'right'),
		json_build_object('name', 'MRR', 'align', 'right')),
	'rows', json_agg(json_build_array(name, plan, alert, change, score, round(100 * seat_activation, 1) || '%',
	                                  to_char(mrr, 'FM999,999,990.00')) ORDER BY alert DESC, mrr DESC, name),
	'note', 'docs/keeping-current.md, "Alerts": the same rules on summary tables kept current, each alert recorded once and sent with pg_notify.')
FROM ranked WHERE n <= 8;
