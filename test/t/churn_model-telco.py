#!/usr/bin/python3
"""churn_model_fit, churn_probability and auc on the IBM Telco churn data
(test/data/telco_customer_churn.csv), checked against an independent
computation in pure Python: Newton's method on the logistic log-likelihood
with exactly rounded sums (math.fsum) and Gaussian elimination with partial
pivoting, and the AUC from mid-ranks in exact rational arithmetic.

Run by `make test` inside the test cluster (PGHOST etc. set); exit 0 = pass.
"""
import csv
import math
import os
import subprocess
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'telco_customer_churn.csv')
DB = 'cs_churn_model_telco'


def psql(sql, db=DB):
    r = subprocess.run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql],
                          capture_output=True, text=True)
    if r.returncode:
        sys.exit("psql failed: %s\n%s" % (sql, r.stderr))
    return r.stdout.strip()


def signals(row):
    """The five signals of a customer, as the SQL below computes them."""
    return [float(row['tenure']) / 72.0,
            float(row['MonthlyCharges']) / 100.0,
            1.0 if row['Contract'] == 'Month-to-month' else 0.0,
            float(row['SeniorCitizen']),
            1.0 if row['InternetService'] == 'Fiber optic' else 0.0]


def solve(a, b):
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [list(a[i]) + [b[i]] for i in range(n)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[piv] = m[piv], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - math.fsum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def loglik(X, y, beta):
    terms = []
    for xi, yi in zip(X, y):
        eta = math.fsum(b * v for b, v in zip(beta, xi))
        # log(1 + e^eta), computed stably
        l1pe = eta + math.log1p(math.exp(-eta)) if eta > 0 else math.log1p(math.exp(eta))
        terms.append(yi * eta - l1pe)
    return math.fsum(terms)


def newton(X, y):
    p = len(X[0])
    beta = [0.0] * p
    for _ in range(50):
        g = [[] for _ in range(p)]
        h = [[[] for _ in range(p)] for _ in range(p)]
        for xi, yi in zip(X, y):
            eta = math.fsum(b * v for b, v in zip(beta, xi))
            mu = 1.0 / (1.0 + math.exp(-eta))
            w = mu * (1.0 - mu)
            for a in range(p):
                g[a].append((yi - mu) * xi[a])
                for b in range(p):
                    h[a][b].append(w * xi[a] * xi[b])
        G = [math.fsum(t) for t in g]
        H = [[math.fsum(t) for t in r] for r in h]
        step = solve(H, G)
        beta = [b + s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < 1e-13:
            break
    # standard errors from the inverse information at the optimum
    inv = [solve(H, [1.0 if i == j else 0.0 for i in range(p)]) for j in range(p)]
    se = [math.sqrt(inv[j][j]) for j in range(p)]
    return beta, se


def auc_midrank(scores, outcomes):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [Fraction(0)] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mid = Fraction(i + 1 + j + 1, 2)
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        i = j + 1
    n1 = sum(1 for o in outcomes if o)
    n0 = len(outcomes) - n1
    r1 = sum(r for r, o in zip(ranks, outcomes) if o)
    return (r1 - Fraction(n1 * (n1 + 1), 2)) / (n1 * n0)


def main():
    with open(DATA, newline='') as f:
        rows = list(csv.DictReader(f))
    X = [[1.0] + signals(r) for r in rows]
    y = [1.0 if r['Churn'] == 'Yes' else 0.0 for r in rows]
    beta, se = newton(X, y)
    ll = loglik(X, y, beta)

    subprocess.run(['dropdb', '--if-exists', DB], check=True, stderr=subprocess.DEVNULL)
    subprocess.run(['createdb', DB], check=True)
    try:
        psql('CREATE EXTENSION customer_success')
        psql('CREATE TABLE telco (customer_id text, gender text, senior int, partner text, dependents text, '
             'tenure int, phone text, multiple_lines text, internet text, security text, backup text, '
             'protection text, support text, tv text, movies text, contract text, paperless text, '
             'payment text, monthly_charges float8, total_charges text, churn text)')
        with open(DATA, 'rb') as f:
            subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c',
                            "COPY telco FROM STDIN (FORMAT csv, HEADER true)"], stdin=f, check=True)
        sig = ("tenure / 72.0, monthly_charges / 100.0, (contract = 'Month-to-month')::int, "
               "senior, (internet = 'Fiber optic')::int")
        fit = "(SELECT churn_model_fit(churn = 'Yes', %s) FROM telco)" % sig
        coef = [float(v) for v in psql('SELECT array_to_string(churn_model_coefficients(%s), \' \')' % fit).split()]
        se_db = [float(v) for v in psql('SELECT array_to_string(churn_model_std_errors(%s), \' \')' % fit).split()]
        model = psql('SELECT %s::text' % fit)
        ll_db = float(model.split('log_likelihood=')[1].split()[0])

        failures = 0

        def check(what, ours, ref, tol):
            nonlocal failures
            ok = abs(ours - ref) <= tol * max(1.0, abs(ref))
            print('%-28s ours %.12g  python %.12g  %s' % (what, ours, ref, 'ok' if ok else 'MISMATCH'))
            failures += not ok

        names = ['intercept', 'tenure/72', 'monthly/100', 'month-to-month', 'senior', 'fiber']
        for n, a, b in zip(names, coef, beta):
            check('coefficient ' + n, a, b, 1e-6)
        for n, a, b in zip(names, se_db, se):
            check('std error ' + n, a, b, 1e-6)
        check('log-likelihood', ll_db, ll, 1e-9)
        if 'rows=7043 churned=1869' not in model:
            print('unexpected counts in', model)
            failures += 1

        # the same fit in a forced parallel plan
        par = psql("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                   "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; "
                   "SELECT array_to_string(churn_model_coefficients(%s), ' ')" % fit)
        for n, a, b in zip(names, [float(v) for v in par.split()], beta):
            check('parallel ' + n, a, b, 1e-6)

        # churn_probability of the first customer, and AUC of the fitted probability
        p0 = 1.0 / (1.0 + math.exp(-math.fsum(b * v for b, v in zip(beta, X[0]))))
        check('churn_probability row 1', float(psql(
            "SELECT churn_probability(%s, %s) FROM telco WHERE customer_id = '7590-VHVEG'" % (fit, sig))), p0, 1e-9)
        auc_db = float(psql("SELECT auc(churn_probability(m, %s), churn = 'Yes') FROM telco, %s m(m)" % (sig, fit)))
        scores = [1.0 / (1.0 + math.exp(-math.fsum(b * v for b, v in zip(coef, x)))) for x in X]
        check('auc of the fit', auc_db, float(auc_midrank(scores, [v == 1.0 for v in y])), 1e-9)
        # tenure alone has many ties: ties count half
        auc_t = float(psql("SELECT auc(-tenure, churn = 'Yes') FROM telco"))
        check('auc of -tenure (ties)', auc_t,
              float(auc_midrank([-float(r['tenure']) for r in rows], [v == 1.0 for v in y])), 1e-12)
    finally:
        subprocess.run(['dropdb', '--if-exists', DB], check=True)
    print('%d mismatches' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
