/*
 * bgnbd_counts.c
 *	  The distribution of the number of purchases under a BG/NBD model:
 *	  P(X(t) = n) for a customer drawn at random at time 0 (Fader, Hardie &
 *	  Lee 2005, eq. 8), and lnG(x) - lnG(x + a) without cancellation, which
 *	  it and the sBG model need for large arguments.
 *
 * With p = alpha/(alpha+t), q = t/(alpha+t) and NB(n) the negative
 * binomial probability Gamma(r+n)/(Gamma(r) n!) p^r q^n,
 *
 *	P(X(t) = n) = B(a, b+n)/B(a, b) NB(n)
 *	            + [n > 0] B(a+1, b+n-1)/B(a, b) P(NB >= n)
 *
 * where P(NB >= n) = 1 - sum_{j<n} NB(j) is the regularized incomplete
 * beta function I_q(n, r).  Every factor is computed in logs, and the tail
 * by a continued fraction rather than by 1 - sum (which loses every digit
 * once the sum is near 1), so that n and t can be large.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "predictive.h"

/* Stirling's series of lnG(z) after its leading terms, for z >= 10 */
static double
stirling_tail(double z)
{
	double		z2 = 1.0 / (z * z);

	return (1.0 / 12 - z2 * (1.0 / 360 - z2 * (1.0 / 1260 - z2 * (1.0 / 1680 - z2 / 1188)))) / z;
}

/*
 * lnG(x) - lnG(x + a) for x > 0 and x + a > 0.  When both are at least 10,
 * Stirling's series written so that nothing of size x ln x cancels: the
 * leading terms differ by -a ln x - (x + a - 1/2) ln(1 + a/x) + a.
 */
double
pred_lgamma_diff(double x, double a)
{
	double		y = x + a;

	if (x < 10 || y < 10)
		return lgamma(x) - lgamma(y);
	return -a * log(x) - (y - 0.5) * log1p(a / x) + a + stirling_tail(x) - stirling_tail(y);
}

/*
 * The continued fraction of the regularized incomplete beta function
 * (Abramowitz & Stegun 26.5.8), evaluated by the modified Lentz method:
 * I_z(a, b) = z^a (1-z)^b / (a B(a, b)) * this.  Converges quickly for
 * z < (a+1)/(a+b+2).
 */
static double
incbeta_fraction(double a, double b, double z)
{
	double		c = 1.0,
				d,
				h;

	d = 1.0 - (a + b) * z / (a + 1.0);
	if (fabs(d) < CS_LENTZ_TINY)
		d = CS_LENTZ_TINY;
	d = 1.0 / d;
	h = d;
	for (int64 m = 1; m < INT64CONST(10000000); m++)
	{
		double		m2 = 2.0 * m;
		double		num,
					step;

		/* the even step d_2m, then the odd step d_2m+1 */
		num = m * (b - m) * z / ((a + m2 - 1.0) * (a + m2));
		h *= cs_lentz_step(num, 1.0, &c, &d);
		num = -(a + m) * (a + b + m) * z / ((a + m2) * (a + m2 + 1.0));
		step = cs_lentz_step(num, 1.0, &c, &d);
		h *= step;
		if (fabs(step - 1.0) <= 1e-16)
			return h;
		if ((m & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("bgnbd_probability_of_purchases: the incomplete beta function I(%g; %g, %g) did not converge",
					z, a, b)));
	return 0.0;					/* keep the compiler quiet */
}

static double
log_add(double x, double y)
{
	if (x == -INFINITY)
		return y;
	if (y == -INFINITY)
		return x;
	if (x < y)
	{
		double		s = x;

		x = y;
		y = s;
	}
	return x + log1p(exp(y - x));
}

PG_FUNCTION_INFO_V1(bgnbd_probability_of_purchases);
Datum
bgnbd_probability_of_purchases(PG_FUNCTION_ARGS)
{
	BgnbdModel *m = cs_fetch_summary(PG_GETARG_DATUM(0), "bgnbd_model", sizeof(BgnbdModel));
	double		t = PG_GETARG_FLOAT8(1);
	int32		ni = PG_GETARG_INT32(2);
	double		n = ni;
	double		r,
				a,
				b,
				logp,
				logq,
				lognb,
				lbase,
				l1,
				l2 = -INFINITY;

	if (VARSIZE(m) != sizeof(BgnbdModel))
		cs_corrupted("bgnbd_model", NULL);
	if (!(t >= 0 && isfinite(t)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bgnbd_probability_of_purchases: t must be finite and not negative, got %g", t)));
	if (ni < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bgnbd_probability_of_purchases: n must not be negative, got %d", ni)));
	if (t == 0)
		PG_RETURN_FLOAT8(ni == 0 ? 1.0 : 0.0);

	r = m->r;
	a = m->a;
	b = m->b;
	/* p = alpha/(alpha+t), q = t/(alpha+t) */
	logp = -log1p(t / m->alpha);
	logq = -log1p(m->alpha / t);
	/*
	 * ln NB(n) = lnG(r+n) - lnG(r) - ln n! + r ln p + n ln q, the ratio of
	 * gammas taken from the side of the larger of n and r, so that its
	 * large terms do not cancel (n ln q is left out at n = 0, where q may
	 * be 0)
	 */
	if (ni == 0)
		lognb = r * logp;
	else if (n >= r)
		lognb = -pred_lgamma_diff(n + 1.0, r - 1.0) - lgamma(r) + r * logp + n * logq;
	else
		lognb = -pred_lgamma_diff(r, n) - lgamma(n + 1.0) + r * logp + n * logq;
	/* ln [Gamma(a+b) / Gamma(b)] - ... shared by both beta ratios */
	lbase = pred_lgamma_diff(b, a);
	/* B(a, b+n)/B(a, b) NB(n) */
	l1 = pred_lgamma_diff(b + n, a) - lbase + lognb;

	if (ni > 0)
	{
		double		lc,
					ltail;
		double		p = exp(logp),
					q = exp(logq);

		/* B(a+1, b+n-1)/B(a, b) = a/(a+b+n-1) Gamma(b+n-1)Gamma(a+b)/(Gamma(b)Gamma(a+b+n-1)) */
		lc = log(a) - log(a + b + (n - 1.0)) + pred_lgamma_diff(b + (n - 1.0), a) - lbase;

		/*
		 * P(NB >= n) = I_q(n, r) = NB(n) * fraction(n, r, q), or where that
		 * fraction converges slowly, 1 - I_p(r, n) with I_p(r, n) = NB(n)
		 * n/r fraction(r, n, p), which is then below about 1/2.
		 */
		if (q < (n + 1.0) / (n + r + 2.0))
			ltail = lognb + log(incbeta_fraction(n, r, q));
		else
			ltail = log1p(-exp(lognb + log(n / r) + log(incbeta_fraction(r, n, p))));
		l2 = lc + ltail;
	}
	l1 = log_add(l1, l2);

	/*
	 * Parameters so extreme that a logarithm overflows (r or alpha near
	 * 1e300) leave no digits: say so rather than return NaN.  A probability
	 * below the smallest double is 0.
	 */
	if (isnan(l1) || l1 > 1e-12)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bgnbd_probability_of_purchases: P(X(t) = n) cannot be computed in double precision for this model at t = %g, n = %d",
						t, ni),
				 errdetail("Model r = %g, alpha = %g, a = %g, b = %g.", r, m->alpha, a, b)));
	PG_RETURN_FLOAT8(Min(exp(l1), 1.0));
}
