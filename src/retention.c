/*
 * retention.c
 *	  Revenue retention and churn over one period, and MRR movements.
 *
 * Input is one row per customer with its MRR at the start and at the end of
 * the period.  A customer is starting if mrr_start > 0, churned if starting
 * and mrr_end = 0, new if mrr_start = 0 and mrr_end > 0.  The summary keeps
 * compensated sums of the MRR in each role and the customer counts, from
 * which every rate is one division.  The direct aggregates (nrr(s, e), ...)
 * share the transition and combine functions of retention_agg() and use the
 * accessor as final function, so there is one state type for all of them.
 */
#include "postgres.h"

#include <float.h>

#include "cs_common.h"
#include "libpq/pqformat.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define RETENTION_TYPE	"retention_summary"

typedef struct RetentionSummary
{
	CS_SUMMARY_HEADER;
	int64		starting_customers; /* mrr_start > 0 */
	int64		churned_customers;	/* starting, mrr_end = 0 */
	int64		new_customers;		/* mrr_start = 0, mrr_end > 0 */
	CsSum		starting;		/* sum of mrr_start */
	CsSum		retained;		/* sum of mrr_end over starting customers */
	CsSum		new_mrr;		/* sum of mrr_end over new customers */
	CsSum		expansion;		/* sum of max(end - start, 0), still paying */
	CsSum		contraction;	/* sum of max(start - end, 0), still paying */
	CsSum		churned;		/* sum of mrr_start over churned customers */
} RetentionSummary;

#define RETENTION_BYTES		sizeof(RetentionSummary)

static RetentionSummary *
retention_new(MemoryContext ctx)
{
	RetentionSummary *s = MemoryContextAllocZero(ctx, RETENTION_BYTES);

	SET_VARSIZE(s, RETENTION_BYTES);
	s->version = CS_SUMMARY_VERSION;
	return s;
}

static const CsSummaryType retention_type = {RETENTION_TYPE, RETENTION_BYTES, NULL};

static RetentionSummary *
retention_fetch(Datum d)
{
	return cs_summary_fetch(&retention_type, d);
}

/*
 * What any summary built from valid rows satisfies.  Sums of positive
 * numbers are positive (also with compensation), so a count is zero exactly
 * when its sum is; partial sums cannot exceed the whole beyond rounding.
 */
static void
retention_validate(CsParse *ps, const RetentionSummary *s)
{
	double		start = cs_sum_value(&s->starting);
	double		tol = start * 1e-9;

	cs_check_count(ps, "number of starting customers", s->starting_customers);
	cs_check_count(ps, "number of churned customers", s->churned_customers);
	cs_check_count(ps, "number of new customers", s->new_customers);
	cs_check_sum(ps, "starting MRR", &s->starting, true);
	cs_check_sum(ps, "retained MRR", &s->retained, true);
	cs_check_sum(ps, "new MRR", &s->new_mrr, true);
	cs_check_sum(ps, "expansion MRR", &s->expansion, true);
	cs_check_sum(ps, "contraction MRR", &s->contraction, true);
	cs_check_sum(ps, "churned MRR", &s->churned, true);

	if (s->churned_customers > s->starting_customers)
		cs_parse_fail(ps, "More churned customers (" INT64_FORMAT ") than starting customers (" INT64_FORMAT ").",
					  s->churned_customers, s->starting_customers);
	if ((s->starting_customers == 0) != (start == 0))
		cs_parse_fail(ps, "The starting MRR must be positive exactly when there are starting customers.");
	if ((s->churned_customers == 0) != (cs_sum_value(&s->churned) == 0))
		cs_parse_fail(ps, "The churned MRR must be positive exactly when there are churned customers.");
	if ((s->new_customers == 0) != (cs_sum_value(&s->new_mrr) == 0))
		cs_parse_fail(ps, "The new MRR must be positive exactly when there are new customers.");
	if ((s->starting_customers == s->churned_customers) != (cs_sum_value(&s->retained) == 0))
		cs_parse_fail(ps, "The retained MRR must be positive exactly when some starting customers still pay.");
	if (s->starting_customers == s->churned_customers &&
		(cs_sum_value(&s->expansion) != 0 || cs_sum_value(&s->contraction) != 0))
		cs_parse_fail(ps, "Expansion and contraction need starting customers who still pay.");
	if (cs_sum_value(&s->churned) + cs_sum_value(&s->contraction) > start + tol)
		cs_parse_fail(ps, "Churned and contraction MRR exceed the starting MRR.");
}

/* ---------- aggregate support ---------- */

/*
 * Reports a negative, NaN or infinite MRR, naming the aggregate called
 * (nrr, retention_agg, ...).  Kept out of line so the transition stays small.
 */
static pg_noinline void
retention_bad_mrr(FunctionCallInfo fcinfo, const char *what, double v)
{
	cs_require_nonnegative(cs_agg_name(fcinfo, "retention_agg"), what, v);
	elog(ERROR, "%s %g reported as invalid", what, v);
}

/*
 * The transition function of retention_agg() and of every direct retention
 * aggregate: one pass with one branch on the customer's role.  The state
 * lives in the aggregate context and is updated in place.
 */
PG_FUNCTION_INFO_V1(retention_accum);
Datum
retention_accum(PG_FUNCTION_ARGS)
{
	RetentionSummary *state;
	double		start,
				end;

	if (unlikely(PG_ARGISNULL(0)))
	{
		cs_agg_context(fcinfo);
		if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
			PG_RETURN_NULL();
		/* made here, copied into the aggregate context by the executor */
		state = retention_new(CurrentMemoryContext);
	}
	else
	{
		/* modifying the state in place is only safe inside an aggregate */
		cs_require_agg(fcinfo);
		state = (RetentionSummary *) PG_GETARG_POINTER(0);
		if (unlikely(PG_ARGISNULL(1) || PG_ARGISNULL(2)))
			PG_RETURN_POINTER(state);
	}

	start = PG_GETARG_FLOAT8(1);
	end = PG_GETARG_FLOAT8(2);
	/* also false for NaN */
	if (unlikely(!(start >= 0 && start <= DBL_MAX)))
		retention_bad_mrr(fcinfo, "mrr_start", start);
	if (unlikely(!(end >= 0 && end <= DBL_MAX)))
		retention_bad_mrr(fcinfo, "mrr_end", end);

	if (start > 0)
	{
		state->starting_customers++;
		cs_sum_add(&state->starting, start);
		if (end > 0)
		{
			double		d = end - start;

			cs_sum_add(&state->retained, end);
			if (d > 0)
				cs_sum_add(&state->expansion, d);
			else if (d < 0)
				cs_sum_add(&state->contraction, -d);
		}
		else
		{
			state->churned_customers++;
			cs_sum_add(&state->churned, start);
		}
	}
	else if (end > 0)
	{
		state->new_customers++;
		cs_sum_add(&state->new_mrr, end);
	}
	PG_RETURN_POINTER(state);
}

/*
 * Add other into state: the one merge step of retention_combine() (the
 * rollup() aggregate) and retention_merge() (rollup(a, b)), so that the two
 * agree.
 */
static void
retention_merge_into(RetentionSummary *state, const RetentionSummary *other)
{
	state->starting_customers = cs_add_count(state->starting_customers, other->starting_customers);
	state->churned_customers = cs_add_count(state->churned_customers, other->churned_customers);
	state->new_customers = cs_add_count(state->new_customers, other->new_customers);
	cs_sum_merge(&state->starting, &other->starting);
	cs_sum_merge(&state->retained, &other->retained);
	cs_sum_merge(&state->new_mrr, &other->new_mrr);
	cs_sum_merge(&state->expansion, &other->expansion);
	cs_sum_merge(&state->contraction, &other->contraction);
	cs_sum_merge(&state->churned, &other->churned);
}

/* Combine two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(retention_combine);
Datum
retention_combine(PG_FUNCTION_ARGS)
{
	RetentionSummary *state;
	RetentionSummary *other;
	Datum		result;

	if (cs_combine_nulls(fcinfo, &retention_type, &result))
		return result;
	other = retention_fetch(PG_GETARG_DATUM(1));
	state = (RetentionSummary *) PG_GETARG_POINTER(0);
	retention_merge_into(state, other);
	PG_RETURN_POINTER(state);
}

/*
 * rollup(a, b) and a + b: the rollup() aggregate over a then b, built in a
 * copy of a (the arguments may be stored values)
 */
PG_FUNCTION_INFO_V1(retention_merge);
Datum
retention_merge(PG_FUNCTION_ARGS)
{
	void	   *a;
	void	   *b;
	Datum		result;

	if (cs_merge_nulls(fcinfo, &retention_type, &a, &b, &result))
		return result;
	retention_merge_into(a, b);
	PG_RETURN_POINTER(a);
}

/* ---------- I/O ---------- */

static const char *const retention_sum_keys[] = {
	"starting_mrr", "retained_mrr", "new_mrr",
	"expansion_mrr", "contraction_mrr", "churned_mrr"
};

static CsSum *
retention_sum_field(RetentionSummary *s, int i)
{
	CsSum	   *fields[] = {&s->starting, &s->retained, &s->new_mrr,
	&s->expansion, &s->contraction, &s->churned};

	return fields[i];
}

#define RETENTION_NSUMS lengthof(retention_sum_keys)

PG_FUNCTION_INFO_V1(retention_summary_in);
Datum
retention_summary_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	RetentionSummary *s = retention_new(CurrentMemoryContext);
	CsParse		ps;

	cs_parse_init_text(&ps, RETENTION_TYPE, text);
	cs_parse_version(&ps);
	cs_parse_key(&ps, "starting");
	s->starting_customers = cs_parse_int64(&ps);
	cs_parse_key(&ps, "churned");
	s->churned_customers = cs_parse_int64(&ps);
	cs_parse_key(&ps, "new");
	s->new_customers = cs_parse_int64(&ps);
	for (int i = 0; i < (int) RETENTION_NSUMS; i++)
	{
		cs_parse_key(&ps, retention_sum_keys[i]);
		cs_parse_sum(&ps, retention_sum_field(s, i));
	}
	cs_parse_end(&ps);
	retention_validate(&ps, s);
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(retention_summary_out);
Datum
retention_summary_out(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = retention_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d starting=" INT64_FORMAT " churned=" INT64_FORMAT " new=" INT64_FORMAT,
					 CS_SUMMARY_VERSION, s->starting_customers, s->churned_customers,
					 s->new_customers);
	for (int i = 0; i < (int) RETENTION_NSUMS; i++)
	{
		appendStringInfo(&buf, " %s=", retention_sum_keys[i]);
		cs_append_sum(&buf, retention_sum_field(s, i));
	}
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(retention_summary_recv);
Datum
retention_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	RetentionSummary *s = retention_new(CurrentMemoryContext);
	CsParse		ps;

	cs_parse_init_binary(&ps, RETENTION_TYPE);
	cs_recv_version(&ps, buf);
	s->starting_customers = pq_getmsgint64(buf);
	s->churned_customers = pq_getmsgint64(buf);
	s->new_customers = pq_getmsgint64(buf);
	for (int i = 0; i < (int) RETENTION_NSUMS; i++)
		cs_recv_sum(buf, retention_sum_field(s, i));
	pq_getmsgend(buf);
	retention_validate(&ps, s);
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(retention_summary_send);
Datum
retention_summary_send(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = retention_fetch(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendint64(&buf, s->starting_customers);
	pq_sendint64(&buf, s->churned_customers);
	pq_sendint64(&buf, s->new_customers);
	for (int i = 0; i < (int) RETENTION_NSUMS; i++)
		cs_send_sum(&buf, retention_sum_field(s, i));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- accessors (also the final functions of the direct aggregates) ---------- */

#define SUMMARY_ARG()	retention_fetch(PG_GETARG_DATUM(0))

static inline void
retention_sub(CsSum *into, const CsSum *x)
{
	CsSum		neg = {-x->sum, -x->comp};

	cs_sum_merge(into, &neg);
}

/*
 * A compensated numerator over the starting MRR, so that a rate close to 1
 * keeps its digits; NULL when there are no starting customers.
 */
static Datum
retention_ratio(FunctionCallInfo fcinfo, const RetentionSummary *s, const CsSum *num)
{
	double		r;

	if (s->starting_customers == 0)
		PG_RETURN_NULL();
	r = cs_sum_value(num) / cs_sum_value(&s->starting);
	/* e.g. an expansion near DBL_MAX over a starting MRR below 1 */
	if (unlikely(isinf(r)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: result is out of range for double precision",
						get_func_name(fcinfo->flinfo->fn_oid))));
	PG_RETURN_FLOAT8(r);
}

/* net revenue retention: sum of end over starting customers / starting MRR */
PG_FUNCTION_INFO_V1(retention_nrr);
Datum
retention_nrr(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();

	return retention_ratio(fcinfo, s, &s->retained);
}

/* gross revenue retention: (starting - churned - contraction) / starting */
PG_FUNCTION_INFO_V1(retention_grr);
Datum
retention_grr(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		num = s->starting;

	retention_sub(&num, &s->churned);
	retention_sub(&num, &s->contraction);
	return retention_ratio(fcinfo, s, &num);
}

PG_FUNCTION_INFO_V1(retention_customer_churn_rate);
Datum
retention_customer_churn_rate(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();

	if (s->starting_customers == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((double) s->churned_customers / (double) s->starting_customers);
}

/* cancellations only: churned MRR / starting MRR */
PG_FUNCTION_INFO_V1(retention_revenue_churn_rate);
Datum
retention_revenue_churn_rate(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();

	return retention_ratio(fcinfo, s, &s->churned);
}

/* (churned + contraction) / starting = 1 - GRR */
PG_FUNCTION_INFO_V1(retention_gross_revenue_churn_rate);
Datum
retention_gross_revenue_churn_rate(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		num = s->churned;

	cs_sum_merge(&num, &s->contraction);
	return retention_ratio(fcinfo, s, &num);
}

/* (churned + contraction - expansion) / starting = 1 - NRR */
PG_FUNCTION_INFO_V1(retention_net_revenue_churn_rate);
Datum
retention_net_revenue_churn_rate(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		num = s->churned;

	cs_sum_merge(&num, &s->contraction);
	retention_sub(&num, &s->expansion);
	return retention_ratio(fcinfo, s, &num);
}

#define RETENTION_SUM_ACCESSOR(name, field) \
PG_FUNCTION_INFO_V1(name); \
Datum name(PG_FUNCTION_ARGS) \
{ \
	RetentionSummary *s = SUMMARY_ARG(); \
	PG_RETURN_FLOAT8(cs_sum_value(&s->field)); \
}

RETENTION_SUM_ACCESSOR(retention_starting_mrr, starting)
RETENTION_SUM_ACCESSOR(retention_new_mrr, new_mrr)
RETENTION_SUM_ACCESSOR(retention_expansion_mrr, expansion)
RETENTION_SUM_ACCESSOR(retention_contraction_mrr, contraction)
RETENTION_SUM_ACCESSOR(retention_churned_mrr, churned)
RETENTION_SUM_ACCESSOR(retention_retained_mrr, retained)

/* MRR at the end of the period: retained plus new */
PG_FUNCTION_INFO_V1(retention_ending_mrr);
Datum
retention_ending_mrr(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		total = s->retained;

	cs_sum_merge(&total, &s->new_mrr);
	PG_RETURN_FLOAT8(cs_sum_value(&total));
}

#define RETENTION_COUNT_ACCESSOR(name, field) \
PG_FUNCTION_INFO_V1(name); \
Datum name(PG_FUNCTION_ARGS) \
{ \
	RetentionSummary *s = SUMMARY_ARG(); \
	PG_RETURN_INT64(s->field); \
}

RETENTION_COUNT_ACCESSOR(retention_starting_customers, starting_customers)
RETENTION_COUNT_ACCESSOR(retention_churned_customers, churned_customers)
RETENTION_COUNT_ACCESSOR(retention_new_customers, new_customers)

/* ---------- MRR movement of one customer between two periods ---------- */

typedef enum MrrMovement
{
	MOVE_NEW, MOVE_REACTIVATION, MOVE_EXPANSION, MOVE_CONTRACTION,
	MOVE_CHURN, MOVE_RETAINED, MOVE_INACTIVE, MOVE_COUNT
} MrrMovement;

static const char *const mrr_movement_names[MOVE_COUNT] = {
	"new", "reactivation", "expansion", "contraction", "churn", "retained", "inactive"
};

/* the previous or current MRR: NULL counts as 0; negative, NaN, infinite are errors */
static inline double
mrr_movement_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	double		v;

	if (PG_ARGISNULL(argno))
		return 0.0;
	v = PG_GETARG_FLOAT8(argno);
	if (unlikely(!(v >= 0 && v <= DBL_MAX)))
		cs_require_nonnegative("mrr_movement", what, v);
	return v;
}

/*
 * 'new', 'reactivation', 'expansion', 'contraction', 'churn', 'retained'
 * or 'inactive'; NULL MRR counts as 0 and a NULL was_customer as false.
 * The seven text values are built once per call site (in fn_mcxt); each
 * call returns a fresh copy of one, since a caller may free or modify what a
 * function returns.
 */
PG_FUNCTION_INFO_V1(mrr_movement);
Datum
mrr_movement(PG_FUNCTION_ARGS)
{
	double		prev = mrr_movement_arg(fcinfo, 0, "previous_mrr");
	double		cur = mrr_movement_arg(fcinfo, 1, "current_mrr");
	bool		was_customer = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	text	  **names = (text **) fcinfo->flinfo->fn_extra;
	MrrMovement m;

	if (prev == 0)
		m = cur == 0 ? MOVE_INACTIVE : (was_customer ? MOVE_REACTIVATION : MOVE_NEW);
	else if (cur == 0)
		m = MOVE_CHURN;
	else if (cur > prev)
		m = MOVE_EXPANSION;
	else if (cur < prev)
		m = MOVE_CONTRACTION;
	else
		m = MOVE_RETAINED;

	if (unlikely(names == NULL))
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		names = palloc(sizeof(text *) * MOVE_COUNT);
		for (int i = 0; i < MOVE_COUNT; i++)
			names[i] = cstring_to_text(mrr_movement_names[i]);
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = names;
	}
	PG_RETURN_TEXT_P(memcpy(palloc(VARSIZE(names[m])), names[m], VARSIZE(names[m])));
}

/* ---------- SaaS dashboard ratios ---------- */

/* num / den, an error if it overflows (e.g. a loss of 1e-300) */
static Datum
retention_divide(FunctionCallInfo fcinfo, double num, double den)
{
	double		r = num / den;

	if (unlikely(isinf(r)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: result is out of range for double precision",
						get_func_name(fcinfo->flinfo->fn_oid))));
	PG_RETURN_FLOAT8(r);
}

/*
 * Customers paying at the end: the starting customers who did not churn
 * plus the new ones.  The summary has no count of its own for them, and
 * needs none: every customer with mrr_end > 0 is one or the other.
 */
static inline int64
retention_ending_count(const RetentionSummary *s)
{
	return cs_add_count(s->starting_customers - s->churned_customers, s->new_customers);
}

PG_FUNCTION_INFO_V1(retention_ending_customers);
Datum
retention_ending_customers(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(retention_ending_count(SUMMARY_ARG()));
}

/* (new + expansion MRR) / (contraction + churned MRR); NULL when nothing was lost */
PG_FUNCTION_INFO_V1(retention_quick_ratio);
Datum
retention_quick_ratio(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		gained = s->new_mrr;
	CsSum		lost = s->contraction;
	double		den;

	cs_sum_merge(&gained, &s->expansion);
	cs_sum_merge(&lost, &s->churned);
	den = cs_sum_value(&lost);
	if (!(den > 0))
		PG_RETURN_NULL();
	return retention_divide(fcinfo, cs_sum_value(&gained), den);
}

/*
 * ending MRR / starting MRR - 1, computed as (retained + new - starting) /
 * starting so that a small growth keeps its digits; NULL without starting
 * MRR
 */
PG_FUNCTION_INFO_V1(retention_mrr_growth_rate);
Datum
retention_mrr_growth_rate(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		num = s->retained;

	cs_sum_merge(&num, &s->new_mrr);
	retention_sub(&num, &s->starting);
	return retention_ratio(fcinfo, s, &num);
}

/* average revenue per account: ending MRR / ending customers */
PG_FUNCTION_INFO_V1(retention_arpa);
Datum
retention_arpa(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	int64		n = retention_ending_count(s);
	CsSum		total = s->retained;

	if (n == 0)
		PG_RETURN_NULL();
	cs_sum_merge(&total, &s->new_mrr);
	PG_RETURN_FLOAT8(cs_sum_value(&total) / (double) n);
}

/* annual run rate: 12 x ending MRR */
PG_FUNCTION_INFO_V1(retention_arr);
Datum
retention_arr(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();
	CsSum		total = s->retained;

	cs_sum_merge(&total, &s->new_mrr);
	return retention_divide(fcinfo, 12.0 * cs_sum_value(&total), 1.0);
}

/* new MRR / new customers; NULL without new customers */
PG_FUNCTION_INFO_V1(retention_average_sale_price);
Datum
retention_average_sale_price(PG_FUNCTION_ARGS)
{
	RetentionSummary *s = SUMMARY_ARG();

	if (s->new_customers == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(cs_sum_value(&s->new_mrr) / (double) s->new_customers);
}
