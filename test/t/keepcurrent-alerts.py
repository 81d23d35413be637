#!/usr/bin/python3
# The alerts recipe of docs/keeping-current.md under a real pg_cron, received
# by a real client: a throwaway cluster of its own with Debian's pg_cron
# (postgresql-<major>-cron) preloaded, the demo data and the recipe
# keepcurrent-alerts (whose own first run records October's alerts), a
# psycopg2 session that LISTENs on cs_alerts, a new month of usage, and the
# job of keepcurrent-alerts-schedule run by pg_cron (at a test's pace).  The
# first scheduled run must send exactly the new month's alerts, each once,
# as the table records them; the next run must send nothing.
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))

if sys.argv[1:] != ['inner']:
    pg_config = os.environ.get('PG_CONFIG', 'pg_config')

    def conf(opt):
        return subprocess.run([pg_config, opt], capture_output=True, text=True, check=True).stdout.strip()
    libdir, sharedir = conf('--pkglibdir'), conf('--sharedir')
    major = re.match(r'PostgreSQL (\d+)', conf('--version')).group(1)
    deb_lib = '/usr/lib/postgresql/%s/lib/pg_cron.so' % major
    # a private copy made by test/private-pg before pg_cron was installed lacks it
    if not os.path.exists(os.path.join(libdir, 'pg_cron.so')) and os.path.exists(deb_lib) and os.access(libdir, os.W_OK):
        shutil.copy(deb_lib, libdir)
        extdir = '/usr/share/postgresql/%s/extension' % major
        for f in os.listdir(extdir):
            if f.startswith('pg_cron'):
                shutil.copy(os.path.join(extdir, f), os.path.join(sharedir, 'extension'))
    if not os.path.exists(os.path.join(libdir, 'pg_cron.so')):
        policy = subprocess.run(['apt-cache', 'policy', 'postgresql-%s-cron' % major],
                                capture_output=True, text=True).stdout
        if not re.search(r'Candidate: [^(]', policy):
            print('SKIP: Debian has no postgresql-%s-cron package for PostgreSQL %s in this distribution' % (major, major))
            sys.exit(77)
        sys.exit('pg_cron is not installed in %s (Debian postgresql-%s-cron: test/run installs it)' % (libdir, major))
    env = dict(os.environ, PG_CONFIG=pg_config,
               CS_SERVER_OPTS='-c shared_preload_libraries=pg_cron -c cron.database_name=postgres')
    os.execvpe('test/with-cluster', ['test/with-cluster', os.path.abspath(__file__), 'inner'], env)

import psycopg2          # noqa: E402  (only inside the cluster)

failed = False


def say(ok, what):
    global failed
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failed = True


def recipe(name):
    return subprocess.run(['test/recipes/from-readme', name], capture_output=True, text=True, check=True).stdout


setup = subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres'], capture_output=True, text=True,
                       input='CREATE EXTENSION customer_success;\nCREATE EXTENSION pg_cron;\n'
                       + open('test/demo/data.sql').read() + recipe('keepcurrent-alerts')
                       + recipe('keepcurrent-append'))
if setup.returncode != 0:
    sys.exit('setup failed: ' + setup.stderr)

conn = psycopg2.connect(dbname='postgres')
conn.autocommit = True
cur = conn.cursor()
listener = psycopg2.connect(dbname='postgres')
listener.autocommit = True
listener.cursor().execute('LISTEN cs_alerts')


def q1(sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


def drain(seconds):
    """Notifications received within `seconds` (waiting on the socket)."""
    got = []
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        if select.select([listener], [], [], left) != ([], [], []):
            listener.poll()
            while listener.notifies:
                got.append(listener.notifies.pop(0))
    return got


october = q1("SELECT count(*) FROM cs_alerts")
say(october > 0 and q1("SELECT count(*) FROM cs_alerts WHERE month <> '2026-10-01'") == 0,
    "the recipe's own run recorded %d alerts, all about October" % october)

# a new month of usage: one week of November, some accounts slipping
cur.execute("""
INSERT INTO usage_weekly
SELECT account_id, week + 7, seats,
       CASE WHEN account_id % 10 = 0 THEN 0 ELSE active_users END,
       CASE WHEN account_id % 10 = 0 THEN 0 ELSE logins END,
       CASE WHEN account_id % 10 = 0 THEN 0 ELSE features_used END,
       CASE WHEN account_id % 10 = 0 THEN 6 ELSE open_tickets END
FROM usage_weekly WHERE week = '2026-10-26'""")

# the page's schedule, at a test's pace: pg_cron >= 1.5 takes '1 seconds',
# older ones (Debian 12 has 1.4) run at most once a minute
schedule_sql = recipe('keepcurrent-alerts-schedule')
say("cron.schedule('cs-alerts'" in schedule_sql, 'the schedule recipe schedules cs-alerts')
pace = '1 seconds'
try:
    cur.execute("SELECT cron.schedule('probe', '1 seconds', 'SELECT 1')")
    cur.execute("SELECT cron.unschedule('probe')")
except psycopg2.Error:
    pace = '* * * * *'
print('pg_cron %s, schedule %r' % (q1("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'"), pace))
cur.execute(re.sub(r"(cron\.schedule\('cs-alerts', )'[^']*'", r"\1'%s'" % pace, schedule_sql))
# and the page's refresh of nps_daily (keepcurrent-schedule), with a new answer to merge
cur.execute("INSERT INTO nps_responses (account_id, responded_on, score) VALUES (5, '2026-11-02', 9)")
cur.execute(re.sub(r"(cron\.schedule\('nps-daily', )'[^']*'", r"\1'%s'" % pace, recipe('keepcurrent-schedule')))


def wait_runs(n, limit=150):
    """Waits until the job has succeeded n times; fails on a failed run."""
    for _ in range(limit):
        bad = q1("SELECT string_agg(return_message, '; ') FROM cron.job_run_details WHERE status = 'failed'")
        if bad:
            sys.exit('a scheduled run failed: ' + bad)
        if q1("SELECT count(*) FROM cron.job_run_details JOIN cron.job USING (jobid) "
              "WHERE status = 'succeeded' AND jobname = 'cs-alerts'") >= n:
            return True
        time.sleep(1)
    return False


received = []
t0 = time.monotonic()
while not wait_runs(1, limit=1):
    received += drain(1)
    if time.monotonic() - t0 > 150:
        sys.exit('pg_cron did not run the alerts job within 150 s')
received += drain(2)
rows = {}
cur.execute("SELECT alert_id, to_jsonb(a) - 'raised_at' FROM cs_alerts a WHERE month = '2026-11-01'")
for alert_id, doc in cur.fetchall():
    rows[alert_id] = doc
payloads = [json.loads(n.payload) for n in received]
ids = [p.get('alert_id') for p in payloads]
say(len(rows) > 0 and sorted(ids) == sorted(rows) and all(rows[p['alert_id']] == p for p in payloads)
    and all(n.channel == 'cs_alerts' for n in received),
    'the first scheduled run: %d notifications on cs_alerts received by a listening client, one per new alert, '
    'each the alert as cs_alerts records it' % len(received))
say(all(p['month'] == '2026-11-01' for p in payloads), 'none of them repeats an October alert')
fell = q1("""SELECT count(*) FROM health_monthly c JOIN health_monthly p USING (account_id)
WHERE c.month = '2026-11-01' AND p.month = '2026-10-01'
  AND array_position(array['red', 'yellow', 'green'], health_band(c.health))
    < array_position(array['red', 'yellow', 'green'], health_band(p.health))""")
say(sum(p['kind'] == 'health fell' for p in payloads) == fell,
    '%d "health fell" alerts: the accounts whose November band is below October\'s' % fell)

# the next run finds the same accounts and must send nothing
t0 = time.monotonic()
later = []
while not wait_runs(2, limit=1):
    later += drain(1)
    if time.monotonic() - t0 > 150:
        sys.exit('pg_cron did not run the alerts job a second time within 150 s')
later += drain(2)
say(later == [] and q1("SELECT count(*) FROM cs_alerts WHERE month = '2026-11-01'") == len(rows),
    'the second scheduled run sent nothing and recorded nothing new')
cur.execute(recipe('keepcurrent-check'))
differ = cur.fetchall()
say(q1("SELECT count(*) FROM cron.job_run_details JOIN cron.job USING (jobid) "
       "WHERE status = 'succeeded' AND jobname = 'nps-daily'") > 0 and differ == []
    and q1("SELECT nps_responses(nps) FROM nps_daily WHERE day = '2026-11-02' AND account_id = 5") == 1,
    'the nps-daily job of keepcurrent-schedule ran: nps_daily has the new answer and equals a full recompute')
cur.execute('SELECT cron.unschedule(jobid) FROM cron.job')
sys.exit(1 if failed else 0)
