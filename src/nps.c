/*
 * nps.c
 *	  NPS and CSAT: survey scores counted per score value.
 *
 * Both families keep the same kind of summary, one bigint count per score on
 * a fixed scale (0..10 for NPS, 1..5 for CSAT), so one implementation serves
 * both SQL types, parameterized by a ScoreScale.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "cs_common.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

typedef struct ScoreSummary
{
	CS_SUMMARY_HEADER;
	int64		counts[FLEXIBLE_ARRAY_MEMBER];
} ScoreSummary;

typedef struct ScoreScale
{
	CsSummaryType type;			/* SQL type of the summary, its size */
	const char *fname;			/* aggregate named in errors */
	int			lo;				/* lowest valid score */
	int			hi;				/* highest valid score */
} ScoreScale;

#define SCALE_BYTES(lo, hi)	(offsetof(ScoreSummary, counts) + sizeof(int64) * ((hi) - (lo) + 1))

static const ScoreScale nps_scale = {{"nps_summary", SCALE_BYTES(0, 10), NULL}, "nps", 0, 10};
static const ScoreScale csat_scale = {{"csat_summary", SCALE_BYTES(1, 5), NULL}, "csat", 1, 5};

#define SCALE_SIZE(sc)	((sc)->hi - (sc)->lo + 1)
#define SCORE_SUMMARY_BYTES(sc)	((sc)->type.size)

static ScoreSummary *
score_new(const ScoreScale *sc)
{
	ScoreSummary *s = palloc0(SCORE_SUMMARY_BYTES(sc));

	SET_VARSIZE(s, SCORE_SUMMARY_BYTES(sc));
	s->version = CS_SUMMARY_VERSION;
	return s;
}

static ScoreSummary *
score_fetch(Datum d, const ScoreScale *sc)
{
	return cs_summary_fetch(&sc->type, d);
}

/* Counts must be non-negative and their total must fit in a bigint */
static void
score_validate(CsParse *ps, const ScoreSummary *s, const ScoreScale *sc)
{
	int64		total = 0;

	for (int i = 0; i < SCALE_SIZE(sc); i++)
	{
		cs_check_count(ps, "count", s->counts[i]);
		if (pg_add_s64_overflow(total, s->counts[i], &total))
			cs_parse_fail(ps, "The total count is out of range for bigint.");
	}
}

static int64
score_total(const ScoreSummary *s, const ScoreScale *sc)
{
	int64		total = 0;

	for (int i = 0; i < SCALE_SIZE(sc); i++)
		total = cs_add_count(total, s->counts[i]);
	return total;
}

/* Sum of the counts for scores lo..hi inclusive */
static int64
score_count_between(const ScoreSummary *s, const ScoreScale *sc, int lo, int hi)
{
	int64		n = 0;

	for (int score = lo; score <= hi; score++)
		n = cs_add_count(n, s->counts[score - sc->lo]);
	return n;
}

/* ---------- aggregate support ---------- */

/*
 * The transition state (argument 0, not NULL) of an aggregate call, to be
 * updated in place: the executor's copy of a summary these functions
 * returned, or, for a strict transition with no initial condition, the first
 * input as PostgreSQL copied it.  Anything but a plain summary of the right
 * size is read as a value and copied into the current context: returned,
 * it replaces the state (the executor copies it into the aggregate context
 * and frees the old one).
 */
static ScoreSummary *
score_state(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	struct varlena *raw = (struct varlena *) PG_GETARG_POINTER(0);
	ScoreSummary *copy;

	if (likely(VARATT_IS_4B_U(raw) && VARSIZE(raw) == SCORE_SUMMARY_BYTES(sc)))
		return (ScoreSummary *) raw;
	copy = palloc(SCORE_SUMMARY_BYTES(sc));
	memcpy(copy, score_fetch(PG_GETARG_DATUM(0), sc), SCORE_SUMMARY_BYTES(sc));
	return copy;
}

static Datum
score_accum(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *state;
	int32		score;

	cs_agg_context(fcinfo);
	if (PG_ARGISNULL(0))
	{
		if (PG_ARGISNULL(1))
			PG_RETURN_NULL();
		/* made here, copied into the aggregate context by the executor */
		state = score_new(sc);
	}
	else
		state = (ScoreSummary *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);

	score = PG_GETARG_INT32(1);
	if (unlikely(score < sc->lo || score > sc->hi))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: score must be between %d and %d, got %d",
						sc->fname, sc->lo, sc->hi, score)));
	state->counts[score - sc->lo]++;
	PG_RETURN_POINTER(state);
}

/*
 * Add other into state: the one merge step of score_combine() (the rollup()
 * aggregate) and score_merge() (rollup(a, b)), so that the two agree.
 */
static void
score_merge_into(ScoreSummary *state, const ScoreSummary *other, const ScoreScale *sc)
{
	for (int i = 0; i < SCALE_SIZE(sc); i++)
		state->counts[i] = cs_add_count(state->counts[i], other->counts[i]);
	/* the total must fit too, or the result would not read back */
	(void) score_total(state, sc);
}

/* Combine two summaries; also the transition function of rollup() */
static Datum
score_combine(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *state;
	ScoreSummary *other;
	Datum		result;

	if (cs_combine_nulls(fcinfo, &sc->type, &result))
		return result;
	other = score_fetch(PG_GETARG_DATUM(1), sc);
	state = score_state(fcinfo, sc);
	score_merge_into(state, other, sc);
	PG_RETURN_POINTER(state);
}

/*
 * rollup(a, b) and a + b: the rollup() aggregate over a then b, built in a
 * copy of a (the arguments may be stored values)
 */
static Datum
score_merge(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	void	   *a;
	void	   *b;
	Datum		result;

	if (cs_merge_nulls(fcinfo, &sc->type, &a, &b, &result))
		return result;
	score_merge_into(a, b, sc);
	PG_RETURN_POINTER(a);
}

/*
 * Sliding window frames (moving-aggregate mode).  nps(), csat() and their
 * _agg() forms start from an empty summary (MINITCOND) and take a score back
 * out with score_accum_inv; since every score adds exactly one response, an
 * empty state means no score in the frame, which score_nonempty turns into
 * NULL as the forward aggregate gives.  rollup() runs strict there, so that
 * PostgreSQL itself resets the state to NULL when the last summary leaves, and
 * takes a summary back out with score_uncombine.  Counts are exact, so
 * nothing drifts.  An inverse returns NULL, which makes PostgreSQL recount
 * the frame, if asked to remove what was never added.
 */
static Datum
score_accum_inv(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *state;
	int32		score;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	cs_agg_context(fcinfo);
	state = score_state(fcinfo, sc);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);
	score = PG_GETARG_INT32(1);
	if (score < sc->lo || score > sc->hi || state->counts[score - sc->lo] <= 0)
		PG_RETURN_NULL();
	state->counts[score - sc->lo]--;
	PG_RETURN_POINTER(state);
}

static Datum
score_uncombine(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *state;
	ScoreSummary *other;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	cs_agg_context(fcinfo);
	state = score_state(fcinfo, sc);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);
	other = score_fetch(PG_GETARG_DATUM(1), sc);
	for (int i = 0; i < SCALE_SIZE(sc); i++)
		if (other->counts[i] > state->counts[i])
			PG_RETURN_NULL();
	for (int i = 0; i < SCALE_SIZE(sc); i++)
		state->counts[i] -= other->counts[i];
	PG_RETURN_POINTER(state);
}

/* Moving final function of nps_agg() and csat_agg(): NULL for no responses */
static Datum
score_nonempty(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), sc);

	if (score_total(s, sc) == 0)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(s);
}

/* ---------- I/O ---------- */

static Datum
score_in(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	const char *text = PG_GETARG_CSTRING(0);
	ScoreSummary *s = score_new(sc);
	CsParse		ps;

	cs_parse_init_text(&ps, sc->type.name, text);
	cs_parse_version(&ps);
	cs_parse_key(&ps, "counts");
	cs_parse_char(&ps, '{');
	for (int i = 0; i < SCALE_SIZE(sc); i++)
	{
		if (i > 0)
			cs_parse_char(&ps, ',');
		s->counts[i] = cs_parse_int64(&ps);
	}
	cs_parse_char(&ps, '}');
	cs_parse_end(&ps);
	score_validate(&ps, s, sc);
	PG_RETURN_POINTER(s);
}

static Datum
score_out(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), sc);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d counts={", CS_SUMMARY_VERSION);
	for (int i = 0; i < SCALE_SIZE(sc); i++)
		appendStringInfo(&buf, i > 0 ? "," INT64_FORMAT : INT64_FORMAT, s->counts[i]);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

static Datum
score_recv(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	ScoreSummary *s = score_new(sc);
	CsParse		ps;

	cs_parse_init_binary(&ps, sc->type.name);
	cs_recv_version(&ps, buf);
	for (int i = 0; i < SCALE_SIZE(sc); i++)
		s->counts[i] = pq_getmsgint64(buf);
	pq_getmsgend(buf);
	score_validate(&ps, s, sc);
	PG_RETURN_POINTER(s);
}

static Datum
score_send(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), sc);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	for (int i = 0; i < SCALE_SIZE(sc); i++)
		pq_sendint64(&buf, s->counts[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Half-width of the normal-approximation interval for a difference or share */
static double
margin_of_error(double z, double variance, int64 n)
{
	return z * sqrt(variance / (double) n);
}

/* ---------- SQL-callable: NPS ---------- */

#define SCORE_FUNCS(prefix, scale) \
PG_FUNCTION_INFO_V1(prefix##_accum); \
Datum prefix##_accum(PG_FUNCTION_ARGS) { return score_accum(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_combine); \
Datum prefix##_combine(PG_FUNCTION_ARGS) { return score_combine(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_merge); \
Datum prefix##_merge(PG_FUNCTION_ARGS) { return score_merge(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_accum_inv); \
Datum prefix##_accum_inv(PG_FUNCTION_ARGS) { return score_accum_inv(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_uncombine); \
Datum prefix##_uncombine(PG_FUNCTION_ARGS) { return score_uncombine(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_agg_moving_final); \
Datum prefix##_agg_moving_final(PG_FUNCTION_ARGS) { return score_nonempty(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_summary_in); \
Datum prefix##_summary_in(PG_FUNCTION_ARGS) { return score_in(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_summary_out); \
Datum prefix##_summary_out(PG_FUNCTION_ARGS) { return score_out(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_summary_recv); \
Datum prefix##_summary_recv(PG_FUNCTION_ARGS) { return score_recv(fcinfo, &scale); } \
PG_FUNCTION_INFO_V1(prefix##_summary_send); \
Datum prefix##_summary_send(PG_FUNCTION_ARGS) { return score_send(fcinfo, &scale); }

SCORE_FUNCS(nps, nps_scale)
SCORE_FUNCS(csat, csat_scale)

PG_FUNCTION_INFO_V1(nps_final);
Datum
nps_final(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &nps_scale);
	int64		n = score_total(s, &nps_scale);
	int64		promoters = score_count_between(s, &nps_scale, 9, 10);
	int64		detractors = score_count_between(s, &nps_scale, 0, 6);

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * ((double) promoters - (double) detractors) / (double) n);
}

#define NPS_COUNT_FUNC(name, lo, hi) \
PG_FUNCTION_INFO_V1(name); \
Datum name(PG_FUNCTION_ARGS) \
{ \
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &nps_scale); \
	PG_RETURN_INT64(score_count_between(s, &nps_scale, lo, hi)); \
}

NPS_COUNT_FUNC(nps_responses, 0, 10)
NPS_COUNT_FUNC(nps_promoters, 9, 10)
NPS_COUNT_FUNC(nps_passives, 7, 8)
NPS_COUNT_FUNC(nps_detractors, 0, 6)

/* z * sqrt((p + d - (p - d)^2) / n) * 100, in NPS points */
PG_FUNCTION_INFO_V1(nps_margin_of_error);
Datum
nps_margin_of_error(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &nps_scale);
	double		z = cs_confidence_z("nps_margin_of_error", PG_GETARG_FLOAT8(1));
	int64		n = score_total(s, &nps_scale);
	double		p,
				d;

	if (n == 0)
		PG_RETURN_NULL();
	p = (double) score_count_between(s, &nps_scale, 9, 10) / (double) n;
	d = (double) score_count_between(s, &nps_scale, 0, 6) / (double) n;
	PG_RETURN_FLOAT8(100.0 * margin_of_error(z, p + d - (p - d) * (p - d), n));
}

/* ---------- SQL-callable: CSAT ---------- */

PG_FUNCTION_INFO_V1(csat_final);
Datum
csat_final(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &csat_scale);
	int64		n = score_total(s, &csat_scale);

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((double) score_count_between(s, &csat_scale, 4, 5) / (double) n);
}

PG_FUNCTION_INFO_V1(csat_responses);
Datum
csat_responses(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &csat_scale);

	PG_RETURN_INT64(score_total(s, &csat_scale));
}

PG_FUNCTION_INFO_V1(csat_satisfied);
Datum
csat_satisfied(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &csat_scale);

	PG_RETURN_INT64(score_count_between(s, &csat_scale, 4, 5));
}

/* z * sqrt(p (1 - p) / n), as a fraction */
PG_FUNCTION_INFO_V1(csat_margin_of_error);
Datum
csat_margin_of_error(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), &csat_scale);
	double		z = cs_confidence_z("csat_margin_of_error", PG_GETARG_FLOAT8(1));
	int64		n = score_total(s, &csat_scale);
	double		p;

	if (n == 0)
		PG_RETURN_NULL();
	p = (double) score_count_between(s, &csat_scale, 4, 5) / (double) n;
	PG_RETURN_FLOAT8(margin_of_error(z, p * (1.0 - p), n));
}

/* Counts per score, lowest score first */
static Datum
score_counts_array(FunctionCallInfo fcinfo, const ScoreScale *sc)
{
	ScoreSummary *s = score_fetch(PG_GETARG_DATUM(0), sc);
	Datum	   *elems = palloc(sizeof(Datum) * SCALE_SIZE(sc));

	for (int i = 0; i < SCALE_SIZE(sc); i++)
		elems[i] = Int64GetDatum(s->counts[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, SCALE_SIZE(sc), INT8OID, 8,
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(nps_score_counts);
Datum
nps_score_counts(PG_FUNCTION_ARGS)
{
	return score_counts_array(fcinfo, &nps_scale);
}

PG_FUNCTION_INFO_V1(csat_score_counts);
Datum
csat_score_counts(PG_FUNCTION_ARGS)
{
	return score_counts_array(fcinfo, &csat_scale);
}
