-- Aggregate support functions that take internal cannot be called from SQL.
-- Kept apart from their families' tests because PostgreSQL changed the
-- error: expected/internal.out is 15.20 and later 15.x, 17 and 18
-- ("function ... does not exist"); internal_1.out is 19's text, which adds
-- a detail; internal_2.out is 15 before 15.20 ("cannot accept a value of
-- type internal", the literal NULL being resolved as internal).
SELECT cs_test.error_of($$SELECT churn_fit_accum(NULL, true, array[1.0::float8])$$);
SELECT cs_test.error_of($$SELECT auc_accum(NULL, 1::float8, true)$$);
SELECT cs_test.error_of($$SELECT auc_ci_accum(NULL, 1::float8, true, 0.9::float8)$$);
