/*
 * competing_risks.c
 *	  Churn by reason: competing risks, the Aalen-Johansen estimator.
 *
 * A customer churns for one reason (voluntary, payment failure, ...) and,
 * once gone for one, can no longer churn for another.  The cumulative
 * incidence of a reason k by age t is the probability of having churned for
 * k by t; with n_j customers at risk at the j-th distinct time t_j, d_kj
 * churn events for reason k there and d_j for any reason,
 *   S(t)    = prod over t_j <= t of (1 - d_j / n_j)           (no churn yet)
 *   F_k(t)  = sum over t_j <= t of S(t_j-) d_kj / n_j
 * which is R's survfit(Surv(duration, factor(reason)) ~ 1) pstate; the
 * F_k and S add up to 1 at every t.
 *
 * A competing_risks_summary holds, per distinct time, the number of
 * customers censored there (reason NULL: still a customer), the number of
 * churn events of each reason and, for late entry, the number of customers
 * who became observed at that age (at risk only after it, as R's
 * Surv(entry, duration, status)).  Stored, printed and sent it is "compact":
 * the reasons sorted (bytewise), then one row of counts per distinct time,
 * sorted by time, so that it grows with distinct times and reasons, never
 * with rows.  While an aggregate runs the same type holds a "hashed" form
 * (CR_FLAG_HASHED): an open-addressing table keyed on (time, code), code
 * being censored, entered or a reason in order of appearance; a row costs
 * one probe.  Every reader goes through cr_read(), which compacts a hashed
 * value (a partial state of a parallel plan) and validates it.
 *
 * Limits: a reason is 1 to CR_MAX_REASON_LEN (63) bytes, like an SQL
 * identifier (NAMEDATALEN - 1); a summary holds at most CR_MAX_REASONS (64)
 * distinct reasons.
 */
#include "postgres.h"

#include <float.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "cs_common.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#define CR_TYPE				"competing_risks_summary"
#define CR_FLAG_HASHED		0x01	/* aggregate state, not yet compacted */
#define CR_FLAG_LATE		0x02	/* some customer entered after age 0 */
#define CR_MAX_REASONS		64
#define CR_MAX_REASON_LEN	63
#define CR_NAMES_CAP		(CR_MAX_REASONS * (1 + CR_MAX_REASON_LEN))
#define CR_MIN_SLOTS		64

/* codes of the hashed form; reason r (in order of appearance) is CR_CODE_REASON + r */
#define CR_CODE_CENSORED	0
#define CR_CODE_ENTERED		1
#define CR_CODE_REASON		2
#define CR_EMPTY_CODE		(-1)

typedef struct CrSlot
{
	double		t;
	int32		code;			/* CR_EMPTY_CODE in a free slot */
	int32		pad;
	int64		count;
} CrSlot;

/*
 * Compact: after the header, double t[npoints], then int64
 * counts[npoints][CR_COLS(nreasons)] (entered, censored, one per reason),
 * then the names: per reason a length byte and its bytes.
 * Hashed: after the header, CrSlot slots[nslots], then the names area of
 * CR_NAMES_CAP bytes (reasons in order of appearance).
 */
typedef struct CrSummary
{
	CS_SUMMARY_HEADER;
	int32		nreasons;
	int32		npoints;		/* distinct times; used slots when hashed */
	int32		nslots;			/* hashed: table size; compact: npoints */
	int32		names_len;		/* bytes of the names */
	int32		last;			/* hashed: index of the last reason seen */
	int32		last_off;		/* hashed: its offset in the names area */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} CrSummary;

#define CR_HEADER_BYTES		MAXALIGN(offsetof(CrSummary, data))
#define CR_COLS(r)			(2 + (r))
#define CR_COL_ENTERED		0
#define CR_COL_CENSORED		1
#define CR_COL_REASON		2
#define CR_MAX_CELLS		((int64) (MaxAllocSize / 2 / sizeof(int64)))

static inline double *
cr_times(CrSummary *s)
{
	return (double *) ((char *) s + CR_HEADER_BYTES);
}

static inline int64 *
cr_counts(CrSummary *s)
{
	return (int64 *) (cr_times(s) + s->npoints);
}

static inline char *
cr_compact_names(CrSummary *s)
{
	return (char *) (cr_counts(s) + (Size) s->npoints * CR_COLS(s->nreasons));
}

static inline CrSlot *
cr_slots(CrSummary *s)
{
	return (CrSlot *) ((char *) s + CR_HEADER_BYTES);
}

static inline char *
cr_hashed_names(CrSummary *s)
{
	return (char *) (cr_slots(s) + s->nslots);
}

static Size
cr_compact_bytes(int32 npoints, int32 nreasons, int32 names_len)
{
	return CR_HEADER_BYTES + (Size) npoints * sizeof(double) +
		(Size) npoints * CR_COLS(nreasons) * sizeof(int64) + names_len;
}

static Size
cr_hashed_bytes(int32 nslots)
{
	return CR_HEADER_BYTES + (Size) nslots * sizeof(CrSlot) + CR_NAMES_CAP;
}

pg_noreturn static void
cr_corrupted(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted %s value", CR_TYPE),
			 detail ? errdetail("%s", detail) : 0));
}

static CrSummary *
cr_new_compact(int32 npoints, int32 nreasons, int32 names_len)
{
	Size		bytes;
	CrSummary  *s;

	if ((int64) npoints * CR_COLS(nreasons) > CR_MAX_CELLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("competing_risks_summary: too many distinct durations"),
				 errdetail("%d distinct durations of %d reasons do not fit in one value.",
						   npoints, nreasons)));
	bytes = cr_compact_bytes(npoints, nreasons, names_len);
	s = palloc0(bytes);
	SET_VARSIZE(s, bytes);
	s->version = CS_SUMMARY_VERSION;
	s->nreasons = nreasons;
	s->npoints = npoints;
	s->nslots = npoints;
	s->names_len = names_len;
	return s;
}

/* A new hashed summary in the current memory context */
static CrSummary *
cr_new_hashed(int32 nslots)
{
	Size		bytes = cr_hashed_bytes(nslots);
	CrSummary  *s = palloc(bytes);
	CrSlot	   *slots;

	memset(s, 0, CR_HEADER_BYTES);
	SET_VARSIZE(s, bytes);
	s->version = CS_SUMMARY_VERSION;
	s->flags = CR_FLAG_HASHED;
	s->nslots = nslots;
	slots = cr_slots(s);
	for (int32 i = 0; i < nslots; i++)
	{
		slots[i].t = 0.0;
		slots[i].code = CR_EMPTY_CODE;
		slots[i].pad = 0;
		slots[i].count = 0;
	}
	memset(cr_hashed_names(s), 0, CR_NAMES_CAP);
	return s;
}

static int32
cr_slots_for(int64 n)
{
	int32		slots = CR_MIN_SLOTS;

	while (slots / 2 < n)
	{
		if ((Size) slots * 2 * sizeof(CrSlot) > MaxAllocSize / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("competing_risks_agg: too many distinct durations"),
					 errdetail("A competing_risks_summary holds at most %d distinct (duration, reason) pairs.",
							   slots / 2)));
		slots *= 2;
	}
	return slots;
}

static inline uint32
cr_hash(double t, int32 code)
{
	return cs_hash_double(t, (uint64) (uint32) code);
}

/* The slot of (t, code), claimed if new; the caller made room */
static inline CrSlot *
cr_slot(CrSummary *s, double t, int32 code)
{
	CrSlot	   *slots = cr_slots(s);
	uint32		mask = (uint32) s->nslots - 1;
	uint32		i = cr_hash(t, code) & mask;

	for (;;)
	{
		CrSlot	   *p = &slots[i];

		if (p->code == code && p->t == t)
			return p;
		if (p->code == CR_EMPTY_CODE)
		{
			p->t = t;
			p->code = code;
			s->npoints++;
			return p;
		}
		i = (i + 1) & mask;
	}
}

/* A copy of a hashed summary in a table with room for need slots in use */
static CrSummary *
cr_grow(const CrSummary *s, int64 need)
{
	CrSummary  *bigger = cr_new_hashed(cr_slots_for(need));
	const CrSlot *slots = cr_slots((CrSummary *) s);

	bigger->flags = s->flags;
	bigger->nreasons = s->nreasons;
	bigger->names_len = s->names_len;
	bigger->last = s->last;
	bigger->last_off = s->last_off;
	memcpy(cr_hashed_names(bigger), cr_hashed_names((CrSummary *) s), CR_NAMES_CAP);
	for (int32 i = 0; i < s->nslots; i++)
		if (slots[i].code != CR_EMPTY_CODE)
			cr_slot(bigger, slots[i].t, slots[i].code)->count = slots[i].count;
	return bigger;
}

static inline CrSummary *
cr_reserve(CrSummary *s, int32 extra)
{
	if (unlikely(s->npoints + extra > s->nslots / 2))
		s = cr_grow(s, (int64) s->npoints + extra);
	return s;
}

pg_noreturn static void
cr_too_many_reasons(const char *fname)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s: too many distinct reasons", fname),
			 errdetail("A competing_risks_summary holds at most %d distinct reasons.",
					   CR_MAX_REASONS)));
}

/*
 * The index of a reason in a hashed summary, added if new.  The caller
 * checked the reason's length.
 */
static int32
cr_reason_index(const char *fname, CrSummary *s, const char *name, int len)
{
	char	   *names = cr_hashed_names(s);
	char	   *p = names;
	const char *last = names + s->last_off;

	if (likely(s->last < s->nreasons && (uint8) *last == len &&
			   memcmp(last + 1, name, len) == 0))
		return s->last;
	for (int32 r = 0; r < s->nreasons; r++)
	{
		if ((uint8) *p == len && memcmp(p + 1, name, len) == 0)
		{
			s->last = r;
			s->last_off = p - names;
			return r;
		}
		p += 1 + (uint8) *p;
	}
	if (s->nreasons >= CR_MAX_REASONS)
		cr_too_many_reasons(fname);
	*p = (char) len;
	memcpy(p + 1, name, len);
	s->names_len += 1 + len;
	s->last = s->nreasons;
	s->last_off = p - names;
	return s->nreasons++;
}

static void
cr_check_reason(const char *fname, int len)
{
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: reason must not be empty", fname),
				 errhint("Use NULL for a customer who has not churned (censored).")));
	if (len > CR_MAX_REASON_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: reason must be at most %d bytes, got %d bytes",
						fname, CR_MAX_REASON_LEN, len)));
}

/*
 * Checks of a compact summary; NULL if it is sound, else what is wrong.
 * Shared by the input functions (22P02/22P03) and cr_read() (corrupted).
 */
static char *
cr_check(CrSummary *s)
{
	const char *names = cr_compact_names(s);
	const char *p = names;
	const char *prev = NULL;
	int			prevlen = 0;
	int64		exits = 0;
	int64		entered = 0;
	int64		at_risk;
	int32		cols = CR_COLS(s->nreasons);
	double	   *t = cr_times(s);
	int64	   *c = cr_counts(s);
	bool		late = false;

	if (s->flags & ~CR_FLAG_LATE)
		return psprintf("Unknown flags 0x%02x.", s->flags);
	if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS)
		return psprintf("At most %d reasons, got %d.", CR_MAX_REASONS, s->nreasons);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		int			len;

		if (p >= names + s->names_len)
			return psprintf("The reasons are cut short.");
		len = (uint8) *p;
		if (len < 1 || len > CR_MAX_REASON_LEN || p + 1 + len > names + s->names_len)
			return psprintf("A reason must be 1 to %d bytes, got %d.", CR_MAX_REASON_LEN, len);
		if (memchr(p + 1, '\0', len) != NULL ||
			!pg_verifymbstr(p + 1, len, true))
			return psprintf("A reason is not valid text in the database encoding.");
		if (prev != NULL)
		{
			int			cmp = memcmp(prev, p + 1, Min(prevlen, len));

			if (cmp > 0 || (cmp == 0 && prevlen >= len))
				return psprintf("Reasons must be distinct and sorted.");
		}
		prev = p + 1;
		prevlen = len;
		p += 1 + len;
	}
	if (p != names + s->names_len)
		return psprintf("Unexpected bytes after the reasons.");
	for (int32 i = 0; i < s->npoints; i++)
	{
		int64	   *row = &c[(Size) i * cols];
		int64		here = 0;

		if (!isfinite(t[i]) || t[i] < 0)
			return psprintf("Durations must be finite and not negative, got %g.", t[i]);
		if (i > 0 && !(t[i] > t[i - 1]))
			return psprintf("Durations must be distinct and in increasing order, got %g after %g.",
							t[i], t[i - 1]);
		for (int32 k = 0; k < cols; k++)
		{
			if (row[k] < 0)
				return psprintf("Counts must not be negative, got " INT64_FORMAT " at duration %g.",
								row[k], t[i]);
			if (pg_add_s64_overflow(here, row[k], &here))
				return psprintf("The number of customers is out of range for bigint.");
		}
		if (here == 0)
			return psprintf("Every duration must have at least one customer, none at %g.", t[i]);
		if (row[CR_COL_ENTERED] > 0)
			late = true;
		if (pg_add_s64_overflow(entered, row[CR_COL_ENTERED], &entered) ||
			pg_add_s64_overflow(exits, here - row[CR_COL_ENTERED], &exits))
			return psprintf("The number of customers is out of range for bigint.");
	}
	if (late != ((s->flags & CR_FLAG_LATE) != 0))
		return psprintf("The late-entry flag does not match the entries.");

	/* everyone who leaves at t_j was at risk at t_j */
	at_risk = exits - entered;
	if (at_risk < 0)
		return psprintf("More customers entered late than left.");
	for (int32 i = 0; i < s->npoints; i++)
	{
		int64	   *row = &c[(Size) i * cols];
		int64		leave = 0;

		for (int32 k = CR_COL_CENSORED; k < cols; k++)
			leave += row[k];
		if (leave > at_risk)
			return psprintf("At duration %g, " INT64_FORMAT " customers leave but only " INT64_FORMAT " are at risk.",
							t[i], leave, at_risk);
		at_risk += row[CR_COL_ENTERED] - leave;
	}
	return NULL;
}

typedef struct CrKey
{
	double		t;
	int32		code;
	int64		count;
} CrKey;

static int
cr_key_cmp(const void *a, const void *b)
{
	const CrKey *x = a;
	const CrKey *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->code > y->code) - (x->code < y->code);
}

typedef struct CrName
{
	const char *name;
	int			len;
	int32		old;			/* index in order of appearance */
} CrName;

static int
cr_name_cmp(const void *a, const void *b)
{
	const CrName *x = a;
	const CrName *y = b;
	int			cmp = memcmp(x->name, y->name, Min(x->len, y->len));

	return cmp != 0 ? cmp : (x->len > y->len) - (x->len < y->len);
}

/* The compact form of a hashed summary, in a fresh palloc'd copy */
static CrSummary *
cr_compact(CrSummary *s)
{
	CrSlot	   *slots = cr_slots(s);
	char	   *names = cr_hashed_names(s);
	CrKey	   *keys;
	CrName		sorted[CR_MAX_REASONS];
	int32		newidx[CR_MAX_REASONS];
	int32		n = 0;
	int32		ntimes = 0;
	CrSummary  *c;
	int32		cols;
	double	   *t;
	int64	   *counts;
	char	   *out;
	const char *p = names;

	if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS || s->npoints < 0 ||
		s->npoints > s->nslots || s->names_len < 0 || s->names_len > CR_NAMES_CAP)
		cr_corrupted("Inconsistent header.");
	for (int32 r = 0; r < s->nreasons; r++)
	{
		int			len = (uint8) *p;

		if (p + 1 + len > names + CR_NAMES_CAP)
			cr_corrupted("The reasons overrun their area.");
		sorted[r].name = p + 1;
		sorted[r].len = len;
		sorted[r].old = r;
		p += 1 + len;
	}
	qsort(sorted, s->nreasons, sizeof(CrName), cr_name_cmp);
	for (int32 r = 0; r < s->nreasons; r++)
		newidx[sorted[r].old] = r;

	keys = palloc(sizeof(CrKey) * Max(s->npoints, 1));
	for (int32 i = 0; i < s->nslots; i++)
	{
		if (slots[i].code == CR_EMPTY_CODE)
			continue;
		if (n == s->npoints || slots[i].code < 0 ||
			slots[i].code >= CR_CODE_REASON + s->nreasons)
			cr_corrupted("Inconsistent hash table.");
		keys[n].t = slots[i].t;
		keys[n].code = slots[i].code;
		keys[n].count = slots[i].count;
		n++;
	}
	if (n != s->npoints)
		cr_corrupted("Inconsistent hash table.");
	qsort(keys, n, sizeof(CrKey), cr_key_cmp);
	for (int32 i = 0; i < n; i++)
		if (i == 0 || keys[i].t != keys[i - 1].t)
			ntimes++;

	c = cr_new_compact(ntimes, s->nreasons, s->names_len);
	cols = CR_COLS(s->nreasons);
	t = cr_times(c);
	counts = cr_counts(c);
	ntimes = 0;
	for (int32 i = 0; i < n; i++)
	{
		int32		col;

		if (i == 0 || keys[i].t != keys[i - 1].t)
			t[ntimes++] = keys[i].t;
		if (keys[i].code == CR_CODE_ENTERED)
		{
			col = CR_COL_ENTERED;
			c->flags |= CR_FLAG_LATE;
		}
		else if (keys[i].code == CR_CODE_CENSORED)
			col = CR_COL_CENSORED;
		else
			col = CR_COL_REASON + newidx[keys[i].code - CR_CODE_REASON];
		counts[(Size) (ntimes - 1) * cols + col] = keys[i].count;
	}
	out = cr_compact_names(c);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		*out = (char) sorted[r].len;
		memcpy(out + 1, sorted[r].name, sorted[r].len);
		out += 1 + sorted[r].len;
	}
	pfree(keys);
	return c;
}

/* Read a competing_risks_summary argument: detoast, compact, validate */
static CrSummary *
cr_read(Datum d)
{
	CrSummary  *s = cs_fetch_summary(d, CR_TYPE, CR_HEADER_BYTES);
	char	   *problem;

	if (s->flags & CR_FLAG_HASHED)
	{
		if (s->nslots < CR_MIN_SLOTS || (s->nslots & (s->nslots - 1)) != 0 ||
			VARSIZE(s) != cr_hashed_bytes(s->nslots))
			cr_corrupted("Its size does not match its table.");
		s = cr_compact(s);
	}
	else if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS || s->npoints < 0 ||
			 s->nslots != s->npoints || s->names_len < 0 || s->names_len > CR_NAMES_CAP ||
			 (int64) s->npoints * CR_COLS(s->nreasons) > CR_MAX_CELLS ||
			 VARSIZE(s) != cr_compact_bytes(s->npoints, s->nreasons, s->names_len))
		cr_corrupted("Its size does not match its number of points.");
	problem = cr_check(s);
	if (problem)
		cr_corrupted(problem);
	return s;
}

/* The hashed working form of a compact summary, with room for extra slots */
static CrSummary *
cr_hashed_from(CrSummary *c, int64 extra)
{
	int32		cols = CR_COLS(c->nreasons);
	CrSummary  *h = cr_new_hashed(cr_slots_for((int64) c->npoints * cols + extra));
	double	   *t = cr_times(c);
	int64	   *counts = cr_counts(c);

	memcpy(cr_hashed_names(h), cr_compact_names(c), c->names_len);
	h->nreasons = c->nreasons;
	h->names_len = c->names_len;
	for (int32 i = 0; i < c->npoints; i++)
		for (int32 k = 0; k < cols; k++)
		{
			int64		n = counts[(Size) i * cols + k];

			if (n != 0)
				cr_slot(h, t[i], k == CR_COL_ENTERED ? CR_CODE_ENTERED :
						k == CR_COL_CENSORED ? CR_CODE_CENSORED :
						CR_CODE_REASON + k - CR_COL_REASON)->count = n;
		}
	return h;
}

/*
 * The state argument of a transition or combine function in hashed form:
 * argument 0 itself when it is one (updated in place), else a new one in the
 * current context (the executor copies a returned new pointer into the
 * aggregate context itself).
 */
static inline CrSummary *
cr_working_state(FunctionCallInfo fcinfo, int64 extra)
{
	if (likely(!PG_ARGISNULL(0)))
	{
		CrSummary  *s = (CrSummary *) PG_GETARG_POINTER(0);

		if (likely(VARATT_IS_4B_U(s) && (s->flags & CR_FLAG_HASHED)))
			return s;
		return cr_hashed_from(cr_read(PG_GETARG_DATUM(0)), extra);
	}
	return cr_new_hashed(cr_slots_for(extra));
}

static inline void
cr_require_agg(FunctionCallInfo fcinfo)
{
	if (unlikely(!(fcinfo->context &&
				   (IsA(fcinfo->context, AggState) || IsA(fcinfo->context, WindowAggState)))))
		(void) cs_agg_context(fcinfo);
}

/* ---------- aggregate support ---------- */

static Datum
cr_accum(FunctionCallInfo fcinfo, bool with_entry)
{
	const char *fname = "competing_risks_agg";
	CrSummary  *state;
	double		duration;
	double		entry = 0.0;
	int32		code = CR_CODE_CENSORED;
	text	   *reason = NULL;
	int			len = 0;

	cr_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || (with_entry && PG_ARGISNULL(3)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = PG_GETARG_FLOAT8(1);
	if (unlikely(!(duration >= 0.0 && duration <= DBL_MAX)))
		cs_require_nonnegative(fname, "duration", duration);
	duration += 0.0;			/* -0 and 0 are one duration */
	if (with_entry)
	{
		entry = PG_GETARG_FLOAT8(3);
		if (unlikely(!(entry >= 0.0 && entry < duration)))
		{
			cs_require_nonnegative(fname, "entry", entry);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: entry must be less than duration, got entry %g and duration %g",
							fname, entry, duration)));
		}
	}
	if (!PG_ARGISNULL(2))
	{
		reason = PG_GETARG_TEXT_PP(2);
		len = VARSIZE_ANY_EXHDR(reason);
		if (unlikely(len == 0 || len > CR_MAX_REASON_LEN))
			cr_check_reason(fname, len);
	}
	state = cr_working_state(fcinfo, 2);
	state = cr_reserve(state, 2);
	if (reason != NULL)
		code = CR_CODE_REASON + cr_reason_index(fname, state, VARDATA_ANY(reason), len);
	cr_slot(state, duration, code)->count++;
	if (entry > 0.0)
		cr_slot(state, entry, CR_CODE_ENTERED)->count++;
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(competing_risks_accum);
Datum
competing_risks_accum(PG_FUNCTION_ARGS)
{
	return cr_accum(fcinfo, false);
}

PG_FUNCTION_INFO_V1(competing_risks_entry_accum);
Datum
competing_risks_entry_accum(PG_FUNCTION_ARGS)
{
	return cr_accum(fcinfo, true);
}

/* Merge two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(competing_risks_combine);
Datum
competing_risks_combine(PG_FUNCTION_ARGS)
{
	CrSummary  *state;
	CrSummary  *other;
	double	   *t;
	int64	   *counts;
	int32		cols;
	int32		map[CR_MAX_REASONS];
	const char *p;

	(void) cs_agg_context(fcinfo);
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	other = cr_read(PG_GETARG_DATUM(1));
	cols = CR_COLS(other->nreasons);
	state = cr_working_state(fcinfo, (int64) other->npoints * cols);
	p = cr_compact_names(other);
	for (int32 r = 0; r < other->nreasons; r++)
	{
		map[r] = cr_reason_index("rollup", state, p + 1, (uint8) *p);
		p += 1 + (uint8) *p;
	}
	t = cr_times(other);
	counts = cr_counts(other);
	for (int32 i = 0; i < other->npoints; i++)
	{
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		state = cr_reserve(state, cols);
		for (int32 k = 0; k < cols; k++)
		{
			int64		n = counts[(Size) i * cols + k];
			CrSlot	   *slot;

			if (n == 0)
				continue;
			slot = cr_slot(state, t[i], k == CR_COL_ENTERED ? CR_CODE_ENTERED :
						   k == CR_COL_CENSORED ? CR_CODE_CENSORED :
						   CR_CODE_REASON + map[k - CR_COL_REASON]);
			slot->count = cs_add_count(slot->count, n);
		}
	}
	PG_RETURN_POINTER(state);
}

/* Final function of competing_risks_agg() and rollup(): the compact summary */
PG_FUNCTION_INFO_V1(competing_risks_agg_final);
Datum
competing_risks_agg_final(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(cr_read(PG_GETARG_DATUM(0)));
}

/* ---------- Aalen-Johansen ---------- */

/*
 * A walk over the distinct times of a summary, one step per time: the
 * state probabilities just after it and, without late entry, the variances
 * of the infinitesimal jackknife (R's survfit for multi-state curves).
 *
 * The jackknife variance of p(t) is the sum over customers i of
 * (dp(t)/dw_i)^2, w_i the case weight of i.  With a_j = 1 - d_j/n_j the
 * derivatives follow the Aalen-Johansen recursion
 *   dS(t_j)   = a_j dS(t_j-1) - S(t_j-1) (dN_i(t_j) - Y_i(t_j) d_j/n_j) / n_j
 *   dF_k(t_j) = dF_k(t_j-1) + dS(t_j-1) d_kj/n_j
 *               + S(t_j-1) (dN_ik(t_j) - Y_i(t_j) d_kj/n_j) / n_j
 * Without late entry every customer still at risk shares one value (ur, vr),
 * and the customers who already left follow the same linear map; so it is
 * enough to carry the sums su = sum of dS^2, sv_k = sum of dF_k^2 and
 * suv_k = sum of dS dF_k over those who left, and add the leavers of each
 * time with their own values: O(times x reasons) in all.  With late entry the
 * derivatives depend on each customer's pair (entry, exit), which a summary
 * does not keep, so there are no standard errors then.
 */
typedef struct CrWalk
{
	CrSummary  *s;
	int32		j;				/* next time to take */
	int32		cols;
	bool		with_var;
	double		at_risk;		/* at the time just taken */
	double		surv;			/* S after it */
	double	   *cif;			/* F_k after it, per reason */
	double		ur;
	double	   *vr;
	double		su;
	double	   *sv;
	double	   *suv;
	int64		left;			/* customers at risk after it (exact) */
	double		var_surv;
	double	   *var_cif;
} CrWalk;

static void
cr_walk_init(CrWalk *w, CrSummary *s, bool with_var)
{
	int32		r = s->nreasons;
	int64	   *counts = cr_counts(s);
	int64		initial = 0;

	w->s = s;
	w->j = 0;
	w->cols = CR_COLS(r);
	w->with_var = with_var && !(s->flags & CR_FLAG_LATE);
	for (int32 i = 0; i < s->npoints; i++)
	{
		for (int32 k = CR_COL_CENSORED; k < w->cols; k++)
			initial += counts[(Size) i * w->cols + k];
		initial -= counts[(Size) i * w->cols + CR_COL_ENTERED];
	}
	w->left = initial;
	w->at_risk = 0.0;
	w->surv = 1.0;
	w->cif = palloc0(sizeof(double) * Max(r, 1));
	w->vr = palloc0(sizeof(double) * Max(r, 1));
	w->sv = palloc0(sizeof(double) * Max(r, 1));
	w->suv = palloc0(sizeof(double) * Max(r, 1));
	w->var_cif = palloc0(sizeof(double) * Max(r, 1));
	w->ur = w->su = w->var_surv = 0.0;
}

/* Take the next time; false when there is none left */
static bool
cr_walk_step(CrWalk *w)
{
	int32		r = w->s->nreasons;
	int64	   *row;
	int64		di = 0;
	double		n;
	double		d;
	double		c;
	double		a;
	double		p0 = w->surv;

	if (w->j >= w->s->npoints)
		return false;
	row = &cr_counts(w->s)[(Size) w->j * w->cols];
	w->j++;

	/*
	 * Counts in exact integers (cr_check() made sure that nobody leaves who
	 * is not at risk, and that no sum overflows), so that n >= d + c holds
	 * exactly and 0 <= a <= 1 even for counts beyond 2^53.
	 */
	for (int32 k = 0; k < r; k++)
		di += row[CR_COL_REASON + k];
	n = (double) w->left;
	d = (double) di;
	c = (double) row[CR_COL_CENSORED];
	w->at_risk = n;
	a = w->left > 0 ? (double) (w->left - di) / n : 1.0;
	w->left += row[CR_COL_ENTERED] - di - row[CR_COL_CENSORED];
	if (di == 0 && row[CR_COL_CENSORED] == 0)
		return true;

	if (w->with_var)
	{
		double		ur_new = a * w->ur + p0 * (d / n) / n;
		double		ue = ur_new - p0 / n;	/* a leaver with an event */
		double		after = (double) (w->left - row[CR_COL_ENTERED]);

		/* those who left before: the linear map of this step */
		for (int32 k = 0; k < r; k++)
		{
			double		lk = (double) row[CR_COL_REASON + k] / n;
			double		vr_new = w->vr[k] + lk * w->ur - p0 * lk / n;
			double		dk = (double) row[CR_COL_REASON + k];

			w->sv[k] += 2.0 * lk * w->suv[k] + lk * lk * w->su;
			w->suv[k] = a * (w->suv[k] + lk * w->su);
			/* the leavers of this time: censored, then events of each reason */
			w->sv[k] += c * vr_new * vr_new +
				d * vr_new * vr_new + 2.0 * dk * vr_new * (p0 / n) + dk * (p0 / n) * (p0 / n);
			w->suv[k] += c * ur_new * vr_new + ue * (d * vr_new + dk * p0 / n);
			w->vr[k] = vr_new;
			w->var_cif[k] = w->sv[k] + after * vr_new * vr_new;
		}
		w->su = a * a * w->su + c * ur_new * ur_new + d * ue * ue;
		w->ur = ur_new;
		w->var_surv = w->su + after * ur_new * ur_new;
	}
	for (int32 k = 0; k < r; k++)
		w->cif[k] += p0 * ((double) row[CR_COL_REASON + k] / n);
	w->surv = p0 * a;
	return true;
}

/* Index of a reason in a compact summary, -1 if absent */
static int32
cr_find_reason(CrSummary *s, text *reason, const char *fname)
{
	int			len = VARSIZE_ANY_EXHDR(reason);
	const char *p = cr_compact_names(s);

	cr_check_reason(fname, len);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		if ((uint8) *p == len && memcmp(p + 1, VARDATA_ANY(reason), len) == 0)
			return r;
		p += 1 + (uint8) *p;
	}
	return -1;
}

static bool
cr_has_customers(CrSummary *s)
{
	return s->npoints > 0;
}

/* cumulative_incidence_at(summary, reason, t) */
PG_FUNCTION_INFO_V1(cumulative_incidence_at);
Datum
cumulative_incidence_at(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	int32		k = cr_find_reason(s, PG_GETARG_TEXT_PP(1), "cumulative_incidence_at");
	double		t = PG_GETARG_FLOAT8(2);
	CrWalk		w;

	cs_require_nonnegative("cumulative_incidence_at", "t", t);
	if (!cr_has_customers(s))
		PG_RETURN_NULL();
	if (k < 0)
		PG_RETURN_FLOAT8(0.0);
	cr_walk_init(&w, s, false);
	while (w.j < s->npoints && cr_times(s)[w.j] <= t)
	{
		if ((w.j & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		cr_walk_step(&w);
	}
	PG_RETURN_FLOAT8(w.cif[k]);
}

/* survival_at(competing_risks_summary, t): no churn of any reason by t */
PG_FUNCTION_INFO_V1(competing_risks_survival_at);
Datum
competing_risks_survival_at(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);
	CrWalk		w;

	cs_require_nonnegative("survival_at", "t", t);
	if (!cr_has_customers(s))
		PG_RETURN_NULL();
	cr_walk_init(&w, s, false);
	while (w.j < s->npoints && cr_times(s)[w.j] <= t)
	{
		if ((w.j & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		cr_walk_step(&w);
	}
	PG_RETURN_FLOAT8(w.surv);
}

/*
 * cumulative_incidence_curve(summary, reason): one row per distinct time
 * at which a customer leaves (an event of any reason, or a censoring).
 */
PG_FUNCTION_INFO_V1(cumulative_incidence_curve);
Datum
cumulative_incidence_curve(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	int32		k = cr_find_reason(s, PG_GETARG_TEXT_PP(1), "cumulative_incidence_curve");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CrWalk		w;

	InitMaterializedSRF(fcinfo, 0);
	cr_walk_init(&w, s, k >= 0);
	while (w.j < s->npoints)
	{
		int32		j = w.j;
		int64	   *row = &cr_counts(s)[(Size) j * w.cols];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		int64		leave = 0;

		CHECK_FOR_INTERRUPTS();
		cr_walk_step(&w);
		for (int32 c = CR_COL_CENSORED; c < w.cols; c++)
			leave += row[c];
		if (leave == 0)
			continue;
		values[0] = Float8GetDatum(cr_times(s)[j]);
		values[1] = Float8GetDatum(w.at_risk);
		values[2] = Float8GetDatum(k >= 0 ? (double) row[CR_COL_REASON + k] : 0.0);
		values[3] = Float8GetDatum(k >= 0 ? w.cif[k] : 0.0);
		if (k < 0)
			values[4] = Float8GetDatum(0.0);
		else if (w.with_var)
			values[4] = Float8GetDatum(sqrt(Max(w.var_cif[k], 0.0)));
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* competing_risks_reasons(summary): the reasons, sorted bytewise */
PG_FUNCTION_INFO_V1(competing_risks_reasons);
Datum
competing_risks_reasons(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	Datum	   *elems = palloc(sizeof(Datum) * Max(s->nreasons, 1));
	const char *p = cr_compact_names(s);

	for (int32 r = 0; r < s->nreasons; r++)
	{
		elems[r] = PointerGetDatum(cstring_to_text_with_len(p + 1, (uint8) *p));
		p += 1 + (uint8) *p;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, s->nreasons, TEXTOID, -1, false, TYPALIGN_INT));
}

/* ---------- I/O ---------- */

static void
cr_append_name(StringInfo buf, const char *name, int len)
{
	appendStringInfoChar(buf, '"');
	for (int i = 0; i < len; i++)
	{
		if (name[i] == '"' || name[i] == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, name[i]);
	}
	appendStringInfoChar(buf, '"');
}

static void
cr_append_column(StringInfo buf, CrSummary *s, int32 col)
{
	int64	   *counts = cr_counts(s);
	int32		cols = CR_COLS(s->nreasons);

	appendStringInfoChar(buf, '{');
	for (int32 i = 0; i < s->npoints; i++)
		appendStringInfo(buf, i > 0 ? "," INT64_FORMAT : INT64_FORMAT,
						 counts[(Size) i * cols + col]);
	appendStringInfoChar(buf, '}');
}

/*
 * Text form: v=1 reasons={"a","b"} durations={t,...} [entered={n,...}]
 * censored={n,...} events={{n,...},{n,...}} with one list of events per
 * reason, in the order of reasons; entered only with late entry.
 */
PG_FUNCTION_INFO_V1(competing_risks_summary_out);
Datum
competing_risks_summary_out(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	StringInfoData buf;
	const char *p = cr_compact_names(s);
	double	   *t = cr_times(s);

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d reasons={", CS_SUMMARY_VERSION);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		if (r > 0)
			appendStringInfoChar(&buf, ',');
		cr_append_name(&buf, p + 1, (uint8) *p);
		p += 1 + (uint8) *p;
	}
	appendStringInfoString(&buf, "} durations={");
	for (int32 i = 0; i < s->npoints; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		cs_append_double(&buf, t[i]);
	}
	appendStringInfoChar(&buf, '}');
	if (s->flags & CR_FLAG_LATE)
	{
		appendStringInfoString(&buf, " entered=");
		cr_append_column(&buf, s, CR_COL_ENTERED);
	}
	appendStringInfoString(&buf, " censored=");
	cr_append_column(&buf, s, CR_COL_CENSORED);
	appendStringInfoString(&buf, " events={");
	for (int32 r = 0; r < s->nreasons; r++)
	{
		if (r > 0)
			appendStringInfoChar(&buf, ',');
		cr_append_column(&buf, s, CR_COL_REASON + r);
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

/* A growable list of values parsed from text */
typedef struct CrList
{
	int32		n;
	int32		cap;
	double	   *d;
	int64	   *c;
} CrList;

static void
cr_parse_list(CsParse *ps, bool counts, CrList *l)
{
	l->n = 0;
	l->cap = 16;
	l->d = counts ? NULL : palloc(sizeof(double) * l->cap);
	l->c = counts ? palloc(sizeof(int64) * l->cap) : NULL;
	cs_parse_char(ps, '{');
	if (cs_parse_peek(ps, '}'))
		return;
	do
	{
		if (l->n == l->cap)
		{
			if (l->cap > (int32) (CR_MAX_CELLS / 4))
				cs_parse_fail(ps, "Too many durations.");
			l->cap *= 2;
			if (counts)
				l->c = repalloc(l->c, sizeof(int64) * l->cap);
			else
				l->d = repalloc(l->d, sizeof(double) * l->cap);
		}
		if (counts)
			l->c[l->n++] = cs_parse_int64(ps);
		else
			l->d[l->n++] = cs_parse_double(ps) + 0.0;
	} while (cs_parse_peek(ps, ','));
	cs_parse_char(ps, '}');
}

/* A quoted reason: "..." with \" and \\ */
static void
cr_parse_name(CsParse *ps, StringInfo names)
{
	StringInfoData name;

	initStringInfo(&name);
	cs_parse_char(ps, '"');
	while (*ps->p != '"')
	{
		if (*ps->p == '\0')
			cs_parse_fail(ps, "Unterminated reason.");
		if (*ps->p == '\\')
		{
			ps->p++;
			if (*ps->p == '\0')
				cs_parse_fail(ps, "Unterminated reason.");
		}
		if (name.len >= CR_MAX_REASON_LEN)
			cs_parse_fail(ps, "A reason must be 1 to %d bytes.", CR_MAX_REASON_LEN);
		appendStringInfoChar(&name, *ps->p++);
	}
	ps->p++;
	if (name.len == 0)
		cs_parse_fail(ps, "A reason must be 1 to %d bytes.", CR_MAX_REASON_LEN);
	appendStringInfoChar(names, (char) name.len);
	appendBinaryStringInfo(names, name.data, name.len);
}

/* Build a compact summary from parsed parts and validate it */
static CrSummary *
cr_build(CsParse *ps, int flags, int32 nreasons, StringInfo names, int32 n,
		 const double *t, const int64 *entered, const int64 *censored, int64 **events)
{
	CrSummary  *s;
	int32		cols = CR_COLS(nreasons);
	int64	   *counts;
	char	   *problem;

	if (flags & ~CR_FLAG_LATE)
		cs_parse_fail(ps, "Unknown flags 0x%02x.", flags);
	if ((int64) n * cols > CR_MAX_CELLS)
		cs_parse_fail(ps, "Too many durations.");
	s = cr_new_compact(n, nreasons, names->len);
	s->flags = flags;
	memcpy(cr_times(s), t, sizeof(double) * n);
	counts = cr_counts(s);
	for (int32 i = 0; i < n; i++)
	{
		counts[(Size) i * cols + CR_COL_ENTERED] = entered ? entered[i] : 0;
		counts[(Size) i * cols + CR_COL_CENSORED] = censored[i];
		for (int32 r = 0; r < nreasons; r++)
			counts[(Size) i * cols + CR_COL_REASON + r] = events[r][i];
	}
	memcpy(cr_compact_names(s), names->data, names->len);
	problem = cr_check(s);
	if (problem)
		cs_parse_fail(ps, "%s", problem);
	return s;
}

PG_FUNCTION_INFO_V1(competing_risks_summary_in);
Datum
competing_risks_summary_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	CsParse		ps;
	StringInfoData names;
	int32		nreasons = 0;
	CrList		times;
	CrList		entered;
	CrList		censored;
	CrList		ev[CR_MAX_REASONS];
	int64	   *events[CR_MAX_REASONS];
	bool		late = false;
	int32		nev = 0;

	cs_parse_init_text(&ps, CR_TYPE, text);
	cs_parse_version(&ps);
	initStringInfo(&names);
	cs_parse_key(&ps, "reasons");
	cs_parse_char(&ps, '{');
	if (!cs_parse_peek(&ps, '}'))
	{
		do
		{
			if (nreasons >= CR_MAX_REASONS)
				cs_parse_fail(&ps, "At most %d reasons.", CR_MAX_REASONS);
			cr_parse_name(&ps, &names);
			nreasons++;
		} while (cs_parse_peek(&ps, ','));
		cs_parse_char(&ps, '}');
	}
	cs_parse_key(&ps, "durations");
	cr_parse_list(&ps, false, &times);
	while (*ps.p == ' ')
		ps.p++;
	if (strncmp(ps.p, "entered=", 8) == 0)
	{
		cs_parse_key(&ps, "entered");
		cr_parse_list(&ps, true, &entered);
		if (entered.n != times.n)
			cs_parse_fail(&ps, "The lists must have the same length.");
		late = true;
	}
	cs_parse_key(&ps, "censored");
	cr_parse_list(&ps, true, &censored);
	cs_parse_key(&ps, "events");
	cs_parse_char(&ps, '{');
	if (!cs_parse_peek(&ps, '}'))
	{
		do
		{
			if (nev >= nreasons)
				cs_parse_fail(&ps, "More lists of events than reasons.");
			cr_parse_list(&ps, true, &ev[nev]);
			if (ev[nev].n != times.n)
				cs_parse_fail(&ps, "The lists must have the same length.");
			events[nev] = ev[nev].c;
			nev++;
		} while (cs_parse_peek(&ps, ','));
		cs_parse_char(&ps, '}');
	}
	if (nev != nreasons)
		cs_parse_fail(&ps, "One list of events per reason is needed.");
	if (censored.n != times.n)
		cs_parse_fail(&ps, "The lists must have the same length.");
	cs_parse_end(&ps);
	PG_RETURN_POINTER(cr_build(&ps, late ? CR_FLAG_LATE : 0, nreasons, &names, times.n,
							   times.d, late ? entered.c : NULL, censored.c, events));
}

/*
 * Binary form: version byte, flags byte (CR_FLAG_LATE or 0), int32 number
 * of reasons, each an int32 length and its bytes, int32 number of points,
 * then per point float8 duration, int64 entered (only with late entry),
 * int64 censored and one int64 per reason.
 */
PG_FUNCTION_INFO_V1(competing_risks_summary_send);
Datum
competing_risks_summary_send(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	StringInfoData buf;
	const char *p = cr_compact_names(s);
	int32		cols = CR_COLS(s->nreasons);
	int64	   *counts = cr_counts(s);

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendbyte(&buf, s->flags);
	pq_sendint32(&buf, s->nreasons);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		pq_sendint32(&buf, (uint8) *p);
		pq_sendbytes(&buf, p + 1, (uint8) *p);
		p += 1 + (uint8) *p;
	}
	pq_sendint32(&buf, s->npoints);
	for (int32 i = 0; i < s->npoints; i++)
	{
		pq_sendfloat8(&buf, cr_times(s)[i]);
		for (int32 k = (s->flags & CR_FLAG_LATE) ? 0 : 1; k < cols; k++)
			pq_sendint64(&buf, counts[(Size) i * cols + k]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(competing_risks_summary_recv);
Datum
competing_risks_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CsParse		ps;
	int			flags;
	int32		nreasons;
	int32		n;
	int32		cols;
	StringInfoData names;
	double	   *t;
	int64	   *entered;
	int64	   *censored;
	int64	   *events[CR_MAX_REASONS];

	cs_parse_init_binary(&ps, CR_TYPE);
	cs_recv_version(&ps, buf);
	flags = pq_getmsgbyte(buf);
	if (flags & ~CR_FLAG_LATE)
		cs_parse_fail(&ps, "Unknown flags 0x%02x.", flags);
	nreasons = pq_getmsgint(buf, 4);
	if (nreasons < 0 || nreasons > CR_MAX_REASONS)
		cs_parse_fail(&ps, "At most %d reasons, got %d.", CR_MAX_REASONS, nreasons);
	initStringInfo(&names);
	for (int32 r = 0; r < nreasons; r++)
	{
		int32		len = pq_getmsgint(buf, 4);

		if (len < 1 || len > CR_MAX_REASON_LEN)
			cs_parse_fail(&ps, "A reason must be 1 to %d bytes, got %d.", CR_MAX_REASON_LEN, len);
		appendStringInfoChar(&names, (char) len);
		appendBinaryStringInfo(&names, pq_getmsgbytes(buf, len), len);
	}
	n = pq_getmsgint(buf, 4);
	cols = CR_COLS(nreasons) - ((flags & CR_FLAG_LATE) ? 0 : 1);
	if (n < 0 || (Size) n * (sizeof(double) + cols * sizeof(int64)) > (Size) (buf->len - buf->cursor))
		cs_parse_fail(&ps, "Invalid number of points %d for a message of %d bytes.", n, buf->len);
	t = palloc(sizeof(double) * Max(n, 1));
	entered = palloc(sizeof(int64) * Max(n, 1));
	censored = palloc(sizeof(int64) * Max(n, 1));
	for (int32 r = 0; r < nreasons; r++)
		events[r] = palloc(sizeof(int64) * Max(n, 1));
	for (int32 i = 0; i < n; i++)
	{
		t[i] = pq_getmsgfloat8(buf) + 0.0;
		entered[i] = (flags & CR_FLAG_LATE) ? pq_getmsgint64(buf) : 0;
		censored[i] = pq_getmsgint64(buf);
		for (int32 r = 0; r < nreasons; r++)
			events[r][i] = pq_getmsgint64(buf);
	}
	pq_getmsgend(buf);
	PG_RETURN_POINTER(cr_build(&ps, flags, nreasons, &names, n, t, entered, censored, events));
}
