/*
 * cox_likelihood.c
 *	  The partial likelihood of Cox regression: one pass over the risk sets
 *	  of the sorted rows (the rows by stratum and duration descending and
 *	  the late entries by stratum and entry descending, walked together as
 *	  R's agfit4 does: O(n p^2) per pass, no allocation), with Efron's or
 *	  Breslow's ties; the Cholesky algebra of R's cholesky2 (collinear
 *	  signals left out); and the score (dfbeta) residuals of the robust
 *	  variance.
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


static void
times_push(CoxTimes *tm, int p, double t, int32 s)
{
	if (tm->n == tm->cap)
	{
		tm->cap = Max(tm->cap * 2, 64);
		if (tm->t == NULL)
		{
			tm->t = palloc_extended(sizeof(double) * tm->cap, MCXT_ALLOC_HUGE);
			tm->h = palloc_extended(sizeof(double) * tm->cap, MCXT_ALLOC_HUGE);
			tm->hd = palloc_extended(sizeof(double) * tm->cap, MCXT_ALLOC_HUGE);
			tm->g = palloc_extended(sizeof(double) * tm->cap * p, MCXT_ALLOC_HUGE);
			tm->gd = palloc_extended(sizeof(double) * tm->cap * p, MCXT_ALLOC_HUGE);
			tm->xe = palloc_extended(sizeof(double) * tm->cap * p, MCXT_ALLOC_HUGE);
			tm->stratum = palloc_extended(sizeof(int32) * tm->cap, MCXT_ALLOC_HUGE);
		}
		else
		{
			tm->t = repalloc_huge(tm->t, sizeof(double) * tm->cap);
			tm->h = repalloc_huge(tm->h, sizeof(double) * tm->cap);
			tm->hd = repalloc_huge(tm->hd, sizeof(double) * tm->cap);
			tm->g = repalloc_huge(tm->g, sizeof(double) * tm->cap * p);
			tm->gd = repalloc_huge(tm->gd, sizeof(double) * tm->cap * p);
			tm->xe = repalloc_huge(tm->xe, sizeof(double) * tm->cap * p);
			tm->stratum = repalloc_huge(tm->stratum, sizeof(int32) * tm->cap);
		}
	}
	tm->t[tm->n] = t;
	tm->h[tm->n] = 0;
	tm->hd[tm->n] = 0;
	memset(tm->g + tm->n * p, 0, sizeof(double) * p);
	memset(tm->gd + tm->n * p, 0, sizeof(double) * p);
	memset(tm->xe + tm->n * p, 0, sizeof(double) * p);
	tm->stratum[tm->n] = s;
	tm->n++;
}

/*
 * A run of n rows (x: n x p) with weighted risks wr[i] = w[i] * r[i] joins
 * (sign 1) or leaves (-1) the risk set: their sums into s1 and the lower
 * triangle of s2.  The sums of the run are taken first, in locals, and
 * added once: with p a constant (RISK_RUN_MAX and below, risk_run()'s
 * switch) they stay in registers instead of going through memory row after
 * row.  At 1,000,000 rows a pass adds every row and takes out every late
 * entry, so this is the fit's innermost loop.
 */
#define RISK_RUN_MAX 8

static pg_attribute_always_inline void
risk_run_p(const double *x, const double *w, const double *r, int n, const int p,
		   double sign, double *s1, double *s2)
{
	double		a1[RISK_RUN_MAX] = {0};
	double		a2[RISK_RUN_MAX * RISK_RUN_MAX] = {0};

	for (int i = 0; i < n; i++)
	{
		const double *xi = x + (Size) i * p;
		double		wr = w[i] * r[i];

#pragma GCC unroll 8
		for (int j = 0; j < p; j++)
		{
			double		v = wr * xi[j];

			a1[j] += v;
#pragma GCC unroll 8
			for (int k = 0; k <= j; k++)
				a2[j * RISK_RUN_MAX + k] += v * xi[k];
		}
	}
	for (int j = 0; j < p; j++)
	{
		s1[j] += sign * a1[j];
		for (int k = 0; k <= j; k++)
			s2[j * p + k] += sign * a2[j * RISK_RUN_MAX + k];
	}
}

static void
risk_run(CoxFit *f, const double *x, const double *w, const double *r, int n, double sign)
{
	int			p = f->p;

	switch (p)
	{
#define RISK_RUN_CASE(P) case P: risk_run_p(x, w, r, n, P, sign, f->s1, f->s2); return
			RISK_RUN_CASE(1);
			RISK_RUN_CASE(2);
			RISK_RUN_CASE(3);
			RISK_RUN_CASE(4);
			RISK_RUN_CASE(5);
			RISK_RUN_CASE(6);
			RISK_RUN_CASE(7);
			RISK_RUN_CASE(8);
#undef RISK_RUN_CASE
	}
	for (int i = 0; i < n; i++)
	{
		const double *xi = x + (Size) i * p;
		double		swr = sign * w[i] * r[i];

		for (int j = 0; j < p; j++)
		{
			double		v = swr * xi[j];

			f->s1[j] += v;
			for (int k = 0; k <= j; k++)
				f->s2[j * p + k] += v * xi[k];
		}
	}
}

/* The events at one time: how many, their weight, their weighted risk */
typedef struct CoxDeaths
{
	int			n;
	double		w;
	double		d0;
} CoxDeaths;

/*
 * The risk set at time t: the rows of duration t (from row *i on) join
 * it, the late entries at or after t (from *j2 on) leave it
 */
static inline void
pass_risk_set(CoxFit *f, double t, int *i, int iend,
			  int *j2, int j2end, double *s0, int64 *nrisk)
{
	int			p = f->p;
	int			i0 = *i,
				j0 = *j2;

	for (; *i < iend && f->dur[*i] == t; (*i)++)
		*s0 += f->w[*i] * f->r[*i];
	for (; *j2 < j2end && f->entry2[*j2] >= t; (*j2)++)
		*s0 -= f->w2[*j2] * f->r2[*j2];
	*nrisk += (*i - i0) - (*j2 - j0);
	risk_run(f, f->x + (Size) i0 * p, f->w + i0, f->r + i0, *i - i0, 1.0);
	risk_run(f, f->x2 + (Size) j0 * p, f->w2 + j0, f->r2 + j0, *j2 - j0, -1.0);
	if (*nrisk == 0)
	{
		/* an empty risk set: no rounding left over */
		*s0 = 0;
		memset(f->s1, 0, sizeof(double) * p);
		memset(f->s2, 0, sizeof(double) * p * p);
	}
}

/*
 * The events among rows g0 .. g1 - 1 (one time): their sums into d, f->d1
 * and f->d2, their share of the log-likelihood and of the score u
 */
static inline void
pass_events(CoxFit *f, int g0, int g1, double *ll, double *u, CoxDeaths *d)
{
	int			p = f->p;

	d->n = 0;
	d->w = 0;
	d->d0 = 0;
	memset(f->d1, 0, sizeof(double) * p);
	memset(f->d2, 0, sizeof(double) * p * p);
	for (int k = g0; k < g1; k++)
	{
		const double *x = f->x + (Size) k * p;
		double		wr;

		if (!f->ev[k])
			continue;
		wr = f->w[k] * f->r[k];
		d->n++;
		d->w += f->w[k];
		d->d0 += wr;
		*ll += f->w[k] * f->eta[k];
		for (int j = 0; j < p; j++)
		{
			if (u)
				u[j] += f->w[k] * x[j];
			f->d1[j] += wr * x[j];
			if (u)
				for (int l = 0; l <= j; l++)
					f->d2[j * p + l] += wr * x[j] * x[l];
		}
	}
}

/*
 * The d events at time t of stratum s against the risk set (s0, f->s1,
 * f->s2): Efron's d steps (Breslow's one), into ll, u, imat and tm; false
 * where a denominator is not finite
 */
static inline bool
pass_steps(CoxFit *f, const CoxDeaths *d, double s0, double t, int s,
		   double *ll, double *u, double *imat, CoxTimes *tm)
{
	int			p = f->p;
	int			steps = f->efron ? d->n : 1;
	double		meanw = d->w / steps;
	double	   *g = NULL,
			   *gd = NULL,
			   *xe = NULL;

	if (tm)
	{
		times_push(tm, p, t, s);
		g = tm->g + (tm->n - 1) * p;
		gd = tm->gd + (tm->n - 1) * p;
		xe = tm->xe + (tm->n - 1) * p;
	}
	for (int k = 0; k < steps; k++)
	{
		double		frac = f->efron ? (double) k / d->n : 0.0;
		double		denom = s0 - frac * d->d0;

		if (!(denom > 0) || !isfinite(denom))
			return false;
		*ll -= meanw * log(denom);
		for (int j = 0; j < p; j++)
			f->a[j] = (f->s1[j] - frac * f->d1[j]) / denom;
		if (u)
			for (int j = 0; j < p; j++)
			{
				u[j] -= meanw * f->a[j];
				for (int l = 0; l <= j; l++)
					imat[j * p + l] += meanw *
						((f->s2[j * p + l] - frac * f->d2[j * p + l]) / denom -
						 f->a[j] * f->a[l]);
			}
		if (tm)
		{
			double		hk = meanw / denom;

			tm->h[tm->n - 1] += hk;
			tm->hd[tm->n - 1] += (1 - frac) * hk;
			for (int j = 0; j < p; j++)
			{
				g[j] += hk * f->a[j];
				gd[j] += (1 - frac) * hk * f->a[j];
				xe[j] += f->a[j] / steps;
			}
		}
	}
	return true;
}

/* Each row's linear predictor (into eta, unless NULL) and its exp (into r) */
static void
pass_risks(const double *x, int n, int p, const double *beta, double *eta, double *r)
{
	for (int i = 0; i < n; i++)
	{
		const double *xi = x + (Size) i * p;
		double		e = 0;

		for (int j = 0; j < p; j++)
			e += beta[j] * xi[j];
		if (eta)
			eta[i] = e;
		r[i] = exp(e);
	}
}

/*
 * One pass at beta (scaled): the log partial likelihood, and unless u is
 * NULL the score u and information imat (p x p, full); with tm, the
 * per-event-time values of the residuals and the baseline hazard.
 * Returns false when a value is not finite (the step went too far).
 */
bool
cox_pass(CoxFit *f, const double *beta, double *loglik, double *u, double *imat,
		 CoxTimes *tm)
{
	int			p = f->p;
	double		ll = 0;

	if (u)
	{
		memset(u, 0, sizeof(double) * p);
		memset(imat, 0, sizeof(double) * p * p);
	}
	pass_risks(f->x, f->n, p, beta, f->eta, f->r);
	pass_risks(f->x2, f->n2, p, beta, NULL, f->r2);
	for (int s = 0; s < f->nstrata; s++)
	{
		int			i = f->sstart[s];
		int			iend = f->sstart[s + 1];
		int			j2 = f->sstart2[s];
		int			j2end = f->sstart2[s + 1];
		double		s0 = 0;
		int64		nrisk = 0;

		memset(f->s1, 0, sizeof(double) * p);
		memset(f->s2, 0, sizeof(double) * p * p);
		while (i < iend)
		{
			double		t = f->dur[i];
			int			g0 = i;
			CoxDeaths	d;

			CHECK_FOR_INTERRUPTS();
			pass_risk_set(f, t, &i, iend, &j2, j2end, &s0, &nrisk);
			pass_events(f, g0, i, &ll, u, &d);
			if (d.n > 0 && !pass_steps(f, &d, s0, t, s, &ll, u, imat, tm))
				return false;
		}
	}
	if (u)
		for (int j = 0; j < p; j++)
			for (int l = 0; l < j; l++)
				imat[l * p + j] = imat[j * p + l];
	*loglik = ll;
	if (!isfinite(ll))
		return false;
	if (u)
		for (int j = 0; j < p; j++)
			if (!isfinite(u[j]))
				return false;
	return true;
}

/*
 * R's cholesky2: LDL' of a symmetric p x p matrix (row-major, in place,
 * lower triangle), a pivot below toler times the largest diagonal element
 * taken as 0 (that column is left out).  Returns the rank.
 */
int
cox_chol(double *a, int p, double toler)
{
	double		eps = 0;
	int			rank = 0;

	for (int i = 0; i < p; i++)
		if (fabs(a[i * p + i]) > eps)
			eps = fabs(a[i * p + i]);
	eps = eps > 0 ? eps * toler : toler;
	for (int i = 0; i < p; i++)
	{
		double		pivot = a[i * p + i];

		if (!isfinite(pivot) || pivot < eps)
		{
			a[i * p + i] = 0;
			for (int j = i + 1; j < p; j++)
				a[j * p + i] = 0;
			continue;
		}
		rank++;
		for (int j = i + 1; j < p; j++)
		{
			double		temp = a[j * p + i] / pivot;

			a[j * p + j] -= temp * temp * pivot;
			for (int k = j + 1; k < p; k++)
				a[k * p + j] -= temp * a[k * p + i];
			a[j * p + i] = temp;
		}
	}
	return rank;
}

/* Solves with cox_chol's factor: y = A^- b, 0 for the columns left out */
void
cox_chol_solve(const double *a, int p, double *y)
{
	for (int i = 0; i < p; i++)
		for (int j = 0; j < i; j++)
			y[i] -= a[i * p + j] * y[j];
	for (int i = 0; i < p; i++)
		y[i] = a[i * p + i] == 0 ? 0 : y[i] / a[i * p + i];
	for (int i = p - 1; i >= 0; i--)
	{
		if (a[i * p + i] == 0)
		{
			y[i] = 0;
			continue;
		}
		for (int j = i + 1; j < p; j++)
			y[i] -= a[j * p + i] * y[j];
	}
}

/* The generalized inverse of a factored matrix, into inv (p x p) */
void
cox_chol_inverse(const double *a, int p, double *inv)
{
	double	   *y = palloc(sizeof(double) * p);

	for (int c = 0; c < p; c++)
	{
		memset(y, 0, sizeof(double) * p);
		y[c] = 1;
		cox_chol_solve(a, p, y);
		for (int r = 0; r < p; r++)
			inv[r * p + c] = y[r];
	}
	pfree(y);
}

/* x' A^- x for a symmetric matrix A, R's coxph.wtest */
double
cox_wtest(const double *mat, int p, const double *x, double toler)
{
	double	   *a = palloc(sizeof(double) * p * p);
	double	   *y = palloc(sizeof(double) * p);
	double		q = 0;

	memcpy(a, mat, sizeof(double) * p * p);
	memcpy(y, x, sizeof(double) * p);
	cox_chol(a, p, toler);
	cox_chol_solve(a, p, y);
	for (int j = 0; j < p; j++)
		q += x[j] * y[j];
	pfree(a);
	pfree(y);
	return q;
}

/* Last index in t[lo, hi) with t <= v, or lo - 1 */
int64
cox_times_floor(const double *t, int64 lo, int64 hi, double v)
{
	int64		l = lo,
				h = hi;

	while (l < h)
	{
		int64		mid = l + (h - l) / 2;

		if (t[mid] <= v)
			l = mid + 1;
		else
			h = mid;
	}
	return l - 1;
}

/*
 * tm's times (descending per stratum, as cox_pass leaves them) reversed to
 * ascending; first[s] .. first[s + 1] - 1 are stratum s's; ch and cg the
 * cumulative sums of h and g (m x p) over each stratum's times
 */
static void
times_ascending(CoxTimes *tm, int p, int nstrata, int64 *first, double *ch, double *cg)
{
	int64		m = tm->n;

	for (int s = 0, k = 0; s <= nstrata; s++)
	{
		first[s] = k;
		while (k < m && tm->stratum[k] == s)
			k++;
	}
	for (int s = 0; s < nstrata; s++)
	{
		int64		lo = first[s],
					hi = first[s + 1] - 1;

		for (; lo < hi; lo++, hi--)
		{
			double		tmp;

#define SWAPD(arr, a, b) (tmp = (arr)[a], (arr)[a] = (arr)[b], (arr)[b] = tmp)
			SWAPD(tm->t, lo, hi);
			SWAPD(tm->h, lo, hi);
			SWAPD(tm->hd, lo, hi);
			for (int j = 0; j < p; j++)
			{
				SWAPD(tm->g, lo * p + j, hi * p + j);
				SWAPD(tm->gd, lo * p + j, hi * p + j);
				SWAPD(tm->xe, lo * p + j, hi * p + j);
			}
#undef SWAPD
		}
	}
	for (int s = 0; s < nstrata; s++)
		for (int64 k = first[s]; k < first[s + 1]; k++)
		{
			ch[k] = tm->h[k] + (k > first[s] ? ch[k - 1] : 0);
			for (int j = 0; j < p; j++)
				cg[k * p + j] = tm->g[k * p + j] + (k > first[s] ? cg[(k - 1) * p + j] : 0);
		}
}

/*
 * The weighted score residuals (R's resid(fit, "score") times the case
 * weights) at the beta of the pass that filled tm, summed per cluster into
 * sums (nclusters x p); or, without clusters (each row its own), each
 * row's residual times var (if not NULL) added as an outer product to
 * out.  tm's times are those of cox_pass, descending per stratum; they are
 * turned into cumulative sums, ascending, here.
 */
void
cox_score_residuals(CoxFit *f, CoxTimes *tm, const int32 *cluster, double *sums,
					const double *var, double *out)
{
	int			p = f->p;
	int64		m = tm->n;
	int64	   *first = palloc(sizeof(int64) * (f->nstrata + 1));
	double	   *ch = palloc_extended(sizeof(double) * Max(m, 1), MCXT_ALLOC_HUGE);
	double	   *cg = palloc_extended(sizeof(double) * Max(m, 1) * p, MCXT_ALLOC_HUGE);
	double	   *res = palloc(sizeof(double) * p);
	double	   *row = palloc(sizeof(double) * p);
	double	   *d = palloc(sizeof(double) * p);

	if (cluster == NULL)
		memset(out, 0, sizeof(double) * p * p);
	times_ascending(tm, p, f->nstrata, first, ch, cg);
	for (int i = 0; i < f->n; i++)
	{
		int			s = f->stratum[i];
		int64		it = cox_times_floor(tm->t, first[s], first[s + 1], f->dur[i]);
		int64		ie = f->entry[i] > 0 ?
			cox_times_floor(tm->t, first[s], first[s + 1], f->entry[i]) : first[s] - 1;
		const double *x = f->x + (Size) i * p;
		double		h = 0;
		double	   *c = cluster ? sums + (Size) cluster[i] * p : row;

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		if (it >= first[s])
		{
			h = ch[it] - (ie >= first[s] ? ch[ie] : 0);
			for (int j = 0; j < p; j++)
				res[j] = -(cg[it * p + j] - (ie >= first[s] ? cg[ie * p + j] : 0));
		}
		else
			memset(res, 0, sizeof(double) * p);
		if (f->ev[i])
		{
			/* the death's own time: its share of the Efron steps */
			h += tm->hd[it] - tm->h[it];
			for (int j = 0; j < p; j++)
				res[j] -= tm->gd[it * p + j] - tm->g[it * p + j];
		}
		for (int j = 0; j < p; j++)
		{
			double		sc = -f->r[i] * (x[j] * h + res[j]);

			if (f->ev[i])
				sc += x[j] - tm->xe[it * p + j];
			if (cluster)
				c[j] += f->w[i] * sc;
			else
				c[j] = f->w[i] * sc;
		}
		if (cluster == NULL)
		{
			const double *v = row;

			if (var)
			{
				for (int j = 0; j < p; j++)
				{
					d[j] = 0;
					for (int k = 0; k < p; k++)
						d[j] += row[k] * var[k * p + j];
				}
				v = d;
			}
			for (int j = 0; j < p; j++)
				for (int k = 0; k <= j; k++)
					out[j * p + k] += v[j] * v[k];
		}
	}
	if (cluster == NULL)
		for (int j = 0; j < p; j++)
			for (int k = 0; k < j; k++)
				out[k * p + j] = out[j * p + k];
	pfree(row);
	pfree(d);
	pfree(first);
	pfree(ch);
	pfree(cg);
	pfree(res);
}

/* sum over clusters of the outer products of rows of sums (nc x p) */
void
cox_crossprod(const double *sums, int64 nc, int p, double *out)
{
	memset(out, 0, sizeof(double) * p * p);
	for (int64 c = 0; c < nc; c++)
	{
		const double *d = sums + c * p;

		for (int j = 0; j < p; j++)
			for (int k = 0; k <= j; k++)
				out[j * p + k] += d[j] * d[k];
	}
	for (int j = 0; j < p; j++)
		for (int k = 0; k < j; k++)
			out[k * p + j] = out[j * p + k];
}

