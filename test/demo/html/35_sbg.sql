-- sBG section of the HTML report (test/demo/html/README.md): per plan, the
-- share of accounts still paying after k months, actual (Kaplan-Meier
-- survival_at, points, while observed) against the shifted-beta-geometric
-- projection (sbg_survival_at, a curve out to 36 months).  A plan whose churn
-- rate does not fall with tenure has no sBG estimate and shows its points only.
-- requires: sbg_fit, sbg_survival_at, survival_agg, survival_at

CREATE FUNCTION pg_temp.sbg_fit_or_null(s survival_summary) RETURNS sbg_model
LANGUAGE plpgsql AS $$
BEGIN
	RETURN sbg_fit(s);
EXCEPTION WHEN numeric_value_out_of_range THEN
	RETURN NULL;
END $$;

WITH lifetimes AS (
	SELECT plan,
	       (SELECT extract(year FROM x) * 12 + extract(month FROM x)
	        FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) x) AS months,
	       churned_on IS NOT NULL AS churned
	FROM accounts
), fits AS (
	SELECT plan, survival_agg(months, churned) AS s, max(months) AS observed,
	       pg_temp.sbg_fit_or_null(survival_agg(months, churned)) AS m
	FROM lifetimes GROUP BY plan
), series AS (
	SELECT json_build_object(
		'name', f.plan || ' actual', 'line', false, 'color', c.color,
		'values', (SELECT json_agg(CASE WHEN k <= f.observed THEN round(100 * survival_at(f.s, k)::numeric, 1) END ORDER BY k)
		           FROM generate_series(0, 36) k)) AS j, pl.list_mrr, 1 AS o
	FROM fits f JOIN plans pl USING (plan) JOIN (VALUES ('Starter', '#2563eb'), ('Growth', '#16a34a'),
	     ('Business', '#d97706'), ('Enterprise', '#7c3aed')) c(plan, color) USING (plan)
	UNION ALL
	SELECT json_build_object(
		'name', f.plan || ' sBG projection', 'markers', false, 'color', c.color,
		'values', (SELECT json_agg(round(100 * sbg_survival_at(f.m, k)::numeric, 1) ORDER BY k)
		           FROM generate_series(0, 36) k)), pl.list_mrr, 2
	FROM fits f JOIN plans pl USING (plan) JOIN (VALUES ('Starter', '#2563eb'), ('Growth', '#16a34a'),
	     ('Business', '#d97706'), ('Enterprise', '#7c3aed')) c(plan, color) USING (plan)
	WHERE f.m IS NOT NULL
)
SELECT json_build_object(
	'kind', 'line',
	'id', 'sbg-projection',
	'title', 'How long will they stay? Actual retention and the sBG projection, by plan',
	'subtitle', 'Points: Kaplan-Meier survival_at() while observed; curves: sbg_survival_at() of sbg_fit() per plan, to 36 months',
	'x_label', 'months since signup',
	'y_label', '% still paying',
	'y_max', 100,
	'x', (SELECT json_agg(k ORDER BY k) FROM generate_series(0, 36) k),
	'series', json_agg(j ORDER BY list_mrr, o),
	'note', 'Plans without a curve: the churn rate does not fall with tenure, so the sBG model has no estimate (sbg_fit raises 22003).')
FROM series;
