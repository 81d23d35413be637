#!/bin/bash
# Short SQL-level fuzz run (make test): random and mutated text and binary
# input to every summary type, every function with edge values.  The long
# run is `make fuzz` (CS_FUZZ_ITERATIONS, default 5000 per type).
exec "$(dirname "$0")/../fuzz/sqlfuzz" "${CS_FUZZ_ITERATIONS:-300}" "${CS_FUZZ_RANDOM_CALLS:-10}"
