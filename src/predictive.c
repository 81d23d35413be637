/*
 * predictive.c
 *	  Shared machinery of the predictive LTV models (see predictive.h):
 *	  the weighted point table with its serialized form, the digamma and
 *	  Gauss hypergeometric functions, the optimiser, and the input, output
 *	  and parameter functions of the model types.
 */
#include "postgres.h"

#include <float.h>

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "predictive.h"
#include "utils/float.h"

#define FIT_STATE_VERSION	1

/* ---------- weighted point table ---------- */

/* One entry of the hash table: a distinct point and its weight */
typedef struct FitKey
{
	double		x;
	double		y;
	double		z;
} FitKey;

typedef struct FitEntry
{
	FitKey		key;
	int64		w;
	char		status;			/* simplehash's */
} FitEntry;

static inline uint32
fit_hash(FitKey k)
{
	uint64		bits[3];
	uint64		h;

	memcpy(bits, &k, sizeof(bits));
	h = hash_combine64(hash_bytes_uint32_extended((uint32) bits[0], bits[0] >> 32),
					   bits[1] * UINT64CONST(0x9E3779B97F4A7C15));
	h = hash_combine64(h, bits[2] * UINT64CONST(0xC2B2AE3D27D4EB4F));
	return (uint32) (h ^ (h >> 32));
}

#define SH_PREFIX		fit_points
#define SH_ELEMENT_TYPE	FitEntry
#define SH_KEY_TYPE		FitKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	fit_hash(k)
#define SH_EQUAL(tb, a, b)	((a).x == (b).x && (a).y == (b).y && (a).z == (b).z)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "cs_simplehash.h"

/* a new table is small: a fitting aggregate may run once per group */
#define FIT_INITIAL_POINTS	8

FitTable *
fit_table_new(MemoryContext cxt)
{
	FitTable   *t = MemoryContextAllocZero(cxt, sizeof(FitTable));

	t->points = fit_points_create(cxt, FIT_INITIAL_POINTS, NULL);
	return t;
}

/* Distinct points in the table */
int64
fit_table_count(const FitTable *t)
{
	return t->points->members;
}

void
fit_table_add(FitTable *t, double x, double y, double z, int64 w)
{
	/* -0.0 and 0.0 are one point */
	FitKey		k = {x + 0.0, y + 0.0, z + 0.0};
	FitEntry   *e;
	bool		found;

	e = fit_points_insert(t->points, k, &found);
	e->w = found ? cs_add_count(e->w, w) : w;
	t->customers = cs_add_count(t->customers, w);
}

void
fit_table_merge(FitTable *into, const FitTable *from)
{
	fit_points_iterator it;
	FitEntry   *e;
	uint32		i = 0;

	fit_points_start_iterate(from->points, &it);
	while ((e = fit_points_iterate(from->points, &it)) != NULL)
	{
		fit_table_add(into, e->key.x, e->key.y, e->key.z, e->w);
		if ((++i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* version byte, point count, then (x, y, z, weight) per point */
bytea *
fit_table_serialize(const FitTable *t)
{
	StringInfoData buf;
	fit_points_iterator it;
	FitEntry   *e;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, FIT_STATE_VERSION);
	pq_sendint64(&buf, fit_table_count(t));
	fit_points_start_iterate(t->points, &it);
	while ((e = fit_points_iterate(t->points, &it)) != NULL)
	{
		pq_sendfloat8(&buf, e->key.x);
		pq_sendfloat8(&buf, e->key.y);
		pq_sendfloat8(&buf, e->key.z);
		pq_sendint64(&buf, e->w);
	}
	return pq_endtypsend(&buf);
}

FitTable *
fit_table_deserialize(bytea *b, MemoryContext cxt, const char *what, FitPointCheck check)
{
	StringInfoData buf;
	CsParse		ps;
	FitTable   *t;
	int64		n;
	int			version;

	cs_parse_init_binary(&ps, what);
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;

	version = pq_getmsgbyte(&buf);
	if (version != FIT_STATE_VERSION)
		cs_parse_fail(&ps, "Unsupported state version %d; this build reads version %d.",
					  version, FIT_STATE_VERSION);
	n = pq_getmsgint64(&buf);
	if (n < 0 || n > (buf.len - buf.cursor) / 32 || (buf.len - buf.cursor) != n * 32)
		cs_parse_fail(&ps, "The point count " INT64_FORMAT " does not match the size.", n);

	t = MemoryContextAllocZero(cxt, sizeof(FitTable));
	t->hdr.owner = cxt;			/* a context of its own, adopted by combine */
	t->points = fit_points_create(cxt, (uint32) Min(Max(n, FIT_INITIAL_POINTS), PG_UINT32_MAX / 2), NULL);
	for (int64 i = 0; i < n; i++)
	{
		FitPoint	p;

		p.x = pq_getmsgfloat8(&buf);
		p.y = pq_getmsgfloat8(&buf);
		p.z = pq_getmsgfloat8(&buf);
		p.w = pq_getmsgint64(&buf);
		if (p.w <= 0)
			cs_parse_fail(&ps, "Point weights must be positive.");
		if (!isfinite(p.x) || !isfinite(p.y) || !isfinite(p.z))
			cs_parse_fail(&ps, "Points must be finite.");
		check(&ps, &p);
		fit_table_add(t, p.x, p.y, p.z, p.w);
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	pq_getmsgend(&buf);
	return t;
}

static int
fit_point_cmp(const void *a, const void *b)
{
	const FitPoint *p = a;
	const FitPoint *q = b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	if (p->z != q->z)
		return p->z < q->z ? -1 : 1;
	return 0;
}

/*
 * The points in a canonical order (palloc'd in the current context), so
 * that the fit does the same arithmetic however the rows were split among
 * parallel workers: the parameters come out bit for bit the same.
 */
FitPoint *
fit_table_sorted(const FitTable *t)
{
	int64		n = fit_table_count(t);
	FitPoint   *pts = MemoryContextAllocExtended(CurrentMemoryContext,
												 sizeof(FitPoint) * Max(n, 1),
												 MCXT_ALLOC_HUGE);
	fit_points_iterator it;
	FitEntry   *e;
	int64		k = 0;

	fit_points_start_iterate(t->points, &it);
	while ((e = fit_points_iterate(t->points, &it)) != NULL)
	{
		pts[k].x = e->key.x;
		pts[k].y = e->key.y;
		pts[k].z = e->key.z;
		pts[k++].w = e->w;
	}
	Assert(k == n);
	qsort(pts, k, sizeof(FitPoint), fit_point_cmp);
	return pts;
}

/* A purchase count: finite, non-negative, whole */
double
pred_frequency(const char *fname, double x)
{
	cs_require_nonnegative(fname, "frequency", x);
	if (x != floor(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: frequency must be a whole number, got %g", fname, x)));
	if (x > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: frequency must be at most 1e9, got %g", fname, x)));
	return x;
}

/* ---------- special functions ---------- */

/* psi(x) for x > 0: recurrence up to 6, then the asymptotic series */
double
pred_digamma(double x)
{
	double		r = 0.0;
	double		x2;

	while (x < 6.0)
	{
		r -= 1.0 / x;
		x += 1.0;
	}
	x2 = 1.0 / (x * x);
	return r + log(x) - 0.5 / x
		- x2 * (1.0 / 12 - x2 * (1.0 / 120 - x2 * (1.0 / 252 - x2 * (1.0 / 240 - x2 / 132))));
}

static bool
is_nonpositive_integer(double x)
{
	return x <= 0 && x == floor(x);
}

/* log|Gamma(x)| and the sign of Gamma(x), for x not a non-positive integer */
static double
lgamma_signed(double x, int *sign)
{
	*sign = (x > 0 || ((int64) floor(x)) % 2 == 0) ? 1 : -1;
	return lgamma(x);
}

/* out of range, or (the same SQLSTATE) did not converge */
static void
hyp2f1_fail(const char *why, double a, double b, double c, double z)
{
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("hypergeometric function 2F1(%g, %g; %g; %g) %s", a, b, c, z, why)));
}

/*
 * The Gauss series, for 0 <= z < 1 and c - a - b >= 0 (the caller applies
 * Euler's transformation otherwise), so that from some term on the ratio
 * of successive terms stays below z and the tail after a term t is at
 * most |t| z / (1 - z).
 */
static double
hyp2f1_series(double a, double b, double c, double z, double *cond)
{
	double		big = 1.0;
	double		sum = 1.0;
	double		comp = 0.0;
	double		term = 1.0;
	double		tailf = z / (1.0 - z);

	for (int64 k = 0; k < INT64CONST(100000000); k++)
	{
		double		ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
		double		s;

		term *= ratio;
		s = sum + term;
		if (fabs(sum) >= fabs(term))
			comp += (sum - s) + term;
		else
			comp += (term - s) + sum;
		sum = s;
		big = Max(big, fabs(term));
		if (term == 0.0 ||
			(fabs(ratio) <= z && k > fabs(a) + fabs(b) + fabs(c) &&
			 fabs(term) * tailf <= 1e-17 * fabs(sum + comp)))
		{
			/* how much larger than the sum the terms got: lost digits */
			*cond = big / fabs(sum + comp);
			return sum + comp;
		}
		if (!isfinite(sum))
			hyp2f1_fail("overflows", a, b, c, z);
		if ((k & 0xFFFFF) == 0xFFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	hyp2f1_fail("did not converge", a, b, c, z);
	return 0.0;					/* keep the compiler quiet */
}

/*
 * c - a - b this near an integer is the degenerate case of 15.3.6: its two
 * terms grow like 1 / (distance to the integer) and cancel, which multiplies
 * the rounding error of lgamma (a few ulps, depending on the libm) by as
 * much.  Within 5e-5 of an integer the extrapolation below is used instead,
 * whose points (at 1.5e-4 or more from it) lose fewer digits.
 */
static bool
near_integer(double x)
{
	return fabs(x - rint(x)) <= 5e-5;
}

/* 0 <= z < 1; *cond is a factor on the rounding error of the result */
static double
hyp2f1_unit(double a, double b, double c, double z, double *cond)
{
	double		m = c - a - b;

	check_stack_depth();
	if (!isfinite(m))
		hyp2f1_fail("is out of range (c - a - b overflows)", a, b, c, z);

	/*
	 * Near z = 1 the series needs many terms: use the linear transformation
	 * to 1 - z (Abramowitz & Stegun 15.3.6).  Its two terms cancel when
	 * c - a - b is near an integer, and the series in 1 - z can have terms
	 * much larger than their sum; *cond measures both.  When it is too
	 * large and z <= 0.999, the series in z (a few thousand terms at most)
	 * is used instead.
	 */
	if (z > 0.75)
	{
		if (!near_integer(m))
		{
			double		w = 1.0 - z;
			double		t1 = 0.0,
						t2 = 0.0,
						c1 = 1.0,
						c2 = 1.0;
			int			sc,
						s1,
						s2,
						s3;
			double		lc = lgamma_signed(c, &sc);

			if (!is_nonpositive_integer(c - a) && !is_nonpositive_integer(c - b))
			{
				double		l = lc + lgamma_signed(m, &s1)
					- lgamma_signed(c - a, &s2) - lgamma_signed(c - b, &s3);

				t1 = sc * s1 * s2 * s3 * exp(l) * hyp2f1_unit(a, b, 1.0 - m, w, &c1);
			}
			if (!is_nonpositive_integer(a) && !is_nonpositive_integer(b))
			{
				double		l = lc + lgamma_signed(-m, &s1)
					- lgamma_signed(a, &s2) - lgamma_signed(b, &s3) + m * log(w);

				t2 = sc * s1 * s2 * s3 * exp(l) * hyp2f1_unit(c - a, c - b, 1.0 + m, w, &c2);
			}
			*cond = Max(c1, c2) * (fabs(t1) + fabs(t2)) / fabs(t1 + t2);
			if (*cond <= 1e3 || (z > 0.999 && *cond <= 1e7))
				return t1 + t2;
		}
		else if (z > 0.999)
		{
			/*
			 * c - a - b an integer (the degenerate case of 15.3.6) this near
			 * to 1: Richardson extrapolation of the symmetric means at
			 * c -+ h and c -+ 2h, which F is smooth in.  The error, about h^4
			 * times the fourth derivative in c plus the cancellation in
			 * 15.3.6 at a distance h from the integer, stays near 1e-11
			 * relative (test/t/predictive-hyp2f1.py).
			 */
			const double h = 2e-4;
			double		k1,
						k2,
						k3,
						k4;
			double		m1,
						m2;

			/*
			 * Each shifted c must leave the degenerate case, or this would
			 * recurse without end: with parameters so large that c - a - b
			 * absorbs h (|c - a - b| above about 1e12), it does not.
			 */
			for (int i = -2; i <= 2; i++)
				if (i != 0 && near_integer((c + i * h) - a - b))
					hyp2f1_fail("cannot be computed in double precision (parameters too large)",
								a, b, c, z);
			m1 = (hyp2f1_unit(a, b, c + h, z, &k1) + hyp2f1_unit(a, b, c - h, z, &k2)) / 2;
			m2 = (hyp2f1_unit(a, b, c + 2 * h, z, &k3) + hyp2f1_unit(a, b, c - 2 * h, z, &k4)) / 2;
			*cond = Max(Max(k1, k2), Max(k3, k4));
			return (4 * m1 - m2) / 3;
		}
	}

	/* Euler: F(a,b;c;z) = (1-z)^(c-a-b) F(c-a,c-b;c;z) */
	if (m < 0)
		return pow(1.0 - z, m) * hyp2f1_series(c - a, c - b, c, z, cond);
	return hyp2f1_series(a, b, c, z, cond);
}

/*
 * Gauss hypergeometric function 2F1(a, b; c; z) for real z < 1 and c not a
 * non-positive integer.
 */
double
pred_hyp2f1(double a, double b, double c, double z)
{
	double		r;
	double		cond;

	if (!(z < 1.0) || !isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(z))
		hyp2f1_fail("is not defined here", a, b, c, z);
	if (is_nonpositive_integer(c))
		hyp2f1_fail("is not defined: c is a non-positive integer", a, b, c, z);
	if (z == 0.0 || a == 0.0 || b == 0.0)
		return 1.0;

	if (z < 0)
	{
		/*
		 * Pfaff: F(a,b;c;z) = (1-z)^-a F(a,c-b;c;w) = (1-z)^-b F(c-a,b;c;w)
		 * with w = z/(z-1) in (0, 1).  Of the two, take the one whose new
		 * series converges at w = 1.
		 */
		double		w = z / (z - 1.0);

		if (b > a)
			r = pow(1.0 - z, -a) * hyp2f1_unit(a, c - b, c, w, &cond);
		else
			r = pow(1.0 - z, -b) * hyp2f1_unit(c - a, b, c, w, &cond);
	}
	else
		r = hyp2f1_unit(a, b, c, z, &cond);
	if (!isfinite(r))
		hyp2f1_fail("overflows", a, b, c, z);
	return r;
}

/* ---------- optimiser ---------- */

typedef struct PredOpt
{
	PredObjective fn;
	void	   *arg;
	int			n;
	int			evals;
} PredOpt;

static double
opt_eval(PredOpt *o, const double *theta, double *grad)
{
	double		f;

	CHECK_FOR_INTERRUPTS();
	o->evals++;
	for (int i = 0; i < o->n; i++)
		if (!(fabs(theta[i]) <= 50.0))
			return get_float8_infinity();
	f = o->fn(theta, grad, o->arg);
	return isfinite(f) ? f : get_float8_infinity();
}

static void
opt_fail(const char *fname, const char *const *names, int n, const double *theta,
		 const char *detail)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(&buf, "%s%s = %g", i > 0 ? ", " : "", names[i], exp(theta[i]));
	}
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("%s: the maximum likelihood fit did not converge", fname),
			 errdetail("%s Last parameters: %s.", detail, buf.data),
			 errhint("The data may be too few, or carry too little repeat-purchase information, to identify the model.")));
}

/* Nelder-Mead, to get near the optimum from a rough start */
static void
opt_nelder_mead(PredOpt *o, double *theta)
{
	int			n = o->n;
	double		s[PRED_MAX_PARAMS + 1][PRED_MAX_PARAMS];
	double		f[PRED_MAX_PARAMS + 1];
	double		c[PRED_MAX_PARAMS],
				xr[PRED_MAX_PARAMS],
				xe[PRED_MAX_PARAMS];

	for (int i = 0; i <= n; i++)
	{
		memcpy(s[i], theta, sizeof(double) * n);
		if (i > 0)
			s[i][i - 1] += 0.5;
		f[i] = opt_eval(o, s[i], NULL);
	}

	for (int iter = 0; iter < 400 * n; iter++)
	{
		int			lo = 0,
					hi = 0,
					nh = 0;
		double		fr;

		for (int i = 1; i <= n; i++)
		{
			if (f[i] < f[lo])
				lo = i;
			if (f[i] > f[hi])
				hi = i;
		}
		nh = lo;
		for (int i = 0; i <= n; i++)
			if (i != hi && f[i] > f[nh])
				nh = i;
		if (isfinite(f[hi]) && f[hi] - f[lo] <= 1e-7 * (1.0 + fabs(f[lo])))
			break;

		for (int j = 0; j < n; j++)
		{
			c[j] = 0.0;
			for (int i = 0; i <= n; i++)
				if (i != hi)
					c[j] += s[i][j];
			c[j] /= n;
			xr[j] = c[j] + (c[j] - s[hi][j]);
		}
		fr = opt_eval(o, xr, NULL);
		if (fr < f[lo])
		{
			double		fe;

			for (int j = 0; j < n; j++)
				xe[j] = c[j] + 2.0 * (c[j] - s[hi][j]);
			fe = opt_eval(o, xe, NULL);
			if (fe < fr)
			{
				memcpy(s[hi], xe, sizeof(double) * n);
				f[hi] = fe;
			}
			else
			{
				memcpy(s[hi], xr, sizeof(double) * n);
				f[hi] = fr;
			}
		}
		else if (fr < f[nh])
		{
			memcpy(s[hi], xr, sizeof(double) * n);
			f[hi] = fr;
		}
		else
		{
			double		fc;
			bool		outside = fr < f[hi];

			for (int j = 0; j < n; j++)
				xe[j] = outside ? c[j] + 0.5 * (xr[j] - c[j]) : c[j] + 0.5 * (s[hi][j] - c[j]);
			fc = opt_eval(o, xe, NULL);
			if (fc < (outside ? fr : f[hi]))
			{
				memcpy(s[hi], xe, sizeof(double) * n);
				f[hi] = fc;
			}
			else
			{
				for (int i = 0; i <= n; i++)
				{
					if (i == lo)
						continue;
					for (int j = 0; j < n; j++)
						s[i][j] = s[lo][j] + 0.5 * (s[i][j] - s[lo][j]);
					f[i] = opt_eval(o, s[i], NULL);
				}
			}
		}
	}

	{
		int			lo = 0;

		for (int i = 1; i <= n; i++)
			if (f[i] < f[lo])
				lo = i;
		memcpy(theta, s[lo], sizeof(double) * n);
	}
}

static double
max_abs(const double *v, int n)
{
	double		m = 0.0;

	for (int i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
}

typedef double PredMatrix[PRED_MAX_PARAMS][PRED_MAX_PARAMS];

static void
bfgs_identity(PredMatrix H, int n)
{
	memset(H, 0, sizeof(double) * PRED_MAX_PARAMS * PRED_MAX_PARAMS);
	for (int i = 0; i < n; i++)
		H[i][i] = 1.0;
}

/*
 * The search direction p = -H g, or steepest descent (H reset) when that
 * is not a descent direction, scaled to at most a factor e^2 per parameter
 * and step; returns the slope g'p.
 */
static double
bfgs_direction(PredMatrix H, int n, const double *g, double *p)
{
	double		gp = 0.0;
	double		pmax;

	for (int i = 0; i < n; i++)
	{
		p[i] = 0.0;
		for (int j = 0; j < n; j++)
			p[i] -= H[i][j] * g[j];
		gp += p[i] * g[i];
	}
	if (!(gp < 0))
	{
		/* not a descent direction: restart from steepest descent */
		bfgs_identity(H, n);
		gp = 0.0;
		for (int i = 0; i < n; i++)
		{
			p[i] = -g[i];
			gp -= g[i] * g[i];
		}
	}
	pmax = max_abs(p, n);
	if (pmax > 2.0)
	{
		for (int i = 0; i < n; i++)
			p[i] *= 2.0 / pmax;
		gp *= 2.0 / pmax;
	}
	return gp;
}

/*
 * Backtracking (Armijo) from theta along p: the accepted point, its value
 * and gradient in xn, *fnew and gn; false when no step decreases f at
 * double precision.
 */
static bool
bfgs_line_search(PredOpt *o, const double *theta, const double *p, double f, double gp,
				 double *xn, double *fnew, double *gn)
{
	double		step = 1.0;

	for (int k = 0; k < 60; k++)
	{
		for (int i = 0; i < o->n; i++)
			xn[i] = theta[i] + step * p[i];
		*fnew = opt_eval(o, xn, gn);
		if (*fnew <= f + 1e-4 * step * gp)
			return true;
		step *= 0.5;
	}
	return false;
}

/*
 * The BFGS update of the inverse Hessian for the step s and the change of
 * gradient y (skipped unless s'y > 0); the first one scales the identity
 * to s'y / y'y first.
 */
static void
bfgs_update(PredMatrix H, int n, const double *s, const double *y, bool *first)
{
	double		sy = 0.0;
	double		Hy[PRED_MAX_PARAMS];
	double		yHy = 0.0;

	for (int i = 0; i < n; i++)
		sy += s[i] * y[i];
	if (!(sy > 1e-300))
		return;
	if (*first)
	{
		double		yy = 0.0;

		for (int i = 0; i < n; i++)
			yy += y[i] * y[i];
		for (int i = 0; i < n; i++)
			H[i][i] = sy / yy;
		*first = false;
	}
	for (int i = 0; i < n; i++)
	{
		Hy[i] = 0.0;
		for (int j = 0; j < n; j++)
			Hy[i] += H[i][j] * y[j];
		yHy += y[i] * Hy[i];
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			H[i][j] += ((sy + yHy) * s[i] * s[j]) / (sy * sy)
				- (Hy[i] * s[j] + s[i] * Hy[j]) / sy;
}

/*
 * BFGS on the inverse Hessian with a backtracking (Armijo) line search,
 * from theta; leaves the point, its value and gradient in theta, *fout and
 * g.  True when the gradient vanished.  H is the inverse Hessian
 * estimate, used as the start when have_H and left for the caller.  Unless
 * strict, a divergence returns false instead of raising an error.
 */
static bool
opt_bfgs(PredOpt *o, double *theta, double *fout, double *g,
		 PredMatrix H, bool have_H,
		 const char *fname, const char *const *names, bool strict)
{
	int			n = o->n;
	double		gn[PRED_MAX_PARAMS],
				p[PRED_MAX_PARAMS],
				xn[PRED_MAX_PARAMS],
				s[PRED_MAX_PARAMS],
				y[PRED_MAX_PARAMS];
	double		f;
	bool		converged = false;
	bool		first = !have_H;

	f = opt_eval(o, theta, g);
	if (!isfinite(f))
	{
		if (strict)
			opt_fail(fname, names, n, theta, "The likelihood is not finite at the start.");
		return false;
	}
	if (!have_H)
		bfgs_identity(H, n);

	for (int iter = 0; iter < 500; iter++)
	{
		double		fnew = 0.0;
		double		gp;

		if (max_abs(g, n) <= 1e-10)
		{
			converged = true;
			break;
		}
		gp = bfgs_direction(H, n, g, p);
		if (!bfgs_line_search(o, theta, p, f, gp, xn, &fnew, gn))
			break;				/* no decrease left at double precision: Newton decides */
		for (int i = 0; i < n; i++)
		{
			s[i] = xn[i] - theta[i];
			y[i] = gn[i] - g[i];
		}
		bfgs_update(H, n, s, y, &first);
		memcpy(theta, xn, sizeof(double) * n);
		memcpy(g, gn, sizeof(double) * n);

		/*
		 * Near the optimum of a large sum, the decrease drowns in the
		 * rounding of f: leave the last digits to Newton, which needs only
		 * the gradient.
		 */
		if (max_abs(g, n) <= 1e-8 && f - fnew <= 8 * DBL_EPSILON * fabs(f))
		{
			f = fnew;
			break;
		}
		f = fnew;
		for (int i = 0; i < n; i++)
			if (fabs(theta[i]) > 40.0)
			{
				if (strict)
					opt_fail(fname, names, n, theta,
							 "A parameter is running off to zero or infinity.");
				return false;
			}
	}
	*fout = f;
	return converged;
}

void
pred_minimize(PredObjective fn, void *arg, void *coarse_arg, int n, double *theta,
			  const char *fname, const char *const *names)
{
	PredOpt		o = {fn, arg, n, 0};
	double		g[PRED_MAX_PARAMS],
				gn[PRED_MAX_PARAMS],
				xn[PRED_MAX_PARAMS];
	double		H[PRED_MAX_PARAMS][PRED_MAX_PARAMS];
	double		f;
	bool		converged;
	bool		have_H = false;

	Assert(n <= PRED_MAX_PARAMS);
	if (coarse_arg != NULL)
	{
		/*
		 * Large data: get close on a subsample, where each evaluation is
		 * cheap, so that the full data needs only a few BFGS and Newton
		 * steps; the subsample's inverse Hessian (of the mean negative
		 * log-likelihood, so on the same scale) starts the full BFGS.  A
		 * subsample fit that fails only loses that head start.
		 */
		PredOpt		c = {fn, coarse_arg, n, 0};
		double		start[PRED_MAX_PARAMS];
		double		fc;

		opt_nelder_mead(&c, theta);
		memcpy(start, theta, sizeof(double) * n);
		have_H = opt_bfgs(&c, theta, &fc, g, H, false, fname, names, false);
		if (!have_H)
			memcpy(theta, start, sizeof(double) * n);
	}
	else
		opt_nelder_mead(&o, theta);
	converged = opt_bfgs(&o, theta, &f, g, H, have_H, fname, names, true);

	/*
	 * Newton steps with the Hessian from central differences of the
	 * analytic gradient: they polish what BFGS leaves, and the Hessian tells
	 * whether the optimum is identified.  An optimum on a ridge or at a
	 * boundary (e.g. no customer ever repeats) leaves the likelihood flat
	 * in some direction, and the Hessian is not positive definite.
	 */
	for (int iter = 0; iter < 8; iter++)
	{
		double		hess[PRED_MAX_PARAMS * PRED_MAX_PARAMS];	/* n x n */
		double		gp[PRED_MAX_PARAMS],
					gm[PRED_MAX_PARAMS],
					d[PRED_MAX_PARAMS];
		const double h = 1e-4;
		double		fnew;

		/* the Hessian was checked once already: stop when flat enough */
		if (iter > 0 && max_abs(g, n) <= 1e-12)
			break;
		for (int j = 0; j < n; j++)
		{
			memcpy(xn, theta, sizeof(double) * n);
			xn[j] = theta[j] + h;
			opt_eval(&o, xn, gp);
			xn[j] = theta[j] - h;
			opt_eval(&o, xn, gm);
			for (int i = 0; i < n; i++)
				hess[i * n + j] = (gp[i] - gm[i]) / (2 * h);
		}
		for (int i = 0; i < n; i++)
			for (int j = 0; j < i; j++)
				hess[i * n + j] = hess[j * n + i] = 0.5 * (hess[i * n + j] + hess[j * n + i]);
		if (cs_cholesky(hess, n, 1e-9) >= 0)
			opt_fail(fname, names, n, theta,
					 "The likelihood is flat at the optimum, so the data do not determine the parameters.");
		if (max_abs(g, n) <= 1e-12)
		{
			converged = true;
			break;
		}
		cs_cholesky_solve(hess, n, g, d);
		for (int i = 0; i < n; i++)
			xn[i] = theta[i] - d[i];
		fnew = opt_eval(&o, xn, gn);
		if (!(fnew <= f + 1e-14 * fabs(f)) || !(max_abs(gn, n) < max_abs(g, n)))
			break;
		memcpy(theta, xn, sizeof(double) * n);
		memcpy(g, gn, sizeof(double) * n);
		f = fnew;
		if (max_abs(g, n) <= 1e-10)
			converged = true;
	}
	/* Newton aims at 1e-12; rounding may stop it above that, not far */
	if (!converged && max_abs(g, n) <= 1e-8)
		converged = true;
	if (!converged)
		opt_fail(fname, names, n, theta, "The optimiser stopped before the gradient vanished.");
}

/* ---------- model types ---------- */

/* What every model struct starts with */
typedef struct PredModelHeader
{
	CS_SUMMARY_HEADER;
} PredModelHeader;

static inline double *
pred_model_param(const PredModelType *mt, void *m, int i)
{
	return (double *) ((char *) m + mt->param_off[i]);
}

static inline double *
pred_model_ll(const PredModelType *mt, void *m)
{
	return (double *) ((char *) m + mt->ll_off);
}

static inline int64 *
pred_model_customers(const PredModelType *mt, void *m)
{
	return (int64 *) ((char *) m + mt->customers_off);
}

static void *
pred_model_alloc(const PredModelType *mt)
{
	PredModelHeader *m = palloc0(mt->type.size);

	SET_VARSIZE(m, mt->type.size);
	m->version = CS_SUMMARY_VERSION;
	return m;
}

/* Shared by _in and _recv: every parameter positive and finite, and so on */
static void
pred_model_validate(CsParse *ps, const PredModelType *mt, void *m)
{
	for (int i = 0; i < mt->nparams; i++)
	{
		double		v = *pred_model_param(mt, m, i);

		if (!(v > 0) || !isfinite(v))
		{
			StringInfoData list;

			/* "r, alpha, a and b" */
			initStringInfo(&list);
			for (int j = 0; j < mt->nparams; j++)
			{
				if (j > 0)
					appendStringInfoString(&list, j == mt->nparams - 1 ? " and " : ", ");
				appendStringInfoString(&list, mt->names[j]);
			}
			cs_parse_fail(ps, "The parameters %s must be positive and finite.", list.data);
		}
	}
	if (!isfinite(*pred_model_ll(mt, m)))
		cs_parse_fail(ps, "The log-likelihood must be finite.");
	cs_check_count(ps, "customer count", *pred_model_customers(mt, m));
}

void *
pred_model_fetch(const PredModelType *mt, Datum d)
{
	return cs_summary_fetch(&mt->type, d);
}

Datum
pred_model_make(const PredModelType *mt, const double *params, double ll, int64 customers)
{
	void	   *m = pred_model_alloc(mt);

	for (int i = 0; i < mt->nparams; i++)
		*pred_model_param(mt, m, i) = params[i];
	*pred_model_ll(mt, m) = ll;
	*pred_model_customers(mt, m) = customers;
	return PointerGetDatum(m);
}

Datum
pred_model_in(const PredModelType *mt, FunctionCallInfo fcinfo)
{
	const char *text = PG_GETARG_CSTRING(0);
	void	   *m = pred_model_alloc(mt);
	CsParse		ps;

	cs_parse_init_text(&ps, mt->type.name, text);
	cs_parse_version(&ps);
	for (int i = 0; i < mt->nparams; i++)
	{
		cs_parse_key(&ps, mt->names[i]);
		*pred_model_param(mt, m, i) = cs_parse_double(&ps);
	}
	cs_parse_key(&ps, "log_likelihood");
	*pred_model_ll(mt, m) = cs_parse_double(&ps);
	cs_parse_key(&ps, "customers");
	*pred_model_customers(mt, m) = cs_parse_int64(&ps);
	cs_parse_end(&ps);
	pred_model_validate(&ps, mt, m);
	PG_RETURN_POINTER(m);
}

Datum
pred_model_out(const PredModelType *mt, FunctionCallInfo fcinfo)
{
	void	   *m = pred_model_fetch(mt, PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d", CS_SUMMARY_VERSION);
	for (int i = 0; i < mt->nparams; i++)
	{
		appendStringInfo(&buf, " %s=", mt->names[i]);
		cs_append_double(&buf, *pred_model_param(mt, m, i));
	}
	appendStringInfoString(&buf, " log_likelihood=");
	cs_append_double(&buf, *pred_model_ll(mt, m));
	appendStringInfo(&buf, " customers=" INT64_FORMAT, *pred_model_customers(mt, m));
	PG_RETURN_CSTRING(buf.data);
}

Datum
pred_model_recv(const PredModelType *mt, FunctionCallInfo fcinfo)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	void	   *m = pred_model_alloc(mt);
	CsParse		ps;

	cs_parse_init_binary(&ps, mt->type.name);
	cs_recv_version(&ps, buf);
	for (int i = 0; i < mt->nparams; i++)
		*pred_model_param(mt, m, i) = pq_getmsgfloat8(buf);
	*pred_model_ll(mt, m) = pq_getmsgfloat8(buf);
	*pred_model_customers(mt, m) = pq_getmsgint64(buf);
	pq_getmsgend(buf);
	pred_model_validate(&ps, mt, m);
	PG_RETURN_POINTER(m);
}

Datum
pred_model_send(const PredModelType *mt, FunctionCallInfo fcinfo)
{
	void	   *m = pred_model_fetch(mt, PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	for (int i = 0; i < mt->nparams; i++)
		pq_sendfloat8(&buf, *pred_model_param(mt, m, i));
	pq_sendfloat8(&buf, *pred_model_ll(mt, m));
	pq_sendint64(&buf, *pred_model_customers(mt, m));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* The record (parameters..., log_likelihood, customers) */
Datum
pred_model_params(const PredModelType *mt, FunctionCallInfo fcinfo)
{
	void	   *m = pred_model_fetch(mt, PG_GETARG_DATUM(0));
	TupleDesc	desc;
	Datum		values[PRED_MAX_PARAMS + 2];
	bool		nulls[PRED_MAX_PARAMS + 2] = {false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "%s must return a record", mt->params_fname);
	desc = BlessTupleDesc(desc);
	for (int i = 0; i < mt->nparams; i++)
		values[i] = Float8GetDatum(*pred_model_param(mt, m, i));
	values[mt->nparams] = Float8GetDatum(*pred_model_ll(mt, m));
	values[mt->nparams + 1] = Int64GetDatum(*pred_model_customers(mt, m));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* ---------- fitting aggregates ---------- */

/* Shared by both fitting aggregates: merges two point tables */
PG_FUNCTION_INFO_V1(pred_fit_combine);
Datum
pred_fit_combine(PG_FUNCTION_ARGS)
{
	FitTable   *t;
	Datum		result;

	if (cs_combine_internal_nulls(fcinfo, &result))
		return result;
	t = PG_ARGISNULL(0) ? fit_table_new(cs_agg_context(fcinfo)) : (FitTable *) PG_GETARG_POINTER(0);
	fit_table_merge(t, (FitTable *) PG_GETARG_POINTER(1));
	PG_RETURN_POINTER(t);
}

PG_FUNCTION_INFO_V1(pred_fit_serialize);
Datum
pred_fit_serialize(PG_FUNCTION_ARGS)
{
	cs_agg_context(fcinfo);
	PG_RETURN_BYTEA_P(fit_table_serialize((FitTable *) PG_GETARG_POINTER(0)));
}

/* In per-row memory, in a context of its own that the combine function adopts */
Datum
pred_fit_deserialize(const PredFitType *ft, FunctionCallInfo fcinfo)
{
	cs_agg_context(fcinfo);
	PG_RETURN_POINTER(fit_table_deserialize(PG_GETARG_BYTEA_PP(0), cs_state_context(),
											ft->state_name, ft->check));
}

Datum
pred_fit_final(const PredFitType *ft, FunctionCallInfo fcinfo)
{
	int			n = ft->model->nparams;
	FitTable   *t;
	int64		npoints;
	FitPoint   *pts;
	void	   *data,
			   *coarse = NULL;
	double		theta[PRED_MAX_PARAMS];

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (FitTable *) PG_GETARG_POINTER(0);
	npoints = fit_table_count(t);
	if (npoints == 0)
		PG_RETURN_NULL();

	pts = fit_table_sorted(t);
	data = ft->build(pts, npoints, 1);
	if (npoints > PRED_COARSE_POINTS)
		coarse = ft->build(pts, npoints, (npoints + PRED_COARSE_POINTS - 1) / PRED_COARSE_POINTS);
	ft->start(pts, npoints, data, theta);
	pfree(pts);

	pred_minimize(ft->objective, data, coarse, n, theta, ft->fname, ft->model->names);
	ft->objective(theta, NULL, data);
	for (int i = 0; i < n; i++)
		theta[i] = exp(theta[i]);
	return pred_model_make(ft->model, theta, ft->loglik(data), t->customers);
}
