#!/usr/bin/python3
# The extension through psycopg2 (Debian python3-psycopg2), as Superset and
# notebooks query it: every case file of test/clients/cases/ (format in
# test/clients/README.md), run with a client-side cursor and again with a
# named server-side cursor; result types from cursor.description.
import glob
import os
import re
import subprocess
import sys

import psycopg2

TYPE_OIDS = {701: "double", 20: "bigint", 25: "text"}
KEY = re.compile(r"^(requires|setup|case|params|types|query|reference):(.*)$")


def parse(path):
    blocks, cur, key = [], None, None
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("#"):
                continue
            m = KEY.match(line)
            if m:
                key = m.group(1)
                if key in ("requires", "setup", "case") or cur is None:
                    cur = {}
                    blocks.append(cur)
                cur[key] = m.group(2).strip()
            elif key is not None:
                cur[key] = (cur[key] + "\n" + line).strip()
    return blocks


def type_name(oid, own_types):
    if oid in TYPE_OIDS:
        return TYPE_OIDS[oid]
    return "other" if oid in own_types else "oid %d" % oid


def fetch(conn, sql, params, own_types, named=None):
    sql = sql.replace("%", "%%").replace("?", "%s")
    args = params if "%s" in sql else []
    cur = conn.cursor(named) if named else conn.cursor()
    cur.execute(sql, args)
    rows = cur.fetchall()
    # a named cursor's description is known once rows were fetched
    types = [type_name(d.type_code, own_types) for d in cur.description]
    cur.close()
    return types, rows


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return type(a) is type(b) and a == b


def run_case(conn, case, own_types):
    params = [float(p) for p in case.get("params", "").split()]
    want = case.get("types", "").split()
    got = None
    for named in (None, "cs_client_cursor"):
        types, rows = fetch(conn, case["query"], params, own_types, named)
        if types != want:
            return "result types %s, expected %s (%s cursor)" % (types, want, named or "client")
        if got is not None and rows != got:
            return "the server-side cursor returned other rows"
        got = rows
    _, ref = fetch(conn, case["reference"], params, own_types)
    if not got:
        return "no rows"
    if len(got) != len(ref):
        return "%d rows, reference has %d" % (len(got), len(ref))
    for r, (g, e) in enumerate(zip(got, ref)):
        for c, (x, y) in enumerate(zip(g, e)):
            if not same(x, y):
                return "row %d column %d: got %r, reference %r" % (r, c + 1, x, y)
    # Python types as Superset sees them
    for row in got:
        for t, v in zip(want, row):
            py = {"double": float, "bigint": int, "text": str, "other": str}[t]
            if v is not None and not isinstance(v, py):
                return "value %r is %s, expected %s" % (v, type(v).__name__, py.__name__)
    return None


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    db = "cs_client_psycopg2"
    subprocess.run(["createdb", db], check=True)
    failures = 0
    try:
        conn = psycopg2.connect(dbname=db, application_name="cs_psycopg2_test")
        conn.autocommit = True
        conn.cursor().execute("CREATE EXTENSION customer_success")
        conn.autocommit = False
        cur = conn.cursor()
        cur.execute("""SELECT t.oid FROM pg_type t JOIN pg_depend d ON d.objid = t.oid
                       AND d.classid = 'pg_type'::regclass JOIN pg_extension e ON e.oid = d.refobjid
                       WHERE e.extname = 'customer_success'""")
        own_types = {r[0] for r in cur.fetchall()}
        for path in sorted(glob.glob("test/clients/cases/*.txt")):
            for block in parse(path):
                if "requires" in block:
                    # a family that is not installed: skip the file
                    names = [n.strip() for n in block["requires"].split(",")]
                    cur.execute("SELECT n FROM unnest(%s::text[]) n WHERE NOT EXISTS "
                                "(SELECT FROM customer_success_functions WHERE name = n)", (names,))
                    missing = [r[0] for r in cur.fetchall()]
                    if missing:
                        print("skip %s: needs %s" % (os.path.basename(path), ", ".join(missing)))
                        break
                    continue
                if "setup" in block:
                    cur.execute(block["setup"])
                    conn.commit()
                    continue
                name = "%s: %s" % (os.path.basename(path), block["case"])
                try:
                    problem = run_case(conn, block, own_types)
                except psycopg2.Error as e:
                    problem = str(e).strip()
                conn.rollback()
                if problem:
                    failures += 1
                    print("FAIL %s: %s" % (name, problem))
                else:
                    print("ok   %s" % name)
        conn.close()
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=True)
    sys.exit(1 if failures else 0)


main()
