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

static inline uint64
cox_key_desc(double v)
{
	return ~cox_key_asc(v);
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

/* re-key a (sorted) array by stratum and sort it again, stably */
static void
cox_sort_by_stratum(const CoxData *d, CoxKey *a, CoxKey *tmp)
{
	if (d->stratum == NULL || d->nstrata <= 1)
		return;
	for (int i = 0; i < d->n; i++)
		a[i].key = (uint64) d->stratum[a[i].row];
	cox_radix_sort(a, tmp, d->n);
}

/*
 * The rows by stratum, then duration descending, then (with the keys the
 * caller left in a) as they were: the order in which both statistics walk
 * backwards through time.
 */
static void
cox_sort_by_duration(const CoxData *d, CoxKey *a, CoxKey *tmp)
{
	for (int i = 0; i < d->n; i++)
		a[i].key = cox_key_desc(d->duration[a[i].row]);
	cox_radix_sort(a, tmp, d->n);
	cox_sort_by_stratum(d, a, tmp);
}

/* the rows by stratum, then entry descending */
static void
cox_sort_by_entry(const CoxData *d, CoxKey *a, CoxKey *tmp)
{
	for (int i = 0; i < d->n; i++)
	{
		a[i].row = i;
		a[i].key = cox_key_desc(cox_start(d, i));
	}
	cox_radix_sort(a, tmp, d->n);
	cox_sort_by_stratum(d, a, tmp);
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
 * The rows at risk are kept in a Fenwick tree over the ranks of the linear
 * predictor (one segment per stratum), so that each event asks for the
 * weight above, below and equal to its rank in O(log n).  A second tree
 * holds the events seen so far; a row's share of the pairs in which it is
 * the one at risk is the difference of that tree between the moment the row
 * leaves the risk set (going backwards: its entry, or the stratum's start)
 * and the moment it joins it (its duration).  From these per-row counts
 * comes the infinitesimal-jackknife variance of Somers' d, summed by
 * cluster, as concordancefit computes it.
 */

typedef struct CoxFenwick
{
	double	   *tree;			/* Fenwick sums, one segment per stratum */
	double	   *node;			/* weight at each rank */
} CoxFenwick;

static inline void
cox_fenwick_add(CoxFenwick *f, int base, int size, int rank, double w)
{
	f->node[base + rank] += w;
	for (int k = rank + 1; k <= size; k += k & (-k))
		f->tree[base + k - 1] += w;
}

/* weight below, equal to and above rank, given the segment's total */
static inline void
cox_fenwick_split(const CoxFenwick *f, int base, int rank, double total,
				  double *below, double *equal, double *above)
{
	double		s = 0.0;

	for (int k = rank; k > 0; k -= k & (-k))
		s += f->tree[base + k - 1];
	*below = s;
	*equal = f->node[base + rank];
	*above = total - s - *equal;
}

void
cox_concordance(const CoxData *data, const double *lp_all,
				double *concordance, double *std_error)
{
	CoxData		buf;
	const double *lp;
	const CoxData *d = cox_positive_weights(data, &buf, lp_all, &lp);
	int			n = d->n;
	bool		late = cox_late_entry(d);
	CoxKey	   *order = cox_alloc(n, sizeof(CoxKey));
	CoxKey	   *tmp = cox_alloc(n, sizeof(CoxKey));
	CoxKey	   *by_entry = NULL;
	int		   *rank = cox_alloc(n, sizeof(int));
	int		   *base;
	int		   *size;
	int			nranks;
	CoxFenwick	atrisk;
	CoxFenwick	events;
	double	   *infl_cd;		/* per row: concordant - discordant */
	double	   *infl_all;		/* per row: concordant + discordant + tied.x */
	double		conc = 0.0,
				disc = 0.0,
				tiedx = 0.0;
	double		npair,
				somers,
				var;
	int			nstrata = (d->stratum != NULL) ? Max(d->nstrata, 1) : 1;

	*concordance = NAN;
	*std_error = NAN;
	if (n <= 0)
		return;

	/* ranks of the linear predictor within each stratum */
	for (int i = 0; i < n; i++)
	{
		order[i].row = i;
		order[i].key = cox_key_asc(lp[i]);
	}
	cox_radix_sort(order, tmp, n);
	cox_sort_by_stratum(d, order, tmp);
	base = palloc0(sizeof(int) * (nstrata + 1));
	size = palloc0(sizeof(int) * (nstrata + 1));
	nranks = 0;
	for (int k = 0; k < n; k++)
	{
		int			i = order[k].row;
		int			s = cox_stratum(d, i);

		if (k == 0 || s != cox_stratum(d, order[k - 1].row))
		{
			base[s] = nranks;
			nranks++;
		}
		else if (lp[i] + 0.0 != lp[order[k - 1].row] + 0.0)
			nranks++;
		rank[i] = nranks - 1 - base[s];
		size[s] = rank[i] + 1;
	}

	/*
	 * The walk order: by stratum, duration descending, censored rows before
	 * events at the same duration (a row censored at t outlives an event at
	 * t), then by rank.  order is by (stratum, rank) now: re-key by event.
	 */
	for (int k = 0; k < n; k++)
		order[k].key = d->event[order[k].row] ? 1 : 0;
	cox_radix_sort(order, tmp, n);
	cox_sort_by_duration(d, order, tmp);
	if (late)
	{
		by_entry = cox_alloc(n, sizeof(CoxKey));
		cox_sort_by_entry(d, by_entry, tmp);
	}
	pfree(tmp);

	atrisk.tree = palloc_extended(sizeof(double) * Max(nranks, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	atrisk.node = palloc_extended(sizeof(double) * Max(nranks, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	events.tree = palloc_extended(sizeof(double) * Max(nranks, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	events.node = palloc_extended(sizeof(double) * Max(nranks, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	infl_cd = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	infl_all = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	{
		int			k = 0;		/* position in order */
		int			e = 0;		/* position in by_entry */

		while (k < n)
		{
			int			s = cox_stratum(d, order[k].row);
			int			sb = base[s];
			int			ss = size[s];
			double		total = 0.0;	/* weight at risk */
			double		etotal = 0.0;	/* weight of the events so far */
			int			first = k;

			while (k < n && cox_stratum(d, order[k].row) == s)
			{
				int			i = order[k].row;
				double		below,
							equal,
							above;

				if (!d->event[i])
				{
					/* joins the risk set: events from now on count for it */
					cox_fenwick_split(&events, sb, rank[i], etotal, &below, &equal, &above);
					infl_cd[i] -= below - above;
					infl_all[i] -= below + above + equal;
					cox_fenwick_add(&atrisk, sb, ss, rank[i], cox_weight(d, i));
					total += cox_weight(d, i);
					k++;
					continue;
				}

				/* an event time t: rows entering at or after t leave */
				if (late)
				{
					double		t = d->duration[i];

					for (; e < n; e++)
					{
						int			j = by_entry[e].row;

						if (cox_stratum(d, j) != s || !(cox_start(d, j) >= t))
							break;
						cox_fenwick_split(&events, sb, rank[j], etotal, &below, &equal, &above);
						infl_cd[j] += below - above;
						infl_all[j] += below + above + equal;
						cox_fenwick_add(&atrisk, sb, ss, rank[j], -cox_weight(d, j));
						total -= cox_weight(d, j);
					}
				}

				{
					double		t = d->duration[i];
					int			k2;

					/* the events at t against the rows at risk */
					for (k2 = k; k2 < n; k2++)
					{
						int			j = order[k2].row;
						double		w = cox_weight(d, j);

						if (d->duration[j] != t || !d->event[j] ||
							cox_stratum(d, j) != s)
							break;
						cox_fenwick_split(&atrisk, sb, rank[j], total, &below, &equal, &above);
						conc += w * above;
						disc += w * below;
						tiedx += w * equal;
						infl_cd[j] += above - below;
						infl_all[j] += above + below + equal;
						cox_fenwick_add(&events, sb, ss, rank[j], w);
						etotal += w;
					}
					/* then they join the risk set of earlier events */
					for (; k < k2; k++)
					{
						int			j = order[k].row;

						cox_fenwick_split(&events, sb, rank[j], etotal, &below, &equal, &above);
						infl_cd[j] -= below - above;
						infl_all[j] -= below + above + equal;
						cox_fenwick_add(&atrisk, sb, ss, rank[j], cox_weight(d, j));
						total += cox_weight(d, j);
					}
				}
				if ((k & 0xffff) == 0)
					CHECK_FOR_INTERRUPTS();
			}

			/* the rows still at risk at the stratum's start leave */
			if (late)
			{
				for (; e < n && cox_stratum(d, by_entry[e].row) == s; e++)
				{
					int			j = by_entry[e].row;
					double		below,
								equal,
								above;

					cox_fenwick_split(&events, sb, rank[j], etotal, &below, &equal, &above);
					infl_cd[j] += below - above;
					infl_all[j] += below + above + equal;
				}
			}
			else
			{
				for (int k2 = first; k2 < k; k2++)
				{
					int			j = order[k2].row;
					double		below,
								equal,
								above;

					cox_fenwick_split(&events, sb, rank[j], etotal, &below, &equal, &above);
					infl_cd[j] += below - above;
					infl_all[j] += below + above + equal;
				}
			}
		}
	}

	/*
	 * R's raw counts have concordant = the event has the smaller predictor;
	 * above the event's rank is that.  Its Somers' d and influence, then the
	 * reversal coxph asks for (which only flips signs).
	 */
	npair = conc + disc + tiedx;
	somers = (conc - disc) / npair;
	*concordance = 1.0 - (somers + 1.0) / 2.0;

	if (d->cluster != NULL)
	{
		double	   *sum = palloc0(sizeof(double) * Max(d->nclusters, 1));

		for (int i = 0; i < n; i++)
			sum[d->cluster[i]] += cox_weight(d, i) *
				(infl_cd[i] - somers * infl_all[i]) / npair;
		var = 0.0;
		for (int c = 0; c < d->nclusters; c++)
			var += sum[c] * sum[c];
		pfree(sum);
	}
	else
	{
		var = 0.0;
		for (int i = 0; i < n; i++)
		{
			double		b = cox_weight(d, i) * (infl_cd[i] - somers * infl_all[i]) / npair;

			var += b * b;
		}
	}
	*std_error = sqrt(var / 4.0);

	pfree(infl_cd);
	pfree(infl_all);
	pfree(atrisk.tree);
	pfree(atrisk.node);
	pfree(events.tree);
	pfree(events.node);
	pfree(order);
	if (by_entry)
		pfree(by_entry);
	pfree(rank);
	pfree(base);
	pfree(size);
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
static void
cox_zph_km(const CoxData *d, bool late, double *g)
{
	int			n = d->n;
	CoxKey	   *stop = cox_alloc(n, sizeof(CoxKey));
	CoxKey	   *start = NULL;
	CoxKey	   *tmp = cox_alloc(n, sizeof(CoxKey));
	double	   *survival;		/* S just after each event time, descending */
	int		   *time_of;		/* per event row: index of its event time */
	int			ntimes = 0;
	int			nevent = 0;
	double		mean = 0.0;

	for (int i = 0; i < n; i++)
	{
		stop[i].row = i;
		stop[i].key = cox_key_desc(d->duration[i]);
	}
	cox_radix_sort(stop, tmp, n);
	if (late)
	{
		start = cox_alloc(n, sizeof(CoxKey));
		for (int i = 0; i < n; i++)
		{
			start[i].row = i;
			start[i].key = cox_key_desc(cox_start(d, i));
		}
		cox_radix_sort(start, tmp, n);
	}
	pfree(tmp);

	survival = cox_alloc(n, sizeof(double));
	time_of = cox_alloc(n, sizeof(int));
	{
		int			k = 0;
		int			e = 0;		/* rows entering at or after t */

		while (k < n)
		{
			double		t = d->duration[stop[k].row];
			int			k2 = k;
			int			deaths = 0;

			for (; k2 < n && d->duration[stop[k2].row] == t; k2++)
				if (d->event[stop[k2].row])
				{
					deaths++;
					time_of[stop[k2].row] = ntimes;
				}
			if (deaths > 0)
			{
				if (late)
					for (; e < n && cox_start(d, start[e].row) >= t; e++)
						;
				/* rows with duration >= t, less those entering at or after t */
				survival[ntimes++] = 1.0 - (double) deaths / (double) (k2 - e);
				nevent += deaths;
			}
			k = k2;
		}
	}

	/* cumulate from the earliest time: survival[m] becomes S(t_m-) */
	{
		double		s = 1.0;

		for (int m = ntimes - 1; m >= 0; m--)
		{
			double		factor = survival[m];

			survival[m] = s;
			s *= factor;
		}
	}
	for (int i = 0; i < n; i++)
		if (d->event[i])
		{
			g[i] = 1.0 - survival[time_of[i]];
			mean += g[i];
		}
	mean /= nevent;
	for (int i = 0; i < n; i++)
		if (d->event[i])
			g[i] -= mean;

	pfree(stop);
	if (start)
		pfree(start);
	pfree(survival);
	pfree(time_of);
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
	bool		late = cox_late_entry(d);
	double	   *g;
	double	   *risk;
	double	   *mean;
	double	   *xc;				/* one row's centred signals */
	double	   *u;
	double	   *imat;
	double	   *a,
			   *a2,
			   *c,
			   *c2;
	char	   *added;
	CoxKey	   *order;
	CoxKey	   *by_entry = NULL;
	CoxKey	   *tmp;
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

	g = cox_alloc(n, sizeof(double));
	cox_zph_km(d, late, g);

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

		for (int j = 0; j < p; j++)
			eta += beta[j] * (d->x[(Size) i * p + j] - mean[j]);
		risk[i] = cox_weight(d, i) * exp(eta);
	}

	order = cox_alloc(n, sizeof(CoxKey));
	tmp = cox_alloc(n, sizeof(CoxKey));
	for (int i = 0; i < n; i++)
		order[i].row = i;
	cox_sort_by_duration(d, order, tmp);
	if (late)
	{
		by_entry = cox_alloc(n, sizeof(CoxKey));
		cox_sort_by_entry(d, by_entry, tmp);
	}
	pfree(tmp);
	added = palloc_extended(Max(n, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

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

	{
		int			k = 0;
		int			e = 0;

		while (k < n)
		{
			int			s = cox_stratum(d, order[k].row);
			double		denom = 0.0;
			int			nrisk = 0;

			memset(a, 0, sizeof(double) * p);
			memset(c, 0, sizeof(double) * p * p);
			if (late)
				while (e < n && cox_stratum(d, by_entry[e].row) < s)
					e++;

			for (;;)
			{
				int			k1;
				double		t;
				double		gt = 0.0;
				double		denom2 = 0.0;
				double		deadwt = 0.0;
				int			ndead = 0;

				/* the next event time of the stratum */
				for (k1 = k; k1 < n && cox_stratum(d, order[k1].row) == s; k1++)
					if (d->event[order[k1].row])
						break;
				if (k1 >= n || cox_stratum(d, order[k1].row) != s)
				{
					k = k1;
					break;
				}
				t = d->duration[order[k1].row];
				gt = g[order[k1].row];

				/* rows entering at or after t leave the risk set */
				if (late)
					for (; e < n; e++)
					{
						int			i = by_entry[e].row;

						if (cox_stratum(d, i) != s || !(cox_start(d, i) >= t))
							break;
						if (!added[i])
							continue;
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

				/* rows with duration >= t join it; the events at t apart */
				memset(a2, 0, sizeof(double) * p);
				memset(c2, 0, sizeof(double) * p * p);
				for (; k < n; k++)
				{
					int			i = order[k].row;
					double		w = cox_weight(d, i);

					if (cox_stratum(d, i) != s || d->duration[i] < t)
						break;
					COX_CENTRED(i);
					if (d->event[i])
					{
						added[i] = 1;
						nrisk++;
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
					else if (cox_start(d, i) < t)
					{
						added[i] = 1;
						nrisk++;
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
				CHECK_FOR_INTERRUPTS();
			}
		}
	}
#undef COX_CENTRED

	/* the whole symmetric matrix from its upper triangles */
	for (int j = 0; j < p; j++)
		for (int l = 0; l < p; l++)
		{
			if (l < j)
			{
				imat[j * p2 + l] = imat[l * p2 + j];
				imat[(j + p) * p2 + l + p] = imat[(l + p) * p2 + j + p];
			}
		}
	for (int j = 0; j < p; j++)
		for (int l = 0; l < j; l++)
			imat[j * p2 + l + p] = imat[l * p2 + j + p];	/* symmetric block */
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

	pfree(g);
	pfree(mean);
	pfree(risk);
	pfree(order);
	if (by_entry)
		pfree(by_entry);
	pfree(added);
	pfree(u);
	pfree(imat);
	pfree(a);
	pfree(a2);
	pfree(c);
	pfree(c2);
	pfree(xc);
}
