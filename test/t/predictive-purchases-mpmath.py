#!/usr/bin/python3
"""bgnbd_probability_of_purchases(model, t, n) = P(X(t) = n) (Fader, Hardie &
Lee 2005, eq. 8) against an independent mpmath evaluation at 40 digits,
written here from the paper's formula:

    P(X(t) = n) = B(a, b+n)/B(a, b) * NB(n)
                + [n > 0] B(a+1, b+n-1)/B(a, b) * (1 - sum_{j<n} NB(j)),
    NB(j) = Gamma(r+j)/(Gamma(r) j!) (alpha/(alpha+t))^r (t/(alpha+t))^j,

where 1 - sum_{j<n} NB(j) is evaluated literally when n is at most the
mean of NB, and as the sum of NB(j) over j >= n otherwise (the same number,
without cancellation).  Over a grid of models (CDNOW's, and r, a below and
above 1), t from 0.01 to 20,000 and n from 0 to 100,000: 1e-10 relative
wherever P is above 1e-280 (1e-290 absolute below).  Also: the probabilities
over n = 0..N sum to 1 within 1e-10 for N large enough that the rest is
below 1e-12, and bad arguments give 22023.
Run by `make test` inside the cluster."""
import os
import subprocess
import sys

import mpmath as mp

os.environ["PGDATABASE"] = "predictive_purchases"
admin = dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning")
subprocess.run(["dropdb", "--if-exists", "predictive_purchases"], check=True, env=admin)
subprocess.run(["createdb", "predictive_purchases"], check=True, env=admin)
subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION customer_success"], check=True)

mp.mp.dps = 40
failed = 0


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    failed += not ok


def psql(sql):
    out = subprocess.run(["psql", "-X", "-At", "-F", " ", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    return out.stdout.split()


def sqlstate(sql):
    out = subprocess.run(["psql", "-X", "-At", "-c", "\\set VERBOSITY verbose", "-c", sql],
                         capture_output=True, text=True)
    return out.stderr.split()[1].rstrip(":") if out.returncode else None


def reference(r, al, a, b, t, n):
    r, al, a, b, t = (mp.mpf(v) for v in (r, al, a, b, t))
    p, q = al / (al + t), t / (al + t)

    def nb(j):
        return mp.exp(mp.loggamma(r + j) - mp.loggamma(r) - mp.loggamma(j + 1) + r * mp.log(p) + j * mp.log(q))

    first = mp.beta(a, b + n) / mp.beta(a, b) * nb(n)
    if n == 0:
        return first
    mean = r * q / p
    if n <= mean:
        s, term = mp.mpf(0), nb(0)
        for j in range(n):
            s += term
            term *= (r + j) / (j + 1) * q
        tail = 1 - s
    else:
        tail, term, j = mp.mpf(0), nb(n), n
        while True:
            tail += term
            term *= (r + j) / (j + 1) * q
            j += 1
            if term < tail * mp.mpf("1e-25"):
                break
    return first + mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * tail


models = [("0.2425929", "4.4135316", "0.7928861", "2.4257534"),   # CDNOW (FHL 2005)
          ("2", "3", "2", "3"),
          ("0.5", "0.1", "0.3", "5"),
          ("8", "20", "1.5", "0.4")]
ts = ["0.01", "1", "39", "1000", "20000"]
ns = [0, 1, 2, 5, 20, 100, 1000, 10000, 100000]
for r, al, a, b in models:
    m = "'v=1 r=%s alpha=%s a=%s b=%s log_likelihood=0 customers=0'::bgnbd_model" % (r, al, a, b)
    rows = psql("SELECT t, n, bgnbd_probability_of_purchases(%s, t, n) FROM unnest(array[%s]::float8[]) t, "
                "unnest(array[%s]) n" % (m, ",".join(ts), ",".join(map(str, ns))))
    worst, where, count = mp.mpf(0), None, 0
    for i in range(0, len(rows), 3):
        t, n, got = rows[i], int(rows[i + 1]), mp.mpf(rows[i + 2])
        want = reference(r, al, a, b, t, n)
        err = abs(got / want - 1) if want > mp.mpf("1e-280") else abs(got - want) / mp.mpf("1e-290")
        count += 1
        if err > worst:
            worst, where = err, (t, n, mp.nstr(want, 10), rows[i + 2])
    check(worst < 1e-10, "r=%s alpha=%s a=%s b=%s: %d points, largest relative error %s at (t, n, mpmath, ours) = %s"
          % (r, al, a, b, count, mp.nstr(worst, 2), where))

# probabilities over n = 0..N sum to 1
for r, al, a, b in models:
    m = "'v=1 r=%s alpha=%s a=%s b=%s log_likelihood=0 customers=0'::bgnbd_model" % (r, al, a, b)
    # (with r = 0.5, alpha = 0.1 and t = 1000 the tail beyond 100,000 is still 4e-6)
    for t, N in [("1", 2000), ("39", 20000)] + ([("1000", 100000)] if al != "0.1" else [("100", 100000)]):
        got = psql("SELECT sum(bgnbd_probability_of_purchases(%s, %s, n) ORDER BY n DESC) - 1, "
                   "bgnbd_probability_of_purchases(%s, %s, %d) FROM generate_series(0, %d) n" % (m, t, m, t, N, N))
        err, last = float(got[0]), float(got[1])
        # the part beyond N is below the last term / (1 - q) times a little
        rest = last * (float(al) + float(t)) / float(al) * 10
        check(abs(err) < 1e-10 + rest and rest < 1e-12,
              "r=%s alpha=%s a=%s b=%s t=%s: sum over n = 0..%d = 1 %+.2e (rest below %.1e)" % (r, al, a, b, t, N, err, rest))

m = "'v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0'::bgnbd_model"
check(psql("SELECT bgnbd_probability_of_purchases(%s, 0, 0), bgnbd_probability_of_purchases(%s, 0, 3)" % (m, m)) == ["1", "0"],
      "t = 0: no purchase for sure")
for args in ["-1, 0", "'NaN', 1", "'Infinity', 1", "5, -1"]:
    got = sqlstate("SELECT bgnbd_probability_of_purchases(%s, %s)" % (m, args))
    check(got == "22023", "bgnbd_probability_of_purchases(m, %s): %s" % (args, got))
print("%d failed" % failed)
sys.exit(1 if failed else 0)
