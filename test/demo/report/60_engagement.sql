-- Product engagement with postgresql-hll (recipe of docs/hll.md "Product engagement
-- and stickiness with hll"): daily hll sketches of distinct users per
-- account and event, unioned into MAU and a sliding 28-day window, then
-- stickiness, seat activation and feature reach, fed to health_score.
-- Skipped, with a note, where the hll extension is not installed.
SELECT count(*) > 0 AS have_hll FROM pg_available_extensions WHERE name = 'hll' \gset
\echo
\if :have_hll
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hll;
CREATE TEMP TABLE daily_users AS
SELECT day, account_id, event, hll_add_agg(hll_hash_integer(user_id)) AS users
FROM product_events GROUP BY day, account_id, event;

\echo '== Product engagement (hll sketches of distinct users): the whole base, 28 days up to each day'
SELECT day, round(hll_cardinality(users)) AS dau,
       round(hll_cardinality(hll_union_agg(users) OVER w)) AS "mau 28d",
       round((avg(hll_cardinality(users)) OVER w / hll_cardinality(hll_union_agg(users) OVER w))::numeric, 3) AS stickiness
FROM (SELECT day, hll_union_agg(users) AS users FROM daily_users WHERE event = 'login' GROUP BY day) d
WINDOW w AS (ORDER BY day RANGE BETWEEN '27 days' PRECEDING AND CURRENT ROW)
ORDER BY day DESC LIMIT 7;

\echo
\echo '== Engagement per plan, 2026-10-04 to 2026-10-31: stickiness = average DAU / MAU, seat activation = MAU / seats, reach = feature users / MAU'
CREATE TEMP TABLE plan_engagement AS
WITH seats AS (
	SELECT DISTINCT ON (account_id) account_id, seats FROM usage_weekly ORDER BY account_id, week DESC
), per_account AS (
	SELECT d.account_id,
	       sum(hll_cardinality(d.users)) FILTER (WHERE d.event = 'login') / 28 AS dau,
	       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'login')) AS mau,
	       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'reports')) AS reports
	FROM daily_users d WHERE d.day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31'
	GROUP BY d.account_id
), health AS (
	SELECT p.account_id,
	       health_score(array[0.4, 0.3, 0.3],
	                    health_scale(p.dau / p.mau, 0.03, 0.3),
	                    health_scale(p.mau / s.seats, 0.2, 0.8),
	                    health_scale(coalesce(p.reports, 0) / p.mau, 0.1, 0.7)) AS score
	FROM per_account p LEFT JOIN seats s USING (account_id) WHERE p.mau > 0
	GROUP BY p.account_id
)
SELECT a.plan,
       count(DISTINCT d.account_id) AS accounts,
       sum(hll_cardinality(d.users)) FILTER (WHERE d.event = 'login') / 28 AS dau,
       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'login')) AS mau,
       -- seat activation over the accounts with seats on record
       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'login'
                                                     AND d.account_id IN (SELECT account_id FROM seats))) AS seated_mau,
       (SELECT sum(s.seats) FROM seats s JOIN accounts x USING (account_id)
        WHERE x.plan = a.plan AND s.account_id IN (SELECT account_id FROM per_account WHERE mau > 0)) AS seats,
       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'reports')) AS reports,
       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'automations')) AS automations,
       hll_cardinality(hll_union_agg(d.users) FILTER (WHERE d.event = 'api')) AS api,
       (SELECT avg(h.score) FROM health h JOIN accounts x USING (account_id) WHERE x.plan = a.plan) AS health,
       (SELECT count(*) FROM health h JOIN accounts x USING (account_id)
        WHERE x.plan = a.plan AND health_band(h.score) = 'red') AS red
FROM daily_users d JOIN accounts a USING (account_id)
WHERE d.day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31'
GROUP BY a.plan;

SELECT plan, accounts, round(mau) AS "active users", seats,
       round((dau / mau)::numeric, 3) AS stickiness,
       round((seated_mau / seats)::numeric, 3) AS "seat activation",
       round((reports / mau)::numeric, 3) AS "reports reach",
       round((automations / mau)::numeric, 3) AS "automations reach",
       round((coalesce(api, 0) / mau)::numeric, 3) AS "api reach",
       round(health::numeric, 1) AS "engagement health", red
FROM plan_engagement
ORDER BY array_position(ARRAY['Starter', 'Growth', 'Business', 'Enterprise'], plan);
\else
\echo '== Product engagement: skipped, the hll extension is not installed (Debian postgresql-<major>-hll)'
\endif
