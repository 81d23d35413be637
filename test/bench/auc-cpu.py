#!/usr/bin/python3
"""CPU time of auc() and its DeLong interval in one backend, for a machine
shared with other work (where wall times, which `make bench` reports, move
by 2x from run to run): the backend's user + system time from
/proc/<pid>/stat around each query, on one core (no parallel workers, JIT
off).  Not part of `make bench`; run inside a cluster, e.g.

    ROWS=10000000 ROUNDS=5 test/with-cluster test/bench/auc-cpu.py
"""
import os
import statistics
import subprocess
import time

import psycopg2

DB = 'cs_bench_auc_cpu'
subprocess.run(['dropdb', '--if-exists', DB], check=True, stderr=subprocess.DEVNULL)
subprocess.run(['createdb', DB], check=True)
conn = psycopg2.connect(dbname=DB)
conn.autocommit = True
cur = conn.cursor()
cur.execute('CREATE EXTENSION customer_success')
cur.execute('SET max_parallel_workers_per_gather = 0; SET jit = off')
cur.execute('CREATE TABLE t AS SELECT random() AS a, round(random() * 1000) AS r, random() < 0.3 AS c '
            'FROM generate_series(1, %d)' % int(os.environ.get('ROWS', '10000000')))
cur.execute('VACUUM ANALYZE t')
cur.execute('SELECT pg_backend_pid()')
pid = cur.fetchone()[0]
ticks = os.sysconf('SC_CLK_TCK')


def cpu():
    fields = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


queries = ['SELECT auc(a, c) FROM t', 'SELECT auc_lower(a, c, 0.95) FROM t', 'SELECT auc_upper(a, c) FROM t',
           'SELECT auc(a, c), auc_lower(a, c), auc_upper(a, c) FROM t',
           'SELECT auc(r, c) FROM t', 'SELECT auc_lower(r, c, 0.9) FROM t']
times = {q: [] for q in queries}
for q in queries:               # warm-up
    cur.execute(q)
for _ in range(int(os.environ.get('ROUNDS', '5'))):
    for q in queries:           # interleaved
        t0, w0 = cpu(), time.time()
        cur.execute(q)
        cur.fetchall()
        times[q].append((cpu() - t0, time.time() - w0))
for q in queries:
    c = [x[0] for x in times[q]]
    w = [x[1] for x in times[q]]
    print('%-60s cpu median %6.0f ms (min %6.0f) | wall median %6.0f ms'
          % (q, 1000 * statistics.median(c), 1000 * min(c), 1000 * statistics.median(w)))
conn.close()
subprocess.run(['dropdb', DB], check=True)
