#!/bin/bash
# The Citus worked example (docs/citus.md, "Scaling out with Citus"), run as
# the page writes it (test/recipes/from-readme extracts the blocks marked
# citus-setup, citus-distribute and citus-queries) on the demo data, with
# stand-ins for the Citus functions (test/recipes/citus-standins.sql) that
# refuse what the Citus documentation says Citus refuses.  Checks:
#  - every statement runs, in the page's order (ON_ERROR_STOP);
#  - the page's shell step loads every demo data file (test/demo/data*.sql);
#  - afterwards plans is a reference table, every table with an account_id
#    column is distributed by it and colocated with accounts, no foreign key
#    breaks the Citus rules, and every foreign key of the demo data is back,
#    with the same name and definition;
#  - the results the page prints in comments are what the queries return;
#  - the stand-ins are not toothless: the previous example
#    (create_distributed_table('accounts', ...) straight away) is refused.
# A real cluster is still the final word: see docs/citus.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

db=citus_readme
tmp=$(mktemp -d)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; dropdb --if-exists "${db}_old" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

for block in citus-setup citus-distribute citus-queries; do
	test/recipes/from-readme "$block" >"$tmp/$block.sql"
done

# the page's load step names every demo data file (README.md and docs/*.md,
# where test/recipes/from-readme finds the blocks)
load_line=$(grep -h -E '^psql -d demo( -f test/demo/data[a-z_]*\.sql)+$' README.md docs/*.md | head -1 || true)
[ -n "$load_line" ] || { echo "FAIL: no 'psql -d demo -f test/demo/data....sql' line in README.md or docs/*.md" >&2; exit 1; }
for f in test/demo/data*.sql; do
	case " $load_line " in
		*" -f $f "*) ;;
		*) echo "FAIL: the Citus load step of the docs does not load $f" >&2; exit 1 ;;
	esac
done
files=$(sed -E 's/^psql -d demo //' <<<"$load_line")

createdb "$db"
q -f test/recipes/citus-standins.sql
q -f "$tmp/citus-setup.sql" >/dev/null
# shellcheck disable=SC2086  # the page's -f arguments, split on purpose
q $files >/dev/null
q -c "CREATE TABLE citus_standin.fk_before AS
      SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
q -f "$tmp/citus-distribute.sql" >/dev/null

problems=$(q <<'SQL'
SELECT string_agg(p, E'\n') FROM (
	SELECT 'plans is ' || citus_standin.kind_of('plans') AS p WHERE citus_standin.kind_of('plans') <> 'reference'
	UNION ALL
	SELECT format('%s is not distributed by account_id with accounts', c.oid::regclass)
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'account_id'
	LEFT JOIN citus_standin.tables t ON t.rel = c.oid
	WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
	  AND (t.kind IS DISTINCT FROM 'distributed' OR t.dist_col <> 'account_id'
	       OR t.colocation <> (SELECT colocation FROM citus_standin.tables WHERE rel = 'accounts'::regclass))
	UNION ALL
	SELECT * FROM citus_standin.bad_foreign_keys()
	UNION ALL
	SELECT format('foreign key %s on %s (%s) is not back as it was', b.conname, b.tbl, b.def)
	FROM citus_standin.fk_before b
	WHERE NOT EXISTS (SELECT FROM pg_constraint c
	                  WHERE c.contype = 'f' AND c.conrelid::regclass::text = b.tbl
	                    AND c.conname = b.conname AND pg_get_constraintdef(c.oid) = b.def)
) x
SQL
)
[ -z "$problems" ] || { echo "FAIL: after the distribution step of the docs:" >&2; echo "$problems" >&2; exit 1; }
echo "Citus set-up and distribution (docs/citus.md): $(q -c "SELECT count(*) FROM citus_standin.tables WHERE kind = 'distributed'") distributed tables colocated with accounts, plans a reference table, $(q -c 'SELECT count(*) FROM citus_standin.fk_before') foreign keys restored"

# the queries, and the results the page prints after them as comments
psql -X -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/citus-queries.sql" >"$tmp/queries.out"
missing=0
checked=0
while IFS= read -r line; do
	want=$(sed -E 's/^-- ?//; s/[[:space:]]+/ /g; s/^ //; s/ $//' <<<"$line")
	checked=$((checked + 1))
	if ! sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//' "$tmp/queries.out" | grep -qxF -- "$want"; then
		echo "FAIL: the docs print '$want', the query does not return it" >&2
		missing=1
	fi
done < <(grep -E '^--  .*\|' "$tmp/citus-queries.sql")
[ "$missing" = 0 ] || { cat "$tmp/queries.out" >&2; exit 1; }
[ "$checked" -ge 5 ] || { echo "FAIL: only $checked printed result rows found in the Citus queries of the docs" >&2; exit 1; }
echo "Citus queries run; the $checked result rows docs/citus.md prints match"

# the stand-ins refuse the earlier example, which failed on a real
# Citus 13.2 cluster the same way
createdb "${db}_old"
psql -X -q -v ON_ERROR_STOP=1 -d "${db}_old" -f test/recipes/citus-standins.sql \
	-c 'CREATE EXTENSION customer_success' $files >/dev/null
if psql -X -q -v ON_ERROR_STOP=1 -d "${db}_old" \
	-c "SELECT create_distributed_table('accounts', 'account_id')" >"$tmp/old.out" 2>&1; then
	echo "FAIL: the stand-ins accept distributing accounts while plans is local" >&2; exit 1
fi
grep -q 'foreign keys Citus does not support' "$tmp/old.out" || { cat "$tmp/old.out" >&2; exit 1; }
echo "the earlier example (accounts distributed first) is refused: $(grep -o 'DETAIL: .*' "$tmp/old.out" | head -c 160)"
