-- Stand-ins for the Citus functions the Citus example of docs/citus.md calls, for
-- test/t/integration-citus-readme.sh (Debian has no Citus package).  They
-- move no data: they record what the statements declare and refuse what
-- the Citus documentation says Citus refuses, so that the example's
-- statements run in the order and form a real cluster needs:
--  * "Primary keys and uniqueness constraints must include the distribution
--    column" (Citus docs, Creating and Modifying Distributed Tables);
--  * "Foreign keys must always be declared between either two local
--    (non-distributed) tables, two colocated distributed tables, or a
--    distributed table and a reference table", and between colocated tables
--    "always include the distribution column in the key" (same page);
--  * colocate_with names a distributed table whose distribution column has
--    the same type (create_distributed_table reference).
-- Signatures are the documented ones, reduced to the arguments the page
-- uses (citus_add_node, citus_set_coordinator_host, citus_get_active_worker_nodes,
-- create_reference_table, create_distributed_table).

CREATE SCHEMA citus_standin;
CREATE TABLE citus_standin.nodes (name text, port integer, role text);
CREATE TABLE citus_standin.tables (
	rel regclass PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('reference', 'distributed')),
	dist_col name,
	dist_type regtype,
	colocation int
);

CREATE FUNCTION citus_set_coordinator_host(host text, port integer DEFAULT 5432) RETURNS void
LANGUAGE sql AS $$ INSERT INTO citus_standin.nodes VALUES (host, port, 'coordinator') $$;

CREATE FUNCTION citus_add_node(nodename text, nodeport integer) RETURNS integer
LANGUAGE sql AS $$
	INSERT INTO citus_standin.nodes VALUES (nodename, nodeport, 'worker');
	SELECT count(*)::int FROM citus_standin.nodes;
$$;

CREATE FUNCTION citus_get_active_worker_nodes(OUT node_name text, OUT node_port bigint) RETURNS SETOF record
LANGUAGE sql AS $$ SELECT name, port FROM citus_standin.nodes WHERE role = 'worker' $$;

-- What a table is to Citus: 'reference', 'distributed' or 'local'
CREATE FUNCTION citus_standin.kind_of(t regclass) RETURNS text
LANGUAGE sql AS $$ SELECT coalesce((SELECT kind FROM citus_standin.tables WHERE rel = t), 'local') $$;

-- The foreign keys that break the documented rules, as messages
CREATE FUNCTION citus_standin.bad_foreign_keys() RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT format('%s: foreign key %s from a %s table to a %s table %s', c.conrelid::regclass, c.conname,
	              citus_standin.kind_of(c.conrelid), citus_standin.kind_of(c.confrelid), c.confrelid::regclass)
	FROM pg_constraint c
	LEFT JOIN citus_standin.tables s ON s.rel = c.conrelid
	LEFT JOIN citus_standin.tables r ON r.rel = c.confrelid
	WHERE c.contype = 'f' AND c.conrelid <> c.confrelid
	  AND c.connamespace = 'public'::regnamespace
	  AND NOT coalesce(
		-- two local tables, or a local table pointing to a reference table
		-- (Citus then keeps it on the coordinator as a "citus local" table)
		(s.rel IS NULL AND (r.rel IS NULL OR r.kind = 'reference'))
		-- to a reference table from a distributed or reference table
		OR (s.rel IS NOT NULL AND r.rel IS NOT NULL AND r.kind = 'reference')
		-- two colocated distributed tables, on the distribution column
		OR (s.rel IS NOT NULL AND r.rel IS NOT NULL
		    AND s.kind = 'distributed' AND r.kind = 'distributed' AND s.colocation = r.colocation
		    AND EXISTS (SELECT FROM unnest(c.conkey, c.confkey) k(a, b)
		                JOIN pg_attribute sa ON sa.attrelid = c.conrelid AND sa.attnum = k.a
		                JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.b
		                WHERE sa.attname = s.dist_col AND ra.attname = r.dist_col)),
		false)
$$;

CREATE FUNCTION create_reference_table(table_name regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF citus_standin.kind_of(table_name) <> 'local' THEN
		RAISE EXCEPTION 'table % is already distributed', table_name;
	END IF;
	INSERT INTO citus_standin.tables VALUES (table_name, 'reference', NULL, NULL, 0);
	PERFORM citus_standin.check_foreign_keys(table_name);
END $$;

CREATE FUNCTION create_distributed_table(table_name regclass, distribution_column text,
                                         colocate_with text DEFAULT 'default') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	typ regtype;
	grp int;
	bad text;
BEGIN
	IF citus_standin.kind_of(table_name) <> 'local' THEN
		RAISE EXCEPTION 'table % is already distributed', table_name;
	END IF;
	SELECT atttypid INTO typ FROM pg_attribute
	WHERE attrelid = table_name AND attname = distribution_column AND attnum > 0 AND NOT attisdropped;
	IF typ IS NULL THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', distribution_column, table_name;
	END IF;
	IF colocate_with = 'default' THEN
		-- implicit colocation with the tables distributed by a column of the same type
		grp := coalesce((SELECT min(colocation) FROM citus_standin.tables
		                 WHERE kind = 'distributed' AND dist_type = typ),
		                (SELECT coalesce(max(colocation), 0) + 1 FROM citus_standin.tables));
	ELSIF colocate_with = 'none' THEN
		grp := (SELECT coalesce(max(colocation), 0) + 1 FROM citus_standin.tables);
	ELSE
		SELECT colocation INTO grp FROM citus_standin.tables
		WHERE rel = colocate_with::regclass AND kind = 'distributed' AND dist_type = typ;
		IF grp IS NULL THEN
			RAISE EXCEPTION 'cannot colocate tables % and %: % is not a distributed table with a % distribution column',
				table_name, colocate_with, colocate_with, typ;
		END IF;
	END IF;
	SELECT string_agg(conname, ', ') INTO bad FROM pg_constraint c
	WHERE c.conrelid = table_name AND c.contype IN ('p', 'u')
	  AND NOT EXISTS (SELECT FROM unnest(c.conkey) k(a)
	                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.a
	                  WHERE a.attname = distribution_column);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot create constraint on "%"', table_name
			USING DETAIL = format('Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the partition column (%s).', bad);
	END IF;
	INSERT INTO citus_standin.tables VALUES (table_name, 'distributed', distribution_column, typ, grp);
	PERFORM citus_standin.check_foreign_keys(table_name);
END $$;

-- After a table changed kind, its foreign keys (both ways) must follow the rules
CREATE FUNCTION citus_standin.check_foreign_keys(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	bad text;
BEGIN
	SELECT string_agg(m, '; ') INTO bad FROM citus_standin.bad_foreign_keys() m
	WHERE m LIKE t::text || ':%' OR m LIKE '% ' || t::text;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot distribute %: foreign keys Citus does not support', t USING DETAIL = bad;
	END IF;
END $$;
