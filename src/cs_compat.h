/*
 * cs_compat.h
 *	  The one place where differences between the PostgreSQL majors this
 *	  extension supports (15 to 19) are absorbed, so that the family files
 *	  never need a PG_VERSION_NUM test of their own.
 */
#ifndef CS_COMPAT_H
#define CS_COMPAT_H

#include "postgres.h"

/* 16 moved VARSIZE_ANY, SET_VARSIZE and friends out of postgres.h */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * Executor headers: 19 no longer includes htup_details.h and tuplestore.h
 * from funcapi.h, so they are named here; their inline functions trip
 * -Wunused-parameter, hence the pragma (the one copy of it).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#pragma GCC diagnostic pop

/*
 * 18 replaced pg_attribute_noreturn(), which went after a declaration, with
 * pg_noreturn, which goes before it; we write the new form everywhere.
 */
#ifndef pg_noreturn
#if defined(__GNUC__) || defined(__clang__)
#define pg_noreturn __attribute__((noreturn))
#else
#define pg_noreturn
#endif
#endif

#endif							/* CS_COMPAT_H */
