-- Values of every summary and model type, for test/stored/capture: each
-- row of `captured` holds one value's bytes (cs_test.raw), its text form,
-- an accessor and the accessor's result.  :version is the version
-- installed; the types and forms added in 1.2 only from 1.2 on.
CREATE TABLE responses AS
SELECT (i * 7 + i / 13) % 11 AS score FROM generate_series(1, 500) i;
CREATE TABLE accounts AS
SELECT i AS account, 100 + i % 37 AS mrr_start,
       CASE WHEN i % 9 = 0 THEN 0 ELSE 100 + i % 37 + i % 5 - 2 END::float8 AS mrr_end,
       (1 + i % 48)::float8 AS tenure, i % 9 = 0 OR i % 7 = 0 AS churned,
       (i * 17 % 100) / 100.0::float8 AS usage, (i * 29 % 10)::float8 AS tickets,
       CASE WHEN i % 4 = 0 THEN (i % 48) / 2 ELSE 0 END::float8 AS entry,
       CASE WHEN i % 9 = 0 THEN 'payment failure' WHEN i % 7 = 0 THEN 'voluntary' END AS reason
FROM generate_series(1, 600) i;
CREATE TABLE cdnow (id int, frequency float8, recency float8, t float8);
\copy cdnow FROM 'test/data/cdnow_customers_summary.csv' (FORMAT csv, HEADER)
CREATE TABLE spend (id int, x float8, t_x float8, t float8, zbar float8);
\copy spend FROM 'test/data/cdnow_customers_summary_with_transactions.csv' (FORMAT csv, HEADER)

CREATE TABLE captured (version text, typ text, label text, raw text, text_form text, accessor text, value text);
CREATE FUNCTION capture(typ text, label text, expr text, accessor text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r text;
	t text;
	v text;
BEGIN
	EXECUTE format('SELECT (v::cs_test.raw)::text, v::text FROM (%s) x(v)', expr) INTO r, t;
	EXECUTE format('SELECT (%s)::text FROM (SELECT %L::%s AS s) x', accessor, t, typ) INTO v;
	INSERT INTO captured VALUES (current_setting('cs.version'), typ, label, r, t, accessor, v);
END $$;
SELECT set_config('cs.version', :'version', false);

SELECT capture('nps_summary', 'nps_agg', 'SELECT nps_agg(score) FROM responses', 'nps(s)');
SELECT capture('csat_summary', 'csat_agg', 'SELECT csat_agg(score % 5 + 1) FROM responses', 'csat(s)');
SELECT capture('retention_summary', 'retention_agg', 'SELECT retention_agg(mrr_start, mrr_end) FROM accounts', 'nrr(s)');
SELECT capture('survival_summary', 'survival_agg', 'SELECT survival_agg(tenure, churned) FROM accounts', 'survival_at(s, 24)');
SELECT capture('health_summary', 'health_agg, two signals', 'SELECT health_agg(ARRAY[0.7, 0.3], usage, 1 - tickets / 10) FROM accounts', 'health_score(s)');
SELECT capture('bgnbd_model', 'bgnbd_fit, CDNOW', 'SELECT bgnbd_fit(frequency, recency, t) FROM cdnow', '(bgnbd_params(s)).alpha');
SELECT capture('gamma_gamma_model', 'gamma_gamma_fit, CDNOW', 'SELECT gamma_gamma_fit(x, zbar) FROM spend WHERE x > 0', '(gamma_gamma_params(s)).v');
SELECT capture('churn_model', 'churn_model_fit, two signals', 'SELECT churn_model_fit(churned, usage, tickets) FROM accounts', 'churn_model_coefficients(s)');

SELECT :'version' >= '1.2' AS since_1_2 \gset
\if :since_1_2
SELECT capture('survival_summary', 'survival_agg, late entry', 'SELECT survival_agg(tenure, churned, entry) FROM accounts', 'survival_at(s, 24)');
SELECT capture('survival_summary', 'survival_agg, weighted', 'SELECT survival_agg(tenure, churned, 0, 1 + usage) FROM accounts', 'survival_at(s, 24)');
SELECT capture('competing_risks_summary', 'competing_risks_agg', 'SELECT competing_risks_agg(tenure, reason) FROM accounts', 'cumulative_incidence_at(s, ''voluntary'', 24)');
SELECT capture('competing_risks_summary', 'competing_risks_agg, late entry', 'SELECT competing_risks_agg(tenure, reason, entry) FROM accounts', 'cumulative_incidence_at(s, ''voluntary'', 24)');
SELECT capture('sbg_model', 'sbg_fit, eight periods', 'SELECT sbg_fit(''v=1 durations={1,2,3,4,5,6,7,8} churned={369,163,86,56,37,27,21,15} censored={0,0,0,0,0,0,0,226}''::survival_summary)', 'sbg_survival_at(s, 12)');
\endif
