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

/* funcapi.h pulls in headers that -Wextra finds unused parameters in */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "funcapi.h"
#pragma GCC diagnostic pop
#include "libpq/pqformat.h"
#include "predictive.h"
#include "utils/builtins.h"

static const char *const gg_names[] = {"p", "q", "v"};

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

PG_FUNCTION_INFO_V1(gamma_gamma_fit_deserialize);
Datum
gamma_gamma_fit_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);

	PG_RETURN_POINTER(fit_table_deserialize(PG_GETARG_BYTEA_PP(0), aggctx,
											"gamma_gamma_fit state", gg_check_point));
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
static void
gg_data_build(GgData *d, const FitPoint *pts, int64 n, int64 stride)
{
	int64		np = (n + stride - 1) / stride;
	int64		k = 0;

	memset(d, 0, sizeof(*d));
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
}

static Datum
gg_model_datum(double p, double q, double v, double ll, int64 customers)
{
	GammaGammaModel *m = palloc0(sizeof(GammaGammaModel));

	SET_VARSIZE(m, sizeof(GammaGammaModel));
	m->version = CS_SUMMARY_VERSION;
	m->p = p;
	m->q = q;
	m->v = v;
	m->ll = ll;
	m->customers = customers;
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(gamma_gamma_fit_final);
Datum
gamma_gamma_fit_final(PG_FUNCTION_ARGS)
{
	FitTable   *t;
	FitPoint   *pts;
	GgData		d,
				coarse;
	double		theta[3];
	CsSum		sm = {0, 0};

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (FitTable *) PG_GETARG_POINTER(0);
	if (t->n == 0)
		PG_RETURN_NULL();

	pts = fit_table_sorted(t);
	gg_data_build(&d, pts, t->n, 1);
	if (t->n > PRED_COARSE_POINTS)
		gg_data_build(&coarse, pts, t->n, (t->n + PRED_COARSE_POINTS - 1) / PRED_COARSE_POINTS);
	for (int64 i = 0; i < t->n; i++)
		cs_sum_add(&sm, (double) pts[i].w * pts[i].y);
	pfree(pts);

	/* start: p = 1, q = 2, v = mean spend, so that p v / (q - 1) = mean */
	theta[0] = 0.0;
	theta[1] = log(2.0);
	theta[2] = log(cs_sum_value(&sm) / d.customers);
	pred_minimize(gg_objective, &d, t->n > PRED_COARSE_POINTS ? &coarse : NULL,
				  3, theta, "gamma_gamma_fit", gg_names);
	gg_objective(theta, NULL, &d);

	return gg_model_datum(exp(theta[0]), exp(theta[1]), exp(theta[2]), d.ll, t->customers);
}

/* ---------- model type ---------- */

static void
gg_model_validate(CsParse *ps, const GammaGammaModel *m)
{
	if (!(m->p > 0) || !(m->q > 0) || !(m->v > 0) ||
		!isfinite(m->p) || !isfinite(m->q) || !isfinite(m->v))
		cs_parse_fail(ps, "The parameters p, q and v must be positive and finite.");
	if (!isfinite(m->ll))
		cs_parse_fail(ps, "The log-likelihood must be finite.");
	cs_check_count(ps, "customer count", m->customers);
}

GammaGammaModel *
gamma_gamma_fetch(Datum d)
{
	GammaGammaModel *m = cs_fetch_summary(d, "gamma_gamma_model", sizeof(GammaGammaModel));

	if (VARSIZE(m) != sizeof(GammaGammaModel))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupted gamma_gamma_model value")));
	return m;
}

PG_FUNCTION_INFO_V1(gamma_gamma_model_in);
Datum
gamma_gamma_model_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	GammaGammaModel *m = palloc0(sizeof(GammaGammaModel));
	CsParse		ps;

	SET_VARSIZE(m, sizeof(GammaGammaModel));
	m->version = CS_SUMMARY_VERSION;
	cs_parse_init_text(&ps, "gamma_gamma_model", text);
	cs_parse_version(&ps);
	cs_parse_key(&ps, "p");
	m->p = cs_parse_double(&ps);
	cs_parse_key(&ps, "q");
	m->q = cs_parse_double(&ps);
	cs_parse_key(&ps, "v");
	m->v = cs_parse_double(&ps);
	cs_parse_key(&ps, "log_likelihood");
	m->ll = cs_parse_double(&ps);
	cs_parse_key(&ps, "customers");
	m->customers = cs_parse_int64(&ps);
	cs_parse_end(&ps);
	gg_model_validate(&ps, m);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(gamma_gamma_model_out);
Datum
gamma_gamma_model_out(PG_FUNCTION_ARGS)
{
	GammaGammaModel *m = gamma_gamma_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d p=", CS_SUMMARY_VERSION);
	cs_append_double(&buf, m->p);
	appendStringInfoString(&buf, " q=");
	cs_append_double(&buf, m->q);
	appendStringInfoString(&buf, " v=");
	cs_append_double(&buf, m->v);
	appendStringInfoString(&buf, " log_likelihood=");
	cs_append_double(&buf, m->ll);
	appendStringInfo(&buf, " customers=" INT64_FORMAT, m->customers);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(gamma_gamma_model_recv);
Datum
gamma_gamma_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	GammaGammaModel *m = palloc0(sizeof(GammaGammaModel));
	CsParse		ps;

	SET_VARSIZE(m, sizeof(GammaGammaModel));
	m->version = CS_SUMMARY_VERSION;
	cs_parse_init_binary(&ps, "gamma_gamma_model");
	cs_recv_version(&ps, buf);
	m->p = pq_getmsgfloat8(buf);
	m->q = pq_getmsgfloat8(buf);
	m->v = pq_getmsgfloat8(buf);
	m->ll = pq_getmsgfloat8(buf);
	m->customers = pq_getmsgint64(buf);
	pq_getmsgend(buf);
	gg_model_validate(&ps, m);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(gamma_gamma_model_send);
Datum
gamma_gamma_model_send(PG_FUNCTION_ARGS)
{
	GammaGammaModel *m = gamma_gamma_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendfloat8(&buf, m->p);
	pq_sendfloat8(&buf, m->q);
	pq_sendfloat8(&buf, m->v);
	pq_sendfloat8(&buf, m->ll);
	pq_sendint64(&buf, m->customers);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(gamma_gamma_params);
Datum
gamma_gamma_params(PG_FUNCTION_ARGS)
{
	GammaGammaModel *m = gamma_gamma_fetch(PG_GETARG_DATUM(0));
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gamma_gamma_params must return a record");
	desc = BlessTupleDesc(desc);
	values[0] = Float8GetDatum(m->p);
	values[1] = Float8GetDatum(m->q);
	values[2] = Float8GetDatum(m->v);
	values[3] = Float8GetDatum(m->ll);
	values[4] = Int64GetDatum(m->customers);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * E[M | x, m] = (p (v + x m)) / (p x + q - 1): the posterior mean of the
 * customer's mean spend, a weighted average of the population mean
 * p v / (q - 1) and the customer's own mean m.
 */
double
gamma_gamma_spend(const GammaGammaModel *g, double x, double mv, const char *fname)
{
	double		den;

	pred_frequency(fname, x);
	cs_require_nonnegative(fname, "monetary_value", mv);
	den = g->p * x + g->q - 1.0;
	if (!(den > 0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: the expected spend is infinite for this model and frequency", fname),
				 errdetail("p * frequency + q - 1 = %g is not positive.", den)));
	return g->p * (g->v + x * mv) / den;
}

PG_FUNCTION_INFO_V1(gamma_gamma_expected_spend);
Datum
gamma_gamma_expected_spend(PG_FUNCTION_ARGS)
{
	GammaGammaModel *g = gamma_gamma_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_FLOAT8(gamma_gamma_spend(g, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
									   "gamma_gamma_expected_spend"));
}
