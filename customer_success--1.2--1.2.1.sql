-- customer_success 1.2 -> 1.2.1 (ALTER EXTENSION customer_success UPDATE TO '1.2.1')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.2.1'" to load this file. \quit

-- Competing risks with late entry: a competing_risks_summary now also keeps
-- how many customers share each (entry, exit, reason) of those who entered
-- after age 0, and cumulative_incidence_curve() gives R's standard errors
-- with late entry (the shared library does the work; summaries stored by
-- 1.2 read back as before, without standard errors when they have late
-- entries).  Only the descriptions change here.
COMMENT ON TYPE competing_risks_summary IS 'Mergeable competing-risks summary: per distinct duration, the churn events of each reason, the censored (still active) customers and, with late entry, the customers who entered then and how many share each (entry, exit, reason)';
COMMENT ON FUNCTION cumulative_incidence_curve(competing_risks_summary, text) IS 'Cumulative incidence of one reason: a row per distinct duration at which a customer leaves, with the number at risk, that reason''s churn events, the Aalen-Johansen cumulative incidence and its infinitesimal-jackknife standard error (as R''s survfit, also with late entry; NULL only for late-entry summaries stored by 1.2)';
