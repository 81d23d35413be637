\echo
\echo '== Account health, last 8 weeks (health_scale -> health_score, weights adoption 0.3, logins 0.3, features 0.2, tickets 0.2)'
-- Weekly usage mapped to [0, 1] signals: 0 at the red value, 1 at the green one.
CREATE TEMP VIEW health_signals AS
SELECT account_id, week,
       health_scale(active_users::float8 / seats, 0.3, 0.8) AS adoption,   -- share of seats active
       health_scale(logins::float8 / seats, 1.5, 6) AS logins,             -- logins per seat and week
       health_scale(features_used, 3, 10) AS features,                    -- of 12 features
       health_scale(open_tickets, 3, 0) AS tickets                        -- fewer is better
FROM usage_weekly;

CREATE TEMP TABLE account_health AS
SELECT account_id, health_agg(array[0.3, 0.3, 0.2, 0.2], adoption, logins, features, tickets) AS h
FROM health_signals
WHERE week >= date '2026-10-26' - 7 * 7
GROUP BY account_id;

SELECT health_band(h) AS band, count(*) AS accounts,
       round(avg(health_score(h))::numeric, 1) AS "avg score",
       round(sum(m.mrr)) AS mrr,
       round(100 * sum(m.mrr) / sum(sum(m.mrr)) OVER (), 1) AS "mrr %"
FROM account_health JOIN mrr_monthly m USING (account_id)
WHERE m.month = date '2026-10-01'
GROUP BY 1 ORDER BY min(health_score(h));

\echo
\echo '== Red accounts with the most MRR, and their weakest signal (health_contributions)'
SELECT a.name, a.plan, m.mrr, round(health_score(h)::numeric, 1) AS score,
       (SELECT (ARRAY['adoption', 'logins', 'features', 'tickets'])[signal] || ' ' || round(mean::numeric, 2)
        FROM health_contributions(h) ORDER BY mean LIMIT 1) AS "weakest signal (mean)"
FROM account_health JOIN accounts a USING (account_id) JOIN mrr_monthly m USING (account_id)
WHERE m.month = date '2026-10-01' AND health_band(h) = 'red'
ORDER BY m.mrr DESC, a.name LIMIT 8;

\echo
\echo '== Does the score predict churn?  Accounts live on 2026-08-01, health from the 8 weeks before, churn in Aug-Oct'
CREATE TEMP TABLE cohort AS
SELECT account_id,
       a.churned_on IS NOT NULL AND a.churned_on <= date '2026-11-01' AS churned,
       avg(adoption) AS adoption, avg(logins) AS logins, avg(features) AS features, avg(tickets) AS tickets,
       health_score(array[0.3, 0.3, 0.2, 0.2], adoption, logins, features, tickets) AS health
FROM health_signals s JOIN accounts a USING (account_id)
WHERE s.week BETWEEN date '2026-08-01' - 8 * 7 AND date '2026-08-01' - 1
  AND (a.churned_on IS NULL OR a.churned_on > date '2026-08-01')
GROUP BY account_id, a.churned_on;

SELECT health_band(health) AS band, count(*) AS accounts, count(*) FILTER (WHERE churned) AS churned,
       round(100.0 * count(*) FILTER (WHERE churned) / count(*), 1) AS "churn %"
FROM cohort GROUP BY 1 ORDER BY min(health);

CREATE TEMP TABLE model AS
SELECT churn_model_fit(churned, adoption, logins, features, tickets) AS m FROM cohort;
SELECT s.signal, round(c::numeric, 3) AS coefficient, round(e::numeric, 3) AS std_error,
       round((c / e)::numeric, 1) AS z,
       round(exp(c)::numeric, 3) AS "odds ratio 0->1"
FROM model, unnest(ARRAY['intercept', 'adoption', 'logins', 'features', 'tickets'],
                   churn_model_coefficients(m), churn_model_std_errors(m)) s(signal, c, e);

-- Reading the model: a negative coefficient means the signal lowers the odds of
-- churn (odds ratio < 1 from 0 to 1 on its scale).  Weights proportional to
-- the protective coefficients, zero for the others, are a starting point;
-- keep them only if the AUC improves (signals that move together, as here,
-- share their effect unevenly between them).
CREATE TEMP TABLE suggested AS
SELECT array_agg(round((w / total)::numeric, 2)::float8 ORDER BY i) AS weights
FROM (SELECT i, greatest(-c, 0) AS w, sum(greatest(-c, 0)) OVER () AS total
      FROM model, unnest(churn_model_coefficients(m)) WITH ORDINALITY u(c, i)
      WHERE i > 1) x;
SELECT (SELECT weights FROM suggested) AS "suggested weights",
       round(auc(health, NOT churned)::numeric, 3) AS "AUC current weights",
       round(auc(health_new, NOT churned)::numeric, 3) AS "AUC suggested weights",
       round(auc(churn_probability((SELECT m FROM model), adoption, logins, features, tickets), churned)::numeric, 3)
         AS "AUC churn model"
FROM (SELECT c.*, health_score((SELECT weights FROM suggested), adoption, logins, features, tickets)
                    OVER (PARTITION BY account_id) AS health_new
      FROM cohort c) c;

\echo
\echo '== Do the signals explain churn?  Likelihood-ratio test of the churn model against the churn rate alone, McFadden pseudo-R2, AUCs with 95% DeLong intervals'
SELECT to_char(churn_model_lr_p_value(m), '9.9EEEE') AS "LR test p-value",
       round((2 * (churn_model_log_likelihood(m) - churn_model_null_log_likelihood(m)))::numeric, 1) AS "LR chi-square (4 df)",
       round(churn_model_pseudo_r2(m)::numeric, 3) AS "pseudo-R2"
FROM model;
SELECT 'churn model (in-sample)' AS ranking, round(auc(p, churned)::numeric, 3) AS auc,
       round(auc_lower(p, churned)::numeric, 3) AS "95% lower", round(auc_upper(p, churned)::numeric, 3) AS "95% upper"
FROM (SELECT churned, churn_probability((SELECT m FROM model), adoption, logins, features, tickets) AS p FROM cohort) x
UNION ALL
SELECT 'health score, current weights', round(auc(health, NOT churned)::numeric, 3),
       round(auc_lower(health, NOT churned)::numeric, 3), round(auc_upper(health, NOT churned)::numeric, 3)
FROM cohort;
