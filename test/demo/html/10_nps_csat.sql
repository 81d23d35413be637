-- NPS and CSAT sections of the HTML report (test/demo/html/README.md): one
-- JSON section per output row, every number computed by the extension.
-- Numbers are rounded here, in SQL; the renderer prints them as they come.

-- daily summaries rolled up, as a dashboard would store them
CREATE TEMP VIEW report_nps_monthly AS
SELECT date_trunc('month', day)::date AS month, rollup(s) AS s
FROM (SELECT responded_on AS day, nps_agg(score) AS s FROM nps_responses GROUP BY 1) d
GROUP BY 1;
CREATE TEMP VIEW report_csat_monthly AS
SELECT date_trunc('month', answered_on)::date AS month, csat_agg(score) AS c
FROM csat_responses GROUP BY 1;

-- headline figures: the last 12 months
SELECT json_build_object(
	'kind', 'kpis',
	'id', 'nps-csat-kpis',
	'title', 'Customer sentiment, last 12 months (November 2025 to October 2026)',
	'items', json_build_array(
		json_build_object('label', 'NPS', 'value', round(nps(n.s)::numeric, 1),
		                  'detail', '± ' || round(nps_margin_of_error(n.s)::numeric, 1) || ' (95%), '
		                            || nps_responses(n.s) || ' responses'),
		json_build_object('label', 'Promoters', 'value', round(100.0 * nps_promoters(n.s) / nps_responses(n.s), 1) || '%',
		                  'detail', 'detractors ' || round(100.0 * nps_detractors(n.s) / nps_responses(n.s), 1) || '%'),
		json_build_object('label', 'CSAT', 'value', round(100 * csat(c.c)::numeric, 1) || '%',
		                  'detail', '± ' || round(100 * csat_margin_of_error(c.c)::numeric, 1) || ' points (95%), '
		                            || csat_responses(c.c) || ' responses')))
FROM (SELECT rollup(s) AS s FROM report_nps_monthly WHERE month >= '2025-11-01') n,
     (SELECT rollup(c) AS c FROM report_csat_monthly WHERE month >= '2025-11-01') c;

-- NPS trend by month with its 95% margin of error
SELECT json_build_object(
	'kind', 'line',
	'id', 'nps-trend',
	'title', 'NPS by month',
	'subtitle', 'Net Promoter Score with its 95% confidence band (nps_margin_of_error); daily nps_agg summaries rolled up by month',
	'y_label', 'NPS',
	'labels', true,
	'x', json_agg(to_char(month, 'YYYY-MM') ORDER BY month),
	'series', json_build_array(json_build_object(
		'name', 'NPS',
		'band_name', '95% interval',
		'values', json_agg(round(nps(s)::numeric, 1) ORDER BY month),
		'lower', json_agg(round((nps(s) - nps_margin_of_error(s))::numeric, 1) ORDER BY month),
		'upper', json_agg(round((nps(s) + nps_margin_of_error(s))::numeric, 1) ORDER BY month),
		'counts', json_agg(nps_responses(s) ORDER BY month))),
	'note', 'Months with fewer than 30 responses are left out; the band narrows as the customer base grows.')
FROM report_nps_monthly WHERE nps_responses(s) >= 30;

-- CSAT trend by month, in percent
SELECT json_build_object(
	'kind', 'line',
	'id', 'csat-trend',
	'title', 'CSAT by month',
	'subtitle', 'Share of support tickets rated 4 or 5 of 5, with its 95% confidence band (csat_margin_of_error)',
	'y_label', 'CSAT %',
	'y_max', 100,
	'x', json_agg(to_char(month, 'YYYY-MM') ORDER BY month),
	'series', json_build_array(json_build_object(
		'name', 'CSAT %',
		'band_name', '95% interval',
		'values', json_agg(round(100 * csat(c)::numeric, 1) ORDER BY month),
		'lower', json_agg(round(100 * (csat(c) - csat_margin_of_error(c))::numeric, 1) ORDER BY month),
		'upper', json_agg(round(100 * least(1, csat(c) + csat_margin_of_error(c))::numeric, 1) ORDER BY month),
		'counts', json_agg(csat_responses(c) ORDER BY month))),
	'note', 'Months with fewer than 30 rated tickets are left out.')
FROM report_csat_monthly WHERE csat_responses(c) >= 30;

-- NPS by plan over the last 12 months, with error bars
SELECT json_build_object(
	'kind', 'bar',
	'id', 'nps-by-plan',
	'title', 'NPS by plan, last 12 months',
	'subtitle', 'Error bars: 95% margin of error',
	'y_label', 'NPS',
	'categories', json_agg(plan ORDER BY list_mrr),
	'series', json_build_array(json_build_object(
		'name', 'NPS',
		'values', json_agg(round(nps(s)::numeric, 1) ORDER BY list_mrr),
		'lower', json_agg(round((nps(s) - nps_margin_of_error(s))::numeric, 1) ORDER BY list_mrr),
		'upper', json_agg(round((nps(s) + nps_margin_of_error(s))::numeric, 1) ORDER BY list_mrr))))
FROM (SELECT a.plan, p.list_mrr, nps_agg(r.score) AS s
      FROM nps_responses r JOIN accounts a USING (account_id) JOIN plans p USING (plan)
      WHERE r.responded_on >= '2025-11-01' GROUP BY 1, 2) x;

-- how the answers spread over the scale
SELECT json_build_object(
	'kind', 'bar',
	'id', 'nps-scores',
	'title', 'NPS answers by score, last 12 months',
	'subtitle', 'Detractors 0-6, passives 7-8, promoters 9-10 (nps_score_counts)',
	'y_label', 'responses',
	'categories', (SELECT json_agg(g::text ORDER BY g) FROM generate_series(0, 10) g),
	'colors', (SELECT json_agg(CASE WHEN g <= 6 THEN '#dc2626' WHEN g <= 8 THEN '#a3a3a3' ELSE '#16a34a' END ORDER BY g)
	           FROM generate_series(0, 10) g),
	'series', json_build_array(json_build_object('name', 'responses', 'values', to_json(nps_score_counts(s)))))
FROM (SELECT nps_agg(score) AS s FROM nps_responses WHERE responded_on >= '2025-11-01') x;
