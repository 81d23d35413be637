/*
 * cs_simplehash.h
 *	  PostgreSQL's lib/simplehash.h, for a hash table defined by the SH_*
 *	  macros set before including this file (no include guard: once per
 *	  table, as simplehash.h itself).  Functions of it that a table does not
 *	  use trip -Wunused-parameter, hence the pragma (the one copy of it).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "lib/simplehash.h"
#pragma GCC diagnostic pop
