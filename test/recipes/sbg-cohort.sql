-- Recipe "How long will this cohort stay?" of the README: survival
-- summaries per plan and signup month (stored, e.g. in a materialized view),
-- rolled up per plan, fitted with the sBG model, projected forward.
-- Runs against the demo data (test/demo/data.sql); test/t/sbg-recipes.sh.
CREATE MATERIALIZED VIEW renewal_cohorts AS
SELECT plan, date_trunc('month', signed_up)::date AS cohort,
       survival_agg((SELECT extract(year FROM x) * 12 + extract(month FROM x)
                     FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) x),
                    churned_on IS NOT NULL) AS months_paid
FROM accounts GROUP BY 1, 2;

-- one plan: the fit, and the projection next to what was observed
WITH fit AS (SELECT rollup(months_paid) AS s, sbg_fit(rollup(months_paid)) AS m
             FROM renewal_cohorts WHERE plan = 'Starter')
SELECT k AS months, round(sbg_survival_at(m, k)::numeric, 3) AS projected,
       CASE WHEN k <= 24 THEN round(survival_at(s, k)::numeric, 3) END AS observed,  -- the data span 24 months
       round(sbg_retention_rate(m, k)::numeric, 4) AS renewal_rate
FROM fit, unnest(ARRAY[1, 3, 6, 12, 24, 36]) k;

-- what a customer who has renewed n times is worth: ARPA x DERL at 1% a month
WITH fit AS (SELECT sbg_fit(rollup(months_paid)) AS m FROM renewal_cohorts WHERE plan = 'Growth')
SELECT n AS renewals, round(sbg_derl(m, 0.01, n)::numeric, 1) AS expected_payments,
       round(199 * sbg_derl(m, 0.01, n)::numeric) AS value_at_list_price
FROM fit, unnest(ARRAY[0, 6, 12, 24]) n;

-- every plan, without stopping at one the model cannot estimate (a churn
-- rate that does not fall with tenure raises 22003)
CREATE FUNCTION sbg_fit_or_null(s survival_summary) RETURNS sbg_model
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN sbg_fit(s);
EXCEPTION WHEN numeric_value_out_of_range THEN
	RETURN NULL;
END $$;
SELECT plan, round(alpha::numeric, 3) AS alpha, round(beta::numeric, 2) AS beta,
       round(sbg_survival_at(m, 24)::numeric, 3) AS projected_24_months
FROM (SELECT plan, sbg_fit_or_null(rollup(months_paid)) AS m FROM renewal_cohorts GROUP BY plan) f
LEFT JOIN LATERAL sbg_params(m) ON true
ORDER BY plan;
