/*
 * sbg.c
 *	  The shifted-beta-geometric model of contractual retention (Fader &
 *	  Hardie 2007, "How to project customer retention"): each customer
 *	  churns at every renewal with a probability theta of their own, theta
 *	  ~ Beta(alpha, beta) across customers, so that
 *
 *	P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta)
 *	S(t)     = B(alpha, beta+t) / B(alpha, beta)
 *
 * and a customer who has renewed t-1 times churns at period t with
 * probability alpha / (alpha+beta+t-1).  Fitted by maximum likelihood on a
 * survival_summary of whole periods.
 *
 * The likelihood, written period by period: with n_k customers at risk in
 * period k (duration >= k) and d_k of them churning there,
 *
 *	ln L = sum over k of  d_k ln(alpha) + (n_k - d_k) ln(beta+k-1)
 *	                      - n_k ln(alpha+beta+k-1)
 *
 * Between two durations of the summary nobody churns and n_k is constant,
 * so a run of periods a..b costs n (F(beta) - F(alpha+beta)) with
 * F(z) = sum_{k=a..b} ln(z+k-1) = lnG(z+b) - lnG(z+a-1): a summary of m
 * distinct durations costs O(m) per evaluation, whatever the number of
 * customers, and the gradient and Hessian are exact.
 */
#include "postgres.h"

#include <float.h>

#include "miscadmin.h"
#include "predictive.h"
#include "survival.h"

typedef struct SbgModel
{
	CS_SUMMARY_HEADER;
	double		alpha;
	double		beta;
	double		ll;
	int64		customers;
} SbgModel;

static const char *const sbg_names[] = {"alpha", "beta"};

static const PredModelType sbg_model_type = {
	.type = {"sbg_model", sizeof(SbgModel), NULL},
	.params_fname = "sbg_params",
	.nparams = 2,
	.names = sbg_names,
	.param_off = {offsetof(SbgModel, alpha), offsetof(SbgModel, beta)},
	.ll_off = offsetof(SbgModel, ll),
	.customers_off = offsetof(SbgModel, customers),
};

PRED_SQL_FUNCTION(sbg_model_in, pred_model_in, sbg_model_type)
PRED_SQL_FUNCTION(sbg_model_out, pred_model_out, sbg_model_type)
PRED_SQL_FUNCTION(sbg_model_recv, pred_model_recv, sbg_model_type)
PRED_SQL_FUNCTION(sbg_model_send, pred_model_send, sbg_model_type)
PRED_SQL_FUNCTION(sbg_params, pred_model_params, sbg_model_type)

/* ---------- the likelihood ---------- */

/*
 * Periods a..b (1 <= a <= b) with n customers at risk, of whom d churn in
 * period b and nobody before.
 */
typedef struct SbgRun
{
	double		a;
	double		b;
	double		n;
	double		d;
} SbgRun;

typedef struct SbgData
{
	int			nruns;
	SbgRun	   *runs;
	double		customers;		/* total weight */
	double		churned;
} SbgData;

/* runs longer than this use lnGamma, digamma and trigamma */
#define SBG_SHORT_RUN 32

/* psi'(x) for x > 0: recurrence up to 6, then the asymptotic series */
static double
sbg_trigamma(double x)
{
	double		r = 0.0;
	double		x2;

	while (x < 6.0)
	{
		r += 1.0 / (x * x);
		x += 1.0;
	}
	x2 = 1.0 / (x * x);
	return r + 1.0 / x + x2 / 2.0
		+ x2 / x * (1.0 / 6 - x2 * (1.0 / 30 - x2 * (1.0 / 42 - x2 * (1.0 / 30 - x2 * 5.0 / 66))));
}

/*
 * Over periods a..b: D = sum ln((y+k-1)/(s+k-1)) with s = y + x, and the
 * first two derivatives of F(z) = sum ln(z+k-1) at y and at s.
 */
static void
sbg_run(double y, double x, double a, double b, double *d,
		double *fy1, double *fy2, double *fs1, double *fs2)
{
	double		s = y + x;

	if (b - a < SBG_SHORT_RUN)
	{
		double		s0 = 0.0,
					y1 = 0.0,
					y2 = 0.0,
					s1 = 0.0,
					s2 = 0.0;

		for (double k = a; k <= b; k += 1.0)
		{
			double		yk = 1.0 / (y + k - 1.0);
			double		sk = 1.0 / (s + k - 1.0);

			s0 += log1p(-x * sk);
			y1 += yk;
			y2 += yk * yk;
			s1 += sk;
			s2 += sk * sk;
		}
		*d = s0;
		*fy1 = y1;
		*fy2 = -y2;
		*fs1 = s1;
		*fs2 = -s2;
		return;
	}
	*d = pred_lgamma_diff(y + b, x) - pred_lgamma_diff(y + a - 1.0, x);
	*fy1 = pred_digamma(y + b) - pred_digamma(y + a - 1.0);
	*fy2 = sbg_trigamma(y + a - 1.0) - sbg_trigamma(y + b);
	*fs1 = pred_digamma(s + b) - pred_digamma(s + a - 1.0);
	*fs2 = sbg_trigamma(s + a - 1.0) - sbg_trigamma(s + b);
}

/*
 * The log-likelihood at (alpha, beta) = exp(theta); with g and h not NULL,
 * also its gradient and Hessian in theta.
 */
static double
sbg_loglik(const SbgData *data, const double *theta, double *g, double h[2][2])
{
	double		x = exp(theta[0]),
				y = exp(theta[1]);
	double		ll = 0.0,
				gx = 0.0,
				gy = 0.0,
				hxx = 0.0,
				hyy = 0.0,
				hxy = 0.0;
	double		logx = log(x);

	for (int i = 0; i < data->nruns; i++)
	{
		const SbgRun *r = &data->runs[i];
		double		dl,
					fy1,
					fy2,
					fs1,
					fs2;
		double		yb = y + r->b - 1.0;

		sbg_run(y, x, r->a, r->b, &dl, &fy1, &fy2, &fs1, &fs2);
		ll += r->n * dl;
		gx -= r->n * fs1;
		gy += r->n * (fy1 - fs1);
		hxx -= r->n * fs2;
		hyy += r->n * (fy2 - fs2);
		hxy -= r->n * fs2;
		if (r->d > 0)
		{
			ll += r->d * (logx - log(yb));
			gx += r->d / x;
			gy -= r->d / yb;
			hxx -= r->d / (x * x);
			hyy += r->d / (yb * yb);
		}
	}
	if (g != NULL)
	{
		/* chain rule to theta = (ln alpha, ln beta) */
		g[0] = x * gx;
		g[1] = y * gy;
		h[0][0] = x * x * hxx + x * gx;
		h[1][1] = y * y * hyy + y * gy;
		h[0][1] = h[1][0] = x * y * hxy;
	}
	return ll;
}

/* ---------- the fit ---------- */

pg_noreturn static void
sbg_no_optimum(const char *why, const char *detail)
{
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("sbg_fit: the maximum likelihood fit did not converge: %s", why),
			 errdetail("%s", detail),
			 errhint("Fit more cohorts together (rollup of their summaries), or wait for more renewal periods.")));
}

/* Reads the summary into runs of periods; rejects what the model cannot use */
static void
sbg_data_read(Datum summary, SbgData *data)
{
	SurvData	sd;
	double		at_risk;
	double		prev = 0.0;
	bool		later = false;

	survival_data_read(summary, &sd);
	data->runs = palloc(sizeof(SbgRun) * Max(sd.npoints, 1));
	data->nruns = 0;
	data->churned = 0.0;

	/*
	 * Entry at 0 (survival_agg's entry argument 0: at risk from the first
	 * period on) is no late entry; it is kept at t = 0 in entered.
	 */
	at_risk = sd.initial;
	for (int32 i = 0; i < sd.npoints; i++)
		if (sd.points[i].t == 0)
			at_risk += sd.points[i].entered;
	data->customers = at_risk;
	for (int32 i = 0; i < sd.npoints; i++)
	{
		const SurvDataPoint *p = &sd.points[i];

		if (p->entered > 0 && p->t != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sbg_fit: the summary must not have late entry, got customers entering at %g", p->t),
					 errdetail("The shifted-beta-geometric model is fitted to cohorts followed from their first period.")));
		if (p->churned + p->censored <= 0)
			continue;
		if (!(p->t >= 1 && p->t == floor(p->t) && p->t <= 1e15))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sbg_fit: durations must be positive whole numbers of periods, got %g", p->t)));
		data->runs[data->nruns].a = prev + 1.0;
		data->runs[data->nruns].b = p->t;
		data->runs[data->nruns].n = at_risk;
		data->runs[data->nruns].d = p->churned;
		data->nruns++;
		data->churned += p->churned;
		at_risk -= p->churned + p->censored;
		if (p->t > 1)
			later = true;
		prev = p->t;
	}
	if (data->nruns == 0)
		return;

	/*
	 * Cohorts with no maximum inside the parameter space: say so rather
	 * than report where the optimiser happened to stop.
	 */
	if (data->churned == 0)
		sbg_no_optimum("no customer churned",
					   "Without a cancellation the likelihood keeps growing as alpha goes to 0: the data are best described by customers who never churn, which the model cannot estimate.");
	if (!later)
	{
		if (data->churned >= data->customers * (1 - 1e-12))
			sbg_no_optimum("every customer churned in the first period",
						   "When everyone churns at the first renewal the likelihood keeps growing as beta goes to 0, and nothing is left to project.");
		sbg_no_optimum("the summary covers only the first period",
					   "One period's churn rate fixes alpha / (alpha + beta) but not alpha + beta: the likelihood is flat along that line. Durations must reach period 2 or later.");
	}
}

/*
 * A start from the first two periods' churn rates h1 = alpha/(alpha+beta)
 * and h2 = alpha/(alpha+beta+1) when they decline; alpha = beta = 1
 * otherwise.  Newton from there converges from anywhere, only slower.
 */
static void
sbg_start(const SbgData *data, double *theta)
{
	theta[0] = theta[1] = 0.0;
	if (data->nruns >= 2 && data->runs[0].a == 1 && data->runs[0].b == 1 &&
		data->runs[1].a == 2 && data->runs[0].n > 0 && data->runs[1].n > 0)
	{
		double		h1 = data->runs[0].d / data->runs[0].n;
		double		h2 = data->runs[1].d / data->runs[1].n;

		if (h2 > 0 && h1 > h2 && h1 < 1)
		{
			double		s = h2 / (h1 - h2);
			double		al = h1 * s;
			double		be = s - al;

			if (al > 0 && be > 0 && isfinite(s))
			{
				theta[0] = log(al);
				theta[1] = log(be);
			}
		}
	}
}

/*
 * |log parameter| beyond SBG_THETA_LIMIT (alpha or beta below 1e-10 or
 * above 1e10): the estimate runs off to 0 or infinity.  An apparent
 * optimum beyond SBG_THETA_FAR (1e-8, 1e8) is where the likelihood has
 * become too flat to resolve on its way there, not a maximum.
 */
#define SBG_THETA_LIMIT 23.0
#define SBG_THETA_FAR 18.4
#define SBG_MAX_ITER 500

/*
 * Maximises the log-likelihood over theta = (ln alpha, ln beta): Newton
 * steps with the exact Hessian, made positive definite by a multiple of
 * the identity where the likelihood is not concave (Levenberg), step
 * length limited, and a backtracking line search (Armijo), so every step
 * raises the likelihood and the iteration converges to a maximum from any
 * start.  Stops at a positive definite Hessian when the Newton step is
 * below 1e-12 in both log parameters, or the gain it predicts is below what
 * the likelihood can resolve in double precision.
 */
static void
sbg_maximize(const SbgData *data, double *theta, double *llout)
{
	double		scale = 1.0 / data->customers;	/* work with the mean */
	double		g[2],
				h[2][2];
	double		f = sbg_loglik(data, theta, g, h) * scale;
	int			stalls = 0;

	for (int iter = 0; iter < SBG_MAX_ITER; iter++)
	{
		double		a,
					b,
					c,
					lambda = 0.0,
					det,
					step[2],
					slope,
					t = 1.0,
					len;
		bool		newton;

		CHECK_FOR_INTERRUPTS();
		g[0] *= scale;
		g[1] *= scale;
		/* minimise -f: A = -Hessian */
		a = -h[0][0] * scale;
		b = -h[0][1] * scale;
		c = -h[1][1] * scale;
		for (;;)
		{
			det = (a + lambda) * (c + lambda) - b * b;
			if (a + lambda > 0 && det > 1e-14 * (fabs(a) + fabs(c) + 1e-300) * (fabs(a) + fabs(c) + lambda))
				break;
			lambda = lambda == 0.0 ? 1e-6 * (fabs(a) + fabs(c) + 1e-10) : lambda * 4;
		}
		newton = (lambda == 0.0);
		/* step = A^-1 g: the ascent direction of f */
		step[0] = ((c + lambda) * g[0] - b * g[1]) / det;
		step[1] = ((a + lambda) * g[1] - b * g[0]) / det;
		slope = g[0] * step[0] + g[1] * step[1];

		/*
		 * Converged when the Newton step is negligible, or the gain it
		 * predicts (slope / 2) is far below what f can resolve: then the
		 * parameters are within about 1e-9 of the maximum.
		 */
		if (newton && ((fabs(step[0]) <= 1e-12 && fabs(step[1]) <= 1e-12) ||
					   slope <= 1e-20 * Max(fabs(f), 1.0) || stalls >= 3) &&
			fabs(theta[0]) <= SBG_THETA_FAR && fabs(theta[1]) <= SBG_THETA_FAR)
		{
			*llout = f / scale;
			return;
		}
		len = Max(fabs(step[0]), fabs(step[1]));
		if (len > 2.0)
		{
			step[0] *= 2.0 / len;
			step[1] *= 2.0 / len;
		}
		slope = g[0] * step[0] + g[1] * step[1];
		for (int k = 0; k < 60; k++)
		{
			double		tn[2] = {theta[0] + t * step[0], theta[1] + t * step[1]};
			double		gn[2],
						hn[2][2];
			double		fn;

			fn = sbg_loglik(data, tn, gn, hn) * scale;
			if (isfinite(fn) && fn >= f + 1e-4 * t * slope)
			{
				/* rounding noise in f and g: no measurable gain left */
				stalls = (fn - f <= 4 * DBL_EPSILON * fabs(f)) ? stalls + 1 : 0;
				theta[0] = tn[0];
				theta[1] = tn[1];
				f = fn;
				g[0] = gn[0];
				g[1] = gn[1];
				memcpy(h, hn, sizeof(h));
				break;
			}
			t *= 0.5;
			if (k == 59)
			{
				/* no ascent left along a Newton direction: at the optimum */
				if (newton && len <= 1e-8)
				{
					*llout = f / scale;
					return;
				}
				ereport(ERROR,
						(errcode(CS_ERRCODE_NOT_CONVERGED),
						 errmsg("sbg_fit: the maximum likelihood fit did not converge"),
						 errdetail("The line search found no better point near alpha = %g, beta = %g.",
								   exp(theta[0]), exp(theta[1]))));
			}
		}
		if (fabs(theta[0]) > SBG_THETA_LIMIT || fabs(theta[1]) > SBG_THETA_LIMIT ||
			(stalls >= 3 && (fabs(theta[0]) > SBG_THETA_FAR || fabs(theta[1]) > SBG_THETA_FAR)))
			sbg_no_optimum(psprintf("the estimate runs off to alpha = %g, beta = %g",
									exp(theta[0]), exp(theta[1])),
						   theta[0] > 0 && theta[1] > 0
						   ? "The churn rate does not fall with tenure, so the likelihood grows towards a constant churn rate (alpha and beta going to infinity with their ratio fixed): the cohort shows no heterogeneity to estimate."
						   : "The likelihood grows towards a boundary (alpha or beta going to 0): for instance customers who either churn at once or never.");
		if (!newton && stalls >= 3)
			ereport(ERROR,
					(errcode(CS_ERRCODE_NOT_CONVERGED),
					 errmsg("sbg_fit: the maximum likelihood fit did not converge"),
					 errdetail("The likelihood is flat near alpha = %g, beta = %g, so the data do not determine the parameters.",
							   exp(theta[0]), exp(theta[1]))));
	}
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("sbg_fit: the maximum likelihood fit did not converge in %d iterations", SBG_MAX_ITER),
			 errdetail("Last parameters: alpha = %g, beta = %g.", exp(theta[0]), exp(theta[1]))));
}

PG_FUNCTION_INFO_V1(sbg_fit);
Datum
sbg_fit(PG_FUNCTION_ARGS)
{
	SbgData		data;
	double		theta[2],
				ll,
				params[2];

	sbg_data_read(PG_GETARG_DATUM(0), &data);
	if (data.nruns == 0)
		PG_RETURN_NULL();		/* an empty summary: no customers, no model */
	sbg_start(&data, theta);
	sbg_maximize(&data, theta, &ll);
	params[0] = exp(theta[0]);
	params[1] = exp(theta[1]);
	if (!(data.customers < 9.2e18))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sbg_fit: the customer count is out of range, got %g", data.customers)));
	return pred_model_make(&sbg_model_type, params, ll, (int64) llround(data.customers));
}

/* ---------- projections ---------- */

static SbgModel *
sbg_fetch(Datum d)
{
	return pred_model_fetch(&sbg_model_type, d);
}

/* A whole number of periods, at least lo */
static double
sbg_periods(const char *fname, const char *what, double t, double lo)
{
	cs_require_finite(fname, what, t);
	if (!(t >= lo && t == floor(t)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must be a whole number of periods, at least %g, got %g",
						fname, what, lo, t)));
	return t;
}

/*
 * ln S(t) = ln B(alpha, beta+t) - ln B(alpha, beta)
 *         = sum_{k=1..t} ln((beta+k-1) / (alpha+beta+k-1))
 */
static double
sbg_log_survival(const SbgModel *m, double t)
{
	if (t <= SBG_SHORT_RUN)
	{
		double		s = 0.0;

		for (double k = 1; k <= t; k += 1.0)
			s += log1p(-m->alpha / (m->alpha + m->beta + k - 1.0));
		return s;
	}
	return pred_lgamma_diff(m->beta + t, m->alpha) - pred_lgamma_diff(m->beta, m->alpha);
}

PG_FUNCTION_INFO_V1(sbg_survival_at);
Datum
sbg_survival_at(PG_FUNCTION_ARGS)
{
	SbgModel   *m = sbg_fetch(PG_GETARG_DATUM(0));
	double		t = sbg_periods("sbg_survival_at", "t", PG_GETARG_FLOAT8(1), 0);

	PG_RETURN_FLOAT8(exp(sbg_log_survival(m, t)));
}

PG_FUNCTION_INFO_V1(sbg_retention_rate);
Datum
sbg_retention_rate(PG_FUNCTION_ARGS)
{
	SbgModel   *m = sbg_fetch(PG_GETARG_DATUM(0));
	double		t = sbg_periods("sbg_retention_rate", "t", PG_GETARG_FLOAT8(1), 1);

	PG_RETURN_FLOAT8((m->beta + t - 1.0) / (m->alpha + m->beta + t - 1.0));
}

/*
 * DERL (Fader & Hardie 2010, eq. 6): the expected discounted number of
 * further payments of a customer who has renewed n times,
 * (beta+n)/(alpha+beta+n) 2F1(1, beta+n+1; alpha+beta+n+1; 1/(1+d)).  At
 * d = 0 that is the expected residual lifetime, (beta+n)/(alpha-1) when
 * alpha > 1 and infinite otherwise.
 */
PG_FUNCTION_INFO_V1(sbg_derl);
Datum
sbg_derl(PG_FUNCTION_ARGS)
{
	SbgModel   *m = sbg_fetch(PG_GETARG_DATUM(0));
	double		d = PG_GETARG_FLOAT8(1);
	int32		n = PG_GETARG_INT32(2);
	double		bn;

	cs_require_nonnegative("sbg_derl", "discount_rate", d);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sbg_derl: renewals must not be negative, got %d", n)));
	bn = m->beta + n;
	if (d == 0)
	{
		if (m->alpha <= 1)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("sbg_derl: the undiscounted expected lifetime is infinite when alpha <= 1, got alpha = %g",
							m->alpha),
					 errhint("Use a positive discount_rate.")));
		PG_RETURN_FLOAT8(bn / (m->alpha - 1.0));
	}
	PG_RETURN_FLOAT8(bn / (m->alpha + bn) *
					 pred_hyp2f1(1.0, bn + 1.0, m->alpha + bn + 1.0, 1.0 / (1.0 + d)));
}
