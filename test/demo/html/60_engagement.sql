-- Engagement section of the HTML report (test/demo/html/README.md): the
-- recipe of docs/hll.md "Product engagement and stickiness with hll": daily hll
-- sketches of distinct users, unioned into a sliding 28-day window and per
-- plan; stickiness (average DAU / MAU), seat activation and feature reach.
-- requires-extension: hll
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hll;
CREATE TEMP TABLE report_daily_users AS
SELECT day, account_id, event, hll_add_agg(hll_hash_integer(user_id)) AS users
FROM product_events GROUP BY day, account_id, event;

-- per plan over the last 28 days
WITH seats AS (
	SELECT DISTINCT ON (account_id) account_id, seats FROM usage_weekly ORDER BY account_id, week DESC
), p AS (
	SELECT a.plan,
	       sum(hll_cardinality(d.users)) FILTER (WHERE d.event = 'login') / 28 AS dau,
	       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'login')) AS mau,
	       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'login' AND s.seats IS NOT NULL)) AS seated_mau,
	       (SELECT sum(x.seats) FROM seats x JOIN accounts y USING (account_id)
	        WHERE y.plan = a.plan AND x.account_id IN (SELECT account_id FROM report_daily_users
	                                                   WHERE event = 'login' AND day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31')) AS seats,
	       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'reports')) AS reports,
	       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'automations')) AS automations,
	       array_position(ARRAY['Starter', 'Growth', 'Business', 'Enterprise'], a.plan) AS i
	FROM report_daily_users d JOIN accounts a USING (account_id) LEFT JOIN seats s USING (account_id)
	WHERE d.day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31'
	GROUP BY a.plan
)
SELECT json_build_object(
	'kind', 'bar',
	'id', 'engagement-by-plan',
	'title', 'Product engagement by plan, 4 to 31 October 2026',
	'subtitle', 'Distinct users from daily hll sketches (postgresql-hll) unioned over 28 days: stickiness = average DAU / MAU, seat activation = MAU / seats, reach = users of the feature / MAU',
	'y_label', 'share',
	'categories', json_agg(plan ORDER BY i),
	'series', json_build_array(
		json_build_object('name', 'stickiness', 'values', json_agg(round((dau / mau)::numeric, 3) ORDER BY i)),
		json_build_object('name', 'seat activation', 'values', json_agg(round((seated_mau / seats)::numeric, 3) ORDER BY i)),
		json_build_object('name', 'reports reach', 'values', json_agg(round((reports / mau)::numeric, 3) ORDER BY i)),
		json_build_object('name', 'automations reach', 'values', json_agg(round((automations / mau)::numeric, 3) ORDER BY i))),
	'note', 'Active users (MAU): ' || string_agg(plan || ' ' || to_char(round(mau), 'FM999,999'), ', ' ORDER BY i)
	        || '.  hll''s relative standard error is 2.3% (log2m = 11); one account''s users are counted exactly.')
FROM p;

-- the whole base: DAU and the sliding 28-day MAU
WITH w AS (
	SELECT day, round(hll_cardinality(users)) AS dau,
	       round(hll_cardinality(hll_union_agg(users) OVER win)) AS mau_28d,
	       round((avg(hll_cardinality(users)) OVER win / hll_cardinality(hll_union_agg(users) OVER win))::numeric, 3) AS stickiness
	FROM (SELECT day, hll_union_agg(users) AS users FROM report_daily_users WHERE event = 'login' GROUP BY day) d
	WINDOW win AS (ORDER BY day RANGE BETWEEN '27 days' PRECEDING AND CURRENT ROW)
)
SELECT json_build_object(
	'kind', 'line',
	'id', 'engagement-trend',
	'title', 'Daily and 28-day active users',
	'subtitle', 'hll_union_agg over a sliding 28-day window of daily sketches (the window is full from 28 September)',
	'y_label', 'users',
	'y_min', 0,
	'x', json_agg(to_char(day, 'MM-DD') ORDER BY day),
	'series', json_build_array(
		json_build_object('name', 'DAU', 'values', json_agg(dau ORDER BY day)),
		json_build_object('name', '28-day active users', 'values', json_agg(mau_28d ORDER BY day))),
	'note', 'Stickiness (average DAU / 28-day MAU) on 31 October: '
	        || (SELECT stickiness FROM w ORDER BY day DESC LIMIT 1) || '; weekends are quiet.')
FROM w;
