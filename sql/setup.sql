-- Creates the extension and the helpers that every other test file uses.
CREATE EXTENSION customer_success;
CREATE SCHEMA cs_test;

-- SQLSTATE, message and detail of the error a statement raises, or 'no error'
CREATE FUNCTION cs_test.error_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '');
END $$;

-- Feeds payload to the binary receive function of type typ through
-- COPY ... FORMAT binary (a bytea written as binary COPY carries the raw
-- bytes, which COPY FROM then hands to typ's receive function), and returns
-- the value read back, as text.
CREATE FUNCTION cs_test.binary_input(typ regtype, payload bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	f text := current_setting('data_directory') || '/cs_test_binary.copy';
	r text;
BEGIN
	EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', payload, f);
	EXECUTE format('CREATE TEMP TABLE cs_test_binary_in (v %s)', typ);
	EXECUTE format('COPY cs_test_binary_in FROM %L (FORMAT binary)', f);
	SELECT v::text INTO r FROM cs_test_binary_in;
	DROP TABLE cs_test_binary_in;
	RETURN r;
END $$;

-- The plan shape of a query with costs and worker counts left out
CREATE FUNCTION cs_test.plan_of(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		IF line !~ 'Workers Planned' THEN
			RETURN NEXT line;
		END IF;
	END LOOP;
END $$;

-- Settings that force a parallel plan even for small tables
CREATE FUNCTION cs_test.force_parallel() RETURNS void
LANGUAGE sql AS $$
	SELECT set_config('parallel_setup_cost', '0', false),
	       set_config('parallel_tuple_cost', '0', false),
	       set_config('min_parallel_table_scan_size', '0', false),
	       set_config('max_parallel_workers_per_gather', '2', false),
	       set_config('parallel_leader_participation', 'off', false);
$$;

SELECT extname, extversion FROM pg_extension WHERE extname = 'customer_success';
