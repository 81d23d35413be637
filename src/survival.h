/*
 * survival.h
 *	  What other families (log-rank tests, the sBG model) read of a
 *	  survival_summary: its distinct times with (possibly weighted) counts.
 */
#ifndef SURVIVAL_H
#define SURVIVAL_H

#include "cs_common.h"

/*
 * One distinct time of a summary: the weight of customers whose late entry
 * is exactly t (at risk only after t), who churned at t, and who were
 * censored at t.  Times with only entries appear too.
 */
typedef struct SurvDataPoint
{
	double		t;
	double		entered;
	double		churned;
	double		censored;
} SurvDataPoint;

/*
 * A validated summary, as read by survival_data_read(): `initial` is the
 * weight of customers at risk from the start (those without an entry time,
 * and since 1.3 those with entry 0; a value stored by 1.2 keeps its
 * customers with entry 0 in points[t = 0].entered: at risk after 0),
 * points are sorted by t, distinct.  The weight at risk at time t is
 *   initial + sum of entered over points with p.t < t
 *           - sum of (churned + censored) over points with p.t < t
 * (entry < t <= duration, as R's Surv(entry, duration, churned)).
 */
typedef struct SurvData
{
	int32		npoints;
	bool		weighted;		/* some weight is not 1 */
	bool		late_entry;		/* some customer has an entry time (entered > 0 somewhere) */
	double		initial;
	SurvDataPoint *points;		/* palloc'd in the current context */
} SurvData;

/* Reads (detoasts, validates) a survival_summary datum */
extern void survival_data_read(Datum summary, SurvData *out);

#endif							/* SURVIVAL_H */
