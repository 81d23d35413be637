-- Health section of the HTML report (test/demo/html/README.md): accounts and
-- MRR by health band, scores from the last 8 weeks of usage.
-- requires: health_agg, health_scale, health_score, health_band

WITH signals AS (
	SELECT account_id,
	       health_scale(active_users::float8 / seats, 0.3, 0.8) AS adoption,
	       health_scale(logins::float8 / seats, 1.5, 6) AS logins,
	       health_scale(features_used, 3, 10) AS features,
	       health_scale(open_tickets, 3, 0) AS tickets
	FROM usage_weekly WHERE week >= date '2026-10-26' - 7 * 7
), h AS (
	SELECT account_id, health_band(health_agg(array[0.3, 0.3, 0.2, 0.2], adoption, logins, features, tickets)) AS band
	FROM signals GROUP BY account_id
), b AS (
	SELECT band, count(*) AS accounts, sum(m.mrr) AS mrr
	FROM h JOIN mrr_monthly m USING (account_id) WHERE m.month = date '2026-10-01'
	GROUP BY band
), bands AS (
	SELECT v.band, v.i, coalesce(b.accounts, 0) AS accounts, coalesce(b.mrr, 0) AS mrr
	FROM (VALUES ('red', 1), ('yellow', 2), ('green', 3)) v(band, i) LEFT JOIN b USING (band)
)
SELECT json_build_object(
	'kind', 'bar',
	'id', 'health-bands',
	'title', 'Paying accounts by health band, October 2026',
	'subtitle', 'health_score over the last 8 weeks of usage (adoption 0.3, logins 0.3, features 0.2, tickets 0.2); red below 40, green from 70',
	'y_label', 'accounts',
	'thousands', true,
	'categories', json_agg(band ORDER BY i),
	'colors', json_build_array('#dc2626', '#eab308', '#16a34a'),
	'series', json_build_array(json_build_object('name', 'accounts', 'values', json_agg(accounts ORDER BY i))),
	'note', 'MRR by band: ' || string_agg(band || ' ' || to_char(round(mrr), 'FM9,999,999'), ', ' ORDER BY i))
FROM bands;
