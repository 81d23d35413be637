-- Product engagement for the demo (deterministic: setseed), loaded after
-- data.sql (the demo loads test/demo/data*.sql in name order).
--
--   account_users    the users of each account: never more than its seats
--                    (the seats of usage_weekly, by plan: 3, 10, 40, 150)
--   product_events   one row per user, day and event while the account is a
--                    customer, 2026-09-01 .. 2026-10-31: 'login' (the user
--                    was active that day) and the key features used that
--                    day: 'reports', 'automations', 'api'
--
-- The account's hidden "fit" (data.sql) drives how many seats are taken, how
-- often users log in and how much of the product they use, as it drives
-- churn; weekends are quiet.  About 25,000 users and 0.4 million events:
-- small enough for the demo to load in a few seconds.
SELECT setseed(0.616);

CREATE TABLE account_users (
	account_id int REFERENCES accounts,
	user_id int NOT NULL,
	added_on date NOT NULL,
	PRIMARY KEY (account_id, user_id)
);

CREATE TABLE product_events (
	account_id int NOT NULL,
	user_id int NOT NULL,
	day date NOT NULL,
	event text NOT NULL CHECK (event IN ('login', 'reports', 'automations', 'api'))
);

-- users of the accounts that are customers at some point of the two months
INSERT INTO account_users
SELECT a.account_id, a.account_id * 1000 + n,
       CASE WHEN n = 1 THEN a.signed_up
            ELSE a.signed_up + floor(random() * least(120, date '2026-10-31' - a.signed_up + 1))::int END
FROM accounts a
CROSS JOIN LATERAL (
	SELECT coalesce((SELECT u.seats FROM usage_weekly u WHERE u.account_id = a.account_id ORDER BY u.week DESC LIMIT 1),
	                CASE a.plan WHEN 'Starter' THEN 3 WHEN 'Growth' THEN 10
	                            WHEN 'Business' THEN 40 ELSE 150 END) AS seats) s
CROSS JOIN LATERAL generate_series(1, greatest(1, least(s.seats,
	round(s.seats * (0.25 + 0.5 * a.fit) * (0.8 + 0.4 * random()))::int))) n
WHERE a.signed_up <= date '2026-10-31'
  AND (a.churned_on IS NULL OR a.churned_on > date '2026-09-01');

-- larger plans use the product more, and use its advanced features more
CREATE TEMP TABLE engagement_user AS
SELECT u.account_id, u.user_id, a.fit, a.plan,
       greatest(u.added_on, date '2026-09-01') AS first_day,
       least(coalesce(a.churned_on - 1, date '2026-10-31'), date '2026-10-31') AS last_day,
       (0.06 + 0.5 * a.fit) * (0.3 + 0.7 * random())
       * CASE a.plan WHEN 'Starter' THEN 0.75 WHEN 'Growth' THEN 1 WHEN 'Business' THEN 1.2 ELSE 1.35 END AS p_login,
       random() AS taste
FROM account_users u JOIN accounts a USING (account_id);

CREATE TEMP TABLE engagement_login AS
SELECT account_id, user_id, d::date AS day, fit, plan, taste
FROM engagement_user, generate_series(first_day, last_day, interval '1 day') d
WHERE random() < p_login * CASE WHEN extract(isodow FROM d) >= 6 THEN 0.2 ELSE 1 END;

INSERT INTO product_events
SELECT account_id, user_id, day, 'login' FROM engagement_login;
INSERT INTO product_events
SELECT l.account_id, l.user_id, l.day, f.event
FROM engagement_login l
CROSS JOIN LATERAL (VALUES
	('reports', 0.03 + 0.45 * l.fit * l.taste),
	('automations', (0.01 + 0.25 * l.fit)
	                * CASE l.plan WHEN 'Starter' THEN 0.2 WHEN 'Growth' THEN 1 WHEN 'Business' THEN 1.3 ELSE 1.5 END),
	('api', l.taste * CASE l.plan WHEN 'Starter' THEN 0 WHEN 'Growth' THEN 0.02 WHEN 'Business' THEN 0.08 ELSE 0.2 END)
) f(event, p)
WHERE random() < f.p;

DROP TABLE engagement_user, engagement_login;
-- checked once for all rows, rather than row by row while loading
ALTER TABLE product_events ADD FOREIGN KEY (account_id, user_id) REFERENCES account_users;
ANALYZE account_users, product_events;
