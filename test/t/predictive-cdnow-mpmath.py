#!/usr/bin/python3
"""The CDNOW BG/NBD fit against a 30-digit mpmath evaluation of the
likelihood (Fader, Hardie & Lee 2005, eq. 6, written out independently):
the extension's estimate must be a maximum (gradient in log parameters
below 1e-6) with the log-likelihood it reports, and at least as good as the
published CLVTools estimate (r = 0.2425945, alpha = 4.4136019,
a = 0.7929199, b = 2.4258881).  Also customer 1's E[Y(39)] and P(alive)
from the untransformed formula (eq. 10, 2F1 of argument t/(alpha+T+t)).
Run by `make test` inside the cluster."""
import os
import subprocess
import sys
from collections import Counter

import mpmath as mp

os.environ["PGDATABASE"] = "predictive_cdnow"
subprocess.run(["dropdb", "--if-exists", "predictive_cdnow"], check=True, env=dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning"))
subprocess.run(["createdb", "predictive_cdnow"], check=True, env=dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning"))
subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION customer_success"], check=True)

mp.mp.dps = 30
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rows = [l.strip().split(",") for l in open(os.path.join(root, "test/data/cdnow_customers_summary.csv"))][1:]
data = Counter((mp.mpf(a[1]), mp.mpf(a[2]), mp.mpf(a[3])) for a in rows)
values = ",".join("(%s,%s,%s)" % (a[1], a[2], a[3]) for a in rows)
out = subprocess.run(["psql", "-X", "-At", "-F", " ", "-v", "ON_ERROR_STOP=1", "-c",
                      "WITH m AS (SELECT bgnbd_fit(f, r, t) AS m FROM (VALUES %s) v(f, r, t)) "
                      "SELECT p.r, p.alpha, p.a, p.b, p.log_likelihood, "
                      "bgnbd_expected_purchases(m, 39, 2, 30.43, 38.86), bgnbd_p_alive(m, 2, 30.43, 38.86) "
                      "FROM m, bgnbd_params(m) p" % values], capture_output=True, text=True)
if out.returncode != 0:
    sys.exit(out.stderr)
r, al, a, b, ll, e39, palive = (mp.mpf(v) for v in out.stdout.split())


def loglik(r, al, a, b):
    s = 0
    for (x, tx, T), w in data.items():
        c = (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + mp.loggamma(a + b)
             + mp.loggamma(b + x) - mp.loggamma(b) - mp.loggamma(a + b + x))
        term = (al + T) ** -(r + x)
        if x > 0:
            term += a / (b + x - 1) * (al + tx) ** -(r + x)
        s += w * (c + mp.log(term))
    return s


def gradient(p):
    h = mp.mpf("1e-10")
    g = []
    for i in range(4):
        up = list(p); up[i] = p[i] * mp.exp(h)
        dn = list(p); dn[i] = p[i] * mp.exp(-h)
        g.append((loglik(*up) - loglik(*dn)) / (2 * h))
    return g


failed = 0
ours = [r, al, a, b]
published = [mp.mpf(v) for v in ("0.2425945", "4.4136019", "0.7929199", "2.4258881")]
ll_ours, ll_pub = loglik(*ours), loglik(*published)
g = gradient(ours)
for ok, what in [
    (abs(ll_ours - ll) < mp.mpf("1e-8"), "log-likelihood %s, mpmath %s" % (ll, mp.nstr(ll_ours, 15))),
    (max(abs(x) for x in g) < mp.mpf("1e-6"), "gradient at our estimate %s" % [mp.nstr(x, 2) for x in g]),
    (ll_ours >= ll_pub, "ours %s >= published estimate's %s" % (mp.nstr(ll_ours, 15), mp.nstr(ll_pub, 15))),
]:
    print(("ok   " if ok else "FAIL ") + what)
    failed += not ok

x, tx, T, t = mp.mpf(2), mp.mpf("30.43"), mp.mpf("38.86"), mp.mpf(39)
z = t / (al + T + t)
num = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, a + b + x - 1, z))
odds = a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
for got, want, what in [(e39, num / (1 + odds), "E[Y(39)] customer 1"), (palive, 1 / (1 + odds), "P(alive) customer 1")]:
    ok = abs(got / want - 1) < mp.mpf("1e-12")
    print(("ok   " if ok else "FAIL ") + "%s = %s, mpmath %s" % (what, got, mp.nstr(want, 17)))
    failed += not ok
print("%d failed" % failed)
sys.exit(1 if failed else 0)
