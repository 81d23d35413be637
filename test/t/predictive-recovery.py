#!/usr/bin/python3
"""Fits bgnbd_fit() and gamma_gamma_fit() to customers simulated from known
parameters (test/sim/clv_customers.py) and checks, with an independent
implementation of both log-likelihoods in Python (math.lgamma):

  * the extension's log-likelihood equals Python's at the fitted parameters;
  * the fitted parameters are a maximum of Python's likelihood (gradient
    near zero, by central differences);
  * every true parameter lies within 4 standard errors of its estimate
    (standard errors from Python's numerical Hessian).

Also the mpmath-independent check of the CDNOW fit: the gradient of the
CDNOW log-likelihood at the extension's estimate is near zero.
Run by `make test` inside the cluster."""
import math
import os
import subprocess
import sys
from collections import Counter

# a database of its own, with the extension installed by `make test`
os.environ["PGDATABASE"] = "predictive_recovery"
subprocess.run(["dropdb", "--if-exists", "predictive_recovery"], check=True, env=dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning"))
subprocess.run(["createdb", "predictive_recovery"], check=True, env=dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning"))
subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION customer_success"], check=True)

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
TRUE_BG = dict(r=0.25, alpha=4.0, a=0.8, b=2.5)
TRUE_GG = dict(p=6.0, q=4.0, v=15.0)
N = 50000          # above 20,000 distinct points: exercises the subsample start too


def psql(*cmds, stdin=None):
    args = ["psql", "-X", "-At", "-F", ",", "-v", "ON_ERROR_STOP=1"]
    for c in cmds:
        args += ["-c", c]
    out = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("psql failed: " + out.stderr)
    return out.stdout


def bg_ll(theta, data):
    r, al, a, b = (math.exp(t) for t in theta)
    s = 0.0
    for (x, tx, T), w in data.items():
        c = (math.lgamma(r + x) - math.lgamma(r) + r * math.log(al) + math.lgamma(a + b)
             + math.lgamma(b + x) - math.lgamma(b) - math.lgamma(a + b + x))
        d1 = -(r + x) * math.log(al + T)
        if x > 0:
            d2 = math.log(a) - math.log(b + x - 1) - (r + x) * math.log(al + tx)
            hi = max(d1, d2)
            c += hi + math.log(math.exp(d1 - hi) + math.exp(d2 - hi))
        else:
            c += d1
        s += w * c
    return s


def gg_ll(theta, data):
    p, q, v = (math.exp(t) for t in theta)
    s = 0.0
    for (x, m), w in data.items():
        s += w * (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(v)
                  + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(x * m + v))
    return s


def grad_hess(f, theta, h=1e-3):
    n = len(theta)
    g = []
    H = [[0.0] * n for _ in range(n)]
    f0 = f(theta)
    for i in range(n):
        tp = list(theta); tp[i] += h
        tm = list(theta); tm[i] -= h
        fp, fm = f(tp), f(tm)
        g.append((fp - fm) / (2 * h))
        H[i][i] = (fp - 2 * f0 + fm) / (h * h)
    for i in range(n):
        for j in range(i + 1, n):
            def at(si, sj):
                t = list(theta); t[i] += si * h; t[j] += sj * h
                return f(t)
            H[i][j] = H[j][i] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)
    return g, H


def inverse(M):
    n = len(M)
    A = [row[:] + [1.0 if i == j else 0.0 for j in range(n)] for i, row in enumerate(M)]
    for c in range(n):
        piv = max(range(c, n), key=lambda k: abs(A[k][c]))
        A[c], A[piv] = A[piv], A[c]
        d = A[c][c]
        A[c] = [x / d for x in A[c]]
        for k in range(n):
            if k != c:
                f = A[k][c]
                A[k] = [x - f * y for x, y in zip(A[k], A[c])]
    return [row[n:] for row in A]


failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def recover(name, ll, data, est, truth, ext_ll):
    global failures
    theta = [math.log(est[k]) for k in truth]
    f = lambda t: ll(t, data)
    mine = f(theta)
    check(abs(mine - ext_ll) <= 1e-9 * abs(mine), "%s: log-likelihood %.6f, Python %.6f" % (name, ext_ll, mine))
    g, _ = grad_hess(f, theta, h=1e-5)
    _, H = grad_hess(f, theta)
    check(max(abs(x) for x in g) < 1e-3, "%s: gradient at the estimate %s" % (name, ["%.1e" % x for x in g]))
    cov = inverse([[-x for x in row] for row in H])
    for i, k in enumerate(truth):
        se = math.sqrt(cov[i][i])             # of log(parameter)
        z = (theta[i] - math.log(truth[k])) / se
        check(abs(z) < 4, "%s: %s = %.4f (true %g), %.2f standard errors away" % (name, k, est[k], truth[k], z))


# ---------- simulated data ----------
sim = subprocess.run([os.path.join(root, "test/sim/clv_customers.py"), str(N), "11"],
                     capture_output=True, text=True, check=True).stdout
psql("DROP TABLE IF EXISTS sim_customers",
     "CREATE TABLE sim_customers (id int, frequency float8, recency float8, t float8, monetary_value float8)")
psql("COPY sim_customers FROM STDIN (FORMAT csv)", stdin=sim)
bg = psql("SELECT r, alpha, a, b, log_likelihood FROM bgnbd_params("
          "(SELECT bgnbd_fit(frequency, recency, t) FROM sim_customers))").strip().split(",")
gg = psql("SELECT p, q, v, log_likelihood FROM gamma_gamma_params("
          "(SELECT gamma_gamma_fit(frequency, monetary_value) FROM sim_customers))").strip().split(",")
rows = [tuple(map(float, l.split(",")[1:])) for l in sim.split("\n") if l]
bg_data = Counter((x, tx, T) for x, tx, T, m in rows)
gg_data = Counter((x, m) for x, tx, T, m in rows if x > 0)
recover("BG/NBD", bg_ll, bg_data, dict(zip(TRUE_BG, map(float, bg[:4]))), TRUE_BG, float(bg[4]))
recover("Gamma-Gamma", gg_ll, gg_data, dict(zip(TRUE_GG, map(float, gg[:3]))), TRUE_GG, float(gg[3]))
psql("DROP TABLE sim_customers")

# ---------- CDNOW: the extension's estimate maximises the likelihood ----------
cd = [l.strip().split(",") for l in open(os.path.join(root, "test/data/cdnow_customers_summary.csv"))][1:]
cd_data = Counter((float(a[1]), float(a[2]), float(a[3])) for a in cd)
values = ",".join("(%s,%s,%s)" % (a[1], a[2], a[3]) for a in cd)
est = psql("SELECT r, alpha, a, b, log_likelihood FROM bgnbd_params((SELECT bgnbd_fit(f, r, t) "
           "FROM (VALUES %s) v(f, r, t)))" % values).strip().split(",")
theta = [math.log(float(x)) for x in est[:4]]
g, _ = grad_hess(lambda t: bg_ll(t, cd_data), theta, h=1e-4)
check(max(abs(x) for x in g) < 1e-4, "CDNOW BG/NBD: gradient at the estimate %s" % ["%.1e" % x for x in g])
check(abs(bg_ll(theta, cd_data) - float(est[4])) < 1e-8, "CDNOW BG/NBD: log-likelihood %s" % est[4])

print("%d failed" % failures)
sys.exit(1 if failures else 0)
