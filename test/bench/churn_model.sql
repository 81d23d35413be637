-- DeLong interval of the AUC against auc() itself on the same rows (the
-- "floor" column here is auc(), so ours/floor is the cost of the interval
-- relative to the AUC alone; target <= 1.5), with scores that mostly differ
-- and with 1,000 distinct scores (many ties)
CREATE TABLE bench_auc AS
SELECT random() AS a, round(random() * 1000) AS t, random() < 0.3 AS churned
FROM generate_series(1, :rows);
VACUUM ANALYZE bench_auc;

SELECT cs_bench.compare('auc_lower(score, outcome, 0.95) vs auc(score, outcome)',
	'SELECT auc_lower(a, churned, 0.95) FROM bench_auc',
	'SELECT auc(a, churned) FROM bench_auc', NULL, :rounds);
SELECT cs_bench.compare('auc_upper(score, outcome) vs auc(score, outcome)',
	'SELECT auc_upper(a, churned) FROM bench_auc',
	'SELECT auc(a, churned) FROM bench_auc', NULL, :rounds);
SELECT cs_bench.compare('auc_lower(..), 1,000 distinct scores, vs auc(..)',
	'SELECT auc_lower(t, churned, 0.9) FROM bench_auc',
	'SELECT auc(t, churned) FROM bench_auc', NULL, :rounds);
SELECT cs_bench.compare('auc, auc_lower, auc_upper in one query (one shared state) vs auc(..)',
	'SELECT auc(a, churned), auc_lower(a, churned), auc_upper(a, churned) FROM bench_auc',
	'SELECT auc(a, churned) FROM bench_auc', NULL, :rounds);
DROP TABLE bench_auc;
