/*
 * competing_risks_summary.h
 *	  The layouts of a competing_risks_summary, shared by
 *	  competing_risks_summary.c (the type: working and stored forms,
 *	  reading, validation, I/O) and competing_risks.c (the aggregates and
 *	  the Aalen-Johansen estimator).
 */
#ifndef COMPETING_RISKS_SUMMARY_H
#define COMPETING_RISKS_SUMMARY_H

#include "cs_common.h"

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
	union
	{
		int32		npairs;		/* compact: the (entry, exit) pairs (0 in 1.2) */
		int32		last;		/* hashed: index of the last reason seen */
	}			u;
	int32		last_off;		/* hashed: its offset in the names area (compact: 0) */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} CrSummary;

#define CR_NPAIRS(s)		((s)->u.npairs)

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
static inline Size
cr_compact_bytes(int32 npoints, int32 nreasons, int32 npairs, int32 names_len)
{
	return CR_HEADER_BYTES + (Size) npoints * sizeof(double) +
		(Size) npoints * CR_COLS(nreasons) * sizeof(int64) +
		(Size) npairs * sizeof(CrPair) + names_len;
}

static inline Size
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

extern const CsWorkingType competing_risks_summary_type;

extern CrSummary *cr_grow(CrSummary *s, int64 need, int32 need_names);

static inline CrSummary *
cr_reserve(CrSummary *s, int32 extra)
{
	if (unlikely(s->npoints + extra > s->nslots / 2))
		s = cr_grow(s, (int64) s->npoints + extra, s->names_len);
	return s;
}

extern int32 cr_reason_index(const char *fname, CrSummary **sp, const char *name, int len);
extern void cr_check_reason(const char *fname, int len);
extern CrSummary *cr_add_compact(CrSummary *state, CrSummary *other, const int32 *map);

/* Read (detoast, compact if hashed, validate) a competing_risks_summary */
static inline CrSummary *
cr_read(Datum d)
{
	return (CrSummary *) cs_working_read(&competing_risks_summary_type, d);
}

/*
 * The state argument of a transition or combine function in hashed form,
 * with room for extra slots (see cs_working_state())
 */
static inline CrSummary *
cr_working_state(FunctionCallInfo fcinfo, int64 extra)
{
	return (CrSummary *) cs_working_state(fcinfo, &competing_risks_summary_type, 0, extra);
}

#endif							/* COMPETING_RISKS_SUMMARY_H */
