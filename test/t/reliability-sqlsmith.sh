#!/bin/bash
# Short sqlsmith run (make test): no crash, no XX000 from the extension.
# The long run is `make stress` (STRESS_SECONDS, default 600).
exec "$(dirname "$0")/../stress/sqlsmith" "${CS_SQLSMITH_SECONDS:-20}" 50000
