-- SPEC §11: rollup(a, b) and a + b, the merge of two stored summaries, for
-- the six summary types.  Every check compares the merge with the rollup()
-- aggregate over a then b (text and binary forms), or, in value, with the
-- summary of all rows at once.
SET extra_float_digits = 0;
CREATE SCHEMA merge_test;

-- Generated data: 3000 rows in 3 parts (i % 3), and a fourth part whose
-- summary is NULL (no rows with a value), so that every pair below also
-- covers NULL + a, a + NULL and NULL + NULL.
SELECT setseed(0.23);
CREATE TABLE merge_test.rows AS
SELECT i, i % 3 AS part,
       floor(random() * 11)::int AS score,
       round((random() * 100)::numeric, 2)::float8 AS mrr_start,
       CASE WHEN random() < 0.2 THEN 0 ELSE round((random() * 120)::numeric, 2)::float8 END AS mrr_end,
       random() AS sig1, CASE WHEN random() < 0.3 THEN NULL ELSE random() END AS sig2,
       1 + floor(random() * 200)::float8 AS duration,
       random() < 0.6 AS churned,
       CASE WHEN random() < 0.4 THEN floor(random() * 50)::float8 ELSE 0 END AS entry,
       CASE WHEN random() < 0.1 THEN 0 ELSE round((random() * 3)::numeric, 3)::float8 END AS weight,
       (ARRAY['voluntary', 'payment failure', 'merger', NULL, NULL])[1 + floor(random() * 5)::int] AS reason
FROM generate_series(1, 3000) i;
-- late entry needs entry < duration
UPDATE merge_test.rows SET entry = 0 WHERE entry >= duration;

CREATE TABLE merge_test.parts AS
SELECT p AS part,
       nps_agg(score) AS nps,
       csat_agg(1 + score % 5) AS csat,
       retention_agg(mrr_start, mrr_end) AS retention,
       health_agg(ARRAY[2, 1], sig1, sig2) AS health,
       survival_agg(duration, churned) AS surv_plain,
       survival_agg(duration, churned, entry) AS surv_entry,
       survival_agg(duration, churned, entry, weight) AS surv_weighted,
       competing_risks_agg(duration, reason) AS cr_plain,
       competing_risks_agg(duration, reason, entry) AS cr_entry
FROM generate_series(0, 3) p LEFT JOIN merge_test.rows r ON r.part = p
GROUP BY p;
SELECT part, nps IS NULL AS null_summaries FROM merge_test.parts ORDER BY part;

-- The same summaries, whole (all rows at once), for the checks in value
CREATE TABLE merge_test.whole AS
SELECT nps_agg(score) AS nps,
       csat_agg(1 + score % 5) AS csat,
       retention_agg(mrr_start, mrr_end) AS retention,
       health_agg(ARRAY[2, 1], sig1, sig2) AS health,
       survival_agg(duration, churned) AS surv_plain,
       survival_agg(duration, churned, entry) AS surv_entry,
       survival_agg(duration, churned, entry, weight) AS surv_weighted,
       competing_risks_agg(duration, reason) AS cr_plain,
       competing_risks_agg(duration, reason, entry) AS cr_entry
FROM merge_test.rows;

-- For every ordered pair (a, b) of the parts, NULL included: rollup(a, b)
-- and a + b against the rollup() aggregate over a then b, in text and in
-- binary (the type's send function).  col names the column of
-- merge_test.parts, typ its type.
CREATE FUNCTION merge_test.against_aggregate(col text, typ text)
RETURNS TABLE (pairs bigint, text_equal bigint, binary_equal bigint, operator_equal bigint)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT count(*),
		       count(*) FILTER (WHERE m::text IS NOT DISTINCT FROM agg::text),
		       count(*) FILTER (WHERE %2$s_send(m) IS NOT DISTINCT FROM %2$s_send(agg)),
		       count(*) FILTER (WHERE (x.%1$I + y.%1$I)::text IS NOT DISTINCT FROM m::text)
		FROM merge_test.parts x CROSS JOIN merge_test.parts y,
		LATERAL (SELECT rollup(x.%1$I, y.%1$I) AS m,
		                (SELECT rollup(s ORDER BY o) FROM (VALUES (1, x.%1$I), (2, y.%1$I)) v(o, s)) AS agg) z
	$q$, col, typ);
END $$;

SELECT 'nps' AS summary, * FROM merge_test.against_aggregate('nps', 'nps_summary')
UNION ALL SELECT 'csat', * FROM merge_test.against_aggregate('csat', 'csat_summary')
UNION ALL SELECT 'retention', * FROM merge_test.against_aggregate('retention', 'retention_summary')
UNION ALL SELECT 'health', * FROM merge_test.against_aggregate('health', 'health_summary')
UNION ALL SELECT 'survival', * FROM merge_test.against_aggregate('surv_plain', 'survival_summary')
UNION ALL SELECT 'survival, late entry', * FROM merge_test.against_aggregate('surv_entry', 'survival_summary')
UNION ALL SELECT 'survival, weighted', * FROM merge_test.against_aggregate('surv_weighted', 'survival_summary')
UNION ALL SELECT 'competing risks', * FROM merge_test.against_aggregate('cr_plain', 'competing_risks_summary')
UNION ALL SELECT 'competing risks, late entry', * FROM merge_test.against_aggregate('cr_entry', 'competing_risks_summary');

-- The NULL rules, spelled out
SELECT (SELECT nps FROM merge_test.parts WHERE part = 0)::text AS a,
       (NULL::nps_summary + (SELECT nps FROM merge_test.parts WHERE part = 0))::text AS null_plus_a,
       ((SELECT nps FROM merge_test.parts WHERE part = 0) + NULL::nps_summary)::text AS a_plus_null,
       rollup(NULL::nps_summary, NULL::nps_summary) IS NULL AS null_plus_null;
SELECT NULL::survival_summary + NULL::survival_summary IS NULL AS survival,
       NULL::competing_risks_summary + NULL::competing_risks_summary IS NULL AS competing_risks,
       NULL::health_summary + NULL::health_summary IS NULL AS health;

-- Mixed layouts: the aggregate takes a plain survival summary with a late
-- entry or weighted one (its customers at risk from the start), and so does
-- the merge; a competing-risks summary stored by 1.2 (late entry without
-- pairs) with one that has pairs gives one without pairs, as the aggregate.
CREATE TABLE merge_test.mixed AS
SELECT 'survival' AS kind, part, surv_plain::text AS v FROM merge_test.parts
UNION ALL SELECT 'survival', part + 10, surv_entry::text FROM merge_test.parts
UNION ALL SELECT 'survival', part + 20, surv_weighted::text FROM merge_test.parts
UNION ALL SELECT 'competing risks', part, cr_plain::text FROM merge_test.parts
UNION ALL SELECT 'competing risks', part + 10, cr_entry::text FROM merge_test.parts
UNION ALL SELECT 'competing risks', 100, 'v=1 reasons={"merger","voluntary"} durations={1,2,5} entered={1,2,0} censored={0,1,1} events={{0,1,0},{1,0,1}}'
UNION ALL SELECT 'competing risks', 101, 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}}';
SELECT x.kind, count(*) AS pairs,
       count(*) FILTER (WHERE m IS NOT DISTINCT FROM agg) AS text_equal
FROM merge_test.mixed x JOIN merge_test.mixed y ON x.kind = y.kind,
LATERAL (SELECT CASE x.kind
                WHEN 'survival' THEN (x.v::survival_summary + y.v::survival_summary)::text
                ELSE (x.v::competing_risks_summary + y.v::competing_risks_summary)::text END AS m,
                CASE x.kind
                WHEN 'survival' THEN (SELECT rollup(s ORDER BY o)::text FROM (VALUES (1, x.v::survival_summary), (2, y.v::survival_summary)) v(o, s))
                ELSE (SELECT rollup(s ORDER BY o)::text FROM (VALUES (1, x.v::competing_risks_summary), (2, y.v::competing_risks_summary)) v(o, s)) END AS agg) z
GROUP BY x.kind ORDER BY x.kind;
-- a value stored by 1.2 with one that has pairs: no pairs in the result
SELECT (v::competing_risks_summary + (SELECT cr_entry FROM merge_test.parts WHERE part = 0))::text ~ 'pairs=' AS has_pairs,
       (SELECT cr_entry FROM merge_test.parts WHERE part = 0)::text ~ 'pairs=' AS part_had_pairs
FROM merge_test.mixed WHERE part = 100;
SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}}'::competing_risks_summary
       + 'v=1 reasons={"b"} durations={0.5,2} censored={1,0} events={{0,1}}' AS merged;
SELECT 'v=1 durations={1,2} churned={1,0} censored={0,2}'::survival_summary
       + survival_agg(d, c, e, w) AS merged
FROM (VALUES (2.0, true, 0.5, 0.5), (2, false, 0.5, 0.25)) v(d, c, e, w);

-- Commutative and associative in value: every order and grouping of the
-- three parts, (a + b) + c and a + (b + c), gives the summary of all rows,
-- every accessor to 1e-12 relative.  Each type's accessors as an array:
CREATE FUNCTION merge_test.close(a float8[], b float8[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT cardinality(a) = cardinality(b) AND cardinality(a) > 0 AND
	       bool_and(x IS NOT DISTINCT FROM y OR abs(x - y) <= 1e-12 * greatest(abs(x), abs(y)))
	FROM unnest(a, b) u(x, y)
$$;
CREATE FUNCTION merge_test.values_of(s nps_summary) RETURNS float8[] LANGUAGE sql AS $$
	SELECT ARRAY[nps(s), nps_margin_of_error(s), nps_responses(s), nps_promoters(s), nps_passives(s), nps_detractors(s)]
$$;
CREATE FUNCTION merge_test.values_of(s csat_summary) RETURNS float8[] LANGUAGE sql AS $$
	SELECT ARRAY[csat(s), csat_margin_of_error(s), csat_responses(s), csat_satisfied(s)]
$$;
CREATE FUNCTION merge_test.values_of(s retention_summary) RETURNS float8[] LANGUAGE sql AS $$
	SELECT ARRAY[nrr(s), grr(s), customer_churn_rate(s), revenue_churn_rate(s), gross_revenue_churn_rate(s),
	             net_revenue_churn_rate(s), starting_mrr(s), ending_mrr(s), retained_mrr(s), new_mrr(s),
	             expansion_mrr(s), contraction_mrr(s), churned_mrr(s), starting_customers(s),
	             churned_customers(s), new_customers(s), quick_ratio(s), mrr_growth_rate(s), arpa(s),
	             average_sale_price(s)]
$$;
CREATE FUNCTION merge_test.values_of(s health_summary) RETURNS float8[] LANGUAGE sql AS $$
	SELECT health_score(s) || array_agg(v ORDER BY ord)
	FROM health_contributions(s) WITH ORDINALITY c,
	     LATERAL (VALUES (1, c.weight), (2, c.mean), (3, c.contribution)) x(k, v),
	     LATERAL (SELECT c.ordinality * 10 + x.k) o(ord)
$$;
CREATE FUNCTION merge_test.values_of(s survival_summary) RETURNS float8[] LANGUAGE sql AS $$
	SELECT ARRAY[median_lifetime(s), mean_lifetime(s, 150), mean_lifetime_std_error(s, 150),
	             cumulative_hazard_at(s, 100)] || array_agg(v ORDER BY ord)
	FROM survival_table(s) WITH ORDINALITY t,
	     LATERAL (VALUES (1, t.duration), (2, t.at_risk), (3, t.entered), (4, t.churned), (5, t.censored),
	                     (6, t.survival), (7, t.std_error), (8, t.lower), (9, t.upper),
	                     (10, t.cumulative_hazard), (11, t.cumulative_hazard_std_error)) x(k, v),
	     LATERAL (SELECT t.ordinality * 100 + x.k) o(ord)
$$;
CREATE FUNCTION merge_test.values_of(s competing_risks_summary) RETURNS float8[] LANGUAGE sql AS $$
	SELECT ARRAY[survival_at(s, 50), survival_at(s, 150)] || array_agg(v ORDER BY ord)
	FROM unnest(competing_risks_reasons(s)) WITH ORDINALITY r(reason, rn),
	     cumulative_incidence_curve(s, r.reason) WITH ORDINALITY c,
	     LATERAL (VALUES (1, c.duration), (2, c.at_risk), (3, c.events), (4, c.cumulative_incidence),
	                     (5, c.std_error)) x(k, v),
	     LATERAL (SELECT (r.rn * 100000 + c.ordinality) * 10 + x.k) o(ord)
$$;

CREATE FUNCTION merge_test.orders(col text)
RETURNS TABLE (orders bigint, equal_to_whole bigint, values_checked int)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH p AS (SELECT part, %1$I AS s FROM merge_test.parts WHERE part < 3),
		     w AS (SELECT merge_test.values_of(%1$I) AS v FROM merge_test.whole)
		SELECT count(*), count(*) FILTER (WHERE merge_test.close(merge_test.values_of(m), w.v)),
		       min(cardinality(w.v))
		FROM p a JOIN p b ON b.part <> a.part JOIN p c ON c.part NOT IN (a.part, b.part),
		LATERAL (VALUES ((a.s + b.s) + c.s), (a.s + (b.s + c.s))) g(m), w
	$q$, col);
END $$;

SELECT 'nps' AS summary, * FROM merge_test.orders('nps')
UNION ALL SELECT 'csat', * FROM merge_test.orders('csat')
UNION ALL SELECT 'retention', * FROM merge_test.orders('retention')
UNION ALL SELECT 'health', * FROM merge_test.orders('health')
UNION ALL SELECT 'survival', * FROM merge_test.orders('surv_plain')
UNION ALL SELECT 'survival, late entry', * FROM merge_test.orders('surv_entry')
UNION ALL SELECT 'survival, weighted', * FROM merge_test.orders('surv_weighted')
UNION ALL SELECT 'competing risks', * FROM merge_test.orders('cr_plain')
UNION ALL SELECT 'competing risks, late entry', * FROM merge_test.orders('cr_entry');

-- Exact types merge exactly: the counts of a + b are those of all rows
SELECT (SELECT nps FROM merge_test.whole)::text =
       ((SELECT nps FROM merge_test.parts WHERE part = 2) + (SELECT nps FROM merge_test.parts WHERE part = 0)
        + (SELECT nps FROM merge_test.parts WHERE part = 1))::text AS nps_exact,
       (SELECT surv_plain FROM merge_test.whole)::text =
       ((SELECT surv_plain FROM merge_test.parts WHERE part = 1) + (SELECT surv_plain FROM merge_test.parts WHERE part = 2)
        + (SELECT surv_plain FROM merge_test.parts WHERE part = 0))::text AS survival_exact,
       (SELECT cr_entry FROM merge_test.whole)::text =
       ((SELECT cr_entry FROM merge_test.parts WHERE part = 1) + ((SELECT cr_entry FROM merge_test.parts WHERE part = 2)
        + (SELECT cr_entry FROM merge_test.parts WHERE part = 0)))::text AS competing_risks_exact;

-- The arguments are never changed: a stored value merged with itself reads
-- back as it was
CREATE TABLE merge_test.stored AS SELECT * FROM merge_test.parts WHERE part = 0;
SELECT (s.nps + s.nps)::text = (SELECT rollup(x) FROM (VALUES (s.nps), (s.nps)) v(x))::text AS doubled,
       s.nps::text = p.nps::text AS nps_unchanged,
       (s.retention + s.retention) IS NOT NULL AND s.retention::text = p.retention::text AS retention_unchanged,
       (s.health + s.health) IS NOT NULL AND s.health::text = p.health::text AS health_unchanged,
       (s.surv_weighted + s.surv_weighted) IS NOT NULL AND s.surv_weighted::text = p.surv_weighted::text AS survival_unchanged,
       (s.cr_entry + s.cr_entry) IS NOT NULL AND s.cr_entry::text = p.cr_entry::text AS competing_risks_unchanged
FROM merge_test.stored s JOIN merge_test.parts p USING (part);
SELECT nps::text = (SELECT nps::text FROM merge_test.parts WHERE part = 0) AS still_stored_unchanged
FROM merge_test.stored;

-- Errors: what the rollup() aggregate raises, the same SQLSTATE and message
SELECT cs_test.error_of($$SELECT health_agg(ARRAY[1, 2], 0.5, 0.5) + health_agg(ARRAY[1, 3], 0.5, 0.5)$$) AS operator,
       cs_test.error_of($$SELECT rollup(s ORDER BY o) FROM (VALUES (1, (SELECT health_agg(ARRAY[1, 2], 0.5, 0.5))), (2, (SELECT health_agg(ARRAY[1, 3], 0.5, 0.5)))) v(o, s)$$) AS aggregate;
SELECT cs_test.error_of($$SELECT rollup(health_agg(ARRAY[1, 2], 0.5, 0.5), health_agg(ARRAY[1, 2, 1], 0.5, 0.5, 0.5))$$) AS operator,
       cs_test.error_of($$SELECT rollup(s ORDER BY o) FROM (VALUES (1, (SELECT health_agg(ARRAY[1, 2], 0.5, 0.5))), (2, (SELECT health_agg(ARRAY[1, 2, 1], 0.5, 0.5, 0.5)))) v(o, s)$$) AS aggregate;
SELECT cs_test.error_of($$SELECT 'v=1 counts={9223372036854775807,0,0,0,0,0,0,0,0,0,0}'::nps_summary + 'v=1 counts={1,0,0,0,0,0,0,0,0,0,0}'$$) AS operator,
       cs_test.error_of($$SELECT rollup(s ORDER BY o) FROM (VALUES (1, 'v=1 counts={9223372036854775807,0,0,0,0,0,0,0,0,0,0}'::nps_summary), (2, 'v=1 counts={1,0,0,0,0,0,0,0,0,0,0}')) v(o, s)$$) AS aggregate;
SELECT cs_test.error_of($$SELECT 'v=1 counts={9223372036854775807,0,0,0,0}'::csat_summary + 'v=1 counts={0,0,0,0,1}'$$) AS csat_total;
-- more than 64 reasons between the two
CREATE TABLE merge_test.reasons AS
SELECT (SELECT competing_risks_agg(1, 'a' || i) FROM generate_series(1, 40) i) AS a,
       (SELECT competing_risks_agg(1, 'b' || i) FROM generate_series(1, 40) i) AS b;
SELECT cs_test.error_of($$SELECT a + b FROM merge_test.reasons$$) AS operator,
       cs_test.error_of($$SELECT rollup(s ORDER BY o) FROM merge_test.reasons, LATERAL (VALUES (1, a), (2, b)) v(o, s)$$) AS aggregate;
-- The operators: one per type, its own commutator, and the functions'
-- properties (IMMUTABLE, PARALLEL SAFE, not strict: NULL gives the other)
SELECT o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype, o.oprcode::regprocedure,
       o.oprcom = o.oid AS own_commutator, p.provolatile, p.proparallel, p.proisstrict
FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode
WHERE o.oprname = '+' AND o.oprleft::regtype::text ~ '_summary$'
ORDER BY o.oprleft::regtype::text;

-- The upsert of SPEC §11: daily per-account summaries brought up to date
-- batch by batch, equal to a recompute over all rows
CREATE TABLE merge_test.daily (day int, account int, s nps_summary, h health_summary,
                               PRIMARY KEY (day, account));
CREATE FUNCTION merge_test.upsert_batch(lo int, hi int) RETURNS void LANGUAGE sql AS $$
	INSERT INTO merge_test.daily AS t
	SELECT i % 7, i % 5, nps_agg(score), health_agg(ARRAY[2, 1], sig1, sig2)
	FROM merge_test.rows WHERE i BETWEEN lo AND hi GROUP BY 1, 2
	ON CONFLICT (day, account) DO UPDATE SET s = t.s + EXCLUDED.s, h = t.h + EXCLUDED.h
$$;
SELECT merge_test.upsert_batch(1, 1000), merge_test.upsert_batch(1001, 1001),
       merge_test.upsert_batch(1002, 2500), merge_test.upsert_batch(2501, 3000);
SELECT count(*) AS keys,
       count(*) FILTER (WHERE t.s::text = r.s::text) AS nps_equal,
       count(*) FILTER (WHERE merge_test.close(merge_test.values_of(t.h), merge_test.values_of(r.h))) AS health_close
FROM merge_test.daily t
FULL JOIN (SELECT i % 7 AS day, i % 5 AS account, nps_agg(score) AS s, health_agg(ARRAY[2, 1], sig1, sig2) AS h
           FROM merge_test.rows GROUP BY 1, 2) r USING (day, account);

-- A merge in an UPDATE of a stored survival summary (TOASTed when large)
CREATE TABLE merge_test.cohorts (cohort int PRIMARY KEY, s survival_summary);
INSERT INTO merge_test.cohorts
SELECT 1, survival_agg(duration + i * 1e-3, churned, entry, weight) FROM merge_test.rows WHERE part = 0;
UPDATE merge_test.cohorts SET s = s + (SELECT survival_agg(duration + i * 1e-3, churned, entry, weight)
                                       FROM merge_test.rows WHERE part > 0);
SELECT merge_test.close(merge_test.values_of(c.s), merge_test.values_of(w.s)) AS close_to_whole
FROM merge_test.cohorts c,
     (SELECT survival_agg(duration + i * 1e-3, churned, entry, weight) AS s FROM merge_test.rows) w;

DROP SCHEMA merge_test CASCADE;
RESET extra_float_digits;
