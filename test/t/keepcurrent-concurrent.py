#!/usr/bin/python3
# Concurrent writers on the kept summary tables of docs/keeping-current.md,
# for real: two psycopg2 sessions (threads; psycopg2 releases the GIL while
# a statement runs) insert many batches at once into the same (day, account)
# keys, and nothing is lost or counted twice:
#   - csat_daily, kept by the real-time recipe (keepcurrent-realtime): the
#     AFTER INSERT statement trigger appends each batch's summaries to
#     csat_daily_delta while two other sessions run compact_csat_daily() in
#     a loop, and a fifth reads csat_daily_now all along: every read counts
#     each committed answer exactly once, and after the run the view, then
#     (after a last compaction) the keyed table alone, equal a full
#     recompute, text form included;
#   - csat_monthly, kept by the upsert trigger (keepcurrent-realtime-upsert)
#     on the same inserts: equal to a full recompute, with no deadlock
#     although the two sessions write their keys in opposite orders;
#   - nps_daily, kept by the watermark refresh (keepcurrent-append and
#     keepcurrent-corrections): a third session refreshes in a loop while
#     the two insert, update and delete; after a last refresh it equals a
#     full recompute.
# Run by `make test` inside the cluster.
import os
import random
import subprocess
import sys
import threading
import time

import psycopg2

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DB = 'keepcurrent_concurrent'
BATCHES = 150
failed = False


def say(ok, what):
    global failed
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failed = True


def recipe(name):
    return subprocess.run(['test/recipes/from-readme', name], capture_output=True, text=True, check=True).stdout


def connect():
    c = psycopg2.connect(dbname=DB)
    c.autocommit = True
    return c


env = dict(os.environ, PGOPTIONS='-c client_min_messages=warning')
subprocess.run(['dropdb', '--if-exists', '--maintenance-db=postgres', DB], check=True, env=env)
subprocess.run(['createdb', DB], check=True)
setup = subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', DB], capture_output=True, text=True,
                       input='CREATE EXTENSION customer_success;\n' + open('test/demo/data.sql').read()
                       + recipe('keepcurrent-append') + recipe('keepcurrent-corrections')
                       + recipe('keepcurrent-realtime') + recipe('keepcurrent-realtime-upsert'))
if setup.returncode != 0:
    sys.exit('setup failed: ' + setup.stderr)

DAYS = ['2026-11-0%d' % d for d in range(1, 4)]
ACCOUNTS = list(range(1, 9))          # 3 days x 8 accounts: every batch hits most keys
errors = []
spans = {}
barrier = threading.Barrier(6)
stop_refresh = threading.Event()


def writer(name, seed, descending):
    rnd = random.Random(seed)
    try:
        conn = connect()
        cur = conn.cursor()
        barrier.wait()
        spans[name] = [time.monotonic(), None]
        for b in range(BATCHES):
            rows = [(rnd.choice(ACCOUNTS), rnd.choice(DAYS), rnd.randint(1, 5)) for _ in range(40)]
            # opposite key orders in the two sessions: the trigger's ORDER BY
            # must keep them from deadlocking
            rows.sort(key=lambda r: (r[1], r[0]), reverse=descending)
            cur.execute("""INSERT INTO csat_responses (account_id, answered_on, score)
                           SELECT * FROM unnest(%s::int[], %s::date[], %s::int[])""",
                        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]))
            cur.execute("""INSERT INTO nps_responses (account_id, responded_on, score)
                           SELECT * FROM unnest(%s::int[], %s::date[], %s::int[])""",
                        ([r[0] for r in rows], [r[1] for r in rows], [2 * r[2] for r in rows]))
            if b % 10 == 3:
                cur.execute("UPDATE nps_responses SET score = 10 - score WHERE account_id = %s AND responded_on = %s",
                            (rnd.choice(ACCOUNTS), rnd.choice(DAYS)))
            if b % 10 == 7:
                cur.execute("""DELETE FROM nps_responses WHERE ctid IN (SELECT ctid FROM nps_responses
                               WHERE account_id = %s AND responded_on = %s LIMIT 3)""",
                            (rnd.choice(ACCOUNTS), rnd.choice(DAYS)))
        spans[name][1] = time.monotonic()
        conn.close()
    except Exception as e:      # reported below, with the test failing
        errors.append('%s: %s' % (name, e))
        barrier.abort()


refreshes = [0]


def refresher():
    try:
        conn = connect()
        cur = conn.cursor()
        barrier.wait()
        while not stop_refresh.is_set():
            cur.execute('SELECT refresh_nps_daily()')
            refreshes[0] += 1
        conn.close()
    except Exception as e:
        errors.append('refresher: %s' % e)


compactions = [0, 0]
merged_keys = [0]


def compactor(i):
    try:
        conn = connect()
        cur = conn.cursor()
        barrier.wait()
        while not stop_refresh.is_set():
            cur.execute('SELECT compact_csat_daily()')
            merged_keys[0] += cur.fetchone()[0]
            compactions[i] += 1
            time.sleep(0.01 * i)
        conn.close()
    except Exception as e:
        errors.append('compactor %d: %s' % (i, e))


reads = []


def reader():
    # one statement, one snapshot: the answers the view counts and the
    # answers committed must be the same number, whatever the compactions do
    try:
        conn = connect()
        cur = conn.cursor()
        barrier.wait()
        while not stop_refresh.is_set():
            cur.execute("""SELECT (SELECT coalesce(sum(csat_responses(csat)), 0) FROM csat_daily_now),
                                  (SELECT count(score) FROM csat_responses),
                                  (SELECT count(*) FROM csat_daily_delta)""")
            reads.append(cur.fetchone())
        conn.close()
    except Exception as e:
        errors.append('reader: %s' % e)


threads = [threading.Thread(target=writer, args=('a', 1, False)),
           threading.Thread(target=writer, args=('b', 2, True)),
           threading.Thread(target=refresher),
           threading.Thread(target=compactor, args=(0,)),
           threading.Thread(target=compactor, args=(1,)),
           threading.Thread(target=reader)]
for t in threads:
    t.start()
threads[0].join()
threads[1].join()
stop_refresh.set()
for t in threads[2:]:
    t.join()
say(not errors, 'two sessions inserted %d batches each, others refreshed, compacted and read meanwhile: no error%s'
    % (BATCHES, (' (' + '; '.join(errors) + ')') if errors else ''))
a, b = spans.get('a', [0, 0]), spans.get('b', [0, 0])
overlap = (min(a[1] or 0, b[1] or 0) - max(a[0], b[0]))
say(overlap > 0.5 * min((a[1] or 0) - a[0], (b[1] or 0) - b[0]),
    'the two sessions ran at the same time (%.1f s overlap)' % overlap)

conn = connect()
cur = conn.cursor()
bad_reads = [r for r in reads if r[0] != r[1]]
say(len(reads) > 10 and not bad_reads and any(r[2] > 0 for r in reads),
    'csat_daily_now read %d times during the inserts and %d + %d compactions (%d keys merged): every read counted '
    'each committed answer once%s' % (len(reads), compactions[0], compactions[1], merged_keys[0],
                                     (' except ' + str(bad_reads[:5])) if bad_reads else ''))
say(min(compactions) > 5, 'both compaction sessions ran repeatedly (%d and %d runs)' % tuple(compactions))

RECOMPUTE = """SELECT answered_on AS day, account_id, csat_agg(score) AS csat FROM csat_responses
               WHERE score IS NOT NULL GROUP BY 1, 2"""


def csat_diff(kept):
    cur.execute("SELECT count(*) FROM %s k FULL JOIN (%s) f USING (day, account_id) "
                "WHERE k.csat::text IS DISTINCT FROM f.csat::text" % (kept, RECOMPUTE))
    return cur.fetchone()[0]


view_diff = csat_diff('csat_daily_now')
cur.execute("SELECT count(*) FROM csat_daily_delta")
left = cur.fetchone()[0]
cur.execute('SELECT compact_csat_daily()')
cur.execute("SELECT count(*) FROM csat_daily_delta")
left_after = cur.fetchone()[0]
table_diff = csat_diff('csat_daily')
cur.execute("SELECT sum(csat_responses(csat)) FROM csat_daily WHERE day >= '2026-11-01'")
merged = cur.fetchone()[0]
say(view_diff == 0 and table_diff == 0 and left_after == 0 and merged == 2 * BATCHES * 40,
    'csat_daily (appending trigger): the view with %d deltas left, then the keyed table after a last compaction, '
    'equal to a full recompute; all %s answers of the two sessions in it' % (left, merged))
cur.execute("""SELECT count(*) FROM csat_monthly k
FULL JOIN (SELECT date_trunc('month', answered_on)::date AS month, account_id, csat_agg(score) AS csat
           FROM csat_responses WHERE score IS NOT NULL GROUP BY 1, 2) f USING (month, account_id)
WHERE k.csat::text IS DISTINCT FROM f.csat::text""")
say(cur.fetchone()[0] == 0, 'csat_monthly (upsert trigger, keys written in opposite orders): equal to a full recompute')
cur.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
say(cur.fetchone()[0] == 0, 'no deadlock')

cur.execute('SELECT refresh_nps_daily()')
cur.execute(recipe('keepcurrent-check'))
diff = cur.fetchall()
cur.execute("SELECT count(*) FROM nps_responses WHERE responded_on >= '2026-11-01'")
n = cur.fetchone()[0]
say(not diff and refreshes[0] > 5,
    'nps_daily (watermark, %d refreshes during the writes, %d answers left after updates and deletes): '
    'equal to a full recompute%s' % (refreshes[0], n, (' except ' + str(diff[:5])) if diff else ''))
conn.close()
subprocess.run(['dropdb', '--maintenance-db=postgres', DB], check=True, env=env)
sys.exit(1 if failed else 0)
