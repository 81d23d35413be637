-- customer_success 1.2.1 -> 1.3 (ALTER EXTENSION customer_success UPDATE TO '1.3')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3: Cox regression (SPEC §10), merging two stored summaries
-- (SPEC §11).  Each change below is the same as in src/*.sql, which make the
-- fresh install script customer_success--1.3.sql.

-- ===== refactor (issue 21) and the entry rule (issue 22 item 4) =====
-- An entry of 0 means observed from the start for any duration >= 0 (the C
-- functions changed; only the comments of the two aggregates say so).
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision) IS 'Mergeable Kaplan-Meier summary with late entry: a customer is at risk when entry < t <= duration, as R''s Surv(entry, duration, churned); an entry of 0 means observed from the start, for any duration >= 0 (the row counts as in survival_agg(duration, churned)); an entry above 0 must be below the duration';
COMMENT ON AGGREGATE competing_risks_agg(double precision, text, double precision) IS 'Mergeable competing-risks summary with late entry: the customer is at risk at ages t with entry < t <= duration, as R''s Surv(entry, duration, status); an entry of 0 means observed from the start, for any duration >= 0 (the row counts as in competing_risks_agg(duration, reason)); an entry above 0 must be below the duration';
