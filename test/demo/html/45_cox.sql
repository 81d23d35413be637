-- Cox regression section of the HTML report (test/demo/html/README.md):
-- which weekly signals drive churn, as docs/cox.md's recipe fits them (one
-- row per account and week of age, late entry for accounts that predate the
-- data, a baseline per plan, robust over each account's weeks): the hazard
-- ratios with their 95% intervals (a forest plot, log scale), then the
-- predicted share still a customer of a healthy and an at-risk Growth account.
-- requires: cox_fit, cox_summary, cox_survival_table, cox_concordance, cox_ph_test

CREATE TEMP TABLE report_account_weeks AS
SELECT u.account_id, a.plan,
       (u.week - a.signed_up) / 7 AS entry,
       (u.week - a.signed_up) / 7 + 1 AS duration,
       a.churned_on IS NOT NULL AND u.week = max(u.week) OVER (PARTITION BY u.account_id) AS churned,
       u.active_users::float8 / u.seats AS adoption,
       u.features_used / 12.0::float8 AS features,
       u.logins::float8 / u.seats AS logins_per_seat,
       u.open_tickets::float8 AS open_tickets
FROM usage_weekly u JOIN accounts a USING (account_id);

CREATE TEMP TABLE report_cox AS
SELECT cox_fit(entry, duration, churned, ARRAY[adoption, features, logins_per_seat, open_tickets],
               1, plan, account_id::text, 'efron') AS m
FROM report_account_weeks;

SELECT json_build_object(
	'kind', 'forest',
	'id', 'churn-drivers',
	'title', 'Which signals drive churn: hazard ratios with 95% intervals',
	'subtitle', format('cox_fit on %s account-weeks (%s churns), one baseline per plan, robust over accounts; '
	                   'per unit of each signal (the shares run from 0 to 1), log scale',
	                   to_char(cox_observations(m), 'FM9,999,999'), cox_events(m)),
	'x_label', 'hazard ratio (log scale)',
	'left_label', '← churn less',
	'right_label', 'churn more →',
	'rows', (SELECT json_agg(json_build_object(
	                 'label', n.label,
	                 'value', round(s.hazard_ratio::numeric, 3),
	                 'lower', round(s.lower::numeric, 3),
	                 'upper', round(s.upper::numeric, 3),
	                 'detail', 'p = ' || round(s.p_value::numeric, 3)) ORDER BY s.signal)
	         FROM cox_summary(m) s
	         JOIN unnest(ARRAY['share of seats active', 'share of the 12 features used',
	                           'logins per seat a week', 'open tickets'])
	              WITH ORDINALITY n(label, signal) USING (signal)),
	'note', format('Concordance %s (standard error %s): at each churn, the model ranks the churning account riskier than one still a customer %s%% of the time. '
	               'Proportional-hazards test (cox.zph), all signals: p = %s. Green: the interval is below 1. Recipe: docs/cox.md.',
	               round(cox_concordance(m)::numeric, 3), round(cox_concordance_std_error(m)::numeric, 3),
	               round(100 * cox_concordance(m)::numeric), 
	               (SELECT round(p_value::numeric, 2) FROM cox_ph_test(m) WHERE signal IS NULL)))
FROM report_cox;

WITH healthy AS (
	SELECT duration, survival FROM report_cox, cox_survival_table(m, 0.9, 10 / 12.0, 6, 0) WHERE stratum = 'Growth'
), at_risk AS (
	SELECT duration, survival FROM report_cox, cox_survival_table(m, 0.35, 4 / 12.0, 2, 3) WHERE stratum = 'Growth'
), curves AS (
	SELECT 0::float8 AS duration, 1::float8 AS healthy, 1::float8 AS at_risk
	UNION ALL
	SELECT duration, h.survival, r.survival FROM healthy h JOIN at_risk r USING (duration)
)
SELECT json_build_object(
	'kind', 'line',
	'id', 'churn-curves',
	'title', 'Predicted share still a customer: a healthy and an at-risk Growth account',
	'subtitle', 'cox_survival_table() of the model above; healthy: 90% of seats active, 10 of 12 features, 6 logins per seat a week, no open ticket; '
	            'at risk: 35%, 4 of 12, 2 logins, 3 open tickets',
	'x_label', 'weeks since signup',
	'y_label', '% still a customer',
	'y_max', 100,
	'step', true,
	'x', json_agg(duration ORDER BY duration),
	'series', json_build_array(
		json_build_object('name', 'healthy', 'color', '#16a34a',
		                  'values', json_agg(round(100 * healthy::numeric, 1) ORDER BY duration)),
		json_build_object('name', 'at risk', 'color', '#dc2626',
		                  'values', json_agg(round(100 * at_risk::numeric, 1) ORDER BY duration))),
	'note', (SELECT format('After 52 weeks: %s%% of healthy accounts still customers, %s%% of at-risk ones (cox_survival_at); the at-risk account churns %s times as fast at every age (cox_risk_score).',
	                       round(100 * cox_survival_at(m, 52, 'Growth', 0.9, 10 / 12.0, 6, 0)::numeric, 1),
	                       round(100 * cox_survival_at(m, 52, 'Growth', 0.35, 4 / 12.0, 2, 3)::numeric, 1),
	                       round((cox_risk_score(m, 0.35, 4 / 12.0, 2, 3) / cox_risk_score(m, 0.9, 10 / 12.0, 6, 0))::numeric, 2))
	         FROM report_cox))
FROM curves;
