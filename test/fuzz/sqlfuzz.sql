-- SQL-level fuzzing of customer_success inside a real server.
--
-- Everything is found in the catalog, so a family added later is covered
-- without editing this file:
--   * the summary/model types: base types owned by the extension that have a
--     binary receive function (cs_fuzz.types);
--   * valid values of each type: made by every aggregate of the extension
--     that returns the type (cs_fuzz.make_seeds), plus any hand-written
--     value listed in test/fuzz/corpus/<type>/*.txt (loaded into
--     cs_fuzz.seeds by the driver);
--   * the functions and aggregates to call with edge values: every function
--     of the extension whose argument types are not pseudo-types.
-- Every rejection's SQLSTATE is checked against cs_fuzz.allowed_state();
-- anything else (XX000 above all) is recorded in cs_fuzz.findings.
-- Crashes are detected by the driver (test/fuzz/sqlfuzz), which checks that
-- the connection and pg_postmaster_start_time() survive.
CREATE SCHEMA cs_fuzz;

CREATE TABLE cs_fuzz.seeds (typ regtype, value text, source text);
CREATE TABLE cs_fuzz.findings (kind text, target text, input text, state text, message text);
CREATE TABLE cs_fuzz.stats (kind text, target text, state text, n bigint);
CREATE TABLE cs_fuzz.collected (target text, query text);

-- Print every input before trying it (to find the input that crashed)
SELECT set_config('cs_fuzz.trace_inputs', coalesce(current_setting('cs_fuzz.trace_inputs', true), 'off'), false);

CREATE FUNCTION cs_fuzz.ext_oid() RETURNS oid LANGUAGE sql STABLE AS
$$ SELECT oid FROM pg_extension WHERE extname = 'customer_success' $$;

CREATE FUNCTION cs_fuzz.ext_schema() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'customer_success' $$;

-- The summary and model types: base types of the extension with a receive
-- function (not their array types, which are members too since PostgreSQL 17)
CREATE VIEW cs_fuzz.types AS
SELECT t.oid::regtype AS typ
FROM pg_type t
JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
WHERE d.refobjid = cs_fuzz.ext_oid() AND t.typtype = 'b' AND t.typreceive <> 0
  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
ORDER BY t.typname;

-- Functions and aggregates of the extension that SQL can call directly
-- (no cstring/internal/polymorphic argument)
CREATE VIEW cs_fuzz.functions AS
SELECT p.oid, p.oid::regprocedure AS sig, p.proname, p.prokind, p.provariadic <> 0 AS variadic,
       ARRAY(SELECT unnest(p.proargtypes::oid[])) AS argtypes, p.proretset  -- 1-based
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = cs_fuzz.ext_oid()
  AND p.prokind IN ('f', 'a')
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) a(t)
                  JOIN pg_type ty ON ty.oid = a.t WHERE ty.typtype = 'p')
ORDER BY p.oid::regprocedure::text;

-- SQLSTATEs a rejection may carry: data exceptions (class 22), protocol
-- violation for truncated binary input, feature not supported (support
-- functions called outside an aggregate), program limits.  Never XX000.
CREATE FUNCTION cs_fuzz.allowed_state(state text) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT state LIKE '22%' OR state IN ('08P01', '0A000', '54000', '54001', '53200') $$;

CREATE FUNCTION cs_fuzz.note(kind text, target text, input text, state text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF state IS NOT NULL AND NOT cs_fuzz.allowed_state(state) THEN
		INSERT INTO cs_fuzz.findings VALUES (kind, target, left(input, 2000), state, message);
	END IF;
	-- insert only: updating a counter row would leave a dead row per input
	-- inside the one long transaction, and make each update slower
	INSERT INTO cs_fuzz.stats VALUES (kind, target, state, 1);
END $$;

CREATE FUNCTION cs_fuzz.trace(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('cs_fuzz.trace_inputs') = 'on' THEN
		RAISE NOTICE 'cs_fuzz: %', left(what, 3000);
	END IF;
END $$;

CREATE FUNCTION cs_fuzz.rand_int(lo int, hi int) RETURNS int LANGUAGE sql VOLATILE AS
$$ SELECT lo + floor(random() * (hi - lo + 1))::int $$;

CREATE FUNCTION cs_fuzz.pick(a text[]) RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT a[cs_fuzz.rand_int(1, cardinality(a))] $$;

-- ---------- valid values made by the aggregates ----------

-- An expression generating argument j (0-based) of type t for row i under palette p
CREATE FUNCTION cs_fuzz.gen_expr(t oid, j int, p int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	-- the same per-row k for every argument, scaled by j+1: keeps
	-- orderings such as recency <= t that fitting aggregates need
	k text := '((i * 7919) % 11)';
	len int := 1 + p % 3;
BEGIN
	CASE t
	WHEN 'int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype THEN
		RETURN format('(%s)::%s', CASE p % 4
			WHEN 0 THEN 'floor(random() * 11)'
			WHEN 1 THEN '1 + floor(random() * 5)'
			WHEN 2 THEN format('%s * %s', k, j + 1)
			ELSE 'floor(random() * 3)' END, t::regtype);
	WHEN 'float8'::regtype, 'float4'::regtype THEN
		RETURN format('(%s)::%s', CASE p % 4
			WHEN 0 THEN 'random()'
			WHEN 1 THEN 'round((random() * 1000)::numeric, 2)'
			WHEN 2 THEN format('%s * %s', k, j + 1)
			ELSE 'CASE WHEN random() < 0.3 THEN 0 ELSE round((random() * 100)::numeric, 1) END' END,
			t::regtype);
	WHEN 'bool'::regtype THEN
		RETURN 'random() < 0.4';
	WHEN 'float8[]'::regtype, 'float4[]'::regtype, 'numeric[]'::regtype THEN
		RETURN format('(SELECT array_agg(random() + i * 0 + g * 0) FROM generate_series(1, %s) g)::%s', len, t::regtype);
	WHEN 'int4[]'::regtype, 'int8[]'::regtype THEN
		RETURN format('(SELECT array_agg(floor(random() * 5) + i * 0) FROM generate_series(1, %s))::%s', len, t::regtype);
	WHEN 'date'::regtype THEN
		RETURN format('date ''2026-01-01'' + (%s * %s)::int', k, j + 1);
	WHEN 'timestamptz'::regtype, 'timestamp'::regtype THEN
		RETURN format('(timestamp ''2026-01-01'' + (%s * %s) * interval ''1 day'')::%s', k, j + 1, t::regtype);
	WHEN 'text'::regtype THEN
		RETURN format('''s'' || %s', k);
	ELSE
		RETURN NULL;
	END CASE;
END $$;

-- Run every value-making aggregate (returns a fuzzed type, takes none) under
-- several palettes of random rows; keep what it accepts.
CREATE FUNCTION cs_fuzz.make_seeds(rows int DEFAULT 60) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	a record;
	q text;
	exprs text[];
	args text[];
	e text;
	v text;
	t regtype;
	st text;
	msg text;
BEGIN
	FOR a IN
		SELECT f.* FROM cs_fuzz.functions f JOIN pg_proc p ON p.oid = f.oid
		WHERE f.prokind = 'a' AND p.prorettype IN (SELECT typ FROM cs_fuzz.types)
		  AND NOT EXISTS (SELECT 1 FROM unnest(f.argtypes) u(at) WHERE u.at IN (SELECT typ FROM cs_fuzz.types))
	LOOP
		FOR p IN 0..11 LOOP
			exprs := '{}';
			args := '{}';
			FOR j IN 1..cardinality(a.argtypes) LOOP
				e := cs_fuzz.gen_expr(a.argtypes[j], j - 1, p);
				EXIT WHEN e IS NULL;
				exprs := exprs || format('%s AS a%s', e, j);
				args := args || (CASE WHEN a.variadic AND j = cardinality(a.argtypes) THEN 'VARIADIC ' ELSE '' END || 'a' || j);
			END LOOP;
			CONTINUE WHEN cardinality(exprs) < cardinality(a.argtypes);
			q := format('SELECT %s.%I(%s)::text FROM (SELECT %s FROM generate_series(1, %s) i) s',
						cs_fuzz.ext_schema(), a.proname, array_to_string(args, ', '),
						array_to_string(exprs, ', '), rows);
			BEGIN
				PERFORM cs_fuzz.trace(q);
				EXECUTE q INTO v;
				IF v IS NOT NULL THEN
					INSERT INTO cs_fuzz.seeds
					SELECT p2.prorettype::regtype, v, a.sig::text FROM pg_proc p2 WHERE p2.oid = a.oid;
				END IF;
				PERFORM cs_fuzz.note('make_seed', a.sig::text, q, NULL, NULL);
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				PERFORM cs_fuzz.note('make_seed', a.sig::text, q, st, msg);
			END;
		END LOOP;
	END LOOP;
	-- merged values: rollup of everything made for a type
	FOR t IN SELECT DISTINCT s.typ FROM cs_fuzz.seeds s LOOP
		FOR e IN
			SELECT f.proname FROM cs_fuzz.functions f JOIN pg_proc p ON p.oid = f.oid
			WHERE f.prokind = 'a' AND f.argtypes = ARRAY[t::oid] AND p.prorettype = t
		LOOP
			BEGIN
				EXECUTE format('SELECT %s.%I(value::%s)::text FROM cs_fuzz.seeds WHERE typ = %L::regtype',
							   cs_fuzz.ext_schema(), e, t, t) INTO v;
				INSERT INTO cs_fuzz.seeds VALUES (t, v, e || '(*)');
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				PERFORM cs_fuzz.note('rollup_seed', e, t::text, st, msg);
			END;
		END LOOP;
	END LOOP;
	DELETE FROM cs_fuzz.seeds s WHERE s.value IS NULL;
	RETURN (SELECT count(*) FROM cs_fuzz.seeds);
END $$;

-- ---------- mutations ----------

CREATE FUNCTION cs_fuzz.tokens() RETURNS text[] LANGUAGE sql STABLE AS $$
SELECT ARRAY['0', '1', '-1', '-0', '+0', '9223372036854775807', '-9223372036854775808',
             '9223372036854775808', '99999999999999999999', '2147483648', 'NaN', 'nan', 'Infinity',
             '-Infinity', 'inf', '1e308', '1.7976931348623157e308', '1e309', '-1e308', '4.9e-324',
             '2.2250738585072014e-308', '1e-400', '0x10', '1.5', '.5', '5.', '1e', '{', '}', '{}',
             '{{', '}}', ',', ',,', '=', '==', ' ', E'\t', E'\n', '', 'v=1', 'v=2', 'v=0', 'v=255',
             'v=-1', '{1,2}', '{NaN,1}', repeat('9', 400), repeat('{', 100), repeat('1,', 300),
             chr(1), 'é', '\x', '"', '''']
	|| coalesce((SELECT array_agg(DISTINCT m[1])
	             FROM cs_fuzz.seeds, regexp_matches(value, '([a-z_]+=)', 'g') m), '{}')
$$;

CREATE FUNCTION cs_fuzz.mutate_text(s text, toks text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	n int;
	pos int;
	len int;
	other text;
BEGIN
	FOR step IN 1..cs_fuzz.rand_int(1, 3) LOOP
		n := length(s);
		pos := cs_fuzz.rand_int(0, n);
		len := cs_fuzz.rand_int(1, 8);
		CASE cs_fuzz.rand_int(0, 8)
		WHEN 0 THEN	-- replace a character
			s := overlay(s placing cs_fuzz.pick(ARRAY['0', '1', '9', '-', '+', '.', 'e', '{', '}', ',', '=', ' ', 'x', 'n', chr(1)]) from pos + 1 for 1);
		WHEN 1 THEN	-- delete a span
			s := overlay(s placing '' from pos + 1 for len);
		WHEN 2 THEN	-- insert a token
			s := overlay(s placing cs_fuzz.pick(toks) from pos + 1 for 0);
		WHEN 3 THEN	-- replace one number by a token
			s := regexp_replace(s, '-?[0-9][0-9.e+-]*', cs_fuzz.pick(toks),
								greatest(1, cs_fuzz.rand_int(1, 1 + length(regexp_replace(s, '[^0-9]', '', 'g')) / 2)));
		WHEN 4 THEN	-- truncate
			s := left(s, pos);
		WHEN 5 THEN	-- duplicate a span
			s := overlay(s placing substr(s, pos + 1, len * 4) from pos + 1 for 0);
		WHEN 6 THEN	-- splice with another value (of any type)
			SELECT value INTO other FROM cs_fuzz.seeds ORDER BY random() LIMIT 1;
			s := left(s, pos) || substr(other, cs_fuzz.rand_int(1, length(other)));
		WHEN 7 THEN	-- replace a key=value pair's value
			s := regexp_replace(s, '=[^ ]*', '=' || cs_fuzz.pick(toks));
		ELSE	-- replace one array element
			s := regexp_replace(s, '([{,])[^,{}]*', '\1' || cs_fuzz.pick(toks));
		END CASE;
	END LOOP;
	RETURN s;
END $$;

CREATE FUNCTION cs_fuzz.random_text(toks text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	s text := '';
BEGIN
	IF random() < 0.5 THEN
		FOR i IN 1..cs_fuzz.rand_int(0, 12) LOOP
			s := s || cs_fuzz.pick(toks) || CASE WHEN random() < 0.5 THEN ' ' ELSE '' END;
		END LOOP;
	ELSE
		SELECT string_agg(chr(cs_fuzz.rand_int(1, 126)), '') INTO s FROM generate_series(1, cs_fuzz.rand_int(0, 40));
	END IF;
	RETURN coalesce(s, '');
END $$;

-- 8-byte patterns: int64 extremes, NaN, infinities, -0, denormals, DBL_MAX
CREATE FUNCTION cs_fuzz.patterns8() RETURNS bytea[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['\x7fffffffffffffff', '\x8000000000000000', '\xffffffffffffffff', '\x0000000000000000',
             '\x0000000000000001', '\x7ff8000000000000', '\xfff8000000000000', '\x7ff0000000000000',
             '\xfff0000000000000', '\x000fffffffffffff', '\x7fefffffffffffff', '\xffefffffffffffff',
             '\x3ff0000000000000', '\x00000000ffffffff', '\x0000000080000000', '\x7fffffff00000000']::bytea[]
$$;

CREATE FUNCTION cs_fuzz.mutate_bytes(b bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	n int;
	pos int;
	other bytea;
BEGIN
	FOR step IN 1..cs_fuzz.rand_int(1, 3) LOOP
		n := length(b);
		pos := cs_fuzz.rand_int(0, greatest(n - 1, 0));
		CASE cs_fuzz.rand_int(0, 7)
		WHEN 0 THEN	-- flip a bit
			IF n > 0 THEN
				b := set_byte(b, pos, get_byte(b, pos) # (1 << cs_fuzz.rand_int(0, 7)));
			END IF;
		WHEN 1 THEN	-- set a byte to an interesting value
			IF n > 0 THEN
				b := set_byte(b, pos, cs_fuzz.pick(ARRAY['0', '1', '2', '127', '128', '255'])::int);
			END IF;
		WHEN 2 THEN	-- 8-byte field (after the version byte) to an extreme
			pos := 1 + 8 * cs_fuzz.rand_int(0, greatest((n - 1) / 8 - 1, 0));
			b := overlay(b placing (cs_fuzz.patterns8())[cs_fuzz.rand_int(1, 16)] from pos + 1 for 8);
		WHEN 3 THEN	-- 4-byte field anywhere (array lengths) to an extreme
			b := overlay(b placing substr((cs_fuzz.patterns8())[cs_fuzz.rand_int(1, 16)], 5, 4) from pos + 1 for 4);
		WHEN 4 THEN	-- truncate
			b := substr(b, 1, pos);
		WHEN 5 THEN	-- append bytes
			b := b || substr((cs_fuzz.patterns8())[cs_fuzz.rand_int(1, 16)], 1, cs_fuzz.rand_int(1, 8));
		WHEN 6 THEN	-- splice with another value's binary form
			SELECT v INTO other FROM cs_fuzz.binseeds ORDER BY random() LIMIT 1;
			b := substr(b, 1, pos) || substr(other, cs_fuzz.rand_int(1, greatest(length(other), 1)));
		ELSE	-- random bytes
			SELECT coalesce(string_agg(set_byte('\x00'::bytea, 0, cs_fuzz.rand_int(0, 255)), ''::bytea), '\x')
			INTO b FROM generate_series(1, cs_fuzz.rand_int(0, 100));
		END CASE;
	END LOOP;
	RETURN b;
END $$;

-- Feeds bytes to typ's receive function through COPY ... FORMAT binary
-- (same trick as cs_test.binary_input in sql/setup.sql).  One temporary
-- table per type serves the whole run (cs_fuzz.bin_table, created by
-- fuzz_types before its loop): creating and dropping one per call kept a
-- lock per table until the end of the one long transaction, and at 5,000
-- inputs per type ran out of lock table ("out of shared memory").
CREATE FUNCTION cs_fuzz.bin_table(typ regtype) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	tab text := 'cs_fuzz_bin_' || typ::oid;
BEGIN
	EXECUTE format('CREATE TEMP TABLE IF NOT EXISTS %I (v %s)', tab, typ);
	RETURN tab;
END $$;

CREATE FUNCTION cs_fuzz.binary_input(typ regtype, payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	f text := current_setting('data_directory') || '/cs_fuzz_binary.copy';
	tab text := cs_fuzz.bin_table(typ);
	r text;
BEGIN
	EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', payload, f);
	EXECUTE format('DELETE FROM %I', tab);
	EXECUTE format('COPY %I FROM %L (FORMAT binary)', tab, f);
	EXECUTE format('SELECT v::text FROM %I', tab) INTO r;
	RETURN r;
END $$;

-- An accepted value must round-trip and must not break any function that
-- reads it: call every function and aggregate that takes the type on it.
CREATE FUNCTION cs_fuzz.exercise(kind text, typ regtype, v text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	f record;
	args text[];
	r text;
	q text;
	st text;
	msg text;
BEGIN
	EXECUTE format('SELECT %L::%s::text', v, typ) INTO r;
	IF r IS DISTINCT FROM v THEN
		PERFORM cs_fuzz.note(kind, typ::text || ' round trip', v, 'ROUND', 'text form does not round-trip: ' || r);
	END IF;
	-- every function and aggregate taking the type: the value in each such
	-- argument, the baseline edge value in the others
	FOR f IN SELECT * FROM cs_fuzz.functions fn WHERE exercise.typ = ANY (fn.argtypes) LOOP
		args := '{}';
		FOR j IN 1..cardinality(f.argtypes) LOOP
			args := args || CASE WHEN f.argtypes[j] = typ THEN format('%L::%s', v, typ)
								 ELSE (cs_fuzz.edge_values(f.argtypes[j]))[1] END;
		END LOOP;
		PERFORM cs_fuzz.call_one(f, args, args, kind || '_call');
	END LOOP;
	-- binary round trip of the accepted value
	BEGIN
		EXECUTE format('SELECT cs_fuzz.binary_input(%L, %s.%I(%L::%s))', typ, cs_fuzz.ext_schema(),
					   (SELECT p.proname FROM pg_type t JOIN pg_proc p ON p.oid = t.typsend WHERE t.oid = typ),
					   v, typ) INTO r;
		IF r IS DISTINCT FROM v THEN
			PERFORM cs_fuzz.note(kind, typ::text || ' binary round trip', v, 'ROUND', 'binary form does not round-trip: ' || r);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		PERFORM cs_fuzz.note(kind, typ::text || ' binary round trip', v, 'ROUND', st || ': ' || msg);
	END;
END $$;

CREATE TABLE cs_fuzz.binseeds (typ regtype, v bytea);

-- Random and mutated text and binary input to every type
CREATE FUNCTION cs_fuzz.fuzz_types(iterations int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	t regtype;
	toks text[];
	s text;
	b bytea;
	r text;
	st text;
	msg text;
	sendf text;
BEGIN
	DELETE FROM cs_fuzz.binseeds;
	FOR t IN SELECT typ FROM cs_fuzz.types LOOP
		PERFORM cs_fuzz.bin_table(t);
		SELECT p.proname INTO sendf FROM pg_type ty JOIN pg_proc p ON p.oid = ty.typsend WHERE ty.oid = t;
		FOR s IN SELECT value FROM cs_fuzz.seeds WHERE typ = t LOOP
			BEGIN
				EXECUTE format('INSERT INTO cs_fuzz.binseeds SELECT %L, %s.%I(%L::%s)', t, cs_fuzz.ext_schema(), sendf, s, t);
			EXCEPTION WHEN OTHERS THEN
				-- a value made by the extension that does not read back
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				PERFORM cs_fuzz.note('seed', t::text || ' round trip', s, 'ROUND', st || ': ' || msg);
				DELETE FROM cs_fuzz.seeds WHERE typ = t AND value = s;
			END;
		END LOOP;
	END LOOP;
	toks := cs_fuzz.tokens();
	FOR t IN SELECT typ FROM cs_fuzz.types LOOP
		IF NOT EXISTS (SELECT 1 FROM cs_fuzz.seeds WHERE typ = t) THEN
			INSERT INTO cs_fuzz.findings VALUES ('seeds', t::text, NULL, 'NOSEED',
				'no valid value of this type: add one to test/fuzz/corpus/' || t::text || '/');
		END IF;
		-- the seeds themselves
		FOR s IN SELECT value FROM cs_fuzz.seeds WHERE typ = t LOOP
			PERFORM cs_fuzz.exercise('seed', t, s);
		END LOOP;
		FOR i IN 1..iterations LOOP
			-- text
			IF random() < 0.15 OR NOT EXISTS (SELECT 1 FROM cs_fuzz.seeds WHERE typ = t) THEN
				s := cs_fuzz.random_text(toks);
			ELSE
				SELECT cs_fuzz.mutate_text(value, toks) INTO s FROM cs_fuzz.seeds WHERE typ = t ORDER BY random() LIMIT 1;
			END IF;
			BEGIN
				PERFORM cs_fuzz.trace(t::text || ' text: ' || s);
				EXECUTE format('SELECT %L::%s::text', s, t) INTO r;
				PERFORM cs_fuzz.note('text', t::text, s, NULL, NULL);
				PERFORM cs_fuzz.exercise('text', t, r);
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				PERFORM cs_fuzz.note('text', t::text, s, st, msg);
			END;
			-- binary
			IF random() < 0.1 OR NOT EXISTS (SELECT 1 FROM cs_fuzz.binseeds WHERE typ = t) THEN
				b := cs_fuzz.mutate_bytes('\x01');
			ELSE
				SELECT cs_fuzz.mutate_bytes(v) INTO b FROM cs_fuzz.binseeds WHERE typ = t ORDER BY random() LIMIT 1;
			END IF;
			BEGIN
				PERFORM cs_fuzz.trace(t::text || ' binary: ' || b::text);
				r := cs_fuzz.binary_input(t, b);
				PERFORM cs_fuzz.note('binary', t::text, b::text, NULL, NULL);
				PERFORM cs_fuzz.exercise('binary', t, r);
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				PERFORM cs_fuzz.note('binary', t::text, b::text, st, msg);
			END;
		END LOOP;
	END LOOP;
END $$;

-- ---------- every function with edge values ----------

-- Edge values of a type, as SQL literals with their cast ('NULL' included)
CREATE FUNCTION cs_fuzz.edge_values(t oid) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
	elem oid;
	ev text[];
	tn text := format_type(t, NULL);
BEGIN
	IF t IN (SELECT typ FROM cs_fuzz.types) THEN
		RETURN ARRAY(SELECT format('%L::%s', value, tn) FROM
		             (SELECT value FROM cs_fuzz.seeds WHERE typ = t ORDER BY source LIKE '%(*)' DESC, random() LIMIT 4) s)
		       || ('NULL::' || tn);
	END IF;
	SELECT typelem INTO elem FROM pg_type WHERE oid = t AND typcategory = 'A';
	IF elem IS NOT NULL AND elem <> 0 THEN
		ev := ARRAY['{}', '{NULL}', '{NULL,NULL}'];
		IF elem IN ('float8'::regtype, 'float4'::regtype, 'numeric'::regtype) THEN
			ev := ev || ARRAY['{0.5}', '{0.5,0.5}', '{0.5,0.5,0.5}', '{1,NULL}', '{NaN}', '{Infinity,0.5}', '{-Infinity}',
			                  '{-0,0.5}', '{4.9e-324,0.5}', '{1e308,1e308}', '{-1e308,0.5}', '{-1,0.5}', '{1,0}', '{0,0}',
			                  '{{0.5,0.5},{0.5,0.5}}', '{{{1}}}', '[0:1]={0.5,0.5}', '[-5:-4]={0.5,0.5}'];
			ev := ev || (SELECT array_agg(x)::text FROM (SELECT 0.5 AS x FROM generate_series(1, 1000)) s);
		ELSIF elem IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN
			ev := ev || ARRAY['{1}', '{1,2}', '{0,-1}', '{2147483647}', '{-2147483648,1}', '{{1,2},{3,4}}', '[0:1]={1,2}'];
		ELSIF elem = 'bool'::regtype THEN
			ev := ev || ARRAY['{true}', '{true,false}', '{{true}}'];
		ELSE
			ev := ev || ARRAY['{x}'];
		END IF;
		RETURN ARRAY(SELECT format('%L::%s', e, tn) FROM unnest(ev) e) || ('NULL::' || tn);
	END IF;
	CASE t
	WHEN 'float8'::regtype, 'float4'::regtype THEN
		ev := ARRAY['0.5', 'NaN', 'Infinity', '-Infinity', '-0', '0', '1', '-1', '4.9e-324', '2.2250738585072014e-308',
		            '1.7976931348623157e308', '-1.7976931348623157e308', '1e-300', '1e300', '0.999999999999', '2', '30', '1000'];
	WHEN 'numeric'::regtype THEN
		ev := ARRAY['0.5', 'NaN', 'Infinity', '-Infinity', '0', '1', '-1', '1e-300', '1e300', '2', '30'];
	WHEN 'int2'::regtype THEN
		ev := ARRAY['1', '0', '-1', '32767', '-32768', '5', '10'];
	WHEN 'int4'::regtype THEN
		ev := ARRAY['1', '0', '-1', '2147483647', '-2147483648', '5', '10', '12'];
	WHEN 'int8'::regtype THEN
		ev := ARRAY['1', '0', '-1', '9223372036854775807', '-9223372036854775808', '5', '10'];
	WHEN 'bool'::regtype THEN
		ev := ARRAY['true', 'false'];
	WHEN 'text'::regtype, 'varchar'::regtype THEN
		ev := ARRAY['x', '', repeat('x', 10000)];
	WHEN 'date'::regtype THEN
		ev := ARRAY['2026-01-01', 'infinity', '-infinity', '4713-01-01 BC'];
	WHEN 'timestamptz'::regtype, 'timestamp'::regtype THEN
		ev := ARRAY['2026-01-01', 'infinity', '-infinity'];
	WHEN 'interval'::regtype THEN
		ev := ARRAY['1 day', '0', '-1 day', '178000000 years'];
	ELSE
		ev := '{}';
	END CASE;
	RETURN ARRAY(SELECT format('%L::%s', e, tn) FROM unnest(ev) e) || ('NULL::' || tn);
END $$;

CREATE FUNCTION cs_fuzz.call_one(f record, args text[], base text[], kind text DEFAULT 'call') RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	q text;
	argl text[] := '{}';
	r text;
	st text;
	msg text;
	n int := cardinality(args);
BEGIN
	IF f.prokind = 'a' THEN
		-- three rows: the edge values, a baseline-only row, and a row of NULLs
		FOR j IN 1..n LOOP
			argl := argl || (CASE WHEN f.variadic AND j = n THEN 'VARIADIC ' ELSE '' END || 'c' || j);
		END LOOP;
		q := format('SELECT %s.%I(%s)::text FROM (VALUES (%s), (%s), (%s)) v(%s)',
					cs_fuzz.ext_schema(), f.proname, array_to_string(argl, ', '),
					array_to_string(args, ', '), array_to_string(base, ', '),
					array_to_string(ARRAY(SELECT 'NULL' FROM generate_series(1, n)), ', '),
					array_to_string(ARRAY(SELECT 'c' || j FROM generate_series(1, n) j), ', '));
	ELSE
		FOR j IN 1..n LOOP
			argl := argl || (CASE WHEN f.variadic AND j = n THEN 'VARIADIC ' ELSE '' END || args[j]);
		END LOOP;
		q := format(CASE WHEN f.proretset THEN 'SELECT pg_catalog.count(*)::text FROM %s.%I(%s)' ELSE 'SELECT %s.%I(%s)::text' END,
					cs_fuzz.ext_schema(), f.proname, array_to_string(argl, ', '));
	END IF;
	IF current_setting('cs_fuzz.collect_only', true) = 'on' THEN
		-- only collect the statements (test/t/reliability-install.sh runs
		-- them under a hostile search_path)
		INSERT INTO cs_fuzz.collected VALUES (f.sig::text, q);
		RETURN;
	END IF;
	BEGIN
		PERFORM cs_fuzz.trace(q);
		EXECUTE q INTO r;
		PERFORM cs_fuzz.note(kind, f.sig::text, q, NULL, NULL);
		IF r IN ('NaN', 'Infinity', '-Infinity') THEN
			INSERT INTO cs_fuzz.findings VALUES ('nonfinite', f.sig::text, q, 'NONFINITE', r);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		PERFORM cs_fuzz.note(kind, f.sig::text, q, st, msg);
	END;
END $$;

-- Each function and aggregate: every edge value in each argument position
-- with the others at a baseline, then `randoms` random combinations.
CREATE FUNCTION cs_fuzz.call_functions(randoms int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	f record;
	ev text[];
	base text[];
	args text[];
	n int;
BEGIN
	FOR f IN SELECT * FROM cs_fuzz.functions LOOP
		n := cardinality(f.argtypes);
		CONTINUE WHEN n = 0;
		base := '{}';
		FOR j IN 1..n LOOP
			base := base || (cs_fuzz.edge_values(f.argtypes[j]))[1];
		END LOOP;
		FOR j IN 1..n LOOP
			ev := cs_fuzz.edge_values(f.argtypes[j]);
			FOR k IN 1..cardinality(ev) LOOP
				args := base;
				args[j] := ev[k];
				PERFORM cs_fuzz.call_one(f, args, base);
			END LOOP;
		END LOOP;
		FOR i IN 1..randoms LOOP
			args := '{}';
			FOR j IN 1..n LOOP
				args := args || cs_fuzz.pick(cs_fuzz.edge_values(f.argtypes[j]));
			END LOOP;
			PERFORM cs_fuzz.call_one(f, args, base);
		END LOOP;
	END LOOP;
END $$;
