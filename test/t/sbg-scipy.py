#!/usr/bin/python3
"""The shifted-beta-geometric model (SPEC section 8) against references
nobody here wrote:

* Fader & Hardie 2007, "How to project customer retention", Table 1: the
  survivors of 1,000 customers over 7 years give the published alpha, beta
  (0.704, 1.182 "regular"; 0.668, 3.806 "high end") to 3 decimals;
* an independent maximum-likelihood fit written here with scipy
  (scipy.special.betaln for the likelihood, Nelder-Mead then a root of the
  digamma gradient): sbg_fit equals it to 1e-6 relative in alpha and beta
  and 1e-10 relative in the log-likelihood, on the paper's data and on
  generated cohorts (staggered observation windows, tiny and large
  cohorts, sparse long durations, parameters from 0.05 to 50);
* mpmath: S(t) and r(t) from the beta functions, and sbg_derl against a
  direct summation of its defining series sum_{t>=1} S(n+t)/S(n)/(1+d)^(t-1)
  (1e-10 relative);
* the cohorts without a maximum-likelihood estimate, and bad summaries,
  fail with the documented SQLSTATE.
Run by `make test` inside the cluster."""
import os
import subprocess
import sys

import mpmath as mp
import numpy as np
from scipy import optimize, special

os.environ["PGDATABASE"] = "sbg_scipy"
admin = dict(os.environ, PGDATABASE="postgres", PGOPTIONS="-c client_min_messages=warning")
subprocess.run(["dropdb", "--if-exists", "sbg_scipy"], check=True, env=admin)
subprocess.run(["createdb", "sbg_scipy"], check=True, env=admin)
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
    """The SQLSTATE sql fails with (None when it succeeds) and the message."""
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                          "-c", "\\set VERBOSITY verbose", "-c", sql], capture_output=True, text=True)
    if out.returncode == 0:
        return None, ""
    first = out.stderr.strip().splitlines()[0]
    return first.split()[1].rstrip(":"), first


def summary_sql(counts):
    """A survival_summary from {(duration, churned): customers}."""
    values = ",".join("(%r::float8,%s,%d)" % (d, "true" if c else "false", n)
                      for (d, c), n in sorted(counts.items()) if n > 0)
    return ("(SELECT survival_agg(d, c) FROM (VALUES %s) v(d, c, n), generate_series(1, v.n))" % values)


def scipy_fit(counts):
    """Independent MLE: ln L = sum c_t ln[B(a+1,b+t-1)/B(a,b)] + s_t ln[B(a,b+t)/B(a,b)]."""
    ts = np.array([d for d, _ in counts], dtype=float)
    churned = np.array([c for _, c in counts])
    w = np.array([counts[k] for k in counts], dtype=float)

    def ll(p):
        a, b = np.exp(p)
        base = special.betaln(a, b)
        lp = np.where(churned, special.betaln(a + 1, b + ts - 1), special.betaln(a, b + ts)) - base
        return float(np.sum(w * lp))

    def grad(p):
        a, b = np.exp(p)
        psi = special.digamma
        da = np.where(churned, psi(a + 1) - psi(a + b + ts), psi(a) - psi(a + b + ts)) - (psi(a) - psi(a + b))
        db = np.where(churned, psi(b + ts - 1) - psi(a + b + ts), psi(b + ts) - psi(a + b + ts)) - (psi(b) - psi(a + b))
        return np.array([a * np.sum(w * da), b * np.sum(w * db)]) / np.sum(w)

    best = None
    for start in ([0.0, 0.0], [-2.0, 2.0], [2.0, -1.0], [1.0, 3.0]):
        r = optimize.minimize(lambda p: -ll(p), start, method="Nelder-Mead",
                              options=dict(xatol=1e-10, fatol=1e-13, maxiter=20000, maxfev=40000))
        if best is None or r.fun < best.fun:
            best = r
    # polish: Newton on the digamma gradient, Jacobian by central differences
    p = best.x
    for _ in range(30):
        g = grad(p)
        J = np.column_stack([(grad(p + e) - grad(p - e)) / 2e-5 for e in (np.array([1e-5, 0]), np.array([0, 1e-5]))])
        step = np.linalg.solve(J, g)
        if not ll(p - step) >= ll(p) - 1e-12 * abs(ll(p)):
            break
        p = p - step
        if max(abs(step)) < 1e-13:
            break
    return np.exp(p[0]), np.exp(p[1]), ll(p)


def compare(label, counts):
    got = psql("SELECT (sbg_params(sbg_fit(%s))).*" % summary_sql(counts))
    a, b, ll, n = float(got[0]), float(got[1]), float(got[2]), int(got[3])
    ra, rb, rll = scipy_fit(counts)
    err = max(abs(a / ra - 1), abs(b / rb - 1))
    check(err < 1e-6 and abs(ll / rll - 1) < 1e-10 and n == sum(counts.values()),
          "%s: alpha %.9g beta %.9g LL %.12g (scipy %.9g %.9g %.12g; params rel %.1e, LL rel %.1e), %d customers"
          % (label, a, b, ll, ra, rb, rll, err, abs(ll / rll - 1), n))
    return a, b


# ---- the paper's Table 1 ----
paper = {"regular": ([631, 468, 382, 326, 289, 262, 241], (0.704, 1.182)),
         "high end": ([869, 743, 653, 593, 551, 517, 491], (0.668, 3.806))}
for label, (alive, published) in paper.items():
    prev, counts = 1000, {}
    for year, n in enumerate(alive, 1):
        counts[(year, True)] = prev - n
        prev = n
    counts[(7, False)] = alive[-1]
    # the summary built in SQL from the survivors, as a user would
    sql = ("WITH y(t, alive) AS (SELECT * FROM unnest(array[1,2,3,4,5,6,7], array[%s])), "
           "c AS (SELECT t, coalesce(lag(alive) OVER (ORDER BY t), 1000) - alive AS churned, alive FROM y) "
           "SELECT (sbg_params(m)).*, round(alpha::numeric, 3), round(beta::numeric, 3) FROM ("
           "SELECT sbg_fit(survival_agg(d, ch)) m FROM ("
           "SELECT t::float8 d, true ch FROM c, generate_series(1, churned) "
           "UNION ALL SELECT 7, false FROM c, generate_series(1, alive) WHERE t = 7) r) f, "
           "sbg_params(m) p(alpha, beta, ll, n)") % ",".join(map(str, alive))
    got = psql(sql)
    check((float(got[4]), float(got[5])) == published,
          "%s: alpha %s beta %s, published %s" % (label, got[4], got[5], published))
    compare(label + " (scipy)", counts)

# ---- generated cohorts ----
rng = np.random.default_rng(20070101)


def simulate(alpha, beta, n, horizon, staggered=True):
    theta = rng.beta(alpha, beta, n)
    T = np.minimum(rng.geometric(np.clip(theta, 1e-12, 1.0)), horizon + 1)
    H = rng.integers(1, horizon + 1, n) if staggered else np.full(n, horizon)
    counts = {}
    for t, h in zip(T, H):
        key = (int(t), True) if t <= h else (int(h), False)
        counts[key] = counts.get(key, 0) + 1
    return counts


cases = [(0.7, 1.2, 5000, 24, True), (0.05, 0.05, 3000, 12, False), (0.3, 8.0, 20000, 60, True),
         (5.0, 20.0, 20000, 36, False), (50.0, 40.0, 40000, 6, False), (1.5, 0.4, 200, 10, True),
         (0.8, 2.0, 40, 150, True), (2.0, 30.0, 2000, 400, True)]
for alpha, beta, n, horizon, stag in cases:
    counts = simulate(alpha, beta, n, horizon, stag)
    compare("generated alpha=%g beta=%g n=%d horizon=%d%s" % (alpha, beta, n, horizon, " staggered" if stag else ""),
            counts)

# weighted summaries, when survival_agg has weights: frequency weights
if psql("SELECT to_regprocedure('survival_agg(double precision, boolean, double precision, double precision)') IS NOT NULL")[0] == "t":
    counts = simulate(0.9, 2.5, 3000, 20)
    values = ",".join("(%d,%s,%d)" % (d, "true" if c else "false", n) for (d, c), n in counts.items())
    # the weighted summary (one row per distinct (duration, churned), weight
    # = customers) against the same customers one row each
    got = psql("SELECT abs(a1.alpha / a2.alpha - 1) < 1e-12 AND abs(a1.beta / a2.beta - 1) < 1e-12 "
               "AND a1.customers = a2.customers FROM "
               "sbg_params((SELECT sbg_fit(survival_agg(d, c, 0, n)) FROM (VALUES %s) v(d, c, n))) a1, "
               "sbg_params(sbg_fit(%s)) a2" % (values, summary_sql(counts)))
    check(got[0] == "t", "weights count as frequency weights")
else:
    print("-- survival_agg has no weights yet: weighted fit not checked")

# ---- projections against mpmath ----
alpha, beta = (mp.mpf(v) for v in psql("SELECT alpha, beta FROM sbg_params(sbg_fit(%s))" % summary_sql(
    {(1, True): 369, (2, True): 163, (3, True): 86, (4, True): 56, (5, True): 37, (6, True): 27,
     (7, True): 21, (7, False): 241})))
model = "'v=1 alpha=%s beta=%s log_likelihood=-1 customers=1'::sbg_model" % (mp.nstr(alpha, 17), mp.nstr(beta, 17))
alpha, beta = (mp.mpf(float(v)) for v in psql("SELECT alpha, beta FROM sbg_params(%s)" % model))


def S(a, b, t):
    return mp.beta(a, b + t) / mp.beta(a, b)


worst = 0
for t in [0, 1, 2, 7, 12, 31, 32, 33, 100, 1000, 123456]:
    got = mp.mpf(psql("SELECT sbg_survival_at(%s, %d)" % (model, t))[0])
    worst = max(worst, abs(got / S(alpha, beta, t) - 1))
check(worst < 1e-12, "sbg_survival_at = B(alpha, beta+t)/B(alpha, beta), largest relative error %s" % mp.nstr(worst, 2))
worst = 0
for t in [1, 2, 7, 1000]:
    got = mp.mpf(psql("SELECT sbg_retention_rate(%s, %d)" % (model, t))[0])
    want = S(alpha, beta, t) / S(alpha, beta, t - 1)
    worst = max(worst, abs(got / want - 1))
check(worst < 1e-14, "sbg_retention_rate = S(t)/S(t-1), largest relative error %s" % mp.nstr(worst, 2))


def derl_series(a, b, d, n):
    """sum_{t>=1} S(n+t)/S(n) / (1+d)^(t-1), term by term until the tail is negligible."""
    total, term, t = mp.mpf(0), mp.mpf(1), 0
    disc = 1 / (1 + d)
    while True:
        t += 1
        # S(n+t)/S(n+t-1) = (b+n+t-1)/(a+b+n+t-1)
        term *= (b + n + t - 1) / (a + b + n + t - 1)
        total += term * disc ** (t - 1)
        if term * disc ** (t - 1) < mp.mpf("1e-30") * total:
            return total


for a, b in [(alpha, beta), (mp.mpf("0.668088"), mp.mpf("3.806095")), (mp.mpf(2), mp.mpf("0.5")),
             (mp.mpf(3), mp.mpf(1))]:
    m = "'v=1 alpha=%s beta=%s log_likelihood=-1 customers=1'::sbg_model" % (mp.nstr(a, 17), mp.nstr(b, 17))
    a, b = (mp.mpf(float(v)) for v in psql("SELECT alpha, beta FROM sbg_params(%s)" % m))
    worst = 0
    for d in ["0.1", "0.01", "0.5", "2"]:
        for n in [0, 1, 4, 30, 500]:
            got = mp.mpf(psql("SELECT sbg_derl(%s, %s, %d)" % (m, d, n))[0])
            worst = max(worst, abs(got / derl_series(a, b, mp.mpf(d), n) - 1))
    check(worst < 1e-10, "sbg_derl(alpha=%s, beta=%s) = its series summed directly, d in 0.01..2, n in 0..500: "
          "largest relative error %s" % (mp.nstr(a, 6), mp.nstr(b, 6), mp.nstr(worst, 2)))
got = mp.mpf(psql("SELECT sbg_derl('v=1 alpha=3 beta=1 log_likelihood=-1 customers=1', 0, 4)")[0])
check(abs(got - mp.mpf(5) / 2) < 1e-15, "sbg_derl at d = 0: (beta+n)/(alpha-1) = %s" % got)
check(sqlstate("SELECT sbg_derl('v=1 alpha=0.7 beta=1 log_likelihood=-1 customers=1', 0)")[0] == "22003",
      "sbg_derl at d = 0 with alpha <= 1 (infinite lifetime): 22003")

# ---- no maximum, bad summaries ----
for label, counts, state, words in [
        ("nobody churned", {(3, False): 50, (5, False): 20}, "22003", "no customer churned"),
        ("everybody churned in period 1", {(1, True): 40}, "22003", "every customer churned in the first period"),
        ("only period 1 observed", {(1, True): 40, (1, False): 60}, "22003", "only the first period"),
        ("churn only at 1, the rest never", {(1, True): 40, (6, False): 60}, "22003", "runs off"),
        ("churn rate rising with tenure", {(1, True): 10, (2, True): 30, (3, True): 40, (3, False): 20}, "22003", "runs off"),
        ("duration 0", {(0, True): 1, (2, True): 3, (3, False): 1}, "22023", "positive whole numbers"),
        ("duration 2.5", {(1, True): 1, (2.5, True): 3, (3, False): 1}, "22023", "positive whole numbers")]:
    got, msg = sqlstate("SELECT sbg_fit(%s)" % summary_sql(counts))
    check(got == state and words in msg, "%s: %s %s" % (label, got, msg))
if psql("SELECT to_regprocedure('survival_agg(double precision, boolean, double precision)') IS NOT NULL")[0] == "t":
    got, msg = sqlstate("SELECT sbg_fit(survival_agg(d, c, e)) FROM (VALUES (3.0, true, 1.0), (1, true, 0), (4, false, 0)) v(d, c, e)")
    check(got == "22023" and "late entry" in msg, "late entry: %s %s" % (got, msg))
print("%d failed" % failed)
sys.exit(1 if failed else 0)
