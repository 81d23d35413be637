/*
 * cox_stats.c: the statistics of a Cox fit that read its rows back
 * (SPEC §10): Harrell's concordance with its infinitesimal-jackknife
 * standard error, and the proportional-hazards score test of R's cox.zph
 * (transform "km").  See cox.h.
 *
 * Definitions are those of R's survival package (concordancefit() as coxph
 * calls it: reverse = TRUE, timewt "n"; cox.zph() with its zph1/zph2 score
 * test).  Both walk the rows backwards in time within each stratum, so they
 * share one way to order them: a stable LSD radix sort of 64-bit keys (an
 * order-preserving image of a double, a stratum number, a rank), applied key
 * after key from the least significant one, O(n) per key.
 *
 * Risk sets: a row is at risk at t when entry < t <= duration.  An entry of
 * 0 (or no entry column) means observed from the start: such a row is at
 * risk at every t <= duration, t = 0 included, as in the two-argument form.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "cox.h"

/*
 * Both sweeps visit the rows in an order unrelated to where they are stored
 * (by linear predictor, by event time): asking for a row's fields a few
 * rows ahead keeps the memory busy instead of waiting on every row.
 */
#if defined(__GNUC__) || defined(__clang__)
#define cox_prefetch(addr) __builtin_prefetch(addr)
#else
#define cox_prefetch(addr) ((void) 0)
#endif
#define COX_AHEAD 32

/* ----------------------------------------------------------------
 * Ordering the rows
 * ---------------------------------------------------------------- */

typedef struct CoxKey
{
	uint64		key;
	int32		row;
} CoxKey;

#define COX_RADIX_BITS	11
#define COX_RADIX_SIZE	(1 << COX_RADIX_BITS)
#define COX_RADIX_PASSES ((64 + COX_RADIX_BITS - 1) / COX_RADIX_BITS)

static void *
cox_alloc(Size n, Size size)
{
	return palloc_extended(Max(n, 1) * size, MCXT_ALLOC_HUGE);
}

/* an unsigned image of a double that sorts as the double does (-0 = +0) */
static inline uint64
cox_key_asc(double v)
{
	uint64		u;

	v += 0.0;
	memcpy(&u, &v, sizeof(u));
	return (u & UINT64CONST(0x8000000000000000)) ? ~u : u | UINT64CONST(0x8000000000000000);
}

/*
 * Stable sort of a[0..n) by key, with tmp as scratch of the same size; the
 * result is in a.  Passes over digits on which every key agrees are skipped.
 */
static void
cox_radix_sort(CoxKey *a, CoxKey *tmp, int n)
{
	int		   *count = palloc0(sizeof(int) * COX_RADIX_SIZE * COX_RADIX_PASSES);
	CoxKey	   *src = a;
	CoxKey	   *dst = tmp;

	for (int i = 0; i < n; i++)
		for (int pass = 0; pass < COX_RADIX_PASSES; pass++)
			count[pass * COX_RADIX_SIZE +
				  ((a[i].key >> (pass * COX_RADIX_BITS)) & (COX_RADIX_SIZE - 1))]++;

	for (int pass = 0; pass < COX_RADIX_PASSES; pass++)
	{
		int		   *c = count + pass * COX_RADIX_SIZE;
		int			shift = pass * COX_RADIX_BITS;
		int			sum = 0;
		bool		trivial = false;

		for (int b = 0; b < COX_RADIX_SIZE; b++)
		{
			int			k = c[b];

			if (k == n)
				trivial = true;
			c[b] = sum;
			sum += k;
		}
		if (trivial)
			continue;
		for (int i = 0; i < n; i++)
			dst[c[(src[i].key >> shift) & (COX_RADIX_SIZE - 1)]++] = src[i];
		{
			CoxKey	   *t = src;

			src = dst;
			dst = t;
		}
		CHECK_FOR_INTERRUPTS();
	}
	if (src != a)
		memcpy(a, src, sizeof(CoxKey) * n);
	pfree(count);
}

/* the start of row i: -infinity when observed from the start */
static inline double
cox_start(const CoxData *d, int i)
{
	return (d->entry != NULL && d->entry[i] != 0.0) ? d->entry[i] : -INFINITY;
}

static inline bool
cox_late_entry(const CoxData *d)
{
	if (d->entry == NULL)
		return false;
	for (int i = 0; i < d->n; i++)
		if (d->entry[i] != 0.0)
			return true;
	return false;
}

static inline int
cox_stratum(const CoxData *d, int i)
{
	return d->stratum ? d->stratum[i] : 0;
}

static inline double
cox_weight(const CoxData *d, int i)
{
	return d->weight ? d->weight[i] : 1.0;
}

/*
 * R's coxph refuses weights of 0, so R's answer for a fit with such rows is
 * the answer without them: they are dropped here (in the concordance they
 * would add nothing; in cox.zph they would count in the unweighted
 * Kaplan-Meier curve of the time transform and in Efron's steps).  Returns
 * d itself when every weight is positive, else a compacted copy in *buf
 * (lp, when given, compacted alongside into *lp_out).
 */
static const CoxData *
cox_positive_weights(const CoxData *d, CoxData *buf,
					 const double *lp, const double **lp_out)
{
	int			n = d->n;
	int			m = 0;
	int			k = 0;
	double	   *entry = NULL;
	double	   *duration;
	bool	   *event;
	double	   *weight;
	int		   *stratum = NULL;
	int		   *cluster = NULL;
	double	   *x;
	double	   *lp2 = NULL;

	if (lp_out)
		*lp_out = lp;
	if (d->weight == NULL)
		return d;
	for (int i = 0; i < n; i++)
		m += d->weight[i] > 0.0;
	if (m == n)
		return d;

	*buf = *d;
	duration = cox_alloc(m, sizeof(double));
	event = cox_alloc(m, sizeof(bool));
	weight = cox_alloc(m, sizeof(double));
	x = cox_alloc((Size) m * Max(d->p, 1), sizeof(double));
	if (d->entry)
		entry = cox_alloc(m, sizeof(double));
	if (d->stratum)
		stratum = cox_alloc(m, sizeof(int));
	if (d->cluster)
		cluster = cox_alloc(m, sizeof(int));
	if (lp)
		lp2 = cox_alloc(m, sizeof(double));
	for (int i = 0; i < n; i++)
	{
		if (!(d->weight[i] > 0.0))
			continue;
		duration[k] = d->duration[i];
		event[k] = d->event[i];
		weight[k] = d->weight[i];
		memcpy(x + (Size) k * d->p, d->x + (Size) i * d->p, sizeof(double) * d->p);
		if (entry)
			entry[k] = d->entry[i];
		if (stratum)
			stratum[k] = d->stratum[i];
		if (cluster)
			cluster[k] = d->cluster[i];
		if (lp2)
			lp2[k] = lp[i];
		k++;
	}
	buf->n = m;
	buf->entry = entry;
	buf->duration = duration;
	buf->event = event;
	buf->weight = weight;
	buf->stratum = stratum;
	buf->cluster = cluster;
	buf->x = x;
	if (lp_out)
		*lp_out = lp2;
	return buf;
}
/* ----------------------------------------------------------------
 * Event times and risk intervals
 * ----------------------------------------------------------------
 *
 * Both statistics only look at the risk sets at event times.  The distinct
 * event times of each stratum (or of all rows together) are numbered in
 * ascending order, the strata one after the other; a row is at risk at the
 * event times numbered first .. last: those with entry < t <= duration.
 * Finding them is a binary search per row, and everything after that works
 * on these small integers instead of sorting the rows by time.
 */
typedef struct CoxRiskTimes
{
	int			ntimes;			/* distinct (stratum, event time) pairs */
	int			nseg;			/* strata, or 1 when pooled */
	int		   *seg_start;		/* nseg + 1 offsets into time */
	double	   *time;			/* ascending within each stratum */
	int		   *first;			/* per row; first > last: never at risk */
	int		   *last;
} CoxRiskTimes;

/*
 * The first index in time[lo, hi) whose time is > v: a binary search
 * without branches on the data (selects), which the processor does not
 * mispredict.
 */
static inline int
cox_upper_bound(const double *time, int lo, int hi, double v)
{
	const double *b = time + lo;
	int			len = hi - lo;

	if (len <= 0)
		return lo;
	while (len > 1)
	{
		int			half = len / 2;

		b = (b[half] <= v) ? b + half : b;
		len -= half;
	}
	return (int) (b - time) + (b[0] <= v ? 1 : 0);
}

/*
 * With many event times a binary search per row misses the cache at every
 * step: sort the rows by duration (or entry) instead, and walk them along
 * the event times.  last = the last event time <= duration; first = the
 * first event time > entry.
 */
#ifndef COX_SEARCH_MAX
#define COX_SEARCH_MAX 4096
#endif

static void
cox_event_times_merge(const CoxData *d, bool strat, CoxRiskTimes *ct, bool entry)
{
	int			n = d->n;
	CoxKey	   *r = cox_alloc(n, sizeof(CoxKey));
	CoxKey	   *tmp = cox_alloc(n, sizeof(CoxKey));
	int			seg = -1;
	int			pos = 0;
	int			end = 0;

	for (int i = 0; i < n; i++)
	{
		r[i].row = i;
		r[i].key = cox_key_asc(entry ? cox_start(d, i) : d->duration[i]);
	}
	cox_radix_sort(r, tmp, n);
	if (strat)
	{
		for (int i = 0; i < n; i++)
			r[i].key = (uint64) d->stratum[r[i].row];
		cox_radix_sort(r, tmp, n);
	}
	pfree(tmp);
	for (int k = 0; k < n; k++)
	{
		int			i = r[k].row;
		int			s = strat ? d->stratum[i] : 0;
		double		v = entry ? cox_start(d, i) : d->duration[i];

		if (s != seg)
		{
			seg = s;
			pos = ct->seg_start[s];
			end = ct->seg_start[s + 1];
		}
		while (pos < end && ct->time[pos] <= v)
			pos++;
		if (entry)
			ct->first[i] = pos;
		else
			ct->last[i] = pos - 1;
	}
	pfree(r);
}

static void
cox_event_times(const CoxData *d, bool pooled, CoxRiskTimes *ct)
{
	int			n = d->n;
	bool		strat = !pooled && d->stratum != NULL && d->nstrata > 1;
	int			nseg = strat ? d->nstrata : 1;
	int			m = 0;
	CoxKey	   *ev;
	CoxKey	   *tmp;
	int			prev_seg = -1;
	double		prev_dur = NAN,
				prev_start = NAN;
	int			prev_first = 0,
				prev_last = -1;

	for (int i = 0; i < n; i++)
	{
		m += d->event[i];
		if (strat && (d->stratum[i] < 0 || d->stratum[i] >= nseg))
			elog(ERROR, "cox statistics: stratum %d of row %d out of range", d->stratum[i], i);
	}
	ev = cox_alloc(m, sizeof(CoxKey));
	tmp = cox_alloc(m, sizeof(CoxKey));
	for (int i = 0, k = 0; i < n; i++)
		if (d->event[i])
		{
			ev[k].row = i;
			ev[k++].key = cox_key_asc(d->duration[i]);
		}
	cox_radix_sort(ev, tmp, m);
	if (strat)
	{
		for (int k = 0; k < m; k++)
			ev[k].key = (uint64) d->stratum[ev[k].row];
		cox_radix_sort(ev, tmp, m);
	}
	pfree(tmp);

	ct->nseg = nseg;
	ct->seg_start = palloc0(sizeof(int) * (nseg + 1));
	ct->time = cox_alloc(m, sizeof(double));
	ct->ntimes = 0;
	for (int k = 0; k < m; k++)
	{
		int			i = ev[k].row;
		int			s = strat ? d->stratum[i] : 0;

		if (k == 0 || s != (strat ? d->stratum[ev[k - 1].row] : 0) ||
			d->duration[i] != d->duration[ev[k - 1].row])
		{
			ct->time[ct->ntimes++] = d->duration[i];
			ct->seg_start[s + 1]++;
		}
	}
	for (int s = 0; s < nseg; s++)
		ct->seg_start[s + 1] += ct->seg_start[s];
	pfree(ev);

	ct->first = cox_alloc(n, sizeof(int));
	ct->last = cox_alloc(n, sizeof(int));
	if (ct->ntimes > COX_SEARCH_MAX)
	{
		cox_event_times_merge(d, strat, ct, false);
		if (cox_late_entry(d))
			cox_event_times_merge(d, strat, ct, true);
		else
			for (int i = 0; i < n; i++)
				ct->first[i] = ct->seg_start[strat ? d->stratum[i] : 0];
		return;
	}
	for (int i = 0; i < n; i++)
	{
		int			s = strat ? d->stratum[i] : 0;
		int			lo = ct->seg_start[s];
		int			hi = ct->seg_start[s + 1];
		double		start = cox_start(d, i);

		/* account-period rows repeat their neighbours' times: reuse */
		if (s != prev_seg || d->duration[i] != prev_dur)
			prev_last = cox_upper_bound(ct->time, lo, hi, d->duration[i]) - 1;
		if (s != prev_seg || !(start == prev_start))
			prev_first = (start == -INFINITY) ? lo :
				cox_upper_bound(ct->time, lo, hi, start);
		prev_seg = s;
		prev_dur = d->duration[i];
		prev_start = start;
		ct->first[i] = prev_first;
		ct->last[i] = prev_last;
	}
}

static void
cox_event_times_free(CoxRiskTimes *ct)
{
	pfree(ct->seg_start);
	pfree(ct->time);
	pfree(ct->first);
	pfree(ct->last);
}

/* ----------------------------------------------------------------
 * Concordance
 * ----------------------------------------------------------------
 *
 * Each event is compared with every row at risk at its time that has not
 * had its event yet (rows censored at that time included, other events at
 * that time not: those are ties in time and do not count), in its own
 * stratum, with weight w_event * w_other.  R's raw counts are: concordant
 * when the event has the smaller linear predictor, discordant when it has
 * the larger one, tied.x when equal; coxph reports the reverse, so C =
 * (discordant + tied.x / 2) / (concordant + discordant + tied.x).
 *
 * The rows are visited in ascending order of the linear predictor within
 * each stratum, a group of equal values at a time, with two Fenwick trees
 * over the event times of the rows already visited (a smaller predictor):
 * the weight at risk at each event time (a range of event times per row),
 * and the weight of the events at each.  An event's "below" is the first at
 * its time; a row's share of the pairs in which it is the one at risk is
 * the second over its range.  "Above" is the total less below and equal.
 * From these per-row counts comes the infinitesimal-jackknife variance of
 * Somers' d, summed by cluster, as R's concordancefit computes it.
 */

static inline void
cox_fenwick_add(double *tree, int size, int index, double w)
{
	for (int k = index + 1; k <= size; k += k & (-k))
		tree[k - 1] += w;
}

/* the sum of the entries 0 .. index (none when index < 0) */
static inline double
cox_fenwick_prefix(const double *tree, int index)
{
	double		s = 0.0;

	for (int k = index + 1; k > 0; k -= k & (-k))
		s += tree[k - 1];
	return s;
}

/* What the sweep of cox_concordance() carries from group to group */
typedef struct CoxConcSweep
{
	const CoxData *d;
	const CoxRiskTimes *ct;
	int			nt;
	double	   *atrisk;			/* Fenwick: range adds, point queries */
	double	   *events;			/* Fenwick: point adds, range queries */
	double	   *total_atrisk;	/* weight at risk at each event time */
	double	   *total_events;	/* cumulated event weight up to each time */
	double	   *infl_cd;		/* per position: concordant - discordant */
	double	   *infl_all;		/* per position: concordant + discordant + tied.x */
	double		conc;
	double		disc;
	double		tiedx;
} CoxConcSweep;

/* The rows by stratum, then linear predictor */
static CoxKey *
conc_order(const CoxData *d, const double *lp)
{
	int			n = d->n;
	CoxKey	   *order = cox_alloc(n, sizeof(CoxKey));
	CoxKey	   *tmp = cox_alloc(n, sizeof(CoxKey));

	for (int i = 0; i < n; i++)
	{
		order[i].row = i;
		order[i].key = cox_key_asc(lp[i]);
	}
	cox_radix_sort(order, tmp, n);
	if (d->stratum != NULL && d->nstrata > 1)
	{
		for (int i = 0; i < n; i++)
			order[i].key = (uint64) d->stratum[order[i].row];
		cox_radix_sort(order, tmp, n);
	}
	pfree(tmp);
	return order;
}

/*
 * The trees, empty, and the totals over every row (an event's own range
 * stops before its time: ties in time are not compared)
 */
static void
conc_sweep_init(CoxConcSweep *sw, const CoxData *d, const CoxRiskTimes *ct)
{
	int			nt = ct->ntimes;

	memset(sw, 0, sizeof(*sw));
	sw->d = d;
	sw->ct = ct;
	sw->nt = nt;
	sw->atrisk = palloc_extended(sizeof(double) * Max(nt, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	sw->events = palloc_extended(sizeof(double) * Max(nt, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	sw->total_atrisk = palloc_extended(sizeof(double) * (nt + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	sw->total_events = palloc_extended(sizeof(double) * (nt + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int i = 0; i < d->n; i++)
	{
		double		w = cox_weight(d, i);
		int			hi = ct->last[i] - (d->event[i] ? 1 : 0);

		if (ct->first[i] <= hi)
		{
			sw->total_atrisk[ct->first[i]] += w;
			sw->total_atrisk[hi + 1] -= w;
		}
		if (d->event[i])
			sw->total_events[ct->last[i] + 1] += w;
	}
	for (int k = 1; k <= nt; k++)
	{
		sw->total_atrisk[k] += sw->total_atrisk[k - 1];
		sw->total_events[k] += sw->total_events[k - 1];
	}
	sw->infl_cd = palloc_extended(sizeof(double) * d->n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	sw->infl_all = palloc_extended(sizeof(double) * d->n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/*
 * One group of rows with the same predictor (positions g0 .. g1 - 1 of
 * order): below, what the rows of smaller predictor give; the group joins
 * the trees; then equal (the group itself, when it has more than one row)
 * and above, into the counts and the per-position influence
 */
static inline void
conc_group(CoxConcSweep *sw, const CoxKey *order, int g0, int g1)
{
	const CoxData *d = sw->d;
	const CoxRiskTimes *ct = sw->ct;

	for (int k = g0; k < g1; k++)
	{
		int			i = order[k].row;
		int			lo = ct->first[i];
		int			hi = ct->last[i] - (d->event[i] ? 1 : 0);

		sw->infl_cd[k] = d->event[i] ? cox_fenwick_prefix(sw->atrisk, ct->last[i]) : 0.0;
		sw->infl_all[k] = (lo <= hi) ?
			cox_fenwick_prefix(sw->events, hi) - cox_fenwick_prefix(sw->events, lo - 1) : 0.0;
	}
	for (int k = g0; k < g1; k++)
	{
		int			i = order[k].row;
		double		w = cox_weight(d, i);
		int			lo = ct->first[i];
		int			hi = ct->last[i] - (d->event[i] ? 1 : 0);

		if (lo <= hi)
		{
			cox_fenwick_add(sw->atrisk, sw->nt, lo, w);
			cox_fenwick_add(sw->atrisk, sw->nt, hi + 1, -w);
		}
		if (d->event[i])
			cox_fenwick_add(sw->events, sw->nt, ct->last[i], w);
	}
	for (int k = g0; k < g1; k++)
	{
		int			i = order[k].row;
		double		w = cox_weight(d, i);
		int			lo = ct->first[i];
		int			hi = ct->last[i] - (d->event[i] ? 1 : 0);
		double		below,
					equal,
					above;
		double		cd = 0.0,
					all = 0.0;

		if (d->event[i])
		{
			int			t = ct->last[i];

			below = sw->infl_cd[k];
			equal = (g1 - g0 > 1) ? cox_fenwick_prefix(sw->atrisk, t) - below : 0.0;
			above = sw->total_atrisk[t] - below - equal;
			sw->conc += w * above;
			sw->disc += w * below;
			sw->tiedx += w * equal;
			cd += above - below;
			all += above + below + equal;
		}
		if (lo <= hi)
		{
			below = sw->infl_all[k];
			equal = (g1 - g0 > 1) ?
				cox_fenwick_prefix(sw->events, hi) - cox_fenwick_prefix(sw->events, lo - 1) - below : 0.0;
			above = sw->total_events[hi + 1] - sw->total_events[lo] - below - equal;
			/* at risk: concordant when the event's predictor is smaller */
			cd += below - above;
			all += below + above + equal;
		}
		sw->infl_cd[k] = cd;
		sw->infl_all[k] = all;
	}
}

/* The infinitesimal-jackknife variance of Somers' d, summed by cluster */
static double
conc_variance(const CoxConcSweep *sw, const CoxKey *order, double somers, double npair)
{
	const CoxData *d = sw->d;
	int			n = d->n;
	double		var = 0.0;

	if (d->cluster != NULL)
	{
		double	   *sum = palloc0(sizeof(double) * Max(d->nclusters, 1));

		for (int i = 0; i < n; i++)
			if (d->cluster[i] < 0 || d->cluster[i] >= d->nclusters)
				elog(ERROR, "cox statistics: cluster %d of row %d out of range", d->cluster[i], i);

		for (int k = 0; k < n; k++)
			sum[d->cluster[order[k].row]] += cox_weight(d, order[k].row) *
				(sw->infl_cd[k] - somers * sw->infl_all[k]) / npair;
		for (int c = 0; c < d->nclusters; c++)
			var += sum[c] * sum[c];
		pfree(sum);
	}
	else
	{
		for (int k = 0; k < n; k++)
		{
			double		b = cox_weight(d, order[k].row) *
				(sw->infl_cd[k] - somers * sw->infl_all[k]) / npair;

			var += b * b;
		}
	}
	return var;
}

void
cox_concordance(const CoxData *data, const double *lp_all,
				double *concordance, double *std_error)
{
	CoxData		buf;
	const double *lp;
	const CoxData *d = cox_positive_weights(data, &buf, lp_all, &lp);
	int			n = d->n;
	CoxRiskTimes ct;
	CoxKey	   *order;
	CoxConcSweep sw;
	double		npair,
				somers;
	int			ngroups = 0;

	*concordance = NAN;
	*std_error = NAN;
	if (n <= 0)
		return;

	cox_event_times(d, false, &ct);
	order = conc_order(d, lp);
	conc_sweep_init(&sw, d, &ct);
	for (int g0 = 0; g0 < n;)
	{
		int			g1 = g0 + 1;
		int			r0 = order[g0].row;

		if (g0 + COX_AHEAD < n)
		{
			int			ahead = order[g0 + COX_AHEAD].row;

			cox_prefetch(&ct.first[ahead]);
			cox_prefetch(&ct.last[ahead]);
			cox_prefetch(&d->event[ahead]);
			cox_prefetch(&lp[ahead]);
			if (d->weight)
				cox_prefetch(&d->weight[ahead]);
			if (d->stratum)
				cox_prefetch(&d->stratum[ahead]);
		}

		while (g1 < n && lp[order[g1].row] + 0.0 == lp[r0] + 0.0 &&
			   cox_stratum(d, order[g1].row) == cox_stratum(d, r0))
			g1++;
		conc_group(&sw, order, g0, g1);
		g0 = g1;
		if (++ngroups % 65536 == 0)
			CHECK_FOR_INTERRUPTS();
	}

	/*
	 * R's raw counts have concordant = the event has the smaller predictor;
	 * its Somers' d and influence, then the reversal coxph asks for (which
	 * only flips signs).
	 */
	npair = sw.conc + sw.disc + sw.tiedx;
	somers = (sw.conc - sw.disc) / npair;
	*concordance = 1.0 - (somers + 1.0) / 2.0;
	*std_error = sqrt(conc_variance(&sw, order, somers, npair) / 4.0);

	pfree(sw.infl_cd);
	pfree(sw.infl_all);
	pfree(sw.atrisk);
	pfree(sw.events);
	pfree(sw.total_atrisk);
	pfree(sw.total_events);
	pfree(order);
	cox_event_times_free(&ct);
}

/* ----------------------------------------------------------------
 * The proportional-hazards test of cox.zph
 * ----------------------------------------------------------------
 *
 * The score test, at the fitted beta, of the model extended with one term
 * g(t) * x_j per signal, where g is the "km" transform of time: 1 - S(t-),
 * S the Kaplan-Meier curve of all the rows together (no strata, no
 * weights; with late entry, its risk sets), centred on its mean over the
 * event rows.  Its score U (2p; the first p are zero at the fit) and its
 * information I (2p x 2p) come from one pass over the risk sets, with the
 * fit's ties (Efron or Breslow) and weights; each signal's test is U' I^-1 U
 * on the p signals and that signal's term, the global test on all 2p.  As
 * in R's survival 3.x, the fit's variance matrix plays no part.
 */

/*
 * u' M^-1 u for the symmetric m x m matrix M (row-major), by Gaussian
 * elimination with partial pivoting on copies; NaN when M is singular.
 */
static double
cox_quad_solve(const double *M, const double *u, int m)
{
	double	   *a = palloc(sizeof(double) * m * m);
	double	   *b = palloc(sizeof(double) * m);
	double		result = 0.0;

	memcpy(a, M, sizeof(double) * m * m);
	memcpy(b, u, sizeof(double) * m);
	for (int c = 0; c < m; c++)
	{
		int			piv = c;

		for (int r = c + 1; r < m; r++)
			if (fabs(a[r * m + c]) > fabs(a[piv * m + c]))
				piv = r;
		if (!(fabs(a[piv * m + c]) > 0.0) || !isfinite(a[piv * m + c]))
		{
			result = NAN;
			goto done;
		}
		if (piv != c)
		{
			for (int k = 0; k < m; k++)
			{
				double		t = a[c * m + k];

				a[c * m + k] = a[piv * m + k];
				a[piv * m + k] = t;
			}
			{
				double		t = b[c];

				b[c] = b[piv];
				b[piv] = t;
			}
		}
		for (int r = c + 1; r < m; r++)
		{
			double		f = a[r * m + c] / a[c * m + c];

			if (f == 0.0)
				continue;
			for (int k = c; k < m; k++)
				a[r * m + k] -= f * a[c * m + k];
			b[r] -= f * b[c];
		}
	}
	/* back substitution: b becomes M^-1 u (in the original order of u) */
	for (int r = m - 1; r >= 0; r--)
	{
		double		s = b[r];

		for (int k = r + 1; k < m; k++)
			s -= a[r * m + k] * b[k];
		b[r] = s / a[r * m + r];
	}
	for (int r = 0; r < m; r++)
		result += b[r] * u[r];
done:
	pfree(a);
	pfree(b);
	return result;
}

/*
 * g(t) for every event row: 1 - S(t-) of the pooled, unweighted
 * Kaplan-Meier curve (as R's survfitKM on the fit's y), minus its mean over
 * the event rows.
 */
/*
 * g(t) at each event time of ct: 1 - S(t-) of the pooled, unweighted
 * Kaplan-Meier curve (R's survfitKM on the fit's y, risk sets with late
 * entry), minus its mean over the event rows.
 */
static void
cox_zph_km(const CoxData *d, const CoxRiskTimes *ct, double *gk)
{
	int			n = d->n;
	CoxRiskTimes	pooled;
	const CoxRiskTimes *pt = ct;
	double	   *nrisk;
	double	   *deaths;
	double		s = 1.0;
	double		mean = 0.0;
	int			nevent = 0;

	if (ct->nseg > 1)
	{
		cox_event_times(d, true, &pooled);
		pt = &pooled;
	}
	nrisk = palloc_extended(sizeof(double) * (pt->ntimes + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	deaths = palloc_extended(sizeof(double) * Max(pt->ntimes, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int i = 0; i < n; i++)
	{
		if (pt->first[i] <= pt->last[i])
		{
			nrisk[pt->first[i]] += 1.0;
			nrisk[pt->last[i] + 1] -= 1.0;
		}
		if (d->event[i])
			deaths[pt->last[i]] += 1.0;
	}
	/* deaths[k] becomes S just before the k-th time */
	for (int k = 0; k < pt->ntimes; k++)
	{
		double		factor;

		if (k > 0)
			nrisk[k] += nrisk[k - 1];
		factor = 1.0 - deaths[k] / nrisk[k];
		deaths[k] = s;
		s *= factor;
	}
	for (int i = 0; i < n; i++)
		if (d->event[i])
		{
			mean += 1.0 - deaths[pt->last[i]];
			nevent++;
		}
	mean /= nevent;
	for (int i = 0; i < n; i++)
		if (d->event[i])
			gk[ct->last[i]] = 1.0 - deaths[pt->last[i]] - mean;

	pfree(nrisk);
	pfree(deaths);
	if (pt != ct)
		cox_event_times_free(&pooled);
}

/* rows with a non-empty range, grouped by key (first or last): counting sort */
static void
cox_bucket_rows(const CoxRiskTimes *ct, int n, bool by_last, int *start, int *rows)
{
	memset(start, 0, sizeof(int) * (ct->ntimes + 1));
	for (int i = 0; i < n; i++)
		if (ct->first[i] <= ct->last[i])
			start[(by_last ? ct->last[i] : ct->first[i]) + 1]++;
	for (int k = 0; k < ct->ntimes; k++)
		start[k + 1] += start[k];
	for (int i = 0; i < n; i++)
		if (ct->first[i] <= ct->last[i])
			rows[start[by_last ? ct->last[i] : ct->first[i]]++] = i;
	/* start[k] now ends bucket k: shift back */
	for (int k = ct->ntimes; k > 0; k--)
		start[k] = start[k - 1];
	start[0] = 0;
}

/* What the sweep of cox_zph() carries from event time to event time */
typedef struct CoxZphSweep
{
	const CoxData *d;
	int			p;
	int			p2;
	const double *mean;			/* the signals' means, to centre them */
	const double *risk;			/* per row: weight * exp(eta) */
	double	   *xc;				/* one row's centred signals */
	double	   *u;				/* 2p: score */
	double	   *imat;			/* 2p x 2p: information, upper triangles */
	double	   *a;				/* risk set: sum of risk * x */
	double	   *c;				/* risk set: sum of risk * x x' (lower) */
	double		denom;			/* risk set: sum of risk */
	int			nrisk;
	/* the events of the current time */
	double	   *a2;
	double	   *c2;
	double		denom2;
	double		deadwt;
	int			ndead;
} CoxZphSweep;

static inline void
zph_centre(CoxZphSweep *sw, int i)
{
	for (int j = 0; j < sw->p; j++)
		sw->xc[j] = sw->d->x[(Size) i * sw->p + j] - sw->mean[j];
}

/* An empty risk set: no rounding left over */
static inline void
zph_clear(CoxZphSweep *sw)
{
	sw->denom = 0.0;
	memset(sw->a, 0, sizeof(double) * sw->p);
	memset(sw->c, 0, sizeof(double) * sw->p * sw->p);
}

/* rows[r0 .. r1 - 1] leave the risk set */
static inline void
zph_leave(CoxZphSweep *sw, const int *rows, int r0, int r1)
{
	int			p = sw->p;

	for (int r = r0; r < r1; r++)
	{
		int			i = rows[r];

		if (r + COX_AHEAD < r1)
		{
			int			ahead = rows[r + COX_AHEAD];

			cox_prefetch(&sw->d->x[(Size) ahead * p]);
			cox_prefetch(&sw->risk[ahead]);
		}
		if (--sw->nrisk == 0)
		{
			zph_clear(sw);
			continue;
		}
		zph_centre(sw, i);
		sw->denom -= sw->risk[i];
		for (int j = 0; j < p; j++)
		{
			sw->a[j] -= sw->risk[i] * sw->xc[j];
			for (int l = 0; l <= j; l++)
				sw->c[j * p + l] -= sw->risk[i] * sw->xc[j] * sw->xc[l];
		}
	}
}

/*
 * rows[r0 .. r1 - 1] (their last event time at risk is the current one, of
 * km-transformed time gt) join the risk set; the events apart, into a2,
 * c2, and the score
 */
static inline void
zph_join(CoxZphSweep *sw, const int *rows, int r0, int r1, double gt)
{
	const CoxData *d = sw->d;
	int			p = sw->p;

	memset(sw->a2, 0, sizeof(double) * p);
	memset(sw->c2, 0, sizeof(double) * p * p);
	sw->denom2 = 0.0;
	sw->deadwt = 0.0;
	sw->ndead = 0;
	for (int r = r0; r < r1; r++)
	{
		int			i = rows[r];
		double		w;
		double		ri;
		double	   *av = sw->a;
		double	   *cv = sw->c;

		if (r + COX_AHEAD < r1)
		{
			int			ahead = rows[r + COX_AHEAD];

			cox_prefetch(&d->x[(Size) ahead * p]);
			cox_prefetch(&sw->risk[ahead]);
			cox_prefetch(&d->event[ahead]);
			if (d->weight)
				cox_prefetch(&d->weight[ahead]);
		}
		w = cox_weight(d, i);
		ri = sw->risk[i];
		sw->nrisk++;
		zph_centre(sw, i);
		if (d->event[i])
		{
			sw->ndead++;
			sw->deadwt += w;
			sw->denom2 += ri;
			for (int j = 0; j < p; j++)
			{
				sw->u[j] += w * sw->xc[j];
				sw->u[p + j] += gt * w * sw->xc[j];
			}
			av = sw->a2;
			cv = sw->c2;
		}
		else
			sw->denom += ri;
		for (int j = 0; j < p; j++)
		{
			av[j] += ri * sw->xc[j];
			for (int l = 0; l <= j; l++)
				cv[j * p + l] += ri * sw->xc[j] * sw->xc[l];
		}
	}
}

/*
 * Efron: the events at t leave the denominator in ndead equal steps, each
 * carrying the mean weight of the events; Breslow: one step with all of
 * them
 */
static inline void
zph_steps(CoxZphSweep *sw, double gt)
{
	int			p = sw->p;
	int			p2 = sw->p2;
	int			steps = sw->d->efron ? sw->ndead : 1;
	double		wstep = sw->deadwt / steps;

	for (int r = 0; r < steps; r++)
	{
		sw->denom += sw->denom2 / steps;
		for (int j = 0; j < p; j++)
		{
			double		mj;

			sw->a[j] += sw->a2[j] / steps;
			mj = sw->a[j] / sw->denom;
			sw->u[j] -= wstep * mj;
			sw->u[p + j] -= gt * wstep * mj;
			for (int l = 0; l <= j; l++)
			{
				double		v;

				sw->c[j * p + l] += sw->c2[j * p + l] / steps;
				v = wstep * (sw->c[j * p + l] - mj * sw->a[l]) / sw->denom;
				sw->imat[l * p2 + j] += v;
				sw->imat[l * p2 + j + p] += gt * v;
				sw->imat[(l + p) * p2 + j + p] += gt * gt * v;
			}
		}
	}
}

/*
 * The tests from the score u and information imat (upper triangles) of
 * the extended model: the global one, then one per signal (the fitted
 * signals and that signal's g(t) term)
 */
static void
zph_tests(double *imat, double *u, int p, double *chisq)
{
	int			p2 = 2 * p;
	int			m = p + 1;
	double	   *sub = palloc(sizeof(double) * m * m);
	double	   *us = palloc0(sizeof(double) * m);

	/* the whole symmetric matrix from its upper triangles */
	for (int j = 0; j < p; j++)
		for (int l = 0; l < j; l++)
		{
			imat[j * p2 + l] = imat[l * p2 + j];
			imat[(j + p) * p2 + l + p] = imat[(l + p) * p2 + j + p];
			imat[j * p2 + l + p] = imat[l * p2 + j + p];	/* symmetric block */
		}
	for (int j = 0; j < p; j++)
		for (int l = 0; l < p; l++)
			imat[(l + p) * p2 + j] = imat[j * p2 + l + p];

	/* the score of the fitted signals is zero at the fit */
	for (int j = 0; j < p; j++)
		u[j] = 0.0;

	chisq[p] = cox_quad_solve(imat, u, p2);
	for (int j = 0; j < p; j++)
	{
		for (int r = 0; r < m; r++)
			for (int q = 0; q < m; q++)
			{
				int			rr = r < p ? r : p + j;
				int			qq = q < p ? q : p + j;

				sub[r * m + q] = imat[rr * p2 + qq];
			}
		us[p] = u[p + j];
		chisq[j] = cox_quad_solve(sub, us, m);
	}
	pfree(sub);
	pfree(us);
}

/*
 * Per row, weight * exp(beta' (x - mean)): the signals centred on their
 * (unweighted) means, as R does for accuracy; into mean (p) and risk (n)
 */
static void
zph_risk(const CoxData *d, const CoxRiskTimes *ct, const double *beta,
		 double *mean, double *risk)
{
	int			n = d->n;
	int			p = d->p;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < p; j++)
			mean[j] += d->x[(Size) i * p + j];
	for (int j = 0; j < p; j++)
		mean[j] /= n;
	for (int i = 0; i < n; i++)
	{
		double		eta = 0.0;

		if (ct->first[i] > ct->last[i])
			continue;
		for (int j = 0; j < p; j++)
			eta += beta[j] * (d->x[(Size) i * p + j] - mean[j]);
		risk[i] = cox_weight(d, i) * exp(eta);
	}
}

void
cox_zph(const CoxData *data, const double *beta, const double *var,
		double *chisq, int *df)
{
	CoxData		buf;
	const CoxData *d = cox_positive_weights(data, &buf, NULL, NULL);
	int			n = d->n;
	int			p = d->p;
	CoxRiskTimes ct;
	double	   *gk;
	double	   *mean;
	double	   *risk;
	int		   *add_start,
			   *add_rows,
			   *rem_start = NULL,
			   *rem_rows = NULL;
	bool		late = cox_late_entry(d);
	bool		any_event = false;
	CoxZphSweep sw;

	(void) var;					/* R's cox.zph recomputes the information */
	for (int j = 0; j < p; j++)
	{
		chisq[j] = NAN;
		df[j] = 1;
	}
	chisq[p] = NAN;
	df[p] = p;
	for (int i = 0; i < n; i++)
		any_event |= d->event[i];
	if (p == 0 || n == 0 || !any_event)
		return;

	cox_event_times(d, false, &ct);
	gk = cox_alloc(ct.ntimes, sizeof(double));
	cox_zph_km(d, &ct, gk);
	mean = palloc0(sizeof(double) * p);
	risk = cox_alloc(n, sizeof(double));
	zph_risk(d, &ct, beta, mean, risk);

	/* rows join the risk sets at their last event time, leave at their first */
	add_start = cox_alloc(ct.ntimes + 1, sizeof(int));
	add_rows = cox_alloc(n, sizeof(int));
	cox_bucket_rows(&ct, n, true, add_start, add_rows);
	if (late)
	{
		rem_start = cox_alloc(ct.ntimes + 1, sizeof(int));
		rem_rows = cox_alloc(n, sizeof(int));
		cox_bucket_rows(&ct, n, false, rem_start, rem_rows);
	}

	memset(&sw, 0, sizeof(sw));
	sw.d = d;
	sw.p = p;
	sw.p2 = 2 * p;
	sw.mean = mean;
	sw.risk = risk;
	sw.xc = palloc0(sizeof(double) * p);
	sw.u = palloc0(sizeof(double) * sw.p2);
	sw.imat = palloc0(sizeof(double) * sw.p2 * sw.p2);
	sw.a = palloc0(sizeof(double) * p);
	sw.a2 = palloc0(sizeof(double) * p);
	sw.c = palloc0(sizeof(double) * p * p);
	sw.c2 = palloc0(sizeof(double) * p * p);
	for (int s = 0; s < ct.nseg; s++)
	{
		int			lo = ct.seg_start[s];
		int			hi = ct.seg_start[s + 1];

		sw.nrisk = 0;
		zph_clear(&sw);
		for (int k = hi - 1; k >= lo; k--)
		{
			/* rows whose first event time at risk was the one after k leave */
			if (late && k + 1 < hi)
				zph_leave(&sw, rem_rows, rem_start[k + 1], rem_start[k + 2]);
			/* rows whose last event time at risk is k join */
			zph_join(&sw, add_rows, add_start[k], add_start[k + 1], gk[k]);
			zph_steps(&sw, gk[k]);
			if ((k & 0xfff) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	zph_tests(sw.imat, sw.u, p, chisq);

	pfree(gk);
	pfree(mean);
	pfree(risk);
	pfree(add_start);
	pfree(add_rows);
	if (late)
	{
		pfree(rem_start);
		pfree(rem_rows);
	}
	pfree(sw.u);
	pfree(sw.imat);
	pfree(sw.a);
	pfree(sw.a2);
	pfree(sw.c);
	pfree(sw.c2);
	pfree(sw.xc);
	cox_event_times_free(&ct);
}
