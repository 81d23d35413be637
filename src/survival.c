/*
 * survival.c
 *	  Cohort churn with censoring: the Kaplan-Meier estimator, with late
 *	  entry (left truncation) and case weights, as R's survfit().
 *
 * A survival_summary holds, per distinct time, what happened there.  It has
 * two layouts, told apart by its flags:
 *
 *  - compact counts (survival_agg(duration, churned), 1.0 and 1.1 values):
 *    per distinct duration, the number of customers who churned there and
 *    the number censored there (still active when last observed), as int64;
 *  - weighted points (SURV_FLAG_ENTRY: survival_agg(duration, churned,
 *    entry [, weight])): per distinct time, the weight of customers who
 *    entered there (at risk only after it, R's Surv(entry, duration,
 *    churned)), who churned there and who were censored there, as doubles.
 *    SURV_FLAG_WEIGHTED says some weight was not 1; without it every value
 *    is a whole number.  Customers of such a summary without an entry time
 *    (merged in from a compact summary by rollup()) are at risk from the
 *    start.
 *
 * So an unweighted summary without entries keeps the 1.0 form: a 1.0 or 1.1
 * value reads back unchanged, and costs what it did (24 bytes per distinct
 * duration).  Stored, printed and sent, a summary is sorted by time, one
 * point per distinct time, so its size grows with the number of distinct
 * times, never with the number of rows.
 *
 * While an aggregate runs, the same type is its state in a "hashed" form
 * (flag SURV_FLAG_HASHED): the points sit in an open-addressing hash table
 * keyed on the time, so that a row costs one probe and no sorting.  Once
 * the table of counts outgrows the CPU caches, a probe would wait for
 * memory on every row, so rows are first appended to a small insertion
 * buffer at the end of the state, and the buffer is flushed into the table
 * with the slots prefetched ahead, overlapping the cache misses.  The final
 * function of survival_agg() and rollup() sorts the table into the sorted
 * form.  A partial state of a parallel plan (or of a Citus worker) skips the
 * final function and can still be hashed, so every reader goes through
 * survival_read(), which sorts such a value into a fresh copy and validates
 * it: output, send, combine and the accessors only ever see sorted points.
 *
 * Why the table is written here rather than taken from lib/simplehash.h:
 * the state is a non-internal type, a flat varlena that the executor copies
 * with datumCopy() into the aggregate context whenever a transition returns
 * a new pointer, and that a partial aggregate hands on through the type's
 * output and send functions.  simplehash keeps its buckets in a separate
 * allocation behind a pointer (and a memory context pointer in its header),
 * which a flat copy would not carry.  An expanded object could carry them,
 * but would cost a memory context per group and a flattening on every path
 * that copies the datum, so the open-addressing table lives inside the
 * varlena itself: slots of points, an empty slot marked by time -1.
 *
 * Memory contract: a state that a transition or combine function replaces
 * (the first row's, or a larger table) is built in the current, per-tuple
 * memory context and returned; the executor copies it into the aggregate
 * context itself and frees the old state, so one copy per group stays
 * alive.  Between growths the state is updated in place.
 *
 * Kaplan-Meier: with n_i customers (weight) at risk at the i-th distinct
 * time t_i and d_i churn events there, S(t) = prod over t_i <= t of
 * (1 - d_i / n_i).  A customer is at risk at t when entry < t <= duration,
 * so customers censored at t_i count as at risk at t_i (events come first)
 * and those entering at t_i do not.
 */
#include "postgres.h"

#include <ctype.h>
#include <float.h>

#include "common/int.h"
#include "cs_common.h"
#include "survival.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"


typedef struct SurvivalPoint
{
	double		t;				/* duration; SURV_EMPTY_SLOT in a free slot */
	int64		churned;		/* churn events at t */
	int64		censored;		/* customers still active, observed for t */
} SurvivalPoint;

/* A point of the weighted layout (SURV_FLAG_ENTRY) */
typedef struct SurvivalXPoint
{
	double		t;				/* time; SURV_EMPTY_SLOT in a free slot */
	double		entered;		/* weight of customers entering at t */
	double		churned;		/* weight of churn events at t */
	double		censored;		/* weight of customers censored at t */
} SurvivalXPoint;

typedef struct SurvivalSummary
{
	CS_SUMMARY_HEADER;
	int32		nslots;			/* points stored; hash slots when hashed */
	int32		npoints;		/* distinct times (in the slots) */
	int32		nbuffered;		/* rows in the insertion buffer */
	int32		bufcap;			/* size of the insertion buffer (0 if none) */
	double		at;				/* cohort_churn()'s age t, if SURV_FLAG_AT */
	SurvivalPoint points[FLEXIBLE_ARRAY_MEMBER];

	/*
	 * (SurvivalXPoint slots instead, with SURV_FLAG_ENTRY) followed, when
	 * hashed, by double buffer[bufcap]: one row each, the duration, negated
	 * (sign bit set) if the customer is censored.  Only the compact layout
	 * has a buffer.
	 */
} SurvivalSummary;

#define SURV_TYPE			"survival_summary"
#define SURV_FLAG_HASHED	0x01	/* aggregate state, not yet sorted */
#define SURV_FLAG_AT		0x02	/* carries cohort_churn()'s t */
#define SURV_FLAG_ENTRY		0x04	/* weighted layout: entries and weights */
#define SURV_FLAG_WEIGHTED	0x08	/* some weight is not 1 (with ENTRY) */
#define SURV_STORED_FLAGS	(SURV_FLAG_AT | SURV_FLAG_ENTRY | SURV_FLAG_WEIGHTED)
#define SURV_EMPTY_SLOT		(-1.0)
#define SURV_MIN_SLOTS		64
#define SURV_DIRECT_SLOTS	4096	/* larger count tables use the insertion buffer */
#define SURV_BUFFER			512
#define SURV_PREFETCH		16
#define SURV_HEADER_BYTES	offsetof(SurvivalSummary, points)
#define SURV_PSIZE(flags)	(((flags) & SURV_FLAG_ENTRY) ? sizeof(SurvivalXPoint) : sizeof(SurvivalPoint))
#define SURV_BYTES_F(n, f)	(SURV_HEADER_BYTES + (Size) (n) * SURV_PSIZE(f))
#define SURV_BYTES(n)		SURV_BYTES_F(n, 0)
#define SURV_HASHED_BYTES(n, b)	(SURV_BYTES(n) + (Size) (b) * sizeof(double))
#define SURV_BUFFER_OF(s)	((double *) &(s)->points[(s)->nslots])
#define SURV_XPOINTS(s)		((SurvivalXPoint *) (s)->points)
#define SURV_MAX_POINTS		((int32) ((MaxAllocSize - SURV_HEADER_BYTES) / sizeof(SurvivalXPoint)))
/* whole numbers up to here are exact in a double */
#define SURV_MAX_EXACT		9007199254740992.0

/* A median is taken where S falls to 0.5 within rounding of the product */
#define SURV_MEDIAN_TOLERANCE	1e-12

#define ST_SORT surv_sort_points
#define ST_ELEMENT_TYPE SurvivalPoint
#define ST_COMPARE(a, b) (((a)->t > (b)->t) - ((a)->t < (b)->t))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

#define ST_SORT surv_sort_xpoints
#define ST_ELEMENT_TYPE SurvivalXPoint
#define ST_COMPARE(a, b) (((a)->t > (b)->t) - ((a)->t < (b)->t))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* A sorted summary of n points of the layout of flags, in the current context */
static SurvivalSummary *
surv_new_sorted(int32 n, int flags)
{
	SurvivalSummary *s = palloc0(SURV_BYTES_F(n, flags));

	SET_VARSIZE(s, SURV_BYTES_F(n, flags));
	s->version = CS_SUMMARY_VERSION;
	s->flags = flags;
	s->nslots = n;
	s->npoints = n;
	return s;
}

/*
 * An empty hashed state in the current (per-tuple) context: the caller
 * returns it, and the executor copies it into the aggregate context.
 */
static SurvivalSummary *
surv_new_hashed(int32 nslots, int flags)
{
	bool		entry = (flags & SURV_FLAG_ENTRY) != 0;
	int32		bufcap = (!entry && nslots > SURV_DIRECT_SLOTS) ? SURV_BUFFER : 0;
	Size		bytes = SURV_BYTES_F(nslots, flags) + (Size) bufcap * sizeof(double);
	SurvivalSummary *s = palloc(bytes);

	SET_VARSIZE(s, bytes);
	s->version = CS_SUMMARY_VERSION;
	s->flags = flags | SURV_FLAG_HASHED;
	s->reserved = 0;
	s->nslots = nslots;
	s->npoints = 0;
	s->nbuffered = 0;
	s->bufcap = bufcap;
	s->at = 0.0;
	if (entry)
	{
		SurvivalXPoint *x = SURV_XPOINTS(s);

		for (int32 i = 0; i < nslots; i++)
		{
			x[i].t = SURV_EMPTY_SLOT;
			x[i].entered = x[i].churned = x[i].censored = 0.0;
		}
	}
	else
	{
		for (int32 i = 0; i < nslots; i++)
		{
			s->points[i].t = SURV_EMPTY_SLOT;
			s->points[i].churned = 0;
			s->points[i].censored = 0;
		}
		if (bufcap > 0)
			memset(SURV_BUFFER_OF(s), 0, sizeof(double) * bufcap);
	}
	return s;
}

/* Smallest power-of-two table that keeps n points at most half full */
static int32
surv_slots_for(int32 n)
{
	int32		slots = SURV_MIN_SLOTS;

	while (slots / 2 < n)
	{
		if (slots > SURV_MAX_POINTS / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("survival_agg: too many distinct durations"),
					 errdetail("A survival_summary holds at most %d distinct durations.",
							   slots / 2)));
		slots *= 2;
	}
	return slots;
}

static inline uint32
surv_hash(double t)
{
	return cs_hash_double(t, 0);
}

/*
 * The slot of duration t in a hashed summary (a table of nslots elements of
 * width bytes at base, each starting with its double t), claimed for t if t
 * is new, probing from slot i = surv_hash(t) & mask.  The caller makes sure
 * there is room (npoints < nslots / 2).  Serves both layouts (counts and
 * weights): width is a constant where it is inlined.
 */
static inline void *
surv_probe(SurvivalSummary *s, char *base, Size width, double t, uint32 i)
{
	uint32		mask = (uint32) s->nslots - 1;

	for (;;)
	{
		double	   *p = (double *) (base + (Size) i * width);

		if (*p == t)
			return p;
		if (*p == SURV_EMPTY_SLOT)
		{
			*p = t;
			s->npoints++;
			return p;
		}
		i = (i + 1) & mask;
	}
}

/* in the layout of counts */
static inline SurvivalPoint *
surv_slot_from(SurvivalSummary *s, double t, uint32 i)
{
	return surv_probe(s, (char *) s->points, sizeof(SurvivalPoint), t, i);
}

static inline SurvivalPoint *
surv_slot(SurvivalSummary *s, double t)
{
	return surv_slot_from(s, t, surv_hash(t) & ((uint32) s->nslots - 1));
}

/* The same for the weighted layout */
static inline SurvivalXPoint *
surv_xslot(SurvivalSummary *s, double t)
{
	return surv_probe(s, (char *) SURV_XPOINTS(s), sizeof(SurvivalXPoint), t,
					  surv_hash(t) & ((uint32) s->nslots - 1));
}

/* Count one buffered row into the table */
static inline void
surv_count_buffered(SurvivalPoint *p, double v)
{
	bool		censored = signbit(v);

	p->churned += !censored;
	p->censored += censored;
}

static void
surv_add_counts(SurvivalSummary *s, const SurvivalPoint *from)
{
	SurvivalPoint *p = surv_slot(s, from->t);

	p->churned = cs_add_count(p->churned, from->churned);
	p->censored = cs_add_count(p->censored, from->censored);
}

static void
surv_add_xpoint(SurvivalSummary *s, const SurvivalXPoint *from)
{
	SurvivalXPoint *p = surv_xslot(s, from->t);

	p->entered += from->entered;
	p->churned += from->churned;
	p->censored += from->censored;
}

/*
 * A copy of a hashed summary in a table with room for need points, its
 * insertion buffer emptied into the table, built in the current context.
 * The caller returns it as the new state; the executor then copies it into
 * the aggregate context and frees the old one.
 */
static SurvivalSummary *
surv_grow(const SurvivalSummary *s, int32 need)
{
	SurvivalSummary *bigger = surv_new_hashed(surv_slots_for(need), s->flags & SURV_STORED_FLAGS);

	bigger->at = s->at;
	if (s->flags & SURV_FLAG_ENTRY)
	{
		const SurvivalXPoint *x = SURV_XPOINTS(s);

		for (int32 i = 0; i < s->nslots; i++)
			if (x[i].t != SURV_EMPTY_SLOT)
				surv_add_xpoint(bigger, &x[i]);
	}
	else
	{
		const double *buf = SURV_BUFFER_OF(s);

		for (int32 i = 0; i < s->nslots; i++)
			if (s->points[i].t != SURV_EMPTY_SLOT)
				surv_add_counts(bigger, &s->points[i]);
		for (int32 i = 0; i < s->nbuffered; i++)
			surv_count_buffered(surv_slot(bigger, fabs(buf[i])), buf[i]);
	}
	return bigger;
}

/* Prefetch a slot for writing: both cache lines, if it straddles two */
static inline void
surv_prefetch(const SurvivalPoint *p)
{
#ifdef __GNUC__
	__builtin_prefetch(p, 1);
	__builtin_prefetch((const char *) (p + 1) - 1, 1);
#endif
}

/*
 * Empty the insertion buffer into the table.  The slots of the rows are
 * computed first and prefetched SURV_PREFETCH rows ahead, so that the cache
 * misses of a table larger than the caches overlap instead of stalling each
 * row in turn.
 */
static SurvivalSummary *
surv_flush(SurvivalSummary *s)
{
	uint32		slot[SURV_BUFFER];
	const double *buf = SURV_BUFFER_OF(s);
	int32		n = s->nbuffered;
	uint32		mask;

	Assert(n <= SURV_BUFFER);
	if (s->npoints > s->nslots / 2 - n)
		return surv_grow(s, s->npoints + n);
	mask = (uint32) s->nslots - 1;
	for (int32 i = 0; i < n; i++)
	{
		slot[i] = surv_hash(fabs(buf[i])) & mask;
		if (i < SURV_PREFETCH)
			surv_prefetch(&s->points[slot[i]]);
	}
	for (int32 i = 0; i < n; i++)
	{
		if (i + SURV_PREFETCH < n)
			surv_prefetch(&s->points[slot[i + SURV_PREFETCH]]);
		surv_count_buffered(surv_slot_from(s, fabs(buf[i]), slot[i]), buf[i]);
	}
	s->nbuffered = 0;
	return s;
}

/* Room for extra more points, growing the table if it would be over half full */
static inline SurvivalSummary *
surv_reserve(SurvivalSummary *s, int32 extra)
{
	if (unlikely(s->npoints + s->nbuffered + extra > s->nslots / 2))
		s = surv_grow(s, s->npoints + s->nbuffered + extra);
	return s;
}

static bool
surv_whole(double v)
{
	return v == floor(v) && v <= SURV_MAX_EXACT;
}

/*
 * Checks of a sorted summary; NULL if it is sound, else what is wrong.
 * Shared by the input functions (which report it as 22P02/22P03) and by
 * survival_read() (which reports a stored value as corrupted).
 */
static char *
surv_check(const SurvivalSummary *s)
{
	if (s->flags & ~SURV_STORED_FLAGS)
		return psprintf("Unknown flags 0x%02x.", s->flags);
	if ((s->flags & SURV_FLAG_WEIGHTED) && !(s->flags & SURV_FLAG_ENTRY))
		return psprintf("Inconsistent flags 0x%02x.", s->flags);
	if (s->npoints != s->nslots || s->npoints < 0 || s->nbuffered != 0 || s->bufcap != 0)
		return psprintf("Inconsistent number of points.");
	if ((s->flags & SURV_FLAG_AT) && !(isfinite(s->at) && s->at >= 0))
		return psprintf("The age t must be finite and not negative, got %g.", s->at);
	if (s->flags & SURV_FLAG_ENTRY)
	{
		const SurvivalXPoint *x = SURV_XPOINTS(s);
		bool		weighted = (s->flags & SURV_FLAG_WEIGHTED) != 0;
		double		exits = 0.0;
		double		entries = 0.0;

		for (int32 i = 0; i < s->npoints; i++)
		{
			const SurvivalXPoint *p = &x[i];

			if (!isfinite(p->t) || p->t < 0)
				return psprintf("Times must be finite and not negative, got %g.", p->t);
			if (i > 0 && !(p->t > x[i - 1].t))
				return psprintf("Times must be distinct and in increasing order, got %g after %g.",
								p->t, x[i - 1].t);
			if (!(p->entered >= 0 && p->churned >= 0 && p->censored >= 0 &&
				  p->entered <= DBL_MAX && p->churned <= DBL_MAX && p->censored <= DBL_MAX))
				return psprintf("Weights must be finite and not negative, got %g, %g and %g at time %g.",
								p->entered, p->churned, p->censored, p->t);
			if (!weighted && !(surv_whole(p->entered) && surv_whole(p->churned) &&
							   surv_whole(p->censored)))
				return psprintf("Counts of an unweighted summary must be whole numbers, got %g, %g and %g at time %g.",
								p->entered, p->churned, p->censored, p->t);
			if (p->entered == 0 && p->churned == 0 && p->censored == 0)
				return psprintf("Every time must have at least one customer, none at %g.", p->t);
		}

		/*
		 * Every customer entering at or after a time leaves after it: going
		 * backwards, the weight entering at or after t_i is at most the
		 * weight leaving after t_i (within rounding, for weights).
		 */
		for (int32 i = s->npoints - 1; i >= 0; i--)
		{
			entries += x[i].entered;
			if (weighted ? entries > exits * (1.0 + 1e-9) : entries > exits)
				return psprintf("More customers enter at or after time %g than leave after it.",
								x[i].t);
			exits += x[i].churned + x[i].censored;
			if (!isfinite(exits) || (!weighted && exits > SURV_MAX_EXACT))
				return psprintf("The number of customers is out of range.");
		}
		return NULL;
	}
	else
	{
		int64		total = 0;

		for (int32 i = 0; i < s->npoints; i++)
		{
			const SurvivalPoint *p = &s->points[i];

			if (!isfinite(p->t) || p->t < 0)
				return psprintf("Durations must be finite and not negative, got %g.", p->t);
			if (i > 0 && !(p->t > s->points[i - 1].t))
				return psprintf("Durations must be distinct and in increasing order, got %g after %g.",
								p->t, s->points[i - 1].t);
			if (p->churned < 0 || p->censored < 0)
				return psprintf("Counts must not be negative, got " INT64_FORMAT " and " INT64_FORMAT " at duration %g.",
								p->churned, p->censored, p->t);
			if (p->churned == 0 && p->censored == 0)
				return psprintf("Every duration must have at least one customer, none at %g.", p->t);
			if (pg_add_s64_overflow(total, p->churned, &total) ||
				pg_add_s64_overflow(total, p->censored, &total))
				return psprintf("The number of customers is out of range for bigint.");
		}
		return NULL;
	}
}

static void
surv_corrupted(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted %s value", SURV_TYPE),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * The sorted form of a hashed summary, in a fresh palloc'd copy: the points
 * of the table and the rows of the insertion buffer, sorted, equal
 * durations merged.  surv_check() then validates the result.
 */
static SurvivalSummary *
surv_compact(const SurvivalSummary *s)
{
	SurvivalSummary *c;
	int32		n = 0;
	int32		m = 0;

	if (s->npoints > s->nslots || s->nbuffered > s->bufcap)
		surv_corrupted("More points than room for them.");
	if (s->flags & SURV_FLAG_ENTRY)
	{
		const SurvivalXPoint *x = SURV_XPOINTS(s);
		SurvivalXPoint *cx;

		if (s->bufcap != 0)
			surv_corrupted("An insertion buffer in a weighted summary.");
		c = surv_new_sorted(s->npoints, s->flags & ~SURV_FLAG_HASHED);
		c->at = s->at;
		cx = SURV_XPOINTS(c);
		for (int32 i = 0; i < s->nslots; i++)
		{
			const SurvivalXPoint *p = &x[i];

			if (p->t == SURV_EMPTY_SLOT && p->entered == 0 && p->churned == 0 && p->censored == 0)
				continue;
			if (n == s->npoints)
				surv_corrupted("More occupied hash slots than points.");
			cx[n++] = *p;
		}
		if (n != s->npoints)
			surv_corrupted("Fewer occupied hash slots than points.");
		surv_sort_xpoints(cx, n);
		return c;
	}
	else
	{
		const double *buf = SURV_BUFFER_OF(s);

		c = surv_new_sorted(s->npoints + s->nbuffered, s->flags & ~SURV_FLAG_HASHED);
		c->at = s->at;
		for (int32 i = 0; i < s->nslots; i++)
		{
			const SurvivalPoint *p = &s->points[i];

			if (p->t == SURV_EMPTY_SLOT && p->churned == 0 && p->censored == 0)
				continue;
			if (n == s->npoints)
				surv_corrupted("More occupied hash slots than points.");
			c->points[n++] = *p;
		}
		if (n != s->npoints)
			surv_corrupted("Fewer occupied hash slots than points.");
		for (int32 i = 0; i < s->nbuffered; i++)
		{
			c->points[n].t = fabs(buf[i]);
			c->points[n].churned = 0;
			c->points[n].censored = 0;
			surv_count_buffered(&c->points[n++], buf[i]);
		}
		surv_sort_points(c->points, n);

		/* merge equal durations (rows of the buffer that are in the table too) */
		for (int32 i = 0; i < n; i++)
		{
			if (m > 0 && c->points[i].t == c->points[m - 1].t)
			{
				c->points[m - 1].churned = cs_add_count(c->points[m - 1].churned, c->points[i].churned);
				c->points[m - 1].censored = cs_add_count(c->points[m - 1].censored, c->points[i].censored);
			}
			else
				c->points[m++] = c->points[i];
		}
		c->nslots = c->npoints = m;
		SET_VARSIZE(c, SURV_BYTES(m));
		return c;
	}
}

/*
 * Read a survival_summary argument: detoast it, check its shape, sort it
 * if it is an aggregate's hashed state, and validate it.
 */
static SurvivalSummary *
survival_read(Datum d)
{
	SurvivalSummary *s = cs_fetch_summary(d, SURV_TYPE, SURV_HEADER_BYTES);
	char	   *problem;

	if (s->nslots < 0 || s->nslots > SURV_MAX_POINTS || s->npoints < 0 ||
		s->bufcap < 0 || s->bufcap > SURV_BUFFER || s->nbuffered < 0 ||
		VARSIZE(s) != SURV_BYTES_F(s->nslots, s->flags) + (Size) s->bufcap * sizeof(double))
		surv_corrupted("Its size does not match its number of points.");
	if (s->flags & SURV_FLAG_HASHED)
		s = surv_compact(s);
	problem = surv_check(s);
	if (problem)
		surv_corrupted(problem);
	return s;
}

/*
 * A hashed state of the layout of flags holding the sorted summary s (or
 * nothing), with room for extra more points, in the current context.  A
 * compact summary going into a weighted state becomes weighted points,
 * its customers at risk from the start.
 */
static SurvivalSummary *
surv_hashed_from(const SurvivalSummary *s, int flags, int32 extra)
{
	SurvivalSummary *h;

	if (s == NULL)
		return surv_new_hashed(surv_slots_for(extra), flags);
	flags |= s->flags & SURV_STORED_FLAGS;
	h = surv_new_hashed(surv_slots_for(s->npoints + extra), flags);
	h->at = s->at;
	if (!(flags & SURV_FLAG_ENTRY))
	{
		for (int32 i = 0; i < s->npoints; i++)
			surv_add_counts(h, &s->points[i]);
	}
	else if (s->flags & SURV_FLAG_ENTRY)
	{
		for (int32 i = 0; i < s->npoints; i++)
			surv_add_xpoint(h, &SURV_XPOINTS(s)[i]);
	}
	else
	{
		for (int32 i = 0; i < s->npoints; i++)
		{
			SurvivalXPoint x;

			if (s->points[i].churned > SURV_MAX_EXACT || s->points[i].censored > SURV_MAX_EXACT)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("survival_agg: too many customers at duration %g to merge with a summary with entries",
								s->points[i].t)));
			x.t = s->points[i].t;
			x.entered = 0.0;
			x.churned = (double) s->points[i].churned;
			x.censored = (double) s->points[i].censored;
			surv_add_xpoint(h, &x);
		}
	}
	return h;
}

/*
 * A transition function needs the aggregate context only to know it runs
 * in an aggregate; this inline test of the node type tells that cheaply,
 * and cs_agg_context() raises the error otherwise.
 */
static inline void
surv_require_agg(FunctionCallInfo fcinfo)
{
	if (unlikely(!(fcinfo->context &&
				   (IsA(fcinfo->context, AggState) || IsA(fcinfo->context, WindowAggState)))))
		(void) cs_agg_context(fcinfo);
}

/*
 * The state argument of a transition or combine function, hashed, in the
 * layout of flags (SURV_FLAG_ENTRY or 0), with room for extra points: the
 * state itself when it is one, else a new one in the current context (for
 * the first row, an initial condition that a user-defined aggregate read
 * from text, or a change of layout).
 */
static inline SurvivalSummary *
surv_working(SurvivalSummary *s, int flags, int32 extra)
{
	if (likely(s != NULL))
	{
		if (likely((s->flags & SURV_FLAG_HASHED) &&
				   ((s->flags & SURV_FLAG_ENTRY) || !(flags & SURV_FLAG_ENTRY))))
			return s;
		return surv_hashed_from(survival_read(PointerGetDatum(s)), flags, extra);
	}
	return surv_hashed_from(NULL, flags, extra);
}

static inline SurvivalSummary *
surv_working_state(FunctionCallInfo fcinfo, int flags, int32 extra)
{
	return surv_working(PG_ARGISNULL(0) ? NULL : (SurvivalSummary *) PG_GETARG_POINTER(0),
						flags, extra);
}


/* ---------- aggregate support ---------- */

static inline double
surv_check_duration(const char *fname, double duration)
{
	if (unlikely(!(duration >= 0.0 && duration <= DBL_MAX)))
		cs_require_nonnegative(fname, "duration", duration);
	/* -0 and 0 are one duration */
	return duration + 0.0;
}

/* A row of survival_agg(duration, churned) in a state of the weighted layout */
static pg_noinline SurvivalSummary *
surv_count_row_x(SurvivalSummary *state, double duration, bool churned)
{
	SurvivalXPoint *p;

	state = surv_reserve(state, 1);
	p = surv_xslot(state, duration);
	if (churned)
		p->churned += 1.0;
	else
		p->censored += 1.0;
	return state;
}

static inline SurvivalSummary *
surv_count_row(SurvivalSummary *state, double duration, bool churned)
{
	SurvivalPoint *p;

	if (unlikely(state->flags & SURV_FLAG_ENTRY))
		return surv_count_row_x(state, duration, churned);
	if (state->bufcap > 0)
	{
		SURV_BUFFER_OF(state)[state->nbuffered++] = churned ? duration : -duration;
		if (state->nbuffered == state->bufcap)
			state = surv_flush(state);
		return state;
	}
	state = surv_reserve(state, 1);
	p = surv_slot(state, duration);
	p->churned += churned;
	p->censored += !churned;
	return state;
}

PG_FUNCTION_INFO_V1(survival_accum);
Datum
survival_accum(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state;
	double		duration;

	surv_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = surv_check_duration("survival_agg", PG_GETARG_FLOAT8(1));
	state = surv_working_state(fcinfo, 0, 1);
	PG_RETURN_POINTER(surv_count_row(state, duration, PG_GETARG_BOOL(2)));
}

/*
 * survival_agg(duration, churned, entry [, weight]): the row's entry time
 * and its weight go into a state of the weighted layout.  A row of weight 0
 * adds nothing.
 */
static Datum
surv_accum_entry(FunctionCallInfo fcinfo, bool has_weight)
{
	SurvivalSummary *state;
	SurvivalXPoint *p;
	double		duration;
	double		entry;
	double		weight = 1.0;

	surv_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || (has_weight && PG_ARGISNULL(4)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = surv_check_duration("survival_agg", PG_GETARG_FLOAT8(1));
	entry = PG_GETARG_FLOAT8(3);
	if (unlikely(!(entry >= 0.0 && entry < duration)))
	{
		if (!(entry >= 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("survival_agg: entry must be a number not below 0, got %g", entry)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_agg: entry must be less than duration, got entry %g and duration %g",
						entry, duration),
				 errhint("A customer is at risk when entry < t <= duration.")));
	}
	entry += 0.0;
	if (has_weight)
	{
		weight = PG_GETARG_FLOAT8(4);
		if (unlikely(!(weight >= 0.0 && weight <= DBL_MAX)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("survival_agg: weight must be finite and not negative, got %g", weight)));
		if (weight == 0.0)
		{
			if (PG_ARGISNULL(0))
				PG_RETURN_NULL();
			PG_RETURN_POINTER(PG_GETARG_POINTER(0));
		}
	}
	state = surv_working_state(fcinfo, SURV_FLAG_ENTRY, 2);
	state = surv_reserve(state, 2);
	p = surv_xslot(state, entry);
	p->entered += weight;
	p = surv_xslot(state, duration);
	if (PG_GETARG_BOOL(2))
		p->churned += weight;
	else
		p->censored += weight;
	if (weight != 1.0)
		state->flags |= SURV_FLAG_WEIGHTED;
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(survival_entry_accum);
Datum
survival_entry_accum(PG_FUNCTION_ARGS)
{
	return surv_accum_entry(fcinfo, false);
}

PG_FUNCTION_INFO_V1(survival_weighted_accum);
Datum
survival_weighted_accum(PG_FUNCTION_ARGS)
{
	return surv_accum_entry(fcinfo, true);
}

static void
surv_set_at(SurvivalSummary *state, double t)
{
	if (!(state->flags & SURV_FLAG_AT))
	{
		state->flags |= SURV_FLAG_AT;
		state->at = t;
	}
	else if (state->at != t)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort_churn: t must be the same in every row, got %g after %g",
						t, state->at)));
}

/* cohort_churn(duration, churned, t): survival_agg that also keeps t */
PG_FUNCTION_INFO_V1(survival_cohort_accum);
Datum
survival_cohort_accum(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state;
	double		duration;
	double		t;

	surv_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = surv_check_duration("cohort_churn", PG_GETARG_FLOAT8(1));
	t = PG_GETARG_FLOAT8(3);
	state = surv_working_state(fcinfo, 0, 1);
	if (unlikely(!(state->flags & SURV_FLAG_AT) || state->at != t))
	{
		cs_require_nonnegative("cohort_churn", "t", t);
		surv_set_at(state, t + 0.0);
	}
	PG_RETURN_POINTER(surv_count_row(state, duration, PG_GETARG_BOOL(2)));
}

/*
 * Merge the sorted summary other into state (NULL for none yet): the one
 * merge step of survival_combine() (the rollup() aggregate) and of
 * survival_merge() (rollup(a, b)), so that the two agree.  state is changed
 * in place only when it is a hashed working state; else, and when the table
 * grows, the result is a new value in the current context.
 */
static SurvivalSummary *
surv_combine_into(SurvivalSummary *state, const SurvivalSummary *other)
{
	state = surv_working(state, other->flags & SURV_FLAG_ENTRY, other->npoints);
	if (other->flags & SURV_FLAG_AT)
		surv_set_at(state, other->at);
	if (state->flags & SURV_FLAG_ENTRY)
	{
		state->flags |= other->flags & SURV_FLAG_WEIGHTED;
		for (int32 i = 0; i < other->npoints; i++)
		{
			SurvivalXPoint x;

			if ((i & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			if (other->flags & SURV_FLAG_ENTRY)
				x = SURV_XPOINTS(other)[i];
			else
			{
				if (other->points[i].churned > SURV_MAX_EXACT || other->points[i].censored > SURV_MAX_EXACT)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("rollup: too many customers at duration %g to merge with a summary with entries",
									other->points[i].t)));
				x.t = other->points[i].t;
				x.entered = 0.0;
				x.churned = (double) other->points[i].churned;
				x.censored = (double) other->points[i].censored;
			}
			state = surv_reserve(state, 1);
			surv_add_xpoint(state, &x);
		}
	}
	else
	{
		for (int32 i = 0; i < other->npoints; i++)
		{
			if ((i & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			state = surv_reserve(state, 1);
			surv_add_counts(state, &other->points[i]);
		}
	}
	return state;
}

/* Merge two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(survival_combine);
Datum
survival_combine(PG_FUNCTION_ARGS)
{
	(void) cs_agg_context(fcinfo);
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	PG_RETURN_POINTER(surv_combine_into(PG_ARGISNULL(0) ? NULL : (SurvivalSummary *) PG_GETARG_POINTER(0),
										survival_read(PG_GETARG_DATUM(1))));
}

/*
 * rollup(a, b) and a + b: what the rollup() aggregate does over a then b
 * (each merged into a working state of its own, never into an argument,
 * which may be a stored value), then its final function: the sorted
 * summary.  A NULL argument is skipped, as the aggregate skips it.
 */
PG_FUNCTION_INFO_V1(survival_merge);
Datum
survival_merge(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state = NULL;

	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(i))
			state = surv_combine_into(state, survival_read(PG_GETARG_DATUM(i)));
	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(survival_read(PointerGetDatum(state)));
}

/* Final function of survival_agg() and rollup(): the sorted summary */
PG_FUNCTION_INFO_V1(survival_agg_final);
Datum
survival_agg_final(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(survival_read(PG_GETARG_DATUM(0)));
}

/* The points of a sorted summary as survival.h describes them */
static void
surv_data_of(const SurvivalSummary *s, SurvData *out)
{
	double		entered = 0.0;
	double		exits = 0.0;

	out->npoints = s->npoints;
	out->weighted = (s->flags & SURV_FLAG_WEIGHTED) != 0;
	out->late_entry = false;
	out->points = palloc(sizeof(SurvDataPoint) * Max(s->npoints, 1));
	for (int32 i = 0; i < s->npoints; i++)
	{
		SurvDataPoint *p = &out->points[i];

		if (s->flags & SURV_FLAG_ENTRY)
		{
			const SurvivalXPoint *x = &SURV_XPOINTS(s)[i];

			p->t = x->t;
			p->entered = x->entered;
			p->churned = x->churned;
			p->censored = x->censored;
		}
		else
		{
			p->t = s->points[i].t;
			p->entered = 0.0;
			p->churned = (double) s->points[i].churned;
			p->censored = (double) s->points[i].censored;
		}
		entered += p->entered;
		exits += p->churned + p->censored;
		if (p->entered > 0)
			out->late_entry = true;
	}
	/* customers without an entry time: those leaving less those entering */
	out->initial = Max(exits - entered, 0.0);
}

/*
 * survival.h's reader for the other families: a copy of the points, with
 * counts as weights.  A 1.0/1.1 summary has neither weights nor late entry.
 */
void
survival_data_read(Datum summary, SurvData *out)
{
	surv_data_of(survival_read(summary), out);
}

/* ---------- Kaplan-Meier ---------- */

/*
 * A summary read for the estimators: its points, and the weight at risk at
 * each, n_i = (weight leaving at or after t_i) - (weight entering at or
 * after t_i), summed backwards as R does.  Rounding of weights can never
 * leave fewer at risk than leave there.
 */
typedef struct SurvCurve
{
	SurvData	d;
	double	   *risk;
} SurvCurve;

static void
surv_curve_of(const SurvivalSummary *s, SurvCurve *c)
{
	double		exits = 0.0;
	double		entries = 0.0;

	surv_data_of(s, &c->d);
	c->risk = palloc(sizeof(double) * Max(c->d.npoints, 1));
	for (int32 i = c->d.npoints - 1; i >= 0; i--)
	{
		const SurvDataPoint *p = &c->d.points[i];
		double		leave = p->churned + p->censored;

		exits += leave;
		entries += p->entered;
		c->risk[i] = Max(exits - entries, leave);
	}
}

/* Read a summary argument for the estimators; false if it is empty */
static bool
surv_curve_arg(FunctionCallInfo fcinfo, int argno, SurvCurve *c)
{
	surv_curve_of(survival_read(PG_GETARG_DATUM(argno)), c);
	return c->d.npoints > 0;
}

static double
surv_require_age(const char *fname, const char *what, double t)
{
	cs_require_nonnegative(fname, what, t);
	return t;
}

/*
 * One Kaplan-Meier step at point i: S drops by the share of those at risk
 * who churn there.
 */
static inline void
surv_step(const SurvCurve *c, int32 i, double *surv)
{
	double		d = c->d.points[i].churned;

	if (d > 0)
		*surv *= (c->risk[i] - d) / c->risk[i];
}

/* S(t) */
static double
surv_at(const SurvCurve *c, double t)
{
	double		surv = 1.0;

	for (int32 i = 0; i < c->d.npoints && c->d.points[i].t <= t; i++)
		surv_step(c, i, &surv);
	return surv;
}

/*
 * The arguments (summary, age) of the functions of S at an age: false when
 * the summary is empty; the age checked into *t.
 */
static bool
surv_age_args(FunctionCallInfo fcinfo, const char *fname, const char *what,
			  SurvCurve *c, double *t)
{
	bool		nonempty = surv_curve_arg(fcinfo, 0, c);

	*t = surv_require_age(fname, what, PG_GETARG_FLOAT8(1));
	return nonempty;
}

PG_FUNCTION_INFO_V1(survival_at);
Datum
survival_at(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		t;

	if (!surv_age_args(fcinfo, "survival_at", "t", &c, &t))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(surv_at(&c, t));
}

PG_FUNCTION_INFO_V1(churn_rate_at);
Datum
churn_rate_at(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		t;

	if (!surv_age_args(fcinfo, "churn_rate_at", "t", &c, &t))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(1.0 - surv_at(&c, t));
}

/* Nelson-Aalen H(t) = sum over t_i <= t of d_i / n_i */
PG_FUNCTION_INFO_V1(cumulative_hazard_at);
Datum
cumulative_hazard_at(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		t;
	CsSum		h = {0.0, 0.0};

	if (!surv_age_args(fcinfo, "cumulative_hazard_at", "t", &c, &t))
		PG_RETURN_NULL();
	for (int32 i = 0; i < c.d.npoints && c.d.points[i].t <= t; i++)
		if (c.d.points[i].churned > 0)
			cs_sum_add(&h, c.d.points[i].churned / c.risk[i]);
	PG_RETURN_FLOAT8(cs_sum_value(&h));
}

/* Final function of cohort_churn(): 1 - S(t) at the t the rows carried */
PG_FUNCTION_INFO_V1(survival_cohort_final);
Datum
survival_cohort_final(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	SurvCurve	c;

	if (!(s->flags & SURV_FLAG_AT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_cohort_final: the summary carries no age t"),
				 errhint("Use churn_rate_at(summary, t).")));
	if (s->npoints == 0)
		PG_RETURN_NULL();
	surv_curve_of(s, &c);
	PG_RETURN_FLOAT8(1.0 - surv_at(&c, s->at));
}

PG_FUNCTION_INFO_V1(median_lifetime);
Datum
median_lifetime(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		surv = 1.0;

	(void) surv_curve_arg(fcinfo, 0, &c);
	for (int32 i = 0; i < c.d.npoints; i++)
	{
		surv_step(&c, i, &surv);
		if (c.d.points[i].churned > 0 && surv <= 0.5 + SURV_MEDIAN_TOLERANCE)
			PG_RETURN_FLOAT8(c.d.points[i].t);
	}
	PG_RETURN_NULL();
}

/* Area under the step function S from 0 to horizon */
static double
surv_mean(const SurvCurve *c, double horizon)
{
	double		surv = 1.0;
	double		prev = 0.0;
	CsSum		area = {0.0, 0.0};

	for (int32 i = 0; i < c->d.npoints && c->d.points[i].t <= horizon; i++)
	{
		cs_sum_add(&area, surv * (c->d.points[i].t - prev));
		prev = c->d.points[i].t;
		surv_step(c, i, &surv);
	}
	cs_sum_add(&area, surv * (horizon - prev));
	return cs_sum_value(&area);
}

PG_FUNCTION_INFO_V1(mean_lifetime);
Datum
mean_lifetime(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		horizon;

	if (!surv_age_args(fcinfo, "mean_lifetime", "horizon", &c, &horizon))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(surv_mean(&c, horizon));
}

/*
 * Standard error of the restricted mean, as R's print(survfit, rmean =
 * horizon): the square root of the sum over event times t_i <= horizon of
 * A_i^2 d_i / (n_i (n_i - d_i)), A_i being the area under S from t_i to the
 * horizon (a time where everyone at risk churns adds nothing).
 */
PG_FUNCTION_INFO_V1(mean_lifetime_std_error);
Datum
mean_lifetime_std_error(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		horizon;
	double	   *surv_before;
	int32		m = 0;
	double		after = 0.0;
	CsSum		var = {0.0, 0.0};
	double		surv = 1.0;

	if (!surv_age_args(fcinfo, "mean_lifetime_std_error", "horizon", &c, &horizon))
		PG_RETURN_NULL();
	/* S just before each point up to the horizon */
	surv_before = palloc(sizeof(double) * c.d.npoints);
	for (; m < c.d.npoints && c.d.points[m].t <= horizon; m++)
	{
		surv_before[m] = surv;
		surv_step(&c, m, &surv);
	}
	/* backwards: A_i = S(t_i) (t_{i+1} - t_i) + A_{i+1}, the last to the horizon */
	for (int32 i = m - 1; i >= 0; i--)
	{
		const SurvDataPoint *p = &c.d.points[i];
		double		next = (i + 1 < m) ? c.d.points[i + 1].t : horizon;
		double		s_after = (i + 1 < m) ? surv_before[i + 1] : surv;
		double		n = c.risk[i];

		after += s_after * (next - p->t);
		if (p->churned > 0 && n > p->churned)
			cs_sum_add(&var, after * after * p->churned / (n * (n - p->churned)));
	}
	PG_RETURN_FLOAT8(sqrt(cs_sum_value(&var)));
}

/* ltv(summary, arpa, gross_margin, horizon) = arpa * gross_margin * mean lifetime */
PG_FUNCTION_INFO_V1(survival_ltv);
Datum
survival_ltv(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	bool		nonempty = surv_curve_arg(fcinfo, 0, &c);
	double		arpa = PG_GETARG_FLOAT8(1);
	double		margin = PG_GETARG_FLOAT8(2);
	double		horizon = surv_require_age("ltv", "horizon", PG_GETARG_FLOAT8(3));
	double		r;

	cs_require_nonnegative("ltv", "arpa", arpa);
	cs_require_finite("ltv", "gross_margin", margin);
	if (margin < 0.0 || margin > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ltv: gross_margin must be between 0 and 1, got %g", margin)));
	if (!nonempty)
		PG_RETURN_NULL();
	r = arpa * margin * surv_mean(&c, horizon);
	if (isinf(r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ltv: result is out of range for double precision")));
	PG_RETURN_FLOAT8(r);
}

/* The counts of an unweighted summary; a weighted one has no counts */
static SurvivalSummary *
surv_read_counted(Datum d, const char *fname, const char *what)
{
	SurvivalSummary *s = survival_read(d);

	if (s->flags & SURV_FLAG_WEIGHTED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the summary is weighted, so it has no whole-number counts", fname),
				 errhint("Use survival_table(), whose %s are weights.", what)));
	return s;
}

PG_FUNCTION_INFO_V1(survival_customers);
Datum
survival_customers(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = surv_read_counted(PG_GETARG_DATUM(0), "survival_customers", "columns");
	int64		n = 0;

	for (int32 i = 0; i < s->npoints; i++)
	{
		if (s->flags & SURV_FLAG_ENTRY)
			n += (int64) (SURV_XPOINTS(s)[i].churned + SURV_XPOINTS(s)[i].censored);
		else
			n += s->points[i].churned + s->points[i].censored;
	}
	PG_RETURN_INT64(n);
}

PG_FUNCTION_INFO_V1(survival_churned);
Datum
survival_churned(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = surv_read_counted(PG_GETARG_DATUM(0), "survival_churned", "columns");
	int64		n = 0;

	for (int32 i = 0; i < s->npoints; i++)
	{
		if (s->flags & SURV_FLAG_ENTRY)
			n += (int64) SURV_XPOINTS(s)[i].churned;
		else
			n += s->points[i].churned;
	}
	PG_RETURN_INT64(n);
}

/*
 * One row per distinct duration: at risk, churned, censored, S and its
 * confidence interval.  Greenwood's variance of log S is
 * sum d_i / (n_i (n_i - d_i)); on the log(-log S) scale its standard error
 * is se = sqrt(that) / |log S|, and the interval
 * exp(-exp(log(-log S) +- z se)) is [S^exp(z se), S^exp(-z se)].
 * Where S = 1 (no event yet) the interval is [1, 1]; where S = 0 it is
 * undefined (NULL).  Counts are whole numbers: a weighted summary goes to
 * survival_table().
 */
PG_FUNCTION_INFO_V1(survival_curve);
Datum
survival_curve(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z("survival_curve", PG_GETARG_FLOAT8(1));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SurvCurve	c;
	double		surv = 1.0;
	double		greenwood = 0.0;

	if (s->flags & SURV_FLAG_WEIGHTED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_curve: the summary is weighted, and survival_curve reports whole-number counts"),
				 errhint("Use survival_table(summary, confidence, conf_type), which reports weights.")));
	surv_curve_of(s, &c);
	InitMaterializedSRF(fcinfo, 0);
	for (int32 i = 0; i < c.d.npoints; i++)
	{
		const SurvDataPoint *p = &c.d.points[i];
		double		n = c.risk[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (p->churned == 0 && p->censored == 0)
			continue;			/* only entries there */
		values[0] = Float8GetDatum(p->t);
		values[1] = Int64GetDatum((int64) n);
		if (p->churned > 0 && n > p->churned)
			greenwood += p->churned / (n * (n - p->churned));
		surv_step(&c, i, &surv);
		values[2] = Int64GetDatum((int64) p->churned);
		values[3] = Int64GetDatum((int64) p->censored);
		values[4] = Float8GetDatum(surv);
		if (surv >= 1.0)
		{
			values[5] = Float8GetDatum(1.0);
			values[6] = Float8GetDatum(1.0);
		}
		else if (surv <= 0.0)
			nulls[5] = nulls[6] = true;
		else
		{
			double		se = sqrt(greenwood) / fabs(log(surv));

			values[5] = Float8GetDatum(pow(surv, exp(z * se)));
			values[6] = Float8GetDatum(pow(surv, exp(-z * se)));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- survfit's table ---------- */

typedef enum SurvConfType
{
	SURV_CI_LOGLOG,
	SURV_CI_LOG,
	SURV_CI_PLAIN
} SurvConfType;

static SurvConfType
surv_conf_type(const char *fname, text *arg)
{
	char	   *s = text_to_cstring(arg);

	if (strcmp(s, "log-log") == 0)
		return SURV_CI_LOGLOG;
	if (strcmp(s, "log") == 0)
		return SURV_CI_LOG;
	if (strcmp(s, "plain") == 0)
		return SURV_CI_PLAIN;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: conf_type must be 'log-log', 'log' or 'plain', got '%s'", fname, s)));
}

/*
 * The walk along a curve that survival_table() and the median's interval
 * share: one row per time with an event or a censoring.
 */
typedef struct SurvRow
{
	double		t;
	double		at_risk;
	double		entered;		/* since the previous row */
	double		churned;
	double		censored;
	double		surv;
	double		greenwood;		/* sum d/(n(n-d)); infinite once S = 0 */
	double		chaz;
	double		chaz_var;
	double		lower;
	double		upper;
	bool		band_null;		/* std_error, lower and upper NA in R */
	bool		loglog_null;	/* lower and upper NA in R (log-log at S = 1) */
} SurvRow;

typedef struct SurvWalk
{
	SurvCurve	c;
	double		z;
	SurvConfType type;
	int32		i;				/* next point */
	double		pending;		/* entered since the previous row */
	SurvRow		row;
} SurvWalk;

static void
surv_walk_init(SurvWalk *w, double z, SurvConfType type)
{
	w->z = z;
	w->type = type;
	w->i = 0;
	w->pending = w->c.d.initial;
	memset(&w->row, 0, sizeof(w->row));
	w->row.surv = 1.0;
}

/*
 * The confidence interval of S as R's survfit (survfit_confint), from the
 * standard error of log S, sqrt(greenwood):
 *   plain: S -+ z S se, clipped to [0, 1];
 *   log: exp(log S -+ z se), the upper clipped to 1;
 *   log-log: exp(-exp(log(-log S) -+ z se / log S)), NA where S is 0 or 1.
 * Where S = 0 the variance is infinite and R gives NA.
 */
static void
surv_band(SurvRow *r, double z, SurvConfType type)
{
	double		se = sqrt(r->greenwood);
	double		s = r->surv;

	r->loglog_null = false;
	r->band_null = isinf(r->greenwood) || !(s > 0.0);
	if (r->band_null)
		return;
	switch (type)
	{
		case SURV_CI_PLAIN:
			r->lower = Max(s - z * se * s, 0.0);
			r->upper = Min(s + z * se * s, 1.0);
			break;
		case SURV_CI_LOG:
			r->lower = exp(log(s) - z * se);
			r->upper = Min(exp(log(s) + z * se), 1.0);
			break;
		case SURV_CI_LOGLOG:
			if (s >= 1.0)
				r->loglog_null = true;
			else
			{
				double		ll = log(-log(s));
				double		se2 = z * se / log(s);

				r->lower = exp(-exp(ll - se2));
				r->upper = exp(-exp(ll + se2));
			}
			break;
	}
}

/* Advance to the next row; false at the end */
static bool
surv_walk_next(SurvWalk *w)
{
	const SurvCurve *c = &w->c;

	for (; w->i < c->d.npoints; w->i++)
	{
		const SurvDataPoint *p = &c->d.points[w->i];
		double		n = c->risk[w->i];
		SurvRow    *r = &w->row;

		if (p->churned == 0 && p->censored == 0)
		{
			w->pending += p->entered;
			continue;
		}
		r->t = p->t;
		r->at_risk = n;
		r->entered = w->pending;
		w->pending = p->entered;
		r->churned = p->churned;
		r->censored = p->censored;
		if (p->churned > 0)
		{
			if (n > p->churned)
				r->greenwood += p->churned / (n * (n - p->churned));
			else
				r->greenwood = INFINITY;
			r->chaz += p->churned / n;
			r->chaz_var += p->churned / (n * n);
			r->surv *= (n - p->churned) / n;
		}
		surv_band(r, w->z, w->type);
		w->i++;
		return true;
	}
	return false;
}

/*
 * survival_table(summary, confidence, conf_type): R's
 * summary(survfit(...), censored = TRUE) with robust = FALSE.
 */
PG_FUNCTION_INFO_V1(survival_table);
Datum
survival_table(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z("survival_table", PG_GETARG_FLOAT8(1));
	SurvConfType type = surv_conf_type("survival_table", PG_GETARG_TEXT_PP(2));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SurvWalk	w;
	int32		rows = 0;

	surv_curve_of(s, &w.c);
	surv_walk_init(&w, z, type);
	InitMaterializedSRF(fcinfo, 0);
	while (surv_walk_next(&w))
	{
		const SurvRow *r = &w.row;
		Datum		values[11];
		bool		nulls[11];

		if ((rows++ & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		memset(nulls, 0, sizeof(nulls));
		values[0] = Float8GetDatum(r->t);
		values[1] = Float8GetDatum(r->at_risk);
		values[2] = Float8GetDatum(r->entered);
		values[3] = Float8GetDatum(r->churned);
		values[4] = Float8GetDatum(r->censored);
		values[5] = Float8GetDatum(r->surv);
		values[6] = Float8GetDatum(r->surv * sqrt(r->greenwood));
		values[7] = Float8GetDatum(r->lower);
		values[8] = Float8GetDatum(r->upper);
		nulls[6] = r->band_null;
		nulls[7] = nulls[8] = r->band_null || r->loglog_null;
		values[9] = Float8GetDatum(r->chaz);
		values[10] = Float8GetDatum(sqrt(r->chaz_var));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The confidence interval of the median as R's print(survfit) (0.95LCL,
 * 0.95UCL): the lower bound is the smallest time where the lower curve is at
 * most 0.5, the upper bound the smallest time where the upper curve is;
 * NULL if none.  (The lower curve reaches 0.5 first, so this is the order
 * in which R's survmean() pairs them.)
 */
static Datum
surv_median_bound(FunctionCallInfo fcinfo, const char *fname, bool upper_bound)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z(fname, PG_GETARG_FLOAT8(1));
	SurvConfType type = surv_conf_type(fname, PG_GETARG_TEXT_PP(2));
	SurvWalk	w;

	surv_curve_of(s, &w.c);
	surv_walk_init(&w, z, type);
	while (surv_walk_next(&w))
	{
		const SurvRow *r = &w.row;

		if (r->band_null || r->loglog_null)
			continue;
		if ((upper_bound ? r->upper : r->lower) <= 0.5 + SURV_MEDIAN_TOLERANCE)
			PG_RETURN_FLOAT8(r->t);
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(median_lifetime_lower);
Datum
median_lifetime_lower(PG_FUNCTION_ARGS)
{
	return surv_median_bound(fcinfo, "median_lifetime_lower", false);
}

PG_FUNCTION_INFO_V1(median_lifetime_upper);
Datum
median_lifetime_upper(PG_FUNCTION_ARGS)
{
	return surv_median_bound(fcinfo, "median_lifetime_upper", true);
}

/* ---------- I/O ---------- */

static void
surv_append_list(StringInfo buf, const char *key, const SurvivalSummary *s, int field)
{
	appendStringInfo(buf, " %s={", key);
	for (int32 i = 0; i < s->npoints; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		if (s->flags & SURV_FLAG_ENTRY)
		{
			const SurvivalXPoint *x = &SURV_XPOINTS(s)[i];

			cs_append_double(buf, field == 0 ? x->t : field == 1 ? x->entered :
							 field == 2 ? x->churned : x->censored);
		}
		else if (field == 0)
			cs_append_double(buf, s->points[i].t);
		else
			appendStringInfo(buf, INT64_FORMAT,
							 field == 2 ? s->points[i].churned : s->points[i].censored);
	}
	appendStringInfoChar(buf, '}');
}

/*
 * Text form: v=1 [at=T] durations={t,...} churned={n,...} censored={n,...}
 * with the durations in increasing order; a summary with entries and
 * weights adds "weighted=true" if some weight is not 1, and the list
 * entered={w,...} after the times, and its counts are weights:
 * v=1 [at=T] [weighted=true] durations={..} entered={..} churned={..} censored={..}
 */
PG_FUNCTION_INFO_V1(survival_summary_out);
Datum
survival_summary_out(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d", CS_SUMMARY_VERSION);
	if (s->flags & SURV_FLAG_AT)
	{
		appendStringInfoString(&buf, " at=");
		cs_append_double(&buf, s->at);
	}
	if (s->flags & SURV_FLAG_WEIGHTED)
		appendStringInfoString(&buf, " weighted=true");
	surv_append_list(&buf, "durations", s, 0);
	if (s->flags & SURV_FLAG_ENTRY)
		surv_append_list(&buf, "entered", s, 1);
	surv_append_list(&buf, "churned", s, 2);
	surv_append_list(&buf, "censored", s, 3);
	PG_RETURN_CSTRING(buf.data);
}

/* Parse "key={x,...}" into a palloc'd array of doubles or int64s */
static int32
surv_parse_list(CsParse *ps, const char *key, bool counts, void **out)
{
	int32		n = 0;
	int32		cap = 16;
	double	   *d = counts ? NULL : palloc(sizeof(double) * cap);
	int64	   *c = counts ? palloc(sizeof(int64) * cap) : NULL;

	cs_parse_key(ps, key);
	cs_parse_char(ps, '{');
	if (!cs_parse_peek(ps, '}'))
	{
		do
		{
			if (n == cap)
			{
				if (cap > SURV_MAX_POINTS / 2)
					cs_parse_fail(ps, "Too many durations.");
				cap *= 2;
				if (counts)
					c = repalloc(c, sizeof(int64) * cap);
				else
					d = repalloc(d, sizeof(double) * cap);
			}
			if (counts)
				c[n++] = cs_parse_int64(ps);
			else
				d[n++] = cs_parse_double(ps) + 0.0;
		} while (cs_parse_peek(ps, ','));
		cs_parse_char(ps, '}');
	}
	*out = counts ? (void *) c : (void *) d;
	return n;
}

static bool
surv_parse_next_is(CsParse *ps, const char *key)
{
	const char *p = ps->p;

	while (isspace((unsigned char) *p))
		p++;
	return strncmp(p, key, strlen(key)) == 0;
}

PG_FUNCTION_INFO_V1(survival_summary_in);
Datum
survival_summary_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	CsParse		ps;
	int			flags = 0;
	double		at = 0.0;
	double	   *t;
	int32		n;
	SurvivalSummary *s;
	char	   *problem;

	cs_parse_init_text(&ps, SURV_TYPE, text);
	cs_parse_version(&ps);
	if (surv_parse_next_is(&ps, "at="))
	{
		cs_parse_key(&ps, "at");
		at = cs_parse_double(&ps) + 0.0;
		flags |= SURV_FLAG_AT;
	}
	if (surv_parse_next_is(&ps, "weighted="))
	{
		cs_parse_key(&ps, "weighted");
		if (strncmp(ps.p, "true", 4) != 0)
			cs_parse_fail(&ps, "Expected \"weighted=true\".");
		ps.p += 4;
		flags |= SURV_FLAG_WEIGHTED;
	}
	n = surv_parse_list(&ps, "durations", false, (void **) &t);
	if (surv_parse_next_is(&ps, "entered="))
		flags |= SURV_FLAG_ENTRY;
	else if (flags & SURV_FLAG_WEIGHTED)
		cs_parse_fail(&ps, "A weighted summary must have the list entered.");
	s = surv_new_sorted(n, flags);
	s->at = at;
	if (flags & SURV_FLAG_ENTRY)
	{
		double	   *lists[3];
		SurvivalXPoint *x = SURV_XPOINTS(s);

		if (surv_parse_list(&ps, "entered", false, (void **) &lists[0]) != n ||
			surv_parse_list(&ps, "churned", false, (void **) &lists[1]) != n ||
			surv_parse_list(&ps, "censored", false, (void **) &lists[2]) != n)
			cs_parse_fail(&ps, "The lists durations, entered, churned and censored must have the same length.");
		for (int32 i = 0; i < n; i++)
		{
			x[i].t = t[i];
			x[i].entered = lists[0][i];
			x[i].churned = lists[1][i];
			x[i].censored = lists[2][i];
		}
	}
	else
	{
		int64	   *churned;
		int64	   *censored;

		if (surv_parse_list(&ps, "churned", true, (void **) &churned) != n ||
			surv_parse_list(&ps, "censored", true, (void **) &censored) != n)
			cs_parse_fail(&ps, "The lists durations, churned and censored must have the same length.");
		for (int32 i = 0; i < n; i++)
		{
			s->points[i].t = t[i];
			s->points[i].churned = churned[i];
			s->points[i].censored = censored[i];
		}
	}
	cs_parse_end(&ps);
	problem = surv_check(s);
	if (problem)
		cs_parse_fail(&ps, "%s", problem);
	PG_RETURN_POINTER(s);
}

/*
 * Binary form: version byte, flags byte (SURV_FLAG_AT, SURV_FLAG_ENTRY,
 * SURV_FLAG_WEIGHTED), the float8 t if flagged, int32 number of points,
 * then per point float8 duration, int64 churned, int64 censored; with
 * SURV_FLAG_ENTRY per point float8 time, entered, churned, censored.
 */
PG_FUNCTION_INFO_V1(survival_summary_send);
Datum
survival_summary_send(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendbyte(&buf, s->flags);
	if (s->flags & SURV_FLAG_AT)
		pq_sendfloat8(&buf, s->at);
	pq_sendint32(&buf, s->npoints);
	for (int32 i = 0; i < s->npoints; i++)
	{
		if (s->flags & SURV_FLAG_ENTRY)
		{
			const SurvivalXPoint *x = &SURV_XPOINTS(s)[i];

			pq_sendfloat8(&buf, x->t);
			pq_sendfloat8(&buf, x->entered);
			pq_sendfloat8(&buf, x->churned);
			pq_sendfloat8(&buf, x->censored);
		}
		else
		{
			pq_sendfloat8(&buf, s->points[i].t);
			pq_sendint64(&buf, s->points[i].churned);
			pq_sendint64(&buf, s->points[i].censored);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(survival_summary_recv);
Datum
survival_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CsParse		ps;
	int			flags;
	double		at = 0.0;
	int32		n;
	SurvivalSummary *s;
	char	   *problem;

	cs_parse_init_binary(&ps, SURV_TYPE);
	cs_recv_version(&ps, buf);
	flags = pq_getmsgbyte(buf);
	if (flags & ~SURV_STORED_FLAGS)
		cs_parse_fail(&ps, "Unknown flags 0x%02x.", flags);
	if (flags & SURV_FLAG_AT)
		at = pq_getmsgfloat8(buf) + 0.0;
	n = pq_getmsgint(buf, 4);
	if (n < 0 || n > SURV_MAX_POINTS ||
		(Size) n * SURV_PSIZE(flags) > (Size) (buf->len - buf->cursor))
		cs_parse_fail(&ps, "Invalid number of points %d for a message of %d bytes.",
					  n, buf->len);
	s = surv_new_sorted(n, flags);
	s->at = at;
	for (int32 i = 0; i < n; i++)
	{
		if (flags & SURV_FLAG_ENTRY)
		{
			SurvivalXPoint *x = &SURV_XPOINTS(s)[i];

			x->t = pq_getmsgfloat8(buf) + 0.0;
			x->entered = pq_getmsgfloat8(buf) + 0.0;
			x->churned = pq_getmsgfloat8(buf) + 0.0;
			x->censored = pq_getmsgfloat8(buf) + 0.0;
		}
		else
		{
			s->points[i].t = pq_getmsgfloat8(buf) + 0.0;
			s->points[i].churned = pq_getmsgint64(buf);
			s->points[i].censored = pq_getmsgint64(buf);
		}
	}
	pq_getmsgend(buf);
	problem = surv_check(s);
	if (problem)
		cs_parse_fail(&ps, "%s", problem);
	PG_RETURN_POINTER(s);
}
