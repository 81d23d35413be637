-- bgnbd_probability_of_purchases() (SPEC section 9): P(X(t) = n), Fader,
-- Hardie & Lee 2005 eq. 8.  Against mpmath on a grid of large n and t:
-- test/t/predictive-purchases-mpmath.py.

-- hand model r = 2, alpha = 3, a = 2, b = 3 at t = 1: p = 3/4, q = 1/4,
-- NB(0) = p^2 = 0.5625, NB(1) = 2 p^2 q = 0.28125;
-- P(0) = NB(0) = 0.5625;
-- P(1) = B(2,4)/B(2,3) NB(1) + B(3,3)/B(2,3) (1 - NB(0)) = 0.6 * 0.28125 + 0.4 * 0.4375 = 0.34375
-- NB(2) = 3 p^2 q^2 = 0.10546875; P(2) = B(2,5)/B(2,3) NB(2) + B(3,4)/B(2,3) (1 - NB(0) - NB(1))
--      = 0.4 * 0.10546875 + 0.2 * 0.15625 = 0.0734375
SELECT n, bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 1, n) AS p
FROM generate_series(0, 2) n;
-- the probabilities add up to 1 (here the rest beyond n = 400 is below 1e-200)
SELECT abs(sum(bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 1, n)) - 1) < 1e-14 AS sums_to_one
FROM generate_series(0, 400) n;
-- t = 0: no purchase for sure
SELECT bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 0, 0) AS p0,
       bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 0, 5) AS p5;
-- large n and t: CDNOW's model at t = 1e6 (mean purchases 55,000); mpmath at
-- 40 digits (test/t/predictive-purchases-mpmath.py's reference):
-- n = 50,000: 2.65147629546353e-9; n = 2,000,000: 7.1044026601871e-16 (equal to 1e-12)
SELECT n, round((bgnbd_probability_of_purchases('v=1 r=0.2425929 alpha=4.4135316 a=0.7928861 b=2.4257534 log_likelihood=0 customers=0', 1e6, n) * 10 ^ e)::numeric, 12) AS mantissa, -e AS exponent
FROM (VALUES (50000, 9), (2000000, 16)) v(n, e);
-- far in the tail the probability underflows to 0, not to an error
SELECT bgnbd_probability_of_purchases('v=1 r=0.2425929 alpha=4.4135316 a=0.7928861 b=2.4257534 log_likelihood=0 customers=0', 1e-3, 1000000) AS underflows_to_zero;
-- extreme models: a + b + n - 1 that would round to 0, q that underflows;
-- answers stay probabilities, or the function says it cannot compute one
SELECT p BETWEEN 0 AND 1 AS in_range FROM (SELECT bgnbd_probability_of_purchases('v=1 r=1e-300 alpha=1e-300 a=1e-300 b=1e-300 log_likelihood=0 customers=0', 5e-324, n) p
  FROM generate_series(0, 2) n) x;
SELECT bgnbd_probability_of_purchases('v=1 r=0.5 alpha=1e300 a=0.8 b=2 log_likelihood=0 customers=0', 1e-300, 0) AS p0_far,
       bgnbd_probability_of_purchases('v=1 r=0.5 alpha=1e300 a=0.8 b=2 log_likelihood=0 customers=0', 1e-300, 3) AS p3_far;
SELECT cs_test.error_of($$SELECT bgnbd_probability_of_purchases('v=1 r=1e200 alpha=1e-300 a=1e300 b=1e-300 log_likelihood=0 customers=0', 5e-324, 1)$$);
-- errors
SELECT cs_test.error_of($$SELECT bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', -1, 0)$$);
SELECT cs_test.error_of($$SELECT bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 'NaN', 0)$$);
SELECT cs_test.error_of($$SELECT bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 'Infinity', 0)$$);
SELECT cs_test.error_of($$SELECT bgnbd_probability_of_purchases('v=1 r=2 alpha=3 a=2 b=3 log_likelihood=0 customers=0', 1, -1)$$);
SELECT bgnbd_probability_of_purchases(NULL, 1, 1) IS NULL AS strict;
