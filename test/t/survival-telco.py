#!/usr/bin/python3
"""Kaplan-Meier on the IBM Telco churn data, checked against an independent
computation.

The extension's survival_curve, survival_at, median_lifetime, mean_lifetime,
cohort_churn and rollup over test/data/telco_customer_churn.csv (tenure in
months as the duration, Churn = Yes as the event, everyone else censored) are
compared with Kaplan-Meier computed here from the CSV by hand: exact rational
arithmetic (fractions) for S and Greenwood's sum, then the log(-log S)
interval with the normal quantile from Python's statistics module.  Runs
inside test/with-cluster (PGHOST etc. set); exit 0 = pass.
"""
import csv
import math
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CSV = os.path.join(ROOT, "test", "data", "telco_customer_churn.csv")
DB = "survival_telco"
failures = []


def psql(sql, db=DB):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", db],
                         input=sql, check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def close(what, ours, theirs, tol=1e-12):
    if ours is None or theirs is None:
        ok = ours is None and theirs is None
    else:
        ok = abs(ours - theirs) <= tol * max(1.0, abs(theirs))
    if not ok:
        failures.append(f"{what}: extension {ours!r}, by hand {theirs!r}")


def km(rows):
    """rows: (duration, churned) -> list of (t, n, d, c, S, greenwood) with exact S"""
    events = defaultdict(lambda: [0, 0])
    for t, churned in rows:
        events[t][0 if churned else 1] += 1
    n = len(rows)
    s = Fraction(1)
    gw = Fraction(0)
    out = []
    for t in sorted(events):
        d, c = events[t]
        if d:
            s *= Fraction(n - d, n)
            if n > d:
                gw += Fraction(d, n * (n - d))
        out.append((t, n, d, c, s, gw))
        n -= d + c
    return out


def s_at(curve, t):
    s = Fraction(1)
    for row in curve:
        if row[0] <= t:
            s = row[4]
    return s


def rmst(curve, horizon):
    area, prev, s = Fraction(0), Fraction(0), Fraction(1)
    for t, _, _, _, st, _ in curve:
        if t > horizon:
            break
        area += s * (t - prev)
        prev, s = Fraction(t), st
    return area + s * (horizon - prev)


def main():
    with open(CSV, newline="") as f:
        data = [(int(r["tenure"]), r["Churn"] == "Yes", r["Contract"]) for r in csv.DictReader(f)]
    rows = [(t, ch) for t, ch, _ in data]
    curve = km(rows)
    z = statistics.NormalDist().inv_cdf(0.975)

    subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
    subprocess.run(["createdb", DB], check=True)
    try:
        psql("CREATE EXTENSION customer_success")
        psql("CREATE TABLE telco (tenure int, churned bool, contract text)")
        values = ",".join(f"({t},{str(ch).lower()},'{k}')" for t, ch, k in data)
        psql(f"INSERT INTO telco VALUES {values}")

        got = psql("SELECT * FROM survival_curve((SELECT survival_agg(tenure, churned) FROM telco))")
        if len(got) != len(curve):
            failures.append(f"curve has {len(got)} rows, by hand {len(curve)}")
        for g, (t, n, d, c, s, gw) in zip(got, curve):
            if (float(g[0]), int(g[1]), int(g[2]), int(g[3])) != (t, n, d, c):
                failures.append(f"row {g[:4]} differs from {(t, n, d, c)}")
            close(f"S({t})", float(g[4]), float(s))
            if s == 1:
                lo = hi = 1.0
            else:
                se = math.sqrt(gw) / abs(math.log(s))
                lo, hi = float(s) ** math.exp(z * se), float(s) ** math.exp(-z * se)
            close(f"lower({t})", float(g[5]), lo, 1e-9)
            close(f"upper({t})", float(g[6]), hi, 1e-9)

        med = next((t for t, _, _, _, s, _ in curve if s <= Fraction(1, 2)), None)
        (m, r72, r24, s12, c12), = psql(
            "SELECT median_lifetime(s), mean_lifetime(s, 72), mean_lifetime(s, 24.5), "
            "survival_at(s, 12), (SELECT cohort_churn(tenure, churned, 12) FROM telco) "
            "FROM (SELECT survival_agg(tenure, churned) AS s FROM telco) x")
        close("median", float(m) if m else None, med)
        if os.environ.get("SURVIVAL_VERBOSE"):
            print("median", m, med, "S(12)", s12, "mean72", r72, "curve rows", len(got))
        close("mean to 72", float(r72), float(rmst(curve, 72)))
        close("mean to 24.5", float(r24), float(rmst(curve, Fraction(49, 2))))
        close("S(12)", float(s12), float(s_at(curve, 12)))
        close("cohort_churn(12)", float(c12), float(1 - s_at(curve, 12)))

        # per contract type, and the rollup of those equal to the whole
        for contract, s24, med in psql(
                "SELECT contract, survival_at(survival_agg(tenure, churned), 24), "
                "median_lifetime(survival_agg(tenure, churned)) FROM telco GROUP BY contract"):
            sub = km([(t, ch) for t, ch, k in data if k == contract])
            close(f"S(24) {contract}", float(s24), float(s_at(sub, 24)))
            hand = next((t for t, _, _, _, s, _ in sub if s <= Fraction(1, 2)), None)
            close(f"median {contract}", float(med) if med else None, hand)
        (same,), = psql("SELECT (SELECT rollup(s)::text FROM (SELECT survival_agg(tenure, churned) AS s "
                        "FROM telco GROUP BY contract) x) = (SELECT survival_agg(tenure, churned)::text FROM telco)")
        if same != "t":
            failures.append("rollup over contracts differs from the whole")
    finally:
        subprocess.run(["dropdb", "--if-exists", DB], check=False)

    for f in failures[:20]:
        print("FAIL", f)
    print(f"telco Kaplan-Meier: {len(curve)} durations, {len(rows)} customers, "
          f"{'ok' if not failures else str(len(failures)) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
