-- Installation in a schema that is not on search_path, and the
-- materialized-view pattern: daily summaries rolled up into months.
DROP EXTENSION customer_success;
CREATE SCHEMA analytics;
CREATE EXTENSION customer_success SCHEMA analytics;
SET search_path = public;

CREATE TABLE responses (answered date, score int);
INSERT INTO responses
SELECT date '2026-01-01' + (i % 90)::int, (i * 37) % 11 FROM generate_series(1, 9000) i;

SELECT analytics.nps(score), analytics.nps_responses(analytics.nps_agg(score)),
       analytics.csat(1 + score % 5)
FROM responses;

-- daily summaries in a materialized view, refreshed concurrently
CREATE MATERIALIZED VIEW daily_nps AS
SELECT answered, analytics.nps_agg(score) AS summary FROM responses GROUP BY answered;
CREATE UNIQUE INDEX ON daily_nps (answered);

INSERT INTO responses SELECT date '2026-02-15', 10 FROM generate_series(1, 500);
REFRESH MATERIALIZED VIEW CONCURRENTLY daily_nps;

-- monthly NPS from the daily summaries equals NPS over the raw rows
SELECT date_trunc('month', answered)::date AS month,
       round(analytics.nps(analytics.rollup(summary))::numeric, 6) AS nps,
       analytics.nps_responses(analytics.rollup(summary)) AS responses
FROM daily_nps GROUP BY 1 ORDER BY 1;
SELECT date_trunc('month', answered)::date AS month,
       round((100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*))::numeric, 6) AS nps,
       count(*) AS responses
FROM responses GROUP BY 1 ORDER BY 1;

-- a month view of plain scalar columns for BI tools
CREATE VIEW monthly_nps AS
SELECT date_trunc('month', answered)::date AS month,
       analytics.nps(analytics.rollup(summary)) AS nps,
       analytics.nps_margin_of_error(analytics.rollup(summary)) AS margin_of_error
FROM daily_nps GROUP BY 1;
SELECT month, round(nps::numeric, 3), round(margin_of_error::numeric, 3) FROM monthly_nps ORDER BY month;

-- every function of the extension carries a comment
SELECT p.oid::regprocedure AS missing_comment
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE obj_description(p.oid, 'pg_proc') IS NULL;
-- every function is PARALLEL SAFE
SELECT p.oid::regprocedure AS not_parallel_safe
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE p.proparallel <> 's';

DROP VIEW monthly_nps;
DROP MATERIALIZED VIEW daily_nps;
DROP TABLE responses;
DROP EXTENSION customer_success;
DROP SCHEMA analytics;
CREATE EXTENSION customer_success;
