#!/bin/bash
# The extension through the PostgreSQL JDBC driver (Debian
# libpostgresql-jdbc-java), as BI tools query it: every case file of
# test/clients/cases/ run by test/clients/ClientCases.java.
set -euo pipefail
cd "$(dirname "$0")/../.."
jar=/usr/share/java/postgresql.jar
[ -f "$jar" ] || { echo "missing $jar (Debian libpostgresql-jdbc-java)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'dropdb --if-exists cs_client_jdbc; rm -rf "$tmp"' EXIT
javac -d "$tmp" test/clients/ClientCases.java
createdb cs_client_jdbc
psql -X -q -d cs_client_jdbc -c 'CREATE EXTENSION customer_success'
java -cp "$jar:$tmp" ClientCases \
	"jdbc:postgresql://127.0.0.1:$PGPORT/cs_client_jdbc?user=$PGUSER&ApplicationName=cs_jdbc_test" \
	test/clients/cases/*.txt
