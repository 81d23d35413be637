#!/bin/bash
# Usage: test/with-cluster test/bench/rss.sh [ROWS...]   (not in make test)
#
# Peak resident memory (VmHWM) of the backend that aggregates ROWS rows
# (default 1M, 10M, 50M) into each fixed-size summary: it must stay flat.
# Also two aggregates whose state follows distinct values, not rows, fed a
# bounded number of them: cohort_churn (48 distinct durations) and
# bgnbd_fit (CDNOW's 2,357 customers repeated: 1,016 distinct triples): flat as well.
# Rows are generated in the select list (streamed, never materialized),
# one fresh backend per measurement.  Runs on the same machine as the
# server (reads /proc/<pid>/status).  Add a line to `queries` for each
# new fixed-size summary aggregate (skipped where the function is missing).
set -euo pipefail
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(1000000 10000000 50000000)

queries=$(cat <<'Q'
count(*) (built-in, for comparison) | SELECT count(g::int % 11) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a * 100003 + b AS g) x
nps_agg(integer) | SELECT nps_agg(g::int % 11) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a * 100003 + b AS g) x
csat_agg(integer) | SELECT csat_agg(1 + g::int % 5) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a * 100003 + b AS g) x
nps(integer) | SELECT nps(g::int % 11) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a * 100003 + b AS g) x
retention_agg(double precision,double precision) | SELECT retention_agg((g % 100)::float8, (g % 90)::float8) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a::bigint * 100003 + b AS g) x
health_agg(double precision[],double precision[]) | SELECT health_agg(ARRAY[1,1]::float8[], VARIADIC ARRAY[(g % 10) / 10.0, (g % 7) / 7.0]::float8[]) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a::bigint * 100003 + b AS g) x
cohort_churn(double precision,boolean,double precision) | SELECT cohort_churn((g % 48)::float8, g % 5 = 0, 12) FROM generate_series(1, 1000) a, generate_series(1, :n / 1000) b, LATERAL (SELECT a::bigint * 100003 + b AS g) x
bgnbd_fit(double precision,double precision,double precision) | SELECT bgnbd_fit(frequency, recency, t) FROM rss_cdnow, generate_series(1, :n / 2357)
Q
)
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS customer_success" \
	-c "DROP TABLE IF EXISTS rss_cdnow" -c "CREATE TABLE rss_cdnow (id int, frequency float8, recency float8, t float8)" \
	-c "\\copy rss_cdnow FROM '$(dirname "$0")/../data/cdnow_customers_summary.csv' (FORMAT csv, HEADER)"
printf '%-50s %12s %10s %12s\n' aggregate rows seconds "peak RSS kB"
failed=0
while IFS='|' read -r func query; do
	func=$(echo "$func" | sed 's/ *$//')
	case "$func" in *built-in*) ;; *) [ "$(psql -X -At -c "SELECT to_regprocedure('$func') IS NOT NULL")" = t ] || continue ;; esac
	for n in "${rows[@]}"; do
		fifo=$(mktemp -u); mkfifo "$fifo"
		# one session: print its pid, run the query, then wait for us to read /proc
		psql -X -At -v n="$n" <"$fifo" >"$fifo.out" 2>&1 &
		bg=$!
		exec 3>"$fifo"
		# JIT would add LLVM's fixed ~60 MB above jit_above_cost, whatever the aggregate
		echo "\\set QUIET on" >&3; echo "SET jit = off;" >&3; echo "SELECT pg_backend_pid();" >&3
		for i in $(seq 1 50); do pid=$(head -1 "$fifo.out" 2>/dev/null); [ -n "$pid" ] && break; sleep 0.1; done
		t0=$(date +%s.%N)
		echo "\\o /dev/null" >&3
		echo "$query;" >&3
		echo "\\o" >&3
		echo "SELECT 'done';" >&3
		while ! grep -q '^done' "$fifo.out"; do sleep 0.05; kill -0 $bg 2>/dev/null || break; done
		t1=$(date +%s.%N)
		hwm=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
		if grep -q 'ERROR' "$fifo.out"; then
			echo "rss.sh: $func failed:" >&2; cat "$fifo.out" >&2; failed=1
		fi
		exec 3>&-
		wait $bg || true
		rm -f "$fifo" "$fifo.out"
		printf '%-50s %12s %10.1f %12s\n' "$func" "$n" "$(echo "$t1 - $t0" | bc)" "$hwm"
	done
done <<<"$queries"
exit $failed
