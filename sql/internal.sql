-- Aggregate support functions that take internal cannot be called from SQL.
-- Kept apart from their families' tests because PostgreSQL 19 added a
-- detail to "function ... does not exist": expected/internal_1.out is 19's
-- text, the only difference.
SELECT cs_test.error_of($$SELECT churn_fit_accum(NULL, true, array[1.0::float8])$$);
SELECT cs_test.error_of($$SELECT auc_accum(NULL, 1::float8, true)$$);
