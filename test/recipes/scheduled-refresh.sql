-- Recipe: daily summaries per account in tables kept current on a schedule
-- from the new rows alone (docs/keeping-current.md), rolled up into monthly
-- and quarterly dashboards that BI tools read as views of plain scalar
-- columns.  Runs against the demo data (test/demo/data.sql);
-- test/t/integration-pgcron.sh runs it under pg_cron.
--
-- The answers are only ever inserted here.  Where they are also corrected
-- or deleted, add the changed-keys triggers of docs/keeping-current.md
-- ("Late or corrected rows"), or keep a materialized view refreshed in full.

-- which rows each summary table holds: those of transactions below done_below
CREATE TABLE summary_watermarks (summary text PRIMARY KEY, done_below xid8 NOT NULL);
INSERT INTO summary_watermarks VALUES ('nps_daily', '0'), ('csat_daily', '0');

-- the transaction that wrote each row
ALTER TABLE nps_responses ADD COLUMN ingest_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX ON nps_responses (ingest_xid);
ALTER TABLE csat_responses ADD COLUMN ingest_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX ON csat_responses (ingest_xid);

-- one row per day and account: the summaries are small and merge exactly
CREATE TABLE nps_daily (day date, account_id int, nps nps_summary NOT NULL, PRIMARY KEY (day, account_id));
CREATE TABLE csat_daily (day date, account_id int, csat csat_summary NOT NULL, PRIMARY KEY (day, account_id));

-- each run merges the rows of the transactions that ended since the last
-- one (every transaction below pg_snapshot_xmin has ended; no row below it
-- can appear later) and moves the watermark; the row lock makes runs queue
CREATE FUNCTION refresh_nps_daily() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	lo xid8;
	hi xid8;
	merged bigint;
BEGIN
	SELECT done_below INTO lo FROM summary_watermarks WHERE summary = 'nps_daily' FOR UPDATE;
	hi := pg_snapshot_xmin(pg_current_snapshot());
	INSERT INTO nps_daily AS t (day, account_id, nps)
	SELECT responded_on, account_id, nps_agg(score)
	FROM nps_responses
	WHERE ingest_xid >= lo AND ingest_xid < hi AND score IS NOT NULL
	GROUP BY 1, 2
	ORDER BY 1, 2     -- keys in one order: no deadlock with another upsert
	ON CONFLICT (day, account_id) DO UPDATE SET nps = t.nps + EXCLUDED.nps;
	GET DIAGNOSTICS merged = ROW_COUNT;
	UPDATE summary_watermarks SET done_below = hi WHERE summary = 'nps_daily';
	RETURN merged;
END $$;

CREATE FUNCTION refresh_csat_daily() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	lo xid8;
	hi xid8;
	merged bigint;
BEGIN
	SELECT done_below INTO lo FROM summary_watermarks WHERE summary = 'csat_daily' FOR UPDATE;
	hi := pg_snapshot_xmin(pg_current_snapshot());
	INSERT INTO csat_daily AS t (day, account_id, csat)
	SELECT answered_on, account_id, csat_agg(score)
	FROM csat_responses
	WHERE ingest_xid >= lo AND ingest_xid < hi AND score IS NOT NULL
	GROUP BY 1, 2
	ORDER BY 1, 2     -- keys in one order: no deadlock with another upsert
	ON CONFLICT (day, account_id) DO UPDATE SET csat = t.csat + EXCLUDED.csat;
	GET DIAGNOSTICS merged = ROW_COUNT;
	UPDATE summary_watermarks SET done_below = hi WHERE summary = 'csat_daily';
	RETURN merged;
END $$;

-- the first runs fill the tables from all of history
SELECT refresh_nps_daily(), refresh_csat_daily();

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
