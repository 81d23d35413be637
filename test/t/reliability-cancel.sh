#!/bin/bash
# Cancellation: statement_timeout and pg_cancel_backend() stop every
# long-running aggregate and fit within 1 s, and the backend stays usable.
#
# One line per case below: name | function that must exist (the case is
# skipped on a branch without it) | query that runs far longer than the
# timeout.  clv: one call of 100,000 periods whose every expectation costs
# thousands of series terms (about 5 s uninterrupted).  For the fits, whose work is in the final function, the input is
# generated in the select list (streaming, no materialization), so the
# timeout may fall during the accumulation or during the fit: size the
# input so the fit alone takes several seconds (see notes/reliability.md).
set -uo pipefail
timeout_ms=${CS_CANCEL_TIMEOUT_MS:-1000}
slack_ms=1000

cases=$(cat <<'CASES'
nps | nps(integer) | SELECT nps(g) FROM (SELECT (generate_series(1, 2000000000) % 11)::int AS g) s
nps_agg | nps_agg(integer) | SELECT nps_agg(g) FROM (SELECT (generate_series(1, 2000000000) % 11)::int AS g) s
rollup_nps | rollup(nps_summary) | SELECT rollup(s) FROM (SELECT 'v=1 counts={1,2,3,4,5,6,7,8,9,10,11}'::nps_summary AS s, generate_series(1, 2000000000)) x
csat | csat(integer) | SELECT csat(g) FROM (SELECT (1 + generate_series(1, 2000000000) % 5)::int AS g) s
retention_agg | retention_agg(double precision,double precision) | SELECT retention_agg((g % 100)::float8, (g % 90)::float8) FROM (SELECT generate_series(1, 2000000000) AS g) s
survival_agg | survival_agg(double precision,boolean) | SELECT survival_agg((g % 1000)::float8, g % 3 = 0) FROM (SELECT generate_series(1, 2000000000) AS g) s
health_agg | health_agg(double precision[],double precision[]) | SELECT health_agg(ARRAY[1,1]::float8[], VARIADIC ARRAY[(g % 10) / 10.0, (g % 7) / 7.0]::float8[]) FROM (SELECT generate_series(1, 2000000000) AS g) s
bgnbd_fit | bgnbd_fit(double precision,double precision,double precision) | SELECT bgnbd_fit((g % 10)::float8, ((g % 10) * 3)::float8, 40) FROM (SELECT generate_series(1, 2000000000) AS g) s
gamma_gamma_fit | gamma_gamma_fit(double precision,double precision) | SELECT gamma_gamma_fit((1 + g % 10)::float8, (10 + g % 50)::float8) FROM (SELECT generate_series(1, 2000000000) AS g) s
churn_model_fit | churn_model_fit(boolean,double precision[]) | SELECT churn_model_fit(g % 3 = 0, VARIADIC ARRAY[(g % 10) / 10.0, (g % 7) / 7.0]::float8[]) FROM (SELECT generate_series(1, 2000000000) AS g) s
auc | auc(double precision,boolean) | SELECT auc((g % 1000)::float8, g % 3 = 0) FROM (SELECT generate_series(1, 2000000000) AS g) s
clv | clv(bgnbd_model,gamma_gamma_model,double precision,double precision,double precision,double precision,integer,double precision,double precision) | SELECT clv('v=1 r=0.243 alpha=4.414 a=1.000001 b=2000 log_likelihood=-1 customers=1', 'v=1 p=6.25 q=3.74 v=15.44 log_likelihood=-1 customers=1', 1000, 30, 38, 40, 100000, 1, 0.01)
CASES
)

now_ms() { date +%s%3N; }
db=cs_cancel_$$
export PGDATABASE=$db
createdb "$db" || exit 1
trap 'dropdb --if-exists --force "$db" >/dev/null 2>&1' EXIT
psql -X -q -c "CREATE EXTENSION customer_success" || exit 1

passed=0
failed=0
skipped=0
while IFS='|' read -r name func query; do
	name=$(echo $name); func=$(echo "$func" | sed 's/^ *//; s/ *$//')
	[ -n "$name" ] || continue
	if [ "$(psql -X -At -c "SELECT to_regprocedure('$func') IS NOT NULL")" != t ]; then
		echo "skip  $name: no $func on this branch"
		skipped=$((skipped + 1))
		continue
	fi

	# statement_timeout
	t0=$(now_ms)
	out=$(psql -X -At 2>&1 <<SQL
SET statement_timeout = $timeout_ms;
$query;
RESET statement_timeout;
SELECT 'alive ' || nps(7);
SQL
)
	elapsed=$(( $(now_ms) - t0 ))
	if grep -q "canceling statement due to statement timeout" <<<"$out" && grep -q "^alive" <<<"$out" \
		&& [ $elapsed -lt $((timeout_ms + slack_ms)) ]; then
		echo "ok    $name: statement_timeout ${timeout_ms} ms, returned after ${elapsed} ms, backend usable"
		passed=$((passed + 1))
	else
		echo "FAIL  $name: statement_timeout ${timeout_ms} ms, returned after ${elapsed} ms:"; echo "$out" | head -5
		failed=$((failed + 1))
	fi

	# pg_cancel_backend from another session
	app=cs_cancel_$name
	out_file=$(mktemp)
	PGAPPNAME=$app psql -X -At >"$out_file" 2>&1 <<SQL &
$query;
SELECT 'alive ' || nps(7);
SQL
	bg=$!
	sleep 1
	pid=
	for i in $(seq 1 20); do
		pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' AND state = 'active'")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	t0=$(now_ms)
	[ -n "$pid" ] && psql -X -Atq -c "SELECT pg_cancel_backend($pid)" >/dev/null
	# wait for the cancelled statement to end: the session then runs the check
	while kill -0 $bg 2>/dev/null && [ $(( $(now_ms) - t0 )) -lt 10000 ]; do sleep 0.02; done
	elapsed=$(( $(now_ms) - t0 ))
	kill $bg 2>/dev/null; wait $bg 2>/dev/null
	out=$(cat "$out_file"); rm -f "$out_file"
	if [ -n "$pid" ] && grep -q "canceling statement due to user request" <<<"$out" && grep -q "^alive" <<<"$out" \
		&& [ $elapsed -lt $slack_ms ]; then
		echo "ok    $name: pg_cancel_backend, session done after ${elapsed} ms, backend usable"
		passed=$((passed + 1))
	else
		echo "FAIL  $name: pg_cancel_backend (pid ${pid:-not found}), ${elapsed} ms:"; echo "$out" | head -5
		failed=$((failed + 1))
	fi
done <<<"$cases"
echo "cancel: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
