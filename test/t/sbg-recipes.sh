#!/bin/bash
# The recipes "SaaS dashboard ratios" (saas-ratios, docs/retention.md) and
# "How long will this cohort stay?" (sbg-cohort, docs/sbg.md), extracted by
# test/recipes/from-readme, run as the pages write them on the demo data; the
# result rows the pages print are what they return, and what they compute agrees with plain SQL
# over the raw rows.
# Run by `make test` inside the cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGDATABASE=sbg_recipes
admin() { PGDATABASE=postgres PGOPTIONS="-c client_min_messages=warning" "$@"; }
admin dropdb --if-exists sbg_recipes
admin createdb sbg_recipes
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
test/recipes/from-readme saas-ratios >"$tmp/recipe.sql"
echo >>"$tmp/recipe.sql"
test/recipes/from-readme sbg-cohort >>"$tmp/recipe.sql"
q -q -c 'CREATE EXTENSION customer_success' $(printf -- '-f %s ' test/demo/data*.sql) >/dev/null
psql -X -v ON_ERROR_STOP=1 -f "$tmp/recipe.sql" >"$tmp/recipe.out"
failed=0
checked=0
while IFS= read -r line; do
	want=$(sed -E 's/^-- ?//; s/[[:space:]]+/ /g; s/^ //; s/ $//' <<<"$line")
	checked=$((checked + 1))
	if ! sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//' "$tmp/recipe.out" | grep -qxF -- "$want"; then
		echo "FAIL the docs print '$want', the recipe does not return it"
		failed=1
	fi
done < <(grep -E '^--  .*\|' "$tmp/recipe.sql")
if [ "$checked" -ge 15 ]; then echo "ok   the $checked result rows the docs print match"
else echo "FAIL only $checked printed result rows found in the recipes"; failed=1; fi
check() {
	local what=$1 got
	got=$(q -c "$2")
	if [ "$got" = t ]; then echo "ok   $what"; else echo "FAIL $what: $got"; failed=1; fi
}
check "ending_customers per month = accounts paying that month" \
	"SELECT bool_and(ending_customers(r) = (SELECT count(*) FROM mrr_monthly m WHERE m.month = s.month AND m.mrr > 0)) FROM saas_monthly s"
check "ARR = 12 x the month's MRR, ARPA = MRR / paying accounts" \
	"SELECT bool_and(abs(arr(r) - 12 * t.mrr) <= 1e-9 * t.mrr AND abs(arpa(r) - t.mrr / t.n) <= 1e-9 * t.mrr)
	 FROM saas_monthly s JOIN (SELECT month, sum(mrr)::float8 AS mrr, count(*) AS n FROM mrr_monthly GROUP BY month) t USING (month)"
check "quick ratio of October 2026 = (new + expansion) / (contraction + churn) by plain SQL" \
	"WITH p AS (SELECT coalesce(a.mrr, 0) s, coalesce(b.mrr, 0) e FROM (SELECT * FROM mrr_monthly WHERE month = '2026-09-01') a
	            FULL JOIN (SELECT * FROM mrr_monthly WHERE month = '2026-10-01') b USING (account_id))
	 SELECT abs(quick_ratio(r) - (SELECT (sum(e) FILTER (WHERE s = 0) + sum(e - s) FILTER (WHERE s > 0 AND e > s))
	                               / (sum(s - e) FILTER (WHERE s > 0 AND e < s)) FROM p)::float8) < 1e-12
	 FROM saas_monthly WHERE month = '2026-10-01'"
check "sBG per plan: the demo's cohorts give an estimate for Starter, Growth and Enterprise, none for Business" \
	"SELECT array_agg(plan ORDER BY plan) = '{Enterprise,Growth,Starter}' FROM (SELECT plan FROM renewal_cohorts GROUP BY plan HAVING sbg_fit_or_null(rollup(months_paid)) IS NOT NULL) x"
check "sBG projection of Starter within 3 points of Kaplan-Meier over months 1..18 (few accounts are observed longer)" \
	"WITH f AS (SELECT rollup(months_paid) s, sbg_fit(rollup(months_paid)) m FROM renewal_cohorts WHERE plan = 'Starter')
	 SELECT max(abs(sbg_survival_at(m, k) - survival_at(s, k))) < 0.03 FROM f, generate_series(1, 18) k"
admin dropdb sbg_recipes
exit $failed
