\echo
\echo '== Which signals drive churn?  Cox regression on weekly usage (cox_fit; docs/cox.md)'
SELECT EXISTS (SELECT FROM customer_success_functions WHERE name = 'cox_fit') AS has_cox \gset
\if :has_cox
-- One row per account and week of age: at risk in (entry, entry + 1], churned
-- on the last week of a churned account, the week's own signals; accounts
-- that predate the data enter late, at their age in May.
CREATE TEMP TABLE account_weeks AS
SELECT u.account_id, a.plan,
       (u.week - a.signed_up) / 7 AS entry,
       (u.week - a.signed_up) / 7 + 1 AS duration,
       a.churned_on IS NOT NULL AND u.week = max(u.week) OVER (PARTITION BY u.account_id) AS churned,
       u.active_users::float8 / u.seats AS adoption,
       u.features_used / 12.0::float8 AS features,
       u.logins::float8 / u.seats AS logins_per_seat,
       u.open_tickets::float8 AS open_tickets
FROM usage_weekly u JOIN accounts a USING (account_id);

-- a baseline churn curve per plan, robust standard errors over each account's weeks
CREATE TEMP TABLE churn_drivers_model AS
SELECT cox_fit(entry, duration, churned, ARRAY[adoption, features, logins_per_seat, open_tickets],
               1, plan, account_id::text, 'efron') AS m
FROM account_weeks;

SELECT n.name AS signal, round(s.hazard_ratio::numeric, 3) AS "hazard ratio",
       round(s.lower::numeric, 3) AS "lower 95%", round(s.upper::numeric, 3) AS "upper 95%",
       round(s.robust_std_error::numeric, 3) AS "robust se", round(s.p_value::numeric, 3) AS p,
       round(ph.p_value::numeric, 2) AS "PH test p"
FROM churn_drivers_model, cox_summary(m) s
JOIN unnest(ARRAY['adoption (share of seats active)', 'features (share of 12 used)',
                  'logins per seat', 'open tickets']) WITH ORDINALITY n(name, signal) USING (signal)
JOIN cox_ph_test(m) ph USING (signal)
ORDER BY s.signal;

SELECT cox_observations(m) AS "account-weeks", cox_events(m) AS churned,
       round(cox_concordance(m)::numeric, 3) AS concordance,
       round(cox_concordance_std_error(m)::numeric, 3) AS "concordance se",
       (SELECT round(statistic::numeric, 1) || ' on ' || df || ' df, p = ' || trim(to_char(p_value, '9.9EEEE'))
        FROM cox_tests(m) WHERE test = 'likelihood_ratio') AS "likelihood-ratio test",
       (SELECT round(p_value::numeric, 2) FROM cox_ph_test(m) WHERE signal IS NULL) AS "PH test p, all"
FROM churn_drivers_model;

-- A hazard ratio multiplies the churn rate per unit of the signal, at the
-- same age, plan and other signals: below 1 protects.  The PH test asks
-- whether the effect changes with account age (small p: it does).

\echo
\echo '== Predicted share still a customer, Growth plan: healthy vs at-risk account (cox_survival_at)'
SELECT t AS weeks,
       round(100 * cox_survival_at(m, t, 'Growth', 0.9, 10 / 12.0, 6, 0)::numeric, 1) AS "healthy %",
       round(100 * cox_survival_at(m, t, 'Growth', 0.35, 4 / 12.0, 2, 3)::numeric, 1) AS "at risk %"
FROM churn_drivers_model, unnest(ARRAY[13, 26, 52, 78]) t;
-- healthy: 90% of seats active, 10 of 12 features, 6 logins per seat a week, no open ticket;
-- at risk: 35%, 4 of 12, 2 logins, 3 open tickets.
\else
\echo '(skipped: cox_fit is not installed)'
\endif
