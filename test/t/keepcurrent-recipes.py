#!/usr/bin/python3
# The recipes of docs/keeping-current.md (keepcurrent-types, -append, -check,
# -corrections, -realtime, -realtime-upsert, -alerts), extracted by test/recipes/from-readme and
# run as the page writes them on the demo data: the result rows the page
# prints are what they return, in order.  Then the kept tables are put
# through new, back-dated, corrected, moved and deleted rows, an insert
# transaction left open across a refresh, and a second alerts run, and each
# is compared with a full recompute from the raw rows.
# Run by `make test` inside the cluster (psql only, no driver needed).
import os
import re
import subprocess
import sys
import tempfile
import time

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DB = 'keepcurrent_recipes'
RECIPES = ['types', 'append', 'check', 'corrections', 'realtime', 'realtime-upsert', 'alerts']
failed = False


def say(ok, what):
    global failed
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failed = True


def psql(sql, db=DB, aligned=False):
    args = ['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', db]
    if not aligned:
        args += ['-At', '-q']
    r = subprocess.run(args, input=sql, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('psql failed: %s\n%s' % (r.stderr, sql[:2000]))
    return r.stdout


def q1(sql):
    return psql(sql).strip()


def norm(line):
    return re.sub(r'\s+', ' ', line).strip()


env = dict(os.environ, PGOPTIONS='-c client_min_messages=warning')
subprocess.run(['dropdb', '--if-exists', '--maintenance-db=postgres', DB], check=True, env=env)
subprocess.run(['createdb', DB], check=True)
psql('CREATE EXTENSION customer_success;\n' + ''.join(open(f).read() for f in
     ['test/demo/data.sql', 'test/demo/data_engagement.sql', 'test/demo/data_purchases.sql']))

# the hll recipe where postgresql-hll is installed (Debian has it for
# most majors; test/t/engagement-hll.sh copies it into a private copy)
if q1("SELECT count(*) FROM pg_available_extensions WHERE name = 'hll'") != '0':
    RECIPES.insert(RECIPES.index('check'), 'hll')
else:
    print('skip keepcurrent-hll: the hll extension is not installed')

# every recipe as written; the rows the page prints ("--  a | b" or a lone
# "--  value" line after a header) must come out, in the page's order
printed = []
for name in RECIPES:
    sql = subprocess.run(['test/recipes/from-readme', 'keepcurrent-' + name],
                         capture_output=True, text=True, check=True).stdout
    out = psql(sql, aligned=True)
    want = [norm(l[3:]) for l in sql.splitlines() if l.startswith('--  ')]
    got = [norm(l) for l in out.splitlines()]
    i = 0
    missing = []
    for w in want:
        while i < len(got) and got[i] != w:
            i += 1
        if i == len(got):
            missing.append(w)
            i = 0
        else:
            i += 1
    printed.append(len(want))
    say(not missing, 'keepcurrent-%s: the %d result lines the page prints come out in order%s'
        % (name, len(want), ' (missing: %s)' % missing if missing else ''))
say(sum(printed) >= 20, 'at least 20 printed result lines checked (%d)' % sum(printed))

# the merge of every type equals the aggregate over all the rows (the
# types recipe prints both; here every accessor row must agree)
rows = psql(subprocess.run(['test/recipes/from-readme', 'keepcurrent-types'], capture_output=True,
                           text=True, check=True).stdout)
pairs = [l.split('|') for l in rows.splitlines() if l.count('|') == 2]
say(len(pairs) == 6 and all(p[1] == p[2] for p in pairs), 'six summary types: a + b equals the aggregate over all rows')

CHECK_NPS = subprocess.run(['test/recipes/from-readme', 'keepcurrent-check'], capture_output=True,
                           text=True, check=True).stdout


def nps_differences():
    return psql(CHECK_NPS).strip()


def nps_matches_plain_sql():
    # independent of the page's check: monthly counts from the raw rows
    return q1("""
WITH raw AS (SELECT date_trunc('month', responded_on)::date AS month, count(*) FILTER (WHERE score >= 9) AS p,
                    count(*) FILTER (WHERE score <= 6) AS d, count(score) AS n
             FROM nps_responses GROUP BY 1)
SELECT count(*) FROM nps_monthly v FULL JOIN raw r USING (month)
WHERE v.responses IS DISTINCT FROM r.n OR v.promoters IS DISTINCT FROM r.p OR v.detractors IS DISTINCT FROM r.d""")


# many changes in several transactions: new answers on old and new keys,
# back-dated ones, corrections, answers moved to another day or account,
# deletions of rows merged long ago, a NULL score, then one refresh
psql("""
INSERT INTO nps_responses (account_id, responded_on, score)
SELECT 1 + (i * 7919) % 3000, date '2026-11-01' + i % 20, (i * 13) % 11 FROM generate_series(1, 500) i;
INSERT INTO nps_responses (account_id, responded_on, score)
SELECT account_id, responded_on, (score + 3) % 11 FROM nps_responses WHERE responded_on BETWEEN '2025-06-01' AND '2025-06-20';
INSERT INTO nps_responses (account_id, responded_on, score) VALUES (5, '2026-11-02', NULL);
BEGIN;
UPDATE nps_responses SET score = 10 - score WHERE responded_on BETWEEN '2026-02-01' AND '2026-02-10';
UPDATE nps_responses SET responded_on = responded_on + 1 WHERE account_id % 97 = 3;
COMMIT;
DELETE FROM nps_responses WHERE responded_on BETWEEN '2025-01-01' AND '2025-01-31' AND account_id % 3 = 0;
UPDATE nps_responses SET account_id = account_id + 1 WHERE responded_on = '2026-11-05';
""")
refreshed = q1('SELECT refresh_nps_daily()')
say(nps_differences() == '', 'nps_daily after inserts, back-dated rows, updates, moves and deletes (%s keys refreshed): '
    'equal to a full recompute, key by key' % refreshed)
say(nps_matches_plain_sql() == '0', 'nps_monthly: responses, promoters and detractors per month as plain SQL counts them')
say(q1("SELECT refresh_nps_daily()") == '0', 'a refresh with nothing new changes nothing')
if 'hll' in RECIPES:
    # more events, some on days and accounts that have a sketch already
    psql("""INSERT INTO product_events (account_id, user_id, day, event)
            SELECT account_id, user_id, day + 3, event FROM product_events WHERE day >= '2026-10-25'""")
    q1('SELECT refresh_daily_users()')
    say(q1("""SELECT count(*) FROM daily_users k
               FULL JOIN (SELECT day, account_id, event, hll_add_agg(hll_hash_integer(user_id)) AS users
                          FROM product_events GROUP BY 1, 2, 3) f USING (day, account_id, event)
               WHERE k.users IS NULL OR f.users IS NULL OR hll_cardinality(k.users) <> hll_cardinality(f.users)""") == '0',
        'daily_users (hll, kept with hll_union): every day, account and event as a full recompute counts it')

# an insert transaction open across a refresh: its rows wait for the next
# run (the watermark stops below it), then arrive exactly once
holder = subprocess.Popen(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', DB], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
holder.stdin.write("BEGIN;\nINSERT INTO nps_responses (account_id, responded_on, score) "
                   "SELECT 7, date '2026-10-30', 10 FROM generate_series(1, 5);\n"
                   )
holder.stdin.flush()
for _ in range(100):
    if q1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
          "AND state = 'idle in transaction' AND backend_xid IS NOT NULL") == '1':
        break
    time.sleep(0.1)
psql("INSERT INTO nps_responses (account_id, responded_on, score) VALUES (7, '2026-10-30', 0), (8, '2026-10-30', 6)")
q1('SELECT refresh_nps_daily()')
before = q1("SELECT nps_responses(nps) FROM nps_daily WHERE day = '2026-10-30' AND account_id = 7")
# the later, committed insert is merged in one of the next runs too (it is
# above the open transaction): after the open one commits, all of it
holder.stdin.write('COMMIT;\n')
holder.stdin.close()
holder.wait()
q1('SELECT refresh_nps_daily()')
after = q1("SELECT nps_responses(nps) FROM nps_daily WHERE day = '2026-10-30' AND account_id = 7")
raw = q1("SELECT count(score) FROM nps_responses WHERE responded_on = '2026-10-30' AND account_id = 7")
say(before in ('', '0', '1') and after == raw and nps_differences() == '',
    'a transaction open during a refresh: its rows held back (%s of account 7 merged), then all %s merged once'
    % (before or 0, raw))

# the real-time table after more batches (the concurrent case is
# test/t/keepcurrent-concurrent.py)
psql("""
INSERT INTO csat_responses (account_id, answered_on, score)
SELECT 1 + (i * 31) % 3000, date '2026-10-01' + i % 45, 1 + i % 5 FROM generate_series(1, 2000) i;
INSERT INTO csat_responses (account_id, answered_on, score) VALUES (3, '2026-11-03', NULL), (3, '2026-11-03', 4);
COPY csat_responses (account_id, answered_on, score) FROM stdin;
17	2026-10-30	3
17	2026-10-30	5
\\.
""")
CSAT_RECOMPUTE = """SELECT answered_on AS day, account_id, csat_agg(score) AS csat FROM csat_responses
                    WHERE score IS NOT NULL GROUP BY 1, 2"""


def csat_daily_diff(kept):
    return q1("SELECT count(*) FROM %s k FULL JOIN (%s) f USING (day, account_id) "
              "WHERE k.csat::text IS DISTINCT FROM f.csat::text" % (kept, CSAT_RECOMPUTE))


view_before = csat_daily_diff('csat_daily_now')
deltas = q1('SELECT count(*) FROM csat_daily_delta')
q1('SELECT compact_csat_daily()')
csat_diff = csat_daily_diff('csat_daily')
say(view_before == '0' and int(deltas) > 0 and q1('SELECT count(*) FROM csat_daily_delta') == '0'
    and csat_daily_diff('csat_daily_now') == '0',
    'csat_daily_now (keyed table + %s deltas) equals a full recompute before the compaction, and after it '
    'csat_daily alone does, with no delta left' % deltas)
monthly_diff = q1("""
SELECT count(*) FROM csat_monthly k
FULL JOIN (SELECT date_trunc('month', answered_on)::date AS month, account_id, csat_agg(score) AS csat
           FROM csat_responses WHERE score IS NOT NULL GROUP BY 1, 2) f USING (month, account_id)
WHERE k.csat::text IS DISTINCT FROM f.csat::text""")
say(monthly_diff == '0', 'csat_monthly kept by the upsert trigger equals a full recompute after more batches and a COPY')

# alerts: the kept health table equals a recompute (accessors to 1e-12);
# a band that falls in a new month is alerted once; runs without news send
# nothing
health_diff = q1("""
SELECT count(*) FROM health_monthly k
FULL JOIN (SELECT date_trunc('month', u.week)::date AS month, u.account_id,
                  health_agg(array[0.3, 0.3, 0.2, 0.2], VARIADIC usage_signals(u)) AS h,
                  sum(seats) AS seats, sum(active_users) AS active_users
           FROM usage_weekly u GROUP BY 1, 2) f USING (month, account_id)
WHERE k.health IS NULL OR f.h IS NULL
   OR abs(health_score(k.health) - health_score(f.h)) > 1e-12 * health_score(f.h)
   OR k.seats <> f.seats OR k.active_users <> f.active_users""")
say(health_diff == '0', 'health_monthly (trigger-kept) equals a recompute: scores to 1e-12, seats exactly')
expected = q1("""
WITH m AS (SELECT date_trunc('month', u.week)::date AS month, u.account_id,
                  health_band(health_agg(array[0.3, 0.3, 0.2, 0.2], VARIADIC usage_signals(u))) AS band,
                  sum(active_users)::numeric / sum(seats) AS act
           FROM usage_weekly u WHERE week >= '2026-09-01' GROUP BY 1, 2)
SELECT (SELECT count(*) FROM m c JOIN m p USING (account_id)
        WHERE c.month = '2026-10-01' AND p.month = '2026-09-01'
          AND array_position(array['red', 'yellow', 'green'], c.band) < array_position(array['red', 'yellow', 'green'], p.band))
       || ' ' || (SELECT count(*) FROM m WHERE month = '2026-10-01' AND band = 'green' AND round(act, 3) > 0.9)""")
got = q1("SELECT count(*) FILTER (WHERE kind = 'health fell') || ' ' || count(*) FILTER (WHERE kind = 'expansion') FROM cs_alerts")
say(got == expected, 'alerts for October: %s (health fell, expansion), as plain SQL over usage_weekly finds them' % got)
# November: a week where some green and yellow accounts slip
psql("""
INSERT INTO usage_weekly
SELECT account_id, week + 7 * 1, seats,
       CASE WHEN account_id % 10 = 0 THEN 0 ELSE active_users END,
       CASE WHEN account_id % 10 = 0 THEN 0 ELSE logins END,
       CASE WHEN account_id % 10 = 0 THEN 0 ELSE features_used END,
       CASE WHEN account_id % 10 = 0 THEN 6 ELSE open_tickets END
FROM usage_weekly WHERE week = '2026-10-26';
""")
sent = q1('SELECT raise_alerts()')
new = q1("SELECT count(*) FROM cs_alerts WHERE month = '2026-11-01'")
fell = q1("""SELECT count(*) FROM health_monthly c JOIN health_monthly p USING (account_id)
WHERE c.month = '2026-11-01' AND p.month = '2026-10-01'
  AND array_position(array['red', 'yellow', 'green'], health_band(c.health))
    < array_position(array['red', 'yellow', 'green'], health_band(p.health))""")
say(sent == new and int(sent) > 0 and q1("SELECT count(*) FROM cs_alerts WHERE month = '2026-11-01' AND kind = 'health fell'") == fell,
    'a new month: %s alerts recorded and sent, %s of them falls, as counted from the kept table' % (sent, fell))
say(q1('SELECT raise_alerts()') == '0' and q1('SELECT count(*) - count(DISTINCT (account_id, kind, month)) FROM cs_alerts') == '0',
    'the next run sends nothing, and no alert is recorded twice')

subprocess.run(['dropdb', '--maintenance-db=postgres', DB], check=True, env=env)
sys.exit(1 if failed else 0)
