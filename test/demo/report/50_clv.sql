\echo
\echo '== Predictive LTV of add-on purchases (BG/NBD + Gamma-Gamma fitted in the database; weeks, data to 2026-10-31)'
-- transactions -> per-account RFM (same-day purchases count once, weeks)
CREATE TEMP VIEW rfm AS
WITH days AS (
	SELECT account_id, purchased_on, sum(amount) AS amount FROM purchases GROUP BY 1, 2
), firsts AS (
	SELECT account_id, min(purchased_on) AS first_day FROM days GROUP BY 1
)
SELECT account_id, count(*) - 1 AS frequency,
       (max(purchased_on) - first_day) / 7.0 AS recency,
       (date '2026-10-31' - first_day) / 7.0 AS t,
       coalesce(avg(amount) FILTER (WHERE purchased_on > first_day), 0) AS monetary_value
FROM days JOIN firsts USING (account_id) GROUP BY account_id, first_day;
CREATE TEMP TABLE models AS
SELECT (SELECT bgnbd_fit(frequency, recency, t) FROM rfm) AS bg,
       (SELECT gamma_gamma_fit(frequency, monetary_value) FROM rfm) AS gg;

SELECT 'BG/NBD' AS model, customers, 'r ' || round(r::numeric, 3) || ', alpha ' || round(alpha::numeric, 2)
       || ', a ' || round(a::numeric, 3) || ', b ' || round(b::numeric, 3) AS parameters,
       round(log_likelihood::numeric, 1) AS log_likelihood
FROM models, bgnbd_params(bg)
UNION ALL
SELECT 'Gamma-Gamma', customers, 'p ' || round(p::numeric, 3) || ', q ' || round(q::numeric, 3)
       || ', v ' || round(v::numeric, 2), round(log_likelihood::numeric, 1)
FROM models, gamma_gamma_params(gg);

\echo
\echo '== Top 10 accounts by predicted 12-month add-on CLV (months of 4.345 weeks, 1% monthly discount)'
SELECT a.name, a.plan, r.frequency AS repeat_buys, round(r.recency::numeric, 1) AS "recency wk",
       round(r.t::numeric, 1) AS "age wk",
       round(bgnbd_p_alive(bg, r.frequency, r.recency, r.t)::numeric, 3) AS p_alive,
       round(bgnbd_expected_purchases(bg, 52.14, r.frequency, r.recency, r.t)::numeric, 2) AS "buys next 52 wk",
       round(gamma_gamma_expected_spend(gg, r.frequency, r.monetary_value)::numeric, 2) AS "spend/buy",
       round(clv(bg, gg, r.frequency, r.recency, r.t, r.monetary_value, 12, 4.345, 0.01)::numeric, 2) AS clv_12m
FROM rfm r JOIN accounts a USING (account_id), models
ORDER BY clv_12m DESC, a.name LIMIT 10;

\echo
\echo '== Predicted next-12-month add-on revenue by plan (sum of CLV) against the last 12 months'
SELECT a.plan, count(*) AS buyers,
       round(sum(clv(bg, gg, r.frequency, r.recency, r.t, r.monetary_value, 12, 4.345, 0))::numeric, 0) AS predicted_12m,
       round((SELECT sum(amount) FROM purchases p JOIN accounts x USING (account_id)
              WHERE x.plan = a.plan AND p.purchased_on > date '2025-10-31')::numeric, 0) AS last_12m,
       round(avg(bgnbd_p_alive(bg, r.frequency, r.recency, r.t))::numeric, 3) AS mean_p_alive
FROM rfm r JOIN accounts a USING (account_id), models
GROUP BY a.plan ORDER BY predicted_12m DESC;
