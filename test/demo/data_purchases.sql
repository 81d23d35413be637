-- Add-on and marketplace purchases per account (deterministic: setseed), for
-- the predictive LTV section of the demo.  Loaded after data.sql.
--
--   purchases    one row per purchase: account, day, amount
--
-- Non-contractual buying as BG/NBD assumes it: each account buys at its own
-- rate (gamma-distributed across accounts, higher for a better "fit"), and
-- after each purchase may lose interest for good (its own dropout
-- probability, beta-like, higher for a poorer fit); spend per purchase
-- varies around an account-level mean that grows with the plan.  The first
-- purchase is on the signup day; nothing is bought after an account churns
-- or after 2026-10-31.
SELECT setseed(0.2026);

CREATE TABLE purchases (
	purchase_id serial PRIMARY KEY,
	account_id int NOT NULL REFERENCES accounts,
	purchased_on date NOT NULL,
	amount numeric(10, 2) NOT NULL
);

CREATE TEMP TABLE buyer AS
SELECT account_id, signed_up,
       coalesce(churned_on - 1, date '2026-10-31') AS last_day,
       -- purchases per day while interested: exponential heterogeneity times fit
       (0.004 + 0.03 * fit) * -ln(1 - random()) AS rate,
       -- repeat purchases before losing interest: geometric with dropout p
       floor(ln(1 - random()) / ln(1 - (0.04 + 0.5 * (1 - fit) * random())))::int AS repeats,
       (CASE plan WHEN 'Starter' THEN 40 WHEN 'Growth' THEN 90
                  WHEN 'Business' THEN 250 ELSE 700 END) * (0.5 + random()) AS mean_spend
FROM accounts;

INSERT INTO purchases (account_id, purchased_on, amount)
SELECT account_id, day,
       -- gamma(shape 3) around the account's mean spend
       round((mean_spend * -(ln(1 - random()) + ln(1 - random()) + ln(1 - random())) / 3)::numeric, 2)
FROM (
	SELECT b.account_id, b.signed_up AS day, b.mean_spend, 0 AS n FROM buyer b
	UNION ALL
	SELECT account_id, day, mean_spend, n
	FROM (SELECT b.account_id, g.d::date AS day, b.mean_spend, b.repeats,
	             row_number() OVER (PARTITION BY b.account_id ORDER BY g.d) AS n
	      FROM buyer b
	      -- one draw per day (random() in the subquery, so it is not pushed down)
	      CROSS JOIN LATERAL (SELECT d, random() AS u
	                          FROM generate_series(b.signed_up + 1, b.last_day, interval '1 day') d) g
	      WHERE g.u < b.rate) c
	WHERE n <= repeats
) p
ORDER BY day, account_id;

DROP TABLE buyer;
ANALYZE purchases;
