#!/usr/bin/python3
"""churn_model_log_likelihood, churn_model_null_log_likelihood,
churn_model_lr_p_value and churn_model_pseudo_r2 against statsmodels' Logit
(llf, llnull, llr_pvalue, prsquared), and the chi-square upper tail behind
the p-value (cs_chisq_upper_tail) against mpmath and scipy far into the tail.

Data: generated (discrete signals with many ties, outcomes drawn from a
logistic model, so no separation; signal strengths from none to p-values
near 1e-250 and below the smallest double) and the IBM Telco churn data
(test/data/telco_customer_churn.csv).  Tolerances (SPEC section 7):
1e-10 relative for the log-likelihoods and pseudo-R^2; p-values 1e-8
relative, or 1e-300 absolute below that.

Run by `make test` inside the test cluster (PGHOST etc. set); exit 0 = pass.
"""
import csv
import io
import math
import os
import random
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import statsmodels.api as sm
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
TELCO = os.path.join(HERE, '..', 'data', 'telco_customer_churn.csv')
DB = 'cs_churn_model_stats'
mpmath.mp.dps = 40

failures = 0


def psql(sql, stdin=None):
    r = subprocess.run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', sql],
                       input=stdin, capture_output=True, text=True)
    if r.returncode:
        sys.exit("psql failed: %s\n%s" % (sql, r.stderr))
    return r.stdout.strip()


def close(ours, ref, rel, abs_floor=0.0):
    if ours is None or ref is None:
        return ours is None and ref is None
    if ref == 0.0 or abs(ref) < abs_floor:
        return abs(ours - ref) <= max(abs_floor, 0.0)
    return abs(ours - ref) <= rel * abs(ref) or abs(ours - ref) <= abs_floor


def check(what, ours, ref, rel, abs_floor=0.0):
    global failures
    ok = close(ours, ref, rel, abs_floor)
    print('%-44s ours %-24r ref %-24r %s' % (what, ours, ref, 'ok' if ok else 'MISMATCH'))
    failures += not ok


def num(v):
    return None if v == '' else float(v)


STATS = ('churn_model_log_likelihood(m), churn_model_null_log_likelihood(m), '
         'churn_model_lr_p_value(m), churn_model_pseudo_r2(m)')


def ours_stats(table, k, parallel=False):
    sig = ', '.join('x%d' % j for j in range(1, k + 1))
    pre = ''
    if parallel:
        pre = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
               "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; ")
    out = psql(pre + "SELECT %s FROM (SELECT churn_model_fit(y, %s) AS m FROM %s) f" % (STATS, sig, table))
    return [num(v) for v in out.split('|')]


def reference(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        res = sm.Logit(np.asarray(y, float), sm.add_constant(np.asarray(X, float), has_constant='add')).fit(
            method='newton', maxiter=100, tol=1e-14, disp=0)
        # statsmodels fits the intercept-only model by Nelder-Mead then BFGS
        # by default, which stop about 1e-11 short of the maximum: fit it by
        # Newton's method like the model itself
        res.set_null_options(method='newton', maxiter=100, tol=1e-14)
        return [float(res.llf), float(res.llnull), float(res.llr_pvalue), float(res.prsquared)]


def compare(name, table, X, y, parallel=True):
    k = len(X[0])
    ref = reference(X, y)
    for label, ours in [('', ours_stats(table, k))] + ([('parallel ', ours_stats(table, k, True))] if parallel else []):
        check('%s %sllf' % (name, label), ours[0], ref[0], 1e-10)
        check('%s %sllnull' % (name, label), ours[1], ref[1], 1e-10)
        check('%s %sllr_pvalue' % (name, label), ours[2], ref[2], 1e-8, 1e-300)
        check('%s %sprsquared' % (name, label), ours[3], ref[3], 1e-10)


def load(table, X, y):
    k = len(X[0])
    psql('DROP TABLE IF EXISTS %s; CREATE TABLE %s (y boolean, %s)'
         % (table, table, ', '.join('x%d float8' % j for j in range(1, k + 1))))
    buf = io.StringIO()
    for xi, yi in zip(X, y):
        buf.write('%s\t%s\n' % ('t' if yi else 'f', '\t'.join(repr(v) for v in xi)))
    psql('COPY %s FROM STDIN' % table, buf.getvalue())


def generated(rng, n, coefs, levels):
    """n rows; signal j takes `levels` equally spaced values in [0, 1] (ties)."""
    X, y = [], []
    for _ in range(n):
        xi = [rng.randrange(levels) / (levels - 1) for _ in coefs[1:]]
        eta = coefs[0] + sum(b * v for b, v in zip(coefs[1:], xi))
        X.append(xi)
        y.append(rng.random() < 1.0 / (1.0 + math.exp(-eta)))
    return X, y


def telco():
    with open(TELCO, newline='') as f:
        rows = list(csv.DictReader(f))
    X = [[float(r['tenure']) / 72.0, float(r['MonthlyCharges']) / 100.0,
          1.0 if r['Contract'] == 'Month-to-month' else 0.0, float(r['SeniorCitizen']),
          1.0 if r['InternetService'] == 'Fiber optic' else 0.0] for r in rows]
    y = [r['Churn'] == 'Yes' for r in rows]
    return X, y


def chisq_tail():
    """cs_chisq_upper_tail through churn_model_lr_p_value on written models:
    rows, churned and log_likelihood fix x = 2 (llf - llnull), the number
    of coefficients the degrees of freedom."""
    cases = []
    # llnull of 1000 rows with 500 churned is 1000 ln(1/2) = -693.1; of a
    # million rows, -693147: x runs from 1e-12 to 1.4e6
    for rows, churned in [(1000, 500), (1000000, 500000)]:
        llnull = 1000.0 * math.log(0.5) * rows / 1000
        for df in [1, 2, 3, 5, 10, 25, 50, 99, 100]:
            for x in [1e-12, 1e-3, 0.5, 1.0, df - 1, df, df + 1, 2 * df, 3 * df + 20, 100.0, 300.0,
                      700.0, 1000.0, 1300.0, 1380.0, 1420.0, 1500.0, 2000.0, 1e4, 1e6]:
                llf = llnull + x / 2
                if x <= 0 or llf > 0:
                    continue
                cases.append((rows, churned, df, llf))
    values = ','.join("('v=1 coefficients={%s} std_errors={%s} rows=%d churned=%d log_likelihood=%r iterations=1'::churn_model)"
                      % (','.join(['0'] * (df + 1)), ','.join(['1'] * (df + 1)), rows, churned, llf)
                      for rows, churned, df, llf in cases)
    out = psql("SELECT churn_model_log_likelihood(m) || ' ' || churn_model_null_log_likelihood(m) || ' ' || "
               "churn_model_lr_p_value(m) FROM (VALUES %s) v(m)" % values).split('\n')
    worst = 0.0
    for (rows, churned, df, _), line in zip(cases, out):
        llf, llnull, p = (float(v) for v in line.split())
        x = 2.0 * (llf - llnull)   # the same double the extension computes
        ref = float(mpmath.gammainc(mpmath.mpf(df) / 2, mpmath.mpf(x) / 2, mpmath.inf, regularized=True))
        sp = float(stats.chi2.sf(x, df))
        what = 'chi2 tail x=%.6g df=%d' % (x, df)
        if not close(p, ref, 1e-8, 1e-300):
            check(what + ' vs mpmath', p, ref, 1e-8, 1e-300)
        elif ref > 1e-300:
            worst = max(worst, abs(p - ref) / ref)
        # scipy's igamc (cephes) is a second opinion, where it does not underflow itself
        if sp > 1e-290 and not close(p, sp, 1e-8):
            check(what + ' vs scipy', p, sp, 1e-8)
        if ref > 1e-300 and p == 0.0:
            check(what + ' is not 0 too early', p, ref, 1e-8)
    print('chi-square tail: %d cases, worst relative error %.3g against mpmath' % (len(cases), worst))
    check('chi2 tail worst relative error <= 1e-12', 1.0 if worst <= 1e-12 else 0.0, 1.0, 0.0)
    # the tail near 1e-300 is a real number, not 0
    p = float(psql("SELECT churn_model_lr_p_value('v=1 coefficients={0,0,0,0,0,0} std_errors={1,1,1,1,1,1} "
                   "rows=1000000 churned=500000 log_likelihood=-692447 iterations=1')"))
    llnull = 1e6 * math.log(0.5)
    ref = float(mpmath.gammainc(mpmath.mpf(5) / 2, mpmath.mpf(2.0 * (-692447 - llnull)) / 2, mpmath.inf,
                                regularized=True))
    check('p-value near 1e-300 (df 5, x 1400)', p, ref, 1e-8)
    if not (1e-301 < p < 1e-299):
        check('p-value near 1e-300 is in (1e-301, 1e-299)', p, 1e-300, 0.0)


def main():
    subprocess.run(['dropdb', '--if-exists', DB], check=True, stderr=subprocess.DEVNULL)
    subprocess.run(['createdb', DB], check=True)
    try:
        psql('CREATE EXTENSION customer_success')
        rng = random.Random(20261130)
        # (rows, intercept and coefficients, levels per signal)
        datasets = [
            ('no signal', 400, [-0.5, 0.0], 3),
            ('weak, 2 signals', 300, [-1.0, 0.4, -0.3], 5),
            ('moderate, 3 signals', 2000, [-1.0, 1.5, -1.0, 0.5], 4),
            ('strong, 1 signal (p near 1e-270)', 2400, [-3.0, 6.0], 11),
            ('stronger, 1 signal (p below 1e-308)', 5000, [-3.0, 6.0], 11),
            ('very strong, 2 signals', 20000, [-4.0, 8.0, 3.0], 2),
            ('rare churn, 4 signals', 10000, [-5.0, 1.0, 0.5, 2.0, -1.0], 6),
            ('common churn, 5 signals', 3000, [3.0, -1.0, 0.5, -2.0, 0.2, 1.0], 3),
        ]
        for i, (name, n, coefs, levels) in enumerate(datasets):
            X, y = generated(rng, n, coefs, levels)
            load('g%d' % i, X, y)
            compare(name, 'g%d' % i, X, y)
        X, y = telco()
        load('telco', X, y)
        compare('telco', 'telco', X, y)

        # the closed form llnull = churned ln r + retained ln(1 - r), exactly
        for rows, churned in [(8, 4), (7043, 1869), (10**9, 3), (10**9, 10**9 - 3)]:
            v = psql("SELECT churn_model_null_log_likelihood('v=1 coefficients={0,0} std_errors={1,1} "
                     "rows=%d churned=%d log_likelihood=-1e300 iterations=1')" % (rows, churned))
            r = mpmath.mpf(churned) / rows
            ref = float(churned * mpmath.log(r) + (rows - churned) * mpmath.log(1 - r))
            check('llnull closed form rows=%d churned=%d' % (rows, churned), float(v), ref, 1e-14)
        chisq_tail()
    finally:
        subprocess.run(['dropdb', '--if-exists', DB], check=True)
    print('%d mismatches' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
