#!/usr/bin/python3
"""Checks META.json (PGXN) against customer_success.control, the one place
the version is set: META.json's version and the extension's provides version
must be default_version as a semantic version ('1.0' -> '1.0.0'), the
provided file must be the install script of that version, and the keys PGXN
requires must be there.  Usage: test/check-meta.py [DIR]; exits 1 on a
mismatch.  Run by `make dist` and test/t/integration-dist.sh."""
import json
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
problems = []
with open(os.path.join(root, "customer_success.control")) as f:
    m = re.search(r"^default_version\s*=\s*'([^']+)'", f.read(), re.M)
if not m:
    sys.exit("check-meta: no default_version in customer_success.control")
version = m.group(1)
parts = version.split(".")
if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
    sys.exit("check-meta: default_version %r is not N, N.N or N.N.N" % version)
semver = ".".join(parts + ["0"] * (3 - len(parts)))

with open(os.path.join(root, "META.json")) as f:
    meta = json.load(f)
for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    if key not in meta:
        problems.append("META.json lacks %r" % key)
if meta.get("name") != "customer_success":
    problems.append("META.json name is %r" % meta.get("name"))
if meta.get("version") != semver:
    problems.append("META.json version is %r, customer_success.control says %r (%s)"
                    % (meta.get("version"), version, semver))
ext = meta.get("provides", {}).get("customer_success", {})
if ext.get("version") != semver:
    problems.append("META.json provides customer_success version %r, expected %s" % (ext.get("version"), semver))
if ext.get("file") != "customer_success--%s.sql" % version:
    problems.append("META.json provides file %r, expected customer_success--%s.sql" % (ext.get("file"), version))
if meta.get("meta-spec", {}).get("version") != "1.0.0":
    problems.append("META.json meta-spec version is not 1.0.0")
for p in problems:
    print("check-meta: " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print("META.json matches customer_success.control: version %s (%s)" % (version, semver))
