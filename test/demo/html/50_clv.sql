-- Predictive CLV section of the HTML report (test/demo/html/README.md): the
-- accounts with the highest predicted 12-month add-on CLV, from BG/NBD and
-- Gamma-Gamma fitted on the demo's purchases (weeks; months of 4.345 weeks).
-- requires: bgnbd_fit, gamma_gamma_fit, clv, bgnbd_p_alive

WITH days AS (
	SELECT account_id, purchased_on, sum(amount) AS amount FROM purchases GROUP BY 1, 2
), firsts AS (
	SELECT account_id, min(purchased_on) AS first_day FROM days GROUP BY 1
), rfm AS (
	SELECT account_id, count(*) - 1 AS frequency,
	       (max(purchased_on) - first_day) / 7.0 AS recency,
	       (date '2026-10-31' - first_day) / 7.0 AS t,
	       coalesce(avg(amount) FILTER (WHERE purchased_on > first_day), 0) AS monetary_value
	FROM days JOIN firsts USING (account_id) GROUP BY account_id, first_day
), m AS (
	SELECT (SELECT bgnbd_fit(frequency, recency, t) FROM rfm) AS bg,
	       (SELECT gamma_gamma_fit(frequency, monetary_value) FROM rfm) AS gg
), top AS (
	SELECT a.name, a.plan, r.frequency,
	       bgnbd_p_alive(m.bg, r.frequency, r.recency, r.t) AS p_alive,
	       clv(m.bg, m.gg, r.frequency, r.recency, r.t, r.monetary_value, 12, 4.345, 0.01) AS clv
	FROM rfm r JOIN accounts a USING (account_id), m
	ORDER BY clv DESC, a.name LIMIT 10
)
SELECT json_build_object(
	'kind', 'table',
	'id', 'top-clv',
	'title', 'Top 10 accounts by predicted add-on CLV, next 12 months',
	'subtitle', 'BG/NBD and Gamma-Gamma fitted in the database on every account''s purchases; 1% monthly discount',
	'columns', json_build_array('account', 'plan',
		json_build_object('name', 'repeat purchases', 'align', 'right'),
		json_build_object('name', 'P(alive)', 'align', 'right'),
		json_build_object('name', 'CLV', 'align', 'right')),
	'rows', json_agg(json_build_array(name, plan, frequency, round(p_alive::numeric, 3),
	                                  to_char(clv, 'FM999,999,990.00')) ORDER BY clv DESC, name))
FROM top;
