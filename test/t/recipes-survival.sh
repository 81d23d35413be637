#!/bin/bash
# The survival recipes of the docs ("Accounts that predate your data",
# "Time to value", in docs/survival.md; the sections are looked for in
# README.md and docs/*.md) run as written against the demo data: every
# ```sql block of those sections is in test/recipes/late-entry.sql or
# time-to-value.sql verbatim, the files run, the late-entry curve of the
# truncated export agrees with the curve of all accounts (within 0.01) where
# the naive curve of the export is biased upwards, and the output shown in the
# docs is what the recipes print.  Runs inside test/with-cluster.
set -uo pipefail
cd "$(dirname "$0")/../.."
fail=0
db=recipes_survival
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db" || exit 1
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION customer_success" \
	-f test/demo/data.sql -f test/demo/data_purchases.sql >/dev/null || exit 1

# the blocks of a section of the docs, one file per block
section() {
	awk -v h="$1" '
		FNR == 1 { on = 0 }
		/^### / { on = ($0 == "### " h) }
		on && /^```sql$/ { inblock = 1; n++; next }
		on && inblock && /^```$/ { inblock = 0; next }
		on && inblock { print > (dir "/block" n) }
	' dir="$2" README.md docs/*.md
}
for pair in "Accounts that predate your data:late-entry" "Time to value:time-to-value"; do
	heading=${pair%%:*}; file=test/recipes/${pair##*:}.sql
	tmp=$(mktemp -d)
	section "$heading" "$tmp"
	n=0
	for b in "$tmp"/block*; do
		[ -f "$b" ] || continue
		n=$((n + 1))
		python3 - "$b" "$file" <<'PY' || { echo "FAIL: a SQL block of \"$heading\" is not in $file verbatim"; fail=1; }
import sys
block = open(sys.argv[1]).read().strip()
sys.exit(0 if block in open(sys.argv[2]).read() else 1)
PY
	done
	[ $n -gt 0 ] || { echo "FAIL: no SQL block under \"### $heading\" in README.md or docs/*.md"; fail=1; }
	out=$(psql -X -v ON_ERROR_STOP=1 -d "$db" -P footer=off -f "$file" 2>&1) || { echo "FAIL: $file: $out"; fail=1; }
	# the docs show this output (the first result table of the file)
	python3 - "$tmp" "$out" <<'PY' || { echo "FAIL: the docs' output of \"$heading\" differs from what $file prints"; fail=1; }
import glob, re, sys
readme = "\n".join(open(f, encoding="utf-8").read() for f in ["README.md"] + sorted(glob.glob("docs/*.md")))
out = sys.argv[2]
rows = [l.rstrip() for l in out.splitlines() if "|" in l]
ok = all(r in readme for r in rows) and rows
sys.exit(0 if ok else 1)
PY
	rm -rf "$tmp"
done

# late entry repairs the export's bias
res=$(psql -X -At -F ' ' -d "$db" <<'SQL'
WITH s AS (
	SELECT survival_agg(months, churned) AS a, survival_agg(months, churned) FILTER (WHERE in_export) AS n,
	       survival_agg(months, churned, entry) FILTER (WHERE in_export) AS l
	FROM export_lifetimes
)
SELECT count(*) FILTER (WHERE abs(survival_at(l, k) - survival_at(a, k)) <= 0.01),
       count(*) FILTER (WHERE survival_at(n, k) > survival_at(a, k) + 0.015)
FROM s, generate_series(3, 24) k;
SQL
)
[ "$res" = "22 22" ] && echo "ok   late entry within 0.01 of all accounts at 22 ages; naive export biased up at all 22" \
	|| { echo "FAIL: late entry vs naive on the demo export: $res (want 22 22)"; fail=1; }
[ $fail = 0 ] && echo "survival recipes: all checks passed"
exit $fail
