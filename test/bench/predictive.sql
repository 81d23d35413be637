-- Predictive LTV: BG/NBD and Gamma-Gamma maximum likelihood fits, on CDNOW
-- (2,357 customers; target under 50 ms) and on 1 million customers
-- simulated from known parameters (test/sim/clv_customers.py; a fixed
-- size, whatever BENCH_ROWS says).  floor = a bare scan of the same columns;
-- there is no plain-SQL way to fit these models (no lgamma in SQL).
CREATE TABLE bench_cdnow (id int, frequency float8, recency float8, t float8);
\copy bench_cdnow FROM '../data/cdnow_customers_summary.csv' (FORMAT csv, HEADER)
CREATE TABLE bench_cdnow_spend (id int, x float8, t_x float8, t float8, zbar float8);
\copy bench_cdnow_spend FROM '../data/cdnow_customers_summary_with_transactions.csv' (FORMAT csv, HEADER)
CREATE TABLE bench_sim (id int, frequency float8, recency float8, t float8, monetary_value float8);
\copy bench_sim FROM PROGRAM '../sim/clv_customers.py 1000000 5' (FORMAT csv)
VACUUM ANALYZE bench_cdnow, bench_cdnow_spend, bench_sim;

SELECT cs_bench.compare('bgnbd_fit CDNOW (2,357)',
	'SELECT bgnbd_fit(frequency, recency, t) FROM bench_cdnow',
	'SELECT count(frequency + recency + t) FROM bench_cdnow', NULL, :rounds);
SELECT cs_bench.compare('gamma_gamma_fit CDNOW (946)',
	'SELECT gamma_gamma_fit(x, zbar) FROM bench_cdnow_spend',
	'SELECT count(x + zbar) FROM bench_cdnow_spend', NULL, :rounds);
SELECT cs_bench.compare('bgnbd_fit 1M simulated',
	'SELECT bgnbd_fit(frequency, recency, t) FROM bench_sim',
	'SELECT count(frequency + recency + t) FROM bench_sim', NULL, :rounds);
SELECT cs_bench.compare('gamma_gamma_fit 1M simulated',
	'SELECT gamma_gamma_fit(frequency, monetary_value) FROM bench_sim',
	'SELECT count(frequency + monetary_value) FROM bench_sim', NULL, :rounds);
SELECT cs_bench.compare('clv() per customer, CDNOW',
	$$SELECT sum(clv(b, g, x, t_x, t, zbar)) FROM bench_cdnow_spend,
	         (SELECT bgnbd_fit(frequency, recency, t) AS b FROM bench_cdnow) m,
	         (SELECT gamma_gamma_fit(x, zbar) AS g FROM bench_cdnow_spend) n$$,
	'SELECT count(x + t_x + t + zbar) FROM bench_cdnow_spend', NULL, :rounds);
DROP TABLE bench_cdnow, bench_cdnow_spend, bench_sim;
