-- The catalogue view customer_success_functions, and the catalogue-level
-- checks that every family must pass (written as queries that return the
-- offenders, so that they hold for families added later).

-- NPS and CSAT as the catalogue lists them (other families are filtered out
-- here, so that this output does not change when they are added)
SELECT name, kind, arguments, returns, description
FROM customer_success_functions
WHERE name ~ '^(nps|csat)' OR arguments ~ '^(nps|csat)_summary$'
ORDER BY name, arguments;

-- the support functions are not listed: type I/O, transition and combine
-- functions (they exist, but BI users have no use for them)
SELECT count(*) AS nps_csat_support_functions
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE p.proname ~ '^(nps|csat)_(summary_(in|out|recv|send)|accum|combine)$';
SELECT name, arguments FROM customer_success_functions
WHERE name ~ '_(in|out|recv|send|accum|combine|serialize|deserialize|serialfn|deserialfn|final|finalfn|ffunc)$';

-- every aggregate of the extension is listed, with a description
SELECT p.oid::regprocedure AS aggregate_not_listed
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE p.prokind = 'a'
  AND NOT EXISTS (SELECT FROM customer_success_functions c
                  WHERE c.name = p.proname AND c.kind = 'aggregate'
                    AND c.arguments = pg_get_function_arguments(p.oid));
SELECT name, arguments FROM customer_success_functions WHERE description IS NULL;

-- every function left out of the catalogue is named like a support function
-- (a public function hidden by mistake would show up here)
SELECT p.oid::regprocedure AS hidden_function
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE NOT EXISTS (SELECT FROM customer_success_functions c
                  WHERE c.name = p.proname AND c.arguments = pg_get_function_arguments(p.oid))
  AND p.proname !~ '_(in|out|recv|send|accum|combine|serialize|deserialize|serialfn|deserialfn|trans|transfn|sfunc|final|finalfn|ffunc|inv|uncombine)$';

-- Parallel query and Citus: every aggregate has a combine function; the
-- streaming aggregates (all but the model fits, auc and its interval) keep their state in a
-- summary type of the extension, never internal, with text and binary I/O
-- (Citus moves partial states as text); an internal state needs serialize
-- and deserialize functions; no aggregate is named like a built-in one
-- (Citus rewrites those by name).  The function lists the offenders.
CREATE FUNCTION cs_test.aggregate_problems() RETURNS TABLE (aggregate text, problem text)
LANGUAGE sql AS $$
	WITH aggs AS (
		SELECT p.oid::regprocedure::text AS aggregate, p.proname, a.*, t.typreceive, t.typsend,
		       EXISTS (SELECT FROM pg_depend td
		               WHERE td.classid = 'pg_type'::regclass AND td.objid = t.oid
		                 AND td.refobjid = e.oid AND td.deptype = 'e') AS own_type
		FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
		JOIN pg_type t ON t.oid = a.aggtranstype
		JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
		JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
	)
	SELECT aggregate, 'no combine function' FROM aggs WHERE aggcombinefn = 0
	UNION ALL
	SELECT aggregate, 'streaming aggregate with state type ' || aggtranstype::regtype
	FROM aggs
	WHERE proname NOT IN ('bgnbd_fit', 'gamma_gamma_fit', 'churn_model_fit', 'cox_fit', 'auc', 'auc_lower', 'auc_upper')
	  AND (aggtranstype = 'internal'::regtype OR typreceive = 0 OR typsend = 0 OR NOT own_type)
	UNION ALL
	SELECT aggregate, 'internal state without serialize/deserialize'
	FROM aggs WHERE aggtranstype = 'internal'::regtype AND (aggserialfn = 0 OR aggdeserialfn = 0)
	UNION ALL
	SELECT aggregate, 'named like a built-in aggregate'
	FROM aggs WHERE EXISTS (SELECT FROM pg_proc b
	                        WHERE b.prokind = 'a' AND b.proname = aggs.proname
	                          AND b.pronamespace = 'pg_catalog'::regnamespace)
	ORDER BY 1, 2
$$;
SELECT * FROM cs_test.aggregate_problems();

-- the checks catch offenders: aggregates added to the extension for a moment
CREATE AGGREGATE cs_test.retention_bad(numeric) (SFUNC = numeric_avg_accum, STYPE = internal,
	FINALFUNC = numeric_avg);
CREATE AGGREGATE cs_test.bgnbd_fit(numeric) (SFUNC = numeric_avg_accum, STYPE = internal,
	FINALFUNC = numeric_avg, COMBINEFUNC = numeric_avg_combine);
CREATE AGGREGATE cs_test.stddev(float8[]) (SFUNC = array_cat, STYPE = float8[],
	COMBINEFUNC = array_cat);
ALTER EXTENSION customer_success ADD AGGREGATE cs_test.retention_bad(numeric);
ALTER EXTENSION customer_success ADD AGGREGATE cs_test.bgnbd_fit(numeric);
ALTER EXTENSION customer_success ADD AGGREGATE cs_test.stddev(float8[]);
SELECT * FROM cs_test.aggregate_problems();
ALTER EXTENSION customer_success DROP AGGREGATE cs_test.retention_bad(numeric);
ALTER EXTENSION customer_success DROP AGGREGATE cs_test.bgnbd_fit(numeric);
ALTER EXTENSION customer_success DROP AGGREGATE cs_test.stddev(float8[]);
DROP AGGREGATE cs_test.retention_bad(numeric);
DROP AGGREGATE cs_test.bgnbd_fit(numeric);
DROP AGGREGATE cs_test.stddev(float8[]);
SELECT count(*) AS problems_left FROM cs_test.aggregate_problems();

-- the state type and combine function of each NPS and CSAT aggregate
SELECT p.oid::regprocedure AS aggregate, a.aggtranstype::regtype AS state_type,
       a.aggcombinefn AS combine, a.aggfinalfn AS final
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_success'
WHERE a.aggtranstype::regtype::text IN ('nps_summary', 'csat_summary')
ORDER BY p.proname, a.aggtranstype::regtype::text;

-- the view is documented and belongs to the extension (installed in its schema)
SELECT obj_description('customer_success_functions'::regclass, 'pg_class') IS NOT NULL AS view_has_comment,
       (SELECT DISTINCT schema FROM customer_success_functions) AS schema,
       EXISTS (SELECT FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
               WHERE d.classid = 'pg_class'::regclass AND d.objid = 'customer_success_functions'::regclass
                 AND e.extname = 'customer_success' AND d.deptype = 'e') AS member_of_extension;
