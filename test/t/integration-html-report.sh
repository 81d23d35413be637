#!/bin/bash
# The HTML report of `make demo` renders in headless Chromium (Debian
# chromium) and shows the numbers the SQL computes: builds it from the demo
# data (test/demo/html/build), takes a screenshot, dumps the DOM and looks
# for the monthly NPS (with its interval and count), the monthly CSAT and the
# last-12-months NPS, each recomputed here in plain SQL without the
# extension, and (when cox is installed) the Cox section's counts and
# hazard ratios.  Also renders test/demo/html/examples.json (one section of
# every kind the renderer knows).  Set CS_KEEP_REPORT=DIR to keep the files.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v chromium >/dev/null || { echo "missing chromium (Debian chromium)" >&2; exit 1; }
tmp=$(mktemp -d)
db=cs_html_report
trap 'dropdb --if-exists $db; rm -rf "$tmp"' EXIT
createdb $db
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION customer_success' \
	$(printf -- "-f %s " test/demo/data*.sql) >/dev/null
test/demo/html/build "$tmp/report.html"
/usr/bin/python3 test/demo/html/render.py test/demo/html/examples.json >"$tmp/examples.html"

# self-contained: nothing to fetch (no src/href to a resource, no url(), no @import)
if grep -Eo '(src|href)="[^#"][^"]*"|url\(|@import' "$tmp/report.html" "$tmp/examples.html"; then
	echo "the report refers to outside resources" >&2; exit 1
fi

browse() {	# browse PAGE OUTPUT_FLAG... : one headless run with a fresh profile
	local page=$1; shift
	local profile
	profile=$(mktemp -d "$tmp/profile.XXXXXX")
	# any name lookup fails: the page must not need the network
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$profile" \
		--window-size=1100,2200 --hide-scrollbars "$@" "file://$page"
}
for page in report examples; do
	browse "$tmp/$page.html" --screenshot="$tmp/$page.png" >"$tmp/$page.shot.log" 2>&1 \
		|| { cat "$tmp/$page.shot.log"; echo "chromium failed on $page.html" >&2; exit 1; }
	if grep -E 'ERR_|Uncaught|CONSOLE' "$tmp/$page.shot.log"; then
		echo "chromium reported errors on $page.html" >&2; exit 1
	fi
	/usr/bin/python3 - "$tmp/$page.png" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1100, 2200) and len(data) > 20000, "screenshot %dx%d, %d bytes" % (w, h, len(data))
PY
	browse "$tmp/$page.html" --dump-dom >"$tmp/$page.dom" 2>"$tmp/$page.dom.log" \
		|| { cat "$tmp/$page.dom.log"; echo "chromium --dump-dom failed on $page.html" >&2; exit 1; }
done

# the numbers, recomputed in plain SQL (counts, no extension function)
psql -X -At -v ON_ERROR_STOP=1 >"$tmp/expected" <<'SQL'
WITH m AS (
	SELECT to_char(responded_on, 'YYYY-MM') AS month, count(*) FILTER (WHERE score >= 9) AS p,
	       count(*) FILTER (WHERE score <= 6) AS d, count(score) AS n
	FROM nps_responses GROUP BY 1
), v AS (
	SELECT month, n, 100.0::float8 * (p - d) / n AS nps,
	       1.959963984540054 * sqrt(((p + d)::float8 / n - ((p - d)::float8 / n)^2) / n) * 100 AS moe
	FROM m WHERE n >= 30
)
SELECT format('NPS %s: %s (%s to %s), n = %s', month, round(nps::numeric, 1),
              round((nps - moe)::numeric, 1), round((nps + moe)::numeric, 1), n)
FROM v
UNION ALL
SELECT format('CSAT %% %s: %s (', to_char(answered_on, 'YYYY-MM'),
              round((100 * (count(*) FILTER (WHERE score >= 4))::float8 / count(score))::numeric, 1))
FROM csat_responses GROUP BY to_char(answered_on, 'YYYY-MM') HAVING count(score) >= 30
UNION ALL
SELECT format('<div class="kpi-value">%s</div>',
              round((100.0::float8 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6))
                     / count(score))::numeric, 1))
FROM nps_responses WHERE responded_on >= '2025-11-01';
SQL
# engagement (test/demo/html/60_engagement.sql): present whenever the hll
# extension is; its per-plan active users (hll estimates) within 4 of hll's
# relative standard errors (1.04/sqrt(2^11)) of the exact distinct counts
engagement=ok
if [ "$(psql -X -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'hll'")" != 0 ]; then
	for s in engagement-by-plan engagement-trend; do
		grep -q "<section id=\"$s\"" "$tmp/report.dom" || { echo "section $s missing (hll is installed)" >&2; engagement=bad; }
	done
	psql -X -At -F ' ' -v ON_ERROR_STOP=1 >"$tmp/mau.exact" <<'SQL'
SELECT a.plan, count(DISTINCT p.user_id) FROM product_events p JOIN accounts a USING (account_id)
WHERE p.event = 'login' AND p.day BETWEEN date '2026-10-31' - 27 AND date '2026-10-31' GROUP BY 1;
SQL
	grep -o 'Active users (MAU): [^.]*' "$tmp/report.dom" >"$tmp/mau.shown" || true
	/usr/bin/python3 - "$tmp/mau.exact" "$tmp/mau.shown" <<'PY' || engagement=bad
import math, re, sys
exact = dict((l.split()[0], int(l.split()[1])) for l in open(sys.argv[1]) if l.strip())
text = open(sys.argv[2]).read()
shown = dict((p, int(n.replace(',', ''))) for p, n in re.findall(r'(\w+) ([\d,]+)', text.split(':', 1)[-1]))
bound = 4 * 1.04 / math.sqrt(2 ** 11)
assert set(shown) == set(exact) and exact, "plans shown %s, in the data %s" % (sorted(shown), sorted(exact))
for p, n in exact.items():
    assert abs(shown[p] - n) <= bound * n, "%s: report %d active users, exact %d" % (p, shown[p], n)
PY
fi
[ "$engagement" = ok ] || { echo "engagement section wrong" >&2; exit 1; }

# sections of families that may not be installed: checked when present
if grep -q '<section id="mrr-bridge"' "$tmp/report.dom"; then
	# October MRR (a plain sum) and September MRR, with thousands separators
	psql -X -At -v ON_ERROR_STOP=1 >>"$tmp/expected" <<'SQL'
SELECT format('%s MRR: %s</title>', m, to_char(round(sum(mrr)), 'FM999,999,999,990'))
FROM (VALUES ('September', date '2026-09-01'), ('October', date '2026-10-01')) v(m, d)
JOIN mrr_monthly ON month = d GROUP BY m;
SQL
fi
if grep -q '<section id="cohort-retention"' "$tmp/report.dom"; then
	# Kaplan-Meier after one month by hand: every account is at risk at 1
	# (nobody leaves before), so S(1) = 1 - churned at 1 / accounts
	psql -X -At -v ON_ERROR_STOP=1 >>"$tmp/expected" <<'SQL'
WITH l AS (
	SELECT date_trunc('quarter', signed_up)::date AS q,
	       (SELECT extract(year FROM x) * 12 + extract(month FROM x)
	        FROM age(coalesce(churned_on, date '2026-11-01'), date_trunc('month', signed_up)) x) AS months,
	       churned_on IS NOT NULL AS churned
	FROM accounts
)
SELECT format('title="%s (%s) M1: %s"', to_char(q, 'YYYY "Q"Q'), count(*),
              round(100 * (1 - (count(*) FILTER (WHERE churned AND months <= 1))::numeric / count(*)))::int)
FROM l GROUP BY q HAVING min(months) >= 1;
SQL
fi
if grep -q '<section id="churn-by-reason"' "$tmp/report.dom"; then
	# cumulative incidence after one month by hand: everyone is at risk at 1
	# (nobody leaves before), so F_reason(1) = churned for it at 1 / accounts
	psql -X -At -v ON_ERROR_STOP=1 >>"$tmp/expected" <<'SQL'
WITH l AS (
	SELECT (SELECT extract(year FROM x) * 12 + extract(month FROM x)
	        FROM age(coalesce(a.churned_on, date '2026-11-01'), date_trunc('month', a.signed_up)) x) AS months,
	       c.reason
	FROM accounts a LEFT JOIN cancellations c USING (account_id)
)
SELECT format('%s 1: %s', r, round(100 * (count(*) FILTER (WHERE reason = r AND months <= 1))::numeric / count(*), 1))
FROM l, unnest(ARRAY['payment failure', 'downgrade to free', 'voluntary']) r
GROUP BY r HAVING min(months) >= 1;
SQL
	grep -q 'Log-rank test, plans compared: chi-square [0-9.]* on 3 degrees of freedom, p = ' "$tmp/report.dom" \
		|| { echo "no log-rank p-value under the survival curves" >&2; exit 1; }
fi
if grep -q '<section id="churn-drivers"' "$tmp/report.dom"; then
	# the Cox section (45_cox.sql): the account-weeks and churns of its
	# subtitle counted in plain SQL (no extension function), and each hazard
	# ratio's tooltip what cox_summary gives for docs/cox.md's recipe fit
	grep -q '<section id="churn-curves"' "$tmp/report.dom" || { echo "churn-drivers without churn-curves" >&2; exit 1; }
	psql -X -At -q -v ON_ERROR_STOP=1 >>"$tmp/expected" <<'SQL'
SELECT format('cox_fit on %s account-weeks (%s churns)', to_char(count(*), 'FM9,999,999'),
              count(DISTINCT account_id) FILTER (WHERE churned_on IS NOT NULL))
FROM usage_weekly JOIN accounts USING (account_id);
CREATE TEMP TABLE w AS
SELECT u.account_id, a.plan, (u.week - a.signed_up) / 7 AS entry,
       a.churned_on IS NOT NULL AND u.week = max(u.week) OVER (PARTITION BY u.account_id) AS churned,
       ARRAY[u.active_users::float8 / u.seats, u.features_used / 12.0::float8,
             u.logins::float8 / u.seats, u.open_tickets::float8] AS x
FROM usage_weekly u JOIN accounts a USING (account_id);
SELECT format('%s: %s (%s to %s), p = %s', (ARRAY['share of seats active', 'share of the 12 features used',
              'logins per seat a week', 'open tickets'])[s.signal],
              round(s.hazard_ratio::numeric, 3), round(s.lower::numeric, 3), round(s.upper::numeric, 3), round(s.p_value::numeric, 3))
FROM (SELECT cox_fit(entry, entry + 1, churned, x, 1, plan, account_id::text, 'efron') AS m FROM w) f, cox_summary(m) s;
SQL
fi

missing=0
while IFS= read -r line; do
	grep -qF -- "$line" "$tmp/report.dom" || { echo "not in the rendered report: $line" >&2; missing=$((missing + 1)); }
done <"$tmp/expected"
expected=$(wc -l <"$tmp/expected")
[ "$expected" -ge 30 ] || { echo "only $expected expected figures: the demo data changed?" >&2; exit 1; }
for s in nps-trend csat-trend nps-by-plan nps-scores alerts; do
	grep -q "<section id=\"$s\"" "$tmp/report.dom" || { echo "section $s missing" >&2; missing=$((missing + 1)); }
done
for text in '+23100' '-9870' '430480' '0.71' 'Account 1377' '18,930.10' 'Enterprise interval' 'voluntary 12: 9.1' 'share of seats active: 0.306 (0.118 to 0.791), p = 0.015' '1.42 (1.12 to 1.8) · p = 0.004'; do
	grep -qF -- "$text" "$tmp/examples.dom" || { echo "not in the rendered examples: $text" >&2; missing=$((missing + 1)); }
done
if [ -n "${CS_KEEP_REPORT:-}" ]; then
	mkdir -p "$CS_KEEP_REPORT" && cp "$tmp"/*.html "$tmp"/*.png "$CS_KEEP_REPORT/"
fi
[ $missing -eq 0 ] || exit 1
echo "report and examples render; $expected figures recomputed in plain SQL found in the page"
