#!/bin/bash
# The recipe "Product engagement and stickiness with hll" (docs/hll.md), run
# as the page writes it (test/recipes/from-readme engagement-hll) with the hll
# extension (Debian postgresql-<major>-hll) on the demo data, then every
# sketch checked against the exact count(DISTINCT user_id) over the raw
# product_events:
#  - every daily sketch of the materialized view (day, account, event);
#  - the unions the recipe takes, recomputed from the view the same way:
#    MAU per month, WAU per week, the whole base per day, the sliding 28-day
#    window ending on each day, per account and per plan over the last 28
#    days (logins and each key feature);
#  - the account_engagement view: MAU, seat activation (MAU / seats),
#    stickiness (average DAU / MAU) and feature reach (feature users / MAU).
# Bound: hll's documented relative standard error 1.04 / sqrt(2^log2m)
# (log2m read from the sketches: 11 by default, 2.3%); every count must be
# within 4 standard errors of the exact count, a ratio of two estimates within
# (1 + 4 se) / (1 - 4 se) - 1 (8.8 se with the defaults) of the exact ratio.  (hll's
# EXPLICIT representation, which small sets such as one account's users use,
# is exact: the test reports how many estimates were exact.)  The results the
# page prints in comments must be what the recipe returns.
# Skipped (exit 77) where Debian has no hll package for this PostgreSQL major.
set -euo pipefail
cd "$(dirname "$0")/../.."

PG_CONFIG=${PG_CONFIG:-pg_config}
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
sharedir=$("$PG_CONFIG" --sharedir)
libdir=$("$PG_CONFIG" --pkglibdir)
# a private copy made by test/private-pg before hll was installed lacks it:
# copy Debian's files in (as test/t/integration-pgcron.sh does for pg_cron)
if [ ! -f "$sharedir/extension/hll.control" ] && [ -f "/usr/share/postgresql/$major/extension/hll.control" ] \
	&& [ -w "$libdir" ] && [ -w "$sharedir/extension" ]; then
	cp "/usr/lib/postgresql/$major/lib/hll.so" "$libdir/"
	cp /usr/share/postgresql/"$major"/extension/hll* "$sharedir/extension/"
fi
if [ ! -f "$sharedir/extension/hll.control" ]; then
	if command -v apt-cache >/dev/null && [[ "$(apt-cache policy "postgresql-$major-hll" 2>/dev/null)" == *"Candidate: "[0-9]* ]]; then
		echo "FAIL: postgresql-$major-hll exists in the archive but is not installed in $sharedir (test/packages-test)" >&2
		exit 1
	fi
	echo "SKIP: postgresql-$major-hll is not packaged for PostgreSQL $major"
	exit 77
fi

db=engagement_hll
tmp=$(mktemp -d)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

test/recipes/from-readme engagement-hll >"$tmp/recipe.sql"
createdb "$db"
# the demo's data, loaded as test/demo/run loads it
q -c 'CREATE EXTENSION customer_success' $(printf -- '-f %s ' test/demo/data*.sql) >/dev/null
psql -X -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/recipe.sql" >"$tmp/recipe.out"
echo "hll $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'hll'") on PostgreSQL $major: the recipe of docs/hll.md ran ($(q -c 'SELECT count(*) FROM daily_users') daily sketches)"

# the results the page prints after the queries, as comments
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
[ "$missing" = 0 ] || { cat "$tmp/recipe.out" >&2; exit 1; }
[ "$checked" -ge 10 ] || { echo "FAIL: only $checked printed result rows found in the recipe" >&2; exit 1; }
echo "the $checked result rows docs/hll.md prints match"

q <<'SQL'
CREATE SCHEMA hll_check;
CREATE TABLE hll_check.checks (what text, est float8, exact float8, ratio boolean);

-- every daily sketch
INSERT INTO hll_check.checks
SELECT 'daily ' || d.day || ' account ' || d.account_id || ' ' || d.event,
       hll_cardinality(d.users), e.n, false
FROM daily_users d
FULL JOIN (SELECT day, account_id, event, count(DISTINCT user_id) AS n
           FROM product_events GROUP BY 1, 2, 3) e USING (day, account_id, event);

-- unions over days: months, weeks, days (whole base), sliding 28 days
INSERT INTO hll_check.checks
SELECT 'MAU ' || m, est, exact, false FROM (
	SELECT date_trunc('month', day) AS m, hll_cardinality(hll_union_agg(users)) AS est
	FROM daily_users WHERE event = 'login' GROUP BY 1) h
FULL JOIN (SELECT date_trunc('month', day) AS m, count(DISTINCT user_id) AS exact
           FROM product_events WHERE event = 'login' GROUP BY 1) e USING (m);
INSERT INTO hll_check.checks
SELECT 'WAU ' || w, est, exact, false FROM (
	SELECT date_trunc('week', day) AS w, hll_cardinality(hll_union_agg(users)) AS est
	FROM daily_users WHERE event = 'login' GROUP BY 1) h
FULL JOIN (SELECT date_trunc('week', day) AS w, count(DISTINCT user_id) AS exact
           FROM product_events WHERE event = 'login' GROUP BY 1) e USING (w);
CREATE TEMP TABLE base_daily AS
SELECT day, event, hll_union_agg(users) AS users FROM daily_users GROUP BY day, event;
INSERT INTO hll_check.checks
SELECT 'DAU ' || day || ' ' || event, hll_cardinality(b.users), e.n, false
FROM base_daily b
FULL JOIN (SELECT day, event, count(DISTINCT user_id) AS n FROM product_events GROUP BY 1, 2) e USING (day, event);
-- exact distinct users of the 28 days up to each day: each (user, event) day
-- counts for the 28 window ends from that day on
INSERT INTO hll_check.checks
SELECT '28 days to ' || day || ' ' || event, s.est, e.n, false
FROM (SELECT day, event, hll_cardinality(hll_union_agg(users)
             OVER (PARTITION BY event ORDER BY day RANGE BETWEEN '27 days' PRECEDING AND CURRENT ROW)) AS est
      FROM base_daily) s
FULL JOIN (SELECT (p.day + k)::date AS day, p.event, count(DISTINCT p.user_id) AS n
           FROM (SELECT DISTINCT day, event, user_id FROM product_events) p, generate_series(0, 27) k
           WHERE p.day + k <= (SELECT max(day) FROM product_events)
           GROUP BY 1, 2) e USING (day, event);

-- per account and per plan, last 28 days
CREATE TEMP TABLE exact_28 AS
SELECT p.account_id, a.plan, p.event, p.user_id, p.day
FROM product_events p JOIN accounts a USING (account_id)
WHERE p.day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31';
INSERT INTO hll_check.checks
SELECT 'plan ' || plan || ' ' || event || ' 28 days', est, exact, false FROM (
	SELECT a.plan, d.event, hll_cardinality(hll_union_agg(d.users)) AS est
	FROM daily_users d JOIN accounts a USING (account_id)
	WHERE d.day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31' GROUP BY 1, 2) h
FULL JOIN (SELECT plan, event, count(DISTINCT user_id) AS exact FROM exact_28 GROUP BY 1, 2) e USING (plan, event);

-- the account_engagement view against exact figures
CREATE TEMP TABLE exact_account AS
SELECT account_id,
       count(DISTINCT (user_id, day)) FILTER (WHERE event = 'login')::float8 / 28 AS dau,
       count(DISTINCT user_id) FILTER (WHERE event = 'login') AS mau,
       count(DISTINCT user_id) FILTER (WHERE event = 'reports') AS reports_users,
       count(DISTINCT user_id) FILTER (WHERE event = 'automations') AS automations_users
FROM exact_28 GROUP BY account_id;
INSERT INTO hll_check.checks
SELECT 'account ' || account_id || ' ' || k, est, exact, k NOT IN ('mau', 'seat_activation')
FROM (SELECT coalesce(v.account_id, x.account_id) AS account_id, k, est, exact
      FROM account_engagement v
      FULL JOIN (SELECT * FROM exact_account WHERE mau > 0) x USING (account_id)
      LEFT JOIN LATERAL (SELECT seats FROM usage_weekly u WHERE u.account_id = x.account_id
                         ORDER BY week DESC LIMIT 1) s ON true
      CROSS JOIN LATERAL (VALUES
        ('mau', v.mau, x.mau::float8),
        ('seat_activation', v.seat_activation, x.mau::float8 / s.seats),
        ('stickiness', v.stickiness, x.dau / x.mau),
        ('reports_reach', v.reports_reach, x.reports_users::float8 / x.mau),
        ('automations_reach', v.automations_reach, x.automations_users::float8 / x.mau)) c(k, est, exact)) y;
SQL

se=$(q -c "SELECT DISTINCT 1.04 / sqrt(2 ^ hll_log2m(users)) FROM daily_users")
[ "$(wc -l <<<"$se")" = 1 ] || { echo "FAIL: the sketches do not share one log2m" >&2; exit 1; }
summary=$(q -v se="$se" <<'SQL'
WITH c AS (
	SELECT *, CASE WHEN ratio THEN (1 + 4 * :se) / (1 - 4 * :se) - 1 ELSE 4 * :se END AS bound,
	       abs(est - exact) / nullif(exact, 0) AS rel
	FROM hll_check.checks
)
SELECT format('%s estimates checked (%s exact, %s both NULL); largest relative error %s = %s standard errors (bound %s se for counts, %s se for ratios); RMS of the inexact ones %s se',
              count(*), count(*) FILTER (WHERE est = exact), count(*) FILTER (WHERE est IS NULL AND exact IS NULL),
              round(max(rel)::numeric, 5), round((max(rel) / :se)::numeric, 2),
              4, round((((1 + 4 * :se) / (1 - 4 * :se) - 1) / :se)::numeric, 2),
              round((sqrt(avg(rel ^ 2) FILTER (WHERE est <> exact)) / :se)::numeric, 2))
FROM c;
SQL
)
problems=$(q -v se="$se" <<'SQL'
SELECT string_agg(format('%s: hll %s, exact %s', what, est, exact), E'\n' ORDER BY what)
FROM (SELECT * FROM hll_check.checks
      WHERE (est IS NULL) <> (exact IS NULL)   -- both NULL: an account without seats on record
         OR NOT abs(est - exact) <= exact * CASE WHEN ratio THEN (1 + 4 * :se) / (1 - 4 * :se) - 1 ELSE 4 * :se END
      LIMIT 20) x;
SQL
)
echo "relative standard error 1.04/sqrt(2^log2m) = $se; $summary"
[ -z "$problems" ] || { echo "FAIL: outside hll's documented error, or missing on one side:" >&2; echo "$problems" >&2; exit 1; }
echo "every sketch, union and ratio is within the bound"
