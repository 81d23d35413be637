-- A generated, realistic SaaS data set for the demo (deterministic: setseed).
--
--   plans            four price points
--   accounts         3,000 accounts signing up over two years, some churned
--   mrr_monthly      one row per account and month while it pays
--   nps_responses    NPS survey answers (0..10), quarterly per account
--   csat_responses   CSAT answers (1..5) after support tickets
--   usage_weekly     weekly usage signals for the last 26 weeks
--   cancellations    why each churned account left (voluntary, payment failure,
--                    downgrade to free), from the billing system
--
-- Every account has a hidden "fit" in [0, 1] that drives its churn hazard,
-- expansion, survey answers and usage, so the metrics agree with each other
-- the way they do in real data.  The data is observed up to 2026-10-31.
SELECT setseed(0.42);

CREATE TABLE plans (plan text PRIMARY KEY, list_mrr numeric, monthly_churn float8);
INSERT INTO plans VALUES
	('Starter', 49, 0.045), ('Growth', 199, 0.025),
	('Business', 799, 0.015), ('Enterprise', 2500, 0.008);

CREATE TABLE accounts (
	account_id int PRIMARY KEY,
	name text NOT NULL,
	plan text NOT NULL REFERENCES plans,
	region text NOT NULL,
	signed_up date NOT NULL,
	churned_on date,			-- first month without revenue; NULL if still a customer
	fit float8 NOT NULL			-- hidden: what drives everything else
);

CREATE TABLE mrr_monthly (
	account_id int REFERENCES accounts,
	month date,
	mrr numeric(12, 2) NOT NULL,
	PRIMARY KEY (account_id, month)
);

DO $$
DECLARE
	n_accounts constant int := 3000;
	last_month constant date := date '2026-10-01';
	a int;
	plan_row record;
	signup date;
	m date;
	mrr numeric;
	fit float8;
	hazard float8;
	churned date;
	r float8;
BEGIN
	FOR a IN 1 .. n_accounts LOOP
		r := random();
		SELECT * INTO plan_row FROM plans
		WHERE plan = CASE WHEN r < 0.50 THEN 'Starter' WHEN r < 0.80 THEN 'Growth'
		                  WHEN r < 0.95 THEN 'Business' ELSE 'Enterprise' END;
		-- signups grow over time: more recent months get more accounts
		signup := date '2024-11-01' + (floor(730 * sqrt(random())))::int;
		fit := random();
		hazard := plan_row.monthly_churn * (1.9 - 1.6 * fit);
		mrr := plan_row.list_mrr * (1 + floor(random() * 3));
		churned := NULL;
		INSERT INTO accounts VALUES (a, 'Account ' || lpad(a::text, 4, '0'), plan_row.plan,
			(ARRAY['EMEA', 'NA', 'APAC', 'LATAM'])[1 + floor(random() * 4)::int],
			signup, NULL, fit);
		m := date_trunc('month', signup)::date;
		WHILE m <= last_month LOOP
			INSERT INTO mrr_monthly VALUES (a, m, mrr);
			m := (m + interval '1 month')::date;
			IF random() < hazard THEN
				churned := m;
				EXIT;
			END IF;
			-- expansion for good-fit accounts, contraction for poor ones
			r := random();
			IF r < 0.04 + 0.08 * fit THEN
				mrr := round(mrr * (1.10 + 0.4 * random())::numeric, 2);
			ELSIF r > 0.97 - 0.05 * (1 - fit) THEN
				mrr := greatest(round(mrr * (0.6 + 0.3 * random())::numeric, 2), plan_row.list_mrr);
			END IF;
		END LOOP;
		UPDATE accounts SET churned_on = churned WHERE account_id = a;
	END LOOP;
END $$;

-- NPS: one invitation per account per quarter while a customer, 70% answer
CREATE TABLE nps_responses (account_id int REFERENCES accounts, responded_on date, score int);
INSERT INTO nps_responses
SELECT a.account_id, q.d + (floor(random() * 28))::int,
       least(10, greatest(0, round(5.2 + 5.0 * a.fit + 2.0 * (random() + random() + random() - 1.5))))::int
FROM accounts a
CROSS JOIN LATERAL generate_series(date '2024-11-15', date '2026-10-15', interval '3 months') g(d0)
CROSS JOIN LATERAL (SELECT (g.d0 + (a.account_id % 90) * interval '1 day')::date AS d) q
WHERE q.d BETWEEN a.signed_up + 30 AND coalesce(a.churned_on, date '2026-10-31') - 1
  AND q.d <= date '2026-10-31' - 28
  AND random() < 0.7;

-- CSAT: after support tickets; poorer fit files more tickets and is less happy
CREATE TABLE csat_responses (ticket_id serial, account_id int REFERENCES accounts, answered_on date, score int);
INSERT INTO csat_responses (account_id, answered_on, score)
SELECT a.account_id, d::date,
       least(5, greatest(1, round(3.3 + 1.9 * a.fit + 1.2 * (random() - 0.5) + 0.8 * (random() - 0.5))))::int
FROM accounts a
CROSS JOIN LATERAL generate_series(a.signed_up, coalesce(a.churned_on, date '2026-10-31') - 1, interval '1 day') d
WHERE random() < (0.004 + 0.012 * (1 - a.fit));

-- weekly usage signals for the last 26 weeks of each live account
CREATE TABLE usage_weekly (
	account_id int REFERENCES accounts,
	week date,
	seats int,
	active_users int,
	logins int,
	features_used int,			-- of 12 features
	open_tickets int,
	PRIMARY KEY (account_id, week)
);
INSERT INTO usage_weekly
SELECT account_id, week, seats,
       least(seats, greatest(0, round(seats * (0.25 + 0.7 * fit) * (0.85 + 0.3 * random()))))::int,
       greatest(0, round(seats * (1.5 + 6 * fit) * (0.7 + 0.6 * random())))::int,
       least(12, greatest(0, round(2 + 9 * fit + 3 * (random() - 0.5))))::int,
       greatest(0, round((1 - fit) * 4 * random() + random() - 0.3))::int
FROM (SELECT a.account_id, a.fit, w::date AS week,
             (CASE a.plan WHEN 'Starter' THEN 3 WHEN 'Growth' THEN 10
                          WHEN 'Business' THEN 40 ELSE 150 END) AS seats
      FROM accounts a
      CROSS JOIN generate_series(date '2026-05-04', date '2026-10-26', interval '7 days') w
      WHERE w >= a.signed_up AND (a.churned_on IS NULL OR w < a.churned_on)) s;

-- why churned accounts left, as the billing system records it: card
-- failures are commoner on the cheap plan, poor fits downgrade to the free
-- tier.  Drawn from a hash of the account id (no random(): the tables above
-- stay as they were).
CREATE TABLE cancellations (account_id int PRIMARY KEY, churned_on date NOT NULL, reason text NOT NULL);
INSERT INTO cancellations
SELECT account_id, churned_on,
       CASE WHEN u < CASE plan WHEN 'Starter' THEN 0.35 ELSE 0.15 END THEN 'payment failure'
            WHEN u < CASE plan WHEN 'Starter' THEN 0.35 ELSE 0.15 END + 0.45 * (1 - fit) THEN 'downgrade to free'
            ELSE 'voluntary' END
FROM (SELECT account_id, plan, churned_on, fit, (hashint4(account_id) & 65535) / 65536.0 AS u
      FROM accounts WHERE churned_on IS NOT NULL) a;

ANALYZE;
