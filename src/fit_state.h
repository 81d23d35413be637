/*
 * fit_state.h
 *	  The rows a fitting aggregate keeps (churn_model_fit, auc and its
 *	  intervals): growable arrays of doubles in an internal state, the one
 *	  size limit of such a state (the setting
 *	  customer_success.fit_state_max_values), and their serialized form
 *	  for parallel query (version byte, counts, values; every value
 *	  validated when read back).
 */
#ifndef FIT_STATE_H
#define FIT_STATE_H

#include "cs_common.h"

#include "lib/stringinfo.h"

#define FIT_STATE_VERSION 1

/*
 * The most doubles one state may hold: its serialized form must stay below
 * MaxAllocSize (1 GB) to pass between parallel workers, so the transition
 * and combine functions refuse a state that would grow past it, and a
 * serial plan refuses the same inputs as a parallel one.  The setting
 * customer_success.fit_state_max_values (formerly state_max_values) can
 * only lower it.
 */
#define FIT_STATE_MAX_VALUES ((int) ((MaxAllocSize - 64) / sizeof(double)))

extern int	fit_state_max_values;

/* Defines the settings; called by _PG_init() */
extern void fit_state_init(void);

pg_noreturn extern void fit_state_too_large(const char *fname);

/* Refuses a state of more than fit_state_max_values doubles */
static inline void
fit_state_check_size(const char *fname, int64 nvalues)
{
	if (unlikely(nvalues > fit_state_max_values))
		fit_state_too_large(fname);
}

/* A growable array of doubles */
typedef struct DoubleBuf
{
	double	   *v;
	int64		n;
	int64		cap;
} DoubleBuf;

extern void dbuf_reserve(MemoryContext ctx, DoubleBuf *b, int64 more);

static inline void
dbuf_push(MemoryContext ctx, DoubleBuf *b, double x)
{
	if (unlikely(b->n == b->cap))
		dbuf_reserve(ctx, b, 1);
	b->v[b->n++] = x;
}

extern void dbuf_append(MemoryContext ctx, DoubleBuf *b, const DoubleBuf *from);

/* The serialized form */
pg_noreturn extern void fit_state_fail(const char *what, const char *detail);
extern void fit_state_begin(StringInfo buf, int64 nvalues);
extern void fit_state_open(StringInfo buf, bytea *b, const char *what);
extern void dbuf_send(StringInfo buf, const DoubleBuf *b);
extern void dbuf_recv(StringInfo buf, DoubleBuf *b, int64 n, const char *what);

#endif							/* FIT_STATE_H */
