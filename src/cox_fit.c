/*
 * cox_fit.c
 *	  The fit of cox_fit's rows, as R's coxph: the times merged as R's
 *	  timefix merges them, the rows sorted once (by stratum and duration,
 *	  and the late entries by stratum and entry) and centred and scaled as
 *	  R does, Newton-Raphson with step halving on the partial likelihood
 *	  (cox_likelihood.c), collinear signals left out as R's cholesky2 does,
 *	  the robust sandwich variance from the per-cluster dfbeta residuals,
 *	  the tests of summary(coxph), concordance and cox.zph (cox_stats.c),
 *	  and the baseline hazard of survfit.coxph for predictions, into a
 *	  cox_model (cox_model.c).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "cox.h"
#include "cs_common.h"
#include "fit_state.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* ---------- the fit ---------- */

/* rows ahead to fetch when copying rows in sorted order */
#define COX_PREFETCH 16
#if defined(__GNUC__) || defined(__clang__)
#define cox_prefetch(addr) __builtin_prefetch(addr)
#else
#define cox_prefetch(addr) ((void) (addr))
#endif

/* Sort items: a row's stratum, its time (duration or entry) and position */
typedef struct CoxSortItem
{
	double		t;
	int32		stratum;
	int32		pos;
} CoxSortItem;

/*
 * The one LSD radix sort of this file: sorts n elements of size bytes, each
 * keyed by the non-negative double at key_off (such doubles order as their
 * bit patterns; complemented for descending), stably, one counting pass per
 * byte of the key, bytes that are the same in every element skipped.  tmp
 * holds n elements; returns the one of base and tmp that holds the result.
 * Always inlined with constant size, key_off and descending, so that each
 * caller gets its own loop with fixed-size moves: PostgreSQL's
 * sort_template (a comparison sort) was slower on a million rows, which is
 * why this sort exists.
 */
static pg_attribute_always_inline void *
cox_radix_sort(void *base, void *tmp, int64 n, size_t size, size_t key_off,
			   bool descending)
{
	uint32	   *hist = palloc0(sizeof(uint32) * 8 * 256);
	char	   *src = base,
			   *dst = tmp;

	for (int64 i = 0; i < n; i++)
	{
		uint64		k;

		memcpy(&k, src + i * size + key_off, sizeof(k));
		if (descending)
			k = ~k;
		for (int b = 0; b < 8; b++)
			hist[b * 256 + ((k >> (8 * b)) & 0xFF)]++;
	}
	for (int b = 0; b < 8; b++)
	{
		uint32	   *h = hist + b * 256;
		uint32		sum = 0;
		bool		trivial = false;

		for (int d = 0; d < 256; d++)
		{
			uint32		c = h[d];

			if (c == (uint32) n)
				trivial = true;
			h[d] = sum;
			sum += c;
		}
		if (trivial)
			continue;
		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < n; i++)
		{
			uint64		k;

			memcpy(&k, src + i * size + key_off, sizeof(k));
			if (descending)
				k = ~k;
			memcpy(dst + (size_t) h[(k >> (8 * b)) & 0xFF]++ * size,
				   src + i * size, size);
		}
		{
			char	   *swap = src;

			src = dst;
			dst = swap;
		}
	}
	pfree(hist);
	return src;
}

/*
 * Sorts n items by stratum, then time descending, then position (the
 * items come in position order): the radix sort on the time, then a stable
 * counting pass on the stratum.  tmp holds n items.
 */
static void
cox_sort_items(CoxSortItem *items, CoxSortItem *tmp, int n, int nstrata)
{
	CoxSortItem *src = cox_radix_sort(items, tmp, n, sizeof(CoxSortItem),
									  offsetof(CoxSortItem, t), true);

	if (nstrata > 1)
	{
		CoxSortItem *dst = src == items ? tmp : items;
		uint32	   *start = palloc0(sizeof(uint32) * (nstrata + 1));

		for (int i = 0; i < n; i++)
			start[src[i].stratum + 1]++;
		for (int s = 0; s < nstrata; s++)
			start[s + 1] += start[s];
		for (int i = 0; i < n; i++)
			dst[start[src[i].stratum]++] = src[i];
		pfree(start);
		src = dst;
	}
	if (src != items)
		memcpy(items, src, sizeof(CoxSortItem) * n);
}

pg_noreturn static void
cox_infinite(int signal)
{
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("cox_fit: the coefficient of signal %d may be infinite", signal),
			 errdetail("The partial likelihood keeps rising as the coefficient grows without bound (R's \"coefficient may be infinite\"): the signal separates the accounts that churned from the others."),
			 errhint("Leave the signal out, or bin it so that every bin has both outcomes.")));
}

static int
strcmp_nullable(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

static const CoxNames *sort_names;

static int
name_order_cmp(const void *a, const void *b)
{
	int32		len;
	const char *s = cox_name(sort_names, *(const int32 *) a, &len);
	const char *t = cox_name(sort_names, *(const int32 *) b, &len);

	return strcmp_nullable(s, t);
}

/* ---------- R's timefix ---------- */

/*
 * The times of a fit as R's coxph(timefix = TRUE), its default, sees them
 * (survival's aeqSurv): the distinct times, in ascending order, of every
 * duration and every entry > 0 (entry 0 is "observed from the start", not
 * a time: such a row counts as in the one-row-per-account form); two
 * neighbours that differ by at most sqrt(DBL_EPSILON), or by at most that
 * times the mean of the distinct times (all.equal's tolerance), are one
 * time, the first of the run: cut[i] is the time y[i] stands for.
 */
typedef struct CoxTimefix
{
	int64		n;				/* distinct times */
	double	   *y;				/* ascending */
	double	   *cut;			/* the time y[i] is merged into */
} CoxTimefix;

/* Sorts n non-negative doubles ascending (the radix sort).  tmp holds n. */
static void
cox_sort_times(double *v, double *tmp, int64 n)
{
	double	   *src = cox_radix_sort(v, tmp, n, sizeof(double), 0, false);

	if (src != v)
		memcpy(v, src, sizeof(double) * n);
}

/*
 * A set of times (their bits), while they are few: whole periods (days,
 * weeks, months) give a few hundred distinct times for millions of rows.
 */
#define COX_FEW_TIMES 16384

typedef struct CoxTimeEntry
{
	uint64		bits;
	char		status;
} CoxTimeEntry;

static inline uint32
cox_time_hash(uint64 bits)
{
	double		t;

	memcpy(&t, &bits, sizeof(t));
	return cs_hash_double(t, 0);
}

#define SH_PREFIX		cox_tset
#define SH_ELEMENT_TYPE	CoxTimeEntry
#define SH_KEY_TYPE		uint64
#define SH_KEY			bits
#define SH_HASH_KEY(tb, k)	cox_time_hash(k)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "cs_simplehash.h"

static inline bool
cox_tset_add(cox_tset_hash *set, double t)
{
	uint64		bits;
	bool		found;

	memcpy(&bits, &t, sizeof(bits));
	cox_tset_insert(set, bits, &found);
	return set->members <= COX_FEW_TIMES;
}

/*
 * The times of the rows (durations, and entries after 0) into *v, each
 * once when they are few (then a set finds them), else all of them; returns
 * how many.
 */
static int64
cox_times_collect(const CoxFitState *st, double **v)
{
	cox_tset_hash *set = cox_tset_create(CurrentMemoryContext, 256, NULL);
	bool		few = true;
	int64		m = 0;

	for (int64 i = 0; i < st->nrows && few; i++)
	{
		const double *row = st->rows + (Size) i * st->width;

		few = cox_tset_add(set, row[R_DUR]) &&
			(!(row[R_ENTRY] > 0) || cox_tset_add(set, row[R_ENTRY]));
	}
	if (few)
	{
		cox_tset_iterator it;
		CoxTimeEntry *e;

		*v = palloc(sizeof(double) * Max(set->members, 1));
		cox_tset_start_iterate(set, &it);
		while ((e = cox_tset_iterate(set, &it)) != NULL)
			memcpy(&(*v)[m++], &e->bits, sizeof(double));
		cox_tset_destroy(set);
		return m;
	}
	cox_tset_destroy(set);
	*v = palloc_extended(sizeof(double) * Max(2 * st->nrows, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < st->nrows; i++)
	{
		const double *row = st->rows + (Size) i * st->width;

		(*v)[m++] = row[R_DUR];
		if (row[R_ENTRY] > 0)
			(*v)[m++] = row[R_ENTRY];
	}
	return m;
}

/*
 * The distinct times of the rows and what each stands for; false (and tf
 * left empty) when no two are near-tied, as aeqSurv then returns the times
 * unchanged.  One sort of the times (of the distinct ones when they are
 * few): O(n log n) with a radix sort's n.
 */
static bool
cox_timefix_build(const CoxFitState *st, CoxTimefix *tf)
{
	const double tol = sqrt(DBL_EPSILON);
	int64		m = 0;
	double	   *v,
			   *tmp;
	CsSum		sum = {0, 0};
	double		mean;
	bool		any = false;

	memset(tf, 0, sizeof(*tf));
	m = cox_times_collect(st, &v);
	tmp = palloc_extended(sizeof(double) * Max(m, 1), MCXT_ALLOC_HUGE);
	cox_sort_times(v, tmp, m);
	pfree(tmp);
	/* distinct, in place */
	{
		int64		u = 0;

		for (int64 i = 0; i < m; i++)
			if (u == 0 || v[i] != v[u - 1])
				v[u++] = v[i];
		m = u;
	}
	for (int64 i = 0; i < m; i++)
		cs_sum_add(&sum, v[i]);
	mean = m > 0 ? cs_sum_value(&sum) / m : 0;
	tf->cut = palloc_extended(sizeof(double) * Max(m, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < m; i++)
	{
		double		dy = i > 0 ? v[i] - v[i - 1] : 0;

		if (i > 0 && (dy <= tol || dy / mean <= tol))
		{
			tf->cut[i] = tf->cut[i - 1];
			any = true;
		}
		else
			tf->cut[i] = v[i];
	}
	if (!any)
	{
		pfree(v);
		pfree(tf->cut);
		tf->cut = NULL;
		return false;
	}
	tf->n = m;
	tf->y = v;
	return true;
}

/* The time t (one of the rows' times) as the fit sees it */
static inline double
cox_timefix_map(const CoxTimefix *tf, double t)
{
	int64		lo = 0,
				hi = tf->n - 1;

	if (tf->cut == NULL)
		return t;
	while (lo < hi)
	{
		int64		mid = lo + (hi - lo + 1) / 2;

		if (tf->y[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return tf->cut[lo];
}

pg_noreturn static void
cox_zero_interval(double entry, double duration)
{
	char		e[DOUBLE_SHORTEST_DECIMAL_LEN];
	char		d[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(entry, e);
	double_to_shortest_decimal_buf(duration, d);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cox_fit: entry %s and duration %s are one time", e, d),
			 errdetail("Times that differ by at most %g, or by at most that times the mean time, are one time, as in R's coxph (timefix = TRUE): the row would be at risk for no time.",
					   sqrt(DBL_EPSILON)),
			 errhint("Round the times, or leave the row out.")));
}

/* What the steps of one fit share */
typedef struct CoxRun
{
	const CoxFitState *st;
	CoxFit		f;				/* the rows as the passes walk them */
	int			p;
	int			n;
	int			nstrata;
	int32	   *smap;			/* state stratum number -> sorted */
	int32	   *sorder;			/* sorted -> state number */
	double	   *means;			/* weighted: the centre of the fit */
	double	   *umeans;			/* plain: R's fit$means */
	double	   *scale;
	bool		whole;			/* every weight a whole number */
	int64		nevent;
	bool		has_cluster;
	int64		nclusters;		/* and one per row without a cluster */
	int32	   *cluster;		/* per row of f */
	double	   *beta;
	double	   *newbeta;
	double	   *u;
	double	   *u0;				/* the score at 0 */
	double	   *imat;
	double	   *var;
	double	   *rvar;
	double	   *work;			/* the factored information */
	bool	   *dropped;		/* left out as collinear */
	int			kept;
	double		toler;
	double		ll0;
	double		ll;
	double		sctest;
	int			iter;
	bool		converged;
	CoxTimes	tm;				/* the event times of the last pass */
	double	   *csum;			/* per-cluster sums of residuals */
	bool		robust;
	double		rscore;
	double		conc;
	double		conc_se;
	double	   *zchi;
	int		   *zdf;
} CoxRun;

/* The strata in the order of their names, NULL last */
static void
fit_strata(CoxRun *r)
{
	const CoxFitState *st = r->st;

	r->nstrata = 1;
	if (st->form != FORM_FULL)
		return;
	r->nstrata = st->strata.n;
	r->sorder = palloc(sizeof(int32) * r->nstrata);
	r->smap = palloc(sizeof(int32) * r->nstrata);
	for (int i = 0; i < r->nstrata; i++)
		r->sorder[i] = i;
	sort_names = &st->strata;
	qsort(r->sorder, r->nstrata, sizeof(int32), name_order_cmp);
	for (int i = 0; i < r->nstrata; i++)
		r->smap[r->sorder[i]] = i;
}

/*
 * The weighted means and R's scale (1 / weighted mean absolute deviation),
 * which the fit centres and scales on, and R's fit$means, the plain column
 * means: one pass for the means, one for the deviations.  Only fit$means
 * is reported, so only its sums are compensated: the fit is the same at any
 * centre and scale, which only keep its numbers near 1.
 */
static void
fit_centre(CoxRun *r)
{
	const CoxFitState *st = r->st;
	int			p = r->p;
	CsSum	   *usum = palloc0(sizeof(CsSum) * p);
	double	   *wx = palloc0(sizeof(double) * p);
	double	   *dev = palloc0(sizeof(double) * p);
	double		wsum = 0;
	bool	   *nocenter = palloc(sizeof(bool) * p);

	r->means = palloc(sizeof(double) * p);
	r->umeans = palloc(sizeof(double) * p);
	r->scale = palloc(sizeof(double) * p);
	r->whole = true;
	/*
	 * R leaves a signal whose values are all -1, 0 or 1 uncentred and
	 * unscaled, and reports its mean as 0 (coxph's nocenter)
	 */
	for (int j = 0; j < p; j++)
		nocenter[j] = true;
	for (int i = 0; i < r->n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		const double *x = row + R_X;
		double		w = row_weight(row);

		wsum += w;
		if (w != floor(w))
			r->whole = false;
		for (int j = 0; j < p; j++)
		{
			wx[j] += w * x[j];
			cs_sum_add(&usum[j], x[j]);
			if (x[j] != 0 && x[j] != 1 && x[j] != -1)
				nocenter[j] = false;
		}
	}
	for (int j = 0; j < p; j++)
	{
		r->means[j] = nocenter[j] ? 0 : wx[j] / wsum;
		r->umeans[j] = nocenter[j] ? 0 : cs_sum_value(&usum[j]) / r->n;
	}
	for (int i = 0; i < r->n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		double		w = row_weight(row);

		for (int j = 0; j < p; j++)
			dev[j] += w * fabs(row[R_X + j] - r->means[j]);
	}
	for (int j = 0; j < p; j++)
		r->scale[j] = dev[j] > 0 && !nocenter[j] ? wsum / dev[j] : 1.0;
	pfree(usum);
	pfree(wx);
	pfree(dev);
	pfree(nocenter);
}

/*
 * The rows by stratum and duration descending, copied into f in that order
 * with their times as R's timefix leaves them, signals centred and scaled;
 * items and sorttmp hold n items.
 */
static void
fit_sort_durations(CoxRun *r, const CoxTimefix *tfix, CoxSortItem *items, CoxSortItem *sorttmp)
{
	const CoxFitState *st = r->st;
	CoxFit	   *f = &r->f;
	int			n = r->n;
	int			p = r->p;

	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		int32		s = 0,
					c;

		if (st->form == FORM_FULL)
		{
			row_get_ids(row + R_X + p, &s, &c);
			s = r->smap[s];
		}
		items[i].t = cox_timefix_map(tfix, row[R_DUR]);
		items[i].stratum = s;
		items[i].pos = i;
	}
	cox_sort_items(items, sorttmp, n, r->nstrata);

	f->dur = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f->entry = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f->w = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f->ev = palloc_extended(sizeof(bool) * n, MCXT_ALLOC_HUGE);
	f->stratum = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
	r->cluster = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
	f->x = palloc_extended(sizeof(double) * n * p, MCXT_ALLOC_HUGE);
	f->sstart = palloc0(sizeof(int) * (r->nstrata + 1));
	f->n2 = 0;
	r->nclusters = st->form == FORM_FULL ? st->clusters.n : 0;
	for (int k = 0; k < n; k++)
	{
		const double *row = st->rows + (Size) items[k].pos * st->width;
		int32		s,
					c = -1;

		/* the rows are read in sorted order: fetch ahead of the reads */
		if (k + COX_PREFETCH < n)
		{
			const double *ahead = st->rows + (Size) items[k + COX_PREFETCH].pos * st->width;

			cox_prefetch(ahead);
			cox_prefetch(ahead + st->width - 1);
		}

		if ((k & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		f->dur[k] = items[k].t;
		f->entry[k] = row[R_ENTRY] > 0 ? cox_timefix_map(tfix, row[R_ENTRY]) : 0.0;
		if (unlikely(row[R_ENTRY] > 0 && !(f->entry[k] < f->dur[k])))
			cox_zero_interval(row[R_ENTRY], row[R_DUR]);
		f->w[k] = row_weight(row);
		f->ev[k] = row_event(row);
		f->stratum[k] = items[k].stratum;
		if (st->form == FORM_FULL)
			row_get_ids(row + R_X + p, &s, &c);
		if (c >= 0)
			r->has_cluster = true;
		/* no cluster: a cluster of its own */
		r->cluster[k] = c >= 0 ? c : (int32) r->nclusters++;
		for (int j = 0; j < p; j++)
			f->x[(Size) k * p + j] = (row[R_X + j] - r->means[j]) * r->scale[j];
		f->sstart[items[k].stratum + 1]++;
		if (f->entry[k] > 0)
			f->n2++;
	}
	for (int s = 0; s < r->nstrata; s++)
		f->sstart[s + 1] += f->sstart[s];
}

/* The late entries by stratum and entry descending: positions in f */
static void
fit_sort_entries(CoxRun *r, CoxSortItem *items, CoxSortItem *sorttmp)
{
	CoxFit	   *f = &r->f;
	int			p = r->p;
	int			k2 = 0;

	f->sstart2 = palloc0(sizeof(int) * (r->nstrata + 1));
	for (int k = 0; k < r->n; k++)
		if (f->entry[k] > 0)
		{
			items[k2].t = f->entry[k];
			items[k2].stratum = f->stratum[k];
			items[k2].pos = k;
			k2++;
		}
	cox_sort_items(items, sorttmp, k2, r->nstrata);
	f->entry2 = palloc_extended(sizeof(double) * Max(k2, 1), MCXT_ALLOC_HUGE);
	f->w2 = palloc_extended(sizeof(double) * Max(k2, 1), MCXT_ALLOC_HUGE);
	f->x2 = palloc_extended(sizeof(double) * Max(k2, 1) * p, MCXT_ALLOC_HUGE);
	for (int k = 0; k < k2; k++)
	{
		f->entry2[k] = items[k].t;
		f->w2[k] = f->w[items[k].pos];
		if (k + COX_PREFETCH < k2)
		{
			cox_prefetch(f->x + (Size) items[k + COX_PREFETCH].pos * p);
			cox_prefetch(f->x + (Size) items[k + COX_PREFETCH].pos * p + p - 1);
		}
		memcpy(f->x2 + (Size) k * p, f->x + (Size) items[k].pos * p, sizeof(double) * p);
		f->sstart2[items[k].stratum + 1]++;
	}
	for (int s = 0; s < r->nstrata; s++)
		f->sstart2[s + 1] += f->sstart2[s];
}

/* The rows of the state in the orders of the walk, and its work space */
static void
fit_rows(CoxRun *r)
{
	CoxTimefix	tfix;
	CoxSortItem *items;
	CoxSortItem *sorttmp;
	CoxFit	   *f = &r->f;
	int			p = r->p;

	/* near-tied times as one (R's timefix) */
	cox_timefix_build(r->st, &tfix);
	memset(f, 0, sizeof(*f));
	f->n = r->n;
	f->p = p;
	f->efron = r->st->ties != TIES_BRESLOW;
	f->nstrata = r->nstrata;
	items = palloc_extended(sizeof(CoxSortItem) * Max(r->n, 1), MCXT_ALLOC_HUGE);
	sorttmp = palloc_extended(sizeof(CoxSortItem) * Max(r->n, 1), MCXT_ALLOC_HUGE);
	fit_sort_durations(r, &tfix, items, sorttmp);
	fit_sort_entries(r, items, sorttmp);
	pfree(items);
	pfree(sorttmp);
	f->eta = palloc_extended(sizeof(double) * r->n, MCXT_ALLOC_HUGE);
	f->r = palloc_extended(sizeof(double) * r->n, MCXT_ALLOC_HUGE);
	f->r2 = palloc_extended(sizeof(double) * Max(f->n2, 1), MCXT_ALLOC_HUGE);
	f->s1 = palloc(sizeof(double) * p);
	f->s2 = palloc(sizeof(double) * p * p);
	f->d1 = palloc(sizeof(double) * p);
	f->d2 = palloc(sizeof(double) * p * p);
	f->a = palloc(sizeof(double) * p);
}

/*
 * At beta = 0: the null log-likelihood, the score test, and the signals
 * left out as collinear (zeroed in every row: their pivots stay 0); false
 * when every signal is.
 */
static bool
fit_start(CoxRun *r)
{
	CoxFit	   *f = &r->f;
	int			p = r->p;

	r->beta = palloc0(sizeof(double) * p);
	r->newbeta = palloc0(sizeof(double) * p);
	r->u = palloc(sizeof(double) * p);
	r->u0 = palloc(sizeof(double) * p);
	r->imat = palloc(sizeof(double) * p * p);
	r->work = palloc(sizeof(double) * p * p);
	r->var = palloc(sizeof(double) * p * p);
	r->rvar = palloc(sizeof(double) * p * p);
	r->dropped = palloc0(sizeof(bool) * p);
	r->toler = pow(DBL_EPSILON, 0.75);

	if (!cox_pass(f, r->beta, &r->ll0, r->u, r->imat, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cox_fit: the partial likelihood is out of range at 0"),
				 errdetail("Weights or signals are too large.")));
	memcpy(r->u0, r->u, sizeof(double) * p);
	memcpy(r->work, r->imat, sizeof(double) * p * p);
	cox_chol(r->work, p, r->toler);
	r->kept = 0;
	for (int j = 0; j < p; j++)
	{
		r->dropped[j] = r->work[j * p + j] == 0;
		if (!r->dropped[j])
			r->kept++;
	}
	if (r->kept == 0)
		return false;			/* every signal constant: nothing to fit */
	if (r->kept < p)
	{
		for (int i = 0; i < r->n; i++)
			for (int j = 0; j < p; j++)
				if (r->dropped[j])
					f->x[(Size) i * p + j] = 0;
		for (int i = 0; i < f->n2; i++)
			for (int j = 0; j < p; j++)
				if (r->dropped[j])
					f->x2[(Size) i * p + j] = 0;
		for (int j = 0; j < p; j++)
			if (r->dropped[j])
				r->u0[j] = r->u[j] = 0;
	}
	memcpy(r->newbeta, r->u, sizeof(double) * p);
	cox_chol_solve(r->work, p, r->newbeta);
	r->sctest = 0;
	for (int j = 0; j < p; j++)
		r->sctest += r->u[j] * r->newbeta[j];
	r->ll = r->ll0;
	return true;
}

/*
 * Newton-Raphson with step halving, as R's coxfit6/agfit4, from the first
 * step fit_start() left in newbeta.  After it, u, the information
 * (factored in work), its inverse var, the linear predictor and the event
 * times are those of the last pass, at beta (the last accepted beta when
 * it did not converge, for fit_check_infinite() to name a signal).
 */
static void
fit_newton(CoxRun *r)
{
	CoxFit	   *f = &r->f;
	int			p = r->p;

	r->converged = false;
	for (r->iter = 1; r->iter <= COX_MAX_ITER; r->iter++)
	{
		double		newll;
		bool		ok;

		/* the event times of the pass that converges are those kept */
		r->tm.n = 0;
		ok = cox_pass(f, r->newbeta, &newll, r->u, r->imat, &r->tm);

		if (ok)
		{
			memcpy(r->work, r->imat, sizeof(double) * p * p);
			cox_chol(r->work, p, r->toler);
		}
		if (ok && (newll == r->ll || fabs(1 - r->ll / newll) <= COX_EPS))
		{
			r->converged = true;
			memcpy(r->beta, r->newbeta, sizeof(double) * p);
			r->ll = newll;
			break;
		}
		if (!ok || newll < r->ll)
		{
			for (int j = 0; j < p; j++)
				r->newbeta[j] = (r->beta[j] + r->newbeta[j]) / 2;
		}
		else
		{
			r->ll = newll;
			memcpy(r->beta, r->newbeta, sizeof(double) * p);
			memcpy(r->newbeta, r->u, sizeof(double) * p);
			cox_chol_solve(r->work, p, r->newbeta);
			for (int j = 0; j < p; j++)
				r->newbeta[j] += r->beta[j];
		}
	}
	if (!r->converged)
	{
		r->tm.n = 0;
		if (!cox_pass(f, r->beta, &r->ll, r->u, r->imat, &r->tm))
			elog(ERROR, "cox_fit: the last accepted step is not finite");
		memcpy(r->work, r->imat, sizeof(double) * p * p);
		cox_chol(r->work, p, r->toler);
	}
	cox_chol_inverse(r->work, p, r->var);
}

/* R's check: a Newton step still large where the likelihood stopped */
static void
fit_check_infinite(CoxRun *r)
{
	int			p = r->p;
	double		step[COX_MAX_SIGNALS];
	int			worst = -1;
	double		worst_v = 0;

	memcpy(step, r->u, sizeof(double) * p);
	cox_chol_solve(r->work, p, step);
	for (int j = 0; j < p; j++)
	{
		double		sj = fabs(step[j]);
		double		bj = fabs(r->beta[j]);

		if (r->dropped[j])
			continue;
		/* the information of a diverging coefficient vanishes */
		if (r->work[j * p + j] == 0)
		{
			worst = j;
			break;
		}
		if (!r->converged || (sj > 1e-9 && sj > sqrt(1e-9) * bj))
		{
			double		v = sj / Max(bj, 1) + bj;

			if (worst < 0 || v > worst_v)
			{
				worst = j;
				worst_v = v;
			}
		}
	}
	if (worst >= 0)
		cox_infinite(worst + 1);
}

/* The robust variance: dfbeta residuals summed per cluster */
static void
fit_robust_variance(CoxRun *r)
{
	int			p = r->p;

	r->robust = r->has_cluster || !r->whole;
	if (!r->has_cluster)
	{
		cox_score_residuals(&r->f, &r->tm, NULL, NULL, r->var, r->rvar);
		return;
	}
	r->csum = palloc_extended(sizeof(double) * r->nclusters * p, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	cox_score_residuals(&r->f, &r->tm, r->cluster, r->csum, NULL, NULL);
	for (int64 c = 0; c < r->nclusters; c++)
	{
		double		d[COX_MAX_SIGNALS];

		for (int j = 0; j < p; j++)
		{
			d[j] = 0;
			for (int k = 0; k < p; k++)
				d[j] += r->csum[c * p + k] * r->var[k * p + j];
		}
		memcpy(r->csum + c * p, d, sizeof(double) * p);
	}
	cox_crossprod(r->csum, r->nclusters, p, r->rvar);
}

/*
 * The statistics of cox_stats.c on the rows as fitted, in the centred and
 * scaled signals of the fit with its beta and variance (concordance and
 * cox.zph's test do not change with that), only the signals kept; the
 * linear predictor is that of the last pass.
 */
static void
fit_statistics(CoxRun *r)
{
	const CoxFit *f = &r->f;
	int			p = r->p;
	int			kept = r->kept;
	const double *xk = f->x;
	const double *betak = r->beta;
	const double *vark = r->var;
	CoxData		cd;

	r->zchi = palloc(sizeof(double) * (kept + 1));
	r->zdf = palloc(sizeof(int) * (kept + 1));
	if (kept < p)
	{
		double	   *b = palloc(sizeof(double) * kept);
		double	   *v = palloc(sizeof(double) * kept * kept);
		double	   *x = palloc_extended(sizeof(double) * r->n * kept, MCXT_ALLOC_HUGE);

		for (int j = 0, jj = 0; j < p; j++)
		{
			if (r->dropped[j])
				continue;
			b[jj] = r->beta[j];
			for (int k = 0, kk = 0; k < p; k++)
			{
				if (r->dropped[k])
					continue;
				v[jj * kept + kk] = r->var[j * p + k];
				kk++;
			}
			jj++;
		}
		for (int i = 0; i < r->n; i++)
			for (int j = 0, jj = 0; j < p; j++)
				if (!r->dropped[j])
					x[(Size) i * kept + jj++] = f->x[(Size) i * p + j];
		xk = x;
		betak = b;
		vark = v;
	}
	memset(&cd, 0, sizeof(cd));
	cd.n = r->n;
	cd.p = kept;
	cd.entry = r->st->form == FORM_SIMPLE ? NULL : f->entry;
	cd.duration = f->dur;
	cd.event = f->ev;
	cd.weight = r->st->form == FORM_FULL ? f->w : NULL;
	cd.stratum = r->st->form == FORM_FULL ? f->stratum : NULL;
	cd.nstrata = r->nstrata;
	cd.cluster = r->has_cluster ? r->cluster : NULL;
	cd.nclusters = r->has_cluster ? (int) r->nclusters : 0;
	cd.x = xk;
	cd.efron = f->efron;
	cox_concordance(&cd, f->eta, &r->conc, &r->conc_se);
	cox_zph(&cd, betak, vark, r->zchi, r->zdf);
}

/* The robust score test: score residuals at beta = 0 */
static void
fit_robust_score(CoxRun *r)
{
	int			p = r->p;
	CoxTimes	tm0 = {0};
	double		l;
	double	   *rs = palloc(sizeof(double) * p * p);

	r->rscore = NAN;
	if (!r->robust)
		return;
	memset(r->newbeta, 0, sizeof(double) * p);
	cox_pass(&r->f, r->newbeta, &l, NULL, NULL, &tm0);
	if (r->has_cluster)
	{
		memset(r->csum, 0, sizeof(double) * r->nclusters * p);
		cox_score_residuals(&r->f, &tm0, r->cluster, r->csum, NULL, NULL);
		cox_crossprod(r->csum, r->nclusters, p, rs);
	}
	else
		cox_score_residuals(&r->f, &tm0, NULL, NULL, NULL, rs);
	r->rscore = cox_wtest(rs, p, r->u0, r->toler);
}

/*
 * The cumulative hazard at R's means (tm is ascending per stratum now; it
 * is at the weighted means the fit centred on), and the stratum names
 */
static void
fit_baseline(const CoxRun *r, CoxModel *m)
{
	const CoxFitState *st = r->st;
	char	   *nm = M_NAMES(m);
	int64		k = 0;
	double		shift = 0;

	for (int j = 0; j < r->p; j++)
		if (!r->dropped[j])
			shift += r->beta[j] * r->scale[j] * (r->umeans[j] - r->means[j]);
	shift = exp(shift);

	for (int s = 0; s < r->nstrata; s++)
	{
		int32		cnt = 0;
		double		h = 0;
		int32		len;
		const char *name;

		for (; k < r->tm.n && r->tm.stratum[k] == s; k++)
		{
			h += r->tm.h[k];
			M_TIMES(m)[k] = r->tm.t[k];
			M_CUMHAZ(m)[k] = h * shift;
			cnt++;
		}
		M_STIMES(m)[s] = cnt;
		name = st->form == FORM_FULL ? cox_name(&st->strata, r->sorder[s], &len) : NULL;
		if (name != NULL)
		{
			*nm++ = 0;
			memcpy(nm, name, len + 1);
			nm += len + 1;
		}
		else
			*nm++ = 1;
	}
}

/* The stored model of a finished fit */
static CoxModel *
fit_model(const CoxRun *r)
{
	const CoxFitState *st = r->st;
	int			p = r->p;
	int			names_len = 0;
	CoxModel   *m;
	double		vb[COX_MAX_SIGNALS];
	double	   *v = palloc(sizeof(double) * p * p);
	CsParse		ps;

	if (st->form == FORM_FULL)
		for (int s = 0; s < r->nstrata; s++)
		{
			int32		len;

			names_len += 1 + (cox_name(&st->strata, r->sorder[s], &len) ? len + 1 : 0);
		}
	else
		names_len = 1;
	if (r->tm.n > PG_INT32_MAX / 16)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: the model would be too large to store")));
	m = cox_model_alloc(p, r->nstrata, (int) r->tm.n, names_len);
	m->iterations = Min(r->iter, COX_MAX_ITER);
	m->ties = r->f.efron ? TIES_EFRON : TIES_BRESLOW;
	m->robust = r->robust;
	m->stratified = st->form == FORM_FULL;
	m->n = r->n;
	m->nevent = r->nevent;
	m->loglik0 = r->ll0;
	m->loglik = r->ll;
	m->score = r->sctest;
	m->robust_score = r->robust ? r->rscore : NAN;
	m->concordance = r->conc;
	m->concordance_se = r->conc_se;
	/* Wald test on the variance R reports (robust where it is) */
	for (int j = 0; j < p; j++)
	{
		vb[j] = r->beta[j];
		for (int k = 0; k < p; k++)
			v[j * p + k] = r->robust ? r->rvar[j * p + k] : r->var[j * p + k];
	}
	m->wald = cox_wtest(v, p, vb, r->toler);
	for (int j = 0, jj = 0; j < p; j++)
	{
		M_MEANS(m)[j] = r->umeans[j];
		if (r->dropped[j])
		{
			M_COEF(m)[j] = M_SE(m)[j] = M_RSE(m)[j] = M_ZCHI(m)[j] = M_ZDF(m)[j] = NAN;
			continue;
		}
		M_COEF(m)[j] = r->beta[j] * r->scale[j];
		M_SE(m)[j] = sqrt(r->var[j * p + j]) * r->scale[j];
		M_RSE(m)[j] = sqrt(r->rvar[j * p + j]) * r->scale[j];
		M_ZCHI(m)[j] = r->zchi[jj];
		M_ZDF(m)[j] = r->zdf[jj];
		jj++;
	}
	M_ZCHI(m)[p] = r->zchi[r->kept];
	M_ZDF(m)[p] = r->zdf[r->kept];
	fit_baseline(r, m);
	cs_parse_init_binary(&ps, COX_TYPE);
	cox_model_validate(&ps, m, NULL);
	return m;
}

/* The model of a state's rows; NULL without a row, an event or a signal */
CoxModel *
cox_fit_model(const CoxFitState *st)
{
	CoxRun		r;

	if (st == NULL || st->nrows == 0)
		return NULL;
	if (st->nrows > PG_INT32_MAX / 2)
		cox_state_too_large(st->width);
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.p = st->p;
	r.n = (int) st->nrows;
	for (int i = 0; i < r.n; i++)
		r.nevent += row_event(st->rows + (Size) i * st->width);
	if (r.nevent == 0)
		return NULL;
	fit_strata(&r);
	fit_centre(&r);
	fit_rows(&r);
	if (!fit_start(&r))
		return NULL;
	fit_newton(&r);
	fit_check_infinite(&r);
	fit_robust_variance(&r);
	fit_statistics(&r);
	fit_robust_score(&r);
	return fit_model(&r);
}
