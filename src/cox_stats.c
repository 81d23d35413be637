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

void
cox_concordance(const CoxData *data, const double *lp_all,
				double *concordance, double *std_error)
{
	CoxData		buf;
	const double *lp;
	const CoxData *d = cox_positive_weights(data, &buf, lp_all, &lp);
	int			n = d->n;
	CoxRiskTimes	ct;
	int			nt;
	CoxKey	   *order;
	CoxKey	   *tmp;
	double	   *atrisk;			/* Fenwick: range adds, point queries */
	double	   *events;			/* Fenwick: point adds, range queries */
	double	   *total_atrisk;	/* weight at risk at each event time */
	double	   *total_events;	/* cumulated event weight up to each time */
	double	   *infl_cd;		/* per position: concordant - discordant */
	double	   *infl_all;		/* per position: concordant + discordant + tied.x */
	double		conc = 0.0,
				disc = 0.0,
				tiedx = 0.0;
	double		npair,
				somers,
				var = 0.0;
	int			ngroups = 0;

	*concordance = NAN;
	*std_error = NAN;
	if (n <= 0)
		return;

	cox_event_times(d, false, &ct);
	nt = ct.ntimes;

	/* the rows by stratum, then linear predictor */
	order = cox_alloc(n, sizeof(CoxKey));
	tmp = cox_alloc(n, sizeof(CoxKey));
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

	/*
	 * An event's own range stops before its time (ties in time are not
	 * compared); the totals over every row.
	 */
	atrisk = palloc_extended(sizeof(double) * Max(nt, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	events = palloc_extended(sizeof(double) * Max(nt, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	total_atrisk = palloc_extended(sizeof(double) * (nt + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	total_events = palloc_extended(sizeof(double) * (nt + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int i = 0; i < n; i++)
	{
		double		w = cox_weight(d, i);
		int			hi = ct.last[i] - (d->event[i] ? 1 : 0);

		if (ct.first[i] <= hi)
		{
			total_atrisk[ct.first[i]] += w;
			total_atrisk[hi + 1] -= w;
		}
		if (d->event[i])
			total_events[ct.last[i] + 1] += w;
	}
	for (int k = 1; k <= nt; k++)
	{
		total_atrisk[k] += total_atrisk[k - 1];
		total_events[k] += total_events[k - 1];
	}

	infl_cd = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	infl_all = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

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

		/* below: what the rows of smaller predictor give */
		for (int k = g0; k < g1; k++)
		{
			int			i = order[k].row;
			int			lo = ct.first[i];
			int			hi = ct.last[i] - (d->event[i] ? 1 : 0);

			infl_cd[k] = d->event[i] ? cox_fenwick_prefix(atrisk, ct.last[i]) : 0.0;
			infl_all[k] = (lo <= hi) ?
				cox_fenwick_prefix(events, hi) - cox_fenwick_prefix(events, lo - 1) : 0.0;
		}
		/* the group joins the trees */
		for (int k = g0; k < g1; k++)
		{
			int			i = order[k].row;
			double		w = cox_weight(d, i);
			int			lo = ct.first[i];
			int			hi = ct.last[i] - (d->event[i] ? 1 : 0);

			if (lo <= hi)
			{
				cox_fenwick_add(atrisk, nt, lo, w);
				cox_fenwick_add(atrisk, nt, hi + 1, -w);
			}
			if (d->event[i])
				cox_fenwick_add(events, nt, ct.last[i], w);
		}
		/* equal: the group itself, when it has more than one row; above */
		for (int k = g0; k < g1; k++)
		{
			int			i = order[k].row;
			double		w = cox_weight(d, i);
			int			lo = ct.first[i];
			int			hi = ct.last[i] - (d->event[i] ? 1 : 0);
			double		below,
						equal,
						above;
			double		cd = 0.0,
						all = 0.0;

			if (d->event[i])
			{
				int			t = ct.last[i];

				below = infl_cd[k];
				equal = (g1 - g0 > 1) ? cox_fenwick_prefix(atrisk, t) - below : 0.0;
				above = total_atrisk[t] - below - equal;
				conc += w * above;
				disc += w * below;
				tiedx += w * equal;
				cd += above - below;
				all += above + below + equal;
			}
			if (lo <= hi)
			{
				below = infl_all[k];
				equal = (g1 - g0 > 1) ?
					cox_fenwick_prefix(events, hi) - cox_fenwick_prefix(events, lo - 1) - below : 0.0;
				above = total_events[hi + 1] - total_events[lo] - below - equal;
				/* at risk: concordant when the event's predictor is smaller */
				cd += below - above;
				all += below + above + equal;
			}
			infl_cd[k] = cd;
			infl_all[k] = all;
		}
		g0 = g1;
		if (++ngroups % 65536 == 0)
			CHECK_FOR_INTERRUPTS();
	}

	/*
	 * R's raw counts have concordant = the event has the smaller predictor;
	 * its Somers' d and influence, then the reversal coxph asks for (which
	 * only flips signs).
	 */
	npair = conc + disc + tiedx;
	somers = (conc - disc) / npair;
	*concordance = 1.0 - (somers + 1.0) / 2.0;

	if (d->cluster != NULL)
	{
		double	   *sum = palloc0(sizeof(double) * Max(d->nclusters, 1));

		for (int i = 0; i < n; i++)
			if (d->cluster[i] < 0 || d->cluster[i] >= d->nclusters)
				elog(ERROR, "cox statistics: cluster %d of row %d out of range", d->cluster[i], i);

		for (int k = 0; k < n; k++)
			sum[d->cluster[order[k].row]] += cox_weight(d, order[k].row) *
				(infl_cd[k] - somers * infl_all[k]) / npair;
		for (int c = 0; c < d->nclusters; c++)
			var += sum[c] * sum[c];
		pfree(sum);
	}
	else
	{
		for (int k = 0; k < n; k++)
		{
			double		b = cox_weight(d, order[k].row) *
				(infl_cd[k] - somers * infl_all[k]) / npair;

			var += b * b;
		}
	}
	*std_error = sqrt(var / 4.0);

	pfree(infl_cd);
	pfree(infl_all);
	pfree(atrisk);
	pfree(events);
	pfree(total_atrisk);
	pfree(total_events);
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

void
cox_zph(const CoxData *data, const double *beta, const double *var,
		double *chisq, int *df)
{
	CoxData		buf;
	const CoxData *d = cox_positive_weights(data, &buf, NULL, NULL);
	int			n = d->n;
	int			p = d->p;
	int			p2 = 2 * p;
	CoxRiskTimes	ct;
	int			nt;
	double	   *gk;
	double	   *risk;
	double	   *mean;
	double	   *xc;				/* one row's centred signals */
	double	   *u;
	double	   *imat;
	double	   *a,
			   *a2,
			   *c,
			   *c2;
	int		   *add_start,
			   *add_rows,
			   *rem_start = NULL,
			   *rem_rows = NULL;
	bool		late = cox_late_entry(d);
	bool		any_event = false;

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
	nt = ct.ntimes;
	gk = cox_alloc(nt, sizeof(double));
	cox_zph_km(d, &ct, gk);

	/* signals centred on their (unweighted) means, as R does for accuracy */
	mean = palloc0(sizeof(double) * p);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < p; j++)
			mean[j] += d->x[(Size) i * p + j];
	for (int j = 0; j < p; j++)
		mean[j] /= n;
	risk = cox_alloc(n, sizeof(double));
	for (int i = 0; i < n; i++)
	{
		double		eta = 0.0;

		if (ct.first[i] > ct.last[i])
			continue;
		for (int j = 0; j < p; j++)
			eta += beta[j] * (d->x[(Size) i * p + j] - mean[j]);
		risk[i] = cox_weight(d, i) * exp(eta);
	}

	/* rows join the risk sets at their last event time, leave at their first */
	add_start = cox_alloc(nt + 1, sizeof(int));
	add_rows = cox_alloc(n, sizeof(int));
	cox_bucket_rows(&ct, n, true, add_start, add_rows);
	if (late)
	{
		rem_start = cox_alloc(nt + 1, sizeof(int));
		rem_rows = cox_alloc(n, sizeof(int));
		cox_bucket_rows(&ct, n, false, rem_start, rem_rows);
	}

	u = palloc0(sizeof(double) * p2);
	imat = palloc0(sizeof(double) * p2 * p2);
	a = palloc0(sizeof(double) * p);
	a2 = palloc0(sizeof(double) * p);
	c = palloc0(sizeof(double) * p * p);
	c2 = palloc0(sizeof(double) * p * p);
	xc = palloc0(sizeof(double) * p);

#define COX_CENTRED(i) \
	for (int j_ = 0; j_ < p; j_++) \
		xc[j_] = d->x[(Size) (i) * p + j_] - mean[j_]

	for (int s = 0; s < ct.nseg; s++)
	{
		int			lo = ct.seg_start[s];
		int			hi = ct.seg_start[s + 1];
		double		denom = 0.0;
		int			nrisk = 0;

		memset(a, 0, sizeof(double) * p);
		memset(c, 0, sizeof(double) * p * p);
		for (int k = hi - 1; k >= lo; k--)
		{
			double		gt = gk[k];
			double		denom2 = 0.0;
			double		deadwt = 0.0;
			int			ndead = 0;

			/* rows whose first event time at risk was the one after k leave */
			if (late && k + 1 < hi)
				for (int r = rem_start[k + 1]; r < rem_start[k + 2]; r++)
				{
					int			i = rem_rows[r];

					if (r + COX_AHEAD < rem_start[k + 2])
					{
						int			ahead = rem_rows[r + COX_AHEAD];

						cox_prefetch(&d->x[(Size) ahead * p]);
						cox_prefetch(&risk[ahead]);
					}

					if (--nrisk == 0)
					{
						denom = 0.0;
						memset(a, 0, sizeof(double) * p);
						memset(c, 0, sizeof(double) * p * p);
						continue;
					}
					COX_CENTRED(i);
					denom -= risk[i];
					for (int j = 0; j < p; j++)
					{
						a[j] -= risk[i] * xc[j];
						for (int l = 0; l <= j; l++)
							c[j * p + l] -= risk[i] * xc[j] * xc[l];
					}
				}

			/* rows whose last event time at risk is k join; the events apart */
			memset(a2, 0, sizeof(double) * p);
			memset(c2, 0, sizeof(double) * p * p);
			for (int r = add_start[k]; r < add_start[k + 1]; r++)
			{
				int			i = add_rows[r];
				double		w;

				if (r + COX_AHEAD < add_start[k + 1])
				{
					int			ahead = add_rows[r + COX_AHEAD];

					cox_prefetch(&d->x[(Size) ahead * p]);
					cox_prefetch(&risk[ahead]);
					cox_prefetch(&d->event[ahead]);
					if (d->weight)
						cox_prefetch(&d->weight[ahead]);
				}
				w = cox_weight(d, i);

				nrisk++;
				COX_CENTRED(i);
				if (d->event[i])
				{
					ndead++;
					deadwt += w;
					denom2 += risk[i];
					for (int j = 0; j < p; j++)
					{
						u[j] += w * xc[j];
						u[p + j] += gt * w * xc[j];
						a2[j] += risk[i] * xc[j];
						for (int l = 0; l <= j; l++)
							c2[j * p + l] += risk[i] * xc[j] * xc[l];
					}
				}
				else
				{
					denom += risk[i];
					for (int j = 0; j < p; j++)
					{
						a[j] += risk[i] * xc[j];
						for (int l = 0; l <= j; l++)
							c[j * p + l] += risk[i] * xc[j] * xc[l];
					}
				}
			}

			/*
			 * Efron: the events at t leave the denominator in ndead equal
			 * steps, each carrying the mean weight of the events; Breslow:
			 * one step with all of them.
			 */
			{
				int			steps = d->efron ? ndead : 1;
				double		wstep = deadwt / steps;

				for (int r = 0; r < steps; r++)
				{
					denom += denom2 / steps;
					for (int j = 0; j < p; j++)
					{
						double		mj;

						a[j] += a2[j] / steps;
						mj = a[j] / denom;
						u[j] -= wstep * mj;
						u[p + j] -= gt * wstep * mj;
						for (int l = 0; l <= j; l++)
						{
							double		v;

							c[j * p + l] += c2[j * p + l] / steps;
							v = wstep * (c[j * p + l] - mj * a[l]) / denom;
							imat[l * p2 + j] += v;
							imat[l * p2 + j + p] += gt * v;
							imat[(l + p) * p2 + j + p] += gt * gt * v;
						}
					}
				}
			}
			if ((k & 0xfff) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
#undef COX_CENTRED

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
	{
		int			m = p + 1;
		double	   *sub = palloc(sizeof(double) * m * m);
		double	   *us = palloc0(sizeof(double) * m);

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
	pfree(u);
	pfree(imat);
	pfree(a);
	pfree(a2);
	pfree(c);
	pfree(c2);
	pfree(xc);
	cox_event_times_free(&ct);
}
