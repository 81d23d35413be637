/*
 * bgnbd.c
 *	  BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting
 *	  Your Customers the Easy Way"), fitted by maximum likelihood inside an
 *	  aggregate; conditional expectations, P(alive) and discounted CLV.
 *
 * The aggregate keeps one weighted point per distinct (frequency, recency,
 * t) triple.  The log-likelihood of a customer with x repeat purchases, the
 * last at t_x, observed for T is
 *
 *	ln L = C(x) + ln(exp(D1) + [x > 0] exp(D2))
 *	C(x) = lnG(r+x) - lnG(r) + r ln(alpha) + lnG(a+b) + lnG(b+x) - lnG(b) - lnG(a+b+x)
 *	D1 = -(r+x) ln(alpha+T)
 *	D2 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x)
 *
 * C depends on x only, so it is computed once per distinct x; each point
 * then costs two logarithms and one exponential.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "predictive.h"

static const char *const bgnbd_names[] = {"r", "alpha", "a", "b"};

static const PredModelType bgnbd_model_type = {
	.type = {"bgnbd_model", sizeof(BgnbdModel), NULL},
	.params_fname = "bgnbd_params",
	.nparams = 4,
	.names = bgnbd_names,
	.param_off = {offsetof(BgnbdModel, r), offsetof(BgnbdModel, alpha),
				  offsetof(BgnbdModel, a), offsetof(BgnbdModel, b)},
	.ll_off = offsetof(BgnbdModel, ll),
	.customers_off = offsetof(BgnbdModel, customers),
};

/* ---------- input checks ---------- */

static void
bgnbd_check_customer(const char *fname, double x, double tx, double T)
{
	pred_frequency(fname, x);
	cs_require_nonnegative(fname, "recency", tx);
	cs_require_nonnegative(fname, "t", T);
	if (tx > T)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: recency must not exceed t, got recency %g and t %g", fname, tx, T)));
	if (x == 0 && tx != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: recency must be 0 when frequency is 0, got %g", fname, tx)));
}

static void
bgnbd_check_point(CsParse *ps, const FitPoint *p)
{
	if (p->x < 0 || p->x != floor(p->x) || p->x > 1e9 || p->y < 0 || p->y > p->z ||
		(p->x == 0 && p->y != 0))
		cs_parse_fail(ps, "Invalid customer summary (%g, %g, %g).", p->x, p->y, p->z);
}

/* ---------- aggregate ---------- */

PG_FUNCTION_INFO_V1(bgnbd_fit_accum);
Datum
bgnbd_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	FitTable   *t = PG_ARGISNULL(0) ? NULL : (FitTable *) PG_GETARG_POINTER(0);
	double		x,
				tx,
				T;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (t == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(t);
	}
	x = PG_GETARG_FLOAT8(1);
	tx = PG_GETARG_FLOAT8(2);
	T = PG_GETARG_FLOAT8(3);
	bgnbd_check_customer("bgnbd_fit", x, tx, T);
	if (t == NULL)
		t = fit_table_new(aggctx);
	fit_table_add(t, x, tx, T, 1);
	PG_RETURN_POINTER(t);
}

/* The data as the likelihood uses it: points grouped by x */
typedef struct BgnbdData
{
	int64		npoints;
	int			ngroups;
	double		customers;
	double	   *tx;
	double	   *T;
	double	   *w;
	double	   *gx;				/* per group: x */
	double	   *gw;				/* per group: total weight */
	int64	   *gend;			/* per group: one past its last point */
	double		ll;				/* log-likelihood at the last evaluation */
} BgnbdData;

/* Mean negative log-likelihood over customers, and its gradient in log space */
static double
bgnbd_objective(const double *theta, double *grad, void *arg)
{
	BgnbdData  *d = arg;
	double		r = exp(theta[0]),
				al = exp(theta[1]),
				a = exp(theta[2]),
				b = exp(theta[3]);
	double		lal = theta[1],
				la = theta[2];
	CsSum		ll = {0, 0};
	double		dr = 0,
				dal = 0,
				da = 0,
				db = 0;
	int64		i = 0;

	for (int g = 0; g < d->ngroups; g++)
	{
		double		x = d->gx[g];
		double		W = d->gw[g];
		double		rx = r + x;
		double		c = lgamma(rx) - lgamma(r) + r * lal + lgamma(a + b) + lgamma(b + x)
			- lgamma(b) - lgamma(a + b + x);
		CsSum		s = {0, 0};

		cs_sum_add(&ll, W * c);
		if (grad)
		{
			double		pab = pred_digamma(a + b),
						pabx = pred_digamma(a + b + x);

			dr += W * (pred_digamma(rx) - pred_digamma(r) + lal);
			dal += W * r / al;
			da += W * (pab - pabx);
			db += W * (pab + pred_digamma(b + x) - pred_digamma(b) - pabx);
		}

		if (x == 0)
		{
			for (; i < d->gend[g]; i++)
			{
				double		lT = log(al + d->T[i]);

				cs_sum_add(&s, -d->w[i] * r * lT);
				if (grad)
				{
					dr -= d->w[i] * lT;
					dal -= d->w[i] * r / (al + d->T[i]);
				}
			}
		}
		else
		{
			double		lbx = log(b + x - 1);

			for (; i < d->gend[g]; i++)
			{
				double		lT = log(al + d->T[i]);
				double		ltx = log(al + d->tx[i]);
				double		d1 = -rx * lT;
				double		d2 = la - lbx - rx * ltx;
				double		hi = Max(d1, d2);
				double		e = exp(Min(d1, d2) - hi);
				double		w = d->w[i];

				cs_sum_add(&s, w * (hi + log1p(e)));
				if (grad)
				{
					/* shares of the two terms in the sum */
					double		w1 = (d1 >= d2 ? 1.0 : e) / (1.0 + e);
					double		w2 = 1.0 - w1;

					dr -= w * (w1 * lT + w2 * ltx);
					dal -= w * rx * (w1 / (al + d->T[i]) + w2 / (al + d->tx[i]));
					da += w * w2 / a;
					db -= w * w2 / (b + x - 1);
				}
			}
		}
		cs_sum_merge(&ll, &s);
	}
	d->ll = cs_sum_value(&ll);
	if (grad)
	{
		grad[0] = -r * dr / d->customers;
		grad[1] = -al * dal / d->customers;
		grad[2] = -a * da / d->customers;
		grad[3] = -b * db / d->customers;
	}
	return -d->ll / d->customers;
}

/* The likelihood's data from sorted points: every stride-th one */
static void *
bgnbd_data_build(const FitPoint *pts, int64 n, int64 stride)
{
	BgnbdData  *d = palloc0(sizeof(BgnbdData));
	int64		k = 0;

	d->npoints = (n + stride - 1) / stride;
	d->tx = palloc_extended(sizeof(double) * d->npoints, MCXT_ALLOC_HUGE);
	d->T = palloc_extended(sizeof(double) * d->npoints, MCXT_ALLOC_HUGE);
	d->w = palloc_extended(sizeof(double) * d->npoints, MCXT_ALLOC_HUGE);
	d->gx = palloc_extended(sizeof(double) * d->npoints, MCXT_ALLOC_HUGE);
	d->gw = palloc_extended(sizeof(double) * d->npoints, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	d->gend = palloc_extended(sizeof(int64) * d->npoints, MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < n; i += stride, k++)
	{
		if (k == 0 || pts[i].x != d->gx[d->ngroups - 1])
			d->gx[d->ngroups++] = pts[i].x;
		d->tx[k] = pts[i].y;
		d->T[k] = pts[i].z;
		d->w[k] = (double) pts[i].w;
		d->gw[d->ngroups - 1] += d->w[k];
		d->gend[d->ngroups - 1] = k + 1;
		d->customers += d->w[k];
	}
	return d;
}

/* start: r = a = b = 1, alpha from the mean purchase rate */
static void
bgnbd_start(const FitPoint *pts, int64 n, const void *data, double *theta)
{
	const BgnbdData *d = data;
	double		sx = 0,
				sT = 0;

	for (int64 i = 0; i < n; i++)
	{
		sx += (double) pts[i].w * pts[i].x;
		sT += (double) pts[i].w * pts[i].z;
	}
	theta[0] = 0.0;
	theta[1] = log(sx > 0 && sT > 0 ? sT / sx : (sT > 0 ? sT / d->customers : 1.0));
	theta[2] = 0.0;
	theta[3] = 0.0;
}

static double
bgnbd_loglik(const void *data)
{
	return ((const BgnbdData *) data)->ll;
}

/* ---------- model type and fitting aggregate ---------- */

static BgnbdModel *
bgnbd_fetch(Datum d)
{
	return pred_model_fetch(&bgnbd_model_type, d);
}

static const PredFitType bgnbd_fit_type = {
	.model = &bgnbd_model_type,
	.fname = "bgnbd_fit",
	.state_name = "bgnbd_fit state",
	.check = bgnbd_check_point,
	.objective = bgnbd_objective,
	.build = bgnbd_data_build,
	.start = bgnbd_start,
	.loglik = bgnbd_loglik,
};

PRED_SQL_FUNCTIONS(bgnbd, bgnbd_model_type, bgnbd_fit_type)

/* ---------- predictions ---------- */

/* ln of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x): the odds of having dropped out */
static double
bgnbd_log_dropout_odds(const BgnbdModel *m, double x, double tx, double T)
{
	return log(m->a) - log(m->b + x - 1) +
		(m->r + x) * (log(m->alpha + T) - log(m->alpha + tx));
}

/*
 * (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
 * with z = t/(alpha+T+t): the expected purchases in the next t of a
 * customer known to be alive (FHL 2005, eq. 10 without its denominator).
 * By Pfaff's transformation the power times 2F1 is
 * 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)).
 */
static double
bgnbd_alive_expectation(double r, double alpha, double a, double b,
						double t, double x, double T)
{
	double		g = pred_hyp2f1(r + x, a - 1, a + b + x - 1, -t / (alpha + T));

	return (a + b + x - 1) / (a - 1) * (1.0 - g);
}

static double
bgnbd_expected(const BgnbdModel *m, double t, double x, double tx, double T)
{
	double		num;

	if (t == 0)
		return 0.0;
	/*
	 * At a = 1 the formula is 0/0 although the expectation is smooth in a:
	 * there, interpolate between a = 1 -+ 1e-5.
	 */
	if (fabs(m->a - 1.0) < 1e-5)
	{
		const double h = 1e-5;
		double		lo = bgnbd_alive_expectation(m->r, m->alpha, 1.0 - h, m->b, t, x, T);
		double		hi = bgnbd_alive_expectation(m->r, m->alpha, 1.0 + h, m->b, t, x, T);

		num = lo + (hi - lo) * (m->a - (1.0 - h)) / (2 * h);
	}
	else
		num = bgnbd_alive_expectation(m->r, m->alpha, m->a, m->b, t, x, T);
	if (x > 0)
		num /= 1.0 + exp(bgnbd_log_dropout_odds(m, x, tx, T));
	return num;
}

PG_FUNCTION_INFO_V1(bgnbd_expected_purchases);
Datum
bgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	BgnbdModel *m = bgnbd_fetch(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);
	double		x = PG_GETARG_FLOAT8(2);
	double		tx = PG_GETARG_FLOAT8(3);
	double		T = PG_GETARG_FLOAT8(4);

	cs_require_nonnegative("bgnbd_expected_purchases", "horizon", t);
	bgnbd_check_customer("bgnbd_expected_purchases", x, tx, T);
	PG_RETURN_FLOAT8(bgnbd_expected(m, t, x, tx, T));
}

PG_FUNCTION_INFO_V1(bgnbd_p_alive);
Datum
bgnbd_p_alive(PG_FUNCTION_ARGS)
{
	BgnbdModel *m = bgnbd_fetch(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1);
	double		tx = PG_GETARG_FLOAT8(2);
	double		T = PG_GETARG_FLOAT8(3);

	bgnbd_check_customer("bgnbd_p_alive", x, tx, T);
	if (x == 0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 / (1.0 + exp(bgnbd_log_dropout_odds(m, x, tx, T))));
}

/*
 * Sum over k = 1..periods of (E[Y(k L)] - E[Y((k-1) L)]) * spend / (1+d)^k
 */
PG_FUNCTION_INFO_V1(pred_clv);
Datum
pred_clv(PG_FUNCTION_ARGS)
{
	BgnbdModel *bg = bgnbd_fetch(PG_GETARG_DATUM(0));
	GammaGammaModel *gg = gamma_gamma_fetch(PG_GETARG_DATUM(1));
	double		x = PG_GETARG_FLOAT8(2);
	double		tx = PG_GETARG_FLOAT8(3);
	double		T = PG_GETARG_FLOAT8(4);
	double		mv = PG_GETARG_FLOAT8(5);
	int32		periods = PG_GETARG_INT32(6);
	double		len = PG_GETARG_FLOAT8(7);
	double		d = PG_GETARG_FLOAT8(8);
	double		spend,
				prev = 0.0,
				clv = 0.0,
				disc = 1.0;

	bgnbd_check_customer("clv", x, tx, T);
	if (periods < 0 || periods > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clv: periods must be between 0 and 100000, got %d", periods)));
	cs_require_finite("clv", "period_length", len);
	if (!(len > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clv: period_length must be positive, got %g", len)));
	cs_require_nonnegative("clv", "discount_rate", d);
	spend = gamma_gamma_spend(gg, x, mv, "clv");

	for (int k = 1; k <= periods; k++)
	{
		double		e;

		CHECK_FOR_INTERRUPTS();
		e = bgnbd_expected(bg, k * len, x, tx, T);
		disc *= 1.0 + d;
		clv += (e - prev) * spend / disc;
		prev = e;
	}
	PG_RETURN_FLOAT8(clv);
}

/* 2F1 exposed for testing against known values */
PG_FUNCTION_INFO_V1(pred_hyp2f1_sql);
Datum
pred_hyp2f1_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(pred_hyp2f1(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1),
								 PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}
