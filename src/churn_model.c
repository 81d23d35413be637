/*
 * churn_model.c
 *	  churn_model_fit(): logistic regression of churned on signals with an
 *	  intercept, fitted by maximum likelihood (Newton's method, i.e. IRLS,
 *	  with step halving); churn_probability() to apply it; and auc(), the
 *	  exact ROC AUC with ties counting half.
 *
 * Both aggregates keep the rows they saw in an internal state, since the
 * fit needs several passes over the data and the AUC a sort: the state is
 * a flat array of doubles grown by doubling, serialized for parallel query
 * (version byte, counts, values; every value validated when read back).
 */
#include "postgres.h"

#include <float.h>

#include "catalog/pg_type.h"
#include "cs_common.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define CHURN_TYPE "churn_model"
#define CHURN_MAX_SIGNALS 100
#define CHURN_MAX_ITER 25		/* as R's glm.control(maxit = 25) */
#define STATE_VERSION 1

/* ---------- the size limit of a state ---------- */

/*
 * The most doubles one state may hold: its serialized form must stay below
 * MaxAllocSize (1 GB) to pass between parallel workers, so the transition
 * and combine functions refuse a state that would grow past it, and a
 * serial plan refuses the same inputs as a parallel one.  The setting
 * customer_success.state_max_values can only lower it (for tests).
 */
#define STATE_MAX_VALUES ((int) ((MaxAllocSize - 64) / sizeof(double)))

static int	state_max_values = STATE_MAX_VALUES;

void
churn_model_init(void)
{
	DefineCustomIntVariable("customer_success.state_max_values",
							"Most values (8 bytes each) a churn_model_fit() or auc() state may hold.",
							"Only lowers the built-in limit, which keeps a state passable between parallel workers (1 GB).",
							&state_max_values, STATE_MAX_VALUES, 1, STATE_MAX_VALUES,
							PGC_USERSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
}

/*
 * The limit as it stands, for the other fitting aggregates whose rows share
 * it (cox_fit in src/cox.c).
 */
int
cs_state_max_values(void)
{
	return state_max_values;
}

static pg_noinline void
state_too_large(const char *fname)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s: too many rows for one aggregate state", fname),
			 errdetail("A state holds at most %d values of 8 bytes (%s: %s per row).",
					   state_max_values, fname,
					   strncmp(fname, "auc", 3) == 0 ? "one" : "one plus one per signal"),
			 errhint("Aggregate a random sample of the rows (TABLESAMPLE), or smaller groups.")));
}

/* Refuses a state of more than state_max_values doubles */
static inline void
state_check_size(const char *fname, int64 nvalues)
{
	if (unlikely(nvalues > state_max_values))
		state_too_large(fname);
}

/* ---------- a growable array of doubles ---------- */

typedef struct DoubleBuf
{
	double	   *v;
	int64		n;
	int64		cap;
} DoubleBuf;

/* Room for more values; the caller has checked the state's size */
static void
dbuf_reserve(MemoryContext ctx, DoubleBuf *b, int64 more)
{
	int64		need = b->n + more;

	if (need <= b->cap)
		return;
	/* small at first: one state per group */
	b->cap = Min(Max(Max(b->cap * 2, need), 8), Max(need, STATE_MAX_VALUES));
	if (b->v == NULL)
		b->v = MemoryContextAllocHuge(ctx, b->cap * sizeof(double));
	else
		b->v = repalloc_huge(b->v, b->cap * sizeof(double));
}

static inline void
dbuf_push(MemoryContext ctx, DoubleBuf *b, double x)
{
	if (unlikely(b->n == b->cap))
		dbuf_reserve(ctx, b, 1);
	b->v[b->n++] = x;
}

static void
dbuf_append(MemoryContext ctx, DoubleBuf *b, const DoubleBuf *from)
{
	if (from->n == 0)
		return;
	dbuf_reserve(ctx, b, from->n);
	memcpy(b->v + b->n, from->v, from->n * sizeof(double));
	b->n += from->n;
}

static void
state_fail(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid serialized %s state", what),
			 errdetail("%s", detail)));
}

/*
 * Starts the serialized form of a state holding nvalues doubles, which the
 * transition and combine functions kept below the limit of a serialized
 * value.
 */
static void
state_begin(StringInfo buf, int64 nvalues)
{
	if (nvalues > STATE_MAX_VALUES)
		elog(ERROR, "state of " INT64_FORMAT " values past the limit", nvalues);
	pq_begintypsend(buf);
	pq_sendbyte(buf, STATE_VERSION);
}

/* Reads a serialized state: buf over b, its version checked */
static void
state_open(StringInfo buf, bytea *b, const char *what)
{
	buf->data = VARDATA_ANY(b);
	buf->len = VARSIZE_ANY_EXHDR(b);
	buf->maxlen = buf->len;
	buf->cursor = 0;
	if (pq_getmsgbyte(buf) != STATE_VERSION)
		state_fail(what, "Unsupported version.");
}

static void
dbuf_send(StringInfo buf, const DoubleBuf *b)
{
	for (int64 i = 0; i < b->n; i++)
		pq_sendfloat8(buf, b->v[i]);
}

static void
dbuf_recv(StringInfo buf, DoubleBuf *b, int64 n, const char *what)
{
	if (n < 0 || n > (int64) (buf->len - buf->cursor) / (int64) sizeof(double))
		state_fail(what, "The value count does not match the data.");
	b->v = NULL;
	b->n = b->cap = 0;
	if (n == 0)
		return;
	dbuf_reserve(CurrentMemoryContext, b, n);
	for (int64 i = 0; i < n; i++)
	{
		double		x = pq_getmsgfloat8(buf);

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		if (!isfinite(x))
			state_fail(what, "Values must be finite.");
		b->v[i] = x;
	}
	b->n = n;
}

/* ---------- churn_model_fit: the rows ---------- */

/*
 * The rows of the fit: for each, churned (0 or 1) then the k signals, in
 * rows.v; nsignals is fixed by the first usable row.
 */
typedef struct ChurnFitState
{
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
	if (ARR_NDIM(signals) > 1 || ARR_ELEMTYPE(signals) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn_model_fit: signals must be a one-dimensional double precision array, got %d dimensions",
						ARR_NDIM(signals))));
	k = ARR_NDIM(signals) == 1 ? ARR_DIMS(signals)[0] : 0;
	if (k < 1 || k > CHURN_MAX_SIGNALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn_model_fit: signals must have between 1 and %d elements, got %d",
						CHURN_MAX_SIGNALS, k)));
	if (st != NULL && k != st->nsignals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn_model_fit: every row must have the same number of signals, got %d and %d",
						st->nsignals, k)));
	/* a row with a NULL signal is left out, as avg() leaves out NULLs */
	if (ARR_HASNULL(signals))
		goto done;
	v = CS_ARR_DOUBLES(signals);
	for (int j = 0; j < k; j++)
		if (unlikely(!isfinite(v[j])))
			ereport(ERROR,
					(errcode(isnan(v[j]) ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("churn_model_fit: signal %d must be finite, got %g", j + 1, v[j])));
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggctx, sizeof(ChurnFitState));
		st->nsignals = k;
	}
	state_check_size("churn_model_fit", st->rows.n + k + 1);
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
	state_check_size("churn_model_fit", a->rows.n + b->rows.n);
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
	state_begin(&buf, st->rows.n);
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
	state_open(&buf, b, FIT_STATE);
	/* in a context of its own that the combine function adopts */
	old = MemoryContextSwitchTo(cs_state_context());
	st = palloc0(sizeof(ChurnFitState));
	st->nsignals = pq_getmsgint(&buf, 4);
	if (st->nsignals < 1 || st->nsignals > CHURN_MAX_SIGNALS)
		state_fail(FIT_STATE, "Bad number of signals.");
	nrows = pq_getmsgint64(&buf);
	if (nrows < 0 || nrows > (int64) (buf.len / sizeof(double)) / (st->nsignals + 1))
		state_fail(FIT_STATE, "The row count does not match the data.");
	dbuf_recv(&buf, &st->rows, nrows * (st->nsignals + 1), FIT_STATE);
	pq_getmsgend(&buf);
	for (int64 i = 0; i < nrows; i++)
	{
		double		y = st->rows.v[i * (st->nsignals + 1)];

		if (y != 0.0 && y != 1.0)
			state_fail(FIT_STATE, "Outcomes must be 0 or 1.");
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

/* ---------- auc ---------- */

/*
 * Scores of the rows with outcome true (pos) and false (neg).  One state
 * serves auc() and the two-argument auc_lower/auc_upper (confidence 0: the
 * 95% forms, which share auc()'s state, so that auc(), auc_lower() and
 * auc_upper() over the same columns in one query keep one state) and the
 * three-argument forms (the confidence level, the same on every row).
 */
typedef struct AucState
{
	DoubleBuf	pos;
	DoubleBuf	neg;
	double		confidence;
} AucState;

#define AUC_STATE "auc"

/* exact pair counts where the compiler has 128-bit integers */
#ifdef PG_INT128_TYPE
typedef uint128 AucPairs;
#else
typedef long double AucPairs;
#endif

#define ST_SORT auc_sort_doubles
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * Name of the aggregate being run, for error messages (looked up only when
 * one is raised): the support functions serve auc(), auc_lower() and
 * auc_upper().
 */
static const char *
auc_fname(FunctionCallInfo fcinfo, const char *fallback)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	char	   *name = aggref ? get_func_name(aggref->aggfnoid) : NULL;

	return name ? name : fallback;
}

pg_noreturn static void
auc_confidence_mismatch(FunctionCallInfo fcinfo, double a, double b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: confidence must be the same on every row, got %g and %g",
					auc_fname(fcinfo, "auc_lower"), a, b)));
}

/*
 * Transition: one score under its outcome; with_confidence for the
 * three-argument forms, whose fourth argument is the confidence level.
 */
static Datum
auc_push(FunctionCallInfo fcinfo, bool with_confidence)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	AucState   *st = PG_ARGISNULL(0) ? NULL : (AucState *) PG_GETARG_POINTER(0);
	double		score,
				confidence = 0.0;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || (with_confidence && PG_ARGISNULL(3)))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	score = PG_GETARG_FLOAT8(1);
	if (unlikely(!isfinite(score)))
		cs_require_finite(auc_fname(fcinfo, "auc"), "score", score);
	if (with_confidence)
		confidence = PG_GETARG_FLOAT8(3);
	if (st == NULL)
	{
		if (with_confidence)
			cs_confidence_z(auc_fname(fcinfo, "auc_lower"), confidence);
		st = MemoryContextAllocZero(aggctx, sizeof(AucState));
		st->confidence = confidence;
	}
	else if (unlikely(confidence != st->confidence))
		auc_confidence_mismatch(fcinfo, st->confidence, confidence);
	if (unlikely(st->pos.n + st->neg.n + 1 > state_max_values))
		state_too_large(auc_fname(fcinfo, "auc"));
	dbuf_push(aggctx, PG_GETARG_BOOL(2) ? &st->pos : &st->neg, score);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(auc_accum);
Datum
auc_accum(PG_FUNCTION_ARGS)
{
	return auc_push(fcinfo, false);
}

PG_FUNCTION_INFO_V1(auc_ci_accum);
Datum
auc_ci_accum(PG_FUNCTION_ARGS)
{
	return auc_push(fcinfo, true);
}

/* Combine, for every form: the confidence levels must agree */
PG_FUNCTION_INFO_V1(auc_combine);
Datum
auc_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	AucState   *a;
	AucState   *b;
	Datum		result;

	if (cs_combine_internal_nulls(fcinfo, &result))
		return result;
	b = (AucState *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		a = MemoryContextAllocZero(aggctx, sizeof(AucState));
		a->confidence = b->confidence;
	}
	else if ((a = (AucState *) PG_GETARG_POINTER(0))->confidence != b->confidence)
		auc_confidence_mismatch(fcinfo, a->confidence, b->confidence);
	if (unlikely(a->pos.n + a->neg.n + b->pos.n + b->neg.n > state_max_values))
		state_too_large(auc_fname(fcinfo, "auc"));
	dbuf_append(aggctx, &a->pos, &b->pos);
	dbuf_append(aggctx, &a->neg, &b->neg);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(auc_ci_combine);
Datum
auc_ci_combine(PG_FUNCTION_ARGS)
{
	return auc_combine(fcinfo);
}

PG_FUNCTION_INFO_V1(auc_serialize);
Datum
auc_serialize(PG_FUNCTION_ARGS)
{
	AucState   *st = (AucState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	cs_agg_context(fcinfo);
	state_begin(&buf, st->pos.n + st->neg.n);
	pq_sendfloat8(&buf, st->confidence);
	pq_sendint64(&buf, st->pos.n);
	pq_sendint64(&buf, st->neg.n);
	dbuf_send(&buf, &st->pos);
	dbuf_send(&buf, &st->neg);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(auc_ci_serialize);
Datum
auc_ci_serialize(PG_FUNCTION_ARGS)
{
	return auc_serialize(fcinfo);
}

/*
 * Deserialize: with_confidence for the three-argument forms, whose level
 * must be in (0, 1); the other forms carry 0.
 */
static Datum
auc_read_state(FunctionCallInfo fcinfo, bool with_confidence)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	AucState   *st;
	int64		npos,
				nneg;
	MemoryContext old;

	cs_agg_context(fcinfo);
	state_open(&buf, b, AUC_STATE);
	/* in a context of its own that the combine function adopts */
	old = MemoryContextSwitchTo(cs_state_context());
	st = palloc0(sizeof(AucState));
	st->confidence = pq_getmsgfloat8(&buf);
	if (with_confidence ? !(st->confidence > 0.0 && st->confidence < 1.0) : st->confidence != 0.0)
		state_fail(AUC_STATE, "The confidence level does not fit the aggregate.");
	npos = pq_getmsgint64(&buf);
	nneg = pq_getmsgint64(&buf);
	dbuf_recv(&buf, &st->pos, npos, AUC_STATE);
	dbuf_recv(&buf, &st->neg, nneg, AUC_STATE);
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(auc_deserialize);
Datum
auc_deserialize(PG_FUNCTION_ARGS)
{
	return auc_read_state(fcinfo, false);
}

PG_FUNCTION_INFO_V1(auc_ci_deserialize);
Datum
auc_ci_deserialize(PG_FUNCTION_ARGS)
{
	return auc_read_state(fcinfo, true);
}

/*
 * One merge pass of two sorted score lists, a group of equal scores of `a`
 * at a time: after auc_merge_next(), `group` holds the size of the group,
 * `lt` the number of scores of `b` below it and `le` those below or equal.
 */
typedef struct AucMerge
{
	const double *a;
	int64		na;
	const double *b;
	int64		nb;
	int64		i;
	int64		group;
	int64		lt;
	int64		le;
} AucMerge;

static inline void
auc_merge_start(AucMerge *m, const double *a, int64 na, const double *b, int64 nb)
{
	m->a = a;
	m->na = na;
	m->b = b;
	m->nb = nb;
	m->i = m->group = m->lt = m->le = 0;
}

static inline bool
auc_merge_next(AucMerge *m)
{
	double		s;

	if (m->i >= m->na)
		return false;
	s = m->a[m->i];
	m->group = 0;
	while (m->i < m->na && m->a[m->i] == s)
	{
		m->i++;
		m->group++;
	}
	while (m->lt < m->nb && m->b[m->lt] < s)
		m->lt++;
	if (m->le < m->lt)
		m->le = m->lt;
	while (m->le < m->nb && m->b[m->le] == s)
		m->le++;
	return true;
}

/*
 * Twice the number of (positive, negative) pairs ordered correctly, ties
 * counting half: exact (128-bit), so the only rounding is the division.
 * Both lists sorted.
 */
static AucPairs
auc_pairs2(const double *pos, int64 npos, const double *neg, int64 nneg)
{
	AucMerge	m;
	AucPairs	pairs2 = 0;

	auc_merge_start(&m, pos, npos, neg, nneg);
	while (auc_merge_next(&m))
	{
		CHECK_FOR_INTERRUPTS();
		pairs2 += (AucPairs) m.group * (AucPairs) (2 * m.lt + (m.le - m.lt));
	}
	return pairs2;
}

/*
 * Mann-Whitney: over all (positive, negative) pairs, count 2 when the
 * positive scores higher and 1 on a tie, with both lists sorted; the count
 * is exact (128-bit), so the only rounding is the final division.
 */
PG_FUNCTION_INFO_V1(auc_final);
Datum
auc_final(PG_FUNCTION_ARGS)
{
	AucState   *st;
	int64		npos,
				nneg;

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (AucState *) PG_GETARG_POINTER(0);
	npos = st->pos.n;
	nneg = st->neg.n;
	if (npos == 0 || nneg == 0)
		PG_RETURN_NULL();
	/* sorting in place is harmless: the order of the rows carries nothing */
	auc_sort_doubles(st->pos.v, npos);
	auc_sort_doubles(st->neg.v, nneg);
	PG_RETURN_FLOAT8((double) auc_pairs2(st->pos.v, npos, st->neg.v, nneg) /
					 (2.0 * (double) npos * (double) nneg));
}

/* ---------- auc_lower, auc_upper: DeLong's confidence interval ---------- */

/*
 * DeLong's interval, as pROC's ci.auc(method = "delong"): the structural
 * components (placements) of each positive, V10 = (negatives below it +
 * half the tied ones) / nneg, and of each negative, V01 = (positives above
 * it + half the tied ones) / npos, whose means are the AUC; their sample
 * variances (denominators npos - 1 and nneg - 1) give
 * var(AUC) = S10 / npos + S01 / nneg, and the interval is
 * AUC -/+ z sd, clamped to [0, 1].
 *
 * After one sort of each list, the placements come from one merge pass
 * over each list, one group of equal scores at a time (a group shares its
 * placement): O(n log n) in all.  The AUC is the exact pair count of
 * auc(), and the squared deviations are summed with Neumaier's sum.
 * False (NULL) with fewer than two positives or two negatives, where pROC
 * gives NA: the variances are not defined.
 */
static bool
auc_delong(AucState *st, double confidence, double *lower, double *upper)
{
	int64		npos = st->pos.n,
				nneg = st->neg.n;
	const double *pos,
			   *neg;
	AucMerge	m;
	double		theta,
				sd,
				z;
	CsSum		s10 = {0},
				s01 = {0};

	if (npos < 2 || nneg < 2)
		return false;
	auc_sort_doubles(st->pos.v, npos);
	auc_sort_doubles(st->neg.v, nneg);
	pos = st->pos.v;
	neg = st->neg.v;
	theta = (double) auc_pairs2(pos, npos, neg, nneg) / (2.0 * (double) npos * (double) nneg);

	/* V10 of each group of tied positives: negatives below it, half the ties */
	auc_merge_start(&m, pos, npos, neg, nneg);
	while (auc_merge_next(&m))
	{
		double		dev = ((double) m.lt + 0.5 * (double) (m.le - m.lt)) / (double) nneg - theta;

		cs_sum_add(&s10, (double) m.group * dev * dev);
	}
	CHECK_FOR_INTERRUPTS();

	/* V01 of each group of tied negatives: positives above it, half the ties */
	auc_merge_start(&m, neg, nneg, pos, npos);
	while (auc_merge_next(&m))
	{
		double		dev = ((double) (npos - m.le) + 0.5 * (double) (m.le - m.lt)) / (double) npos - theta;

		cs_sum_add(&s01, (double) m.group * dev * dev);
	}

	sd = sqrt(cs_sum_value(&s10) / (double) (npos - 1) / (double) npos +
			  cs_sum_value(&s01) / (double) (nneg - 1) / (double) nneg);
	z = cs_normal_quantile(0.5 + confidence / 2.0);
	*lower = Max(theta - z * sd, 0.0);
	*upper = Min(theta + z * sd, 1.0);
	return true;
}

#define AUC_CI_DEFAULT_CONFIDENCE 0.95

/*
 * Final functions.  Like auc_final, they sort the kept scores in place,
 * which only reorders a multiset (FINALFUNC_MODIFY = READ_ONLY holds).  A
 * state without a confidence level is the two-argument forms': 0.95.
 */
static Datum
auc_ci_final_common(FunctionCallInfo fcinfo, bool upper)
{
	AucState   *st;
	double		lo,
				hi;

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (AucState *) PG_GETARG_POINTER(0);
	if (!auc_delong(st, st->confidence > 0.0 ? st->confidence : AUC_CI_DEFAULT_CONFIDENCE, &lo, &hi))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(upper ? hi : lo);
}

PG_FUNCTION_INFO_V1(auc_lower_final);
Datum
auc_lower_final(PG_FUNCTION_ARGS)
{
	return auc_ci_final_common(fcinfo, false);
}

PG_FUNCTION_INFO_V1(auc_upper_final);
Datum
auc_upper_final(PG_FUNCTION_ARGS)
{
	return auc_ci_final_common(fcinfo, true);
}

PG_FUNCTION_INFO_V1(auc_ci_lower_final);
Datum
auc_ci_lower_final(PG_FUNCTION_ARGS)
{
	return auc_ci_final_common(fcinfo, false);
}

PG_FUNCTION_INFO_V1(auc_ci_upper_final);
Datum
auc_ci_upper_final(PG_FUNCTION_ARGS)
{
	return auc_ci_final_common(fcinfo, true);
}
