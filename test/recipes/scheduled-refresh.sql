-- Recipe: daily summaries per account in materialized views, refreshed on a
-- schedule, rolled up into monthly and quarterly dashboards that BI tools
-- read as views of plain scalar columns.  Runs against the demo data
-- (test/demo/data.sql); test/t/integration-pgcron.sh runs it under pg_cron.

-- one row per day and account: the summaries are small and merge exactly
CREATE MATERIALIZED VIEW nps_daily AS
SELECT responded_on AS day, account_id, nps_agg(score) AS nps
FROM nps_responses GROUP BY 1, 2;
-- REFRESH ... CONCURRENTLY needs a unique index on plain columns
CREATE UNIQUE INDEX ON nps_daily (day, account_id);

CREATE MATERIALIZED VIEW csat_daily AS
SELECT answered_on AS day, account_id, csat_agg(score) AS csat
FROM csat_responses GROUP BY 1, 2;
CREATE UNIQUE INDEX ON csat_daily (day, account_id);

-- dashboards: plain double precision and bigint columns, nothing to decode
CREATE VIEW nps_monthly AS
SELECT date_trunc('month', day)::date AS month,
       nps(rollup(nps)) AS nps,
       nps_margin_of_error(rollup(nps)) AS nps_margin_95,
       nps_responses(rollup(nps)) AS responses,
       nps_promoters(rollup(nps)) AS promoters,
       nps_detractors(rollup(nps)) AS detractors
FROM nps_daily GROUP BY 1;

CREATE VIEW nps_quarterly_by_plan AS
SELECT date_trunc('quarter', d.day)::date AS quarter, a.plan,
       nps(rollup(d.nps)) AS nps,
       nps_margin_of_error(rollup(d.nps)) AS nps_margin_95,
       nps_responses(rollup(d.nps)) AS responses
FROM nps_daily d JOIN accounts a USING (account_id) GROUP BY 1, 2;

CREATE VIEW csat_monthly AS
SELECT date_trunc('month', day)::date AS month,
       csat(rollup(csat)) AS csat,
       csat_margin_of_error(rollup(csat)) AS csat_margin_95,
       csat_responses(rollup(csat)) AS responses
FROM csat_daily GROUP BY 1;
