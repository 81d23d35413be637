#!/bin/bash
# Safe installation (customer_success.control has trusted = true):
#  1. the install script has no SECURITY DEFINER and every SQL-language
#     function (none yet) pins search_path or is checked below;
#  2. a non-superuser with CREATE on a database installs the extension into
#     its own schema, with a hostile search_path in effect;
#  3. with schema "evil" first in search_path, holding a shadow of every
#     function of the extension and of the pg_catalog math functions and
#     float8 operators a SQL body might call, every function and aggregate of
#     the extension (called with the edge values of test/fuzz/sqlfuzz.sql)
#     never reaches a shadow (each raises SQLSTATE HJ001);
#  4. the summaries work in an index expression and a materialized view
#     refreshed under that search_path; a role without CREATE cannot install.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
say_fail() { echo "FAIL: $*"; fail=1; }

# 1. static checks of the install script
if grep -n -i "security *definer" ../src/*.sql; then
	say_fail "SECURITY DEFINER in the install script"
fi
grep -q "^trusted *= *true" ../customer_success.control || say_fail "customer_success.control is not trusted"

db=cs_install_$$
createdb "$db" || exit 1
cleanup() {
	dropdb --if-exists --force "$db" >/dev/null 2>&1
	psql -X -q -c "DROP ROLE IF EXISTS cs_alice" -c "DROP ROLE IF EXISTS cs_bob" >/dev/null 2>&1
}
trap cleanup EXIT
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
CREATE ROLE cs_alice LOGIN;
CREATE ROLE cs_bob LOGIN;
GRANT CREATE ON DATABASE $db TO cs_alice;
SQL
alice() { psql -X -q -U cs_alice -d "$db" -v ON_ERROR_STOP=1 "$@"; }

# a role without CREATE on the database may not install it
out=$(psql -X -q -U cs_bob -d "$db" -c "CREATE EXTENSION customer_success" 2>&1)
grep -q "permission denied" <<<"$out" || say_fail "cs_bob (no CREATE privilege) could install: $out"

# 2. install as cs_alice, hostile search_path with shadows of math functions
alice >/dev/null <<'SQL' || say_fail "cs_alice could not install the extension"
SET client_min_messages = warning;
CREATE SCHEMA evil;
CREATE SCHEMA analytics;
CREATE SCHEMA data;
-- A shadow raises HJ001 naming itself.
CREATE FUNCTION evil.hijacked(what text) RETURNS void LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked: %', what USING ERRCODE = 'HJ001'; END $$;
DO $$
DECLARE
	r record;
	args text;
BEGIN
	FOR r IN SELECT p.proname, p.oid, p.proargtypes, p.prorettype, p.proretset, p.prokind
			 FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace
			   AND p.proname IN ('sqrt', 'exp', 'ln', 'log', 'abs', 'floor', 'ceil', 'round', 'trunc', 'sign',
			                     'power', 'pow', 'lgamma', 'greatest', 'array_length', 'array_lower', 'array_upper',
			                     'cardinality', 'array_ndims', 'random', 'sum', 'avg', 'max', 'min', 'array_agg')
			   AND p.prokind IN ('f', 'a') AND NOT p.proretset
			   AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) a(t) WHERE t IN ('internal'::regtype, 'anyelement'::regtype, 'anynonarray'::regtype, 'anycompatible'::regtype, 'record'::regtype))
	LOOP
		SELECT coalesce(string_agg(format_type(t, NULL), ', '), '') INTO args FROM unnest(r.proargtypes::oid[]) t;
		BEGIN
			IF r.prokind = 'f' THEN
				EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM evil.hijacked(%L); RETURN NULL; END $f$',
							   r.proname, args, format_type(r.prorettype, NULL), r.oid::regprocedure::text);
			ELSIF args NOT LIKE '%,%' AND args <> '' AND args NOT LIKE 'any%' THEN
				EXECUTE format('CREATE FUNCTION evil.%I(%s, %s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM evil.hijacked(%L); RETURN NULL; END $f$',
							   'sf_' || r.proname, format_type(r.prorettype, NULL), args, format_type(r.prorettype, NULL), r.oid::regprocedure::text);
				EXECUTE format('CREATE AGGREGATE evil.%I(%s) (SFUNC = evil.%I, STYPE = %s)',
							   r.proname, args, 'sf_' || r.proname, format_type(r.prorettype, NULL));
			END IF;
		EXCEPTION WHEN duplicate_function THEN NULL;
		END;
	END LOOP;
	-- operators on float8 and bigint
	FOR r IN SELECT o.oprname, o.oprleft::regtype AS l, o.oprright::regtype AS rt, o.oprresult::regtype AS res, o.oid::regoperator AS sig
			 FROM pg_operator o WHERE o.oprnamespace = 'pg_catalog'::regnamespace
			   AND o.oprname IN ('+', '-', '*', '/', '<', '>', '<=', '>=', '=', '<>')
			   AND o.oprleft IN ('float8'::regtype, 'int8'::regtype, 'int4'::regtype)
			   AND o.oprright IN ('float8'::regtype, 'int8'::regtype, 'int4'::regtype)
	LOOP
		EXECUTE format('CREATE FUNCTION evil.%I(%s, %s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM evil.hijacked(%L); RETURN NULL; END $f$',
					   'op_' || md5(r.sig::text), r.l, r.rt, r.res, r.sig::text);
		EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.%I)',
					   r.oprname, r.l, r.rt, 'op_' || md5(r.sig::text));
	END LOOP;
END $$;
SET search_path = evil, analytics, pg_catalog, public;
CREATE EXTENSION customer_success SCHEMA analytics;
SQL
[ "$(psql -X -At -d "$db" -c "SELECT extowner::regrole FROM pg_extension WHERE extname = 'customer_success'")" = cs_alice ] ||
	say_fail "the extension is not installed, or not owned by cs_alice"

# 3. shadows of every function of the extension, then every call under the hostile path
alice >/dev/null <<'SQL' || say_fail "could not collect the calls"
SET client_min_messages = warning;
SET search_path = public;
\i fuzz/sqlfuzz.sql
SELECT setseed(0.25);
SELECT cs_fuzz.make_seeds(30);
SET cs_fuzz.collect_only = on;
SELECT cs_fuzz.call_functions(3);
-- the extension's own functions, shadowed in evil
DO $$
DECLARE
	r record;
	args text;
BEGIN
	FOR r IN SELECT p.proname, p.oid, p.proargtypes, p.prorettype, p.proretset, p.prokind
			 FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
			 JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
			 WHERE p.prokind = 'f' AND NOT p.proretset
			   AND NOT EXISTS (SELECT 1 FROM pg_type ty WHERE ty.typtype = 'p'
			                   AND (ty.oid = ANY (p.proargtypes::oid[]) OR ty.oid = p.prorettype))
	LOOP
		SELECT coalesce(string_agg(format_type(t, NULL), ', '), '') INTO args FROM unnest(r.proargtypes::oid[]) t;
		EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM evil.hijacked(%L); RETURN NULL; END $f$',
					   r.proname, args,
					   format_type(r.prorettype, NULL), r.oid::regprocedure::text);
	END LOOP;
END $$;
SQL
# run the collected statements from psql, so that no plpgsql of ours is
# planned under the hostile path
alice -At -c "SELECT query || ';' FROM cs_fuzz.collected" >"/tmp/cs_install_calls_$$.sql" || say_fail "no calls collected"
ncalls=$(wc -l <"/tmp/cs_install_calls_$$.sql")
{
	echo "SET search_path = evil, analytics, pg_catalog, public;"
	echo "\\set VERBOSITY sqlstate"
	cat "/tmp/cs_install_calls_$$.sql"
} | alice -v ON_ERROR_STOP=0 -At >"/tmp/cs_install_out_$$.txt" 2>&1
hijacks=$(grep -c "HJ001" "/tmp/cs_install_out_$$.txt" || true)
shadows=$(alice -At -c "SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = 'evil'::regnamespace) || ' functions and aggregates, ' || (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace) || ' operators'")
echo "shadows in schema evil: $shadows"
echo "calls under the hostile search_path: $ncalls, reaching a shadow: $hijacks"
[ "$ncalls" -gt 50 ] || say_fail "too few calls collected ($ncalls)"
[ "$hijacks" = 0 ] || { say_fail "a shadow function was called"; grep -B2 HJ001 "/tmp/cs_install_out_$$.txt" | head; }
# the shadows do work when called unqualified (the test is not vacuous)
out=$(alice -At -c "SET search_path = evil, analytics, pg_catalog" -c "SELECT nps_responses('v=1 counts={0,0,0,0,0,0,0,0,0,0,1}'::nps_summary)" 2>&1)
grep -q "hijacked" <<<"$out" || say_fail "an unqualified call did not reach the shadow: $out"
rm -f "/tmp/cs_install_calls_$$.sql" "/tmp/cs_install_out_$$.txt"

# 4. index expression and materialized view, refreshed under the hostile path
alice >/dev/null <<'SQL' || say_fail "index expression / materialized view under the hostile search_path"
SET search_path = evil, analytics, pg_catalog, public;
CREATE TABLE data.daily (day int, s analytics.nps_summary);
INSERT INTO data.daily SELECT d, analytics.nps_agg(g % 11) FROM pg_catalog.generate_series(1, 300) g,
	pg_catalog.generate_series(1, 5) d GROUP BY d;
CREATE INDEX ON data.daily (analytics.nps(s));
CREATE MATERIALIZED VIEW data.monthly AS SELECT analytics.rollup(s) AS s FROM data.daily;
REFRESH MATERIALIZED VIEW data.monthly;
SELECT analytics.nps(s) FROM data.monthly;
SQL
[ "$(alice -At -c "SELECT analytics.nps_responses(s) FROM data.monthly")" = 1500 ] ||
	say_fail "materialized view gives a wrong answer"

# uninstall as the owner
alice -q -c "SET client_min_messages = warning" -c "DROP SCHEMA evil, data, cs_fuzz CASCADE" || say_fail "cleanup"
alice -c "DROP EXTENSION customer_success" || say_fail "cs_alice could not drop the extension"

[ $fail = 0 ] && echo "install: ok" || echo "install: FAILED"
exit $fail
