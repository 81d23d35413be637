/*
 * survival_summary.c
 *	  The survival_summary type: its stored layouts, the hashed working form
 *	  its aggregates keep, compaction, validation and reading (the
 *	  working-form protocol of cs_common.h), and its text and binary I/O.
 *	  This is the code that sql/stored_bytes.sql and the fuzzers guard:
 *	  values stored by every released version must read back unchanged.
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
 */
#include "postgres.h"

#include <ctype.h>
#include <float.h>

#include "common/int.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "survival_summary.h"
#include "utils/builtins.h"

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

/*
 * A copy of a hashed summary in a table with room for need points, its
 * insertion buffer emptied into the table, built in the current context.
 * The caller returns it as the new state; the executor then copies it into
 * the aggregate context and frees the old one.
 */
SurvivalSummary *
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
SurvivalSummary *
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
		cs_corrupted(SURV_TYPE, "More points than room for them.");
	if (s->flags & SURV_FLAG_ENTRY)
	{
		const SurvivalXPoint *x = SURV_XPOINTS(s);
		SurvivalXPoint *cx;

		if (s->bufcap != 0)
			cs_corrupted(SURV_TYPE, "An insertion buffer in a weighted summary.");
		c = surv_new_sorted(s->npoints, s->flags & ~SURV_FLAG_HASHED);
		c->at = s->at;
		cx = SURV_XPOINTS(c);
		for (int32 i = 0; i < s->nslots; i++)
		{
			const SurvivalXPoint *p = &x[i];

			if (p->t == SURV_EMPTY_SLOT && p->entered == 0 && p->churned == 0 && p->censored == 0)
				continue;
			if (n == s->npoints)
				cs_corrupted(SURV_TYPE, "More occupied hash slots than points.");
			cx[n++] = *p;
		}
		if (n != s->npoints)
			cs_corrupted(SURV_TYPE, "Fewer occupied hash slots than points.");
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
				cs_corrupted(SURV_TYPE, "More occupied hash slots than points.");
			c->points[n++] = *p;
		}
		if (n != s->npoints)
			cs_corrupted(SURV_TYPE, "Fewer occupied hash slots than points.");
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
			SurvivalXPoint x = surv_xpoint_of(s, i, "survival_agg");

			surv_add_xpoint(h, &x);
		}
	}
	return h;
}

/*
 * Point i of a sorted summary in the weighted layout: a compact summary's
 * customers are at risk from the start (entered 0).  fname names the
 * aggregate for the error of a count that a double cannot hold exactly.
 */
SurvivalXPoint
surv_xpoint_of(const SurvivalSummary *s, int32 i, const char *fname)
{
	SurvivalXPoint x;

	if (s->flags & SURV_FLAG_ENTRY)
		return SURV_XPOINTS(s)[i];
	if (s->points[i].churned > SURV_MAX_EXACT || s->points[i].censored > SURV_MAX_EXACT)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: too many customers at duration %g to merge with a summary with entries",
						fname, s->points[i].t)));
	x.t = s->points[i].t;
	x.entered = 0.0;
	x.churned = (double) s->points[i].churned;
	x.censored = (double) s->points[i].censored;
	return x;
}

/* ---------- the working-form protocol (cs_common.h) ---------- */

static bool
surv_is_working(const void *v, int layout)
{
	const SurvivalSummary *s = v;

	return (s->flags & SURV_FLAG_HASHED) &&
		((s->flags & SURV_FLAG_ENTRY) || !(layout & SURV_FLAG_ENTRY));
}

/* The size checks of any value, then the sorted form of a hashed one */
static void *
surv_stored_form(void *v)
{
	SurvivalSummary *s = v;

	if (s->nslots < 0 || s->nslots > SURV_MAX_POINTS || s->npoints < 0 ||
		s->bufcap < 0 || s->bufcap > SURV_BUFFER || s->nbuffered < 0 ||
		VARSIZE(s) != SURV_BYTES_F(s->nslots, s->flags) + (Size) s->bufcap * sizeof(double))
		cs_corrupted(SURV_TYPE, "Its size does not match its number of points.");
	if (s->flags & SURV_FLAG_HASHED)
		s = surv_compact(s);
	return s;
}

static char *
surv_check_stored(void *v)
{
	return surv_check((const SurvivalSummary *) v);
}

static void *
surv_make_working(void *stored, int layout, int64 extra)
{
	return surv_hashed_from((const SurvivalSummary *) stored, layout, (int32) extra);
}

const CsWorkingType survival_summary_type = {
	.name = SURV_TYPE,
	.header_bytes = SURV_HEADER_BYTES,
	.is_working = surv_is_working,
	.stored_form = surv_stored_form,
	.check = surv_check_stored,
	.make_working = surv_make_working,
};

/* The points of a sorted summary as survival.h describes them */
void
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

