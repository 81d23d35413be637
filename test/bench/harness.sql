-- Benchmark harness shared by every family's test/bench/<family>.sql.
--
-- cs_bench.compare(name, ours, floor, plain) runs the three queries in turn,
-- rounds times, rotating which goes first, and records each run's wall time;
-- cs_bench.report() prints the median of each and the ratios
-- ours / floor (a bare scan of the same columns) and ours / plain (the plain
-- SQL a peer would write).  All on one core: no parallel workers, no JIT.
SET max_parallel_workers_per_gather = 0;
SET jit = off;
CREATE SCHEMA cs_bench;
CREATE TABLE cs_bench.timing (name text, variant text, round int, ms float8);

CREATE FUNCTION cs_bench.compare(name text, ours text, floor text, plain text DEFAULT NULL,
                                 rounds int DEFAULT 7) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	variants text[] := ARRAY['ours', 'floor', 'plain'];
	queries text[] := ARRAY[ours, floor, plain];
	t0 timestamptz;
	k int;
BEGIN
	-- one warm-up run of each fills the cache
	FOR k IN 1 .. 3 LOOP
		IF queries[k] IS NOT NULL THEN EXECUTE queries[k]; END IF;
	END LOOP;
	FOR r IN 1 .. rounds LOOP
		FOR i IN 0 .. 2 LOOP
			k := 1 + (i + r) % 3;
			CONTINUE WHEN queries[k] IS NULL;
			t0 := clock_timestamp();
			EXECUTE queries[k];
			INSERT INTO cs_bench.timing
			VALUES (name, variants[k], r, 1000 * extract(epoch FROM clock_timestamp() - t0));
		END LOOP;
	END LOOP;
END $$;

CREATE FUNCTION cs_bench.report() RETURNS TABLE (benchmark text, ours_ms numeric, floor_ms numeric,
	plain_ms numeric, "ours/floor" numeric, "ours/plain" numeric)
LANGUAGE sql AS $$
	WITH m AS (
		SELECT name, variant, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
		FROM cs_bench.timing GROUP BY 1, 2
	), w AS (
		SELECT name,
		       max(ms) FILTER (WHERE variant = 'ours') AS o,
		       max(ms) FILTER (WHERE variant = 'floor') AS f,
		       max(ms) FILTER (WHERE variant = 'plain') AS p,
		       min(ctid::text) AS first_seen
		FROM m JOIN (SELECT DISTINCT ON (name) name, ctid FROM cs_bench.timing ORDER BY name, ctid) t USING (name)
		GROUP BY name
	)
	SELECT name, round(o::numeric, 1), round(f::numeric, 1), round(p::numeric, 1),
	       round((o / f)::numeric, 2), round((o / p)::numeric, 2)
	FROM w ORDER BY first_seen;
$$;

-- cs_bench.memory(name, query, baseline, sizes) runs EXPLAIN ANALYZE of query
-- and of baseline (the same GROUP BY with count(*)), both as a HashAggregate
-- that does not spill, and records their peak memory; sizes returns the sum
-- of the sizes of the summaries the query makes (pg_column_size, or the
-- serialized size of an internal state).  cs_bench.memory_report() prints them.
CREATE TABLE cs_bench.mem (name text, groups bigint, peak_kb bigint, base_kb bigint,
                           summary_bytes bigint, seen serial);

CREATE FUNCTION cs_bench.hash_peak_kb(query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	plan jsonb;
	kb bigint;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) ' || query INTO plan;
	kb := jsonb_path_query_first(plan, 'strict $.**?(@."Strategy" == "Hashed")."Peak Memory Usage"');
	IF kb IS NULL OR jsonb_path_query_first(plan, 'strict $.**."HashAgg Batches"')::int <> 1 THEN
		RAISE EXCEPTION 'no HashAggregate in one batch for %: %', query, plan;
	END IF;
	RETURN kb;
END $$;

CREATE FUNCTION cs_bench.memory(name text, query text, baseline text, sizes text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	groups bigint;
	bytes bigint;
BEGIN
	SET LOCAL work_mem = '4GB';
	SET LOCAL enable_sort = off;
	EXECUTE 'SELECT count(*) FROM (' || baseline || ') x' INTO groups;
	EXECUTE sizes INTO bytes;
	INSERT INTO cs_bench.mem (name, groups, peak_kb, base_kb, summary_bytes)
	VALUES (name, groups, cs_bench.hash_peak_kb(query), cs_bench.hash_peak_kb(baseline), bytes);
END $$;

CREATE FUNCTION cs_bench.memory_report() RETURNS TABLE (aggregate text, groups bigint,
	"peak MB" numeric, "count(*) MB" numeric, "groups x summary MB" numeric,
	"bytes/group over count(*)" numeric, "summary bytes/group" numeric)
LANGUAGE sql AS $$
	SELECT name, groups, round(peak_kb / 1024.0, 1), round(base_kb / 1024.0, 1),
	       round(summary_bytes / 1048576.0, 1),
	       round((peak_kb - base_kb) * 1024.0 / groups), round(summary_bytes::numeric / groups)
	FROM cs_bench.mem ORDER BY seen;
$$;

-- Figures a family's benchmark checks against its targets (e.g. cox.sql:
-- time ratios and state bytes per row); test/bench/run prints them.
CREATE TABLE cs_bench.figures (figure text, value numeric, target text, met boolean, seen serial);

-- The backend's own CPU time in ms (its time on a CPU, from /proc; NULL
-- where that cannot be read): on a shared machine, what a statement itself
-- costs, whatever else runs there, beside the wall time that the harness
-- reports (cox.sql and merge.sql use it).  The kernel brings it up to date
-- at scheduler ticks, so one short statement reads a few ms off; the
-- medians over the rounds do not.
CREATE FUNCTION cs_bench.cpu_ms() RETURNS float8 LANGUAGE sql AS $$
	SELECT nullif(split_part(pg_read_file('/proc/' || pg_backend_pid() || '/schedstat', 0, 200, true),
	                         ' ', 1), '')::float8 / 1e6
$$;
