#!/bin/bash
# Packaging: META.json agrees with customer_success.control, and `make dist`
# makes a release archive that builds.  The archive is made from a clone of
# the committed HEAD (with the install script regenerated and committed
# there, as a release would have it), so the work tree is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 test/check-meta.py .
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "not a git checkout: make dist not tried"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$(pwd)" "$tmp/repo"
cd "$tmp/repo"
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" customer_success.control)
rm -f "customer_success--$version.sql"
make -s "customer_success--$version.sql" PG_CONFIG=/nonexistent
if [ -n "$(git status --porcelain)" ]; then
	git add -A && git -c user.name=dist-test -c user.email=dist-test@localhost commit -qm "regenerated install script"
fi
make -s dist PG_CONFIG=/nonexistent >/dev/null
zip="customer_success-$version.zip"
[ -f "$zip" ] || { echo "make dist did not write $zip" >&2; exit 1; }
/usr/bin/python3 - "$zip" "customer_success-$version/" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
prefix = sys.argv[2]
names = z.namelist()
assert all(n.startswith(prefix) for n in names), "entries outside %s" % prefix
for need in ("META.json", "Makefile", "customer_success.control", "src/nps.c", "src/catalog.sql",
             "sql/nps.sql", "expected/nps.out", "test/run"):
    assert prefix + need in names, "missing " + need
import os
# every install script (released ones are frozen) and upgrade script ships
for f in sorted(os.listdir(".")):
    if f.startswith("customer_success--") and f.endswith(".sql"):
        assert prefix + f in names, "missing " + f
for banned in (".ci/", "notes/"):
    assert not any(n.startswith(prefix + banned) for n in names), "should not ship " + banned
z.extractall("unpacked")
print("%s: %d files" % (sys.argv[1], len(names)))
PY
cd "unpacked/customer_success-$version"
/usr/bin/python3 test/check-meta.py .
make -s check-install-script PG_CONFIG="${PG_CONFIG:-pg_config}"
make -s -j2 PG_CONFIG="${PG_CONFIG:-pg_config}" >/dev/null
[ -f customer_success.so ] || { echo "the unpacked archive did not build" >&2; exit 1; }
echo "make dist: $zip builds"
