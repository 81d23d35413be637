/*
 * fit_state.c
 *	  The rows a fitting aggregate keeps, and their size limit (fit_state.h).
 */
#include "postgres.h"

#include "fit_state.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

/*
 * The limit in force: the lower of customer_success.fit_state_max_values
 * and customer_success.state_max_values, the name of the setting up to
 * 1.2.1, kept through 1.3 as a deprecated alias (setting either lowers the
 * limit; resetting it restores the other's).  The assign hooks keep it.
 */
int			fit_state_max_values = FIT_STATE_MAX_VALUES;

static int	fit_setting = FIT_STATE_MAX_VALUES;
static int	fit_setting_old = FIT_STATE_MAX_VALUES;

static void
fit_assign(int newval, void *extra pg_attribute_unused())
{
	fit_state_max_values = Min(newval, fit_setting_old);
}

static void
fit_assign_old(int newval, void *extra pg_attribute_unused())
{
	fit_state_max_values = Min(newval, fit_setting);
}

void
fit_state_init(void)
{
	DefineCustomIntVariable("customer_success.fit_state_max_values",
							"Most values (8 bytes each) the state of a fitting aggregate (churn_model_fit(), auc() and its intervals) may hold.",
							"Only lowers the built-in limit, which keeps a state passable between parallel workers (1 GB).",
							&fit_setting, FIT_STATE_MAX_VALUES, 1, FIT_STATE_MAX_VALUES,
							PGC_USERSET, GUC_NOT_IN_SAMPLE, NULL, fit_assign, NULL);
	DefineCustomIntVariable("customer_success.state_max_values",
							"Deprecated name of customer_success.fit_state_max_values, until 1.3; the lower of the two applies.",
							NULL,
							&fit_setting_old, FIT_STATE_MAX_VALUES, 1, FIT_STATE_MAX_VALUES,
							PGC_USERSET, GUC_NOT_IN_SAMPLE, NULL, fit_assign_old, NULL);
}

void
fit_state_too_large(const char *fname)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s: too many rows for one aggregate state", fname),
			 errdetail("A state holds at most %d values of 8 bytes (%s: %s per row).",
					   fit_state_max_values, fname,
					   strncmp(fname, "auc", 3) == 0 ? "one" : "one plus one per signal"),
			 errhint("Aggregate a random sample of the rows (TABLESAMPLE), or smaller groups.")));
}

/* ---------- a growable array of doubles ---------- */

/* Room for more values; the caller has checked the state's size */
void
dbuf_reserve(MemoryContext ctx, DoubleBuf *b, int64 more)
{
	int64		need = b->n + more;

	if (need <= b->cap)
		return;
	/* small at first: one state per group */
	b->cap = Min(Max(Max(b->cap * 2, need), 8), Max(need, FIT_STATE_MAX_VALUES));
	if (b->v == NULL)
		b->v = MemoryContextAllocHuge(ctx, b->cap * sizeof(double));
	else
		b->v = repalloc_huge(b->v, b->cap * sizeof(double));
}

void
dbuf_append(MemoryContext ctx, DoubleBuf *b, const DoubleBuf *from)
{
	if (from->n == 0)
		return;
	dbuf_reserve(ctx, b, from->n);
	memcpy(b->v + b->n, from->v, from->n * sizeof(double));
	b->n += from->n;
}

void
fit_state_fail(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid serialized %s state", what),
			 errdetail("%s", detail)));
}

/*
 * Starts the serialized form of a state holding nvalues doubles, which the
 * transition and combine functions kept below the limit of a serialized
 * value.
 */
void
fit_state_begin(StringInfo buf, int64 nvalues)
{
	if (nvalues > FIT_STATE_MAX_VALUES)
		elog(ERROR, "state of " INT64_FORMAT " values past the limit", nvalues);
	pq_begintypsend(buf);
	pq_sendbyte(buf, FIT_STATE_VERSION);
}

/* Reads a serialized state: buf over b, its version checked */
void
fit_state_open(StringInfo buf, bytea *b, const char *what)
{
	buf->data = VARDATA_ANY(b);
	buf->len = VARSIZE_ANY_EXHDR(b);
	buf->maxlen = buf->len;
	buf->cursor = 0;
	if (pq_getmsgbyte(buf) != FIT_STATE_VERSION)
		fit_state_fail(what, "Unsupported version.");
}

void
dbuf_send(StringInfo buf, const DoubleBuf *b)
{
	for (int64 i = 0; i < b->n; i++)
		pq_sendfloat8(buf, b->v[i]);
}

void
dbuf_recv(StringInfo buf, DoubleBuf *b, int64 n, const char *what)
{
	if (n < 0 || n > (int64) (buf->len - buf->cursor) / (int64) sizeof(double))
		fit_state_fail(what, "The value count does not match the data.");
	b->v = NULL;
	b->n = b->cap = 0;
	if (n == 0)
		return;
	dbuf_reserve(CurrentMemoryContext, b, n);
	for (int64 i = 0; i < n; i++)
	{
		double		x = pq_getmsgfloat8(buf);

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		if (!isfinite(x))
			fit_state_fail(what, "Values must be finite.");
		b->v[i] = x;
	}
	b->n = n;
}

