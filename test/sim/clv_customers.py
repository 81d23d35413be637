#!/usr/bin/python3
"""Simulates customers of a non-contractual business from known BG/NBD and
Gamma-Gamma parameters and prints one CSV line per customer:
customer_id,frequency,recency,t,monetary_value (no header).

  test/sim/clv_customers.py N [seed] [r alpha a b p q v]

BG/NBD (Fader, Hardie & Lee 2005): each customer buys at rate
lambda ~ Gamma(shape r, rate alpha) while alive, and drops out right after
any purchase with probability p ~ Beta(a, b).  Observation lengths t are
uniform between 13 and 78 (weeks, say).  Gamma-Gamma: each customer's
spend per purchase is Gamma(shape p, rate nu) with nu ~ Gamma(shape q,
rate v); monetary_value is the mean of the repeat purchases (0 when there
are none).  Deterministic for a given seed."""
import random
import sys

n = int(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
r, alpha, a, b, p, q, v = (map(float, sys.argv[3:10]) if len(sys.argv) > 9
                           else (0.25, 4.0, 0.8, 2.5, 6.0, 4.0, 15.0))
rng = random.Random(seed)
out = sys.stdout
for i in range(1, n + 1):
    lam = rng.gammavariate(r, 1.0 / alpha)
    drop = rng.betavariate(a, b)
    T = rng.uniform(13.0, 78.0)
    x = 0
    tx = 0.0
    t = 0.0
    while lam > 0:
        t += rng.expovariate(lam)
        if t > T:
            break
        x += 1
        tx = t
        if rng.random() < drop:
            break
    nu = rng.gammavariate(q, 1.0 / v)
    m = rng.gammavariate(p * x, 1.0 / nu) / x if x > 0 else 0.0
    out.write("%d,%d,%r,%r,%r\n" % (i, x, tx, T, m))
