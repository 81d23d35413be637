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
 * Sorts n items by stratum, then time descending, then position (the
 * items come in position order): a stable LSD radix sort on the bits of
 * the time (non-negative doubles order as their bit patterns; complemented
 * for descending), bytes that are the same in every item skipped, then a
 * stable counting pass on the stratum.  tmp holds n items.
 */
static void
cox_sort_items(CoxSortItem *items, CoxSortItem *tmp, int n, int nstrata)
{
	uint32	   *hist = palloc0(sizeof(uint32) * 8 * 256);
	CoxSortItem *src = items,
			   *dst = tmp;

	for (int i = 0; i < n; i++)
	{
		uint64		k;

		memcpy(&k, &items[i].t, sizeof(k));
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
		for (int i = 0; i < n; i++)
		{
			uint64		k;

			memcpy(&k, &src[i].t, sizeof(k));
			k = ~k;
			dst[h[(k >> (8 * b)) & 0xFF]++] = src[i];
		}
		{
			CoxSortItem *swap = src;

			src = dst;
			dst = swap;
		}
	}
	pfree(hist);
	if (nstrata > 1)
	{
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
	int32		i = *(const int32 *) a;
	int32		j = *(const int32 *) b;

	return strcmp_nullable(sort_names->name[i], sort_names->name[j]);
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

/*
 * Sorts n non-negative doubles ascending: LSD radix on their bit patterns
 * (which order as the values do), bytes that are the same in every value
 * skipped.  tmp holds n values.
 */
static void
cox_sort_times(double *v, double *tmp, int64 n)
{
	uint32	   *hist = palloc0(sizeof(uint32) * 8 * 256);
	double	   *src = v,
			   *dst = tmp;

	for (int64 i = 0; i < n; i++)
	{
		uint64		k;

		memcpy(&k, &v[i], sizeof(k));
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

			memcpy(&k, &src[i], sizeof(k));
			dst[h[(k >> (8 * b)) & 0xFF]++] = src[i];
		}
		{
			double	   *swap = src;

			src = dst;
			dst = swap;
		}
	}
	pfree(hist);
	if (src != v)
		memcpy(v, src, sizeof(double) * n);
}

/*
 * The distinct times of the rows and what each stands for; false (and tf
 * left empty) when no two are near-tied, as aeqSurv then returns the times
 * unchanged.  One sort of the times: O(n log n) with a radix sort's n.
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
	v = palloc_extended(sizeof(double) * Max(2 * st->nrows, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < st->nrows; i++)
	{
		const double *row = st->rows + (Size) i * st->width;

		v[m++] = row[R_DUR];
		if (row[R_ENTRY] > 0)
			v[m++] = row[R_ENTRY];
	}
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
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cox_fit: entry %.17g and duration %.17g are one time", entry, duration),
			 errdetail("Times that differ by less than %g (relative) are tied, as in R's coxph (timefix = TRUE): the row would be at risk for no time.",
					   sqrt(DBL_EPSILON)),
			 errhint("Round the times, or leave the row out.")));
}

/* The model of a state's rows; NULL without a row or an event */
CoxModel *
cox_fit_model(const CoxFitState *st)
{
	CoxFit		f;
	int			p;
	int			n;
	int			nstrata = 1;
	int32	   *smap = NULL;		/* state stratum number -> sorted */
	int32	   *sorder = NULL;		/* sorted -> state number */
	CoxSortItem *items;
	CoxSortItem *sorttmp;
	CsSum	   *msum;
	CsSum		wsum = {0, 0};
	bool	   *nocenter;
	double	   *means,
			   *umeans,
			   *scale;
	int64		nevent = 0;
	bool		whole = true;
	bool		has_cluster = false;
	int64		nclusters;
	int32	   *cluster;
	double	   *beta,
			   *newbeta,
			   *u,
			   *imat,
			   *u0,
			   *var,
			   *rvar,
			   *work;
	double		ll0,
				ll,
				newll,
				sctest;
	int			iter = 0;
	bool		converged = false;
	bool	   *dropped;
	int			kept = 0;
	double		toler = pow(DBL_EPSILON, 0.75);
	CoxTimes	tm = {0};
	double	   *csum = NULL;
	CoxModel   *m;
	double		rscore = NAN;
	bool		robust;
	CoxData		cd;
	double	   *xk,
			   *lp,
			   *betak,
			   *vark,
			   *zchi;
	int		   *zdf;
	double		conc,
				conc_se;
	int			names_len = 0;
	int64		ntimes;
	CoxTimefix	tfix;

	if (st == NULL || st->nrows == 0)
		return NULL;
	p = st->p;
	if (st->nrows > PG_INT32_MAX / 2)
		cox_state_too_large(st->width);
	n = (int) st->nrows;
	for (int i = 0; i < n; i++)
		nevent += st->rows[(Size) i * st->width + R_EVENT] != 0;
	if (nevent == 0)
		return NULL;

	/* strata in the order of their names, NULL last */
	if (st->form == FORM_FULL)
	{
		nstrata = st->strata.n;
		sorder = palloc(sizeof(int32) * nstrata);
		smap = palloc(sizeof(int32) * nstrata);
		for (int i = 0; i < nstrata; i++)
			sorder[i] = i;
		sort_names = &st->strata;
		qsort(sorder, nstrata, sizeof(int32), name_order_cmp);
		for (int i = 0; i < nstrata; i++)
			smap[sorder[i]] = i;
	}

	/*
	 * weighted means and R's scale (1 / weighted mean absolute deviation),
	 * which the fit centres and scales on; R's fit$means, the plain column
	 * means.  One pass over the rows for each.
	 */
	msum = palloc0(sizeof(CsSum) * 2 * p);
	means = palloc(sizeof(double) * p);
	umeans = palloc(sizeof(double) * p);
	scale = palloc(sizeof(double) * p);
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		double		w = row[R_WEIGHT];

		cs_sum_add(&wsum, w);
		if (w != floor(w))
			whole = false;
		for (int j = 0; j < p; j++)
		{
			cs_sum_add(&msum[j], w * row[R_X + j]);
			cs_sum_add(&msum[p + j], row[R_X + j]);
		}
	}
	/*
	 * R leaves a signal whose values are all -1, 0 or 1 uncentred and
	 * unscaled, and reports its mean as 0 (coxph's nocenter)
	 */
	nocenter = palloc(sizeof(bool) * p);
	for (int j = 0; j < p; j++)
		nocenter[j] = true;
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width + R_X;

		for (int j = 0; j < p; j++)
			if (row[j] != 0 && row[j] != 1 && row[j] != -1)
				nocenter[j] = false;
	}
	for (int j = 0; j < p; j++)
	{
		means[j] = nocenter[j] ? 0 : cs_sum_value(&msum[j]) / cs_sum_value(&wsum);
		umeans[j] = nocenter[j] ? 0 : cs_sum_value(&msum[p + j]) / n;
	}
	memset(msum, 0, sizeof(CsSum) * p);
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;

		for (int j = 0; j < p; j++)
			cs_sum_add(&msum[j], row[R_WEIGHT] * fabs(row[R_X + j] - means[j]));
	}
	for (int j = 0; j < p; j++)
	{
		double		v = cs_sum_value(&msum[j]);

		scale[j] = v > 0 && !nocenter[j] ? cs_sum_value(&wsum) / v : 1.0;
	}

	/* near-tied times as one (R's timefix) */
	cox_timefix_build(st, &tfix);

	/* the rows by stratum and duration descending */
	items = palloc_extended(sizeof(CoxSortItem) * Max(n, 1), MCXT_ALLOC_HUGE);
	for (int i = 0; i < n; i++)
	{
		const double *row = st->rows + (Size) i * st->width;
		int32		s = 0,
					c;

		if (st->form == FORM_FULL)
		{
			row_get_ids(row + R_X + p, &s, &c);
			s = smap[s];
		}
		items[i].t = cox_timefix_map(&tfix, row[R_DUR]);
		items[i].stratum = s;
		items[i].pos = i;
	}
	sorttmp = palloc_extended(sizeof(CoxSortItem) * Max(n, 1), MCXT_ALLOC_HUGE);
	cox_sort_items(items, sorttmp, n, nstrata);

	memset(&f, 0, sizeof(f));
	f.n = n;
	f.p = p;
	f.efron = st->ties != TIES_BRESLOW;
	f.nstrata = nstrata;
	f.dur = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.entry = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.w = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.ev = palloc_extended(sizeof(bool) * n, MCXT_ALLOC_HUGE);
	f.stratum = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
	cluster = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
	f.x = palloc_extended(sizeof(double) * n * p, MCXT_ALLOC_HUGE);
	f.sstart = palloc0(sizeof(int) * (nstrata + 1));
	f.sstart2 = palloc0(sizeof(int) * (nstrata + 1));
	f.n2 = 0;
	nclusters = st->form == FORM_FULL ? st->clusters.n : 0;
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
		f.dur[k] = items[k].t;
		f.entry[k] = row[R_ENTRY] > 0 ? cox_timefix_map(&tfix, row[R_ENTRY]) : 0.0;
		if (unlikely(row[R_ENTRY] > 0 && !(f.entry[k] < f.dur[k])))
			cox_zero_interval(row[R_ENTRY], row[R_DUR]);
		f.w[k] = row[R_WEIGHT];
		f.ev[k] = row[R_EVENT] != 0;
		f.stratum[k] = items[k].stratum;
		if (st->form == FORM_FULL)
			row_get_ids(row + R_X + p, &s, &c);
		if (c >= 0)
			has_cluster = true;
		/* no cluster: a cluster of its own */
		cluster[k] = c >= 0 ? c : (int32) nclusters++;
		for (int j = 0; j < p; j++)
			f.x[(Size) k * p + j] = (row[R_X + j] - means[j]) * scale[j];
		f.sstart[items[k].stratum + 1]++;
		if (f.entry[k] > 0)
			f.n2++;
	}
	for (int s = 0; s < nstrata; s++)
		f.sstart[s + 1] += f.sstart[s];

	/* late entries by stratum and entry descending: positions in f */
	{
		int			k2 = 0;

		for (int k = 0; k < n; k++)
			if (f.entry[k] > 0)
			{
				items[k2].t = f.entry[k];
				items[k2].stratum = f.stratum[k];
				items[k2].pos = k;
				k2++;
			}
		cox_sort_items(items, sorttmp, k2, nstrata);
		f.entry2 = palloc_extended(sizeof(double) * Max(k2, 1), MCXT_ALLOC_HUGE);
		f.w2 = palloc_extended(sizeof(double) * Max(k2, 1), MCXT_ALLOC_HUGE);
		f.x2 = palloc_extended(sizeof(double) * Max(k2, 1) * p, MCXT_ALLOC_HUGE);
		for (int k = 0; k < k2; k++)
		{
			f.entry2[k] = items[k].t;
			f.w2[k] = f.w[items[k].pos];
			if (k + COX_PREFETCH < k2)
			{
				cox_prefetch(f.x + (Size) items[k + COX_PREFETCH].pos * p);
				cox_prefetch(f.x + (Size) items[k + COX_PREFETCH].pos * p + p - 1);
			}
			memcpy(f.x2 + (Size) k * p, f.x + (Size) items[k].pos * p, sizeof(double) * p);
			f.sstart2[items[k].stratum + 1]++;
		}
		for (int s = 0; s < nstrata; s++)
			f.sstart2[s + 1] += f.sstart2[s];
	}
	pfree(items);
	pfree(sorttmp);
	f.eta = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.r = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
	f.s1 = palloc(sizeof(double) * p);
	f.s2 = palloc(sizeof(double) * p * p);
	f.d1 = palloc(sizeof(double) * p);
	f.d2 = palloc(sizeof(double) * p * p);
	f.a = palloc(sizeof(double) * p);

	beta = palloc0(sizeof(double) * p);
	newbeta = palloc0(sizeof(double) * p);
	u = palloc(sizeof(double) * p);
	u0 = palloc(sizeof(double) * p);
	imat = palloc(sizeof(double) * p * p);
	work = palloc(sizeof(double) * p * p);
	var = palloc(sizeof(double) * p * p);
	rvar = palloc(sizeof(double) * p * p);
	dropped = palloc0(sizeof(bool) * p);

	/* at beta = 0: the null log-likelihood, the score test, collinearity */
	if (!cox_pass(&f, beta, &ll0, u, imat, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cox_fit: the partial likelihood is out of range at 0"),
				 errdetail("Weights or signals are too large.")));
	memcpy(u0, u, sizeof(double) * p);
	memcpy(work, imat, sizeof(double) * p * p);
	cox_chol(work, p, toler);
	for (int j = 0; j < p; j++)
	{
		dropped[j] = work[j * p + j] == 0;
		if (!dropped[j])
			kept++;
	}
	if (kept == 0)
		return NULL;			/* every signal constant: nothing to fit */
	if (kept < p)
	{
		/* a signal left out is 0 in every row: its pivot stays 0 */
		for (int i = 0; i < n; i++)
			for (int j = 0; j < p; j++)
				if (dropped[j])
					f.x[(Size) i * p + j] = 0;
		for (int i = 0; i < f.n2; i++)
			for (int j = 0; j < p; j++)
				if (dropped[j])
					f.x2[(Size) i * p + j] = 0;
		for (int j = 0; j < p; j++)
			if (dropped[j])
				u0[j] = u[j] = 0;
	}
	memcpy(newbeta, u, sizeof(double) * p);
	cox_chol_solve(work, p, newbeta);
	sctest = 0;
	for (int j = 0; j < p; j++)
		sctest += u[j] * newbeta[j];
	ll = ll0;

	/* Newton-Raphson with step halving, as R's coxfit6/agfit4 */
	for (iter = 1; iter <= COX_MAX_ITER; iter++)
	{
		bool		ok;

		/* the event times of the pass that converges are those kept */
		tm.n = 0;
		ok = cox_pass(&f, newbeta, &newll, u, imat, &tm);

		if (ok)
		{
			memcpy(work, imat, sizeof(double) * p * p);
			cox_chol(work, p, toler);
		}
		if (ok && (newll == ll || fabs(1 - ll / newll) <= COX_EPS))
		{
			converged = true;
			memcpy(beta, newbeta, sizeof(double) * p);
			ll = newll;
			break;
		}
		if (!ok || newll < ll)
		{
			for (int j = 0; j < p; j++)
				newbeta[j] = (beta[j] + newbeta[j]) / 2;
		}
		else
		{
			ll = newll;
			memcpy(beta, newbeta, sizeof(double) * p);
			memcpy(newbeta, u, sizeof(double) * p);
			cox_chol_solve(work, p, newbeta);
			for (int j = 0; j < p; j++)
				newbeta[j] += beta[j];
		}
	}
	/*
	 * Converged: u, imat (factored in work), the linear predictor and the
	 * event times are those of the last pass, at beta.  Otherwise back to
	 * the last accepted beta, for the check below to name a signal.
	 */
	if (!converged)
	{
		tm.n = 0;
		if (!cox_pass(&f, beta, &ll, u, imat, &tm))
			elog(ERROR, "cox_fit: the last accepted step is not finite");
		memcpy(work, imat, sizeof(double) * p * p);
		cox_chol(work, p, toler);
	}
	cox_chol_inverse(work, p, var);
	{
		/* R's check: a Newton step still large where the likelihood stopped */
		double		step[COX_MAX_SIGNALS];
		int			worst = -1;
		double		worst_v = 0;

		memcpy(step, u, sizeof(double) * p);
		cox_chol_solve(work, p, step);
		for (int j = 0; j < p; j++)
		{
			double		sj = fabs(step[j]);
			double		bj = fabs(beta[j]);

			if (dropped[j])
				continue;
			/* the information of a diverging coefficient vanishes */
			if (work[j * p + j] == 0)
			{
				worst = j;
				break;
			}
			if (!converged || (sj > 1e-9 && sj > sqrt(1e-9) * bj))
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

	/* the robust variance: dfbeta residuals summed per cluster */
	robust = has_cluster || !whole;
	if (has_cluster)
	{
		csum = palloc_extended(sizeof(double) * nclusters * p, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		cox_score_residuals(&f, &tm, cluster, csum, NULL, NULL);
		for (int64 c = 0; c < nclusters; c++)
		{
			double		d[COX_MAX_SIGNALS];

			for (int j = 0; j < p; j++)
			{
				d[j] = 0;
				for (int k = 0; k < p; k++)
					d[j] += csum[c * p + k] * var[k * p + j];
			}
			memcpy(csum + c * p, d, sizeof(double) * p);
		}
		cox_crossprod(csum, nclusters, p, rvar);
	}
	else
		cox_score_residuals(&f, &tm, NULL, NULL, var, rvar);

	/*
	 * The statistics of cox_stats.c on the rows as fitted, in the centred and
	 * scaled signals of the fit with its beta and variance (concordance and
	 * cox.zph's test do not change with that), only the signals kept; the
	 * linear predictor is that of the last pass.
	 */
	zchi = palloc(sizeof(double) * (kept + 1));
	zdf = palloc(sizeof(int) * (kept + 1));
	if (kept == p)
	{
		xk = f.x;
		betak = beta;
		vark = var;
	}
	else
	{
		betak = palloc(sizeof(double) * kept);
		vark = palloc(sizeof(double) * kept * kept);
		xk = palloc_extended(sizeof(double) * n * kept, MCXT_ALLOC_HUGE);
		for (int j = 0, jj = 0; j < p; j++)
		{
			if (dropped[j])
				continue;
			betak[jj] = beta[j];
			for (int k = 0, kk = 0; k < p; k++)
			{
				if (dropped[k])
					continue;
				vark[jj * kept + kk] = var[j * p + k];
				kk++;
			}
			jj++;
		}
		for (int i = 0; i < n; i++)
			for (int j = 0, jj = 0; j < p; j++)
				if (!dropped[j])
					xk[(Size) i * kept + jj++] = f.x[(Size) i * p + j];
	}
	lp = f.eta;
	memset(&cd, 0, sizeof(cd));
	cd.n = n;
	cd.p = kept;
	cd.entry = st->form == FORM_SIMPLE ? NULL : f.entry;
	cd.duration = f.dur;
	cd.event = f.ev;
	cd.weight = st->form == FORM_FULL ? f.w : NULL;
	cd.stratum = st->form == FORM_FULL ? f.stratum : NULL;
	cd.nstrata = nstrata;
	cd.cluster = has_cluster ? cluster : NULL;
	cd.nclusters = has_cluster ? (int) nclusters : 0;
	cd.x = xk;
	cd.efron = f.efron;
	cox_concordance(&cd, lp, &conc, &conc_se);
	cox_zph(&cd, betak, vark, zchi, zdf);

	if (robust)
	{
		/* the robust score test: score residuals at beta = 0 */
		CoxTimes	tm0 = {0};
		double		l;
		double	   *rs = palloc(sizeof(double) * p * p);

		memset(newbeta, 0, sizeof(double) * p);
		cox_pass(&f, newbeta, &l, NULL, NULL, &tm0);
		if (has_cluster)
		{
			memset(csum, 0, sizeof(double) * nclusters * p);
			cox_score_residuals(&f, &tm0, cluster, csum, NULL, NULL);
			cox_crossprod(csum, nclusters, p, rs);
		}
		else
			cox_score_residuals(&f, &tm0, NULL, NULL, NULL, rs);
		rscore = cox_wtest(rs, p, u0, toler);
	}

	/* the model */
	ntimes = tm.n;
	if (st->form == FORM_FULL)
		for (int s = 0; s < nstrata; s++)
		{
			int32		k = sorder[s];

			names_len += 1 + (st->strata.name[k] ? st->strata.len[k] + 1 : 0);
		}
	else
		names_len = 1;
	if (ntimes > PG_INT32_MAX / 16)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: the model would be too large to store")));
	m = cox_model_alloc(p, nstrata, (int) ntimes, names_len);
	m->iterations = Min(iter, COX_MAX_ITER);
	m->ties = f.efron ? TIES_EFRON : TIES_BRESLOW;
	m->robust = robust;
	m->stratified = st->form == FORM_FULL;
	m->n = n;
	m->nevent = nevent;
	m->loglik0 = ll0;
	m->loglik = ll;
	m->score = sctest;
	m->robust_score = robust ? rscore : NAN;
	m->concordance = conc;
	m->concordance_se = conc_se;
	{
		/* Wald test on the variance R reports (robust where it is) */
		double		vb[COX_MAX_SIGNALS];
		double	   *v = palloc(sizeof(double) * p * p);

		for (int j = 0; j < p; j++)
		{
			vb[j] = beta[j];
			for (int k = 0; k < p; k++)
				v[j * p + k] = robust ? rvar[j * p + k] : var[j * p + k];
		}
		m->wald = cox_wtest(v, p, vb, toler);
	}
	for (int j = 0, jj = 0; j < p; j++)
	{
		M_MEANS(m)[j] = umeans[j];
		if (dropped[j])
		{
			M_COEF(m)[j] = M_SE(m)[j] = M_RSE(m)[j] = M_ZCHI(m)[j] = M_ZDF(m)[j] = NAN;
			continue;
		}
		M_COEF(m)[j] = beta[j] * scale[j];
		M_SE(m)[j] = sqrt(var[j * p + j]) * scale[j];
		M_RSE(m)[j] = sqrt(rvar[j * p + j]) * scale[j];
		M_ZCHI(m)[j] = zchi[jj];
		M_ZDF(m)[j] = zdf[jj];
		jj++;
	}
	M_ZCHI(m)[p] = zchi[kept];
	M_ZDF(m)[p] = zdf[kept];
	/*
	 * the cumulative hazard at R's means (tm is ascending per stratum now;
	 * it is at the weighted means the fit centred on)
	 */
	{
		char	   *nm = M_NAMES(m);
		int64		k = 0;
		double		shift = 0;

		for (int j = 0; j < p; j++)
			if (!dropped[j])
				shift += beta[j] * scale[j] * (umeans[j] - means[j]);
		shift = exp(shift);

		for (int s = 0; s < nstrata; s++)
		{
			int32		cnt = 0;
			double		h = 0;

			for (; k < ntimes && tm.stratum[k] == s; k++)
			{
				h += tm.h[k];
				M_TIMES(m)[k] = tm.t[k];
				M_CUMHAZ(m)[k] = h * shift;
				cnt++;
			}
			M_STIMES(m)[s] = cnt;
			if (st->form == FORM_FULL && st->strata.name[sorder[s]] != NULL)
			{
				*nm++ = 0;
				memcpy(nm, st->strata.name[sorder[s]], st->strata.len[sorder[s]] + 1);
				nm += st->strata.len[sorder[s]] + 1;
			}
			else
				*nm++ = 1;
		}
	}
	{
		CsParse		ps;

		cs_parse_init_binary(&ps, COX_TYPE);
		cox_model_validate(&ps, m, NULL);
	}
	return m;
}
