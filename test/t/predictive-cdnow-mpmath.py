#!/usr/bin/python3
"""The CDNOW BG/NBD fit against a 30-digit mpmath evaluation of the
likelihood (Fader, Hardie & Lee 2005, eq. 6, written out independently), on
two versions of the same customers:

* lifetimes' cdnow_customers_summary.csv, whose recency and T are rounded to
  2 decimals of a week;
* the exact weeks (days / 7) rebuilt here from the transactions in
  CDNOW_sample.txt (same-day purchases count once, calibration ends
  1997-09-30), the input CLVTools fits.

On each, the extension's estimate must be a maximum (gradient in log
parameters below 1e-6) with the log-likelihood it reports.  On the exact
weeks it must also equal the published CLVTools estimate (r = 0.2425945,
alpha = 4.4136019, a = 0.7929199, b = 2.4258881, LL = -9582.429) to 5
significant digits.  Also customer 1's E[Y(39)] and P(alive) from the
untransformed formula (eq. 10, 2F1 of argument t/(alpha+T+t)).
Run by `make test` inside the cluster."""
import datetime
import os
import subprocess
import sys
from collections import Counter, defaultdict

import mpmath as mp

os.environ["PGDATABASE"] = "predictive_cdnow"
admin = dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning")
subprocess.run(["dropdb", "--if-exists", "predictive_cdnow"], check=True, env=admin)
subprocess.run(["createdb", "predictive_cdnow"], check=True, env=admin)
subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION customer_success"], check=True)

mp.mp.dps = 30
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
    return [mp.mpf(v) for v in out.stdout.split()]


def loglik(data, r, al, a, b):
    s = 0
    for (x, tx, T), w in data.items():
        c = (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + mp.loggamma(a + b)
             + mp.loggamma(b + x) - mp.loggamma(b) - mp.loggamma(a + b + x))
        term = (al + T) ** -(r + x)
        if x > 0:
            term += a / (b + x - 1) * (al + tx) ** -(r + x)
        s += w * (c + mp.log(term))
    return s


def gradient(data, p):
    h = mp.mpf("1e-10")
    g = []
    for i in range(4):
        up = list(p); up[i] = p[i] * mp.exp(h)
        dn = list(p); dn[i] = p[i] * mp.exp(-h)
        g.append((loglik(data, *up) - loglik(data, *dn)) / (2 * h))
    return g


def fit(label, data, values, divisor):
    """Fit in the extension on VALUES (x, recency, T), recency and T divided by
    DIVISOR in SQL; check the fit is the maximum of the mpmath likelihood."""
    got = psql("WITH m AS (SELECT bgnbd_fit(f, r / %s, t / %s) AS m FROM (VALUES %s) v(f, r, t)) "
               "SELECT p.r, p.alpha, p.a, p.b, p.log_likelihood, "
               "bgnbd_expected_purchases(m, 39, 2, 30.43, 38.86), bgnbd_p_alive(m, 2, 30.43, 38.86) "
               "FROM m, bgnbd_params(m) p" % (divisor, divisor, values))
    ours, ll = got[:4], got[4]
    ll_ours = loglik(data, *ours)
    g = gradient(data, ours)
    print("-- %s: r %s alpha %s a %s b %s LL %s" % (label, *(mp.nstr(v, 8) for v in ours), mp.nstr(ll, 12)))
    check(abs(ll_ours - ll) < mp.mpf("1e-8"), "log-likelihood %s, mpmath %s" % (mp.nstr(ll, 15), mp.nstr(ll_ours, 15)))
    check(max(abs(x) for x in g) < mp.mpf("1e-6"), "gradient at our estimate %s" % [mp.nstr(x, 2) for x in g])
    return got


def sig5(v):
    return mp.nstr(v, 5)


# lifetimes' summary: recency and T rounded to 2 decimals of a week
rows = [l.strip().split(",") for l in open(os.path.join(root, "test/data/cdnow_customers_summary.csv"))][1:]
rounded = Counter((mp.mpf(a[1]), mp.mpf(a[2]), mp.mpf(a[3])) for a in rows)
got = fit("cdnow_customers_summary.csv", rounded, ",".join("(%s,%s,%s)" % tuple(a[1:4]) for a in rows), 1)
r, al, a, b, ll, e39, palive = got

# the same customers in exact weeks, from the transactions
end = datetime.date(1997, 9, 30)
days = defaultdict(set)
for line in open(os.path.join(root, "test/data/CDNOW_sample.txt")):
    f = line.split()
    d = datetime.datetime.strptime(f[2], "%Y%m%d").date()
    if d <= end:
        days[int(f[1])].add(d)
triples = []
for c, ds in days.items():
    first, last = min(ds), max(ds)
    triples.append((len(ds) - 1, (last - first).days, (end - first).days))
check(len(triples) == 2357 and sum(x for x, _, _ in triples) == 2457,
      "rebuilt %d customers, %d repeat purchases" % (len(triples), sum(x for x, _, _ in triples)))
exact = Counter((mp.mpf(x), mp.mpf(tx) / 7, mp.mpf(T) / 7) for x, tx, T in triples)
got = fit("exact weeks from CDNOW_sample.txt", exact, ",".join("(%d,%d,%d)" % t for t in triples), "7.0")
published = [mp.mpf(v) for v in ("0.2425945", "4.4136019", "0.7929199", "2.4258881")]
check([sig5(v) for v in got[:4]] == [sig5(v) for v in published],
      "equals CLVTools to 5 significant digits: %s" % [sig5(v) for v in got[:4]])
check(max(abs(o / p - 1) for o, p in zip(got[:4], published)) < mp.mpf("1e-5"),
      "largest relative difference from CLVTools %s" % mp.nstr(max(abs(o / p - 1) for o, p in zip(got[:4], published)), 2))
check(abs(got[4] - mp.mpf("-9582.429")) < mp.mpf("0.001"), "log-likelihood %s, CLVTools -9582.429" % mp.nstr(got[4], 10))

# customer 1 with the parameters of the rounded-data fit
x, tx, T, t = mp.mpf(2), mp.mpf("30.43"), mp.mpf("38.86"), mp.mpf(39)
z = t / (al + T + t)
num = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, a + b + x - 1, z))
odds = a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
for got_v, want, what in [(e39, num / (1 + odds), "E[Y(39)] customer 1"), (palive, 1 / (1 + odds), "P(alive) customer 1")]:
    check(abs(got_v / want - 1) < mp.mpf("1e-12"), "%s = %s, mpmath %s" % (what, got_v, mp.nstr(want, 17)))
print("%d failed" % failed)
sys.exit(1 if failed else 0)
