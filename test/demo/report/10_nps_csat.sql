\echo
\echo '== NPS and CSAT by quarter (daily nps_agg/csat_agg summaries rolled up; margins at 95%)'
WITH daily AS (
	SELECT responded_on AS day, nps_agg(score) AS s FROM nps_responses GROUP BY 1
), quarterly_nps AS (
	SELECT date_trunc('quarter', day) AS q, rollup(s) AS s FROM daily GROUP BY 1
), quarterly_csat AS (
	SELECT date_trunc('quarter', answered_on) AS q, csat_agg(score) AS c FROM csat_responses GROUP BY 1
)
SELECT to_char(q, 'YYYY "Q"Q') AS quarter,
       nps_responses(s) AS responses,
       round(nps(s)::numeric, 1) AS nps,
       '± ' || round(nps_margin_of_error(s)::numeric, 1) AS margin,
       round(100.0 * nps_promoters(s) / nps_responses(s), 1) AS "promoters %",
       round(100.0 * nps_detractors(s) / nps_responses(s), 1) AS "detractors %",
       round(100 * csat(c)::numeric, 1) AS "CSAT %",
       '± ' || round(100 * csat_margin_of_error(c)::numeric, 1) AS margin
FROM quarterly_nps LEFT JOIN quarterly_csat USING (q)
ORDER BY q;

\echo
\echo '== NPS by plan, last 12 months'
SELECT a.plan, count(*) AS responses, round(nps(score)::numeric, 1) AS nps,
       '± ' || round(nps_margin_of_error(nps_agg(score))::numeric, 1) AS margin
FROM nps_responses r JOIN accounts a USING (account_id)
WHERE responded_on >= date '2025-11-01'
GROUP BY a.plan ORDER BY nps DESC;

\echo
\echo '== Rolling 28-day NPS, last 7 days of data (a sliding window frame over daily summaries)'
SELECT day, nps_responses(rollup(s) OVER w) AS "responses, 28 days",
       round(nps(rollup(s) OVER w)::numeric, 1) AS "NPS, 28 days",
       round(nps(s)::numeric, 1) AS "NPS that day"
FROM (SELECT responded_on AS day, nps_agg(score) AS s FROM nps_responses GROUP BY 1) daily
WINDOW w AS (ORDER BY day RANGE BETWEEN '27 days' PRECEDING AND CURRENT ROW)
ORDER BY day DESC LIMIT 7;
