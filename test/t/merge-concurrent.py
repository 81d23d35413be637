#!/usr/bin/python3
# SPEC §11 under concurrency: several sessions at once bring batches of rows
# into the same daily summaries, (1) by INSERT ... ON CONFLICT (day, account)
# DO UPDATE SET s = t.s + EXCLUDED.s and (2) through a statement-level
# AFTER INSERT trigger with a transition table that does the same upsert.
# Nothing may be lost or counted twice: afterwards every summary equals a
# recompute over all the rows that went in (exactly, in text, for the
# counts of nps_summary and survival_summary; every accessor to 1e-12
# relative for the sums of health_summary).  The upserts take their keys in
# one order (ORDER BY day, account), so that two sessions cannot deadlock by
# locking the same two rows in opposite orders.
import os
import random
import subprocess
import sys
import threading

import psycopg2

SESSIONS = 6
BATCHES = 25
ROWS = 400          # rows per batch
KEYS = (3, 4)       # days x accounts: few keys, so that sessions collide

db = "cs_merge_concurrent_%d" % os.getpid()
failures = []


def check(name, ok, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""))
    if not ok:
        failures.append(name)


SETUP = """
CREATE EXTENSION customer_success;
CREATE TABLE answers (session int, batch int, day int, account int, score int,
                      duration float8, churned bool, sig1 float8, sig2 float8);
CREATE TABLE daily (day int, account int, nps nps_summary, surv survival_summary,
                    health health_summary, PRIMARY KEY (day, account));
-- (2) the trigger: rows inserted into live are merged into live_daily
CREATE TABLE live (LIKE answers);
CREATE TABLE live_daily (LIKE daily INCLUDING ALL);
CREATE FUNCTION live_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO live_daily AS t
	SELECT day, account, nps_agg(score), survival_agg(duration, churned),
	       health_agg(ARRAY[3, 1], sig1, sig2)
	FROM new_rows GROUP BY day, account ORDER BY day, account
	ON CONFLICT (day, account) DO UPDATE
	SET nps = t.nps + EXCLUDED.nps, surv = t.surv + EXCLUDED.surv, health = t.health + EXCLUDED.health;
	RETURN NULL;
END $$;
CREATE TRIGGER live_merge AFTER INSERT ON live
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_merge();
"""

UPSERT = """
INSERT INTO daily AS t
SELECT day, account, nps_agg(score), survival_agg(duration, churned), health_agg(ARRAY[3, 1], sig1, sig2)
FROM answers WHERE session = %s AND batch = %s GROUP BY day, account ORDER BY day, account
ON CONFLICT (day, account) DO UPDATE
SET nps = t.nps + EXCLUDED.nps, surv = t.surv + EXCLUDED.surv, health = t.health + EXCLUDED.health
"""


def rows_of(rng, session, batch):
    out = []
    for _ in range(ROWS):
        out.append((session, batch, rng.randrange(KEYS[0]), rng.randrange(KEYS[1]), rng.randrange(11),
                    float(rng.randrange(1, 60)), rng.random() < 0.5, rng.random(),
                    None if rng.random() < 0.3 else rng.random()))
    return out


def session(n, errors):
    rng = random.Random(n)
    try:
        conn = psycopg2.connect(dbname=db, application_name="cs_merge_concurrent")
        conn.autocommit = True
        cur = conn.cursor()
        for b in range(BATCHES):
            rows = rows_of(rng, n, b)
            args = ",".join(cur.mogrify("(%s,%s,%s,%s,%s,%s,%s,%s,%s)", r).decode() for r in rows)
            # (1) the rows, then their summaries upserted in a transaction of their own
            cur.execute("INSERT INTO answers VALUES " + args)
            cur.execute(UPSERT, (n, b))
            # (2) the same rows into the table with the trigger, in one statement
            cur.execute("INSERT INTO live VALUES " + args)
        conn.close()
    except Exception as e:          # reported by the main thread
        errors.append("session %d: %s" % (n, e))


COMPARE = """
WITH r AS (SELECT day, account, nps_agg(score) AS nps, survival_agg(duration, churned) AS surv,
                  health_agg(ARRAY[3, 1], sig1, sig2) AS health
           FROM {rows} GROUP BY day, account),
     v AS (SELECT t.day, t.account,
                  t.nps::text = r.nps::text AS nps_equal, t.surv::text = r.surv::text AS surv_equal,
                  abs(health_score(t.health) - health_score(r.health))
                      <= 1e-12 * abs(health_score(r.health)) AS health_close,
                  (SELECT bool_and(abs(a.mean - b.mean) <= 1e-12 * abs(b.mean))
                   FROM health_contributions(t.health) a JOIN health_contributions(r.health) b USING (signal))
                      AS means_close
           FROM {table} t FULL JOIN r USING (day, account))
SELECT count(*), count(*) FILTER (WHERE nps_equal AND surv_equal AND health_close AND means_close)
FROM v
"""


def main():
    subprocess.run(["createdb", db], check=True)
    try:
        conn = psycopg2.connect(dbname=db)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute(SETUP)
        errors = []
        threads = [threading.Thread(target=session, args=(n, errors)) for n in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check("%d sessions x %d batches ran without error" % (SESSIONS, BATCHES), not errors, "; ".join(errors))
        cur.execute("SELECT count(*) FROM answers")
        n = cur.fetchone()[0]
        check("every row went in", n == SESSIONS * BATCHES * ROWS, "%d rows" % n)
        keys = KEYS[0] * KEYS[1]
        for name, table, rows in (("upserted batches", "daily", "answers"),
                                  ("trigger-merged batches", "live_daily", "live")):
            cur.execute(COMPARE.format(table=table, rows=rows))
            total, good = cur.fetchone()
            check("%s equal a recompute (%d keys, each merged ~%d times concurrently)"
                  % (name, keys, SESSIONS * BATCHES), total == keys and good == keys,
                  "%d of %d keys equal" % (good, total))
        cur.execute("SELECT sum(nps_responses(nps)) FROM live_daily")
        check("no answer lost or counted twice by the trigger", cur.fetchone()[0] == n)
        conn.close()
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", db], check=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
