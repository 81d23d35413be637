
-- Catalogue

-- Read from the system catalogues at query time, so that it lists every
-- family's functions and aggregates, whichever are installed.  Support
-- functions are left out: type I/O (the functions of pg_type), the
-- transition, combine, serialize and deserialize functions of aggregates
-- (unless also a final function, as the accessors are), final functions
-- named <something>_final, and anything that takes or returns internal; none
-- of them is meant to be called by a user.
CREATE VIEW customer_success_functions AS
SELECT n.nspname::text AS schema,
       p.proname::text AS name,
       CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window'
                      WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS returns,
       obj_description(p.oid, 'pg_proc') AS description
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
WHERE e.extname = 'customer_success'
  AND NOT EXISTS (SELECT FROM pg_type t
                  WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend,
                                  t.typmodin, t.typmodout, t.typanalyze, t.typsubscript))
  AND NOT EXISTS (SELECT FROM pg_aggregate a
                  WHERE p.oid IN (a.aggtransfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn,
                                  a.aggmtransfn, a.aggminvtransfn)
                    AND NOT EXISTS (SELECT FROM pg_aggregate f
                                    WHERE p.oid IN (f.aggfinalfn, f.aggmfinalfn)))
  AND NOT (p.proname ~ '_(final|finalfn|ffunc)$'
           AND EXISTS (SELECT FROM pg_aggregate f WHERE p.oid IN (f.aggfinalfn, f.aggmfinalfn)))
  AND 'internal'::regtype <> ALL (p.proargtypes::oid[] || p.prorettype)
ORDER BY name, arguments;

COMMENT ON VIEW customer_success_functions IS
	'Every function and aggregate of customer_success that users call: name, kind (function or aggregate), arguments with their defaults, return type and description';
