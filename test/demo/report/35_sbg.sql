\echo
\echo '== How long will they stay? Shifted-beta-geometric (sBG) fit per plan to the monthly renewals'
-- duration = months paid (from the signup month to the first month without
-- revenue, or to 2026-10 for accounts still paying), one summary per plan
-- rolled up from the monthly signup cohorts.  A plan whose churn rate does
-- not fall with tenure has no sBG estimate (sbg_fit raises 22003): this
-- wrapper turns that into NULL for the report.
CREATE FUNCTION pg_temp.sbg_fit_or_null(s survival_summary) RETURNS sbg_model
LANGUAGE plpgsql AS $$
BEGIN
	RETURN sbg_fit(s);
EXCEPTION WHEN numeric_value_out_of_range THEN
	RETURN NULL;
END $$;
CREATE TEMP TABLE demo_sbg AS
WITH cohorts AS (
	SELECT plan, date_trunc('month', signed_up)::date AS cohort,
	       survival_agg((SELECT extract(year FROM x) * 12 + extract(month FROM x)
	                     FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) x),
	                    churned_on IS NOT NULL) AS s
	FROM accounts GROUP BY 1, 2
)
SELECT plan, rollup(s) AS s, pg_temp.sbg_fit_or_null(rollup(s)) AS m
FROM cohorts GROUP BY plan;

SELECT d.plan, round(p.alpha::numeric, 3) AS alpha, round(p.beta::numeric, 2) AS beta,
       coalesce(round(100 * sbg_survival_at(m, 3)::numeric, 1)::text, '-') || ' / ' || round(100 * survival_at(s, 3)::numeric, 1) AS "M3 % proj./actual",
       coalesce(round(100 * sbg_survival_at(m, 12)::numeric, 1)::text, '-') || ' / ' || round(100 * survival_at(s, 12)::numeric, 1) AS "M12 % proj./actual",
       coalesce(round(100 * sbg_survival_at(m, 18)::numeric, 1)::text, '-') || ' / ' || round(100 * survival_at(s, 18)::numeric, 1) AS "M18 % proj./actual",
       round(100 * sbg_survival_at(m, 36)::numeric, 1) AS "M36 % proj.",
       round(100 * sbg_retention_rate(m, 1)::numeric, 2) AS "renewal % M1",
       round(100 * sbg_retention_rate(m, 24)::numeric, 2) AS "renewal % M24",
       CASE WHEN m IS NULL THEN 'churn rate does not fall with tenure: no sBG estimate' END AS note
FROM demo_sbg d LEFT JOIN LATERAL sbg_params(d.m) p ON true
JOIN plans pl USING (plan)
ORDER BY pl.list_mrr;

\echo
\echo '== Value of a renewing customer per plan: ARPA (October 2026) x DERL at 1%/month (Fader & Hardie 2010), by renewals so far'
SELECT d.plan, round(a.arpa, 2) AS "ARPA",
       round(sbg_derl(m, 0.01)::numeric, 1) AS "DERL new",
       round(sbg_derl(m, 0.01, 12)::numeric, 1) AS "DERL after 12",
       round(a.arpa * sbg_derl(m, 0.01)::numeric, 0) AS "value new",
       round(a.arpa * sbg_derl(m, 0.01, 6)::numeric, 0) AS "value after 6",
       round(a.arpa * sbg_derl(m, 0.01, 12)::numeric, 0) AS "value after 12"
FROM demo_sbg d
JOIN (SELECT a.plan, avg(m.mrr) AS arpa FROM mrr_monthly m JOIN accounts a USING (account_id)
      WHERE m.month = date '2026-10-01' GROUP BY a.plan) a USING (plan)
JOIN plans pl USING (plan)
WHERE m IS NOT NULL
ORDER BY pl.list_mrr;
DROP TABLE demo_sbg;
