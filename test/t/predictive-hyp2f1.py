#!/usr/bin/python3
"""Checks hyp2f1() of the extension against mpmath (an independent
arbitrary-precision implementation) over the parameter region BG/NBD
predictions use, including z near 1, z negative and far below -1, and
c - a - b at or near an integer.  Run by `make test` inside the cluster."""
import os
import random
import subprocess
import sys

import mpmath as mp

# a database of its own, with the extension installed by `make test`
os.environ["PGDATABASE"] = "predictive_hyp2f1"
subprocess.run(["dropdb", "--if-exists", "predictive_hyp2f1"], check=True, env=dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning"))
subprocess.run(["createdb", "predictive_hyp2f1"], check=True, env=dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning"))
subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION customer_success"], check=True)

mp.mp.dps = 40
random.seed(7)

cases = []
# the shapes BG/NBD uses: 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T))
for _ in range(300):
    r = random.choice([0.05, 0.24, 1.0, 3.7]) * random.uniform(0.5, 2)
    a = random.uniform(0.1, 4.0)
    b = random.uniform(0.1, 6.0)
    x = random.choice([0, 1, 2, 5, 20, 80, 300])
    z = -random.choice([0.01, 0.3, 0.9, 1.0, 2.5, 10.0, 150.0, 5000.0]) * random.uniform(0.9, 1.1)
    if a + b + x - 1 <= 0:
        continue
    cases.append((r + x, a - 1, a + b + x - 1, z))
# generic arguments in (0, 1), including very close to 1
for _ in range(200):
    A = random.uniform(-2.5, 4)
    B = random.uniform(0.1, 4)
    C = random.uniform(0.2, 9)
    z = random.choice([0.1, 0.5, 0.74, 0.8, 0.95, 0.999, 0.999999]) * random.uniform(0.999, 1.0)
    cases.append((A, B, C, z))
# c - a - b an integer or nearly one (the 1 - z transformation is skipped)
for m in [-1.5, -1, 0, 1, 2]:
    for eps in [0.0, 1e-6, 3e-5, 5e-5, 6e-5, 2e-4, 5e-4]:
        for z in [0.3, 0.8, 0.99, 0.9999, 0.9999999, 1 - 1e-12]:
            cases.append((0.7, 1.3, 2.0 + m + eps, z))
for z in [-1e4, -1e6, -1e9, 0.99999999]:
    cases.append((1.0, 1.0, 2.0, z))
    cases.append((0.3, 1.7, 3.0, z))

values = ",".join("(%d,%r,%r,%r,%r)" % (i, *c) for i, c in enumerate(cases))
sql = ("SELECT i, hyp2f1(a, b, c, z) FROM (VALUES %s) v(i, a, b, c, z) ORDER BY i" % values)
out = subprocess.run(["psql", "-X", "-At", "-F", " ", "-v", "ON_ERROR_STOP=1",
                      "-c", "SET extra_float_digits = 3", "-c", sql],
                     capture_output=True, text=True)
if out.returncode != 0:
    print(out.stderr)
    sys.exit(1)
worst = 0.0
worst_strict = 0.0
bad = 0
for line in out.stdout.split("\n"):
    if not line or line.startswith("SET"):
        continue
    i, got = line.split()
    a, b, c, z = cases[int(i)]
    want = mp.hyp2f1(a, b, c, z)
    err = abs((mp.mpf(got) - want) / want) if want != 0 else abs(mp.mpf(got))
    worst = max(worst, float(err))
    # extreme arguments (within 1e-8 of 1, or below -1e8) lose a few more digits
    tol = 1e-10 if -1e8 < z < 1 - 1e-8 else 1e-8
    if tol == 1e-10:
        worst_strict = max(worst_strict, float(err))
    if err > tol:
        bad += 1
        print("2F1(%r, %r; %r; %r) = %s, mpmath %s, rel. error %.2e" % (a, b, c, z, got, mp.nstr(want, 17), err))
print("hyp2f1: %d cases, worst relative error %.2e (%.2e where the tolerance is 1e-10), %d above tolerance"
      % (len(cases), worst, worst_strict, bad))
sys.exit(1 if bad else 0)
