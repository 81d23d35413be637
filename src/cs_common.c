/*
 * cs_common.c
 *	  Shared machinery for every metric family (see cs_common.h).
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdlib.h>

#include "cs_common.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

void
cs_sum_overflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("sum is out of range for double precision"),
			 errdetail("The running total exceeded %g.", DBL_MAX)));
}

int64
cs_add_count(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("count is out of range for bigint")));
	return r;
}

void
cs_not_in_agg(FunctionCallInfo fcinfo)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s() can only be called as part of an aggregate",
					get_func_name(fcinfo->flinfo->fn_oid))));
}

/* The memory context that a transition or combine function may keep its state in */
MemoryContext
cs_agg_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggctx;

	if (unlikely(!AggCheckCallContext(fcinfo, &aggctx)))
		cs_not_in_agg(fcinfo);
	return aggctx;
}

const char *
cs_agg_name(FunctionCallInfo fcinfo, const char *fallback)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	char	   *name = aggref ? get_func_name(aggref->aggfnoid) : NULL;

	return name ? name : fallback;
}

bool
cs_combine_prologue(FunctionCallInfo fcinfo, CsStateReader read, const void *type,
					Datum *result)
{
	cs_require_agg(fcinfo);
	if (PG_ARGISNULL(1))
	{
		fcinfo->isnull = PG_ARGISNULL(0);
		*result = fcinfo->isnull ? (Datum) 0 : PG_GETARG_DATUM(0);
		return true;
	}
	if (!PG_ARGISNULL(0))
		return false;
	if (read == NULL)
		return false;
	*result = PointerGetDatum(read(type, PG_GETARG_DATUM(1)));
	return true;
}

MemoryContext
cs_state_context(void)
{
	return AllocSetContextCreate(CurrentMemoryContext, "customer_success deserialized state",
								 ALLOCSET_DEFAULT_SIZES);
}

/* A deserialized state moves into the aggregate context as it is */
static void *
cs_adopt_internal(const void *type, Datum d)
{
	CsInternalState *st = (CsInternalState *) DatumGetPointer(d);
	MemoryContext aggctx = (MemoryContext) type;

	MemoryContextSetParent(st->owner, aggctx);
	st->owner = NULL;
	return st;
}

bool
cs_combine_internal_nulls(FunctionCallInfo fcinfo, Datum *result)
{
	MemoryContext aggctx = cs_agg_context(fcinfo);
	bool		adopt = !PG_ARGISNULL(1) &&
		((CsInternalState *) PG_GETARG_POINTER(1))->owner != NULL;

	/* a right side that owns no context is merged into a new state */
	return cs_combine_prologue(fcinfo, adopt ? cs_adopt_internal : NULL, aggctx, result);
}

void
cs_require_finite(const char *fname, const char *what, double v)
{
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must be a number, got NaN", fname, what)));
	if (isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: %s must be finite, got %s", fname, what,
						v > 0 ? "Infinity" : "-Infinity")));
}

void
cs_require_nonnegative(const char *fname, const char *what, double v)
{
	cs_require_finite(fname, what, v);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must not be negative, got %g", fname, what, v)));
}

int
cs_signals_count(const char *fname, ArrayType *a, int max, int expected)
{
	int			k;

	if (ARR_NDIM(a) > 1 || ARR_ELEMTYPE(a) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: signals must be a one-dimensional double precision array, got %d dimensions",
						fname, ARR_NDIM(a))));
	k = ARR_NDIM(a) == 1 ? ARR_DIMS(a)[0] : 0;
	if (k < 1 || k > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: signals must have between 1 and %d elements, got %d",
						fname, max, k)));
	if (expected >= 0 && k != expected)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: every row must have the same number of signals, got %d and %d",
						fname, expected, k)));
	return k;
}

void
cs_signals_finite(const char *fname, const double *v, int k)
{
	for (int j = 0; j < k; j++)
		if (unlikely(!isfinite(v[j])))
			ereport(ERROR,
					(errcode(isnan(v[j]) ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s: signal %d must be finite, got %g", fname, j + 1, v[j])));
}

/* The two-sided z value for a confidence level strictly between 0 and 1 */
double
cs_confidence_z(const char *fname, double confidence)
{
	if (!(confidence > 0.0 && confidence < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: confidence must be between 0 and 1 (exclusive), got %g",
						fname, confidence)));
	return cs_normal_quantile(0.5 + confidence / 2.0);
}

/*
 * Quantile of the standard normal distribution: Wichura's algorithm AS 241
 * (PPND16), Applied Statistics 37 (1988) 477-484, accurate to about 1e-16.
 */
double
cs_normal_quantile(double p)
{
	double		q = p - 0.5;
	double		r;
	double		val;

	if (!(p > 0.0 && p < 1.0))
		elog(ERROR, "normal quantile of %g requested", p);

	if (fabs(q) <= 0.425)
	{
		r = 0.180625 - q * q;
		return q * (((((((r * 2509.0809287301226727 +
						  33430.575583588128105) * r + 67265.770927008700853) * r +
						45921.953931549871457) * r + 13731.693765509461125) * r +
					  1971.5909503065514427) * r + 133.14166789178437745) * r +
					3.387132872796366608) /
			(((((((r * 5226.495278852545925 +
				   28729.085735721942674) * r + 39307.89580009271061) * r +
				 21213.794301586595867) * r + 5394.1960214247511077) * r +
			   687.1870074920579083) * r + 42.313330701600911252) * r + 1.0);
	}

	r = sqrt(-log(q < 0 ? p : 1.0 - p));
	if (r <= 5.0)
	{
		r -= 1.6;
		val = (((((((r * 7.7454501427834140764e-4 +
					 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
				   1.27045825245236838258) * r + 3.64784832476320460504) * r +
				 5.7694972214606914055) * r + 4.6303378461565452959) * r +
			   1.42343711074968357734) /
			(((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
				  0.0151986665636164571966) * r + 0.14810397642748007459) * r +
				0.68976733498510000455) * r + 1.6763848301838038494) * r +
			  2.05319162663775882187) * r + 1.0);
	}
	else
	{
		r -= 5.0;
		val = (((((((r * 2.01033439929228813265e-7 +
					 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
				   0.026532189526576123093) * r + 0.29656057182850489123) * r +
				 1.7848265399172913358) * r + 5.4637849111641143699) * r +
			   6.6579046435011037772) /
			(((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r +
				  1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
				0.0148753612908506148525) * r + 0.13692988092273580531) * r +
			  0.59983220655588793769) * r + 1.0);
	}
	return q < 0 ? -val : val;
}

/*
 * log(1 + t) - t without cancellation for t near 0: with u = t / (2 + t),
 * log(1 + t) = 2 atanh(u) = 2 (u + u^3/3 + u^5/5 + ...) and t - 2u = u t.
 */
static double
cs_log1pmx(double t)
{
	double		u,
				u2,
				term,
				sum;

	if (fabs(t) >= 0.5)
		return log1p(t) - t;
	u = t / (2.0 + t);
	u2 = u * u;
	term = 2.0 * u * u2;
	sum = 0.0;
	for (int k = 3; k < 200; k += 2)
	{
		double		add = term / k;

		sum += add;
		if (fabs(add) <= 1e-17 * fabs(sum))
			break;
		term *= u2;
	}
	return sum - u * t;
}

/*
 * log(z^a e^-z / Gamma(a)), the factor in front of both the series and the
 * continued fraction of the incomplete gamma function.  For a >= 10 it is
 * written through Stirling's series, a (log(z/a) - (z/a - 1)) +
 * log(a / 2 pi) / 2 - (lgamma's correction term), so that nothing of size
 * a log a cancels (the direct form loses about log10(a log a) digits).
 */
static double
cs_gamma_log_prefix(double a, double z)
{
	static const double stirling[] = {
		1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188,
		-691.0 / 360360, 1.0 / 156, -3617.0 / 122400
	};
	double		corr = 0.0,
				inv2,
				pow;

	if (a < 10.0)
		return a * log(z) - z - lgamma(a);
	inv2 = 1.0 / (a * a);
	pow = 1.0 / a;
	for (int k = 0; k < (int) lengthof(stirling); k++)
	{
		corr += stirling[k] * pow;
		pow *= inv2;
	}
	return a * cs_log1pmx((z - a) / a) + 0.5 * log(a / (2.0 * M_PI)) - corr;
}

/*
 * Upper tail of the chi-square distribution with df degrees of freedom,
 * P(X > x): the regularized upper incomplete gamma function Q(df/2, x/2).
 *
 * Below z = a + 1 (z = x/2, a = df/2) the series of the lower tail P, and
 * Q = 1 - P (Q is then above about 0.3, so nothing cancels); above it
 * Legendre's continued fraction for Q, evaluated by Lentz's method.  Both
 * are scaled by the common factor z^a e^-z / Gamma(a), which is kept as a
 * logarithm until the end: a p-value underflows only where the true value
 * is below the smallest double (about 1e-308, subnormals down to 5e-324),
 * not where an intermediate product would.  Relative error below 1e-12
 * for df up to 1e6 (checked against mpmath in test/t/churn_model-stats.py):
 * about 1e-15 near the centre, growing in the far tail with the tail's own
 * sensitivity to x (x/2 times the rounding of x: 1e-13 at p = 1e-300).
 *
 * x <= 0 gives 1, x = +Infinity gives 0.  df must be positive and finite
 * and x not NaN: callers check their arguments, so anything else is a
 * can't-happen internal error.
 */
double
cs_chisq_upper_tail(double x, double df)
{
	double		a = df / 2.0;
	double		z = x / 2.0;
	double		lp;
	int			maxiter;

	if (isnan(x) || !(df > 0.0) || !isfinite(df))
		elog(ERROR, "chi-square tail of x = %g with %g degrees of freedom requested", x, df);
	if (x <= 0.0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	lp = cs_gamma_log_prefix(a, z);
	/* both converge in a few times sqrt(a) steps near z = a, fewer elsewhere */
	maxiter = 1000 + (int) (100.0 * sqrt(Min(a, 1e12)));

	if (z < a + 1.0)
	{
		/* P = prefix / a * (1 + z/(a+1) + z^2/((a+1)(a+2)) + ...) */
		double		term = 1.0,
					sum = 1.0;

		for (int n = 1; n < maxiter; n++)
		{
			term *= z / (a + n);
			sum += term;
			if (term <= sum * 1e-17)
				break;
		}
		return 1.0 - exp(lp + log(sum / a));
	}
	else
	{
		/*
		 * Q = prefix * 1/(z+1-a- 1(1-a)/(z+3-a- 2(2-a)/(z+5-a- ...))), the
		 * modified Lentz algorithm (Numerical Recipes, 6.2).
		 */
		double		b = z + 1.0 - a;
		double		c = 1.0 / CS_LENTZ_TINY;
		double		d = 1.0 / b;
		double		h = d;

		for (int i = 1; i < maxiter; i++)
		{
			double		del;

			b += 2.0;
			del = cs_lentz_step(-i * (i - a), b, &c, &d);
			h *= del;
			if (fabs(del - 1.0) <= 1e-16)
				break;
		}
		return exp(lp + log(h));
	}
}

void
cs_append_double(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

/* A compensated sum prints as its sum, or {sum,compensation} */
void
cs_append_sum(StringInfo buf, const CsSum *s)
{
	if (s->comp == 0.0 && !signbit(s->comp))
	{
		cs_append_double(buf, s->sum);
		return;
	}
	appendStringInfoChar(buf, '{');
	cs_append_double(buf, s->sum);
	appendStringInfoChar(buf, ',');
	cs_append_double(buf, s->comp);
	appendStringInfoChar(buf, '}');
}

/* ---------- parsing of stored summaries ---------- */

void
cs_parse_init_text(CsParse *ps, const char *type_name, const char *text)
{
	ps->type_name = type_name;
	ps->text = text;
	ps->p = text;
}

void
cs_parse_init_binary(CsParse *ps, const char *type_name)
{
	ps->type_name = type_name;
	ps->text = NULL;
	ps->p = NULL;
}

void
cs_parse_fail(const CsParse *ps, const char *fmt,...)
{
	char		detail[256];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);

	if (ps->text != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"",
						ps->type_name, ps->text),
				 errdetail("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary value for type %s", ps->type_name),
			 errdetail("%s", detail)));
}

static void
cs_parse_skip_space(CsParse *ps)
{
	while (isspace((unsigned char) *ps->p))
		ps->p++;
}

/* Expect "key=" (after optional white space) */
void
cs_parse_key(CsParse *ps, const char *key)
{
	size_t		len = strlen(key);

	cs_parse_skip_space(ps);
	if (strncmp(ps->p, key, len) != 0 || ps->p[len] != '=')
		cs_parse_fail(ps, "Expected \"%s=\" at \"%.20s\".", key, ps->p);
	ps->p += len + 1;
}

void
cs_parse_char(CsParse *ps, char c)
{
	cs_parse_skip_space(ps);
	if (*ps->p != c)
		cs_parse_fail(ps, "Expected \"%c\" at \"%.20s\".", c, ps->p);
	ps->p++;
}

/* Consume c if it comes next */
bool
cs_parse_peek(CsParse *ps, char c)
{
	cs_parse_skip_space(ps);
	if (*ps->p != c)
		return false;
	ps->p++;
	return true;
}

int64
cs_parse_int64(CsParse *ps)
{
	char	   *end;
	long long	v;

	cs_parse_skip_space(ps);
	if (!(isdigit((unsigned char) *ps->p) || *ps->p == '-' || *ps->p == '+'))
		cs_parse_fail(ps, "Expected an integer at \"%.20s\".", ps->p);
	errno = 0;
	v = strtoll(ps->p, &end, 10);
	if (end == ps->p)
		cs_parse_fail(ps, "Expected an integer at \"%.20s\".", ps->p);
	if (errno == ERANGE)
		cs_parse_fail(ps, "Integer out of range at \"%.20s\".", ps->p);
	ps->p = end;
	return (int64) v;
}

int64
cs_parse_count(CsParse *ps)
{
	int64		n = cs_parse_int64(ps);

	cs_check_count(ps, "count", n);
	return n;
}

double
cs_parse_double(CsParse *ps)
{
	char	   *end;
	double		v;

	cs_parse_skip_space(ps);
	errno = 0;
	v = strtod(ps->p, &end);
	if (end == ps->p)
		cs_parse_fail(ps, "Expected a number at \"%.20s\".", ps->p);
	if (errno == ERANGE && (v == 0.0 ? false : isinf(v)))
		cs_parse_fail(ps, "Number out of range at \"%.20s\".", ps->p);
	if (!isfinite(v))
		cs_parse_fail(ps, "Numbers must be finite, got \"%.20s\".", ps->p);
	ps->p = end;
	return v;
}

void
cs_parse_sum(CsParse *ps, CsSum *s)
{
	if (cs_parse_peek(ps, '{'))
	{
		s->sum = cs_parse_double(ps);
		cs_parse_char(ps, ',');
		s->comp = cs_parse_double(ps);
		cs_parse_char(ps, '}');
	}
	else
	{
		s->sum = cs_parse_double(ps);
		s->comp = 0.0;
	}
}

void
cs_parse_version(CsParse *ps)
{
	int64		v;

	cs_parse_key(ps, "v");
	v = cs_parse_int64(ps);
	if (v != CS_SUMMARY_VERSION)
		cs_parse_fail(ps, "Unsupported version %lld; this build reads version %d.",
					  (long long) v, CS_SUMMARY_VERSION);
}

void
cs_parse_end(CsParse *ps)
{
	cs_parse_skip_space(ps);
	if (*ps->p != '\0')
		cs_parse_fail(ps, "Unexpected text at \"%.20s\".", ps->p);
}

void
cs_recv_version(CsParse *ps, StringInfo buf)
{
	int			v = pq_getmsgbyte(buf);

	if (v != CS_SUMMARY_VERSION)
		cs_parse_fail(ps, "Unsupported version %d; this build reads version %d.",
					  v, CS_SUMMARY_VERSION);
}

void
cs_send_sum(StringInfo buf, const CsSum *s)
{
	pq_sendfloat8(buf, s->sum);
	pq_sendfloat8(buf, s->comp);
}

void
cs_recv_sum(StringInfo buf, CsSum *s)
{
	s->sum = pq_getmsgfloat8(buf);
	s->comp = pq_getmsgfloat8(buf);
}

/* A stored sum must be finite, and its compensation small next to it */
void
cs_check_sum(CsParse *ps, const char *what, const CsSum *s, bool nonnegative)
{
	if (!isfinite(s->sum) || !isfinite(s->comp) || !isfinite(s->sum + s->comp))
		cs_parse_fail(ps, "The %s must be finite.", what);
	if (fabs(s->comp) > fabs(s->sum) * 1e-6 + DBL_MIN)
		cs_parse_fail(ps, "The compensation term of the %s is too large.", what);
	if (nonnegative && s->sum + s->comp < 0)
		cs_parse_fail(ps, "The %s must not be negative.", what);
}

void
cs_check_count(CsParse *ps, const char *what, int64 n)
{
	if (n < 0)
		cs_parse_fail(ps, "The %s must not be negative, got " INT64_FORMAT ".", what, n);
}

void *
cs_fetch_summary(Datum d, const char *type_name, Size min_size)
{
	struct varlena *v = PG_DETOAST_DATUM(d);

	if (VARSIZE_ANY(v) < min_size || ((uint8 *) VARDATA(v))[0] != CS_SUMMARY_VERSION)
		cs_corrupted(type_name, NULL);
	return v;
}

void *
cs_summary_fetch(const CsSummaryType *type, Datum d)
{
	void	   *s = cs_fetch_summary(d, type->name, type->size);
	Size		size = type->size_of ? type->size_of(s) : type->size;

	if (size == 0 || VARSIZE(s) != size)
		cs_corrupted(type->name, NULL);
	return s;
}

static void *
cs_summary_reader(const void *type, Datum d)
{
	return cs_summary_fetch((const CsSummaryType *) type, d);
}

bool
cs_combine_nulls(FunctionCallInfo fcinfo, const CsSummaryType *type, Datum *result)
{
	return cs_combine_prologue(fcinfo, cs_summary_reader, type, result);
}

void
cs_corrupted(const char *type_name, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted %s value", type_name),
			 detail ? errdetail("%s", detail) : 0));
}

void *
cs_working_read(const CsWorkingType *type, Datum d)
{
	void	   *s = type->stored_form(cs_fetch_summary(d, type->name, type->header_bytes));
	char	   *problem = type->check(s);

	if (problem)
		cs_corrupted(type->name, problem);
	return s;
}

static void *
cs_working_reader(const void *type, Datum d)
{
	return cs_working_read((const CsWorkingType *) type, d);
}

bool
cs_working_combine_nulls(FunctionCallInfo fcinfo, const CsWorkingType *type, Datum *result)
{
	return cs_combine_prologue(fcinfo, cs_working_reader, type, result);
}

bool
cs_merge_nulls(FunctionCallInfo fcinfo, const CsSummaryType *type,
			   void **a, void **b, Datum *result)
{
	void	   *first;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		int			other = PG_ARGISNULL(0) ? 1 : 0;

		if (PG_ARGISNULL(other))
		{
			fcinfo->isnull = true;
			*result = (Datum) 0;
		}
		else
			*result = PointerGetDatum(cs_summary_fetch(type, PG_GETARG_DATUM(other)));
		return true;
	}
	first = cs_summary_fetch(type, PG_GETARG_DATUM(0));
	*a = palloc(VARSIZE(first));
	memcpy(*a, first, VARSIZE(first));
	*b = cs_summary_fetch(type, PG_GETARG_DATUM(1));
	return false;
}

/* ---------- linear algebra ---------- */

int
cs_cholesky(double *a, int n, double floor)
{
	for (int j = 0; j < n; j++)
	{
		double		d = a[j * n + j];

		for (int k = 0; k < j; k++)
			d -= a[j * n + k] * a[j * n + k];
		if (!(d > floor))
			return j;
		d = sqrt(d);
		a[j * n + j] = d;
		for (int i = j + 1; i < n; i++)
		{
			double		v = a[i * n + j];

			for (int k = 0; k < j; k++)
				v -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = v / d;
		}
	}
	return -1;
}

void
cs_cholesky_solve(const double *l, int n, const double *b, double *x)
{
	/* forward: L y = b, with y kept in x */
	for (int i = 0; i < n; i++)
	{
		double		v = b[i];

		for (int k = 0; k < i; k++)
			v -= l[i * n + k] * x[k];
		x[i] = v / l[i * n + i];
	}
	/* back: L' x = y */
	for (int i = n - 1; i >= 0; i--)
	{
		double		v = x[i];

		for (int k = i + 1; k < n; k++)
			v -= l[k * n + i] * x[k];
		x[i] = v / l[i * n + i];
	}
}
