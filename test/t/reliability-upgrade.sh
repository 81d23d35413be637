#!/bin/bash
# Upgrades: every released version's install script is kept (frozen) and an
# upgrade script leads from it to the next.  For each customer_success--X.sql
# older than default_version, this test
#  1. installs version X (with today's shared library, as a server does after
#     the new package is installed and before ALTER EXTENSION runs);
#  2. stores a value of every summary and model type in a table (text and
#     binary COPY), builds views and materialized views over the aggregates
#     (daily summaries, a monthly rollup, a sliding window, every family's
#     scalar answer) and records what they return;
#  3. runs ALTER EXTENSION customer_success UPDATE;
#  4. checks the stored values read back identically (text, and binary COPY
#     written before the update), every view returns what it did, the
#     materialized views refresh, and new rows show up after a refresh;
#  5. compares the upgraded extension's catalogue entries (functions,
#     aggregates, types, views, comments; names, not OIDs) with a fresh
#     install of default_version: they must be identical.
set -uo pipefail
cd "$(dirname "$0")/../.."
fail=0
say_fail() { echo "FAIL: $*"; fail=1; }

current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" customer_success.control)
tmp=$(mktemp -d)
chmod 755 "$tmp"
dbs=()
cleanup() {
	for d in "${dbs[@]}"; do dropdb --if-exists --force "$d" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# the extension's catalogue entries, by name (OIDs differ between databases)
fingerprint() {
	q -d "$1" <<'SQL'
WITH ext AS (
	SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'customer_success'
)
SELECT 'object ' || pg_describe_object(classid, objid, 0)
       || coalesce(' -- ' || obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)), '')
FROM ext
UNION ALL
SELECT format('proc %s(%s) returns %s kind=%s src=%s bin=%s vol=%s strict=%s parallel=%s secdef=%s leakproof=%s cost=%s rows=%s config=%s',
              p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prokind,
              p.prosrc, p.probin, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef, p.proleakproof,
              p.procost, p.prorows, p.proconfig)
FROM ext JOIN pg_proc p ON ext.classid = 'pg_proc'::regclass AND p.oid = ext.objid
UNION ALL
SELECT format('aggregate %s kind=%s direct=%s sfunc=%s final=%s combine=%s serial=%s deserial=%s msfunc=%s minv=%s mfinal=%s fextra=%s mfextra=%s fmodify=%s mfmodify=%s sortop=%s stype=%s space=%s mstype=%s mspace=%s init=%s minit=%s',
              a.aggfnoid::regprocedure, a.aggkind, a.aggnumdirectargs, a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
              a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn, a.aggfinalextra,
              a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify, a.aggsortop::regoperator,
              a.aggtranstype::regtype, a.aggtransspace, a.aggmtranstype::regtype, a.aggmtransspace,
              a.agginitval, a.aggminitval)
FROM ext JOIN pg_aggregate a ON ext.classid = 'pg_proc'::regclass AND a.aggfnoid = ext.objid
UNION ALL
SELECT format('type %s len=%s byval=%s align=%s storage=%s in=%s out=%s recv=%s send=%s elem=%s',
              t.typname, t.typlen, t.typbyval, t.typalign, t.typstorage, t.typinput, t.typoutput,
              t.typreceive, t.typsend, t.typelem::regtype)
FROM ext JOIN pg_type t ON ext.classid = 'pg_type'::regclass AND t.oid = ext.objid
UNION ALL
SELECT format('operator %s result=%s code=%s commutator=%s negator=%s restrict=%s join=%s hashes=%s merges=%s',
              o.oid::regoperator, o.oprresult::regtype, o.oprcode::regprocedure, o.oprcom::regoperator,
              o.oprnegate::regoperator, o.oprrest, o.oprjoin, o.oprcanhash, o.oprcanmerge)
FROM ext JOIN pg_operator o ON ext.classid = 'pg_operator'::regclass AND o.oid = ext.objid
UNION ALL
SELECT format('relation %s kind=%s def=%s', c.relname, c.relkind, pg_get_viewdef(c.oid))
FROM ext JOIN pg_class c ON ext.classid = 'pg_class'::regclass AND c.oid = ext.objid
ORDER BY 1;
SQL
}

# data and the objects a user keeps across an upgrade
setup_sql="
CREATE TABLE responses (day date, score int);
INSERT INTO responses
SELECT date '2026-01-01' + (i % 90), (i * 7 + i / 13) % 11 FROM generate_series(1, 5000) i;
INSERT INTO responses VALUES ('2026-02-01', NULL);
CREATE TABLE accounts (account int, mrr_start float8, mrr_end float8, tenure float8, churned bool,
                       usage float8, tickets float8);
INSERT INTO accounts
SELECT i, 100 + i % 37, CASE WHEN i % 9 = 0 THEN 0 ELSE 100 + i % 37 + i % 5 - 2 END,
       1 + i % 48, i % 9 = 0 OR i % 7 = 0, (i * 17 % 100) / 100.0, (i * 29 % 10)
FROM generate_series(1, 2000) i;
CREATE TABLE cdnow (id int, frequency float8, recency float8, t float8);
\\copy cdnow FROM 'test/data/cdnow_customers_summary.csv' (FORMAT csv, HEADER)
CREATE TABLE spend (id int, x float8, t_x float8, t float8, zbar float8);
\\copy spend FROM 'test/data/cdnow_customers_summary_with_transactions.csv' (FORMAT csv, HEADER)

CREATE TABLE stored AS SELECT
	(SELECT nps_agg(score) FROM responses) AS nps,
	(SELECT csat_agg(score % 5 + 1) FROM responses) AS csat,
	(SELECT retention_agg(mrr_start, mrr_end) FROM accounts) AS retention,
	(SELECT survival_agg(tenure, churned) FROM accounts) AS survival,
	(SELECT health_agg(ARRAY[0.7, 0.3], usage, 1 - tickets / 10) FROM accounts) AS health,
	(SELECT bgnbd_fit(frequency, recency, t) FROM cdnow) AS bgnbd,
	(SELECT gamma_gamma_fit(x, zbar) FROM spend WHERE x > 0) AS gamma_gamma,
	(SELECT churn_model_fit(churned, usage, tickets) FROM accounts) AS churn;

CREATE VIEW daily_scores AS
	SELECT day, nps(score), csat(score % 5 + 1), nps_agg(score) AS summary FROM responses GROUP BY day;
CREATE VIEW rolling_week AS
	SELECT day, nps(score) OVER w AS nps, csat(score % 5 + 1) OVER w AS csat,
	       nps_responses(nps_agg(score) OVER w) AS responses
	FROM responses WINDOW w AS (ORDER BY day, score ROWS BETWEEN 99 PRECEDING AND CURRENT ROW);
CREATE MATERIALIZED VIEW daily AS
	SELECT day, nps_agg(score) AS nps, csat_agg(score % 5 + 1) AS csat FROM responses GROUP BY day;
CREATE VIEW monthly AS
	SELECT date_trunc('month', day)::date AS month, nps(rollup(nps)), csat(rollup(csat)),
	       nps_responses(rollup(nps)) AS responses
	FROM daily GROUP BY 1;
CREATE VIEW rolling_days AS
	SELECT day, nps(rollup(nps) OVER w), csat(rollup(csat) OVER w)
	FROM daily WINDOW w AS (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW);
CREATE MATERIALIZED VIEW answers AS SELECT
	(SELECT nrr(mrr_start, mrr_end) FROM accounts) AS nrr,
	(SELECT grr(mrr_start, mrr_end) FROM accounts) AS grr,
	(SELECT revenue_churn_rate(mrr_start, mrr_end) FROM accounts) AS revenue_churn,
	(SELECT survival_at(survival_agg(tenure, churned), 12) FROM accounts) AS survival_12,
	(SELECT cohort_churn(tenure, churned, 12) FROM accounts) AS churn_12,
	(SELECT health_score(ARRAY[0.7, 0.3], usage, 1 - tickets / 10) FROM accounts) AS health,
	(SELECT auc(usage, churned) FROM accounts) AS auc,
	(SELECT (bgnbd_params(bgnbd_fit(frequency, recency, t))).r FROM cdnow) AS bgnbd_r,
	(SELECT (gamma_gamma_params(gamma_gamma_fit(x, zbar))).p FROM spend WHERE x > 0) AS gg_p;
"

# what the user's objects return; the same before and after the update
readback_sql="
SELECT 'stored ' || stored::text FROM stored;
SELECT 'daily_scores ' || d::text FROM daily_scores d ORDER BY day;
SELECT 'rolling_week ' || md5(string_agg(r::text, ',' ORDER BY day, nps, csat, responses)) FROM rolling_week r;
SELECT 'daily ' || d::text FROM daily d ORDER BY day;
SELECT 'monthly ' || m::text FROM monthly m ORDER BY month;
SELECT 'rolling_days ' || r::text FROM rolling_days r ORDER BY day;
SELECT 'answers ' || a::text FROM answers a;
SELECT 'accessor ' || concat_ws(' ', nps(nps), csat(csat), nrr(retention), survival_at(survival, 24),
       health_score(health), (bgnbd_params(bgnbd)).alpha, (gamma_gamma_params(gamma_gamma)).v,
       churn_model_coefficients(churn)::text) FROM stored;
"

for old_script in customer_success--*.sql; do
	old=${old_script#customer_success--}
	old=${old%.sql}
	case "$old" in *--*|"$current") continue ;; esac
	echo "-- $old -> $current"
	db=cs_upgrade_${old//./_}_$$
	dbs+=("$db")
	createdb "$db" || exit 1
	q -d "$db" -c "CREATE EXTENSION customer_success VERSION '$old'" || { say_fail "installing $old"; continue; }
	q -d "$db" <<<"$setup_sql" >/dev/null || { say_fail "$old: setting up stored objects"; continue; }
	q -d "$db" <<<"$readback_sql" >"$tmp/before" || say_fail "$old: reading back before the update"
	q -d "$db" -c "\\copy stored TO '$tmp/stored.bin' (FORMAT binary)" || say_fail "$old: binary COPY out"

	q -d "$db" -c "ALTER EXTENSION customer_success UPDATE" || { say_fail "ALTER EXTENSION UPDATE from $old"; continue; }
	v=$(q -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'customer_success'")
	[ "$v" = "$current" ] && echo "ok   updated to $v" || say_fail "extversion after the update is $v, not $current"

	q -d "$db" <<<"$readback_sql" >"$tmp/after" || say_fail "$old: reading back after the update"
	if cmp -s "$tmp/before" "$tmp/after"; then
		echo "ok   stored values, views and materialized views read back the same ($(wc -l <"$tmp/after") lines)"
	else
		say_fail "$old: read-back differs after the update"; diff "$tmp/before" "$tmp/after" | head -20
	fi
	out=$(q -d "$db" <<SQL
CREATE TABLE stored_copy (LIKE stored);
\\copy stored_copy FROM '$tmp/stored.bin' (FORMAT binary)
SELECT count(*) FROM stored_copy c, stored s WHERE c::text = s::text;
SQL
)
	[ "$out" = 1 ] && echo "ok   binary COPY written by $old reads back" || say_fail "$old: binary COPY read back: $out"

	# a survival summary stored by $old (compact counts) serves the 1.2
	# functions: survival_table agrees with survival_curve row by row, and it
	# merges with a 1.2 summary with late entry
	out=$(q -d "$db" <<'SQL'
SELECT (SELECT count(*) FROM stored st, survival_table(st.survival) t
        JOIN survival_curve(st.survival) c ON c.duration = t.duration
        WHERE t.survival = c.survival AND t.at_risk = c.at_risk AND t.churned = c.churned)
       || ' ' || (SELECT count(*) FROM stored st, survival_curve(st.survival))
       || ' ' || (SELECT (median_lifetime_lower(survival, 0.95, 'log') <= median_lifetime(survival))::text FROM stored)
       || ' ' || (SELECT survival_customers(rollup(s)) FROM (SELECT survival FROM stored
                  UNION ALL SELECT survival_agg(tenure, churned, 0) FROM accounts) x(s));
SQL
)
	set -- $out
	[ $# = 4 ] && [ "$1" = "$2" ] && [ "$1" -gt 0 ] && [ "$3" = true ] && [ "$4" = 4000 ] \
		&& echo "ok   stored survival summary read by survival_table ($1 rows), median bounds, rollup with late entry" \
		|| say_fail "$old: stored survival summary through the 1.2 functions: $out"

	# the materialized views refresh, before and after new data arrives
	q -d "$db" -c "REFRESH MATERIALIZED VIEW daily" -c "REFRESH MATERIALIZED VIEW answers" \
		|| say_fail "$old: REFRESH MATERIALIZED VIEW after the update"
	q -d "$db" <<<"$readback_sql" >"$tmp/refreshed"
	cmp -s "$tmp/before" "$tmp/refreshed" && echo "ok   refreshed materialized views unchanged" \
		|| say_fail "$old: refreshed materialized views differ"
	out=$(q -d "$db" <<'SQL'
INSERT INTO responses SELECT date '2026-01-05', 10 FROM generate_series(1, 40);
REFRESH MATERIALIZED VIEW daily;
SELECT nps_responses(nps) || ' ' || (SELECT count(score) FROM responses WHERE day = '2026-01-05')
FROM daily WHERE day = '2026-01-05';
SQL
)
	set -- $out
	[ $# = 2 ] && [ "$1" = "$2" ] && echo "ok   new rows counted after a refresh ($1 responses that day)" \
		|| say_fail "$old: refresh after new rows: $out"

	# the 1.2 fit statistics read a churn_model stored by $old (computed on
	# read from its rows, churned and log_likelihood) as they read a new fit
	out=$(q -d "$db" <<'SQL'
SELECT a = b, a FROM
	(SELECT row(churn_model_log_likelihood(churn), churn_model_null_log_likelihood(churn),
	            churn_model_lr_p_value(churn), churn_model_pseudo_r2(churn))::text FROM stored) s(a),
	(SELECT row(churn_model_log_likelihood(m), churn_model_null_log_likelihood(m),
	            churn_model_lr_p_value(m), churn_model_pseudo_r2(m))::text
	 FROM (SELECT churn_model_fit(churned, usage, tickets) FROM accounts) f(m)) n(b);
SQL
)
	case "$out" in
		"t|("*,*,*,*")") echo "ok   churn model statistics of a model stored by $old: $out" ;;
		*) say_fail "$old: churn model statistics of the stored model: $out" ;;
	esac

	# the catalogue of the upgraded extension is that of a fresh install
	fresh=cs_fresh_$$
	dbs+=("$fresh")
	createdb "$fresh" && q -d "$fresh" -c "CREATE EXTENSION customer_success" || say_fail "fresh install of $current"
	fingerprint "$db" >"$tmp/upgraded" && fingerprint "$fresh" >"$tmp/fresh"
	if [ -s "$tmp/fresh" ] && cmp -s "$tmp/upgraded" "$tmp/fresh"; then
		echo "ok   upgraded catalogue = fresh $current install ($(wc -l <"$tmp/fresh") entries)"
	else
		say_fail "$old: upgraded catalogue differs from a fresh install (< upgraded, > fresh)"
		diff "$tmp/upgraded" "$tmp/fresh" | head -30
	fi
	dropdb --force "$fresh"
done
[ ${#dbs[@]} -gt 0 ] || say_fail "no released version older than $current to upgrade from"
[ $fail = 0 ] && echo "upgrade: all checks passed"
exit $fail
