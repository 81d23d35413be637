#!/usr/bin/python3
# Concurrent writers on the kept summary tables of docs/keeping-current.md,
# for real: two psycopg2 sessions (threads; psycopg2 releases the GIL while
# a statement runs) insert many batches at once into the same (day, account)
# keys, and nothing is lost or counted twice:
#   - csat_daily, kept by the real-time recipe's AFTER INSERT statement
#     trigger (keepcurrent-realtime): after the run it equals a full
#     recompute, text form included, with no deadlock although the two
#     sessions write their keys in opposite orders;
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
                       + recipe('keepcurrent-realtime'))
if setup.returncode != 0:
    sys.exit('setup failed: ' + setup.stderr)

DAYS = ['2026-11-0%d' % d for d in range(1, 4)]
ACCOUNTS = list(range(1, 9))          # 3 days x 8 accounts: every batch hits most keys
errors = []
spans = {}
barrier = threading.Barrier(3)
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


threads = [threading.Thread(target=writer, args=('a', 1, False)),
           threading.Thread(target=writer, args=('b', 2, True)),
           threading.Thread(target=refresher)]
for t in threads:
    t.start()
threads[0].join()
threads[1].join()
stop_refresh.set()
threads[2].join()
say(not errors, 'two sessions inserted %d batches each, a third refreshed meanwhile: no error%s'
    % (BATCHES, (' (' + '; '.join(errors) + ')') if errors else ''))
a, b = spans.get('a', [0, 0]), spans.get('b', [0, 0])
overlap = (min(a[1] or 0, b[1] or 0) - max(a[0], b[0]))
say(overlap > 0.5 * min((a[1] or 0) - a[0], (b[1] or 0) - b[0]),
    'the two sessions ran at the same time (%.1f s overlap)' % overlap)

conn = connect()
cur = conn.cursor()
cur.execute("""SELECT count(*) FROM csat_daily k
FULL JOIN (SELECT answered_on AS day, account_id, csat_agg(score) AS csat FROM csat_responses
           WHERE score IS NOT NULL GROUP BY 1, 2) f USING (day, account_id)
WHERE k.csat::text IS DISTINCT FROM f.csat::text""")
csat_diff = cur.fetchone()[0]
cur.execute("SELECT sum(csat_responses(csat)) FROM csat_daily WHERE day >= '2026-11-01'")
merged = cur.fetchone()[0]
say(csat_diff == 0 and merged == 2 * BATCHES * 40,
    'csat_daily (trigger): equal to a full recompute, all %s answers of the two sessions in it' % merged)
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
