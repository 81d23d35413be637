/*
 * competing_risks_summary.c
 *	  The competing_risks_summary type: its stored layout, the hashed working
 *	  form its aggregates keep, compaction, validation and reading (the
 *	  working-form protocol of cs_common.h), and its text and binary I/O.
 *	  This is the code that sql/stored_bytes.sql and the fuzzers guard:
 *	  values stored by every released version must read back unchanged.
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

#include "common/int.h"
#include "competing_risks_summary.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

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


/*
 * A copy of a hashed summary with room for need slots in use and need_names
 * bytes of names
 */
CrSummary *
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
	bigger->u.last = s->u.last;
	bigger->last_off = s->last_off;
	memcpy(cr_hashed_names(bigger), cr_hashed_names(s), s->names_len);
	for (int32 i = 0; i < s->nslots; i++)
		if (slots[i].code != CR_EMPTY_CODE)
			cr_slot(bigger, slots[i].t, slots[i].e, slots[i].code)->count = slots[i].count;
	return bigger;
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
int32
cr_reason_index(const char *fname, CrSummary **sp, const char *name, int len)
{
	CrSummary  *s = *sp;
	char	   *names = cr_hashed_names(s);
	char	   *p = names;
	const char *last = names + s->last_off;

	if (likely(s->u.last < s->nreasons && (uint8) *last == len &&
			   memcmp(last + 1, name, len) == 0))
		return s->u.last;
	for (int32 r = 0; r < s->nreasons; r++)
	{
		if ((uint8) *p == len && memcmp(p + 1, name, len) == 0)
		{
			s->u.last = r;
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
	s->u.last = s->nreasons;
	s->last_off = p - names;
	return s->nreasons++;
}

void
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
 * The reasons of a hashed summary (in order of appearance) sorted bytewise
 * into sorted[], and the new index of each in newidx[]
 */
static void
cr_sort_reasons(CrSummary *s, CrName *sorted, int32 *newidx)
{
	char	   *names = cr_hashed_names(s);
	const char *p = names;

	for (int32 r = 0; r < s->nreasons; r++)
	{
		int			len = (uint8) *p;

		if (p + 1 + len > names + s->names_len)
			cs_corrupted(CR_TYPE, "The reasons overrun their area.");
		sorted[r].name = p + 1;
		sorted[r].len = len;
		sorted[r].old = r;
		p += 1 + len;
	}
	qsort(sorted, s->nreasons, sizeof(CrName), cr_name_cmp);
	for (int32 r = 0; r < s->nreasons; r++)
		newidx[sorted[r].old] = r;
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

	if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS || s->npoints < 0 ||
		s->npoints > s->nslots || s->names_len < 0 || s->names_len > cr_names_cap(s))
		cs_corrupted(CR_TYPE, "Inconsistent header.");
	cr_sort_reasons(s, sorted, newidx);

	times = palloc(sizeof(double) * Max((Size) s->npoints * 2, 1));
	for (int32 i = 0; i < s->nslots; i++)
	{
		CrSlot	   *q = &slots[i];

		if (q->code == CR_EMPTY_CODE)
			continue;
		if (used == s->npoints || q->code < 0 || q->code >= CR_CODE_REASON + s->nreasons ||
			!(q->t >= 0.0 && q->t <= DBL_MAX) ||
			!(q->e == 0.0 || (q->e > 0.0 && q->e < q->t && q->code != CR_CODE_ENTERED)))
			cs_corrupted(CR_TYPE, "Inconsistent hash table.");
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
		cs_corrupted(CR_TYPE, "Inconsistent hash table.");
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
CrSummary *
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
/* ---------- the working-form protocol (cs_common.h) ---------- */

static bool
cr_is_working(const void *v, int layout pg_attribute_unused())
{
	return (((const CrSummary *) v)->flags & CR_FLAG_HASHED) != 0;
}

/* The size checks of any value, then the compact form of a hashed one */
static void *
cr_stored_form(void *v)
{
	CrSummary  *s = v;

	if (s->flags & CR_FLAG_HASHED)
	{
		if (s->nslots < CR_MIN_SLOTS || (s->nslots & (s->nslots - 1)) != 0 ||
			(Size) s->nslots > MaxAllocSize / sizeof(CrSlot) ||
			cr_names_cap(s) < 0 || cr_names_cap(s) > CR_NAMES_CAP)
			cs_corrupted(CR_TYPE, "Its size does not match its table.");
		return cr_compact(s);
	}
	if (s->nreasons < 0 || s->nreasons > CR_MAX_REASONS || s->npoints < 0 ||
		s->nslots != s->npoints || s->names_len < 0 || s->names_len > CR_NAMES_CAP ||
		CR_NPAIRS(s) < 0 || CR_NPAIRS(s) > CR_MAX_CELLS / 3 ||
		(int64) s->npoints * CR_COLS(s->nreasons) > CR_MAX_CELLS ||
		VARSIZE(s) != cr_compact_bytes(s->npoints, s->nreasons, CR_NPAIRS(s), s->names_len))
		cs_corrupted(CR_TYPE, "Its size does not match its number of points.");
	return s;
}

static char *
cr_check_stored(void *v)
{
	return cr_check((CrSummary *) v);
}

/* The hashed working form of a compact summary (or an empty one), with room for extra slots */
static void *
cr_make_working(void *stored, int layout pg_attribute_unused(), int64 extra)
{
	if (stored == NULL)
		return cr_new_hashed(cr_slots_for(extra), CR_MIN_NAMES);
	return cr_hashed_from((CrSummary *) stored, extra);
}

const CsWorkingType competing_risks_summary_type = {
	.name = CR_TYPE,
	.header_bytes = CR_HEADER_BYTES,
	.is_working = cr_is_working,
	.stored_form = cr_stored_form,
	.check = cr_check_stored,
	.make_working = cr_make_working,
};

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

