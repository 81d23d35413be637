/*
 * auc.c
 *	  auc(score, outcome): the exact ROC AUC with ties counting half, and
 *	  auc_lower()/auc_upper(), DeLong's confidence interval, as R's pROC.
 *
 * The aggregates keep the scores they saw in an internal state (fit_state.h)
 * since the AUC needs a sort.
 */
#include "postgres.h"

#include <float.h>

#include "cs_common.h"
#include "fit_state.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

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
	CsInternalState hdr;		/* first: see cs_combine_internal_nulls() */
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

pg_noreturn static void
auc_confidence_mismatch(FunctionCallInfo fcinfo, double a, double b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: confidence must be the same on every row, got %g and %g",
					cs_agg_name(fcinfo, "auc_lower"), a, b)));
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
		cs_require_finite(cs_agg_name(fcinfo, "auc"), "score", score);
	if (with_confidence)
		confidence = PG_GETARG_FLOAT8(3);
	if (st == NULL)
	{
		if (with_confidence)
			cs_confidence_z(cs_agg_name(fcinfo, "auc_lower"), confidence);
		st = MemoryContextAllocZero(aggctx, sizeof(AucState));
		st->confidence = confidence;
	}
	else if (unlikely(confidence != st->confidence))
		auc_confidence_mismatch(fcinfo, st->confidence, confidence);
	if (unlikely(st->pos.n + st->neg.n + 1 > fit_state_max_values))
		fit_state_too_large(cs_agg_name(fcinfo, "auc"));
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
	if (unlikely(a->pos.n + a->neg.n + b->pos.n + b->neg.n > fit_state_max_values))
		fit_state_too_large(cs_agg_name(fcinfo, "auc"));
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
	fit_state_begin(&buf, st->pos.n + st->neg.n);
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
	fit_state_open(&buf, b, AUC_STATE);
	/* in a context of its own that the combine function adopts */
	old = MemoryContextSwitchTo(cs_state_context());
	st = palloc0(sizeof(AucState));
	st->hdr.owner = CurrentMemoryContext;
	st->confidence = pq_getmsgfloat8(&buf);
	if (with_confidence ? !(st->confidence > 0.0 && st->confidence < 1.0) : st->confidence != 0.0)
		fit_state_fail(AUC_STATE, "The confidence level does not fit the aggregate.");
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
