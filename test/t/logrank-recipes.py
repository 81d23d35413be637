#!/usr/bin/python3
"""The recipes of the log-rank and competing-risks families run as written
against the demo data (test/demo/data.sql): the blocks marked
<!-- recipe: NAME --> (read with test/recipes/from-readme from README.md and
docs/*.md) of the sections "Is the difference between plans real?"
(docs/logrank.md) and "Why do they leave?" (docs/competing-risks.md), and
the result table the page prints after each block is what psql prints.
Runs inside test/with-cluster; exit 0 = pass.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = "logrank_recipes"
RECIPES = ["logrank-plans", "logrank-plans-within-regions", "reasons-by-plan", "reasons-curve",
           "reasons-late-entry"]


def blocks(pages):
    """(name, sql, the result block printed right after it)"""
    out = []
    for name in RECIPES:
        sql = subprocess.run([os.path.join(ROOT, "test/recipes/from-readme"), name],
                             check=True, capture_output=True, text=True).stdout
        page = next((p for p in pages if sql.strip() in p), None)
        if page is None:
            out.append((name, sql, None))
            continue
        at = page.index(sql.strip()) + len(sql.strip())
        m = re.match(r"\s*```\s*\n\s*```\n(.*?)```", page[at:], re.S)
        out.append((name, sql, m.group(1) if m else None))
    return out


def main():
    pages = [open(f, encoding="utf-8").read()
             for f in [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))]
    subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
    subprocess.run(["createdb", DB], check=True)
    failures = 0
    ran = 0
    try:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c",
                        "CREATE EXTENSION customer_success", "-f", os.path.join(ROOT, "test/demo/data.sql")],
                       check=True, capture_output=True)
        for name, sql, printed in blocks(pages):
            r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", DB],
                               input=sql, capture_output=True, text=True)
            ran += 1
            if r.returncode != 0:
                print(f"FAIL {name}: {r.stderr.strip()}")
                failures += 1
                continue
            if printed is None:
                print(f"FAIL {name}: no result table after the recipe in README.md or docs/*.md")
                failures += 1
                continue
            # the printed result: its rows must be those psql printed
            want = [re.sub(r"\s+", " ", l).strip() for l in printed.strip().splitlines()[2:]]
            got = [re.sub(r"\s+", " ", l).strip() for l in r.stdout.strip().splitlines()[2:-1]]
            if want != got:
                print(f"FAIL {name}: the docs show {want}, psql printed {got}")
                failures += 1
    finally:
        subprocess.run(["dropdb", "--if-exists", DB], check=False)
    if ran < 4:
        print(f"FAIL only {ran} recipe queries found in README.md and docs/*.md")
        failures += 1
    print(f"log-rank and competing-risks recipes: {ran} queries, {'ok' if not failures else str(failures) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
