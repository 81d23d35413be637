/*
 * churn_model.c
 *	  churn_model_fit(): logistic regression of churned on signals with an
 *	  intercept, fitted by maximum likelihood (Newton's method, i.e. IRLS,
 *	  with step halving); churn_probability() to apply it.  (auc() is
 *	  auc.c.)
 *
 * The fit needs several passes over the data, so the aggregate keeps the
 * rows it saw in an internal state (fit_state.h).
 */
#include "postgres.h"

#include <float.h>

#include "catalog/pg_type.h"
#include "cs_common.h"
#include "fit_state.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define CHURN_TYPE "churn_model"
#define CHURN_MAX_SIGNALS 100
#define CHURN_MAX_ITER 25		/* as R's glm.control(maxit = 25) */

/* ---------- churn_model_fit: the rows ---------- */

/*
 * The rows of the fit: for each, churned (0 or 1) then the k signals, in
 * rows.v; nsignals is fixed by the first usable row.
 */
typedef struct ChurnFitState
{
	CsInternalState hdr;		/* first: see cs_combine_internal_nulls() */
	int32		nsignals;
	DoubleBuf	rows;
} ChurnFitState;

#define FIT_STATE "churn_model_fit"

PG_FUNCTION_INFO_V1(churn_fit_accum);
Datum
churn_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	ChurnFitState *st = PG_ARGISNULL(0) ? NULL : (ChurnFitState *) PG_GETARG_POINTER(0);
	ArrayType  *signals;
	const double *v;
	int			k;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		goto done;
	signals = PG_GETARG_ARRAYTYPE_P(2);
	k = cs_signals_count(FIT_STATE, signals, CHURN_MAX_SIGNALS,
						 st != NULL ? st->nsignals : -1);
	/* a row with a NULL signal is left out, as avg() leaves out NULLs */
	if (ARR_HASNULL(signals))
		goto done;
	v = CS_ARR_DOUBLES(signals);
	cs_signals_finite(FIT_STATE, v, k);
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggctx, sizeof(ChurnFitState));
		st->nsignals = k;
	}
	fit_state_check_size("churn_model_fit", st->rows.n + k + 1);
	dbuf_reserve(aggctx, &st->rows, k + 1);
	st->rows.v[st->rows.n++] = PG_GETARG_BOOL(1) ? 1.0 : 0.0;
	memcpy(st->rows.v + st->rows.n, v, k * sizeof(double));
	st->rows.n += k;

done:
	if (st == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(churn_fit_combine);
Datum
churn_fit_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	ChurnFitState *a;
	ChurnFitState *b;
	Datum		result;

	if (cs_combine_internal_nulls(fcinfo, &result))
		return result;
	b = (ChurnFitState *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		a = MemoryContextAllocZero(aggctx, sizeof(ChurnFitState));
		a->nsignals = b->nsignals;
	}
	else if ((a = (ChurnFitState *) PG_GETARG_POINTER(0))->nsignals != b->nsignals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn_model_fit: every row must have the same number of signals, got %d and %d",
						a->nsignals, b->nsignals)));
	fit_state_check_size("churn_model_fit", a->rows.n + b->rows.n);
	dbuf_append(aggctx, &a->rows, &b->rows);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(churn_fit_serialize);
Datum
churn_fit_serialize(PG_FUNCTION_ARGS)
{
	ChurnFitState *st = (ChurnFitState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	cs_agg_context(fcinfo);
	fit_state_begin(&buf, st->rows.n);
	pq_sendint32(&buf, st->nsignals);
	pq_sendint64(&buf, st->rows.n / (st->nsignals + 1));
	dbuf_send(&buf, &st->rows);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(churn_fit_deserialize);
Datum
churn_fit_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	ChurnFitState *st;
	int64		nrows;
	MemoryContext old;

	cs_agg_context(fcinfo);
	fit_state_open(&buf, b, FIT_STATE);
	/* in a context of its own that the combine function adopts */
	old = MemoryContextSwitchTo(cs_state_context());
	st = palloc0(sizeof(ChurnFitState));
	st->hdr.owner = CurrentMemoryContext;
	st->nsignals = pq_getmsgint(&buf, 4);
	if (st->nsignals < 1 || st->nsignals > CHURN_MAX_SIGNALS)
		fit_state_fail(FIT_STATE, "Bad number of signals.");
	nrows = pq_getmsgint64(&buf);
	if (nrows < 0 || nrows > (int64) (buf.len / sizeof(double)) / (st->nsignals + 1))
		fit_state_fail(FIT_STATE, "The row count does not match the data.");
	dbuf_recv(&buf, &st->rows, nrows * (st->nsignals + 1), FIT_STATE);
	pq_getmsgend(&buf);
	for (int64 i = 0; i < nrows; i++)
	{
		double		y = st->rows.v[i * (st->nsignals + 1)];

		if (y != 0.0 && y != 1.0)
			fit_state_fail(FIT_STATE, "Outcomes must be 0 or 1.");
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* ---------- the model type ---------- */

/* coef[ncoef] then std_errors[ncoef] */
typedef struct ChurnModel
{
	CS_SUMMARY_HEADER;
	int32		ncoef;
	int32		iterations;
	int64		rows;
	int64		churned;
	double		loglik;
	double		coef[FLEXIBLE_ARRAY_MEMBER];
} ChurnModel;

#define MODEL_BYTES(p)	(offsetof(ChurnModel, coef) + 2 * sizeof(double) * (Size) (p))
#define MODEL_SE(m)		((m)->coef + (m)->ncoef)

static ChurnModel *
model_alloc(int p)
{
	ChurnModel *m = palloc0(MODEL_BYTES(p));

	SET_VARSIZE(m, MODEL_BYTES(p));
	m->version = CS_SUMMARY_VERSION;
	m->ncoef = p;
	return m;
}

static Size
model_size_of(const void *s)
{
	const ChurnModel *m = s;

	if (m->ncoef < 2 || m->ncoef > CHURN_MAX_SIGNALS + 1)
		return 0;
	return MODEL_BYTES(m->ncoef);
}

static const CsSummaryType churn_model_type = {
	CHURN_TYPE, offsetof(ChurnModel, coef), model_size_of
};

static ChurnModel *
model_fetch(Datum d)
{
	return cs_summary_fetch(&churn_model_type, d);
}

static void
model_validate(CsParse *ps, const ChurnModel *m)
{
	for (int j = 0; j < 2 * m->ncoef; j++)
		if (!isfinite(m->coef[j]))
			cs_parse_fail(ps, "Coefficients and standard errors must be finite.");
	for (int j = 0; j < m->ncoef; j++)
		if (MODEL_SE(m)[j] < 0)
			cs_parse_fail(ps, "Standard errors must not be negative.");
	cs_check_count(ps, "row count", m->rows);
	cs_check_count(ps, "churned count", m->churned);
	if (m->churned > m->rows)
		cs_parse_fail(ps, "The churned count must not exceed the row count.");
	if (!isfinite(m->loglik) || m->loglik > 0)
		cs_parse_fail(ps, "The log-likelihood must be finite and not positive.");
	if (m->iterations < 0)
		cs_parse_fail(ps, "The iteration count must not be negative.");
}

/* ---------- the fit ---------- */

static inline double
log1pexp(double eta)
{
	return eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta));
}

static inline double
sigmoid(double eta)
{
	double		e;

	if (eta >= 0)
		return 1.0 / (1.0 + exp(-eta));
	e = exp(eta);
	return e / (1.0 + e);
}

/*
 * One pass over the rows: the log-likelihood at beta, and when grad is not
 * NULL also its gradient and the negated Hessian X'WX (full p x p).
 */
static double
churn_pass(const ChurnFitState *st, const double *beta, double *grad, double *hess)
{
	int			k = st->nsignals;
	int			p = k + 1;
	int64		nrows = st->rows.n / p;
	double		ll = 0.0;
	double		x[CHURN_MAX_SIGNALS + 1];

	if (grad)
	{
		memset(grad, 0, sizeof(double) * p);
		memset(hess, 0, sizeof(double) * p * p);
	}
	x[0] = 1.0;
	for (int64 i = 0; i < nrows; i++)
	{
		const double *row = st->rows.v + i * p;
		double		y = row[0];
		double		eta = beta[0];
		double		mu,
					w;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int j = 1; j < p; j++)
		{
			x[j] = row[j];
			eta += beta[j] * x[j];
		}
		ll += y * eta - log1pexp(eta);
		if (!grad)
			continue;
		mu = sigmoid(eta);
		w = mu * (1.0 - mu);
		for (int a = 0; a < p; a++)
		{
			grad[a] += (y - mu) * x[a];
			for (int b = 0; b <= a; b++)
				hess[a * p + b] += w * x[a] * x[b];
		}
	}
	if (grad)
		for (int a = 0; a < p; a++)
			for (int b = a + 1; b < p; b++)
				hess[a * p + b] = hess[b * p + a];
	return ll;
}

/*
 * Cholesky factorization (cs_cholesky) in place of a symmetric positive
 * definite matrix, after scaling it to unit diagonal so that the pivot test
 * does not depend on the units of the signals.  scale[] receives the
 * scaling.  Returns -1, or the index of the first pivot that is not clearly
 * positive.
 */
static int
cholesky(double *a, int p, double *scale)
{
	for (int j = 0; j < p; j++)
	{
		if (!(a[j * p + j] > 0) || !isfinite(a[j * p + j]))
			return j;
		scale[j] = 1.0 / sqrt(a[j * p + j]);
	}
	for (int i = 0; i < p; i++)
		for (int j = 0; j < p; j++)
			a[i * p + j] *= scale[i] * scale[j];
	return cs_cholesky(a, p, 1e-12);
}

/* Solve (S^-1 L L' S^-1) x = b for x, with L and S from cholesky() */
static void
cholesky_solve(const double *l, const double *scale, int p, const double *b, double *x)
{
	for (int i = 0; i < p; i++)
		x[i] = b[i] * scale[i];
	cs_cholesky_solve(l, p, x, x);
	for (int i = 0; i < p; i++)
		x[i] *= scale[i];
}

static void
churn_separation(void)
{
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("churn_model_fit: the fit did not converge: the signals separate churned from retained rows, so no finite maximum-likelihood fit exists"),
			 errdetail("The likelihood keeps growing as the coefficients go to infinity (perfect or quasi-perfect separation)."),
			 errhint("Leave out or coarsen the signal that predicts churn perfectly, or fit on more rows.")));
}

/*
 * Newton's method on this concave likelihood converges in a handful of
 * iterations unless the MLE is at infinity: then some linear predictors
 * grow without bound.  Tell the two apart for the error message.
 */
static void
churn_no_convergence(const ChurnFitState *st, const double *beta)
{
	int			p = st->nsignals + 1;
	int64		nrows = st->rows.n / p;
	double		max_eta = 0.0;

	for (int64 i = 0; i < nrows; i++)
	{
		const double *row = st->rows.v + i * p;
		double		eta = beta[0];

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int j = 1; j < p; j++)
			eta += beta[j] * row[j];
		max_eta = Max(max_eta, fabs(eta));
	}
	if (max_eta > 15.0)
		churn_separation();
	ereport(ERROR,
			(errcode(CS_ERRCODE_NOT_CONVERGED),
			 errmsg("churn_model_fit: the fit did not converge in %d Newton iterations", CHURN_MAX_ITER),
			 errhint("Rescale the signals to comparable ranges, e.g. with health_scale().")));
}

static ChurnModel *
churn_fit(const ChurnFitState *st)
{
	int			p = st->nsignals + 1;
	int64		nrows = st->rows.n / p;
	int64		churned = 0;
	double		beta[CHURN_MAX_SIGNALS + 1] = {0};
	double		trial[CHURN_MAX_SIGNALS + 1];
	double		grad[CHURN_MAX_SIGNALS + 1];
	double		step[CHURN_MAX_SIGNALS + 1];
	double		scale[CHURN_MAX_SIGNALS + 1];
	double	   *hess = palloc(sizeof(double) * p * p);
	double		ll;
	int			iter;
	int			bad;
	ChurnModel *m;

	for (int64 i = 0; i < nrows; i++)
		churned += st->rows.v[i * p] != 0.0;
	if (churned == 0 || churned == nrows)
		return NULL;

	/* X'X itself must be positive definite: else the design is singular */
	{
		double		zero[CHURN_MAX_SIGNALS + 1] = {0};

		churn_pass(st, zero, grad, hess);	/* at beta = 0, W = 1/4 */
		bad = cholesky(hess, p, scale);
		if (bad >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("churn_model_fit: the signals are collinear (singular design): signal %d is constant or a linear combination of the others",
							bad == 0 ? 1 : bad),
					 errhint("Leave out the redundant signal.")));
	}

	ll = churn_pass(st, beta, grad, hess);
	for (iter = 1;; iter++)
	{
		double		t = 1.0;
		double		ll_new;
		double		change = 0.0;

		CHECK_FOR_INTERRUPTS();
		if (iter > CHURN_MAX_ITER)
			churn_no_convergence(st, beta);
		if (cholesky(hess, p, scale) >= 0)
			churn_separation();	/* X'X is fine, so the weights vanished */
		cholesky_solve(hess, scale, p, grad, step);

		/* step halving: never accept a lower likelihood */
		for (;;)
		{
			for (int j = 0; j < p; j++)
				trial[j] = beta[j] + t * step[j];
			ll_new = churn_pass(st, trial, NULL, NULL);
			if (ll_new >= ll - 1e-12 * fabs(ll) || t < 1e-10)
				break;
			t /= 2;
		}
		for (int j = 0; j < p; j++)
		{
			change = Max(change, fabs(trial[j] - beta[j]) / (1.0 + fabs(trial[j])));
			beta[j] = trial[j];
		}
		ll = churn_pass(st, beta, grad, hess);
		/* a likelihood of 1: every row fitted exactly, complete separation */
		if (!isfinite(ll) || ll > -1e-9)
			churn_separation();
		if (change < 1e-10 || t < 1e-10)
			break;
	}

	/* standard errors: square roots of the diagonal of (X'WX)^-1 */
	m = model_alloc(p);
	if (cholesky(hess, p, scale) >= 0)
		churn_separation();
	for (int j = 0; j < p; j++)
	{
		double		e[CHURN_MAX_SIGNALS + 1] = {0};
		double		col[CHURN_MAX_SIGNALS + 1];

		e[j] = 1.0;
		cholesky_solve(hess, scale, p, e, col);
		MODEL_SE(m)[j] = sqrt(Max(col[j], 0.0));
	}
	for (int j = 0; j < p; j++)	/* (gcc 16 warns falsely on a memcpy here) */
		m->coef[j] = beta[j];
	m->iterations = iter;
	m->rows = nrows;
	m->churned = churned;
	m->loglik = ll;
	for (int j = 0; j < 2 * p; j++)
		if (!isfinite(m->coef[j]))
			churn_separation();
	pfree(hess);
	return m;
}

PG_FUNCTION_INFO_V1(churn_fit_final);
Datum
churn_fit_final(PG_FUNCTION_ARGS)
{
	ChurnModel *m;

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	m = churn_fit((ChurnFitState *) PG_GETARG_POINTER(0));
	if (m == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(m);
}

/* ---------- model accessors ---------- */

static ArrayType *
double_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return construct_array(d, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

PG_FUNCTION_INFO_V1(churn_model_coefficients);
Datum
churn_model_coefficients(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_ARRAYTYPE_P(double_array(m->coef, m->ncoef));
}

PG_FUNCTION_INFO_V1(churn_model_std_errors);
Datum
churn_model_std_errors(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_ARRAYTYPE_P(double_array(MODEL_SE(m), m->ncoef));
}

PG_FUNCTION_INFO_V1(churn_probability);
Datum
churn_probability(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));
	ArrayType  *signals = PG_GETARG_ARRAYTYPE_P(1);
	int			k = ARR_NDIM(signals) == 1 ? ARR_DIMS(signals)[0] : 0;
	const double *v;
	double		eta;

	if (ARR_NDIM(signals) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn_probability: signals must be a one-dimensional array, got %d dimensions",
						ARR_NDIM(signals))));
	if (k != m->ncoef - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn_probability: the model takes %d signals, got %d",
						m->ncoef - 1, k)));
	if (ARR_HASNULL(signals))
		PG_RETURN_NULL();
	v = CS_ARR_DOUBLES(signals);
	eta = m->coef[0];
	for (int j = 0; j < k; j++)
	{
		cs_require_finite("churn_probability", "signal", v[j]);
		eta += m->coef[j + 1] * v[j];
	}
	PG_RETURN_FLOAT8(sigmoid(eta));
}

/* ---------- model fit statistics ---------- */

/*
 * Everything below is derived from what every churn_model has held since
 * 1.0 (rows, churned, log_likelihood and the number of coefficients), so
 * models stored by 1.0 and 1.1 give the same answers as new fits.
 */

/*
 * The log-likelihood of the intercept-only model, in closed form: its MLE
 * predicts the churn rate r = churned / rows for every row, so it is
 * churned log r + retained log(1 - r).  False when one class is missing
 * (no finite intercept-only fit; churn_model_fit() returns NULL there, so
 * only a hand-written model can have it).
 */
static bool
churn_null_loglik(const ChurnModel *m, double *llnull)
{
	double		n = (double) m->rows;
	double		n1 = (double) m->churned;
	double		n0 = n - n1;

	if (m->churned <= 0 || m->churned >= m->rows)
		return false;
	/* log1p for the log of the larger share, which is near 0 */
	if (n1 <= n0)
		*llnull = n1 * log(n1 / n) + n0 * log1p(-n1 / n);
	else
		*llnull = n1 * log1p(-n0 / n) + n0 * log(n0 / n);
	return true;
}

PG_FUNCTION_INFO_V1(churn_model_log_likelihood);
Datum
churn_model_log_likelihood(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_FLOAT8(m->loglik);
}

PG_FUNCTION_INFO_V1(churn_model_null_log_likelihood);
Datum
churn_model_null_log_likelihood(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));
	double		llnull;

	if (!churn_null_loglik(m, &llnull))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(llnull);
}

/*
 * Likelihood-ratio test of all signals against the intercept-only model:
 * 2 (llf - llnull) is chi-square with (number of signals) degrees of
 * freedom under the null, as statsmodels' llr_pvalue.
 */
PG_FUNCTION_INFO_V1(churn_model_lr_p_value);
Datum
churn_model_lr_p_value(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));
	double		llnull;

	if (!churn_null_loglik(m, &llnull))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(cs_chisq_upper_tail(2.0 * (m->loglik - llnull), m->ncoef - 1));
}

/* McFadden's pseudo-R^2, 1 - llf / llnull, as statsmodels' prsquared */
PG_FUNCTION_INFO_V1(churn_model_pseudo_r2);
Datum
churn_model_pseudo_r2(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));
	double		llnull;

	if (!churn_null_loglik(m, &llnull))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(1.0 - m->loglik / llnull);
}

/* ---------- churn_model I/O ---------- */

static void
parse_double_list(CsParse *ps, const char *key, double *v, int max, int *n)
{
	int			count = 0;

	cs_parse_key(ps, key);
	cs_parse_char(ps, '{');
	do
	{
		if (count == max)
			cs_parse_fail(ps, "Too many values for \"%s\".", key);
		v[count++] = cs_parse_double(ps);
	} while (cs_parse_peek(ps, ','));
	cs_parse_char(ps, '}');
	*n = count;
}

PG_FUNCTION_INFO_V1(churn_model_in);
Datum
churn_model_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	double		coef[CHURN_MAX_SIGNALS + 1];
	double		se[CHURN_MAX_SIGNALS + 1];
	int			p,
				nse;
	int64		iterations;
	ChurnModel *m;
	CsParse		ps;

	cs_parse_init_text(&ps, CHURN_TYPE, text);
	cs_parse_version(&ps);
	parse_double_list(&ps, "coefficients", coef, CHURN_MAX_SIGNALS + 1, &p);
	parse_double_list(&ps, "std_errors", se, CHURN_MAX_SIGNALS + 1, &nse);
	if (p < 2)
		cs_parse_fail(&ps, "A model has an intercept and at least one signal coefficient.");
	if (nse != p)
		cs_parse_fail(&ps, "There must be as many standard errors as coefficients.");
	m = model_alloc(p);
	memcpy(m->coef, coef, sizeof(double) * p);
	memcpy(MODEL_SE(m), se, sizeof(double) * p);
	cs_parse_key(&ps, "rows");
	m->rows = cs_parse_int64(&ps);
	cs_parse_key(&ps, "churned");
	m->churned = cs_parse_int64(&ps);
	cs_parse_key(&ps, "log_likelihood");
	m->loglik = cs_parse_double(&ps);
	cs_parse_key(&ps, "iterations");
	iterations = cs_parse_int64(&ps);
	if (iterations < 0 || iterations > PG_INT32_MAX)
		cs_parse_fail(&ps, "The iteration count is out of range.");
	m->iterations = (int32) iterations;
	cs_parse_end(&ps);
	model_validate(&ps, m);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(churn_model_out);
Datum
churn_model_out(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d coefficients={", CS_SUMMARY_VERSION);
	for (int j = 0; j < m->ncoef; j++)
	{
		if (j > 0)
			appendStringInfoChar(&buf, ',');
		cs_append_double(&buf, m->coef[j]);
	}
	appendStringInfoString(&buf, "} std_errors={");
	for (int j = 0; j < m->ncoef; j++)
	{
		if (j > 0)
			appendStringInfoChar(&buf, ',');
		cs_append_double(&buf, MODEL_SE(m)[j]);
	}
	appendStringInfo(&buf, "} rows=" INT64_FORMAT " churned=" INT64_FORMAT " log_likelihood=",
					 m->rows, m->churned);
	cs_append_double(&buf, m->loglik);
	appendStringInfo(&buf, " iterations=%d", m->iterations);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(churn_model_recv);
Datum
churn_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	ChurnModel *m;
	CsParse		ps;
	int			p;

	cs_parse_init_binary(&ps, CHURN_TYPE);
	cs_recv_version(&ps, buf);
	p = pq_getmsgint(buf, 4);
	if (p < 2 || p > CHURN_MAX_SIGNALS + 1)
		cs_parse_fail(&ps, "The number of coefficients must be between 2 and %d, got %d.",
					  CHURN_MAX_SIGNALS + 1, p);
	m = model_alloc(p);
	m->iterations = pq_getmsgint(buf, 4);
	m->rows = pq_getmsgint64(buf);
	m->churned = pq_getmsgint64(buf);
	m->loglik = pq_getmsgfloat8(buf);
	for (int j = 0; j < 2 * p; j++)
		m->coef[j] = pq_getmsgfloat8(buf);
	pq_getmsgend(buf);
	model_validate(&ps, m);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(churn_model_send);
Datum
churn_model_send(PG_FUNCTION_ARGS)
{
	ChurnModel *m = model_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendint32(&buf, m->ncoef);
	pq_sendint32(&buf, m->iterations);
	pq_sendint64(&buf, m->rows);
	pq_sendint64(&buf, m->churned);
	pq_sendfloat8(&buf, m->loglik);
	for (int j = 0; j < 2 * m->ncoef; j++)
		pq_sendfloat8(&buf, m->coef[j]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

