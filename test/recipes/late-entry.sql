-- Recipe "Accounts that predate your data" (docs/survival.md) (checked by
-- test/t/recipes-survival.sh: every SQL block of the recipe is in this file
-- verbatim, and runs against the demo data).
CREATE VIEW export_lifetimes AS
SELECT account_id, plan,
       (SELECT (extract(year FROM a) * 12 + extract(month FROM a))::int
        FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) a) AS months,
       (SELECT greatest(0, (extract(year FROM a) * 12 + extract(month FROM a))::int)
        FROM age(date '2025-11-01', date_trunc('month', signed_up)) a) AS entry,
       churned_on IS NOT NULL AS churned,
       churned_on IS NULL OR churned_on > date '2025-11-01' AS in_export
FROM accounts;

WITH s AS (
	SELECT survival_agg(months, churned) AS all_accounts,
	       survival_agg(months, churned) FILTER (WHERE in_export) AS naive,
	       survival_agg(months, churned, entry) FILTER (WHERE in_export) AS late_entry
	FROM export_lifetimes
)
SELECT age AS months, round(survival_at(all_accounts, age)::numeric, 3) AS all_accounts,
       round(survival_at(naive, age)::numeric, 3) AS naive_export,
       round(survival_at(late_entry, age)::numeric, 3) AS late_entry_export
FROM s, unnest(ARRAY[3, 6, 12, 18, 24]) age;
