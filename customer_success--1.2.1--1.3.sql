-- customer_success 1.2.1 -> 1.3 (ALTER EXTENSION customer_success UPDATE TO '1.3')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3: Cox regression (SPEC §10), merging two stored summaries
-- (SPEC §11).  Each change below is the same as in src/*.sql, which make the
-- fresh install script customer_success--1.3.sql.
