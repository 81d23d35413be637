/*
 * survival.c
 *	  Cohort churn with censoring: the Kaplan-Meier estimator.
 *
 * A survival_summary holds, per distinct duration, the number of customers
 * who churned at that duration and the number censored there (still active
 * when last observed).  Stored, printed and sent, it is "compact": one point
 * per distinct duration, sorted by duration, so its size grows with the
 * number of distinct durations, never with the number of rows.
 *
 * While an aggregate runs, the same type is its state in a "hashed" form
 * (flag SURV_FLAG_HASHED): the points sit in an open-addressing hash table
 * keyed on the duration, so that a row costs one probe and no sorting.  Once
 * the table outgrows the CPU caches, a probe would wait for memory on every
 * row, so rows are first appended to a small insertion buffer at the end of
 * the state, and the buffer is flushed into the table with the slots
 * prefetched ahead, overlapping the cache misses.  The final function of
 * survival_agg() and rollup() sorts the table into the compact form.  A
 * partial state of a parallel plan (or of a Citus worker) skips the final
 * function and can still be hashed, so every reader goes through
 * survival_read(), which compacts such a value into a fresh copy and
 * validates it: output, send, combine and the accessors only ever see the
 * compact form.
 *
 * Kaplan-Meier: with n_i customers at risk at the i-th distinct duration t_i
 * and d_i churn events there, S(t) = prod over t_i <= t of (1 - d_i / n_i).
 * Customers censored at t_i count as at risk at t_i (events come first).
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

typedef struct SurvivalSummary
{
	CS_SUMMARY_HEADER;
	int32		nslots;			/* points stored; hash slots when hashed */
	int32		npoints;		/* distinct durations (in the slots) */
	int32		nbuffered;		/* rows in the insertion buffer */
	int32		bufcap;			/* size of the insertion buffer (0 if none) */
	double		at;				/* cohort_churn()'s age t, if SURV_FLAG_AT */
	SurvivalPoint points[FLEXIBLE_ARRAY_MEMBER];

	/*
	 * followed, when hashed, by double buffer[bufcap]: one row each, the
	 * duration, negated (sign bit set) if the customer is censored
	 */
} SurvivalSummary;

#define SURV_TYPE			"survival_summary"
#define SURV_FLAG_HASHED	0x01	/* aggregate state, not yet compacted */
#define SURV_FLAG_AT		0x02	/* carries cohort_churn()'s t */
#define SURV_EMPTY_SLOT		(-1.0)
#define SURV_MIN_SLOTS		64
#define SURV_DIRECT_SLOTS	4096	/* larger tables use the insertion buffer */
#define SURV_BUFFER			512
#define SURV_PREFETCH		16
#define SURV_HEADER_BYTES	offsetof(SurvivalSummary, points)
#define SURV_BYTES(n)		(SURV_HEADER_BYTES + (Size) (n) * sizeof(SurvivalPoint))
#define SURV_HASHED_BYTES(n, b)	(SURV_BYTES(n) + (Size) (b) * sizeof(double))
#define SURV_BUFFER_OF(s)	((double *) &(s)->points[(s)->nslots])
#define SURV_MAX_POINTS		((int32) ((MaxAllocSize - SURV_HEADER_BYTES) / sizeof(SurvivalPoint)))

/* A median is taken where S falls to 0.5 within rounding of the product */
#define SURV_MEDIAN_TOLERANCE	1e-12

#define ST_SORT surv_sort_points
#define ST_ELEMENT_TYPE SurvivalPoint
#define ST_COMPARE(a, b) (((a)->t > (b)->t) - ((a)->t < (b)->t))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

static SurvivalSummary *
surv_new_compact(int32 n)
{
	SurvivalSummary *s = palloc0(SURV_BYTES(n));

	SET_VARSIZE(s, SURV_BYTES(n));
	s->version = CS_SUMMARY_VERSION;
	s->nslots = n;
	s->npoints = n;
	return s;
}

static SurvivalSummary *
surv_new_hashed(MemoryContext ctx, int32 nslots)
{
	int32		bufcap = nslots > SURV_DIRECT_SLOTS ? SURV_BUFFER : 0;
	SurvivalSummary *s = MemoryContextAlloc(ctx, SURV_HASHED_BYTES(nslots, bufcap));

	SET_VARSIZE(s, SURV_HASHED_BYTES(nslots, bufcap));
	s->version = CS_SUMMARY_VERSION;
	s->flags = SURV_FLAG_HASHED;
	s->reserved = 0;
	s->nslots = nslots;
	s->npoints = 0;
	s->nbuffered = 0;
	s->bufcap = bufcap;
	s->at = 0.0;
	for (int32 i = 0; i < nslots; i++)
	{
		s->points[i].t = SURV_EMPTY_SLOT;
		s->points[i].churned = 0;
		s->points[i].censored = 0;
	}
	if (bufcap > 0)
		memset(SURV_BUFFER_OF(s), 0, sizeof(double) * bufcap);
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
	uint64		h;

	memcpy(&h, &t, sizeof(h));
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

/*
 * The slot of duration t in a hashed summary, claimed for t if t is new,
 * probing from slot i = surv_hash(t) & mask.  The caller makes sure there
 * is room (npoints < nslots / 2).
 */
static inline SurvivalPoint *
surv_slot_from(SurvivalSummary *s, double t, uint32 i)
{
	uint32		mask = (uint32) s->nslots - 1;

	for (;;)
	{
		SurvivalPoint *p = &s->points[i];

		if (p->t == t)
			return p;
		if (p->t == SURV_EMPTY_SLOT)
		{
			p->t = t;
			s->npoints++;
			return p;
		}
		i = (i + 1) & mask;
	}
}

static inline SurvivalPoint *
surv_slot(SurvivalSummary *s, double t)
{
	return surv_slot_from(s, t, surv_hash(t) & ((uint32) s->nslots - 1));
}

/* Count one buffered row into the table */
static inline void
surv_count_buffered(SurvivalPoint *p, double v)
{
	bool		censored = signbit(v);

	p->churned += !censored;
	p->censored += censored;
}

static void surv_add_counts(SurvivalSummary *s, const SurvivalPoint *from);

/*
 * A copy of a hashed summary in a table with room for need points, its
 * insertion buffer emptied into the table, allocated in the aggregate
 * context.  The caller returns it as the new state; the executor then adopts
 * it and frees the old one.
 */
static SurvivalSummary *
surv_grow(FunctionCallInfo fcinfo, const SurvivalSummary *s, int32 need)
{
	SurvivalSummary *bigger = surv_new_hashed(cs_agg_context(fcinfo), surv_slots_for(need));
	const double *buf = SURV_BUFFER_OF(s);

	bigger->flags = s->flags;
	bigger->at = s->at;
	for (int32 i = 0; i < s->nslots; i++)
		if (s->points[i].t != SURV_EMPTY_SLOT)
			surv_add_counts(bigger, &s->points[i]);
	for (int32 i = 0; i < s->nbuffered; i++)
		surv_count_buffered(surv_slot(bigger, fabs(buf[i])), buf[i]);
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
surv_flush(FunctionCallInfo fcinfo, SurvivalSummary *s)
{
	uint32		slot[SURV_BUFFER];
	const double *buf = SURV_BUFFER_OF(s);
	int32		n = s->nbuffered;
	uint32		mask;

	Assert(n <= SURV_BUFFER);
	if (s->npoints > s->nslots / 2 - n)
		return surv_grow(fcinfo, s, s->npoints + n);
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

static void
surv_add_counts(SurvivalSummary *s, const SurvivalPoint *from)
{
	SurvivalPoint *p = surv_slot(s, from->t);

	p->churned = cs_add_count(p->churned, from->churned);
	p->censored = cs_add_count(p->censored, from->censored);
}

/* Room for one more point, growing the table if it would be over half full */
static inline SurvivalSummary *
surv_reserve(FunctionCallInfo fcinfo, SurvivalSummary *s)
{
	if (unlikely(s->npoints + s->nbuffered >= s->nslots / 2))
		s = surv_grow(fcinfo, s, s->npoints + s->nbuffered + 1);
	return s;
}

/*
 * Checks of a compact summary; NULL if it is sound, else what is wrong.
 * Shared by the input functions (which report it as 22P02/22P03) and by
 * survival_read() (which reports a stored value as corrupted).
 */
static char *
surv_check(const SurvivalSummary *s)
{
	int64		total = 0;

	if (s->flags & ~SURV_FLAG_AT)
		return psprintf("Unknown flags 0x%02x.", s->flags);
	if (s->npoints != s->nslots || s->npoints < 0 || s->nbuffered != 0 || s->bufcap != 0)
		return psprintf("Inconsistent number of points.");
	if ((s->flags & SURV_FLAG_AT) && !(isfinite(s->at) && s->at >= 0))
		return psprintf("The age t must be finite and not negative, got %g.", s->at);
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

static void
surv_corrupted(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted %s value", SURV_TYPE),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * The compact form of a hashed summary, in a fresh palloc'd copy: the
 * points of the table and the rows of the insertion buffer, sorted, equal
 * durations merged.  surv_check() then validates the result.
 */
static SurvivalSummary *
surv_compact(const SurvivalSummary *s)
{
	SurvivalSummary *c;
	const double *buf = SURV_BUFFER_OF(s);
	int32		n = 0;
	int32		m = 0;

	if (s->npoints > s->nslots || s->nbuffered > s->bufcap)
		surv_corrupted("More points than room for them.");
	c = surv_new_compact(s->npoints + s->nbuffered);
	c->flags = s->flags & ~SURV_FLAG_HASHED;
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

/*
 * Read a survival_summary argument: detoast it, check its shape, compact it
 * if it is an aggregate's hashed state, and validate it.
 */
static SurvivalSummary *
survival_read(Datum d)
{
	SurvivalSummary *s = cs_fetch_summary(d, SURV_TYPE, SURV_HEADER_BYTES);
	char	   *problem;

	if (s->nslots < 0 || s->nslots > SURV_MAX_POINTS || s->npoints < 0 ||
		s->bufcap < 0 || s->bufcap > SURV_BUFFER || s->nbuffered < 0 ||
		VARSIZE(s) != SURV_HASHED_BYTES(s->nslots, s->bufcap))
		surv_corrupted("Its size does not match its number of points.");
	if (s->flags & SURV_FLAG_HASHED)
		s = surv_compact(s);
	problem = surv_check(s);
	if (problem)
		surv_corrupted(problem);
	return s;
}

/*
 * The state argument of a transition or combine function, in hashed form:
 * a new one for the first row, or built from an initial condition that a
 * user-defined aggregate read from text.
 */
static SurvivalSummary *
surv_new_state(FunctionCallInfo fcinfo, MemoryContext ctx, int32 extra)
{
	SurvivalSummary *s;
	SurvivalSummary *h;

	if (PG_ARGISNULL(0))
		return surv_new_hashed(ctx, surv_slots_for(extra));
	s = survival_read(PG_GETARG_DATUM(0));
	h = surv_new_hashed(ctx, surv_slots_for(s->npoints + extra));
	h->flags |= s->flags & SURV_FLAG_AT;
	h->at = s->at;
	for (int32 i = 0; i < s->npoints; i++)
		surv_add_counts(h, &s->points[i]);
	return h;
}

/*
 * A transition function needs the aggregate context only when it allocates
 * (cs_agg_context() then); on the other rows it need only be sure that it
 * runs inside an aggregate, which this inline test of the node type tells
 * more cheaply.
 */
static inline void
surv_require_agg(FunctionCallInfo fcinfo)
{
	if (unlikely(!(fcinfo->context &&
				   (IsA(fcinfo->context, AggState) || IsA(fcinfo->context, WindowAggState)))))
		(void) cs_agg_context(fcinfo);
}

static inline SurvivalSummary *
surv_working_state(FunctionCallInfo fcinfo, int32 extra)
{
	if (likely(!PG_ARGISNULL(0)))
	{
		SurvivalSummary *s = (SurvivalSummary *) PG_GETARG_POINTER(0);

		if (likely(s->flags & SURV_FLAG_HASHED))
			return s;
	}
	return surv_new_state(fcinfo, cs_agg_context(fcinfo), extra);
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

static inline SurvivalSummary *
surv_count_row(FunctionCallInfo fcinfo, SurvivalSummary *state, double duration, bool churned)
{
	SurvivalPoint *p;

	if (state->bufcap > 0)
	{
		SURV_BUFFER_OF(state)[state->nbuffered++] = churned ? duration : -duration;
		if (state->nbuffered == state->bufcap)
			state = surv_flush(fcinfo, state);
		return state;
	}
	state = surv_reserve(fcinfo, state);
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
	state = surv_working_state(fcinfo, 1);
	PG_RETURN_POINTER(surv_count_row(fcinfo, state, duration, PG_GETARG_BOOL(2)));
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
	state = surv_working_state(fcinfo, 1);
	if (unlikely(!(state->flags & SURV_FLAG_AT) || state->at != t))
	{
		cs_require_nonnegative("cohort_churn", "t", t);
		surv_set_at(state, t + 0.0);
	}
	PG_RETURN_POINTER(surv_count_row(fcinfo, state, duration, PG_GETARG_BOOL(2)));
}

/* Merge two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(survival_combine);
Datum
survival_combine(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state;
	SurvivalSummary *other;

	(void) cs_agg_context(fcinfo);
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	other = survival_read(PG_GETARG_DATUM(1));
	state = surv_working_state(fcinfo, other->npoints);
	if (other->flags & SURV_FLAG_AT)
		surv_set_at(state, other->at);
	for (int32 i = 0; i < other->npoints; i++)
	{
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		state = surv_reserve(fcinfo, state);
		surv_add_counts(state, &other->points[i]);
	}
	PG_RETURN_POINTER(state);
}

/* Final function of survival_agg() and rollup(): the compact summary */
PG_FUNCTION_INFO_V1(survival_agg_final);
Datum
survival_agg_final(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(survival_read(PG_GETARG_DATUM(0)));
}

/*
 * survival.h's reader for the other families: a copy of the points, with
 * counts as weights.  A 1.0/1.1 summary has neither weights nor late entry.
 */
void
survival_data_read(Datum summary, SurvData *out)
{
	SurvivalSummary *s = survival_read(summary);

	out->npoints = s->npoints;
	out->weighted = false;
	out->late_entry = false;
	out->initial = 0.0;
	out->points = palloc(sizeof(SurvDataPoint) * Max(s->npoints, 1));
	for (int32 i = 0; i < s->npoints; i++)
	{
		out->points[i].t = s->points[i].t;
		out->points[i].entered = 0.0;
		out->points[i].churned = (double) s->points[i].churned;
		out->points[i].censored = (double) s->points[i].censored;
		out->initial += (double) (s->points[i].churned + s->points[i].censored);
	}
}

/* ---------- Kaplan-Meier ---------- */

static int64
surv_customers(const SurvivalSummary *s)
{
	int64		n = 0;

	for (int32 i = 0; i < s->npoints; i++)
		n += s->points[i].churned + s->points[i].censored;
	return n;
}

static double
surv_require_age(const char *fname, const char *what, double t)
{
	cs_require_nonnegative(fname, what, t);
	return t;
}

/*
 * One Kaplan-Meier step past the point p: S drops by the share of those at
 * risk who churn at p, and those who churn or are censored at p leave the
 * risk set.
 */
static inline void
surv_step(const SurvivalPoint *p, double *surv, int64 *at_risk)
{
	if (p->churned > 0)
		*surv *= (double) (*at_risk - p->churned) / (double) *at_risk;
	*at_risk -= p->churned + p->censored;
}

/*
 * The arguments (summary, age) of the functions of S at an age: the
 * summary, or NULL when it is empty; the age checked into *t.
 */
static SurvivalSummary *
surv_age_args(FunctionCallInfo fcinfo, const char *fname, const char *what, double *t)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));

	*t = surv_require_age(fname, what, PG_GETARG_FLOAT8(1));
	return s->npoints == 0 ? NULL : s;
}

/* S(t); the summary must not be empty */
static double
surv_at(const SurvivalSummary *s, double t)
{
	int64		at_risk = surv_customers(s);
	double		surv = 1.0;

	for (int32 i = 0; i < s->npoints && s->points[i].t <= t; i++)
		surv_step(&s->points[i], &surv, &at_risk);
	return surv;
}

PG_FUNCTION_INFO_V1(survival_at);
Datum
survival_at(PG_FUNCTION_ARGS)
{
	double		t;
	SurvivalSummary *s = surv_age_args(fcinfo, "survival_at", "t", &t);

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(surv_at(s, t));
}

PG_FUNCTION_INFO_V1(churn_rate_at);
Datum
churn_rate_at(PG_FUNCTION_ARGS)
{
	double		t;
	SurvivalSummary *s = surv_age_args(fcinfo, "churn_rate_at", "t", &t);

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(1.0 - surv_at(s, t));
}

/* Final function of cohort_churn(): 1 - S(t) at the t the rows carried */
PG_FUNCTION_INFO_V1(survival_cohort_final);
Datum
survival_cohort_final(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));

	if (!(s->flags & SURV_FLAG_AT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_cohort_final: the summary carries no age t"),
				 errhint("Use churn_rate_at(summary, t).")));
	if (s->npoints == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(1.0 - surv_at(s, s->at));
}

PG_FUNCTION_INFO_V1(median_lifetime);
Datum
median_lifetime(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	int64		at_risk = surv_customers(s);
	double		surv = 1.0;

	for (int32 i = 0; i < s->npoints; i++)
	{
		const SurvivalPoint *p = &s->points[i];

		surv_step(p, &surv, &at_risk);
		if (p->churned > 0 && surv <= 0.5 + SURV_MEDIAN_TOLERANCE)
			PG_RETURN_FLOAT8(p->t);
	}
	PG_RETURN_NULL();
}

/* Area under the step function S from 0 to horizon */
static double
surv_mean(const SurvivalSummary *s, double horizon)
{
	int64		at_risk = surv_customers(s);
	double		surv = 1.0;
	double		prev = 0.0;
	CsSum		area = {0.0, 0.0};

	for (int32 i = 0; i < s->npoints && s->points[i].t <= horizon; i++)
	{
		const SurvivalPoint *p = &s->points[i];

		cs_sum_add(&area, surv * (p->t - prev));
		prev = p->t;
		surv_step(p, &surv, &at_risk);
	}
	cs_sum_add(&area, surv * (horizon - prev));
	return cs_sum_value(&area);
}

PG_FUNCTION_INFO_V1(mean_lifetime);
Datum
mean_lifetime(PG_FUNCTION_ARGS)
{
	double		horizon;
	SurvivalSummary *s = surv_age_args(fcinfo, "mean_lifetime", "horizon", &horizon);

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(surv_mean(s, horizon));
}

/* ltv(summary, arpa, gross_margin, horizon) = arpa * gross_margin * mean lifetime */
PG_FUNCTION_INFO_V1(survival_ltv);
Datum
survival_ltv(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
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
	if (s->npoints == 0)
		PG_RETURN_NULL();
	r = arpa * margin * surv_mean(s, horizon);
	if (isinf(r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ltv: result is out of range for double precision")));
	PG_RETURN_FLOAT8(r);
}

PG_FUNCTION_INFO_V1(survival_customers);
Datum
survival_customers(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(surv_customers(survival_read(PG_GETARG_DATUM(0))));
}

PG_FUNCTION_INFO_V1(survival_churned);
Datum
survival_churned(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	int64		n = 0;

	for (int32 i = 0; i < s->npoints; i++)
		n += s->points[i].churned;
	PG_RETURN_INT64(n);
}

/*
 * One row per distinct duration: at risk, churned, censored, S and its
 * confidence interval.  Greenwood's variance of log S is
 * sum d_i / (n_i (n_i - d_i)); on the log(-log S) scale its standard error
 * is se = sqrt(that) / |log S|, and the interval
 * exp(-exp(log(-log S) +- z se)) is [S^exp(z se), S^exp(-z se)].
 * Where S = 1 (no event yet) the interval is [1, 1]; where S = 0 it is
 * undefined (NULL).
 */
PG_FUNCTION_INFO_V1(survival_curve);
Datum
survival_curve(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z("survival_curve", PG_GETARG_FLOAT8(1));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		at_risk = surv_customers(s);
	double		surv = 1.0;
	double		greenwood = 0.0;

	InitMaterializedSRF(fcinfo, 0);
	for (int32 i = 0; i < s->npoints; i++)
	{
		const SurvivalPoint *p = &s->points[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		values[0] = Float8GetDatum(p->t);
		values[1] = Int64GetDatum(at_risk);
		if (p->churned > 0 && at_risk > p->churned)
			greenwood += (double) p->churned /
				((double) at_risk * (double) (at_risk - p->churned));
		surv_step(p, &surv, &at_risk);
		values[2] = Int64GetDatum(p->churned);
		values[3] = Int64GetDatum(p->censored);
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

/* ---------- I/O ---------- */

/*
 * Text form: v=1 [at=T] durations={t,...} churned={n,...} censored={n,...}
 * with the durations in increasing order.
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
	appendStringInfoString(&buf, " durations={");
	for (int32 i = 0; i < s->npoints; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		cs_append_double(&buf, s->points[i].t);
	}
	appendStringInfoString(&buf, "} churned={");
	for (int32 i = 0; i < s->npoints; i++)
		appendStringInfo(&buf, i > 0 ? "," INT64_FORMAT : INT64_FORMAT, s->points[i].churned);
	appendStringInfoString(&buf, "} censored={");
	for (int32 i = 0; i < s->npoints; i++)
		appendStringInfo(&buf, i > 0 ? "," INT64_FORMAT : INT64_FORMAT, s->points[i].censored);
	appendStringInfoChar(&buf, '}');
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
	bool		has_at = false;
	double		at = 0.0;
	double	   *t;
	int64	   *churned;
	int64	   *censored;
	int32		n;
	SurvivalSummary *s;
	char	   *problem;

	cs_parse_init_text(&ps, SURV_TYPE, text);
	cs_parse_version(&ps);
	if (surv_parse_next_is(&ps, "at="))
	{
		cs_parse_key(&ps, "at");
		at = cs_parse_double(&ps) + 0.0;
		has_at = true;
	}
	n = surv_parse_list(&ps, "durations", false, (void **) &t);
	if (surv_parse_list(&ps, "churned", true, (void **) &churned) != n ||
		surv_parse_list(&ps, "censored", true, (void **) &censored) != n)
		cs_parse_fail(&ps, "The lists durations, churned and censored must have the same length.");
	cs_parse_end(&ps);

	s = surv_new_compact(n);
	if (has_at)
	{
		s->flags |= SURV_FLAG_AT;
		s->at = at;
	}
	for (int32 i = 0; i < n; i++)
	{
		s->points[i].t = t[i];
		s->points[i].churned = churned[i];
		s->points[i].censored = censored[i];
	}
	problem = surv_check(s);
	if (problem)
		cs_parse_fail(&ps, "%s", problem);
	PG_RETURN_POINTER(s);
}

/*
 * Binary form: version byte, flags byte (SURV_FLAG_AT or 0), the float8 t
 * if flagged, int32 number of points, then per point float8 duration,
 * int64 churned, int64 censored.
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
		pq_sendfloat8(&buf, s->points[i].t);
		pq_sendint64(&buf, s->points[i].churned);
		pq_sendint64(&buf, s->points[i].censored);
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
	if (flags & ~SURV_FLAG_AT)
		cs_parse_fail(&ps, "Unknown flags 0x%02x.", flags);
	if (flags & SURV_FLAG_AT)
		at = pq_getmsgfloat8(buf) + 0.0;
	n = pq_getmsgint(buf, 4);
	if (n < 0 || n > SURV_MAX_POINTS ||
		(Size) n * (sizeof(double) + 2 * sizeof(int64)) > (Size) (buf->len - buf->cursor))
		cs_parse_fail(&ps, "Invalid number of points %d for a message of %d bytes.",
					  n, buf->len);
	s = surv_new_compact(n);
	s->flags = flags;
	s->at = at;
	for (int32 i = 0; i < n; i++)
	{
		s->points[i].t = pq_getmsgfloat8(buf) + 0.0;
		s->points[i].churned = pq_getmsgint64(buf);
		s->points[i].censored = pq_getmsgint64(buf);
	}
	pq_getmsgend(buf);
	problem = surv_check(s);
	if (problem)
		cs_parse_fail(&ps, "%s", problem);
	PG_RETURN_POINTER(s);
}
