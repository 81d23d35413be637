/*
 * health.c
 *	  Customer health score: signals in [0, 1], each averaged over the rows
 *	  where it is not NULL, then a weighted mean of those averages with the
 *	  weights renormalized over the signals that have data, times 100.
 *
 * The running state is the stored health_summary type (weights, and per
 * signal a compensated sum and a count), so that daily summaries can be
 * kept in a table and rolled up, and Citus can merge partial states.
 *
 * The transition function runs once per row with two arrays (the weights
 * and the VARIADIC signals): it reads their data in place, null bitmap
 * included, and never allocates.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "cs_common.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define HEALTH_TYPE "health_summary"

#define HEALTH_MAX_SIGNALS 100

/*
 * The fixed part is followed by weights[n], then sums[n] (CsSum, two
 * doubles each), then counts[n] (int64): 32 bytes per signal, all aligned.
 */
typedef struct HealthSummary
{
	CS_SUMMARY_HEADER;
	int32		nsignals;
	int32		reserved2;
	double		data[FLEXIBLE_ARRAY_MEMBER];
} HealthSummary;

#define HEALTH_BYTES(n)		(offsetof(HealthSummary, data) + (Size) (n) * 32)
#define HS_WEIGHTS(s)		((s)->data)
#define HS_SUMS(s)			((CsSum *) ((s)->data + (s)->nsignals))
#define HS_COUNTS(s)		((int64 *) ((s)->data + 3 * (s)->nsignals))

static HealthSummary *
health_alloc(MemoryContext ctx, int n)
{
	HealthSummary *s = MemoryContextAllocZero(ctx, HEALTH_BYTES(n));

	SET_VARSIZE(s, HEALTH_BYTES(n));
	s->version = CS_SUMMARY_VERSION;
	s->nsignals = n;
	return s;
}

static Size
health_size_of(const void *s)
{
	const HealthSummary *h = s;

	if (h->nsignals < 1 || h->nsignals > HEALTH_MAX_SIGNALS)
		return 0;
	return HEALTH_BYTES(h->nsignals);
}

static const CsSummaryType health_type = {
	HEALTH_TYPE, offsetof(HealthSummary, data), health_size_of
};

static HealthSummary *
health_fetch(Datum d)
{
	return cs_summary_fetch(&health_type, d);
}

/*
 * Number of elements of a one-dimensional double precision array (0 for an
 * empty one); other shapes are refused.
 */
static int
health_array_length(FunctionCallInfo fcinfo, ArrayType *a, const char *what)
{
	if (likely(ARR_NDIM(a) == 1) && likely(ARR_ELEMTYPE(a) == FLOAT8OID))
		return ARR_DIMS(a)[0];
	if (ARR_NDIM(a) == 0)
		return 0;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: %s must be a one-dimensional double precision array, got %d dimensions",
					cs_agg_name(fcinfo, "health_score"), what, ARR_NDIM(a))));
	return 0;					/* keep compiler quiet */
}

/*
 * Check a weights array: one-dimensional, 1..HEALTH_MAX_SIGNALS elements,
 * no NULL, each finite and >= 0, positive sum.  Returns the length.
 */
static int
health_check_weights(FunctionCallInfo fcinfo, ArrayType *w)
{
	int			n = health_array_length(fcinfo, w, "weights");
	const double *v = CS_ARR_DOUBLES(w);
	double		total = 0.0;

	if (n < 1 || n > HEALTH_MAX_SIGNALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: weights must have between 1 and %d elements, got %d",
						cs_agg_name(fcinfo, "health_score"), HEALTH_MAX_SIGNALS, n)));
	if (ARR_HASNULL(w))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: weights must not contain NULL", cs_agg_name(fcinfo, "health_score"))));
	for (int i = 0; i < n; i++)
	{
		if (isnan(v[i]) || isinf(v[i]))
			ereport(ERROR,
					(errcode(isnan(v[i]) ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s: weight %d must be finite, got %g",
							cs_agg_name(fcinfo, "health_score"), i + 1, v[i])));
		if (v[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: weight %d must not be negative, got %g",
							cs_agg_name(fcinfo, "health_score"), i + 1, v[i])));
		total += v[i];
	}
	if (!(total > 0.0) || isinf(total))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: weights must have a positive finite sum, got %g",
						cs_agg_name(fcinfo, "health_score"), total)));
	return n;
}

static void
health_weights_changed(FunctionCallInfo fcinfo)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: weights must be the same in every row of a group",
					cs_agg_name(fcinfo, "health_score")),
			 errhint("Pass the weights as a constant, or group by them.")));
}

/* Do the weights of this row equal those of the state? */
static bool
health_same_weights(const HealthSummary *s, ArrayType *w)
{
	int			n = s->nsignals;

	if (ARR_NDIM(w) != 1 || ARR_HASNULL(w) || ARR_DIMS(w)[0] != n ||
		ARR_ELEMTYPE(w) != FLOAT8OID)
		return false;
	if (memcmp(CS_ARR_DOUBLES(w), HS_WEIGHTS(s), sizeof(double) * n) == 0)
		return true;
	for (int i = 0; i < n; i++)		/* 0 and -0 are the same weight */
		if ((CS_ARR_DOUBLES(w))[i] != HS_WEIGHTS(s)[i])
			return false;
	return true;
}

/* ---------- aggregate support ---------- */

/*
 * The state for a row with these weights and nsignals signals: created on
 * the first row, checked against the stored weights on the others.
 */
static inline HealthSummary *
health_state_for(FunctionCallInfo fcinfo, HealthSummary *state, ArrayType *weights,
				 int nsignals)
{
	if (unlikely(state == NULL))
	{
		int			n = health_check_weights(fcinfo, weights);

		/* made here, copied into the aggregate context by the executor */
		state = health_alloc(CurrentMemoryContext, n);
		memcpy(HS_WEIGHTS(state), CS_ARR_DOUBLES(weights), sizeof(double) * n);
	}
	else if (unlikely(!health_same_weights(state, weights)))
	{
		health_check_weights(fcinfo, weights);
		health_weights_changed(fcinfo);
	}
	if (unlikely(nsignals != state->nsignals))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: signals must be as many as the weights (%d), got %d",
						cs_agg_name(fcinfo, "health_score"), state->nsignals, nsignals)));
	return state;
}

static inline void
health_add(FunctionCallInfo fcinfo, HealthSummary *state, int i, double x)
{
	if (unlikely(!(x >= 0.0 && x <= 1.0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: signal %d must be between 0 and 1, got %g",
						cs_agg_name(fcinfo, "health_score"), i + 1, x),
				 errhint("Map raw values to [0, 1] with health_scale(value, red, green).")));
	cs_sum_add(&HS_SUMS(state)[i], x);
	HS_COUNTS(state)[i]++;
}

/* Transition for (weights, VARIADIC signals): reads the array in place */
PG_FUNCTION_INFO_V1(health_accum);
Datum
health_accum(PG_FUNCTION_ARGS)
{
	HealthSummary *state = PG_ARGISNULL(0) ? NULL : (HealthSummary *) PG_GETARG_POINTER(0);
	ArrayType  *signals;
	const double *v;
	uint8	   *nulls;
	int			n;

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	signals = PG_GETARG_ARRAYTYPE_P(2);
	n = health_array_length(fcinfo, signals, "signals");
	state = health_state_for(fcinfo, state, PG_GETARG_ARRAYTYPE_P(1), n);

	v = CS_ARR_DOUBLES(signals);
	nulls = ARR_NULLBITMAP(signals);
	for (int i = 0; i < n; i++)
	{
		/* NULL elements take no space in the data area */
		if (nulls != NULL && !(nulls[i / 8] & (1 << (i % 8))))
			continue;
		health_add(fcinfo, state, i, *v++);
	}
	PG_RETURN_POINTER(state);
}

/*
 * Transition for (weights, signal1, ..., signalN) with N fixed: the
 * overloads of health_score() and health_agg() for 1 to 8 signals, which
 * PostgreSQL prefers to the VARIADIC form when both match, so that the
 * executor does not build an array per row.
 */
PG_FUNCTION_INFO_V1(health_accum_args);
Datum
health_accum_args(PG_FUNCTION_ARGS)
{
	HealthSummary *state = PG_ARGISNULL(0) ? NULL : (HealthSummary *) PG_GETARG_POINTER(0);
	int			n = PG_NARGS() - 2;

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	state = health_state_for(fcinfo, state, PG_GETARG_ARRAYTYPE_P(1), n);
	for (int i = 0; i < n; i++)
		if (!PG_ARGISNULL(i + 2))
			health_add(fcinfo, state, i, PG_GETARG_FLOAT8(i + 2));
	PG_RETURN_POINTER(state);
}

static void
health_check_mergeable(const HealthSummary *a, const HealthSummary *b)
{
	if (a->nsignals != b->nsignals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rollup: health summaries must have the same number of signals, got %d and %d",
						a->nsignals, b->nsignals)));
	for (int i = 0; i < a->nsignals; i++)
		if (HS_WEIGHTS(a)[i] != HS_WEIGHTS(b)[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rollup: health summaries must have the same weights, got %g and %g for signal %d",
							HS_WEIGHTS(a)[i], HS_WEIGHTS(b)[i], i + 1),
					 errdetail("Summaries computed with different weights cannot be merged.")));
}

/*
 * Add other into state, whose weights it must share: the one merge step of
 * health_combine() (the rollup() aggregate) and health_merge()
 * (rollup(a, b)), so that the two agree, errors included.
 */
static void
health_merge_into(HealthSummary *state, const HealthSummary *other)
{
	health_check_mergeable(state, other);
	for (int i = 0; i < state->nsignals; i++)
	{
		cs_sum_merge(&HS_SUMS(state)[i], &HS_SUMS(other)[i]);
		HS_COUNTS(state)[i] = cs_add_count(HS_COUNTS(state)[i], HS_COUNTS(other)[i]);
	}
}

/* Combine two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(health_combine);
Datum
health_combine(PG_FUNCTION_ARGS)
{
	HealthSummary *state;
	HealthSummary *other;
	Datum		result;

	if (cs_combine_nulls(fcinfo, &health_type, &result))
		return result;
	other = health_fetch(PG_GETARG_DATUM(1));
	state = (HealthSummary *) PG_GETARG_POINTER(0);
	health_merge_into(state, other);
	PG_RETURN_POINTER(state);
}

/*
 * rollup(a, b) and a + b: the rollup() aggregate over a then b, built in a
 * copy of a (the arguments may be stored values)
 */
PG_FUNCTION_INFO_V1(health_merge);
Datum
health_merge(PG_FUNCTION_ARGS)
{
	void	   *a;
	void	   *b;
	Datum		result;

	if (cs_merge_nulls(fcinfo, &health_type, &a, &b, &result))
		return result;
	health_merge_into(a, b);
	PG_RETURN_POINTER(a);
}

/* ---------- the score ---------- */

/*
 * Fill the applied (renormalized) weight, mean and contribution of every
 * signal; returns false when no signal with a positive weight has data.
 * The score is the sum of the contributions, added in signal order, so
 * that sum(contribution) over health_contributions() equals it exactly.
 */
static bool
health_compute(const HealthSummary *s, double *weight, double *mean,
			   double *contribution, double *score)
{
	int			n = s->nsignals;
	double		total = 0.0;

	for (int i = 0; i < n; i++)
	{
		if (HS_COUNTS(s)[i] > 0)
		{
			mean[i] = cs_sum_value(&HS_SUMS(s)[i]) / (double) HS_COUNTS(s)[i];
			/* a rolled-up sum may round a hair past its count */
			mean[i] = Min(Max(mean[i], 0.0), 1.0);
			total += HS_WEIGHTS(s)[i];
		}
		else
			mean[i] = 0.0;	/* reported as NULL */
	}
	if (!(total > 0.0))
		return false;
	*score = 0.0;
	for (int i = 0; i < n; i++)
	{
		if (HS_COUNTS(s)[i] > 0)
		{
			weight[i] = HS_WEIGHTS(s)[i] / total;
			contribution[i] = 100.0 * weight[i] * mean[i];
		}
		else
		{
			weight[i] = 0.0;
			contribution[i] = 0.0;
		}
		*score += contribution[i];
	}
	return true;
}

static bool
health_score_of(const HealthSummary *s, double *score)
{
	double		buf[3 * HEALTH_MAX_SIGNALS];

	return health_compute(s, buf, buf + HEALTH_MAX_SIGNALS, buf + 2 * HEALTH_MAX_SIGNALS, score);
}

PG_FUNCTION_INFO_V1(health_final);
Datum
health_final(PG_FUNCTION_ARGS)
{
	double		score;

	if (!health_score_of(health_fetch(PG_GETARG_DATUM(0)), &score))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(score);
}

static text *
health_band_of(double score, double red_below, double green_from)
{
	cs_require_finite("health_band", "score", score);
	cs_require_finite("health_band", "red_below", red_below);
	cs_require_finite("health_band", "green_from", green_from);
	if (red_below > green_from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("health_band: red_below must not be above green_from, got %g and %g",
						red_below, green_from)));
	if (score < red_below)
		return cstring_to_text("red");
	if (score >= green_from)
		return cstring_to_text("green");
	return cstring_to_text("yellow");
}

PG_FUNCTION_INFO_V1(health_band);
Datum
health_band(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(health_band_of(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1),
									PG_GETARG_FLOAT8(2)));
}

PG_FUNCTION_INFO_V1(health_band_summary);
Datum
health_band_summary(PG_FUNCTION_ARGS)
{
	double		score;

	if (!health_score_of(health_fetch(PG_GETARG_DATUM(0)), &score))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(health_band_of(score, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
}

/* SETOF (signal, weight, mean, contribution) */
PG_FUNCTION_INFO_V1(health_contributions);
Datum
health_contributions(PG_FUNCTION_ARGS)
{
	HealthSummary *s = health_fetch(PG_GETARG_DATUM(0));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		weight[HEALTH_MAX_SIGNALS];
	double		mean[HEALTH_MAX_SIGNALS];
	double		contribution[HEALTH_MAX_SIGNALS];
	double		score;
	bool		any;

	InitMaterializedSRF(fcinfo, 0);
	any = health_compute(s, weight, mean, contribution, &score);
	for (int i = 0; i < s->nsignals; i++)
	{
		Datum		values[4];
		bool		isnull[4] = {false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Float8GetDatum(weight[i]);
		values[2] = Float8GetDatum(mean[i]);
		values[3] = Float8GetDatum(contribution[i]);
		isnull[1] = isnull[3] = !any;
		isnull[2] = HS_COUNTS(s)[i] == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	return (Datum) 0;
}

/* ---------- health_scale ---------- */

/* 0 at or beyond red, 1 at or beyond green, linear between */
PG_FUNCTION_INFO_V1(health_scale);
Datum
health_scale(PG_FUNCTION_ARGS)
{
	double		value = PG_GETARG_FLOAT8(0);
	double		red = PG_GETARG_FLOAT8(1);
	double		green = PG_GETARG_FLOAT8(2);
	double		t;

	cs_require_finite("health_scale", "value", value);
	cs_require_finite("health_scale", "red", red);
	cs_require_finite("health_scale", "green", green);
	if (red == green)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("health_scale: red must differ from green, got %g for both", red)));
	if (isinf(green - red))		/* halve everything to stay in range */
		t = (value / 2 - red / 2) / (green / 2 - red / 2);
	else
		t = (value - red) / (green - red);
	PG_RETURN_FLOAT8(t <= 0.0 ? 0.0 : t >= 1.0 ? 1.0 : t);
}

/* ---------- I/O ---------- */

static void
health_validate(CsParse *ps, const HealthSummary *s)
{
	double		total = 0.0;

	for (int i = 0; i < s->nsignals; i++)
	{
		double		w = HS_WEIGHTS(s)[i];
		const CsSum *sum = &HS_SUMS(s)[i];
		int64		n = HS_COUNTS(s)[i];

		if (!isfinite(w) || w < 0)
			cs_parse_fail(ps, "Weight %d must be finite and not negative.", i + 1);
		total += w;
		cs_check_sum(ps, "sum", sum, true);
		cs_check_count(ps, "count", n);
		if (cs_sum_value(sum) > (double) n * (1.0 + 1e-9))
			cs_parse_fail(ps, "The sum of signal %d exceeds its count: signals are in [0, 1].", i + 1);
	}
	if (!(total > 0.0) || isinf(total))
		cs_parse_fail(ps, "The weights must have a positive finite sum.");
}

PG_FUNCTION_INFO_V1(health_summary_in);
Datum
health_summary_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	double		weights[HEALTH_MAX_SIGNALS];
	HealthSummary *s;
	CsParse		ps;
	int			n = 0;

	cs_parse_init_text(&ps, HEALTH_TYPE, text);
	cs_parse_version(&ps);
	cs_parse_key(&ps, "weights");
	cs_parse_char(&ps, '{');
	do
	{
		if (n == HEALTH_MAX_SIGNALS)
			cs_parse_fail(&ps, "At most %d signals are allowed.", HEALTH_MAX_SIGNALS);
		weights[n++] = cs_parse_double(&ps);
	} while (cs_parse_peek(&ps, ','));
	cs_parse_char(&ps, '}');

	s = health_alloc(CurrentMemoryContext, n);
	memcpy(HS_WEIGHTS(s), weights, sizeof(double) * n);
	cs_parse_key(&ps, "sums");
	cs_parse_char(&ps, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			cs_parse_char(&ps, ',');
		cs_parse_sum(&ps, &HS_SUMS(s)[i]);
	}
	cs_parse_char(&ps, '}');
	cs_parse_key(&ps, "counts");
	cs_parse_char(&ps, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			cs_parse_char(&ps, ',');
		HS_COUNTS(s)[i] = cs_parse_int64(&ps);
	}
	cs_parse_char(&ps, '}');
	cs_parse_end(&ps);
	health_validate(&ps, s);
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(health_summary_out);
Datum
health_summary_out(PG_FUNCTION_ARGS)
{
	HealthSummary *s = health_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d weights={", CS_SUMMARY_VERSION);
	for (int i = 0; i < s->nsignals; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		cs_append_double(&buf, HS_WEIGHTS(s)[i]);
	}
	appendStringInfoString(&buf, "} sums={");
	for (int i = 0; i < s->nsignals; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		cs_append_sum(&buf, &HS_SUMS(s)[i]);
	}
	appendStringInfoString(&buf, "} counts={");
	for (int i = 0; i < s->nsignals; i++)
		appendStringInfo(&buf, i > 0 ? "," INT64_FORMAT : INT64_FORMAT, HS_COUNTS(s)[i]);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(health_summary_recv);
Datum
health_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	HealthSummary *s;
	CsParse		ps;
	int			n;

	cs_parse_init_binary(&ps, HEALTH_TYPE);
	cs_recv_version(&ps, buf);
	n = pq_getmsgint(buf, 4);
	if (n < 1 || n > HEALTH_MAX_SIGNALS)
		cs_parse_fail(&ps, "The number of signals must be between 1 and %d, got %d.",
					  HEALTH_MAX_SIGNALS, n);
	s = health_alloc(CurrentMemoryContext, n);
	for (int i = 0; i < n; i++)
		HS_WEIGHTS(s)[i] = pq_getmsgfloat8(buf);
	for (int i = 0; i < n; i++)
		cs_recv_sum(buf, &HS_SUMS(s)[i]);
	for (int i = 0; i < n; i++)
		HS_COUNTS(s)[i] = pq_getmsgint64(buf);
	pq_getmsgend(buf);
	health_validate(&ps, s);
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(health_summary_send);
Datum
health_summary_send(PG_FUNCTION_ARGS)
{
	HealthSummary *s = health_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendint32(&buf, s->nsignals);
	for (int i = 0; i < s->nsignals; i++)
		pq_sendfloat8(&buf, HS_WEIGHTS(s)[i]);
	for (int i = 0; i < s->nsignals; i++)
		cs_send_sum(&buf, &HS_SUMS(s)[i]);
	for (int i = 0; i < s->nsignals; i++)
		pq_sendint64(&buf, HS_COUNTS(s)[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
