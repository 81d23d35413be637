#!/bin/bash
# The recipe "Do the health signals explain churn?" of docs/churn-model.md
# (LR test, pseudo-R², AUC with its DeLong interval), run as the page writes it
# (test/recipes/from-readme) on the demo data, after the part of the health
# recipe it builds on (health-cohort: the health_signals view and the cohort
# table).  Every result row the page prints in a comment (`--  a | b`)
# must be one the recipe returns.
set -euo pipefail
cd "$(dirname "$0")/../.."

db=cs_churn_model_recipe
tmp=$(mktemp -d)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

test/recipes/from-readme health-cohort >"$tmp/cohort.sql"
test/recipes/from-readme health-explains-churn >"$tmp/recipe.sql"
createdb "$db"
# the demo's data, loaded as test/demo/run loads it
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION customer_success' \
	$(printf -- '-f %s ' test/demo/data*.sql) >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/cohort.sql" >/dev/null
psql -X -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/recipe.sql" >"$tmp/recipe.out"
cat "$tmp/recipe.out"

missing=0
checked=0
while IFS= read -r line; do
	want=$(sed -E 's/^-- ?//; s/[[:space:]]+/ /g; s/^ //; s/ $//' <<<"$line")
	checked=$((checked + 1))
	if ! sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//' "$tmp/recipe.out" | grep -qxF -- "$want"; then
		echo "FAIL: the docs print '$want', the recipe does not return it" >&2
		missing=1
	fi
done < <(grep -E '^--  .*\|' "$tmp/recipe.sql")
[ "$missing" = 0 ] || exit 1
[ "$checked" -ge 10 ] || { echo "FAIL: only $checked printed result rows found in the recipe" >&2; exit 1; }
echo "the $checked result rows docs/churn-model.md prints match"
