/*
 * survival_summary.h
 *	  The layouts of a survival_summary, shared by survival_summary.c (the
 *	  type: working and stored forms, reading, validation, I/O) and
 *	  survival.c (the aggregates and the estimators).  Other families read a
 *	  summary through survival.h only.
 */
#ifndef SURVIVAL_SUMMARY_H
#define SURVIVAL_SUMMARY_H

#include "cs_common.h"
#include "survival.h"

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

/* The type and the row-by-row probes of its hashed form */
extern const CsWorkingType survival_summary_type;

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

static inline void
surv_add_counts(SurvivalSummary *s, const SurvivalPoint *from)
{
	SurvivalPoint *p = surv_slot(s, from->t);

	p->churned = cs_add_count(p->churned, from->churned);
	p->censored = cs_add_count(p->censored, from->censored);
}

static inline void
surv_add_xpoint(SurvivalSummary *s, const SurvivalXPoint *from)
{
	SurvivalXPoint *p = surv_xslot(s, from->t);

	p->entered += from->entered;
	p->churned += from->churned;
	p->censored += from->censored;
}

extern SurvivalSummary *surv_grow(const SurvivalSummary *s, int32 need);
extern SurvivalSummary *surv_flush(SurvivalSummary *s);

/* Room for extra more points, growing the table if it would be over half full */
static inline SurvivalSummary *
surv_reserve(SurvivalSummary *s, int32 extra)
{
	if (unlikely(s->npoints + s->nbuffered + extra > s->nslots / 2))
		s = surv_grow(s, s->npoints + s->nbuffered + extra);
	return s;
}


/*
 * The state argument of a transition or combine function, hashed, in the
 * layout of flags (SURV_FLAG_ENTRY or 0), with room for extra points (see
 * cs_working_state()).
 */
static inline SurvivalSummary *
surv_working_state(FunctionCallInfo fcinfo, int flags, int32 extra)
{
	return (SurvivalSummary *) cs_working_state(fcinfo, &survival_summary_type, flags, extra);
}

/* Read (detoast, sort if hashed, validate) a survival_summary argument */
static inline SurvivalSummary *
survival_read(Datum d)
{
	return (SurvivalSummary *) cs_working_read(&survival_summary_type, d);
}

extern SurvivalXPoint surv_xpoint_of(const SurvivalSummary *s, int32 i, const char *fname);
extern void surv_data_of(const SurvivalSummary *s, SurvData *out);

#endif							/* SURVIVAL_SUMMARY_H */
