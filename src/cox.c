/*
 * cox.c
 *	  Cox proportional-hazards regression (SPEC §10): the cox_fit aggregates
 *	  (one row per account; counting-process rows with late entry and
 *	  time-varying signals; every option: weights, strata, cluster, ties),
 *	  their running state, combine, serialize and deserialize, and the final
 *	  function, which fits the rows (cox_fit.c) into a stored cox_model
 *	  (cox_model.c).  cox.h says which file holds what.
 *
 * The running state is internal: the rows, (signals + 4) doubles each
 * (entry, duration, weight, event, signals), one more 8-byte slot in the
 * full form for the stratum and cluster numbers, whose text is kept once
 * per distinct value in a hash table.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "cox.h"
#include "cs_common.h"
#include "fit_state.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* ---------- distinct stratum and cluster names ---------- */

/* a slot of the table: a name's number, its text in the names' area */
typedef struct CoxNameEntry
{
	int32		id;
	uint32		hash;
	char		status;
} CoxNameEntry;

static inline uint32
cox_name_hash(const CoxNames *nm, int32 id)
{
	return hash_bytes((const unsigned char *) nm->text + nm->off[id],
					  nm->off[id + 1] - nm->off[id] - 1);
}

static inline bool
cox_name_equal(const CoxNames *nm, int32 a, int32 b)
{
	uint32		la = nm->off[a + 1] - nm->off[a];

	return la == nm->off[b + 1] - nm->off[b] &&
		memcmp(nm->text + nm->off[a], nm->text + nm->off[b], la) == 0;
}

#define SH_PREFIX		cox_names
#define SH_ELEMENT_TYPE	CoxNameEntry
#define SH_KEY_TYPE		int32
#define SH_KEY			id
#define SH_HASH_KEY(tb, k)	cox_name_hash((const CoxNames *) (tb)->private_data, k)
#define SH_EQUAL(tb, a, b)	cox_name_equal((const CoxNames *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)	((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "cs_simplehash.h"


static void
names_init(MemoryContext ctx, CoxNames *nm)
{
	nm->ht = cox_names_create(ctx, 8, nm);
	nm->cap = 8;
	nm->n = 0;
	nm->null_id = -1;
	nm->off = MemoryContextAlloc(ctx, sizeof(uint32) * (nm->cap + 1));
	nm->off[0] = 0;
	nm->text_cap = 64;
	nm->text = MemoryContextAlloc(ctx, nm->text_cap);
}

/*
 * The number of a name (s NULL: the NULL name), added if new: the name is
 * put after the last one as if it were new, the table looks it up or takes
 * it, and a name already there leaves the area as it was.
 */
static int32
names_id(CoxNames *nm, const char *s, int32 len)
{
	CoxNameEntry *e;
	uint32		end = nm->off[nm->n];
	bool		found;

	if (s == NULL && nm->null_id >= 0)
		return nm->null_id;
	if (nm->n == nm->cap)
	{
		if (nm->n >= PG_INT32_MAX / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("cox_fit: too many distinct strata or clusters")));
		nm->cap *= 2;
		nm->off = repalloc_huge(nm->off, sizeof(uint32) * ((Size) nm->cap + 1));
	}
	if (s == NULL)
	{
		nm->null_id = nm->n;
		nm->off[nm->n + 1] = end;
		return nm->n++;
	}
	if ((Size) len + 1 > MaxAllocSize - end)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: the stratum and cluster names of a group exceed 1 GB")));
	if (end + len + 1 > nm->text_cap)
	{
		nm->text_cap = (uint32) Min(Max((Size) nm->text_cap * 2, (Size) end + len + 1), MaxAllocSize);
		nm->text = repalloc(nm->text, nm->text_cap);
	}
	memcpy(nm->text + end, s, len);
	nm->text[end + len] = '\0';
	nm->off[nm->n + 1] = end + len + 1;
	e = cox_names_insert(nm->ht, nm->n, &found);
	if (found)
		return e->id;
	return nm->n++;
}

/* ---------- the running state (its layout: cox.h) ---------- */

static int
row_width(int form, int p)
{
	return R_X + p + (form == FORM_FULL ? 1 : 0);
}

pg_noinline void
cox_state_too_large(int width)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("cox_fit: too many rows for one aggregate state"),
			 errdetail("A state holds at most %d values of 8 bytes (cox_fit: %d per row).",
					   fit_state_max_values, width),
			 errhint("Aggregate a random sample of the rows (TABLESAMPLE), or smaller groups.")));
}

/* Room for more rows, within the size limit of a state */
static void
state_reserve(MemoryContext ctx, CoxFitState *st, int64 more)
{
	int64		need = st->nrows + more;

	if ((double) need * st->width > (double) fit_state_max_values)
		cox_state_too_large(st->width);
	if (need <= st->cap)
		return;
	/*
	 * doubling while small; past 64k rows by a tenth, so that the state
	 * stays within 10% of its rows (a large block grows in place: realloc
	 * remaps its pages rather than copying them)
	 */
	st->cap = Max(Max(st->cap < 65536 ? st->cap * 2 : st->cap + st->cap / 10, need), 8);
	st->cap = Min(st->cap, Max(need, (int64) fit_state_max_values / st->width));
	if (st->rows == NULL)
		st->rows = MemoryContextAllocHuge(ctx, st->cap * st->width * sizeof(double));
	else
		st->rows = repalloc_huge(st->rows, st->cap * st->width * sizeof(double));
}

static CoxFitState *
state_new(MemoryContext ctx, int form, int p, int ties)
{
	CoxFitState *st = MemoryContextAllocZero(ctx, sizeof(CoxFitState));

	st->form = form;
	st->p = p;
	st->width = row_width(form, p);
	st->ties = ties;
	if (form == FORM_FULL)
	{
		names_init(ctx, &st->strata);
		names_init(ctx, &st->clusters);
	}
	return st;
}

static void
mismatched_signals(int a, int b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cox_fit: every row must have the same number of signals, got %d and %d",
					a, b)));
}

static void
mismatched_ties(int a, int b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cox_fit: ties must be the same in every row of a group, got \"%s\" and \"%s\"",
					a == TIES_EFRON ? "efron" : "breslow",
					b == TIES_EFRON ? "efron" : "breslow")));
}

/* The ties argument: 'efron' or 'breslow' */
static int
ties_of(text *t)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len == 5 && memcmp(s, "efron", 5) == 0)
		return TIES_EFRON;
	if (len == 7 && memcmp(s, "breslow", 7) == 0)
		return TIES_BRESLOW;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cox_fit: ties must be 'efron' or 'breslow', got \"%s\"",
					text_to_cstring(t))));
	return TIES_UNSET;			/* not reached */
}

/*
 * One row: validated, and kept unless an argument it needs is NULL or its
 * weight is 0 (it would add nothing).  argoff is the argument number of
 * the first of (entry,) duration, churned, signals.
 */
static Datum
cox_accum(FunctionCallInfo fcinfo, int form)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	CoxFitState *st = PG_ARGISNULL(0) ? NULL : (CoxFitState *) PG_GETARG_POINTER(0);
	int			a = form == FORM_SIMPLE ? 1 : 2;	/* argument of duration */
	double		entry = 0.0,
				duration,
				weight = 1.0;
	bool		churned;
	ArrayType  *signals;
	const double *v;
	int			k;
	int			ties = TIES_EFRON;
	int32		stratum = -1,
				cluster = -1;
	double	   *row;

	if (PG_ARGISNULL(a) || PG_ARGISNULL(a + 1) || PG_ARGISNULL(a + 2) ||
		(form != FORM_SIMPLE && PG_ARGISNULL(1)))
		goto done;
	if (form == FORM_FULL && (PG_ARGISNULL(5) || PG_ARGISNULL(8)))
		goto done;
	duration = PG_GETARG_FLOAT8(a);
	churned = PG_GETARG_BOOL(a + 1);
	signals = PG_GETARG_ARRAYTYPE_P(a + 2);
	k = cs_signals_count(COX_FNAME, signals, COX_MAX_SIGNALS, st != NULL ? st->p : -1);
	if (form == FORM_FULL)
	{
		ties = ties_of(PG_GETARG_TEXT_PP(8));
		if (st != NULL && st->ties != ties)
			mismatched_ties(st->ties, ties);
	}
	/* a row with a NULL signal is left out, as avg() leaves out NULLs */
	if (ARR_HASNULL(signals))
		goto done;
	v = CS_ARR_DOUBLES(signals);
	cs_signals_finite(COX_FNAME, v, k);
	cs_require_finite(COX_FNAME, "duration", duration);
	cs_require_nonnegative(COX_FNAME, "duration", duration);
	if (form != FORM_SIMPLE)
	{
		entry = PG_GETARG_FLOAT8(1);
		cs_require_finite(COX_FNAME, "entry", entry);
		cs_require_nonnegative(COX_FNAME, "entry", entry);
		if (entry > 0 && !(entry < duration))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cox_fit: entry must be 0 or below duration, got entry %g and duration %g",
							entry, duration),
					 errdetail("A row is at risk in (entry, duration]; entry 0 means observed from the start.")));
		entry += 0.0;			/* no negative zero */
	}
	if (form == FORM_FULL)
	{
		weight = PG_GETARG_FLOAT8(5);
		cs_require_finite(COX_FNAME, "weight", weight);
		cs_require_nonnegative(COX_FNAME, "weight", weight);
	}
	if (st == NULL)
		st = state_new(aggctx, form, k, ties);
	if (weight == 0.0)
		goto done;
	if (form == FORM_FULL)
	{
		if (PG_ARGISNULL(6))
			stratum = names_id(&st->strata, NULL, 0);
		else
		{
			text	   *t = PG_GETARG_TEXT_PP(6);

			stratum = names_id(&st->strata, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
		if (!PG_ARGISNULL(7))
		{
			text	   *t = PG_GETARG_TEXT_PP(7);

			cluster = names_id(&st->clusters, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
	}
	state_reserve(aggctx, st, 1);
	row = st->rows + st->nrows * st->width;
	row[R_ENTRY] = entry;
	row[R_DUR] = duration + 0.0;
	row[R_WEIGHT] = churned ? -weight : weight;
	memcpy(row + R_X, v, k * sizeof(double));
	if (form == FORM_FULL)
		row_set_ids(row + R_X + k, stratum, cluster);
	st->nrows++;

done:
	if (st == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(cox_fit_accum);
Datum
cox_fit_accum(PG_FUNCTION_ARGS)
{
	return cox_accum(fcinfo, FORM_SIMPLE);
}

PG_FUNCTION_INFO_V1(cox_fit_counting_accum);
Datum
cox_fit_counting_accum(PG_FUNCTION_ARGS)
{
	return cox_accum(fcinfo, FORM_COUNTING);
}

PG_FUNCTION_INFO_V1(cox_fit_full_accum);
Datum
cox_fit_full_accum(PG_FUNCTION_ARGS)
{
	return cox_accum(fcinfo, FORM_FULL);
}

/* Appends b's rows to a, renumbering b's strata and clusters into a's */
static void
state_append(MemoryContext ctx, CoxFitState *a, const CoxFitState *b)
{
	int32	   *smap = NULL;
	int32	   *cmap = NULL;
	double	   *dst;

	if (b->nrows == 0)
		return;
	state_reserve(ctx, a, b->nrows);
	if (a->form == FORM_FULL)
	{
		smap = palloc(sizeof(int32) * Max(b->strata.n, 1));
		for (int i = 0; i < b->strata.n; i++)
		{
			int32		len;
			const char *s = cox_name(&b->strata, i, &len);

			smap[i] = names_id(&a->strata, s, len);
		}
		cmap = palloc(sizeof(int32) * Max(b->clusters.n, 1));
		for (int i = 0; i < b->clusters.n; i++)
		{
			int32		len;
			const char *s = cox_name(&b->clusters, i, &len);

			if ((i & 0xFFFF) == 0xFFFF)
				CHECK_FOR_INTERRUPTS();
			cmap[i] = names_id(&a->clusters, s, len);
		}
	}
	dst = a->rows + a->nrows * a->width;
	memcpy(dst, b->rows, b->nrows * b->width * sizeof(double));
	if (a->form == FORM_FULL)
	{
		for (int64 i = 0; i < b->nrows; i++)
		{
			double	   *slot = dst + i * a->width + R_X + a->p;
			int32		s,
						c;

			row_get_ids(slot, &s, &c);
			row_set_ids(slot, smap[s], c < 0 ? -1 : cmap[c]);
		}
		pfree(smap);
		pfree(cmap);
	}
	a->nrows += b->nrows;
}

PG_FUNCTION_INFO_V1(cox_fit_combine);
Datum
cox_fit_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	CoxFitState *a;
	CoxFitState *b;
	Datum		result;

	if (cs_combine_internal_nulls(fcinfo, &result))
		return result;
	b = (CoxFitState *) PG_GETARG_POINTER(1);
	a = PG_ARGISNULL(0) ? NULL : (CoxFitState *) PG_GETARG_POINTER(0);
	if (a == NULL)
		a = state_new(aggctx, b->form, b->p, b->ties);
	else
	{
		if (a->form != b->form)
			elog(ERROR, "cox_fit: states of different forms");
		if (a->p != b->p)
			mismatched_signals(a->p, b->p);
		if (a->ties != b->ties)
			mismatched_ties(a->ties, b->ties);
	}
	state_append(aggctx, a, b);
	PG_RETURN_POINTER(a);
}

/* ---------- serialized state ---------- */

static void
state_fail(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid serialized cox_fit state"),
			 errdetail("%s", detail)));
}

static void
names_send(StringInfo buf, const CoxNames *nm)
{
	pq_sendint32(buf, nm->n);
	for (int i = 0; i < nm->n; i++)
	{
		int32		len;
		const char *s = cox_name(nm, i, &len);

		pq_sendint32(buf, s == NULL ? -1 : len);
		if (s != NULL)
			pq_sendbytes(buf, s, len);
	}
}

static void
names_recv(MemoryContext ctx, StringInfo buf, CoxNames *nm)
{
	int32		n = pq_getmsgint(buf, 4);

	names_init(ctx, nm);
	if (n < 0 || n > buf->len - buf->cursor)
		state_fail("Bad count of names.");
	for (int i = 0; i < n; i++)
	{
		int32		len = pq_getmsgint(buf, 4);
		const char *s = NULL;

		if (len < -1 || len > buf->len - buf->cursor)
			state_fail("Bad name length.");
		if (len >= 0)
			s = pq_getmsgbytes(buf, len);
		if (names_id(nm, s, Max(len, 0)) != i)
			state_fail("Names must be distinct.");
	}
}

PG_FUNCTION_INFO_V1(cox_fit_serialize);
Datum
cox_fit_serialize(PG_FUNCTION_ARGS)
{
	CoxFitState *st = (CoxFitState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int			nd = R_X + st->p;

	cs_agg_context(fcinfo);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, COX_STATE_VERSION);
	pq_sendbyte(&buf, st->form);
	pq_sendbyte(&buf, st->ties + 1);
	pq_sendint32(&buf, st->p);
	if (st->form == FORM_FULL)
	{
		names_send(&buf, &st->strata);
		names_send(&buf, &st->clusters);
	}
	pq_sendint64(&buf, st->nrows);
	enlargeStringInfo(&buf, (int) Min((int64) st->nrows * st->width * 8, (int64) (MaxAllocSize / 2)));
	for (int64 i = 0; i < st->nrows; i++)
	{
		const double *row = st->rows + i * st->width;

		for (int j = 0; j < nd; j++)
			pq_sendfloat8(&buf, row[j]);
		if (st->form == FORM_FULL)
		{
			int32		s,
						c;

			row_get_ids(row + nd, &s, &c);
			pq_sendint32(&buf, s);
			pq_sendint32(&buf, c);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(cox_fit_deserialize);
Datum
cox_fit_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	CoxFitState *st;
	MemoryContext old;
	MemoryContext ctx;
	int			form,
				ties,
				p,
				nd;
	int64		nrows;

	cs_agg_context(fcinfo);
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	if (pq_getmsgbyte(&buf) != COX_STATE_VERSION)
		state_fail("Unsupported version.");
	/* in a context of its own that the combine function adopts */
	ctx = cs_state_context();
	old = MemoryContextSwitchTo(ctx);
	form = pq_getmsgbyte(&buf);
	ties = pq_getmsgbyte(&buf) - 1;
	p = pq_getmsgint(&buf, 4);
	if (form < FORM_SIMPLE || form > FORM_FULL)
		state_fail("Bad form.");
	if (ties != TIES_EFRON && ties != TIES_BRESLOW)
		state_fail("Bad ties.");
	if (p < 1 || p > COX_MAX_SIGNALS)
		state_fail("Bad number of signals.");
	st = state_new(ctx, form, p, ties);
	st->hdr.owner = ctx;
	if (form == FORM_FULL)
	{
		names_recv(ctx, &buf, &st->strata);
		names_recv(ctx, &buf, &st->clusters);
	}
	nrows = pq_getmsgint64(&buf);
	nd = R_X + p;
	if (nrows < 0 || nrows > (int64) (buf.len - buf.cursor) / (nd * 8))
		state_fail("The row count does not match the data.");
	if (nrows > 0)
		state_reserve(ctx, st, nrows);
	for (int64 i = 0; i < nrows; i++)
	{
		double	   *row = st->rows + i * st->width;

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < nd; j++)
		{
			row[j] = pq_getmsgfloat8(&buf);
			if (!isfinite(row[j]))
				state_fail("Values must be finite.");
		}
		if (row[R_ENTRY] < 0 || row[R_DUR] < 0 ||
			(row[R_ENTRY] > 0 && !(row[R_ENTRY] < row[R_DUR])) ||
			!(row_weight(row) > 0) ||
			(form != FORM_FULL && row_weight(row) != 1.0) ||
			(form == FORM_SIMPLE && row[R_ENTRY] != 0.0))
			state_fail("A row is out of range.");
		if (form == FORM_FULL)
		{
			int32		s = pq_getmsgint(&buf, 4);
			int32		c = pq_getmsgint(&buf, 4);

			if (s < 0 || s >= st->strata.n || c < -1 || c >= st->clusters.n)
				state_fail("A stratum or cluster number is out of range.");
			row_set_ids(row + nd, s, c);
		}
	}
	st->nrows = nrows;
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}


/* ---------- the final function ---------- */

PG_FUNCTION_INFO_V1(cox_fit_final);
Datum
cox_fit_final(PG_FUNCTION_ARGS)
{
	CoxModel   *m;

	cs_agg_context(fcinfo);
	m = cox_fit_model(PG_ARGISNULL(0) ? NULL : (CoxFitState *) PG_GETARG_POINTER(0));
	if (m == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(m);
}
