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
 * Surv(entry, duration, status)).  With late entry it also keeps, for the
 * customers who entered after age 0, how many share each (entry, exit,
 * reason) triple ("pairs", CR_FLAG_PAIRS): the standard errors depend on
 * them (see the walk below).  Stored, printed and sent it is "compact":
 * the reasons sorted (bytewise), then one row of counts per distinct time,
 * sorted by time, then the pairs sorted by exit, entry and column, so that
 * it grows with distinct times, reasons and (entry, exit) pairs, never with
 * rows.  While an aggregate runs the same type holds a "hashed" form
 * (CR_FLAG_HASHED): an open-addressing table keyed on (time, entry, code),
 * entry being 0 for a customer observed from the start and code censored or
 * a reason in order of appearance; a row costs one probe.  Every reader goes
 * through cr_read(), which compacts a hashed value (a partial state of a
 * parallel plan) and validates it.
 *
 * Late-entry summaries stored by 1.2 have no pairs (CR_FLAG_LATE without
 * CR_FLAG_PAIRS): they read back and merge as before (a merge with one of
 * them has no pairs either: its entries arrive as counts per time, code
 * CR_CODE_ENTERED in the hashed form), and have no standard errors.
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
#include "utils/float.h"

#define CR_TYPE				"competing_risks_summary"
#define CR_FLAG_HASHED		0x01	/* aggregate state, not yet compacted */
#define CR_FLAG_LATE		0x02	/* some customer entered after age 0 */
#define CR_FLAG_PAIRS		0x04	/* with LATE: the (entry, exit) pairs are kept */
#define CR_FLAGS_STORED		(CR_FLAG_LATE | CR_FLAG_PAIRS)
#define CR_MAX_REASONS		64
#define CR_MAX_REASON_LEN	63
#define CR_NAMES_CAP		(CR_MAX_REASONS * (1 + CR_MAX_REASON_LEN))
#define CR_MIN_NAMES		64		/* names area of a new hashed summary */
#define CR_MIN_SLOTS		8

/*
 * Codes of the hashed form; reason r (in order of appearance) is
 * CR_CODE_REASON + r.  CR_CODE_ENTERED only carries the entries of a
 * summary without pairs (stored by 1.2), by time.
 */
#define CR_CODE_CENSORED	0
#define CR_CODE_ENTERED		1
#define CR_CODE_REASON		2
#define CR_EMPTY_CODE		(-1)

typedef struct CrSlot
{
	double		t;				/* exit (CR_CODE_ENTERED: entry) */
	double		e;				/* entry when after age 0, else 0 */
	int32		code;			/* CR_EMPTY_CODE in a free slot */
	int32		pad;
	int64		count;
} CrSlot;

/* customers who entered at times[entry] and left at times[exit] */
typedef struct CrPair
{
	int32		entry;			/* index of the entry time (> 0) */
	int32		exit;			/* index of the exit time, > entry */
	int32		col;			/* CR_COL_CENSORED or CR_COL_REASON + r */
	int32		pad;
	int64		count;
} CrPair;

/*
 * Compact: after the header, double t[npoints], then int64
 * counts[npoints][CR_COLS(nreasons)] (entered, censored, one per reason),
 * then CrPair pairs[npairs], then the names: per reason a length byte and
 * its bytes.
 * Hashed: after the header, CrSlot slots[nslots], then the names area
 * (reasons in order of appearance) up to the end of the value: from
 * CR_MIN_NAMES bytes, doubled as needed up to CR_NAMES_CAP, so that a state
 * per group costs a few hundred bytes until it sees many reasons or times.
 */
typedef struct CrSummary
{
	CS_SUMMARY_HEADER;
	int32		nreasons;
	int32		npoints;		/* distinct times; used slots when hashed */
	int32		nslots;			/* hashed: table size; compact: npoints */
	int32		names_len;		/* bytes of the names */
	int32		last;			/* hashed: index of the last reason seen;
								 * compact: the number of pairs (0 in 1.2) */
	int32		last_off;		/* hashed: its offset in the names area */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} CrSummary;

#define CR_NPAIRS(s)		((s)->last)

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

static inline CrPair *
cr_pairs(CrSummary *s)
{
	return (CrPair *) (cr_counts(s) + (Size) s->npoints * CR_COLS(s->nreasons));
}

static inline char *
cr_compact_names(CrSummary *s)
{
	return (char *) (cr_pairs(s) + CR_NPAIRS(s));
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
cr_compact_bytes(int32 npoints, int32 nreasons, int32 npairs, int32 names_len)
{
	return CR_HEADER_BYTES + (Size) npoints * sizeof(double) +
		(Size) npoints * CR_COLS(nreasons) * sizeof(int64) +
		(Size) npairs * sizeof(CrPair) + names_len;
}

static Size
cr_hashed_bytes(int32 nslots, int32 names_cap)
{
	return CR_HEADER_BYTES + (Size) nslots * sizeof(CrSlot) + names_cap;
}

/* The bytes of the names area of a hashed summary */
static inline int64
cr_names_cap(CrSummary *s)
{
	return (int64) VARSIZE(s) - (int64) cr_hashed_bytes(s->nslots, 0);
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
cr_new_compact(int32 npoints, int32 nreasons, int32 npairs, int32 names_len)
{
	Size		bytes;
	CrSummary  *s;

	if ((int64) npoints * CR_COLS(nreasons) + (int64) npairs * 3 > CR_MAX_CELLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("competing_risks_summary: too many distinct durations"),
				 errdetail("%d distinct durations of %d reasons and %d (entry, exit) pairs do not fit in one value.",
						   npoints, nreasons, npairs)));
	bytes = cr_compact_bytes(npoints, nreasons, npairs, names_len);
	s = palloc0(bytes);
	SET_VARSIZE(s, bytes);
	s->version = CS_SUMMARY_VERSION;
	s->nreasons = nreasons;
	s->npoints = npoints;
	s->nslots = npoints;
	s->names_len = names_len;
	CR_NPAIRS(s) = npairs;
	return s;
}

/* A new hashed summary in the current memory context */
static CrSummary *
cr_new_hashed(int32 nslots, int32 names_cap)
{
	Size		bytes = cr_hashed_bytes(nslots, names_cap);
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
		slots[i].e = 0.0;
		slots[i].code = CR_EMPTY_CODE;
		slots[i].pad = 0;
		slots[i].count = 0;
	}
	memset(cr_hashed_names(s), 0, names_cap);
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
					 errdetail("A competing_risks_summary holds at most %d distinct (duration, entry, reason) combinations.",
							   slots / 2)));
		slots *= 2;
	}
	return slots;
}

static inline uint32
cr_hash(double t, double e, int32 code)
{
	uint64		salt = (uint32) code;

	if (e != 0.0)
		salt |= (uint64) cs_hash_double(e, salt) << 32;
	return cs_hash_double(t, salt);
}

/* The slot of (t, e, code), claimed if new; the caller made room */
static inline CrSlot *
cr_slot(CrSummary *s, double t, double e, int32 code)
{
	CrSlot	   *slots = cr_slots(s);
	uint32		mask = (uint32) s->nslots - 1;
	uint32		i = cr_hash(t, e, code) & mask;

	for (;;)
	{
		CrSlot	   *p = &slots[i];

		if (p->code == code && p->t == t && p->e == e)
			return p;
		if (p->code == CR_EMPTY_CODE)
		{
			p->t = t;
			p->e = e;
			p->code = code;
			s->npoints++;
			return p;
		}
		i = (i + 1) & mask;
	}
}

/*
 * A copy of a hashed summary with room for need slots in use and need_names
 * bytes of names
 */
static CrSummary *
cr_grow(CrSummary *s, int64 need, int32 need_names)
{
	int32		names_cap = (int32) cr_names_cap(s);
	CrSummary  *bigger;
	const CrSlot *slots = cr_slots(s);

	while (names_cap < need_names)
		names_cap = Min(names_cap * 2, CR_NAMES_CAP);
	bigger = cr_new_hashed(need > s->nslots / 2 ? cr_slots_for(need) : s->nslots, names_cap);
	bigger->flags = s->flags;
	bigger->nreasons = s->nreasons;
	bigger->names_len = s->names_len;
	bigger->last = s->last;
	bigger->last_off = s->last_off;
	memcpy(cr_hashed_names(bigger), cr_hashed_names(s), s->names_len);
	for (int32 i = 0; i < s->nslots; i++)
		if (slots[i].code != CR_EMPTY_CODE)
			cr_slot(bigger, slots[i].t, slots[i].e, slots[i].code)->count = slots[i].count;
	return bigger;
}

static inline CrSummary *
cr_reserve(CrSummary *s, int32 extra)
{
	if (unlikely(s->npoints + extra > s->nslots / 2))
		s = cr_grow(s, (int64) s->npoints + extra, s->names_len);
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
 * The index of a reason in the hashed summary *sp, added if new (*sp then
 * may become a bigger copy).  The caller checked the reason's length.
 */
static int32
cr_reason_index(const char *fname, CrSummary **sp, const char *name, int len)
{
	CrSummary  *s = *sp;
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
	if (s->names_len + 1 + len > cr_names_cap(s))
	{
		*sp = s = cr_grow(s, s->npoints, s->names_len + 1 + len);
		names = cr_hashed_names(s);
		p = names + s->names_len;
	}
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
 * Checks of the pairs of a compact summary: sorted by (exit, entry, column)
 * without repeats, each entering after age 0 and before it leaves; those
 * entering at a time are all who entered then, and those leaving at a time
 * for a column are at most its count (the rest were observed from the
 * start).
 */
static char *
cr_check_pairs(CrSummary *s)
{
	CrPair	   *pairs = cr_pairs(s);
	double	   *t = cr_times(s);
	int64	   *c = cr_counts(s);
	int32		cols = CR_COLS(s->nreasons);
	int64	   *entered = palloc0(sizeof(int64) * Max(s->npoints, 1));
	int64	   *leaving = palloc0(sizeof(int64) * cols);
	char	   *problem = NULL;

	for (int32 p = 0; p < CR_NPAIRS(s) && problem == NULL; p++)
	{
		CrPair	   *q = &pairs[p];

		if (q->exit < 0 || q->exit >= s->npoints || q->entry < 0 || q->entry >= q->exit ||
			!(t[q->entry] > 0.0) || q->col < CR_COL_CENSORED || q->col >= cols || q->pad != 0)
			problem = psprintf("Pair %d must enter after age 0 and before it leaves, in a known column.", p + 1);
		else if (q->count <= 0)
			problem = psprintf("Pair counts must be positive, got " INT64_FORMAT ".", q->count);
		else if (p > 0 && (q[-1].exit > q->exit ||
						   (q[-1].exit == q->exit && (q[-1].entry > q->entry ||
													  (q[-1].entry == q->entry && q[-1].col >= q->col)))))
			problem = psprintf("Pairs must be distinct and sorted by exit, entry and reason.");
		else
		{
			if (p == 0 || q[-1].exit != q->exit)
				memset(leaving, 0, sizeof(int64) * cols);
			if (pg_add_s64_overflow(entered[q->entry], q->count, &entered[q->entry]) ||
				pg_add_s64_overflow(leaving[q->col], q->count, &leaving[q->col]))
				problem = psprintf("The number of customers is out of range for bigint.");
			else if (leaving[q->col] > c[(Size) q->exit * cols + q->col])
				problem = psprintf("More customers of pairs than of their row leave at %g.", t[q->exit]);
		}
	}
	for (int32 i = 0; i < s->npoints && problem == NULL; i++)
		if (entered[i] != c[(Size) i * cols + CR_COL_ENTERED])
			problem = psprintf("At duration %g, " INT64_FORMAT " customers entered but pairs account for " INT64_FORMAT ".",
							   t[i], c[(Size) i * cols + CR_COL_ENTERED], entered[i]);
	pfree(entered);
	pfree(leaving);
	return problem;
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

	if (s->flags & ~CR_FLAGS_STORED)
		return psprintf("Unknown flags 0x%02x.", s->flags);
	if ((s->flags & CR_FLAG_PAIRS) && !(s->flags & CR_FLAG_LATE))
		return psprintf("Pairs of entry and exit without late entry.");
	if ((CR_NPAIRS(s) > 0) != ((s->flags & CR_FLAG_PAIRS) != 0))
		return psprintf("The pairs flag does not match the pairs.");
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
	return CR_NPAIRS(s) > 0 ? cr_check_pairs(s) : NULL;
}

#define ST_SORT cr_sort_times
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* pairs by exit, entry, column */
#define ST_SORT cr_sort_pairs
#define ST_ELEMENT_TYPE CrPair
#define ST_COMPARE(a, b) \
	((a)->exit != (b)->exit ? ((a)->exit > (b)->exit) - ((a)->exit < (b)->exit) : \
	 (a)->entry != (b)->entry ? ((a)->entry > (b)->entry) - ((a)->entry < (b)->entry) : \
	 ((a)->col > (b)->col) - ((a)->col < (b)->col))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* The index of v in the n sorted distinct times t, -1 if absent */
static int32
cr_time_index(const double *t, int32 n, double v)
{
	int32		lo = 0;
	int32		hi = n - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (t[mid] < v)
			lo = mid + 1;
		else if (t[mid] > v)
			hi = mid - 1;
		else
			return mid;
	}
	return -1;
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

/*
 * The compact form of a hashed summary, in a fresh palloc'd copy.  The
 * distinct times are the exits and the entries after age 0; a slot with an
 * entry becomes a pair, unless some entries came by time only (a summary
 * without pairs was merged in), in which case none is kept.
 */
static CrSummary *
cr_compact(CrSummary *s)
{
	CrSlot	   *slots = cr_slots(s);
	char	   *names = cr_hashed_names(s);
	CrName		sorted[CR_MAX_REASONS];
	int32		newidx[CR_MAX_REASONS];
	double	   *times;
	int32		ntimes = 0;
	int32		used = 0;
	int32		npairs = 0;
	bool		by_time = false;
	CrSummary  *c;
	int32		cols = CR_COLS(s->nreasons);
	int64	   *counts;
	CrPair	   *pairs;
	char	   *out;
	const char *p = names;

	if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS || s->npoints < 0 ||
		s->npoints > s->nslots || s->names_len < 0 || s->names_len > cr_names_cap(s))
		cr_corrupted("Inconsistent header.");
	for (int32 r = 0; r < s->nreasons; r++)
	{
		int			len = (uint8) *p;

		if (p + 1 + len > names + s->names_len)
			cr_corrupted("The reasons overrun their area.");
		sorted[r].name = p + 1;
		sorted[r].len = len;
		sorted[r].old = r;
		p += 1 + len;
	}
	qsort(sorted, s->nreasons, sizeof(CrName), cr_name_cmp);
	for (int32 r = 0; r < s->nreasons; r++)
		newidx[sorted[r].old] = r;

	times = palloc(sizeof(double) * Max((Size) s->npoints * 2, 1));
	for (int32 i = 0; i < s->nslots; i++)
	{
		CrSlot	   *q = &slots[i];

		if (q->code == CR_EMPTY_CODE)
			continue;
		if (used == s->npoints || q->code < 0 || q->code >= CR_CODE_REASON + s->nreasons ||
			!(q->t >= 0.0 && q->t <= DBL_MAX) ||
			!(q->e == 0.0 || (q->e > 0.0 && q->e < q->t && q->code != CR_CODE_ENTERED)))
			cr_corrupted("Inconsistent hash table.");
		times[ntimes++] = q->t;
		if (q->e != 0.0)
		{
			times[ntimes++] = q->e;
			npairs++;
		}
		by_time |= q->code == CR_CODE_ENTERED;
		used++;
	}
	if (used != s->npoints)
		cr_corrupted("Inconsistent hash table.");
	cr_sort_times(times, ntimes);
	if (ntimes > 0)
	{
		int32		n = 1;

		for (int32 i = 1; i < ntimes; i++)
			if (times[i] != times[n - 1])
				times[n++] = times[i];
		ntimes = n;
	}

	c = cr_new_compact(ntimes, s->nreasons, by_time ? 0 : npairs, s->names_len);
	memcpy(cr_times(c), times, sizeof(double) * ntimes);
	counts = cr_counts(c);
	pairs = cr_pairs(c);
	npairs = 0;
	for (int32 i = 0; i < s->nslots; i++)
	{
		CrSlot	   *q = &slots[i];
		int32		col;
		int64	   *cell;

		if (q->code == CR_EMPTY_CODE)
			continue;
		col = q->code == CR_CODE_ENTERED ? CR_COL_ENTERED :
			q->code == CR_CODE_CENSORED ? CR_COL_CENSORED :
			CR_COL_REASON + newidx[q->code - CR_CODE_REASON];
		cell = &counts[(Size) cr_time_index(times, ntimes, q->t) * cols + col];
		*cell = cs_add_count(*cell, q->count);
		if (q->e != 0.0)
		{
			int32		entry = cr_time_index(times, ntimes, q->e);

			cell = &counts[(Size) entry * cols + CR_COL_ENTERED];
			*cell = cs_add_count(*cell, q->count);
			if (!by_time)
			{
				pairs[npairs].entry = entry;
				pairs[npairs].exit = cr_time_index(times, ntimes, q->t);
				pairs[npairs].col = col;
				pairs[npairs].pad = 0;
				pairs[npairs].count = q->count;
				npairs++;
			}
		}
		if (q->e != 0.0 || col == CR_COL_ENTERED)
			c->flags |= CR_FLAG_LATE;
	}
	if (npairs > 0)
	{
		cr_sort_pairs(pairs, npairs);
		c->flags |= CR_FLAG_PAIRS;
	}
	out = cr_compact_names(c);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		*out = (char) sorted[r].len;
		memcpy(out + 1, sorted[r].name, sorted[r].len);
		out += 1 + sorted[r].len;
	}
	pfree(times);
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
			(Size) s->nslots > MaxAllocSize / sizeof(CrSlot) ||
			cr_names_cap(s) < 0 || cr_names_cap(s) > CR_NAMES_CAP)
			cr_corrupted("Its size does not match its table.");
		s = cr_compact(s);
	}
	else if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS || s->npoints < 0 ||
			 s->nslots != s->npoints || s->names_len < 0 || s->names_len > CR_NAMES_CAP ||
			 CR_NPAIRS(s) < 0 || CR_NPAIRS(s) > CR_MAX_CELLS / 3 ||
			 (int64) s->npoints * CR_COLS(s->nreasons) > CR_MAX_CELLS ||
			 VARSIZE(s) != cr_compact_bytes(s->npoints, s->nreasons, CR_NPAIRS(s), s->names_len))
		cr_corrupted("Its size does not match its number of points.");
	problem = cr_check(s);
	if (problem)
		cr_corrupted(problem);
	return s;
}

/* The hashed code of column k of a compact summary; map: its reasons' codes */
static inline int32
cr_code(int32 k, const int32 *map)
{
	return k == CR_COL_ENTERED ? CR_CODE_ENTERED :
		k == CR_COL_CENSORED ? CR_CODE_CENSORED :
		CR_CODE_REASON + map[k - CR_COL_REASON];
}

static inline void
cr_add_slot(CrSummary *s, double t, double e, int32 code, int64 n)
{
	CrSlot	   *slot = cr_slot(s, t, e, code);

	slot->count = cs_add_count(slot->count, n);
}

/*
 * Add a compact summary to a hashed one, whose reason index of other's
 * reason r is map[r]; the result may be a bigger copy.  The customers of a
 * pair go to their (exit, entry) slot, the rest of a row's to (exit, 0);
 * the entries of a summary without pairs to (time, 0, CR_CODE_ENTERED).
 */
static CrSummary *
cr_add_compact(CrSummary *state, CrSummary *other, const int32 *map)
{
	int32		cols = CR_COLS(other->nreasons);
	double	   *t = cr_times(other);
	int64	   *counts = cr_counts(other);
	CrPair	   *pairs = cr_pairs(other);
	int32		npairs = CR_NPAIRS(other);
	int64		late[CR_COLS(CR_MAX_REASONS)];
	int32		p = 0;

	for (int32 i = 0; i < other->npoints; i++)
	{
		int32		first = p;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		memset(late, 0, sizeof(int64) * cols);
		for (; p < npairs && pairs[p].exit == i; p++)
			late[pairs[p].col] += pairs[p].count;
		state = cr_reserve(state, cols + (p - first));
		for (int32 k = npairs > 0 ? CR_COL_CENSORED : CR_COL_ENTERED; k < cols; k++)
		{
			int64		n = counts[(Size) i * cols + k] - late[k];

			if (n != 0)
				cr_add_slot(state, t[i], 0.0, cr_code(k, map), n);
		}
		for (int32 q = first; q < p; q++)
			cr_add_slot(state, t[i], t[pairs[q].entry], cr_code(pairs[q].col, map),
						pairs[q].count);
	}
	return state;
}

/* The hashed working form of a compact summary, with room for extra slots */
static CrSummary *
cr_hashed_from(CrSummary *c, int64 extra)
{
	CrSummary  *h = cr_new_hashed(cr_slots_for((int64) c->npoints * CR_COLS(c->nreasons) +
											   CR_NPAIRS(c) + extra),
								  Max(c->names_len, CR_MIN_NAMES));
	int32		map[CR_MAX_REASONS];

	memcpy(cr_hashed_names(h), cr_compact_names(c), c->names_len);
	h->nreasons = c->nreasons;
	h->names_len = c->names_len;
	for (int32 r = 0; r < c->nreasons; r++)
		map[r] = r;
	return cr_add_compact(h, c, map);
}

/*
 * The state argument of a transition or combine function in hashed form:
 * argument 0 itself when it is one (updated in place), else a new one in the
 * current context (the executor copies a returned new pointer into the
 * aggregate context itself).
 */
static inline CrSummary *
cr_working(CrSummary *s, int64 extra)
{
	if (likely(s != NULL))
	{
		if (likely(VARATT_IS_4B_U(s) && (s->flags & CR_FLAG_HASHED)))
			return s;
		return cr_hashed_from(cr_read(PointerGetDatum(s)), extra);
	}
	return cr_new_hashed(cr_slots_for(extra), CR_MIN_NAMES);
}

static inline CrSummary *
cr_working_state(FunctionCallInfo fcinfo, int64 extra)
{
	return cr_working(PG_ARGISNULL(0) ? NULL : (CrSummary *) PG_GETARG_POINTER(0), extra);
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
	state = cr_working_state(fcinfo, 1);
	state = cr_reserve(state, 1);
	if (reason != NULL)
		code = CR_CODE_REASON + cr_reason_index(fname, &state, VARDATA_ANY(reason), len);
	cr_slot(state, duration, entry > 0.0 ? entry : 0.0, code)->count++;
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

/*
 * Merge the compact summary other into state (NULL for none yet): the one
 * merge step of competing_risks_combine() (the rollup() aggregate) and of
 * competing_risks_merge() (rollup(a, b)), so that the two agree.  state is
 * changed in place only when it is a hashed working state; else, and when
 * the table grows, the result is a new value in the current context.
 */
static CrSummary *
cr_combine_into(CrSummary *state, CrSummary *other)
{
	int32		map[CR_MAX_REASONS];
	const char *p;

	state = cr_working(state, (int64) other->npoints * CR_COLS(other->nreasons) +
					   CR_NPAIRS(other));
	p = cr_compact_names(other);
	for (int32 r = 0; r < other->nreasons; r++)
	{
		map[r] = cr_reason_index("rollup", &state, p + 1, (uint8) *p);
		p += 1 + (uint8) *p;
	}
	return cr_add_compact(state, other, map);
}

/* Merge two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(competing_risks_combine);
Datum
competing_risks_combine(PG_FUNCTION_ARGS)
{
	(void) cs_agg_context(fcinfo);
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	PG_RETURN_POINTER(cr_combine_into(PG_ARGISNULL(0) ? NULL : (CrSummary *) PG_GETARG_POINTER(0),
									  cr_read(PG_GETARG_DATUM(1))));
}

/*
 * rollup(a, b) and a + b: what the rollup() aggregate does over a then b
 * (each merged into a working state of its own, never into an argument,
 * which may be a stored value), then its final function: the compact
 * summary.  A NULL argument is skipped, as the aggregate skips it.
 */
PG_FUNCTION_INFO_V1(competing_risks_merge);
Datum
competing_risks_merge(PG_FUNCTION_ARGS)
{
	CrSummary  *state = NULL;

	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(i))
			state = cr_combine_into(state, cr_read(PG_GETARG_DATUM(i)));
	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(cr_read(PointerGetDatum(state)));
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
 * state probabilities just after it and the variances of the infinitesimal
 * jackknife (R's survfit for multi-state curves).
 *
 * The jackknife variance of p(t) is the sum over customers i of
 * (dp(t)/dw_i)^2, w_i the case weight of i.  With a_j = 1 - d_j/n_j the
 * derivatives follow the Aalen-Johansen recursion
 *   dS(t_j)   = a_j dS(t_j-1) - S(t_j-1) (dN_i(t_j) - Y_i(t_j) d_j/n_j) / n_j
 *   dF_k(t_j) = dF_k(t_j-1) + dS(t_j-1) d_kj/n_j
 *               + S(t_j-1) (dN_ik(t_j) - Y_i(t_j) d_kj/n_j) / n_j
 * (Y_i = 1 while i is at risk, dN_i = 1 at i's churn).  The recursion is
 * affine with coefficients common to everyone: every customer observed from
 * the start shares one value (ur, vr) while at risk, and those who left all
 * follow its linear part, (u, v_k) -> (a_j u, v_k + u d_kj/n_j); so it is
 * enough to carry the sums su = sum of u^2, sv_k = sum of v_k^2 and
 * suv_k = sum of u v_k over those who left, and add each time's leavers
 * with their own values.
 *
 * Late entry: that linear part is the Aalen-Johansen step itself, which
 * takes (S, F_k) at e to (S, F_k) at t.  A customer who enters at e starts
 * from 0 after the step of e, so while at risk his derivatives are
 * (ur, vr)(t) less that map applied to (ur, vr)(e): with h = ur(e)/S(e) and
 * g_k = vr_k(e) - h F_k(e),
 *   u = ur(t) - h S(t),   v_k = vr_k(t) - h F_k(t) - g_k,
 * and 0 throughout if S(e) = 0 (nothing after e carries weight).  The
 * customers of one pair share (h, g), known from their entry on.  The sums
 * of u^2 and of v_k^2 over those at risk follow from their number and the
 * means and centred second moments of (h, g_k) (Welford's updates as they
 * enter and leave); the leavers of a pair join the sums of those who left
 * with their own values.  O(times x reasons + pairs x reasons) in all;
 * customers observed from the start have h = g = 0.  A late-entry summary
 * without pairs (stored by 1.2) has no standard errors.
 */
typedef struct CrMoments
{
	double		n;				/* customers at risk (derivatives not all 0) */
	double		mh;				/* mean of h */
	double		chh;			/* sum of (h - mh)^2 */
	double	   *mg;				/* per reason: mean of g_k */
	double	   *chg;			/* sum of (h - mh)(g_k - mg_k) */
	double	   *cgg;			/* sum of (g_k - mg_k)^2 */
} CrMoments;

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
	/* late entry with pairs */
	CrMoments	m;
	int32		pair;			/* next pair to take */
	double	   *h;				/* per time: h of who entered then (NaN: 0) */
	double	   *g;				/* per time and reason: g_k */
	double	   *zeros;			/* nreasons zeros: h = g = 0 */
	double	   *v;				/* scratch: a leaver's v_k */
	int64	   *late;			/* per column: leavers at this time of pairs */
} CrWalk;

static double *
cr_doubles(int32 n)
{
	return palloc0(sizeof(double) * Max(n, 1));
}

/* Add (sign 1) or take away (sign -1) count customers with constants (h, g) */
static void
cr_moments_update(CrMoments *m, int32 r, double h, const double *g, double count, int sign)
{
	double		n = m->n + sign * count;
	double		f;
	double		step;
	double		dh = h - m->mh;

	if (n <= 0.0)
	{
		/* nobody left at risk: start afresh, without rounding residue */
		m->n = m->mh = m->chh = 0.0;
		for (int32 k = 0; k < r; k++)
			m->mg[k] = m->chg[k] = m->cgg[k] = 0.0;
		return;
	}
	f = sign * count * (m->n / n);
	step = sign * count / n;
	for (int32 k = 0; k < r; k++)
	{
		double		dg = g[k] - m->mg[k];

		m->chg[k] += f * dh * dg;
		m->cgg[k] += f * dg * dg;
		m->mg[k] += step * dg;
	}
	m->chh += f * dh * dh;
	m->mh += step * dh;
	m->n = n;
}

static void
cr_walk_init(CrWalk *w, CrSummary *s, bool with_var)
{
	int32		r = s->nreasons;
	int64	   *counts = cr_counts(s);
	int64		initial = 0;

	memset(w, 0, sizeof(CrWalk));
	w->s = s;
	w->cols = CR_COLS(r);
	w->with_var = with_var &&
		(!(s->flags & CR_FLAG_LATE) || (s->flags & CR_FLAG_PAIRS));
	for (int32 i = 0; i < s->npoints; i++)
	{
		for (int32 k = CR_COL_CENSORED; k < w->cols; k++)
			initial += counts[(Size) i * w->cols + k];
		initial -= counts[(Size) i * w->cols + CR_COL_ENTERED];
	}
	w->left = initial;
	w->surv = 1.0;
	w->cif = cr_doubles(r);
	w->vr = cr_doubles(r);
	w->sv = cr_doubles(r);
	w->suv = cr_doubles(r);
	w->var_cif = cr_doubles(r);
	if (w->with_var)
	{
		w->m.n = (double) initial;
		w->m.mg = cr_doubles(r);
		w->m.chg = cr_doubles(r);
		w->m.cgg = cr_doubles(r);
		w->zeros = cr_doubles(r);
		w->v = cr_doubles(r);
		w->late = palloc0(sizeof(int64) * w->cols);
		if (CR_NPAIRS(s) > 0)
		{
			w->h = cr_doubles(s->npoints);
			w->g = palloc0(sizeof(double) * (Size) s->npoints * Max(r, 1));
		}
	}
}

/*
 * The variances after the step of time row (already applied to surv and
 * cif): p0 = S and n = at risk before it, a = 1 - d/n.
 */
static void
cr_walk_var(CrWalk *w, const int64 *row, double p0, double n, double a)
{
	int32		r = w->s->nreasons;
	CrPair	   *pairs = cr_pairs(w->s);
	double		q = p0 / n;		/* the jump of a churn */
	double		d = 0.0;
	double		c0;
	double		d0 = 0.0;
	double		ur_old = w->ur;
	double		ue;
	CrMoments  *m = &w->m;

	/* the leavers of this time who entered late, per column */
	memset(w->late, 0, sizeof(int64) * w->cols);
	for (int32 p = w->pair; p < CR_NPAIRS(w->s) && pairs[p].exit == w->j - 1; p++)
		w->late[pairs[p].col] += pairs[p].count;
	for (int32 k = 0; k < r; k++)
		d += (double) row[CR_COL_REASON + k];
	w->ur = a * ur_old + q * (d / n);
	ue = w->ur - q;

	/* those who left before: the linear map of this step */
	for (int32 k = 0; k < r; k++)
	{
		double		lk = (double) row[CR_COL_REASON + k] / n;

		w->sv[k] += 2.0 * lk * w->suv[k] + lk * lk * w->su;
		w->suv[k] = a * (w->suv[k] + lk * w->su);
		w->vr[k] += lk * ur_old - q * lk;
	}
	w->su *= a * a;

	/* the leavers observed from the start: censored, then churned */
	c0 = (double) (row[CR_COL_CENSORED] - w->late[CR_COL_CENSORED]);
	for (int32 k = 0; k < r; k++)
	{
		double		dk = (double) (row[CR_COL_REASON + k] - w->late[CR_COL_REASON + k]);
		double		vk = w->vr[k];

		d0 += dk;
		w->sv[k] += c0 * vk * vk + 2.0 * dk * vk * q + dk * q * q;
		w->suv[k] += c0 * w->ur * vk + ue * dk * q;
	}
	for (int32 k = 0; k < r; k++)
	{
		w->sv[k] += d0 * w->vr[k] * w->vr[k];
		w->suv[k] += ue * d0 * w->vr[k];
	}
	w->su += c0 * w->ur * w->ur + d0 * ue * ue;
	cr_moments_update(m, r, 0.0, w->zeros, c0 + d0, -1);

	/* the leavers of pairs, with their own values */
	for (; w->pair < CR_NPAIRS(w->s) && pairs[w->pair].exit == w->j - 1; w->pair++)
	{
		CrPair	   *p = &pairs[w->pair];
		double		h = w->h[p->entry];
		double	   *g = &w->g[(Size) p->entry * r];
		double		cnt = (double) p->count;
		double		u;

		if (isnan(h))
			continue;
		u = w->ur - h * w->surv;
		for (int32 k = 0; k < r; k++)
			w->v[k] = w->vr[k] - h * w->cif[k] - g[k];
		if (p->col != CR_COL_CENSORED)
		{
			u -= q;
			w->v[p->col - CR_COL_REASON] += q;
		}
		w->su += cnt * u * u;
		for (int32 k = 0; k < r; k++)
		{
			w->sv[k] += cnt * w->v[k] * w->v[k];
			w->suv[k] += cnt * u * w->v[k];
		}
		cr_moments_update(m, r, h, g, cnt, -1);
	}

	/* and those still at risk */
	{
		double		mu = w->ur - w->surv * m->mh;

		w->var_surv = w->su + m->n * mu * mu + w->surv * w->surv * m->chh;
	}
	for (int32 k = 0; k < r; k++)
	{
		double		f = w->cif[k];
		double		mv = w->vr[k] - f * m->mh - m->mg[k];

		w->var_cif[k] = w->sv[k] + m->n * mv * mv + f * f * m->chh +
			2.0 * f * m->chg[k] + m->cgg[k];
	}
}

/* Customers entering at the time just taken: their constants (h, g) */
static void
cr_walk_enter(CrWalk *w, int64 entered)
{
	int32		r = w->s->nreasons;
	int32		j = w->j - 1;
	double	   *g = &w->g[(Size) j * r];
	double		h;

	if (!(w->surv > 0.0))
	{
		w->h[j] = get_float8_nan();
		return;
	}
	h = w->ur / w->surv;
	for (int32 k = 0; k < r; k++)
		g[k] = w->vr[k] - h * w->cif[k];
	w->h[j] = h;
	cr_moments_update(&w->m, r, h, g, (double) entered, 1);
}

/* Take the next time; false when there is none left */
static bool
cr_walk_step(CrWalk *w)
{
	int32		r = w->s->nreasons;
	int64	   *row;
	int64		di = 0;
	double		n;
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
	w->at_risk = n;
	a = w->left > 0 ? (double) (w->left - di) / n : 1.0;
	w->left += row[CR_COL_ENTERED] - di - row[CR_COL_CENSORED];
	if (di > 0 || row[CR_COL_CENSORED] > 0)
	{
		for (int32 k = 0; k < r; k++)
			w->cif[k] += p0 * ((double) row[CR_COL_REASON + k] / n);
		w->surv = p0 * a;
		if (w->with_var)
			cr_walk_var(w, row, p0, n, a);
	}
	if (w->with_var && row[CR_COL_ENTERED] > 0)
		cr_walk_enter(w, row[CR_COL_ENTERED]);
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
 * censored={n,...} events={{n,...},{n,...}} [pairs={{e,t,k,n},...}] with one
 * list of events per reason, in the order of reasons; entered only with late
 * entry; pairs (entry, exit, column, count: column 0 censored, 1, 2, ... the
 * reasons in order) for the customers who entered after age 0, when kept.
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
	if (s->flags & CR_FLAG_PAIRS)
	{
		CrPair	   *pairs = cr_pairs(s);

		appendStringInfoString(&buf, " pairs={");
		for (int32 i = 0; i < CR_NPAIRS(s); i++)
		{
			appendStringInfoString(&buf, i > 0 ? ",{" : "{");
			cs_append_double(&buf, t[pairs[i].entry]);
			appendStringInfoChar(&buf, ',');
			cs_append_double(&buf, t[pairs[i].exit]);
			appendStringInfo(&buf, ",%d," INT64_FORMAT "}", pairs[i].col - CR_COL_CENSORED,
							 pairs[i].count);
		}
		appendStringInfoChar(&buf, '}');
	}
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

/* A pair as written: entry, exit, column (0 censored, r + 1 reason r), count */
typedef struct CrPairIn
{
	double		entry;
	double		exit;
	int64		col;
	int64		count;
} CrPairIn;

/* {{entry,exit,column,count},...} */
static int32
cr_parse_pairs(CsParse *ps, CrPairIn **out)
{
	int32		n = 0;
	int32		cap = 16;
	CrPairIn   *p = palloc(sizeof(CrPairIn) * cap);

	cs_parse_char(ps, '{');
	if (!cs_parse_peek(ps, '}'))
	{
		do
		{
			if (n == cap)
			{
				if (cap > (int32) (CR_MAX_CELLS / 8))
					cs_parse_fail(ps, "Too many pairs.");
				cap *= 2;
				p = repalloc(p, sizeof(CrPairIn) * cap);
			}
			cs_parse_char(ps, '{');
			p[n].entry = cs_parse_double(ps) + 0.0;
			cs_parse_char(ps, ',');
			p[n].exit = cs_parse_double(ps) + 0.0;
			cs_parse_char(ps, ',');
			p[n].col = cs_parse_int64(ps);
			cs_parse_char(ps, ',');
			p[n].count = cs_parse_int64(ps);
			cs_parse_char(ps, '}');
			n++;
		} while (cs_parse_peek(ps, ','));
		cs_parse_char(ps, '}');
	}
	*out = p;
	return n;
}

/* Build a compact summary from parsed parts and validate it */
static CrSummary *
cr_build(CsParse *ps, int flags, int32 nreasons, StringInfo names, int32 n,
		 const double *t, const int64 *entered, const int64 *censored, int64 **events,
		 int32 npairs, const CrPairIn *pairs)
{
	CrSummary  *s;
	int32		cols = CR_COLS(nreasons);
	int64	   *counts;
	char	   *problem;

	if (flags & ~CR_FLAGS_STORED)
		cs_parse_fail(ps, "Unknown flags 0x%02x.", flags);
	if ((int64) n * cols + (int64) npairs * 3 > CR_MAX_CELLS)
		cs_parse_fail(ps, "Too many durations.");
	s = cr_new_compact(n, nreasons, npairs, names->len);
	s->flags = flags;
	memcpy(cr_times(s), t, sizeof(double) * n);
	counts = cr_counts(s);
	for (int32 i = 0; i < n; i++)
	{
		counts[(Size) i * cols + CR_COL_ENTERED] = entered ? entered[i] : 0;
		counts[(Size) i * cols + CR_COL_CENSORED] = censored[i];
		for (int32 r = 0; r < nreasons; r++)
			counts[(Size) i * cols + CR_COL_REASON + r] = events[r][i];
		if (npairs > 0 && i > 0 && !(t[i] > t[i - 1]))
			cs_parse_fail(ps, "Durations must be distinct and in increasing order, got %g after %g.",
						  t[i], t[i - 1]);
	}
	for (int32 i = 0; i < npairs; i++)
	{
		CrPair	   *q = &cr_pairs(s)[i];

		q->entry = cr_time_index(t, n, pairs[i].entry);
		q->exit = cr_time_index(t, n, pairs[i].exit);
		if (q->entry < 0 || q->exit < 0)
			cs_parse_fail(ps, "Pair %d: its entry %g and exit %g must be durations of the summary.",
						  i + 1, pairs[i].entry, pairs[i].exit);
		if (pairs[i].col < 0 || pairs[i].col > nreasons)
			cs_parse_fail(ps, "Pair %d: column " INT64_FORMAT " is neither 0 (censored) nor a reason (1 to %d).",
						  i + 1, pairs[i].col, nreasons);
		q->col = CR_COL_CENSORED + (int32) pairs[i].col;
		q->count = pairs[i].count;
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
	int			flags = 0;
	int32		npairs = 0;
	CrPairIn   *pairs = NULL;

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
	while (*ps.p == ' ')
		ps.p++;
	if (strncmp(ps.p, "pairs=", 6) == 0)
	{
		if (!late)
			cs_parse_fail(&ps, "Pairs of entry and exit need the entered counts.");
		cs_parse_key(&ps, "pairs");
		npairs = cr_parse_pairs(&ps, &pairs);
		flags |= CR_FLAG_PAIRS;
	}
	cs_parse_end(&ps);
	PG_RETURN_POINTER(cr_build(&ps, flags | (late ? CR_FLAG_LATE : 0), nreasons, &names, times.n,
							   times.d, late ? entered.c : NULL, censored.c, events,
							   npairs, pairs));
}

/*
 * Binary form: version byte, flags byte (CR_FLAG_LATE, CR_FLAG_PAIRS),
 * int32 number of reasons, each an int32 length and its bytes, int32 number
 * of points, then per point float8 duration, int64 entered (only with late
 * entry), int64 censored and one int64 per reason; with CR_FLAG_PAIRS then
 * int32 number of pairs, each float8 entry, float8 exit, int32 column
 * (0 censored, r + 1 reason r) and int64 count.
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
	if (s->flags & CR_FLAG_PAIRS)
	{
		CrPair	   *pairs = cr_pairs(s);

		pq_sendint32(&buf, CR_NPAIRS(s));
		for (int32 i = 0; i < CR_NPAIRS(s); i++)
		{
			pq_sendfloat8(&buf, cr_times(s)[pairs[i].entry]);
			pq_sendfloat8(&buf, cr_times(s)[pairs[i].exit]);
			pq_sendint32(&buf, pairs[i].col - CR_COL_CENSORED);
			pq_sendint64(&buf, pairs[i].count);
		}
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
	int32		npairs = 0;
	CrPairIn   *pairs = NULL;

	cs_parse_init_binary(&ps, CR_TYPE);
	cs_recv_version(&ps, buf);
	flags = pq_getmsgbyte(buf);
	if (flags & ~CR_FLAGS_STORED)
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
	if (flags & CR_FLAG_PAIRS)
	{
		npairs = pq_getmsgint(buf, 4);
		if (npairs < 0 || (Size) npairs * 28 > (Size) (buf->len - buf->cursor))
			cs_parse_fail(&ps, "Invalid number of pairs %d for a message of %d bytes.", npairs, buf->len);
		pairs = palloc(sizeof(CrPairIn) * Max(npairs, 1));
		for (int32 i = 0; i < npairs; i++)
		{
			pairs[i].entry = pq_getmsgfloat8(buf) + 0.0;
			pairs[i].exit = pq_getmsgfloat8(buf) + 0.0;
			pairs[i].col = (int32) pq_getmsgint(buf, 4);
			pairs[i].count = pq_getmsgint64(buf);
		}
	}
	pq_getmsgend(buf);
	PG_RETURN_POINTER(cr_build(&ps, flags, nreasons, &names, n, t, entered, censored, events,
							   npairs, pairs));
}
