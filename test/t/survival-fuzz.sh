#!/bin/bash
# Feeds 1,500 randomly mutated survival_summary values (text and binary; both
# layouts: counts, and entries with weights) to
# the input functions: each must be accepted or rejected with a proper error,
# never an internal error (XX000) or a crash.  Runs inside test/with-cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=survival_fuzz
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f sql/setup.sql -f - 2>&1 <<'SQL'
SELECT setseed(0.4);
CREATE TABLE seeds AS
SELECT survival_summary_send(survival_agg(d, c)) AS b, survival_agg(d, c)::text AS t
FROM (SELECT (random() * 20)::int AS d, random() < 0.5 AS c, g % 5 AS grp
      FROM generate_series(1, 300) g) x GROUP BY grp;
-- the layout with entries and weights (1.2)
INSERT INTO seeds
SELECT survival_summary_send(s), s::text
FROM (SELECT CASE WHEN grp < 2 THEN survival_agg(d, c, least(e, d - 0.5)) ELSE survival_agg(d, c, least(e, d - 0.5), w) END AS s
      FROM (SELECT 1 + (random() * 20)::int AS d, random() < 0.5 AS c, (random() * 5)::int / 2.0 AS e,
                   (random() * 8)::int / 4.0 AS w, g % 5 AS grp
            FROM generate_series(1, 300) g) x GROUP BY grp) y;
DO $$
DECLARE
	r record; b bytea; t text; res text; bad int := 0; pos int;
BEGIN
	FOR i IN 1 .. 1500 LOOP
		SELECT * INTO r FROM seeds ORDER BY random() LIMIT 1;
		b := r.b;
		FOR k IN 1 .. 1 + (random() * 3)::int LOOP
			pos := (random() * (length(b) - 1))::int;
			b := set_byte(b, pos, (random() * 255)::int);
		END LOOP;
		IF random() < 0.2 THEN b := substr(b, 1, (random() * length(b))::int); END IF;
		res := cs_test.error_of(format('SELECT cs_test.binary_input(%L, %L::bytea)', 'survival_summary', b));
		IF res LIKE 'XX%' THEN bad := bad + 1; RAISE NOTICE 'binary %: %', b, res; END IF;
		t := r.t;
		pos := 1 + (random() * (length(t) - 1))::int;
		t := overlay(t placing substr('0123456789-,{}= .eNa', 1 + (random() * 19)::int, 1)
		             from pos for (random() * 2)::int);
		res := cs_test.error_of(format('SELECT %L::survival_summary::text', t));
		IF res LIKE 'XX%' THEN bad := bad + 1; RAISE NOTICE 'text %: %', t, res; END IF;
	END LOOP;
	IF bad > 0 THEN RAISE EXCEPTION '% internal errors', bad; END IF;
END $$;
SQL
) || { echo "$out" | tail -20; exit 1; }
echo "survival fuzz: 3000 mutated summaries, no internal error"
