/*
 * cox.c
 *	  Cox proportional-hazards regression (SPEC §10): the cox_fit aggregates
 *	  (one row per account; counting-process rows with late entry and
 *	  time-varying signals; every option: weights, strata, cluster, ties),
 *	  the fit itself (R's coxph: Newton-Raphson with step halving on the
 *	  partial likelihood, Efron's or Breslow's ties, collinear signals left
 *	  out as R's cholesky2 does), the robust sandwich variance from the
 *	  per-cluster dfbeta residuals, the tests of summary(coxph), the baseline
 *	  hazard of survfit.coxph for predictions, and the stored cox_model type
 *	  with its accessors.  Concordance and the proportional-hazards test
 *	  are computed in src/cox_stats.c (cox.h) while the rows are at hand.
 *
 * The running state is internal: the rows, (signals + 4) doubles each
 * (entry, duration, weight, event, signals), one more 8-byte slot in the
 * full form for the stratum and cluster numbers, whose text is kept once
 * per distinct value in a hash table.  The final function sorts the rows
 * once (by stratum and duration, and the late entries by stratum and
 * entry), copies them in those orders, and walks both orders together per
 * Newton step, as R's agfit4 does: each step is O(n p^2) with no
 * allocation.
 */
#include "postgres.h"

#include <float.h>

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

#define COX_TYPE "cox_model"
#define COX_FNAME "cox_fit"
#define COX_MAX_SIGNALS 100
#define COX_MAX_ITER 100
#define COX_EPS 1e-12			/* relative change of the log-likelihood */
#define COX_STATE_VERSION 1

/* rows of the state: entry, duration, weight, event, signals[, ids] */
#define R_ENTRY 0
#define R_DUR 1
#define R_WEIGHT 2
#define R_EVENT 3
#define R_X 4

#define FORM_SIMPLE 1			/* (duration, churned, signals) */
#define FORM_COUNTING 2			/* (entry, duration, churned, signals) */
#define FORM_FULL 3				/* every option */

#define TIES_UNSET (-1)
#define TIES_BRESLOW 0
#define TIES_EFRON 1

/* ---------- distinct stratum and cluster names ---------- */

typedef struct CoxNameKey
{
	const char *s;
	int32		len;
} CoxNameKey;

typedef struct CoxNameEntry
{
	CoxNameKey	key;
	int32		id;
	uint32		hash;
	char		status;
} CoxNameEntry;

static inline uint32
cox_name_hash(CoxNameKey k)
{
	return hash_bytes((const unsigned char *) k.s, k.len);
}

#define SH_PREFIX		cox_names
#define SH_ELEMENT_TYPE	CoxNameEntry
#define SH_KEY_TYPE		CoxNameKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	cox_name_hash(k)
#define SH_EQUAL(tb, a, b)	((a).len == (b).len && memcmp((a).s, (b).s, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)	((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "cs_simplehash.h"

/*
 * Names by number (a NULL name is the SQL NULL stratum), and the table from
 * name to number.
 */
typedef struct CoxNames
{
	cox_names_hash *ht;
	char	  **name;
	int32	   *len;
	int32		n;
	int32		cap;
	int32		null_id;		/* number of the NULL name, or -1 */
} CoxNames;

static void
names_init(MemoryContext ctx, CoxNames *nm)
{
	nm->ht = cox_names_create(ctx, 8, NULL);
	nm->cap = 8;
	nm->n = 0;
	nm->null_id = -1;
	nm->name = MemoryContextAlloc(ctx, sizeof(char *) * nm->cap);
	nm->len = MemoryContextAlloc(ctx, sizeof(int32) * nm->cap);
}

/* The number of a name (s NULL: the NULL name), added if new */
static int32
names_id(MemoryContext ctx, CoxNames *nm, const char *s, int32 len)
{
	CoxNameEntry *e;
	CoxNameKey	k;
	bool		found;
	char	   *copy = NULL;

	if (s == NULL && nm->null_id >= 0)
		return nm->null_id;
	if (s != NULL)
	{
		k.s = s;
		k.len = len;
		e = cox_names_lookup(nm->ht, k);
		if (e != NULL)
			return e->id;
	}
	if (nm->n == PG_INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: too many distinct strata or clusters")));
	if (nm->n == nm->cap)
	{
		nm->cap *= 2;
		nm->name = repalloc_huge(nm->name, sizeof(char *) * nm->cap);
		nm->len = repalloc_huge(nm->len, sizeof(int32) * nm->cap);
	}
	if (s != NULL)
	{
		copy = MemoryContextAlloc(ctx, len + 1);
		memcpy(copy, s, len);
		copy[len] = '\0';
		k.s = copy;
		k.len = len;
		e = cox_names_insert(nm->ht, k, &found);
		e->id = nm->n;
	}
	else
		nm->null_id = nm->n;
	nm->name[nm->n] = copy;
	nm->len[nm->n] = len;
	return nm->n++;
}

/* ---------- the running state ---------- */

typedef struct CoxFitState
{
	CsInternalState hdr;		/* first: see cs_combine_internal_nulls() */
	int32		form;
	int32		p;				/* signals */
	int32		width;			/* doubles per row */
	int32		ties;
	int64		nrows;
	int64		cap;			/* rows allocated */
	double	   *rows;
	CoxNames	strata;			/* FORM_FULL only */
	CoxNames	clusters;
} CoxFitState;

static int
row_width(int form, int p)
{
	return R_X + p + (form == FORM_FULL ? 1 : 0);
}

/* stratum and cluster numbers share the last slot of a full-form row */
static inline void
row_set_ids(double *slot, int32 stratum, int32 cluster)
{
	int32		ids[2] = {stratum, cluster};

	memcpy(slot, ids, sizeof(ids));
}

static inline void
row_get_ids(const double *slot, int32 *stratum, int32 *cluster)
{
	int32		ids[2];

	memcpy(ids, slot, sizeof(ids));
	*stratum = ids[0];
	*cluster = ids[1];
}

static pg_noinline void
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
	if (ARR_NDIM(signals) > 1 || ARR_ELEMTYPE(signals) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cox_fit: signals must be a one-dimensional double precision array, got %d dimensions",
						ARR_NDIM(signals))));
	k = ARR_NDIM(signals) == 1 ? ARR_DIMS(signals)[0] : 0;
	if (k < 1 || k > COX_MAX_SIGNALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cox_fit: signals must have between 1 and %d elements, got %d",
						COX_MAX_SIGNALS, k)));
	if (st != NULL && k != st->p)
		mismatched_signals(st->p, k);
	if (form == FORM_FULL)
	{
		text	   *t = PG_GETARG_TEXT_PP(8);
		const char *s = VARDATA_ANY(t);
		int			len = VARSIZE_ANY_EXHDR(t);

		if (len == 5 && memcmp(s, "efron", 5) == 0)
			ties = TIES_EFRON;
		else if (len == 7 && memcmp(s, "breslow", 7) == 0)
			ties = TIES_BRESLOW;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cox_fit: ties must be 'efron' or 'breslow', got \"%s\"",
							text_to_cstring(t))));
		if (st != NULL && st->ties != ties)
			mismatched_ties(st->ties, ties);
	}
	/* a row with a NULL signal is left out, as avg() leaves out NULLs */
	if (ARR_HASNULL(signals))
		goto done;
	v = CS_ARR_DOUBLES(signals);
	for (int j = 0; j < k; j++)
		if (unlikely(!isfinite(v[j])))
			ereport(ERROR,
					(errcode(isnan(v[j]) ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cox_fit: signal %d must be finite, got %g", j + 1, v[j])));
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
			stratum = names_id(aggctx, &st->strata, NULL, 0);
		else
		{
			text	   *t = PG_GETARG_TEXT_PP(6);

			stratum = names_id(aggctx, &st->strata, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
		if (!PG_ARGISNULL(7))
		{
			text	   *t = PG_GETARG_TEXT_PP(7);

			cluster = names_id(aggctx, &st->clusters, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
	}
	state_reserve(aggctx, st, 1);
	row = st->rows + st->nrows * st->width;
	row[R_ENTRY] = entry;
	row[R_DUR] = duration + 0.0;
	row[R_WEIGHT] = weight;
	row[R_EVENT] = churned ? 1.0 : 0.0;
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
			smap[i] = names_id(ctx, &a->strata, b->strata.name[i], b->strata.len[i]);
		cmap = palloc(sizeof(int32) * Max(b->clusters.n, 1));
		for (int i = 0; i < b->clusters.n; i++)
		{
			if ((i & 0xFFFF) == 0xFFFF)
				CHECK_FOR_INTERRUPTS();
			cmap[i] = names_id(ctx, &a->clusters, b->clusters.name[i], b->clusters.len[i]);
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
		pq_sendint32(buf, nm->name[i] == NULL ? -1 : nm->len[i]);
		if (nm->name[i] != NULL)
			pq_sendbytes(buf, nm->name[i], nm->len[i]);
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
		if (names_id(ctx, nm, s, Max(len, 0)) != i)
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
			!(row[R_WEIGHT] > 0) ||
			(row[R_EVENT] != 0.0 && row[R_EVENT] != 1.0) ||
			(form != FORM_FULL && row[R_WEIGHT] != 1.0) ||
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

/* ---------- the stored model ---------- */

/*
 * A fitted model.  After the fixed part, doubles: coef[p], se[p], rse[p],
 * means[p], zph_chisq[p + 1], zph_df[p + 1] (NaN where R gives NA: a
 * signal left out, a statistic R does not report), then times[ntimes] and
 * cumhaz[ntimes] (the baseline cumulative hazard at the means, stratum
 * after stratum); then int32 stratum_times[nstrata]; then the stratum
 * names, each a byte (1 NULL, 0 not) and, if not NULL, its text and '\0'.
 */
typedef struct CoxModel
{
	CS_SUMMARY_HEADER;
	int32		p;
	int32		nstrata;
	int32		ntimes;
	int32		names_len;
	int32		iterations;
	uint8		ties;
	uint8		robust;			/* R reports robust se, z and p */
	uint8		stratified;		/* strata came from the full form */
	uint8		pad;
	int64		n;
	int64		nevent;
	double		loglik0;
	double		loglik;
	double		wald;
	double		score;
	double		robust_score;	/* NaN: not reported */
	double		concordance;
	double		concordance_se; /* NaN: NA */
	double		data[FLEXIBLE_ARRAY_MEMBER];
} CoxModel;

#define M_COEF(m)	((m)->data)
#define M_SE(m)		((m)->data + (m)->p)
#define M_RSE(m)	((m)->data + 2 * (m)->p)
#define M_MEANS(m)	((m)->data + 3 * (m)->p)
#define M_ZCHI(m)	((m)->data + 4 * (m)->p)
#define M_ZDF(m)	((m)->data + 5 * (m)->p + 1)
#define M_TIMES(m)	((m)->data + 6 * (m)->p + 2)
#define M_CUMHAZ(m) (M_TIMES(m) + (m)->ntimes)
#define M_STIMES(m) ((int32 *) (M_CUMHAZ(m) + (m)->ntimes))
#define M_NAMES(m)	((char *) (M_STIMES(m) + (m)->nstrata))

static Size
model_bytes(int p, int nstrata, int ntimes, int names_len)
{
	return offsetof(CoxModel, data) +
		sizeof(double) * ((Size) 6 * p + 2 + (Size) 2 * ntimes) +
		sizeof(int32) * (Size) nstrata + names_len;
}

static CoxModel *
model_alloc(int p, int nstrata, int ntimes, int names_len)
{
	Size		size = model_bytes(p, nstrata, ntimes, names_len);
	CoxModel   *m;

	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: the model would be too large to store"),
				 errdetail("It keeps a baseline hazard at each of %d event times.", ntimes)));
	m = palloc0(size);
	SET_VARSIZE(m, size);
	m->version = CS_SUMMARY_VERSION;
	m->p = p;
	m->nstrata = nstrata;
	m->ntimes = ntimes;
	m->names_len = names_len;
	return m;
}

static Size
model_size_of(const void *s)
{
	const CoxModel *m = s;

	if (m->p < 1 || m->p > COX_MAX_SIGNALS || m->nstrata < 1 || m->ntimes < 0 ||
		m->names_len < m->nstrata || m->ntimes > (int32) (MaxAllocSize / 16) ||
		m->nstrata > (int32) (MaxAllocSize / 8) || m->names_len > (int32) MaxAllocSize)
		return 0;
	return model_bytes(m->p, m->nstrata, m->ntimes, m->names_len);
}

static const CsSummaryType cox_model_type = {
	COX_TYPE, offsetof(CoxModel, data), model_size_of
};

/*
 * Checks every field of a model read from text, binary or disk; also
 * fills names[] (pointers into the model, NULL for the NULL stratum) when
 * names is not NULL.
 */
static void
model_validate(CsParse *ps, const CoxModel *m, const char **names)
{
	int			kept = 0;
	const double *t = M_TIMES(m);
	const double *h = M_CUMHAZ(m);
	const int32 *st = M_STIMES(m);
	const char *nm = M_NAMES(m);
	const char *end = nm + m->names_len;
	int64		total = 0;

	if (m->ties > TIES_EFRON || m->robust > 1 || m->stratified > 1 || m->pad != 0 ||
		m->flags != 0 || m->reserved != 0)
		cs_parse_fail(ps, "Bad flags.");
	if (!m->stratified && m->nstrata != 1)
		cs_parse_fail(ps, "A model without strata has one baseline hazard.");
	for (int j = 0; j < m->p; j++)
	{
		bool		na = isnan(M_COEF(m)[j]);

		if (!isfinite(M_MEANS(m)[j]))
			cs_parse_fail(ps, "Means must be finite.");
		if (na)
		{
			if (!isnan(M_SE(m)[j]) || !isnan(M_RSE(m)[j]) || !isnan(M_ZCHI(m)[j]) ||
				!isnan(M_ZDF(m)[j]))
				cs_parse_fail(ps, "A signal left out has no statistics.");
			continue;
		}
		kept++;
		if (!isfinite(M_COEF(m)[j]) || !(M_SE(m)[j] >= 0) || !isfinite(M_SE(m)[j]) ||
			!(M_RSE(m)[j] >= 0) || !isfinite(M_RSE(m)[j]))
			cs_parse_fail(ps, "Coefficients and standard errors must be finite, standard errors not negative.");
		if (!isnan(M_ZCHI(m)[j]) && !(M_ZCHI(m)[j] >= 0 && isfinite(M_ZCHI(m)[j])))
			cs_parse_fail(ps, "Test statistics must be finite and not negative.");
		if (!isnan(M_ZDF(m)[j]) && !(M_ZDF(m)[j] >= 0 && M_ZDF(m)[j] <= COX_MAX_SIGNALS &&
									 M_ZDF(m)[j] == floor(M_ZDF(m)[j])))
			cs_parse_fail(ps, "Degrees of freedom must be whole numbers.");
	}
	if (kept == 0)
		cs_parse_fail(ps, "A model keeps at least one signal.");
	if (!isnan(M_ZCHI(m)[m->p]) && !(M_ZCHI(m)[m->p] >= 0 && isfinite(M_ZCHI(m)[m->p])))
		cs_parse_fail(ps, "Test statistics must be finite and not negative.");
	if (!isnan(M_ZDF(m)[m->p]) && !(M_ZDF(m)[m->p] >= 0 && M_ZDF(m)[m->p] <= COX_MAX_SIGNALS &&
									M_ZDF(m)[m->p] == floor(M_ZDF(m)[m->p])))
		cs_parse_fail(ps, "Degrees of freedom must be whole numbers.");
	if (m->n < 1 || m->nevent < 1 || m->nevent > m->n)
		cs_parse_fail(ps, "A model has rows and at most as many events.");
	if (m->iterations < 0 || m->iterations > COX_MAX_ITER)
		cs_parse_fail(ps, "The iteration count is out of range.");
	if (!isfinite(m->loglik0) || !isfinite(m->loglik))
		cs_parse_fail(ps, "Log-likelihoods must be finite.");
	if (!(m->wald >= 0 && isfinite(m->wald)) || !(m->score >= 0 && isfinite(m->score)))
		cs_parse_fail(ps, "Test statistics must be finite and not negative.");
	if (m->robust ? !(m->robust_score >= 0 && isfinite(m->robust_score)) : !isnan(m->robust_score))
		cs_parse_fail(ps, "A robust score test goes with a robust model only.");
	if (!isnan(m->concordance) && !(m->concordance >= 0 && m->concordance <= 1))
		cs_parse_fail(ps, "The concordance must be between 0 and 1.");
	if (!isnan(m->concordance_se) && !(m->concordance_se >= 0 && isfinite(m->concordance_se)))
		cs_parse_fail(ps, "The concordance standard error must be finite and not negative.");
	for (int s = 0; s < m->nstrata; s++)
	{
		if (st[s] < 0 || st[s] > m->ntimes - total)
			cs_parse_fail(ps, "Event times per stratum do not add up.");
		for (int64 i = total; i < total + st[s]; i++)
		{
			if (!isfinite(t[i]) || t[i] < 0 || (i > total && !(t[i] > t[i - 1])))
				cs_parse_fail(ps, "Event times must be finite, not negative and increasing.");
			if (!isfinite(h[i]) || !(h[i] > (i > total ? h[i - 1] : 0)))
				cs_parse_fail(ps, "The cumulative hazard must be finite and increasing.");
		}
		total += st[s];
		if (nm >= end)
			cs_parse_fail(ps, "Stratum names do not add up.");
		if (*nm == 1)
		{
			if (names)
				names[s] = NULL;
			nm++;
		}
		else if (*nm == 0)
		{
			const char *z = memchr(nm + 1, '\0', end - nm - 1);

			if (z == NULL)
				cs_parse_fail(ps, "Stratum names do not add up.");
			if (names)
				names[s] = nm + 1;
			nm = z + 1;
		}
		else
			cs_parse_fail(ps, "Stratum names do not add up.");
	}
	if (total != m->ntimes || nm != end)
		cs_parse_fail(ps, "Event times or stratum names do not add up.");
	if (!m->stratified && M_NAMES(m)[0] != 1)
		cs_parse_fail(ps, "A model without strata has no stratum name.");
	/* distinct names, in order */
	if (names)
		for (int s = 1; s < m->nstrata; s++)
			if (names[s - 1] == NULL || (names[s] != NULL && strcmp(names[s - 1], names[s]) >= 0))
				cs_parse_fail(ps, "Stratum names must be distinct and in order, NULL last.");
}

/* Fetches a cox_model argument, validated as stored input is */
static CoxModel *
model_fetch(Datum d, const char ***names)
{
	CoxModel   *m = cs_summary_fetch(&cox_model_type, d);
	CsParse		ps;
	const char **nm = palloc(sizeof(char *) * m->nstrata);

	cs_parse_init_binary(&ps, COX_TYPE);
	model_validate(&ps, m, nm);
	if (names)
		*names = nm;
	else
		pfree(nm);
	return m;
}

/* ---------- the fit ---------- */

/* rows ahead to fetch when copying rows in sorted order */
#define COX_PREFETCH 16
#if defined(__GNUC__) || defined(__clang__)
#define cox_prefetch(addr) __builtin_prefetch(addr)
#else
#define cox_prefetch(addr) ((void) (addr))
#endif

/* Sort items: a row's stratum, its time (duration or entry) and position */
typedef struct CoxSortItem
{
	double		t;
	int32		stratum;
	int32		pos;
} CoxSortItem;

/*
 * Sorts n items by stratum, then time descending, then position (the
 * items come in position order): a stable LSD radix sort on the bits of
 * the time (non-negative doubles order as their bit patterns; complemented
 * for descending), bytes that are the same in every item skipped, then a
 * stable counting pass on the stratum.  tmp holds n items.
 */
static void
cox_sort_items(CoxSortItem *items, CoxSortItem *tmp, int n, int nstrata)
{
	uint32	   *hist = palloc0(sizeof(uint32) * 8 * 256);
	CoxSortItem *src = items,
			   *dst = tmp;

	for (int i = 0; i < n; i++)
	{
		uint64		k;

		memcpy(&k, &items[i].t, sizeof(k));
		k = ~k;
		for (int b = 0; b < 8; b++)
			hist[b * 256 + ((k >> (8 * b)) & 0xFF)]++;
	}
	for (int b = 0; b < 8; b++)
	{
		uint32	   *h = hist + b * 256;
		uint32		sum = 0;
		bool		trivial = false;

		for (int d = 0; d < 256; d++)
		{
			uint32		c = h[d];

			if (c == (uint32) n)
				trivial = true;
			h[d] = sum;
			sum += c;
		}
		if (trivial)
			continue;
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
		{
			uint64		k;

			memcpy(&k, &src[i].t, sizeof(k));
			k = ~k;
			dst[h[(k >> (8 * b)) & 0xFF]++] = src[i];
		}
		{
			CoxSortItem *swap = src;

			src = dst;
			dst = swap;
		}
	}
	pfree(hist);
	if (nstrata > 1)
	{
		uint32	   *start = palloc0(sizeof(uint32) * (nstrata + 1));

		for (int i = 0; i < n; i++)
			start[src[i].stratum + 1]++;
		for (int s = 0; s < nstrata; s++)
			start[s + 1] += start[s];
		for (int i = 0; i < n; i++)
			dst[start[src[i].stratum]++] = src[i];
		pfree(start);
		src = dst;
	}
	if (src != items)
		memcpy(items, src, sizeof(CoxSortItem) * n);
}

/*
 * Per event time, what the residuals and the baseline hazard need: the
 * hazard increment h (Efron: the sum over the d steps of meanw / denom_k),
 * its share for the rows that die then (hd, the steps weighted 1 - k/d),
 * and the same weighted by the risk-set means (g, gd), and the mean of the
 * d risk-set means (xe, the event's own centre).
 */
typedef struct CoxTimes
{
	int64		n;
	int64		cap;
	double	   *t;
	double	   *h;
	double	   *hd;
	double	   *g;				/* n x p */
	double	   *gd;
	double	   *xe;
	int32	   *stratum;
} CoxTimes;

/* The rows in the orders of the walk, and the work space of a pass */
typedef struct CoxFit
{
	int			n;
	int			p;				/* all signals; those left out are zeroed */
	bool		efron;
	int			nstrata;
	/* rows by stratum, duration descending */
	double	   *dur;
	double	   *entry;
	double	   *w;
	bool	   *ev;
	int32	   *stratum;
	int32	   *cluster;
	double	   *x;				/* n x p, centred and scaled */
	int		   *sstart;			/* nstrata + 1 */
	/* rows with entry > 0, by stratum, entry descending */
	int			n2;
	double	   *entry2;
	double	   *w2;
	double	   *x2;
	int		   *sstart2;
	/* work */
	double	   *eta;
	double	   *r;
	double	   *s1;
	double	   *s2;
	double	   *d1;
	double	   *d2;
	double	   *a;
} CoxFit;

static void
times_push(CoxTimes *tm, int p, double t, int32 s)
{
	if (tm->n == tm->cap)
	{
		tm->cap = Max(tm->cap * 2, 64);
		if (tm->t == NULL)
		{
			tm->t = palloc_extended(sizeof(double) * tm->cap, MCXT_ALLOC_HUGE);
			tm->h = palloc_extended(sizeof(double) * tm->cap, MCXT_ALLOC_HUGE);
			tm->hd = palloc_extended(sizeof(double) * tm->cap, MCXT_ALLOC_HUGE);
			tm->g = palloc_extended(sizeof(double) * tm->cap * p, MCXT_ALLOC_HUGE);
			tm->gd = palloc_extended(sizeof(double) * tm->cap * p, MCXT_ALLOC_HUGE);
			tm->xe = palloc_extended(sizeof(double) * tm->cap * p, MCXT_ALLOC_HUGE);
			tm->stratum = palloc_extended(sizeof(int32) * tm->cap, MCXT_ALLOC_HUGE);
		}
		else
		{
			tm->t = repalloc_huge(tm->t, sizeof(double) * tm->cap);
			tm->h = repalloc_huge(tm->h, sizeof(double) * tm->cap);
			tm->hd = repalloc_huge(tm->hd, sizeof(double) * tm->cap);
			tm->g = repalloc_huge(tm->g, sizeof(double) * tm->cap * p);
			tm->gd = repalloc_huge(tm->gd, sizeof(double) * tm->cap * p);
			tm->xe = repalloc_huge(tm->xe, sizeof(double) * tm->cap * p);
			tm->stratum = repalloc_huge(tm->stratum, sizeof(int32) * tm->cap);
		}
	}
	tm->t[tm->n] = t;
	tm->h[tm->n] = 0;
	tm->hd[tm->n] = 0;
	memset(tm->g + tm->n * p, 0, sizeof(double) * p);
	memset(tm->gd + tm->n * p, 0, sizeof(double) * p);
	memset(tm->xe + tm->n * p, 0, sizeof(double) * p);
	tm->stratum[tm->n] = s;
	tm->n++;
}

static inline void
risk_add(CoxFit *f, const double *x, double wr, int sign)
{
	int			p = f->p;
	double		swr = sign * wr;

	for (int j = 0; j < p; j++)
	{
		double		v = swr * x[j];

		f->s1[j] += v;
		for (int k = 0; k <= j; k++)
			f->s2[j * p + k] += v * x[k];
	}
}

/*
 * One pass at beta (scaled): the log partial likelihood, and unless u is
 * NULL the score u and information imat (p x p, full); with tm, the
 * per-event-time values of the residuals and the baseline hazard.
 * Returns false when a value is not finite (the step went too far).
 */
static bool
cox_pass(CoxFit *f, const double *beta, double *loglik, double *u, double *imat,
		 CoxTimes *tm)
{
	int			p = f->p;
	double		ll = 0;

	if (u)
	{
		memset(u, 0, sizeof(double) * p);
		memset(imat, 0, sizeof(double) * p * p);
	}
	for (int i = 0; i < f->n; i++)
	{
		double		e = 0;
		const double *x = f->x + (Size) i * p;

		for (int j = 0; j < p; j++)
			e += beta[j] * x[j];
		f->eta[i] = e;
		f->r[i] = exp(e);
	}
	for (int s = 0; s < f->nstrata; s++)
	{
		int			i = f->sstart[s];
		int			iend = f->sstart[s + 1];
		int			j2 = f->sstart2[s];
		int			j2end = f->sstart2[s + 1];
		double		s0 = 0;
		int64		nrisk = 0;

		memset(f->s1, 0, sizeof(double) * p);
		memset(f->s2, 0, sizeof(double) * p * p);
		while (i < iend)
		{
			double		t = f->dur[i];
			int			g0 = i;
			int			ndead = 0;
			double		wdead = 0,
						d0 = 0;

			CHECK_FOR_INTERRUPTS();
			for (; i < iend && f->dur[i] == t; i++)
			{
				double		wr = f->w[i] * f->r[i];

				s0 += wr;
				nrisk++;
				risk_add(f, f->x + (Size) i * p, wr, 1);
			}
			for (; j2 < j2end && f->entry2[j2] >= t; j2++)
			{
				const double *x = f->x2 + (Size) j2 * p;
				double		e = 0;
				double		wr;

				for (int j = 0; j < p; j++)
					e += beta[j] * x[j];
				wr = f->w2[j2] * exp(e);
				s0 -= wr;
				nrisk--;
				risk_add(f, x, wr, -1);
			}
			if (nrisk == 0)
			{
				/* an empty risk set: no rounding left over */
				s0 = 0;
				memset(f->s1, 0, sizeof(double) * p);
				memset(f->s2, 0, sizeof(double) * p * p);
			}
			/* the events at t */
			memset(f->d1, 0, sizeof(double) * p);
			memset(f->d2, 0, sizeof(double) * p * p);
			for (int k = g0; k < i; k++)
			{
				const double *x = f->x + (Size) k * p;
				double		wr;

				if (!f->ev[k])
					continue;
				wr = f->w[k] * f->r[k];
				ndead++;
				wdead += f->w[k];
				d0 += wr;
				ll += f->w[k] * f->eta[k];
				for (int j = 0; j < p; j++)
				{
					if (u)
						u[j] += f->w[k] * x[j];
					f->d1[j] += wr * x[j];
					if (u)
						for (int l = 0; l <= j; l++)
							f->d2[j * p + l] += wr * x[j] * x[l];
				}
			}
			if (ndead == 0)
				continue;
			{
				int			steps = f->efron ? ndead : 1;
				double		meanw = wdead / steps;
				double	   *g = NULL,
						   *gd = NULL,
						   *xe = NULL;

				if (tm)
				{
					times_push(tm, p, t, s);
					g = tm->g + (tm->n - 1) * p;
					gd = tm->gd + (tm->n - 1) * p;
					xe = tm->xe + (tm->n - 1) * p;
				}
				for (int k = 0; k < steps; k++)
				{
					double		frac = f->efron ? (double) k / ndead : 0.0;
					double		denom = s0 - frac * d0;

					if (!(denom > 0) || !isfinite(denom))
						return false;
					ll -= meanw * log(denom);
					for (int j = 0; j < p; j++)
						f->a[j] = (f->s1[j] - frac * f->d1[j]) / denom;
					if (u)
						for (int j = 0; j < p; j++)
						{
							u[j] -= meanw * f->a[j];
							for (int l = 0; l <= j; l++)
								imat[j * p + l] += meanw *
									((f->s2[j * p + l] - frac * f->d2[j * p + l]) / denom -
									 f->a[j] * f->a[l]);
						}
					if (tm)
					{
						double		hk = meanw / denom;

						tm->h[tm->n - 1] += hk;
						tm->hd[tm->n - 1] += (1 - frac) * hk;
						for (int j = 0; j < p; j++)
						{
							g[j] += hk * f->a[j];
							gd[j] += (1 - frac) * hk * f->a[j];
							xe[j] += f->a[j] / steps;
						}
					}
				}
			}
		}
	}
	if (u)
		for (int j = 0; j < p; j++)
			for (int l = 0; l < j; l++)
				imat[l * p + j] = imat[j * p + l];
	*loglik = ll;
	if (!isfinite(ll))
		return false;
	if (u)
		for (int j = 0; j < p; j++)
			if (!isfinite(u[j]))
				return false;
	return true;
}

/*
 * R's cholesky2: LDL' of a symmetric p x p matrix (row-major, in place,
 * lower triangle), a pivot below toler times the largest diagonal element
 * taken as 0 (that column is left out).  Returns the rank.
 */
static int
cox_chol(double *a, int p, double toler)
{
	double		eps = 0;
	int			rank = 0;

	for (int i = 0; i < p; i++)
		if (fabs(a[i * p + i]) > eps)
			eps = fabs(a[i * p + i]);
	eps = eps > 0 ? eps * toler : toler;
	for (int i = 0; i < p; i++)
	{
		double		pivot = a[i * p + i];

		if (!isfinite(pivot) || pivot < eps)
		{
			a[i * p + i] = 0;
			for (int j = i + 1; j < p; j++)
				a[j * p + i] = 0;
			continue;
		}
		rank++;
		for (int j = i + 1; j < p; j++)
		{
			double		temp = a[j * p + i] / pivot;

			a[j * p + j] -= temp * temp * pivot;
			for (int k = j + 1; k < p; k++)
				a[k * p + j] -= temp * a[k * p + i];
			a[j * p + i] = temp;
		}
	}
	return rank;
}

/* Solves with cox_chol's factor: y = A^- b, 0 for the columns left out */
static void
cox_chol_solve(const double *a, int p, double *y)
{
	for (int i = 0; i < p; i++)
		for (int j = 0; j < i; j++)
			y[i] -= a[i * p + j] * y[j];
	for (int i = 0; i < p; i++)
		y[i] = a[i * p + i] == 0 ? 0 : y[i] / a[i * p + i];
	for (int i = p - 1; i >= 0; i--)
	{
		if (a[i * p + i] == 0)
		{
			y[i] = 0;
			continue;
		}
		for (int j = i + 1; j < p; j++)
			y[i] -= a[j * p + i] * y[j];
	}
}

/* The generalized inverse of a factored matrix, into inv (p x p) */
static void
cox_chol_inverse(const double *a, int p, double *inv)
{
	double	   *y = palloc(sizeof(double) * p);

	for (int c = 0; c < p; c++)
	{
		memset(y, 0, sizeof(double) * p);
		y[c] = 1;
		cox_chol_solve(a, p, y);
		for (int r = 0; r < p; r++)
			inv[r * p + c] = y[r];
	}
	pfree(y);
}

/* x' A^- x for a symmetric matrix A, R's coxph.wtest */
static double
cox_wtest(const double *mat, int p, const double *x, double toler)
{
	double	   *a = palloc(sizeof(double) * p * p);
	double	   *y = palloc(sizeof(double) * p);
	double		q = 0;

	memcpy(a, mat, sizeof(double) * p * p);
	memcpy(y, x, sizeof(double) * p);
	cox_chol(a, p, toler);
	cox_chol_solve(a, p, y);
	for (int j = 0; j < p; j++)
		q += x[j] * y[j];
	pfree(a);
	pfree(y);
	return q;
}

/* Last index in t[lo, hi) with t <= v, or lo - 1 */
static int64
times_floor(const double *t, int64 lo, int64 hi, double v)
{
	int64		l = lo,
				h = hi;

	while (l < h)
	{
		int64		mid = l + (h - l) / 2;

		if (t[mid] <= v)
			l = mid + 1;
		else
			h = mid;
	}
	return l - 1;
}

/*
 * The weighted score residuals (R's resid(fit, "score") times the case
 * weights) at the beta of the pass that filled tm, summed per cluster into
 * sums (nclusters x p); or, without clusters (each row its own), each
 * row's residual times var (if not NULL) added as an outer product to out.  tm's times are those of cox_pass, descending per
 * stratum; they are turned into cumulative sums, ascending, here.
 */
static void
cox_score_residuals(CoxFit *f, CoxTimes *tm, const int32 *cluster, double *sums,
					const double *var, double *out)
{
	int			p = f->p;
	int64		m = tm->n;
	int64	   *first = palloc(sizeof(int64) * (f->nstrata + 1));
	double	   *ch = palloc_extended(sizeof(double) * Max(m, 1), MCXT_ALLOC_HUGE);
	double	   *cg = palloc_extended(sizeof(double) * Max(m, 1) * p, MCXT_ALLOC_HUGE);
	double	   *res = palloc(sizeof(double) * p);
	double	   *row = palloc(sizeof(double) * p);
	double	   *d = palloc(sizeof(double) * p);

	if (cluster == NULL)
		memset(out, 0, sizeof(double) * p * p);
	/* reverse each stratum's times to ascending, and cumulate */
	for (int s = 0, k = 0; s <= f->nstrata; s++)
	{
		first[s] = k;
		while (k < m && tm->stratum[k] == s)
			k++;
	}
	for (int s = 0; s < f->nstrata; s++)
	{
		int64		lo = first[s],
					hi = first[s + 1] - 1;

		for (; lo < hi; lo++, hi--)
		{
			double		tmp;

#define SWAPD(arr, a, b) (tmp = (arr)[a], (arr)[a] = (arr)[b], (arr)[b] = tmp)
			SWAPD(tm->t, lo, hi);
			SWAPD(tm->h, lo, hi);
			SWAPD(tm->hd, lo, hi);
			for (int j = 0; j < p; j++)
			{
				SWAPD(tm->g, lo * p + j, hi * p + j);
				SWAPD(tm->gd, lo * p + j, hi * p + j);
				SWAPD(tm->xe, lo * p + j, hi * p + j);
			}
#undef SWAPD
		}
	}
	for (int s = 0; s < f->nstrata; s++)
		for (int64 k = first[s]; k < first[s + 1]; k++)
		{
			ch[k] = tm->h[k] + (k > first[s] ? ch[k - 1] : 0);
			for (int j = 0; j < p; j++)
				cg[k * p + j] = tm->g[k * p + j] + (k > first[s] ? cg[(k - 1) * p + j] : 0);
		}
	for (int i = 0; i < f->n; i++)
	{
		int			s = f->stratum[i];
		int64		it = times_floor(tm->t, first[s], first[s + 1], f->dur[i]);
		int64		ie = f->entry[i] > 0 ?
			times_floor(tm->t, first[s], first[s + 1], f->entry[i]) : first[s] - 1;
		const double *x = f->x + (Size) i * p;
		double		h = 0;
		double	   *c = cluster ? sums + (Size) cluster[i] * p : row;

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		if (it >= first[s])
		{
			h = ch[it] - (ie >= first[s] ? ch[ie] : 0);
			for (int j = 0; j < p; j++)
				res[j] = -(cg[it * p + j] - (ie >= first[s] ? cg[ie * p + j] : 0));
		}
		else
			memset(res, 0, sizeof(double) * p);
		if (f->ev[i])
		{
			/* the death's own time: its share of the Efron steps */
			h += tm->hd[it] - tm->h[it];
			for (int j = 0; j < p; j++)
				res[j] -= tm->gd[it * p + j] - tm->g[it * p + j];
		}
		for (int j = 0; j < p; j++)
		{
			double		sc = -f->r[i] * (x[j] * h + res[j]);

			if (f->ev[i])
				sc += x[j] - tm->xe[it * p + j];
			if (cluster)
				c[j] += f->w[i] * sc;
			else
				c[j] = f->w[i] * sc;
		}
		if (cluster == NULL)
		{
			const double *v = row;

			if (var)
			{
				for (int j = 0; j < p; j++)
				{
					d[j] = 0;
					for (int k = 0; k < p; k++)
						d[j] += row[k] * var[k * p + j];
				}
				v = d;
			}
			for (int j = 0; j < p; j++)
				for (int k = 0; k <= j; k++)
					out[j * p + k] += v[j] * v[k];
		}
	}
	if (cluster == NULL)
		for (int j = 0; j < p; j++)
			for (int k = 0; k < j; k++)
				out[k * p + j] = out[j * p + k];
	pfree(row);
	pfree(d);
	pfree(first);
	pfree(ch);
	pfree(cg);
	pfree(res);
}

/* sum over clusters of the outer products of rows of sums (nc x p) */
static void
crossprod(const double *sums, int64 nc, int p, double *out)
{
	memset(out, 0, sizeof(double) * p * p);
	for (int64 c = 0; c < nc; c++)
	{
		const double *d = sums + c * p;

		for (int j = 0; j < p; j++)
			for (int k = 0; k <= j; k++)
				out[j * p + k] += d[j] * d[k];
	}
	for (int j = 0; j < p; j++)
		for (int k = 0; k < j; k++)
			out[k * p + j] = out[j * p + k];
}

pg_noreturn static void
cox_infinite(int signal)
{
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("cox_fit: the coefficient of signal %d may be infinite", signal),
			 errdetail("The partial likelihood keeps rising as the coefficient grows without bound (R's \"coefficient may be infinite\"): the signal separates the accounts that churned from the others."),
			 errhint("Leave the signal out, or bin it so that every bin has both outcomes.")));
}

static int
strcmp_nullable(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

static const CoxNames *sort_names;

static int
name_order_cmp(const void *a, const void *b)
{
	int32		i = *(const int32 *) a;
	int32		j = *(const int32 *) b;

	return strcmp_nullable(sort_names->name[i], sort_names->name[j]);
}

/* ---------- R's timefix ---------- */

/*
 * The times of a fit as R's coxph(timefix = TRUE), its default, sees them
 * (survival's aeqSurv): the distinct times, in ascending order, of every
 * duration and every entry > 0 (entry 0 is "observed from the start", not
 * a time: such a row counts as in the one-row-per-account form); two
 * neighbours that differ by at most sqrt(DBL_EPSILON), or by at most that
 * times the mean of the distinct times (all.equal's tolerance), are one
 * time, the first of the run: cut[i] is the time y[i] stands for.
 */
typedef struct CoxTimefix
{
	int64		n;				/* distinct times */
	double	   *y;				/* ascending */
	double	   *cut;			/* the time y[i] is merged into */
} CoxTimefix;

/*
 * Sorts n non-negative doubles ascending: LSD radix on their bit patterns
 * (which order as the values do), bytes that are the same in every value
 * skipped.  tmp holds n values.
 */
static void
cox_sort_times(double *v, double *tmp, int64 n)
{
	uint32	   *hist = palloc0(sizeof(uint32) * 8 * 256);
	double	   *src = v,
			   *dst = tmp;

	for (int64 i = 0; i < n; i++)
	{
		uint64		k;

		memcpy(&k, &v[i], sizeof(k));
		for (int b = 0; b < 8; b++)
			hist[b * 256 + ((k >> (8 * b)) & 0xFF)]++;
	}
	for (int b = 0; b < 8; b++)
	{
		uint32	   *h = hist + b * 256;
		uint32		sum = 0;
		bool		trivial = false;

		for (int d = 0; d < 256; d++)
		{
			uint32		c = h[d];

			if (c == (uint32) n)
				trivial = true;
			h[d] = sum;
			sum += c;
		}
		if (trivial)
			continue;
		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < n; i++)
		{
			uint64		k;

			memcpy(&k, &src[i], sizeof(k));
			dst[h[(k >> (8 * b)) & 0xFF]++] = src[i];
		}
		{
			double	   *swap = src;

			src = dst;
			dst = swap;
		}
	}
	pfree(hist);
	if (src != v)
		memcpy(v, src, sizeof(double) * n);
}

/*
 * The distinct times of the rows and what each stands for; false (and tf
 * left empty) when no two are near-tied, as aeqSurv then returns the times
 * unchanged.  One sort of the times: O(n log n) with a radix sort's n.
 */
static bool
cox_timefix_build(const CoxFitState *st, CoxTimefix *tf)
{
	const double tol = sqrt(DBL_EPSILON);
	int64		m = 0;
	double	   *v,
			   *tmp;
	CsSum		sum = {0, 0};
	double		mean;
	bool		any = false;

	memset(tf, 0, sizeof(*tf));
	v = palloc_extended(sizeof(double) * Max(2 * st->nrows, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < st->nrows; i++)
	{
		const double *row = st->rows + (Size) i * st->width;

		v[m++] = row[R_DUR];
		if (row[R_ENTRY] > 0)
			v[m++] = row[R_ENTRY];
	}
	tmp = palloc_extended(sizeof(double) * Max(m, 1), MCXT_ALLOC_HUGE);
	cox_sort_times(v, tmp, m);
	pfree(tmp);
	/* distinct, in place */
	{
		int64		u = 0;

		for (int64 i = 0; i < m; i++)
			if (u == 0 || v[i] != v[u - 1])
				v[u++] = v[i];
		m = u;
	}
	for (int64 i = 0; i < m; i++)
		cs_sum_add(&sum, v[i]);
	mean = m > 0 ? cs_sum_value(&sum) / m : 0;
	tf->cut = palloc_extended(sizeof(double) * Max(m, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < m; i++)
	{
		double		dy = i > 0 ? v[i] - v[i - 1] : 0;

		if (i > 0 && (dy <= tol || dy / mean <= tol))
		{
			tf->cut[i] = tf->cut[i - 1];
			any = true;
		}
		else
			tf->cut[i] = v[i];
	}
	if (!any)
	{
		pfree(v);
		pfree(tf->cut);
		tf->cut = NULL;
		return false;
	}
	tf->n = m;
	tf->y = v;
	return true;
}

/* The time t (one of the rows' times) as the fit sees it */
static inline double
cox_timefix_map(const CoxTimefix *tf, double t)
{
	int64		lo = 0,
				hi = tf->n - 1;

	if (tf->cut == NULL)
		return t;
	while (lo < hi)
	{
		int64		mid = lo + (hi - lo + 1) / 2;

		if (tf->y[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return tf->cut[lo];
}

pg_noreturn static void
cox_zero_interval(double entry, double duration)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cox_fit: entry %.17g and duration %.17g are one time", entry, duration),
			 errdetail("Times that differ by less than %g (relative) are tied, as in R's coxph (timefix = TRUE): the row would be at risk for no time.",
					   sqrt(DBL_EPSILON)),
			 errhint("Round the times, or leave the row out.")));
}

/* The model of a state's rows; NULL without a row or an event */
static CoxModel *
cox_fit_model(const CoxFitState *st)
{
	CoxFit		f;
	int			p;
	int			n;
	int			nstrata = 1;
	int32	   *smap = NULL;		/* state stratum number -> sorted */
	int32	   *sorder = NULL;		/* sorted -> state number */
	CoxSortItem *items;
	CoxSortItem *sorttmp;
	CsSum	   *msum;
	CsSum		wsum = {0, 0};
	bool	   *nocenter;
	double	   *means,
			   *umeans,
			   *scale;
	int64		nevent = 0;
	bool		whole = true;
	bool		has_cluster = false;
	int64		nclusters;
	int32	   *cluster;
	double	   *beta,
			   *newbeta,
			   *u,
			   *imat,
			   *u0,
			   *var,
			   *rvar,
			   *work;
	double		ll0,
				ll,
				newll,
				sctest;
	int			iter = 0;
	bool		converged = false;
	bool	   *dropped;
	int			kept = 0;
	double		toler = pow(DBL_EPSILON, 0.75);
	CoxTimes	tm = {0};
	double	   *csum = NULL;
	CoxModel   *m;
	double		rscore = NAN;
	bool		robust;
	CoxData		cd;
	double	   *xk,
			   *lp,
			   *betak,
			   *vark,
			   *zchi;
	int		   *zdf;
	double		conc,
				conc_se;
	int			names_len = 0;
	int64		ntimes;
	CoxTimefix	tfix;

	if (st == NULL || st->nrows == 0)
		return NULL;
	p = st->p;
	if (st->nrows > PG_INT32_MAX / 2)
		cox_state_too_large(st->width);
	n = (int) st->nrows;
	for (int i = 0; i < n; i++)
		nevent += st->rows[(Size) i * st->width + R_EVENT] != 0;
	if (nevent == 0)
		return NULL;

	/* strata in the order of their names, NULL last */
	if (st->form == FORM_FULL)
	{
		nstrata = st->strata.n;
		sorder = palloc(sizeof(int32) * nstrata);
		smap = palloc(sizeof(int32) * nstrata);
		for (int i = 0; i < nstrata; i++)
			sorder[i] = i;
		sort_names = &st->strata;
		qsort(sorder, nstrata, sizeof(int32), name_order_cmp);
		for (int i = 0; i < nstrata; i++)
			smap[sorder[i]] = i;
	}

	/*
	 * weighted means and R's scale (1 / weighted mean absolute deviation),
	 * which the fit centres and scales on; R's fit$means, the plain column
	 * means.  One pass over the rows for each.
	 */
	msum = palloc0(sizeof(CsSum) * 2 * p);
	means = palloc(sizeof(double) * p);
	umeans = palloc(sizeof(double) * p);
	scale = palloc(sizeof(double) * p);
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		double		w = row[R_WEIGHT];

		cs_sum_add(&wsum, w);
		if (w != floor(w))
			whole = false;
		for (int j = 0; j < p; j++)
		{
			cs_sum_add(&msum[j], w * row[R_X + j]);
			cs_sum_add(&msum[p + j], row[R_X + j]);
		}
	}
	/*
	 * R leaves a signal whose values are all -1, 0 or 1 uncentred and
	 * unscaled, and reports its mean as 0 (coxph's nocenter)
	 */
	nocenter = palloc(sizeof(bool) * p);
	for (int j = 0; j < p; j++)
		nocenter[j] = true;
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width + R_X;

		for (int j = 0; j < p; j++)
			if (row[j] != 0 && row[j] != 1 && row[j] != -1)
				nocenter[j] = false;
	}
	for (int j = 0; j < p; j++)
	{
		means[j] = nocenter[j] ? 0 : cs_sum_value(&msum[j]) / cs_sum_value(&wsum);
		umeans[j] = nocenter[j] ? 0 : cs_sum_value(&msum[p + j]) / n;
	}
	memset(msum, 0, sizeof(CsSum) * p);
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;

		for (int j = 0; j < p; j++)
			cs_sum_add(&msum[j], row[R_WEIGHT] * fabs(row[R_X + j] - means[j]));
	}
	for (int j = 0; j < p; j++)
	{
		double		v = cs_sum_value(&msum[j]);

		scale[j] = v > 0 && !nocenter[j] ? cs_sum_value(&wsum) / v : 1.0;
	}

	/* near-tied times as one (R's timefix) */
	cox_timefix_build(st, &tfix);

	/* the rows by stratum and duration descending */
	items = palloc_extended(sizeof(CoxSortItem) * Max(n, 1), MCXT_ALLOC_HUGE);
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		int32		s = 0,
					c;

		if (st->form == FORM_FULL)
		{
			row_get_ids(row + R_X + p, &s, &c);
			s = smap[s];
		}
		items[i].t = cox_timefix_map(&tfix, row[R_DUR]);
		items[i].stratum = s;
		items[i].pos = i;
	}
	sorttmp = palloc_extended(sizeof(CoxSortItem) * Max(n, 1), MCXT_ALLOC_HUGE);
	cox_sort_items(items, sorttmp, n, nstrata);

	memset(&f, 0, sizeof(f));
	f.n = n;
	f.p = p;
	f.efron = st->ties != TIES_BRESLOW;
	f.nstrata = nstrata;
	f.dur = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.entry = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.w = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.ev = palloc_extended(sizeof(bool) * n, MCXT_ALLOC_HUGE);
	f.stratum = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
	cluster = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
	f.x = palloc_extended(sizeof(double) * n * p, MCXT_ALLOC_HUGE);
	f.sstart = palloc0(sizeof(int) * (nstrata + 1));
	f.sstart2 = palloc0(sizeof(int) * (nstrata + 1));
	f.n2 = 0;
	nclusters = st->form == FORM_FULL ? st->clusters.n : 0;
	for (int k = 0; k < n; k++)
	{
		const double *row = st->rows + (Size) items[k].pos * st->width;
		int32		s,
					c = -1;

		/* the rows are read in sorted order: fetch ahead of the reads */
		if (k + COX_PREFETCH < n)
		{
			const double *ahead = st->rows + (Size) items[k + COX_PREFETCH].pos * st->width;

			cox_prefetch(ahead);
			cox_prefetch(ahead + st->width - 1);
		}

		if ((k & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		f.dur[k] = items[k].t;
		f.entry[k] = row[R_ENTRY] > 0 ? cox_timefix_map(&tfix, row[R_ENTRY]) : 0.0;
		if (unlikely(row[R_ENTRY] > 0 && !(f.entry[k] < f.dur[k])))
			cox_zero_interval(row[R_ENTRY], row[R_DUR]);
		f.w[k] = row[R_WEIGHT];
		f.ev[k] = row[R_EVENT] != 0;
		f.stratum[k] = items[k].stratum;
		if (st->form == FORM_FULL)
			row_get_ids(row + R_X + p, &s, &c);
		if (c >= 0)
			has_cluster = true;
		/* no cluster: a cluster of its own */
		cluster[k] = c >= 0 ? c : (int32) nclusters++;
		for (int j = 0; j < p; j++)
			f.x[(Size) k * p + j] = (row[R_X + j] - means[j]) * scale[j];
		f.sstart[items[k].stratum + 1]++;
		if (f.entry[k] > 0)
			f.n2++;
	}
	for (int s = 0; s < nstrata; s++)
		f.sstart[s + 1] += f.sstart[s];

	/* late entries by stratum and entry descending: positions in f */
	{
		int			k2 = 0;

		for (int k = 0; k < n; k++)
			if (f.entry[k] > 0)
			{
				items[k2].t = f.entry[k];
				items[k2].stratum = f.stratum[k];
				items[k2].pos = k;
				k2++;
			}
		cox_sort_items(items, sorttmp, k2, nstrata);
		f.entry2 = palloc_extended(sizeof(double) * Max(k2, 1), MCXT_ALLOC_HUGE);
		f.w2 = palloc_extended(sizeof(double) * Max(k2, 1), MCXT_ALLOC_HUGE);
		f.x2 = palloc_extended(sizeof(double) * Max(k2, 1) * p, MCXT_ALLOC_HUGE);
		for (int k = 0; k < k2; k++)
		{
			f.entry2[k] = items[k].t;
			f.w2[k] = f.w[items[k].pos];
			if (k + COX_PREFETCH < k2)
			{
				cox_prefetch(f.x + (Size) items[k + COX_PREFETCH].pos * p);
				cox_prefetch(f.x + (Size) items[k + COX_PREFETCH].pos * p + p - 1);
			}
			memcpy(f.x2 + (Size) k * p, f.x + (Size) items[k].pos * p, sizeof(double) * p);
			f.sstart2[items[k].stratum + 1]++;
		}
		for (int s = 0; s < nstrata; s++)
			f.sstart2[s + 1] += f.sstart2[s];
	}
	pfree(items);
	pfree(sorttmp);
	f.eta = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.r = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.s1 = palloc(sizeof(double) * p);
	f.s2 = palloc(sizeof(double) * p * p);
	f.d1 = palloc(sizeof(double) * p);
	f.d2 = palloc(sizeof(double) * p * p);
	f.a = palloc(sizeof(double) * p);

	beta = palloc0(sizeof(double) * p);
	newbeta = palloc0(sizeof(double) * p);
	u = palloc(sizeof(double) * p);
	u0 = palloc(sizeof(double) * p);
	imat = palloc(sizeof(double) * p * p);
	work = palloc(sizeof(double) * p * p);
	var = palloc(sizeof(double) * p * p);
	rvar = palloc(sizeof(double) * p * p);
	dropped = palloc0(sizeof(bool) * p);

	/* at beta = 0: the null log-likelihood, the score test, collinearity */
	if (!cox_pass(&f, beta, &ll0, u, imat, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cox_fit: the partial likelihood is out of range at 0"),
				 errdetail("Weights or signals are too large.")));
	memcpy(u0, u, sizeof(double) * p);
	memcpy(work, imat, sizeof(double) * p * p);
	cox_chol(work, p, toler);
	for (int j = 0; j < p; j++)
	{
		dropped[j] = work[j * p + j] == 0;
		if (!dropped[j])
			kept++;
	}
	if (kept == 0)
		return NULL;			/* every signal constant: nothing to fit */
	if (kept < p)
	{
		/* a signal left out is 0 in every row: its pivot stays 0 */
		for (int i = 0; i < n; i++)
			for (int j = 0; j < p; j++)
				if (dropped[j])
					f.x[(Size) i * p + j] = 0;
		for (int i = 0; i < f.n2; i++)
			for (int j = 0; j < p; j++)
				if (dropped[j])
					f.x2[(Size) i * p + j] = 0;
		for (int j = 0; j < p; j++)
			if (dropped[j])
				u0[j] = u[j] = 0;
	}
	memcpy(newbeta, u, sizeof(double) * p);
	cox_chol_solve(work, p, newbeta);
	sctest = 0;
	for (int j = 0; j < p; j++)
		sctest += u[j] * newbeta[j];
	ll = ll0;

	/* Newton-Raphson with step halving, as R's coxfit6/agfit4 */
	for (iter = 1; iter <= COX_MAX_ITER; iter++)
	{
		bool		ok;

		/* the event times of the pass that converges are those kept */
		tm.n = 0;
		ok = cox_pass(&f, newbeta, &newll, u, imat, &tm);

		if (ok)
		{
			memcpy(work, imat, sizeof(double) * p * p);
			cox_chol(work, p, toler);
		}
		if (ok && (newll == ll || fabs(1 - ll / newll) <= COX_EPS))
		{
			converged = true;
			memcpy(beta, newbeta, sizeof(double) * p);
			ll = newll;
			break;
		}
		if (!ok || newll < ll)
		{
			for (int j = 0; j < p; j++)
				newbeta[j] = (beta[j] + newbeta[j]) / 2;
		}
		else
		{
			ll = newll;
			memcpy(beta, newbeta, sizeof(double) * p);
			memcpy(newbeta, u, sizeof(double) * p);
			cox_chol_solve(work, p, newbeta);
			for (int j = 0; j < p; j++)
				newbeta[j] += beta[j];
		}
	}
	/*
	 * Converged: u, imat (factored in work), the linear predictor and the
	 * event times are those of the last pass, at beta.  Otherwise back to
	 * the last accepted beta, for the check below to name a signal.
	 */
	if (!converged)
	{
		tm.n = 0;
		if (!cox_pass(&f, beta, &ll, u, imat, &tm))
			elog(ERROR, "cox_fit: the last accepted step is not finite");
		memcpy(work, imat, sizeof(double) * p * p);
		cox_chol(work, p, toler);
	}
	cox_chol_inverse(work, p, var);
	{
		/* R's check: a Newton step still large where the likelihood stopped */
		double		step[COX_MAX_SIGNALS];
		int			worst = -1;
		double		worst_v = 0;

		memcpy(step, u, sizeof(double) * p);
		cox_chol_solve(work, p, step);
		for (int j = 0; j < p; j++)
		{
			double		sj = fabs(step[j]);
			double		bj = fabs(beta[j]);

			if (dropped[j])
				continue;
			/* the information of a diverging coefficient vanishes */
			if (work[j * p + j] == 0)
			{
				worst = j;
				break;
			}
			if (!converged || (sj > 1e-9 && sj > sqrt(1e-9) * bj))
			{
				double		v = sj / Max(bj, 1) + bj;

				if (worst < 0 || v > worst_v)
				{
					worst = j;
					worst_v = v;
				}
			}
		}
		if (worst >= 0)
			cox_infinite(worst + 1);
	}

	/* the robust variance: dfbeta residuals summed per cluster */
	robust = has_cluster || !whole;
	if (has_cluster)
	{
		csum = palloc_extended(sizeof(double) * nclusters * p, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		cox_score_residuals(&f, &tm, cluster, csum, NULL, NULL);
		for (int64 c = 0; c < nclusters; c++)
		{
			double		d[COX_MAX_SIGNALS];

			for (int j = 0; j < p; j++)
			{
				d[j] = 0;
				for (int k = 0; k < p; k++)
					d[j] += csum[c * p + k] * var[k * p + j];
			}
			memcpy(csum + c * p, d, sizeof(double) * p);
		}
		crossprod(csum, nclusters, p, rvar);
	}
	else
		cox_score_residuals(&f, &tm, NULL, NULL, var, rvar);

	/*
	 * The statistics of cox_stats.c on the rows as fitted, in the centred and
	 * scaled signals of the fit with its beta and variance (concordance and
	 * cox.zph's test do not change with that), only the signals kept; the
	 * linear predictor is that of the last pass.
	 */
	zchi = palloc(sizeof(double) * (kept + 1));
	zdf = palloc(sizeof(int) * (kept + 1));
	if (kept == p)
	{
		xk = f.x;
		betak = beta;
		vark = var;
	}
	else
	{
		betak = palloc(sizeof(double) * kept);
		vark = palloc(sizeof(double) * kept * kept);
		xk = palloc_extended(sizeof(double) * n * kept, MCXT_ALLOC_HUGE);
		for (int j = 0, jj = 0; j < p; j++)
		{
			if (dropped[j])
				continue;
			betak[jj] = beta[j];
			for (int k = 0, kk = 0; k < p; k++)
			{
				if (dropped[k])
					continue;
				vark[jj * kept + kk] = var[j * p + k];
				kk++;
			}
			jj++;
		}
		for (int i = 0; i < n; i++)
			for (int j = 0, jj = 0; j < p; j++)
				if (!dropped[j])
					xk[(Size) i * kept + jj++] = f.x[(Size) i * p + j];
	}
	lp = f.eta;
	memset(&cd, 0, sizeof(cd));
	cd.n = n;
	cd.p = kept;
	cd.entry = st->form == FORM_SIMPLE ? NULL : f.entry;
	cd.duration = f.dur;
	cd.event = f.ev;
	cd.weight = st->form == FORM_FULL ? f.w : NULL;
	cd.stratum = st->form == FORM_FULL ? f.stratum : NULL;
	cd.nstrata = nstrata;
	cd.cluster = has_cluster ? cluster : NULL;
	cd.nclusters = has_cluster ? (int) nclusters : 0;
	cd.x = xk;
	cd.efron = f.efron;
	cox_concordance(&cd, lp, &conc, &conc_se);
	cox_zph(&cd, betak, vark, zchi, zdf);

	if (robust)
	{
		/* the robust score test: score residuals at beta = 0 */
		CoxTimes	tm0 = {0};
		double		l;
		double	   *rs = palloc(sizeof(double) * p * p);

		memset(newbeta, 0, sizeof(double) * p);
		cox_pass(&f, newbeta, &l, NULL, NULL, &tm0);
		if (has_cluster)
		{
			memset(csum, 0, sizeof(double) * nclusters * p);
			cox_score_residuals(&f, &tm0, cluster, csum, NULL, NULL);
			crossprod(csum, nclusters, p, rs);
		}
		else
			cox_score_residuals(&f, &tm0, NULL, NULL, NULL, rs);
		rscore = cox_wtest(rs, p, u0, toler);
	}

	/* the model */
	ntimes = tm.n;
	if (st->form == FORM_FULL)
		for (int s = 0; s < nstrata; s++)
		{
			int32		k = sorder[s];

			names_len += 1 + (st->strata.name[k] ? st->strata.len[k] + 1 : 0);
		}
	else
		names_len = 1;
	if (ntimes > PG_INT32_MAX / 16)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: the model would be too large to store")));
	m = model_alloc(p, nstrata, (int) ntimes, names_len);
	m->iterations = Min(iter, COX_MAX_ITER);
	m->ties = f.efron ? TIES_EFRON : TIES_BRESLOW;
	m->robust = robust;
	m->stratified = st->form == FORM_FULL;
	m->n = n;
	m->nevent = nevent;
	m->loglik0 = ll0;
	m->loglik = ll;
	m->score = sctest;
	m->robust_score = robust ? rscore : NAN;
	m->concordance = conc;
	m->concordance_se = conc_se;
	{
		/* Wald test on the variance R reports (robust where it is) */
		double		vb[COX_MAX_SIGNALS];
		double	   *v = palloc(sizeof(double) * p * p);

		for (int j = 0; j < p; j++)
		{
			vb[j] = beta[j];
			for (int k = 0; k < p; k++)
				v[j * p + k] = robust ? rvar[j * p + k] : var[j * p + k];
		}
		m->wald = cox_wtest(v, p, vb, toler);
	}
	for (int j = 0, jj = 0; j < p; j++)
	{
		M_MEANS(m)[j] = umeans[j];
		if (dropped[j])
		{
			M_COEF(m)[j] = M_SE(m)[j] = M_RSE(m)[j] = M_ZCHI(m)[j] = M_ZDF(m)[j] = NAN;
			continue;
		}
		M_COEF(m)[j] = beta[j] * scale[j];
		M_SE(m)[j] = sqrt(var[j * p + j]) * scale[j];
		M_RSE(m)[j] = sqrt(rvar[j * p + j]) * scale[j];
		M_ZCHI(m)[j] = zchi[jj];
		M_ZDF(m)[j] = zdf[jj];
		jj++;
	}
	M_ZCHI(m)[p] = zchi[kept];
	M_ZDF(m)[p] = zdf[kept];
	/*
	 * the cumulative hazard at R's means (tm is ascending per stratum now;
	 * it is at the weighted means the fit centred on)
	 */
	{
		char	   *nm = M_NAMES(m);
		int64		k = 0;
		double		shift = 0;

		for (int j = 0; j < p; j++)
			if (!dropped[j])
				shift += beta[j] * scale[j] * (umeans[j] - means[j]);
		shift = exp(shift);

		for (int s = 0; s < nstrata; s++)
		{
			int32		cnt = 0;
			double		h = 0;

			for (; k < ntimes && tm.stratum[k] == s; k++)
			{
				h += tm.h[k];
				M_TIMES(m)[k] = tm.t[k];
				M_CUMHAZ(m)[k] = h * shift;
				cnt++;
			}
			M_STIMES(m)[s] = cnt;
			if (st->form == FORM_FULL && st->strata.name[sorder[s]] != NULL)
			{
				*nm++ = 0;
				memcpy(nm, st->strata.name[sorder[s]], st->strata.len[sorder[s]] + 1);
				nm += st->strata.len[sorder[s]] + 1;
			}
			else
				*nm++ = 1;
		}
	}
	{
		CsParse		ps;

		cs_parse_init_binary(&ps, COX_TYPE);
		model_validate(&ps, m, NULL);
	}
	return m;
}

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

/* ---------- cox_model I/O ---------- */

/* {a,b,...} of doubles, NULL for NaN where allowed; n values expected */
static void
parse_list(CsParse *ps, const char *key, double *v, int n, bool nulls)
{
	if (key)
		cs_parse_key(ps, key);
	cs_parse_char(ps, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			cs_parse_char(ps, ',');
		while (isspace((unsigned char) *ps->p))
			ps->p++;
		if (nulls && strncmp(ps->p, "NULL", 4) == 0)
		{
			ps->p += 4;
			v[i] = NAN;
		}
		else
			v[i] = cs_parse_double(ps) + 0.0;
	}
	cs_parse_char(ps, '}');
}

static void
append_list(StringInfo buf, const char *key, const double *v, int n)
{
	if (key)
		appendStringInfo(buf, " %s=", key);
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		if (isnan(v[i]))
			appendStringInfoString(buf, "NULL");
		else
			cs_append_double(buf, v[i]);
	}
	appendStringInfoChar(buf, '}');
}

/* a double or NULL */
static double
parse_nullable(CsParse *ps, const char *key)
{
	cs_parse_key(ps, key);
	while (isspace((unsigned char) *ps->p))
		ps->p++;
	if (strncmp(ps->p, "NULL", 4) == 0)
	{
		ps->p += 4;
		return NAN;
	}
	return cs_parse_double(ps) + 0.0;
}

static void
append_nullable(StringInfo buf, const char *key, double v)
{
	appendStringInfo(buf, " %s=", key);
	if (isnan(v))
		appendStringInfoString(buf, "NULL");
	else
		cs_append_double(buf, v);
}

/* a count of the text form, counted before parsing the lists */
static int64
parse_int_in(CsParse *ps, const char *key, int64 lo, int64 hi)
{
	int64		v;

	cs_parse_key(ps, key);
	v = cs_parse_int64(ps);
	if (v < lo || v > hi)
		cs_parse_fail(ps, "\"%s\" must be between " INT64_FORMAT " and " INT64_FORMAT ".",
					  key, lo, hi);
	return v;
}

PG_FUNCTION_INFO_V1(cox_model_in);
Datum
cox_model_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	CsParse		ps;
	CoxModel	h;
	CoxModel   *m;
	double	   *data;
	double	   *times;
	double	   *cumhaz;
	int32	   *stimes;
	StringInfoData names;
	int			cap = 8;
	int			ntcap = 64;
	const char *tiestr;

	memset(&h, 0, sizeof(h));
	cs_parse_init_text(&ps, COX_TYPE, text);
	cs_parse_version(&ps);
	cs_parse_key(&ps, "ties");
	tiestr = ps.p;
	if (strncmp(tiestr, "efron", 5) == 0)
	{
		h.ties = TIES_EFRON;
		ps.p += 5;
	}
	else if (strncmp(tiestr, "breslow", 7) == 0)
	{
		h.ties = TIES_BRESLOW;
		ps.p += 7;
	}
	else
		cs_parse_fail(&ps, "ties must be efron or breslow.");
	h.robust = parse_int_in(&ps, "robust", 0, 1);
	h.stratified = parse_int_in(&ps, "stratified", 0, 1);
	h.p = parse_int_in(&ps, "signals", 1, COX_MAX_SIGNALS);
	h.n = parse_int_in(&ps, "n", 1, PG_INT64_MAX);
	h.nevent = parse_int_in(&ps, "events", 1, PG_INT64_MAX);
	h.iterations = parse_int_in(&ps, "iterations", 0, COX_MAX_ITER);
	cs_parse_key(&ps, "loglik");
	cs_parse_char(&ps, '{');
	h.loglik0 = cs_parse_double(&ps) + 0.0;
	cs_parse_char(&ps, ',');
	h.loglik = cs_parse_double(&ps) + 0.0;
	cs_parse_char(&ps, '}');
	cs_parse_key(&ps, "wald");
	h.wald = cs_parse_double(&ps) + 0.0;
	cs_parse_key(&ps, "score");
	h.score = cs_parse_double(&ps) + 0.0;
	h.robust_score = parse_nullable(&ps, "robust_score");
	h.concordance = parse_nullable(&ps, "concordance");
	h.concordance_se = parse_nullable(&ps, "concordance_std_error");
	data = palloc(sizeof(double) * (6 * h.p + 2));
	parse_list(&ps, "coefficients", data, h.p, true);
	parse_list(&ps, "std_errors", data + h.p, h.p, true);
	parse_list(&ps, "robust_std_errors", data + 2 * h.p, h.p, true);
	parse_list(&ps, "means", data + 3 * h.p, h.p, false);
	parse_list(&ps, "ph_chisq", data + 4 * h.p, h.p + 1, true);
	parse_list(&ps, "ph_df", data + 5 * h.p + 1, h.p + 1, true);

	/* strata=[NULL {t,..} {H,..}; "name" {..} {..}] */
	cs_parse_key(&ps, "strata");
	cs_parse_char(&ps, '[');
	initStringInfo(&names);
	stimes = palloc(sizeof(int32) * cap);
	times = palloc(sizeof(double) * ntcap);
	cumhaz = palloc(sizeof(double) * ntcap);
	do
	{
		int			k = 0;

		if (h.nstrata == cap)
		{
			if (cap > 1 << 24)
				cs_parse_fail(&ps, "Too many strata.");
			cap *= 2;
			stimes = repalloc(stimes, sizeof(int32) * cap);
		}
		while (isspace((unsigned char) *ps.p))
			ps.p++;
		if (strncmp(ps.p, "NULL", 4) == 0)
		{
			ps.p += 4;
			appendStringInfoChar(&names, 1);
		}
		else
		{
			cs_parse_char(&ps, '"');
			appendStringInfoChar(&names, 0);
			while (*ps.p != '"')
			{
				if (*ps.p == '\0')
					cs_parse_fail(&ps, "Unterminated stratum name.");
				if (*ps.p == '\\')
				{
					ps.p++;
					if (*ps.p == '\0')
						cs_parse_fail(&ps, "Unterminated stratum name.");
				}
				appendStringInfoChar(&names, *ps.p++);
			}
			ps.p++;
			appendStringInfoChar(&names, '\0');
		}
		/* times, then as many cumulative hazards */
		cs_parse_char(&ps, '{');
		if (!cs_parse_peek(&ps, '}'))
		{
			do
			{
				if (h.ntimes + k == ntcap)
				{
					if (ntcap > (int) (MaxAllocSize / 32))
						cs_parse_fail(&ps, "Too many event times.");
					ntcap *= 2;
					times = repalloc(times, sizeof(double) * ntcap);
					cumhaz = repalloc(cumhaz, sizeof(double) * ntcap);
				}
				times[h.ntimes + k++] = cs_parse_double(&ps) + 0.0;
			} while (cs_parse_peek(&ps, ','));
			cs_parse_char(&ps, '}');
		}
		if (k > 0)
			parse_list(&ps, NULL, cumhaz + h.ntimes, k, false);
		else
		{
			cs_parse_char(&ps, '{');
			cs_parse_char(&ps, '}');
		}
		stimes[h.nstrata++] = k;
		h.ntimes += k;
	} while (cs_parse_peek(&ps, ';'));
	cs_parse_char(&ps, ']');
	cs_parse_end(&ps);
	if (names.len > (int) (MaxAllocSize / 2))
		cs_parse_fail(&ps, "Stratum names are too long.");

	m = model_alloc(h.p, h.nstrata, h.ntimes, names.len);
	memcpy(m, &h, offsetof(CoxModel, data));
	SET_VARSIZE(m, model_bytes(h.p, h.nstrata, h.ntimes, names.len));
	m->version = CS_SUMMARY_VERSION;
	m->names_len = names.len;
	memcpy(m->data, data, sizeof(double) * (6 * h.p + 2));
	memcpy(M_TIMES(m), times, sizeof(double) * h.ntimes);
	memcpy(M_CUMHAZ(m), cumhaz, sizeof(double) * h.ntimes);
	memcpy(M_STIMES(m), stimes, sizeof(int32) * h.nstrata);
	memcpy(M_NAMES(m), names.data, names.len);
	{
		const char **nm = palloc(sizeof(char *) * m->nstrata);

		model_validate(&ps, m, nm);
	}
	PG_RETURN_POINTER(m);
}

static void
append_name(StringInfo buf, const char *s)
{
	if (s == NULL)
	{
		appendStringInfoString(buf, "NULL");
		return;
	}
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

PG_FUNCTION_INFO_V1(cox_model_out);
Datum
cox_model_out(PG_FUNCTION_ARGS)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	StringInfoData buf;
	int64		k = 0;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d ties=%s robust=%d stratified=%d signals=%d n=" INT64_FORMAT
					 " events=" INT64_FORMAT " iterations=%d loglik={",
					 CS_SUMMARY_VERSION, m->ties == TIES_EFRON ? "efron" : "breslow",
					 m->robust, m->stratified, m->p, m->n, m->nevent, m->iterations);
	cs_append_double(&buf, m->loglik0);
	appendStringInfoChar(&buf, ',');
	cs_append_double(&buf, m->loglik);
	appendStringInfoString(&buf, "} wald=");
	cs_append_double(&buf, m->wald);
	appendStringInfoString(&buf, " score=");
	cs_append_double(&buf, m->score);
	append_nullable(&buf, "robust_score", m->robust_score);
	append_nullable(&buf, "concordance", m->concordance);
	append_nullable(&buf, "concordance_std_error", m->concordance_se);
	append_list(&buf, "coefficients", M_COEF(m), m->p);
	append_list(&buf, "std_errors", M_SE(m), m->p);
	append_list(&buf, "robust_std_errors", M_RSE(m), m->p);
	append_list(&buf, "means", M_MEANS(m), m->p);
	append_list(&buf, "ph_chisq", M_ZCHI(m), m->p + 1);
	append_list(&buf, "ph_df", M_ZDF(m), m->p + 1);
	appendStringInfoString(&buf, " strata=[");
	for (int s = 0; s < m->nstrata; s++)
	{
		int32		c = M_STIMES(m)[s];

		if (s > 0)
			appendStringInfoString(&buf, "; ");
		append_name(&buf, names[s]);
		appendStringInfoChar(&buf, ' ');
		append_list(&buf, NULL, M_TIMES(m) + k, c);
		appendStringInfoChar(&buf, ' ');
		append_list(&buf, NULL, M_CUMHAZ(m) + k, c);
		k += c;
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(cox_model_send);
Datum
cox_model_send(PG_FUNCTION_ARGS)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	StringInfoData buf;
	int64		nd = 6 * (int64) m->p + 2 + 2 * (int64) m->ntimes;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendbyte(&buf, m->ties);
	pq_sendbyte(&buf, m->robust);
	pq_sendbyte(&buf, m->stratified);
	pq_sendint32(&buf, m->p);
	pq_sendint32(&buf, m->nstrata);
	pq_sendint32(&buf, m->ntimes);
	pq_sendint32(&buf, m->iterations);
	pq_sendint64(&buf, m->n);
	pq_sendint64(&buf, m->nevent);
	pq_sendfloat8(&buf, m->loglik0);
	pq_sendfloat8(&buf, m->loglik);
	pq_sendfloat8(&buf, m->wald);
	pq_sendfloat8(&buf, m->score);
	pq_sendfloat8(&buf, m->robust_score);
	pq_sendfloat8(&buf, m->concordance);
	pq_sendfloat8(&buf, m->concordance_se);
	for (int64 i = 0; i < nd; i++)
		pq_sendfloat8(&buf, m->data[i]);
	for (int s = 0; s < m->nstrata; s++)
	{
		pq_sendint32(&buf, M_STIMES(m)[s]);
		if (names[s] == NULL)
			pq_sendint32(&buf, -1);
		else
		{
			int			len = strlen(names[s]);

			pq_sendint32(&buf, len);
			pq_sendbytes(&buf, names[s], len);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(cox_model_recv);
Datum
cox_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CsParse		ps;
	CoxModel	h;
	CoxModel   *m;
	double	   *data;
	int32	   *stimes;
	StringInfoData names;
	int64		nd;

	memset(&h, 0, sizeof(h));
	cs_parse_init_binary(&ps, COX_TYPE);
	cs_recv_version(&ps, buf);
	h.ties = pq_getmsgbyte(buf);
	h.robust = pq_getmsgbyte(buf);
	h.stratified = pq_getmsgbyte(buf);
	h.p = pq_getmsgint(buf, 4);
	h.nstrata = pq_getmsgint(buf, 4);
	h.ntimes = pq_getmsgint(buf, 4);
	h.iterations = pq_getmsgint(buf, 4);
	if (h.p < 1 || h.p > COX_MAX_SIGNALS)
		cs_parse_fail(&ps, "The number of signals must be between 1 and %d, got %d.",
					  COX_MAX_SIGNALS, h.p);
	if (h.nstrata < 1 || h.ntimes < 0 ||
		(int64) h.nstrata * 8 + (int64) h.ntimes * 16 > buf->len - buf->cursor)
		cs_parse_fail(&ps, "The counts of strata and event times do not match the data.");
	h.n = pq_getmsgint64(buf);
	h.nevent = pq_getmsgint64(buf);
	h.loglik0 = pq_getmsgfloat8(buf);
	h.loglik = pq_getmsgfloat8(buf);
	h.wald = pq_getmsgfloat8(buf);
	h.score = pq_getmsgfloat8(buf);
	h.robust_score = pq_getmsgfloat8(buf);
	h.concordance = pq_getmsgfloat8(buf);
	h.concordance_se = pq_getmsgfloat8(buf);
	nd = 6 * (int64) h.p + 2 + 2 * (int64) h.ntimes;
	data = palloc_extended(sizeof(double) * nd, MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < nd; i++)
		data[i] = pq_getmsgfloat8(buf);
	stimes = palloc(sizeof(int32) * h.nstrata);
	initStringInfo(&names);
	for (int s = 0; s < h.nstrata; s++)
	{
		int32		len;

		stimes[s] = pq_getmsgint(buf, 4);
		len = pq_getmsgint(buf, 4);
		if (len < -1 || len > buf->len - buf->cursor)
			cs_parse_fail(&ps, "Bad stratum name length.");
		if (len < 0)
			appendStringInfoChar(&names, 1);
		else
		{
			const char *s2 = pq_getmsgbytes(buf, len);

			if (memchr(s2, '\0', len) != NULL)
				cs_parse_fail(&ps, "A stratum name holds a zero byte.");
			appendStringInfoChar(&names, 0);
			appendBinaryStringInfo(&names, s2, len);
			appendStringInfoChar(&names, '\0');
		}
	}
	pq_getmsgend(buf);
	m = model_alloc(h.p, h.nstrata, h.ntimes, names.len);
	memcpy(m, &h, offsetof(CoxModel, data));
	SET_VARSIZE(m, model_bytes(h.p, h.nstrata, h.ntimes, names.len));
	m->version = CS_SUMMARY_VERSION;
	m->names_len = names.len;
	memcpy(m->data, data, sizeof(double) * nd);
	memcpy(M_STIMES(m), stimes, sizeof(int32) * h.nstrata);
	memcpy(M_NAMES(m), names.data, names.len);
	{
		const char **nm = palloc(sizeof(char *) * m->nstrata);

		model_validate(&ps, m, nm);
	}
	PG_RETURN_POINTER(m);
}

/* ---------- accessors ---------- */

static Datum
nullable_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		nulls[i] = isnan(v[i]);
		d[i] = Float8GetDatum(nulls[i] ? 0 : v[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_md_array(d, nulls, 1, dims, lbs, FLOAT8OID,
											 sizeof(float8), FLOAT8PASSBYVAL,
											 TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(cox_coefficients);
Datum
cox_coefficients(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_COEF(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_std_errors);
Datum
cox_std_errors(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_SE(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_robust_std_errors);
Datum
cox_robust_std_errors(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_RSE(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_means);
Datum
cox_means(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_MEANS(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_log_likelihood);
Datum
cox_log_likelihood(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(model_fetch(PG_GETARG_DATUM(0), NULL)->loglik);
}

PG_FUNCTION_INFO_V1(cox_null_log_likelihood);
Datum
cox_null_log_likelihood(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(model_fetch(PG_GETARG_DATUM(0), NULL)->loglik0);
}

PG_FUNCTION_INFO_V1(cox_concordance_value);
Datum
cox_concordance_value(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	if (isnan(m->concordance))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(m->concordance);
}

PG_FUNCTION_INFO_V1(cox_concordance_std_error);
Datum
cox_concordance_std_error(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	if (isnan(m->concordance_se))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(m->concordance_se);
}

PG_FUNCTION_INFO_V1(cox_observations);
Datum
cox_observations(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(model_fetch(PG_GETARG_DATUM(0), NULL)->n);
}

PG_FUNCTION_INFO_V1(cox_events);
Datum
cox_events(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(model_fetch(PG_GETARG_DATUM(0), NULL)->nevent);
}

static int
model_kept(const CoxModel *m)
{
	int			k = 0;

	for (int j = 0; j < m->p; j++)
		k += !isnan(M_COEF(m)[j]);
	return k;
}

PG_FUNCTION_INFO_V1(cox_summary);
Datum
cox_summary(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	double		z = cs_confidence_z("cox_summary", PG_GETARG_FLOAT8(1));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int j = 0; j < m->p; j++)
	{
		Datum		values[9];
		bool		nulls[9];
		double		b = M_COEF(m)[j];
		double		se = m->robust ? M_RSE(m)[j] : M_SE(m)[j];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int32GetDatum(j + 1);
		if (isnan(b))
		{
			for (int c = 1; c < 9; c++)
				nulls[c] = true;
		}
		else
		{
			values[1] = Float8GetDatum(b);
			values[2] = Float8GetDatum(exp(b));
			values[3] = Float8GetDatum(M_SE(m)[j]);
			values[4] = Float8GetDatum(M_RSE(m)[j]);
			values[5] = Float8GetDatum(b / se);
			values[6] = Float8GetDatum(cs_chisq_upper_tail((b / se) * (b / se), 1));
			values[7] = Float8GetDatum(exp(b - z * se));
			values[8] = Float8GetDatum(exp(b + z * se));
			if (se == 0)
				nulls[5] = nulls[6] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(cox_tests);
Datum
cox_tests(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			df = model_kept(m);
	const char *name[4] = {"likelihood_ratio", "wald", "score", "robust_score"};
	double		stat[4];

	stat[0] = 2 * (m->loglik - m->loglik0);
	stat[1] = m->wald;
	stat[2] = m->score;
	stat[3] = m->robust_score;
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < 4; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (isnan(stat[i]))
			continue;
		values[0] = CStringGetTextDatum(name[i]);
		values[1] = Float8GetDatum(stat[i]);
		values[2] = Int32GetDatum(df);
		values[3] = Float8GetDatum(cs_chisq_upper_tail(stat[i], df));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(cox_ph_test);
Datum
cox_ph_test(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int j = 0; j <= m->p; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		double		chi = M_ZCHI(m)[j];
		double		df = M_ZDF(m)[j];

		if (j < m->p && isnan(M_COEF(m)[j]))
			continue;
		values[0] = Int32GetDatum(j + 1);
		nulls[0] = j == m->p;
		nulls[1] = isnan(chi);
		values[1] = Float8GetDatum(nulls[1] ? 0 : chi);
		nulls[2] = isnan(df);
		values[2] = Int32GetDatum(nulls[2] ? 0 : (int32) df);
		nulls[3] = nulls[1] || nulls[2] || df <= 0;
		values[3] = Float8GetDatum(nulls[3] ? 0 : cs_chisq_upper_tail(chi, df));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * exp(beta . (x - means)) for the signals given; false when one of them is
 * NULL (the answer is then NULL)
 */
static bool
model_risk(const CoxModel *m, ArrayType *signals, const char *fname, double *risk)
{
	const double *v;
	int			k;
	double		e = 0;

	if (ARR_NDIM(signals) > 1 || ARR_ELEMTYPE(signals) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: signals must be a one-dimensional double precision array", fname)));
	k = ARR_NDIM(signals) == 1 ? ARR_DIMS(signals)[0] : 0;
	if (k != m->p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the model has %d signals, got %d", fname, m->p, k)));
	if (ARR_HASNULL(signals))
		return false;
	v = CS_ARR_DOUBLES(signals);
	for (int j = 0; j < k; j++)
	{
		if (!isfinite(v[j]))
			ereport(ERROR,
					(errcode(isnan(v[j]) ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s: signal %d must be finite, got %g", fname, j + 1, v[j])));
		if (!isnan(M_COEF(m)[j]))
			e += M_COEF(m)[j] * (v[j] - M_MEANS(m)[j]);
	}
	*risk = exp(e);
	if (!isfinite(*risk))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: the relative risk of these signals is out of range", fname),
				 errdetail("beta . (x - means) = %g.", e)));
	return true;
}

PG_FUNCTION_INFO_V1(cox_risk_score);
Datum
cox_risk_score(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	double		risk;

	if (!model_risk(m, PG_GETARG_ARRAYTYPE_P(1), "cox_risk_score", &risk))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(risk);
}

/* The stratum of a prediction: its number, or an error */
static int
model_stratum(const CoxModel *m, const char **names, text *stratum, const char *fname)
{
	char	   *s;

	if (stratum == NULL)
	{
		if (m->nstrata == 1)
			return 0;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the model has %d strata, name one", fname, m->nstrata),
				 errhint("Use %s(model, t, stratum, signals...).", fname)));
	}
	s = text_to_cstring(stratum);
	for (int i = 0; i < m->nstrata; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: the model has no stratum \"%s\"", fname, s)));
}

static Datum
survival_at(FunctionCallInfo fcinfo, bool with_stratum)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	double		t = PG_GETARG_FLOAT8(1);
	int			s = model_stratum(m, names, with_stratum ? PG_GETARG_TEXT_PP(2) : NULL,
								  "cox_survival_at");
	double		risk;
	int64		first = 0;
	int64		k;

	if (isnan(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cox_survival_at: t must not be NaN")));
	if (!model_risk(m, PG_GETARG_ARRAYTYPE_P(with_stratum ? 3 : 2), "cox_survival_at", &risk))
		PG_RETURN_NULL();
	for (int i = 0; i < s; i++)
		first += M_STIMES(m)[i];
	k = times_floor(M_TIMES(m), first, first + M_STIMES(m)[s], t);
	if (k < first)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(exp(-M_CUMHAZ(m)[k] * risk));
}

PG_FUNCTION_INFO_V1(cox_survival_at);
Datum
cox_survival_at(PG_FUNCTION_ARGS)
{
	return survival_at(fcinfo, false);
}

PG_FUNCTION_INFO_V1(cox_survival_at_stratum);
Datum
cox_survival_at_stratum(PG_FUNCTION_ARGS)
{
	return survival_at(fcinfo, true);
}

PG_FUNCTION_INFO_V1(cox_survival_table);
Datum
cox_survival_table(PG_FUNCTION_ARGS)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		risk;
	int64		k = 0;

	if (!model_risk(m, PG_GETARG_ARRAYTYPE_P(1), "cox_survival_table", &risk))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum) 0;
	}
	InitMaterializedSRF(fcinfo, 0);
	for (int s = 0; s < m->nstrata; s++)
	{
		Datum		name = names[s] ? CStringGetTextDatum(names[s]) : (Datum) 0;

		for (int i = 0; i < M_STIMES(m)[s]; i++, k++)
		{
			Datum		values[3];
			bool		nulls[3] = {names[s] == NULL, false, false};

			values[0] = name;
			values[1] = Float8GetDatum(M_TIMES(m)[k]);
			values[2] = Float8GetDatum(exp(-M_CUMHAZ(m)[k] * risk));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
