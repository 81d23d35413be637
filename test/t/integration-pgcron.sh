#!/bin/bash
# Scheduled refreshes for real: a throwaway cluster of its own with Debian's
# pg_cron (postgresql-<major>-cron) preloaded, the recipe of
# test/recipes/scheduled-refresh.sql on the demo data, new survey answers
# arriving (some in a transaction still open when pg_cron first runs), pg_cron
# bringing the daily summary tables up to date from the new rows alone
# (INSERT ... ON CONFLICT DO UPDATE SET s = t.s + EXCLUDED.s), and the
# rolled-up monthly and quarterly metrics checked against plain SQL over the
# raw rows.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${1:-}" != inner ]; then
	PG_CONFIG=${PG_CONFIG:-pg_config}
	libdir=$("$PG_CONFIG" --pkglibdir)
	sharedir=$("$PG_CONFIG" --sharedir)
	major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	# a private copy made by test/private-pg before pg_cron was installed
	# lacks it: copy Debian's files in
	if [ ! -f "$libdir/pg_cron.so" ] && [ -f "/usr/lib/postgresql/$major/lib/pg_cron.so" ] \
		&& [ -w "$libdir" ]; then
		cp "/usr/lib/postgresql/$major/lib/pg_cron.so" "$libdir/"
		cp "/usr/share/postgresql/$major/extension/"pg_cron* "$sharedir/extension/"
	fi
	if [ ! -f "$libdir/pg_cron.so" ]; then
		# skipped only when Debian has no pg_cron for this major at all
		# (experimental's PostgreSQL 19); installed-but-missing fails
		if [[ "$(apt-cache policy "postgresql-$major-cron" 2>/dev/null)" != *"Candidate: "[^\(]* ]]; then
			echo "SKIP: Debian has no postgresql-$major-cron package for PostgreSQL $major in this distribution"
			exit 77
		fi
		echo "pg_cron is not installed in $libdir (Debian postgresql-$major-cron: test/run installs it)" >&2
		exit 1
	fi
	export PG_CONFIG
	CS_SERVER_OPTS="-c shared_preload_libraries=pg_cron -c cron.database_name=postgres" \
		exec test/with-cluster "$0" inner
fi

export PGDATABASE=postgres
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
q -q -c 'CREATE EXTENSION customer_success' -c 'CREATE EXTENSION pg_cron' \
	-f test/demo/data.sql -f test/recipes/scheduled-refresh.sql >/dev/null

# new answers after the views were built: a new month, and more answers on
# days and accounts that already have a summary row (rows that change)
q -q <<'SQL'
INSERT INTO nps_responses
SELECT 1 + (i * 7919) % 3000, date '2026-11-01' + i % 20, (i * 13) % 11 FROM generate_series(1, 400) i;
INSERT INTO nps_responses
SELECT account_id, responded_on, 10 FROM nps_responses WHERE responded_on BETWEEN '2026-09-01' AND '2026-09-10';
INSERT INTO csat_responses (account_id, answered_on, score)
SELECT 1 + (i * 7919) % 3000, date '2026-11-01' + i % 20, 1 + (i * 3) % 5 FROM generate_series(1, 300) i;
SQL
stale=$(q -c "SELECT count(*) FROM nps_monthly WHERE month = '2026-11-01'")
[ "$stale" = 0 ] || { echo "nps_monthly already shows November before the refresh" >&2; exit 1; }

# pg_cron >= 1.5 takes '1 seconds'; older ones (Debian 12 has 1.4) run at
# most once a minute
schedule='1 seconds'
q -c "SELECT cron.schedule('probe', '$schedule', 'SELECT 1')" >/dev/null 2>&1 || schedule='* * * * *'
q -c "SELECT cron.unschedule('probe')" >/dev/null 2>&1 || true
echo "pg_cron $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'"), schedule '$schedule'"
# answers of a transaction still open while pg_cron runs: held back by the
# watermark, merged by a later run once committed
coproc open_tx { psql -X -q -v ON_ERROR_STOP=1; }
open_tx_pid=$open_tx_PID    # bash unsets open_tx_PID once it has reaped the coprocess
echo "BEGIN; INSERT INTO nps_responses SELECT account_id, responded_on, 0 FROM nps_responses WHERE responded_on = '2026-10-01';" >&"${open_tx[1]}"
for i in $(seq 1 50); do
	[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND backend_xid IS NOT NULL")" = 1 ] && break
	sleep 0.1
done
q -c "SELECT cron.schedule('refresh-nps-daily', '$schedule', 'SELECT refresh_nps_daily()')" >/dev/null
q -c "SELECT cron.schedule('refresh-csat-daily', '$schedule', 'SELECT refresh_csat_daily()')" >/dev/null

# bounded wait: both jobs must have run successfully, in a run that started
# after time $1, within 150 s (with a schedule of a second, runs counted
# before a commit must not stand for runs after it)
wait_runs() {
	local since=$1 i
	for i in $(seq 1 150); do
		failed=$(q -c "SELECT string_agg(return_message, '; ') FROM cron.job_run_details WHERE status = 'failed'")
		[ -z "$failed" ] || { echo "a refresh failed: $failed" >&2; exit 1; }
		[ "$(q -c "SELECT count(DISTINCT jobid) FROM cron.job_run_details
		           WHERE status = 'succeeded' AND start_time > '$since'")" = 2 ] && { echo "$i"; return; }
		sleep 1
	done
	echo "pg_cron did not run both refreshes after $since within 150 s" >&2
	q -c 'SELECT * FROM cron.job_run_details' >&2; tail -20 "$CS_SERVER_LOG" >&2; exit 1
}
waited=$(wait_runs "$(q -c 'SELECT clock_timestamp()')")
echo "refreshed by pg_cron after ${waited} s"
held=$(q -c "SELECT nps_responses(rollup(nps)) FROM nps_daily WHERE day = '2026-10-01'")
raw_committed=$(q -c "SELECT count(*) FROM nps_responses WHERE responded_on = '2026-10-01'")
[ "$held" = "$raw_committed" ] || { echo "2026-10-01 holds $held answers, $raw_committed committed" >&2; exit 1; }
echo "COMMIT;" >&"${open_tx[1]}"
exec {open_tx[1]}>&-
wait "$open_tx_pid"
waited=$(wait_runs "$(q -c 'SELECT clock_timestamp()')")
q -c "SELECT cron.unschedule(jobid) FROM cron.job" >/dev/null
echo "the answers of a transaction open during the first run: merged by the next, after ${waited} s"

# the dashboards against plain SQL over the raw rows: every month, quarter
# and plan present on both sides, counts equal, rates to 1e-12 relative
q -q <<'SQL'
CREATE FUNCTION pg_temp.differs(a float8, b float8) RETURNS boolean
	LANGUAGE sql AS 'SELECT abs(a - b) > 1e-12 * greatest(1, abs(a), abs(b))';
CREATE TABLE problems AS
WITH raw_nps AS (
	SELECT date_trunc('month', responded_on)::date AS month,
	       count(*) FILTER (WHERE score >= 9) AS p, count(*) FILTER (WHERE score <= 6) AS d, count(score) AS n
	FROM nps_responses GROUP BY 1
), raw_plan AS (
	SELECT date_trunc('quarter', responded_on)::date AS quarter, a.plan,
	       count(*) FILTER (WHERE score >= 9) AS p, count(*) FILTER (WHERE score <= 6) AS d, count(score) AS n
	FROM nps_responses JOIN accounts a USING (account_id) GROUP BY 1, 2
), raw_csat AS (
	SELECT date_trunc('month', answered_on)::date AS month,
	       count(*) FILTER (WHERE score >= 4) AS s, count(score) AS n
	FROM csat_responses GROUP BY 1
)
SELECT 'nps ' || coalesce(v.month, r.month) AS what
FROM nps_monthly v FULL JOIN raw_nps r USING (month)
WHERE v.responses IS DISTINCT FROM r.n OR v.promoters IS DISTINCT FROM r.p OR v.detractors IS DISTINCT FROM r.d
   OR pg_temp.differs(v.nps, 100.0 * (r.p - r.d) / r.n)
   OR pg_temp.differs(v.nps_margin_95,
        1.959963984540054 * sqrt(((r.p + r.d)::float8 / r.n - ((r.p - r.d)::float8 / r.n)^2) / r.n) * 100)
UNION ALL
SELECT 'nps by plan ' || coalesce(v.quarter, r.quarter) || ' ' || coalesce(v.plan, r.plan)
FROM nps_quarterly_by_plan v FULL JOIN raw_plan r USING (quarter, plan)
WHERE v.responses IS DISTINCT FROM r.n OR pg_temp.differs(v.nps, 100.0 * (r.p - r.d) / r.n)
UNION ALL
SELECT 'csat ' || coalesce(v.month, r.month)
FROM csat_monthly v FULL JOIN raw_csat r USING (month)
WHERE v.responses IS DISTINCT FROM r.n OR pg_temp.differs(v.csat, r.s::float8 / r.n)
   OR pg_temp.differs(v.csat_margin_95,
        1.959963984540054 * sqrt((r.s::float8 / r.n) * (1 - r.s::float8 / r.n) / r.n));
SQL
problems=$(q -c "SELECT string_agg(what, ', ') FROM problems")
months=$(q -c 'SELECT count(*) FROM nps_monthly')
november=$(q -c "SELECT responses || ' responses, NPS ' || round(nps::numeric, 2) FROM nps_monthly WHERE month = '2026-11-01'")
[ -z "$problems" ] || { echo "dashboards differ from plain SQL: $problems" >&2; exit 1; }
echo "nps_monthly ($months months, November: $november), nps_quarterly_by_plan and csat_monthly agree with plain SQL"
