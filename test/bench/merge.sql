-- SPEC §11: keeping daily summaries current at the cost of the new rows.
--
-- History: :rows survey answers (10,000,000 by default) of 2,000 accounts
-- over 730 days, kept as daily per-account nps_summary values in a table
-- (day, account) and, for comparison, in a materialized view of the same
-- query.  A batch is 20,000 new answers of the last day (so every key it
-- touches exists already and is merged, not inserted).
--
--  - "upsert": the batch's daily summaries merged into the table,
--    INSERT ... ON CONFLICT (day, account) DO UPDATE SET s = daily.s + EXCLUDED.s;
--    floor: the batch's summaries alone (the GROUP BY); plain: REFRESH
--    MATERIALIZED VIEW CONCURRENTLY of the view over all rows.  Goal: upsert
--    at most 1% of the refresh, with the same answer (checked after every
--    round: the table and the view must hold the same text in every row).
--  - "trigger": INSERT (and COPY) of the 20,000 rows into a table whose
--    statement-level AFTER INSERT trigger (transition table) appends the
--    batch's per-key summaries to a delta table (no index, no conflict
--    check, no row update: docs/keeping-current.md's real-time recipe);
--    floor: the same INSERT into the same table without the trigger.  Goal:
--    the trigger adds at most 30%.  Also measured: the older upsert trigger
--    (INSERT ... ON CONFLICT DO UPDATE into the keyed table, fillfactor 50),
--    and the compaction that merges a batch's deltas into the keyed table
--    (DELETE ... RETURNING feeding the upsert), which a scheduled job runs
--    outside the inserting transaction.
--
-- Every round's times go to cs_bench.timing (so cs_bench.report() prints
-- the medians), wall time and, as "[CPU]", the backend's CPU time; the
-- figures and the verdicts are also printed as NOTICEs.  The upsert
-- trigger's cost is the index probe and the update of one row per key
-- (about 2,000 HOT updates here): with 10 rows per key it is a large share
-- of the insert, with 50 (the 100,000-row batch) a smaller one.  The append
-- trigger's is the capture of the transition table, its GROUP BY and 2,000
-- heap inserts.
SET work_mem = '256MB';

CREATE TABLE bench_answers (day int NOT NULL, account int NOT NULL, score int NOT NULL,
                            batch int NOT NULL DEFAULT 0);
INSERT INTO bench_answers (day, account, score)
SELECT 1 + (i * 730 / :rows)::int, 1 + (i * 7919 % 2000)::int, (random() * 10)::int
FROM generate_series(0::bigint, :rows - 1) i;
VACUUM ANALYZE bench_answers;

CREATE TABLE bench_daily (day int, account int, s nps_summary NOT NULL, PRIMARY KEY (day, account));
INSERT INTO bench_daily SELECT day, account, nps_agg(score) FROM bench_answers GROUP BY 1, 2 ORDER BY 1, 2;
CREATE MATERIALIZED VIEW bench_daily_mv AS
SELECT day, account, nps_agg(score) AS s FROM bench_answers GROUP BY 1, 2;
CREATE UNIQUE INDEX ON bench_daily_mv (day, account);
VACUUM ANALYZE bench_daily;
VACUUM ANALYZE bench_daily_mv;

-- the batch: 20,000 answers of the last day, all 2,000 accounts; and a
-- larger one, 100,000 answers, for how the trigger's cost goes with the
-- rows per key (10, then 50)
CREATE TABLE bench_batch AS
SELECT 730 AS day, 1 + (i * 7919) % 2000 AS account, (random() * 10)::int AS score
FROM generate_series(0, 19999) i;
CREATE TABLE bench_batch_100k AS
SELECT 730 AS day, 1 + (i * 7919) % 2000 AS account, (random() * 10)::int AS score
FROM generate_series(0, 99999) i;

-- the real-time recipes: answers arrive in bench_live, whose statement-level
-- trigger appends each INSERT's (or COPY's) per-key summaries to
-- bench_live_delta; bench_live_compact() merges the deltas into
-- bench_live_daily (the same daily summaries as bench_daily) and deletes
-- them, in one statement.  bench_live_up is kept by the upsert trigger
-- instead (into bench_up_daily, fillfactor 50: room on the pages of the
-- current day's rows, which every batch updates, so that the updates are HOT).
-- bench_live_plain is the same table without a trigger.
CREATE TABLE bench_live (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                         day int NOT NULL, account int NOT NULL, score int NOT NULL);
CREATE TABLE bench_live_plain (LIKE bench_live INCLUDING ALL);
CREATE TABLE bench_live_up (LIKE bench_live INCLUDING ALL);
CREATE TABLE bench_live_daily (day int, account int, s nps_summary NOT NULL, PRIMARY KEY (day, account))
	WITH (fillfactor = 50);
INSERT INTO bench_live_daily SELECT day, account, s FROM bench_daily ORDER BY 1, 2;
CREATE TABLE bench_up_daily (LIKE bench_live_daily INCLUDING ALL) WITH (fillfactor = 50);
INSERT INTO bench_up_daily SELECT day, account, s FROM bench_daily ORDER BY 1, 2;
CREATE TABLE bench_live_delta (day int NOT NULL, account int NOT NULL, s nps_summary NOT NULL);
VACUUM ANALYZE bench_live_daily;
VACUUM ANALYZE bench_up_daily;
CREATE FUNCTION bench_live_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench_live_delta SELECT day, account, nps_agg(score) FROM new_rows GROUP BY day, account;
	RETURN NULL;
END $$;
CREATE TRIGGER bench_live_append AFTER INSERT ON bench_live
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bench_live_append();
CREATE FUNCTION bench_live_compact() RETURNS bigint LANGUAGE sql AS $$
	WITH moved AS (DELETE FROM bench_live_delta RETURNING day, account, s),
	merged AS (INSERT INTO bench_live_daily AS d
	           SELECT day, account, rollup(s) FROM moved GROUP BY day, account ORDER BY day, account
	           ON CONFLICT (day, account) DO UPDATE SET s = d.s + EXCLUDED.s RETURNING 1)
	SELECT count(*) FROM merged
$$;
CREATE FUNCTION bench_live_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench_up_daily AS d
	SELECT day, account, nps_agg(score) FROM new_rows GROUP BY day, account ORDER BY day, account
	ON CONFLICT (day, account) DO UPDATE SET s = d.s + EXCLUDED.s;
	RETURN NULL;
END $$;
CREATE TRIGGER bench_live_merge AFTER INSERT ON bench_live_up
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bench_live_merge();

-- cs_bench.cpu_ms(), the backend's own CPU time: harness.sql

-- Runs query reps times and, from round 1 on, records its wall time per
-- run under name and its CPU time per run under name || ' [CPU]'.  Each run
-- is a transaction of its own, as an application's inserts are (the commit
-- itself is not timed): what a statement leaves behind (old row versions,
-- deleted deltas) is then dead to later ones, as in production.  The CPU
-- time moves by scheduler ticks (4 ms here): a 20 ms statement is timed
-- over several runs to read it to a few percent.
CREATE PROCEDURE cs_bench.merge_timed(name text, variant text, r int, query text, reps int DEFAULT 1)
LANGUAGE plpgsql AS $$
DECLARE
	c0 float8;
	t0 timestamptz;
	cpu float8 := 0;
	wall float8 := 0;
BEGIN
	FOR i IN 1 .. reps LOOP
		c0 := cs_bench.cpu_ms();
		t0 := clock_timestamp();
		EXECUTE query;
		wall := wall + 1000 * extract(epoch FROM clock_timestamp() - t0);
		cpu := cpu + cs_bench.cpu_ms() - c0;
		COMMIT;
	END LOOP;
	IF r > 0 THEN
		INSERT INTO cs_bench.timing VALUES (name, variant, r, wall / reps);
		IF cpu IS NOT NULL THEN
			INSERT INTO cs_bench.timing VALUES (name || ' [CPU]', variant, r, cpu / reps);
		END IF;
	END IF;
	COMMIT;
END $$;

-- The same with and without the trigger, the order swapped every round
CREATE PROCEDURE cs_bench.merge_pair(name text, r int, floor text, ours text, reps int)
LANGUAGE plpgsql AS $$
BEGIN
	IF r % 2 = 0 THEN
		CALL cs_bench.merge_timed(name, 'floor', r, floor, reps);
		CALL cs_bench.merge_timed(name, 'ours', r, ours, reps);
	ELSE
		CALL cs_bench.merge_timed(name, 'ours', r, ours, reps);
		CALL cs_bench.merge_timed(name, 'floor', r, floor, reps);
	END IF;
END $$;

-- Upsert against REFRESH: each round brings one batch into the history
-- and then into both, and checks that they hold the same summaries.
CREATE PROCEDURE cs_bench.merge_refresh_rounds(rounds int)
LANGUAGE plpgsql AS $$
DECLARE
	name text := 'merge: upsert of a 20,000-row day vs REFRESH CONCURRENTLY (floor: its GROUP BY)';
	bad bigint;
BEGIN
	FOR r IN 0 .. rounds LOOP			-- round 0 warms up, not recorded
		INSERT INTO bench_answers SELECT day, account, score, r + 1 FROM bench_batch;
		CALL cs_bench.merge_timed(name, 'floor', r,
			'SELECT count(*) FROM (SELECT day, account, nps_agg(score) FROM bench_batch GROUP BY 1, 2) x');
		CALL cs_bench.merge_timed(name, 'ours', r,
			$q$INSERT INTO bench_daily AS d
			   SELECT day, account, nps_agg(score) FROM bench_batch GROUP BY 1, 2 ORDER BY 1, 2
			   ON CONFLICT (day, account) DO UPDATE SET s = d.s + EXCLUDED.s$q$);
		CONTINUE WHEN r = 0;			-- the refresh of round 1 brings in two batches
		CALL cs_bench.merge_timed(name, 'plain', r, 'REFRESH MATERIALIZED VIEW CONCURRENTLY bench_daily_mv');

		-- the same answer: every (day, account) in both, with the same summary
		SELECT count(*) INTO bad
		FROM bench_daily d FULL JOIN bench_daily_mv m USING (day, account)
		WHERE d.s IS NULL OR m.s IS NULL OR d.s::text <> m.s::text;
		IF bad <> 0 THEN
			RAISE EXCEPTION 'merge bench: the upserted table differs from REFRESH MATERIALIZED VIEW in % rows', bad;
		END IF;
	END LOOP;
END $$;

-- The triggers: the same 20,000 rows into the table with and without them,
-- as INSERT ... SELECT and as COPY (what a loader sends); every other round,
-- 100,000 rows as INSERT ... SELECT; and the compaction of the deltas of
-- five 20,000-row INSERTs (10,000 deltas of 2,000 keys) into the keyed table.
CREATE PROCEDURE cs_bench.merge_trigger_rounds(rounds int)
LANGUAGE plpgsql AS $$
DECLARE
	f text := current_setting('data_directory') || '/cs_bench_merge_batch.copy';
	ins text := 'merge: 20,000-row INSERT ... SELECT with the appending trigger (floor: without)';
	cp text := 'merge: 20,000-row COPY with the appending trigger (floor: without)';
	big text := 'merge: 100,000-row INSERT ... SELECT with the appending trigger (floor: without)';
	ins_up text := 'merge: 20,000-row INSERT ... SELECT with the upsert trigger (floor: without)';
	cp_up text := 'merge: 20,000-row COPY with the upsert trigger (floor: without)';
	big_up text := 'merge: 100,000-row INSERT ... SELECT with the upsert trigger (floor: without)';
	compact text := 'merge: compaction of five 20,000-row INSERTs'' deltas (10,000 deltas into 2,000 keys), scheduled';
	bad bigint;
BEGIN
	EXECUTE format('COPY bench_batch (day, account, score) TO %L', f);
	FOR r IN 0 .. rounds LOOP
		-- five batches per timing, each a statement of its own
		CALL cs_bench.merge_pair(ins, r,
			'INSERT INTO bench_live_plain (day, account, score) SELECT day, account, score FROM bench_batch',
			'INSERT INTO bench_live (day, account, score) SELECT day, account, score FROM bench_batch', 5);
		-- the deltas of these five INSERTs: what the scheduled job merges
		CALL cs_bench.merge_timed(compact, 'ours', r, 'SELECT bench_live_compact()');
		CALL cs_bench.merge_pair(ins_up, r,
			'INSERT INTO bench_live_plain (day, account, score) SELECT day, account, score FROM bench_batch',
			'INSERT INTO bench_live_up (day, account, score) SELECT day, account, score FROM bench_batch', 5);
		CALL cs_bench.merge_pair(cp, r,
			format('COPY bench_live_plain (day, account, score) FROM %L', f),
			format('COPY bench_live (day, account, score) FROM %L', f), 5);
		CALL cs_bench.merge_pair(cp_up, r,
			format('COPY bench_live_plain (day, account, score) FROM %L', f),
			format('COPY bench_live_up (day, account, score) FROM %L', f), 5);
		IF r % 2 = 0 THEN
			CALL cs_bench.merge_pair(big, r,
				'INSERT INTO bench_live_plain (day, account, score) SELECT day, account, score FROM bench_batch_100k',
				'INSERT INTO bench_live (day, account, score) SELECT day, account, score FROM bench_batch_100k', 1);
			CALL cs_bench.merge_pair(big_up, r,
				'INSERT INTO bench_live_plain (day, account, score) SELECT day, account, score FROM bench_batch_100k',
				'INSERT INTO bench_live_up (day, account, score) SELECT day, account, score FROM bench_batch_100k', 1);
		END IF;
		-- the rest of the round's deltas, except the last round's: left for
		-- the check below
		IF r < rounds THEN
			PERFORM bench_live_compact();
		END IF;
	END LOOP;

	-- the same answer: the keyed table rolled up with the deltas not yet
	-- compacted (what the dashboards' view reads), then after a last
	-- compaction the keyed table alone, and the upsert-kept table, each
	-- equal to a recompute over the history before the batches and every
	-- row that went into its live table
	FOR i IN 1 .. 3 LOOP
		IF i = 2 THEN
			PERFORM bench_live_compact();
		END IF;
		EXECUTE format($q$
			SELECT count(*)
			FROM (SELECT day, account, rollup(s) AS s
			      FROM (SELECT day, account, s FROM %I UNION ALL SELECT day, account, s FROM bench_live_delta) u
			      GROUP BY 1, 2) l
			FULL JOIN (SELECT day, account, nps_agg(score) AS s
			           FROM (SELECT day, account, score FROM bench_answers WHERE batch = 0
			                 UNION ALL SELECT day, account, score FROM %I) x
			           GROUP BY 1, 2) m USING (day, account)
			WHERE l.s IS NULL OR m.s IS NULL OR l.s::text <> m.s::text$q$,
			CASE WHEN i = 3 THEN 'bench_up_daily' ELSE 'bench_live_daily' END,
			CASE WHEN i = 3 THEN 'bench_live_up' ELSE 'bench_live' END) INTO bad;
		IF bad <> 0 THEN
			RAISE EXCEPTION 'merge bench: the trigger-kept table (check %) differs from a recompute in % rows', i, bad;
		END IF;
		IF i = 2 AND EXISTS (SELECT FROM bench_live_delta) THEN
			RAISE EXCEPTION 'merge bench: deltas left after the compaction';
		END IF;
	END LOOP;
END $$;

-- REFRESH of the whole history is the slow part: 2 rounds at most; the
-- trigger's rounds are short and noisy: twice :rounds
CALL cs_bench.merge_refresh_rounds(least(:rounds, 2));
CALL cs_bench.merge_trigger_rounds(2 * :rounds);

-- the verdicts against SPEC §11's goals, on the medians and, because the
-- short inserts are at the mercy of whatever else runs on the machine, on
-- the fastest rounds too (the load average is printed with them)
DO $$
DECLARE
	m record;
	load text := coalesce(split_part(pg_read_file('/proc/loadavg', 0, 100, true), ' ', 1), 'unknown');
BEGIN
	FOR m IN
		SELECT name,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'ours') AS o,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'floor') AS f,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'plain') AS p,
		       min(ms) FILTER (WHERE variant = 'ours') AS o_min,
		       min(ms) FILTER (WHERE variant = 'floor') AS f_min,
		       min(ms) FILTER (WHERE variant = 'plain') AS p_min
		FROM cs_bench.timing WHERE name ~ '^merge: ' GROUP BY name ORDER BY name DESC
	LOOP
		IF m.p IS NOT NULL THEN
			RAISE NOTICE 'merge: upsert % ms (its GROUP BY alone % ms), REFRESH MATERIALIZED VIEW CONCURRENTLY % ms%: % %% of the refresh (goal <= 1 %%): %; same answer: yes (fastest rounds: % and % ms; load average %)',
				round(m.o::numeric, 1), round(m.f::numeric, 1), round(m.p::numeric, 1),
				CASE WHEN m.name ~ 'CPU' THEN ' of CPU time' ELSE '' END,
				round((100 * m.o / m.p)::numeric, 2), CASE WHEN m.o <= 0.01 * m.p THEN 'met' ELSE 'NOT MET' END,
				round(m.o_min::numeric, 1), round(m.p_min::numeric, 1), load;
		ELSIF m.f IS NULL THEN
			RAISE NOTICE '%: % ms (fastest round % ms; load average %)',
				substr(m.name, 8) || CASE WHEN m.name ~ 'CPU' THEN ' (CPU time)' ELSE '' END,
				round(m.o::numeric, 1), round(m.o_min::numeric, 1), load;
		ELSE
			RAISE NOTICE '%: % ms with, % ms without: +% %% (goal for 20,000 rows <= 30 %%): %; fastest rounds: % and % ms, +% %%: %; same answer as a recompute: yes (load average %)',
				substr(m.name, 8, strpos(m.name, ' (floor') - 8) || CASE WHEN m.name ~ 'CPU' THEN ' (CPU time)' ELSE '' END,
				round(m.o::numeric, 1), round(m.f::numeric, 1),
				round((100 * (m.o / m.f - 1))::numeric, 1), CASE WHEN m.o <= 1.3 * m.f THEN 'met' ELSE 'NOT MET' END,
				round(m.o_min::numeric, 1), round(m.f_min::numeric, 1),
				round((100 * (m.o_min / m.f_min - 1))::numeric, 1), CASE WHEN m.o_min <= 1.3 * m.f_min THEN 'met' ELSE 'NOT MET' END,
				load;
		END IF;
	END LOOP;
END $$;

DROP TRIGGER bench_live_append ON bench_live;
DROP TRIGGER bench_live_merge ON bench_live_up;
DROP FUNCTION bench_live_append(), bench_live_merge(), bench_live_compact();
DROP MATERIALIZED VIEW bench_daily_mv;
DROP TABLE bench_answers, bench_daily, bench_batch, bench_batch_100k, bench_live, bench_live_plain, bench_live_daily,
           bench_live_up, bench_up_daily, bench_live_delta;
