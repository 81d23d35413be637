-- LTV formulas: ltv(arpa, churn_rate, gross_margin, discount_rate) and
-- cac_payback_months(cac, arpa, gross_margin)
SET extra_float_digits = 0;

-- simple LTV: arpa / churn_rate.  The worked example of the retention family:
-- ARPA 75,000 and churn 15% give 75,000 / 0.15 = 500,000.
SELECT ltv(75000, 0.15) AS simple, ltv(75000, 0.15, 1, 0) AS explicit_defaults;
-- with a margin: 100 * 0.8 / 0.05 = 1,600
SELECT ltv(100, 0.05, 0.8);
-- discounted: 100 * 0.8 * 1.01 / (0.01 + 0.05) = 80.8 / 0.06 = 1346.666...
SELECT round(ltv(100, 0.05, 0.8, 0.01)::numeric, 9);
-- the same as the series sum over k >= 0 of arpa * gm * (1 - churn)^k / (1 + d)^k
-- (paid at each period's start), summed to 2,000 periods in plain SQL
SELECT round(ltv(100, 0.05, 0.8, 0.01)::numeric, 9) =
       round(sum(100 * 0.8 * power(0.95::float8, k) / power(1.01::float8, k))::numeric, 9) AS matches_series
FROM generate_series(0, 2000) k;
-- churn 1: the customer pays once: arpa * gm * (1 + d) / (d + 1) = arpa * gm
SELECT ltv(100, 1), ltv(100, 1, 0.5, 0.2);
-- a negative discount rate above -churn_rate is allowed: 100 * 0.9 / (-0.1 + 0.2) = 900
SELECT round(ltv(100, 0.2, 1, -0.1)::numeric, 9);
-- zero ARPA or margin: zero value
SELECT ltv(0, 0.1), ltv(100, 0.1, 0);
-- integer and numeric arguments cast implicitly; NULL in, NULL out
SELECT ltv(120::numeric, 0.02::numeric, 0.75::numeric), ltv(120, 1);
SELECT ltv(NULL, 0.1) IS NULL AS a, ltv(100, NULL) IS NULL AS b, ltv(100, 0.1, NULL) IS NULL AS c,
       ltv(100, 0.1, 1, NULL) IS NULL AS d;

-- errors
SELECT cs_test.error_of($$SELECT ltv(100, 0)$$);
SELECT cs_test.error_of($$SELECT ltv(100, -0.1)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 1.5)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 'NaN')$$);
SELECT cs_test.error_of($$SELECT ltv(100, 'Infinity')$$);
SELECT cs_test.error_of($$SELECT ltv(-100, 0.1)$$);
SELECT cs_test.error_of($$SELECT ltv('NaN', 0.1)$$);
SELECT cs_test.error_of($$SELECT ltv('Infinity', 0.1)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, -0.2)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 80)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 'NaN')$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 1, -1)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 1, -2)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 1, -0.1)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 1, -0.5)$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 1, 'NaN')$$);
SELECT cs_test.error_of($$SELECT ltv(100, 0.1, 1, 'Infinity')$$);
SELECT cs_test.error_of($$SELECT ltv(1e308, 1e-300)$$);

-- CAC payback: 1,200 / (100 * 0.8) = 15 months; 1,000 / 250 = 4
SELECT cac_payback_months(1200, 100, 0.8), cac_payback_months(1000, 250), cac_payback_months(0, 50);
-- no gross profit per month: never paid back, NULL
SELECT cac_payback_months(1000, 0) IS NULL AS zero_arpa, cac_payback_months(1000, 100, 0) IS NULL AS zero_margin;
SELECT cac_payback_months(NULL, 100) IS NULL AS a, cac_payback_months(100, NULL) IS NULL AS b,
       cac_payback_months(100, 100, NULL) IS NULL AS c;
SELECT cs_test.error_of($$SELECT cac_payback_months(-1, 100)$$);
SELECT cs_test.error_of($$SELECT cac_payback_months(100, -5)$$);
SELECT cs_test.error_of($$SELECT cac_payback_months(100, 5, 1.2)$$);
SELECT cs_test.error_of($$SELECT cac_payback_months(100, 5, -0.2)$$);
SELECT cs_test.error_of($$SELECT cac_payback_months('NaN', 5)$$);
SELECT cs_test.error_of($$SELECT cac_payback_months(100, 'Infinity')$$);
SELECT cs_test.error_of($$SELECT cac_payback_months(1e308, 1e-300)$$);
SELECT cs_test.error_of($$SELECT cac_payback_months(1, 1e-300, 1e-300)$$);

-- both are pure functions
SELECT proname, provolatile, proisstrict, proparallel FROM pg_proc
WHERE proname IN ('ltv', 'cac_payback_months') AND pronargs IN (3, 4) AND proargtypes[0] = 'float8'::regtype
ORDER BY proname;
