#!/usr/bin/python3
"""The README recipes of the log-rank and competing-risks families run as
written against the demo data (test/demo/data.sql): every ```sql block of
the sections "Is the difference between plans real?" and "Why do they
leave?", and the figures the README prints for them come out.  Runs inside
test/with-cluster; exit 0 = pass.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = "logrank_recipes"
SECTIONS = ["### Is the difference between plans real?", "### Why do they leave?"]


def blocks(readme):
    out = []
    for title in SECTIONS:
        start = readme.index(title)
        end = readme.find("\n### ", start + 1)
        text = readme[start:end]
        code = re.findall(r"```(sql)?\n(.*?)```", text, re.S)
        out += [(title, kind, body) for kind, body in code]
    return out


def main():
    readme = open(os.path.join(ROOT, "README.md")).read()
    subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
    subprocess.run(["createdb", DB], check=True)
    failures = 0
    ran = 0
    try:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c",
                        "CREATE EXTENSION customer_success", "-f", os.path.join(ROOT, "test/demo/data.sql")],
                       check=True, capture_output=True)
        last = None
        for title, kind, body in blocks(readme):
            if kind == "sql":
                r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", DB],
                                   input=body, capture_output=True, text=True)
                ran += 1
                if r.returncode != 0:
                    print(f"FAIL {title}: {r.stderr.strip()}")
                    failures += 1
                last = r.stdout
            elif last is not None:
                # a printed result: its rows must be those psql printed
                want = [re.sub(r"\s+", " ", l).strip() for l in body.strip().splitlines()[2:]]
                got = [re.sub(r"\s+", " ", l).strip() for l in last.strip().splitlines()[2:-1]]
                if want != got:
                    print(f"FAIL {title}: README shows {want}, psql printed {got}")
                    failures += 1
    finally:
        subprocess.run(["dropdb", "--if-exists", DB], check=False)
    if ran < 4:
        print(f"FAIL only {ran} recipe queries found in README")
        failures += 1
    print(f"log-rank and competing-risks recipes: {ran} queries, {'ok' if not failures else str(failures) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
