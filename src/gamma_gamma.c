/*
 * gamma_gamma.c
 *	  Gamma-Gamma model of spend per purchase (Fader & Hardie, "The
 *	  Gamma-Gamma Model of Monetary Value", note 025), fitted by maximum
 *	  likelihood inside an aggregate over customers with repeat purchases.
 *
 * A customer's mean spend m over x repeat purchases has the density
 *
 *	ln f = lnG(px+q) - lnG(px) - lnG(q) + q ln v + (px-1) ln m + px ln x
 *	       - (px+q) ln(v + x m)
 *
 * The gamma terms depend on x only and are computed once per distinct x.
 */
#include "postgres.h"

#include "predictive.h"

static const char *const gg_names[] = {"p", "q", "v"};

static const PredModelType gg_model_type = {
	.type = {"gamma_gamma_model", sizeof(GammaGammaModel), NULL},
	.params_fname = "gamma_gamma_params",
	.nparams = 3,
	.names = gg_names,
	.param_off = {offsetof(GammaGammaModel, p), offsetof(GammaGammaModel, q),
				  offsetof(GammaGammaModel, v)},
	.ll_off = offsetof(GammaGammaModel, ll),
	.customers_off = offsetof(GammaGammaModel, customers),
};

static void
gg_check_point(CsParse *ps, const FitPoint *p)
{
	if (p->x < 1 || p->x != floor(p->x) || p->x > 1e9 || !(p->y > 0) || p->z != 0)
		cs_parse_fail(ps, "Invalid customer summary (%g, %g).", p->x, p->y);
}

PG_FUNCTION_INFO_V1(gamma_gamma_fit_accum);
Datum
gamma_gamma_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	FitTable   *t = PG_ARGISNULL(0) ? NULL : (FitTable *) PG_GETARG_POINTER(0);
	double		x,
				m;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (t == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(t);
	}
	x = pred_frequency("gamma_gamma_fit", PG_GETARG_FLOAT8(1));
	m = PG_GETARG_FLOAT8(2);
	cs_require_nonnegative("gamma_gamma_fit", "monetary_value", m);
	if (x == 0)
	{
		/* only customers with repeat purchases carry spend information */
		if (t == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(t);
	}
	if (m == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gamma_gamma_fit: monetary_value must be positive when frequency is positive, got 0")));
	if (t == NULL)
		t = fit_table_new(aggctx);
	fit_table_add(t, x, m, 0.0, 1);
	PG_RETURN_POINTER(t);
}

typedef struct GgData
{
	int			ngroups;
	double		customers;
	double	   *m;
	double	   *lm;				/* ln m */
	double	   *w;
	double	   *gx;
	double	   *gw;
	double	   *gwlm;			/* per group: sum of w ln m */
	int64	   *gend;
	double		ll;
} GgData;

static double
gg_objective(const double *theta, double *grad, void *arg)
{
	GgData	   *d = arg;
	double		p = exp(theta[0]),
				q = exp(theta[1]),
				v = exp(theta[2]);
	double		lv = theta[2];
	double		lgq = lgamma(q),
				pq = pred_digamma(q);
	CsSum		ll = {0, 0};
	double		dp = 0,
				dq = 0,
				dv = 0;
	int64		i = 0;

	for (int g = 0; g < d->ngroups; g++)
	{
		double		x = d->gx[g];
		double		W = d->gw[g];
		double		px = p * x;
		double		lx = log(x);
		double		c = lgamma(px + q) - lgamma(px) - lgq + q * lv + px * lx;
		CsSum		s = {0, 0};
		double		sl = 0.0,
					sinv = 0.0;

		cs_sum_add(&ll, W * c);
		cs_sum_add(&ll, (px - 1) * d->gwlm[g]);
		for (; i < d->gend[g]; i++)
		{
			double		u = v + x * d->m[i];
			double		lu = log(u);

			cs_sum_add(&s, -d->w[i] * (px + q) * lu);
			if (grad)
			{
				sl += d->w[i] * lu;
				sinv += d->w[i] / u;
			}
		}
		cs_sum_merge(&ll, &s);
		if (grad)
		{
			double		ppxq = pred_digamma(px + q);

			dp += W * x * (ppxq - pred_digamma(px) + lx) + x * d->gwlm[g] - x * sl;
			dq += W * (ppxq - pq + lv) - sl;
			dv += W * q / v - (px + q) * sinv;
		}
	}
	d->ll = cs_sum_value(&ll);
	if (grad)
	{
		grad[0] = -p * dp / d->customers;
		grad[1] = -q * dq / d->customers;
		grad[2] = -v * dv / d->customers;
	}
	return -d->ll / d->customers;
}

/* The likelihood's data from sorted points: every stride-th one */
static void *
gg_data_build(const FitPoint *pts, int64 n, int64 stride)
{
	GgData	   *d = palloc0(sizeof(GgData));
	int64		np = (n + stride - 1) / stride;
	int64		k = 0;

	d->m = palloc_extended(sizeof(double) * np, MCXT_ALLOC_HUGE);
	d->lm = palloc_extended(sizeof(double) * np, MCXT_ALLOC_HUGE);
	d->w = palloc_extended(sizeof(double) * np, MCXT_ALLOC_HUGE);
	d->gx = palloc_extended(sizeof(double) * np, MCXT_ALLOC_HUGE);
	d->gw = palloc_extended(sizeof(double) * np, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	d->gwlm = palloc_extended(sizeof(double) * np, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	d->gend = palloc_extended(sizeof(int64) * np, MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < n; i += stride, k++)
	{
		if (k == 0 || pts[i].x != d->gx[d->ngroups - 1])
			d->gx[d->ngroups++] = pts[i].x;
		d->m[k] = pts[i].y;
		d->lm[k] = log(pts[i].y);
		d->w[k] = (double) pts[i].w;
		d->gw[d->ngroups - 1] += d->w[k];
		d->gwlm[d->ngroups - 1] += d->w[k] * d->lm[k];
		d->gend[d->ngroups - 1] = k + 1;
		d->customers += d->w[k];
	}
	return d;
}

/* start: p = 1, q = 2, v = mean spend, so that p v / (q - 1) = mean */
static void
gg_start(const FitPoint *pts, int64 n, const void *data, double *theta)
{
	const GgData *d = data;
	CsSum		sm = {0, 0};

	for (int64 i = 0; i < n; i++)
		cs_sum_add(&sm, (double) pts[i].w * pts[i].y);
	theta[0] = 0.0;
	theta[1] = log(2.0);
	theta[2] = log(cs_sum_value(&sm) / d->customers);
}

static double
gg_loglik(const void *data)
{
	return ((const GgData *) data)->ll;
}

/* ---------- model type and fitting aggregate ---------- */

GammaGammaModel *
gamma_gamma_fetch(Datum d)
{
	return pred_model_fetch(&gg_model_type, d);
}

static const PredFitType gg_fit_type = {
	.model = &gg_model_type,
	.fname = "gamma_gamma_fit",
	.state_name = "gamma_gamma_fit state",
	.check = gg_check_point,
	.objective = gg_objective,
	.build = gg_data_build,
	.start = gg_start,
	.loglik = gg_loglik,
};

PRED_SQL_FUNCTIONS(gamma_gamma, gg_model_type, gg_fit_type)

/*
 * E[M | x, m] = (p (v + x m)) / (p x + q - 1): the posterior mean of the
 * customer's mean spend, a weighted average of the population mean
 * p v / (q - 1) and the customer's own mean m.
 */
double
gamma_gamma_spend(const GammaGammaModel *g, double x, double mv, const char *fname)
{
	double		den,
				spend;

	pred_frequency(fname, x);
	cs_require_nonnegative(fname, "monetary_value", mv);
	den = g->p * x + g->q - 1.0;
	if (!(den > 0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: the expected spend is infinite for this model and frequency", fname),
				 errdetail("p * frequency + q - 1 = %g is not positive.", den)));
	/*
	 * p (v + x mv) / den, written as a weighted sum so that x mv cannot
	 * overflow on its own: with q > 1 it is a weighted average of the
	 * population mean p v / (q - 1) and mv, so finite whenever mv is.
	 */
	spend = g->p * g->v / den + (g->p * x / den) * mv;
	if (!isfinite(spend))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: result is out of range", fname)));
	return spend;
}

PG_FUNCTION_INFO_V1(gamma_gamma_expected_spend);
Datum
gamma_gamma_expected_spend(PG_FUNCTION_ARGS)
{
	GammaGammaModel *g = gamma_gamma_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_FLOAT8(gamma_gamma_spend(g, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
									   "gamma_gamma_expected_spend"));
}
