/*
 * survival.c
 *	  Cohort churn with censoring: the Kaplan-Meier estimator, with late
 *	  entry (left truncation) and case weights, as R's survfit(); the
 *	  aggregates that build a survival_summary and the functions that read
 *	  one.  The summary itself (its layouts, the hashed working form, reading,
 *	  validation, text and binary I/O) is survival_summary.c.
 *
 * Kaplan-Meier: with n_i customers (weight) at risk at the i-th distinct
 * time t_i and d_i churn events there, S(t) = prod over t_i <= t of
 * (1 - d_i / n_i).  A customer is at risk at t when entry < t <= duration,
 * so customers censored at t_i count as at risk at t_i (events come first)
 * and those entering at t_i do not.
 */#include "postgres.h"

#include <float.h>

#include "cs_common.h"
#include "miscadmin.h"
#include "survival_summary.h"
#include "utils/builtins.h"

/* A median is taken where S falls to 0.5 within rounding of the product */
#define SURV_MEDIAN_TOLERANCE	1e-12

/* ---------- aggregate support ---------- */

static inline double
surv_check_duration(const char *fname, double duration)
{
	if (unlikely(!(duration >= 0.0 && duration <= DBL_MAX)))
		cs_require_nonnegative(fname, "duration", duration);
	/* -0 and 0 are one duration */
	return duration + 0.0;
}

/* A row of survival_agg(duration, churned) in a state of the weighted layout */
static pg_noinline SurvivalSummary *
surv_count_row_x(SurvivalSummary *state, double duration, bool churned)
{
	SurvivalXPoint *p;

	state = surv_reserve(state, 1);
	p = surv_xslot(state, duration);
	if (churned)
		p->churned += 1.0;
	else
		p->censored += 1.0;
	return state;
}

static inline SurvivalSummary *
surv_count_row(SurvivalSummary *state, double duration, bool churned)
{
	SurvivalPoint *p;

	if (unlikely(state->flags & SURV_FLAG_ENTRY))
		return surv_count_row_x(state, duration, churned);
	if (state->bufcap > 0)
	{
		SURV_BUFFER_OF(state)[state->nbuffered++] = churned ? duration : -duration;
		if (state->nbuffered == state->bufcap)
			state = surv_flush(state);
		return state;
	}
	state = surv_reserve(state, 1);
	p = surv_slot(state, duration);
	p->churned += churned;
	p->censored += !churned;
	return state;
}

PG_FUNCTION_INFO_V1(survival_accum);
Datum
survival_accum(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state;
	double		duration;

	cs_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = surv_check_duration("survival_agg", PG_GETARG_FLOAT8(1));
	state = surv_working_state(fcinfo, 0, 1);
	PG_RETURN_POINTER(surv_count_row(state, duration, PG_GETARG_BOOL(2)));
}

/*
 * survival_agg(duration, churned, entry [, weight]): the row's entry time
 * and its weight go into a state of the weighted layout.  A row of weight 0
 * adds nothing.  An entry of 0 means observed from the start, for any
 * duration >= 0: the row counts exactly as in survival_agg(duration,
 * churned) (at risk at every t <= duration, t = 0 included, so churn at 0
 * stays possible), and records no entry.  R's Surv(0, 0, event) is NA
 * (dropped with a warning); R's equivalent of such a row is
 * Surv(duration, event) or Surv(-1, duration, event).  An entry above 0
 * must be below the duration (entry < t <= duration, as R's Surv(entry,
 * duration, event)).
 */
static Datum
surv_accum_entry(FunctionCallInfo fcinfo, bool has_weight)
{
	SurvivalSummary *state;
	SurvivalXPoint *p;
	double		duration;
	double		entry;
	double		weight = 1.0;

	cs_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || (has_weight && PG_ARGISNULL(4)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = surv_check_duration("survival_agg", PG_GETARG_FLOAT8(1));
	entry = PG_GETARG_FLOAT8(3);
	if (unlikely(!(entry >= 0.0 && (entry < duration || entry == 0.0))))
	{
		if (!(entry >= 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("survival_agg: entry must be a number not below 0, got %g", entry)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_agg: entry must be less than duration, got entry %g and duration %g",
						entry, duration),
				 errhint("A customer is at risk when entry < t <= duration; an entry of 0 means observed from the start.")));
	}
	if (has_weight)
	{
		weight = PG_GETARG_FLOAT8(4);
		if (unlikely(!(weight >= 0.0 && weight <= DBL_MAX)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("survival_agg: weight must be finite and not negative, got %g", weight)));
		if (weight == 0.0)
		{
			if (PG_ARGISNULL(0))
				PG_RETURN_NULL();
			PG_RETURN_POINTER(PG_GETARG_POINTER(0));
		}
	}
	state = surv_working_state(fcinfo, SURV_FLAG_ENTRY, 2);
	state = surv_reserve(state, 2);
	/* entry 0: at risk from the start, as in survival_agg(duration, churned) */
	if (entry > 0.0)
	{
		p = surv_xslot(state, entry);
		p->entered += weight;
	}
	p = surv_xslot(state, duration);
	if (PG_GETARG_BOOL(2))
		p->churned += weight;
	else
		p->censored += weight;
	if (weight != 1.0)
		state->flags |= SURV_FLAG_WEIGHTED;
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(survival_entry_accum);
Datum
survival_entry_accum(PG_FUNCTION_ARGS)
{
	return surv_accum_entry(fcinfo, false);
}

PG_FUNCTION_INFO_V1(survival_weighted_accum);
Datum
survival_weighted_accum(PG_FUNCTION_ARGS)
{
	return surv_accum_entry(fcinfo, true);
}

static void
surv_set_at(SurvivalSummary *state, double t)
{
	if (!(state->flags & SURV_FLAG_AT))
	{
		state->flags |= SURV_FLAG_AT;
		state->at = t;
	}
	else if (state->at != t)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort_churn: t must be the same in every row, got %g after %g",
						t, state->at)));
}

/* cohort_churn(duration, churned, t): survival_agg that also keeps t */
PG_FUNCTION_INFO_V1(survival_cohort_accum);
Datum
survival_cohort_accum(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state;
	double		duration;
	double		t;

	cs_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = surv_check_duration("cohort_churn", PG_GETARG_FLOAT8(1));
	t = PG_GETARG_FLOAT8(3);
	state = surv_working_state(fcinfo, 0, 1);
	if (unlikely(!(state->flags & SURV_FLAG_AT) || state->at != t))
	{
		cs_require_nonnegative("cohort_churn", "t", t);
		surv_set_at(state, t + 0.0);
	}
	PG_RETURN_POINTER(surv_count_row(state, duration, PG_GETARG_BOOL(2)));
}

/*
 * Merge the sorted summary other into state (NULL for none yet): the one
 * merge step of survival_combine() (the rollup() aggregate) and of
 * survival_merge() (rollup(a, b)), so that the two agree.  state is changed
 * in place only when it is a working form; else, and when the table grows,
 * the result is a new value in the current context.
 */
static SurvivalSummary *
surv_combine_into(SurvivalSummary *state, const SurvivalSummary *other)
{
	state = cs_working_of(&survival_summary_type, state,
						  other->flags & SURV_FLAG_ENTRY, other->npoints);
	if (other->flags & SURV_FLAG_AT)
		surv_set_at(state, other->at);
	if (state->flags & SURV_FLAG_ENTRY)
		state->flags |= other->flags & SURV_FLAG_WEIGHTED;
	for (int32 i = 0; i < other->npoints; i++)
	{
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		state = surv_reserve(state, 1);
		if (state->flags & SURV_FLAG_ENTRY)
		{
			SurvivalXPoint x = surv_xpoint_of(other, i, "rollup");

			surv_add_xpoint(state, &x);
		}
		else
			surv_add_counts(state, &other->points[i]);
	}
	return state;
}

/* Merge two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(survival_combine);
Datum
survival_combine(PG_FUNCTION_ARGS)
{
	Datum		result;

	if (cs_working_combine_nulls(fcinfo, &survival_summary_type, &result))
		return result;
	PG_RETURN_POINTER(surv_combine_into(PG_ARGISNULL(0) ? NULL : (SurvivalSummary *) PG_GETARG_POINTER(0),
										survival_read(PG_GETARG_DATUM(1))));
}

/*
 * rollup(a, b) and a + b: what the rollup() aggregate does over a then b
 * (each merged into a working state of its own, never into an argument,
 * which may be a stored value), then its final function: the sorted
 * summary.  A NULL argument is skipped, as the aggregate skips it.
 */
PG_FUNCTION_INFO_V1(survival_merge);
Datum
survival_merge(PG_FUNCTION_ARGS)
{
	SurvivalSummary *state = NULL;

	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(i))
			state = surv_combine_into(state, survival_read(PG_GETARG_DATUM(i)));
	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(survival_read(PointerGetDatum(state)));
}

/* Final function of survival_agg() and rollup(): the sorted summary */
PG_FUNCTION_INFO_V1(survival_agg_final);
Datum
survival_agg_final(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(survival_read(PG_GETARG_DATUM(0)));
}

/* ---------- Kaplan-Meier ---------- */

/*
 * A summary read for the estimators: its points, and the weight at risk at
 * each, n_i = (weight leaving at or after t_i) - (weight entering at or
 * after t_i), summed backwards as R does.  Rounding of weights can never
 * leave fewer at risk than leave there.
 */
typedef struct SurvCurve
{
	SurvData	d;
	double	   *risk;
} SurvCurve;

static void
surv_curve_of(const SurvivalSummary *s, SurvCurve *c)
{
	double		exits = 0.0;
	double		entries = 0.0;

	surv_data_of(s, &c->d);
	c->risk = palloc(sizeof(double) * Max(c->d.npoints, 1));
	for (int32 i = c->d.npoints - 1; i >= 0; i--)
	{
		const SurvDataPoint *p = &c->d.points[i];
		double		leave = p->churned + p->censored;

		exits += leave;
		entries += p->entered;
		c->risk[i] = Max(exits - entries, leave);
	}
}

/* Read a summary argument for the estimators; false if it is empty */
static bool
surv_curve_arg(FunctionCallInfo fcinfo, int argno, SurvCurve *c)
{
	surv_curve_of(survival_read(PG_GETARG_DATUM(argno)), c);
	return c->d.npoints > 0;
}

static double
surv_require_age(const char *fname, const char *what, double t)
{
	cs_require_nonnegative(fname, what, t);
	return t;
}

/*
 * One Kaplan-Meier step at point i: S drops by the share of those at risk
 * who churn there.
 */
static inline void
surv_step(const SurvCurve *c, int32 i, double *surv)
{
	double		d = c->d.points[i].churned;

	if (d > 0)
		*surv *= (c->risk[i] - d) / c->risk[i];
}

/* S(t) */
static double
surv_at(const SurvCurve *c, double t)
{
	double		surv = 1.0;

	for (int32 i = 0; i < c->d.npoints && c->d.points[i].t <= t; i++)
		surv_step(c, i, &surv);
	return surv;
}

/*
 * The arguments (summary, age) of the functions of S at an age: false when
 * the summary is empty; the age checked into *t.
 */
static bool
surv_age_args(FunctionCallInfo fcinfo, const char *fname, const char *what,
			  SurvCurve *c, double *t)
{
	bool		nonempty = surv_curve_arg(fcinfo, 0, c);

	*t = surv_require_age(fname, what, PG_GETARG_FLOAT8(1));
	return nonempty;
}

PG_FUNCTION_INFO_V1(survival_at);
Datum
survival_at(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		t;

	if (!surv_age_args(fcinfo, "survival_at", "t", &c, &t))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(surv_at(&c, t));
}

PG_FUNCTION_INFO_V1(churn_rate_at);
Datum
churn_rate_at(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		t;

	if (!surv_age_args(fcinfo, "churn_rate_at", "t", &c, &t))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(1.0 - surv_at(&c, t));
}

/* Nelson-Aalen H(t) = sum over t_i <= t of d_i / n_i */
PG_FUNCTION_INFO_V1(cumulative_hazard_at);
Datum
cumulative_hazard_at(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		t;
	CsSum		h = {0.0, 0.0};

	if (!surv_age_args(fcinfo, "cumulative_hazard_at", "t", &c, &t))
		PG_RETURN_NULL();
	for (int32 i = 0; i < c.d.npoints && c.d.points[i].t <= t; i++)
		if (c.d.points[i].churned > 0)
			cs_sum_add(&h, c.d.points[i].churned / c.risk[i]);
	PG_RETURN_FLOAT8(cs_sum_value(&h));
}

/* Final function of cohort_churn(): 1 - S(t) at the t the rows carried */
PG_FUNCTION_INFO_V1(survival_cohort_final);
Datum
survival_cohort_final(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	SurvCurve	c;

	if (!(s->flags & SURV_FLAG_AT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_cohort_final: the summary carries no age t"),
				 errhint("Use churn_rate_at(summary, t).")));
	if (s->npoints == 0)
		PG_RETURN_NULL();
	surv_curve_of(s, &c);
	PG_RETURN_FLOAT8(1.0 - surv_at(&c, s->at));
}

PG_FUNCTION_INFO_V1(median_lifetime);
Datum
median_lifetime(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		surv = 1.0;

	(void) surv_curve_arg(fcinfo, 0, &c);
	for (int32 i = 0; i < c.d.npoints; i++)
	{
		surv_step(&c, i, &surv);
		if (c.d.points[i].churned > 0 && surv <= 0.5 + SURV_MEDIAN_TOLERANCE)
			PG_RETURN_FLOAT8(c.d.points[i].t);
	}
	PG_RETURN_NULL();
}

/* Area under the step function S from 0 to horizon */
static double
surv_mean(const SurvCurve *c, double horizon)
{
	double		surv = 1.0;
	double		prev = 0.0;
	CsSum		area = {0.0, 0.0};

	for (int32 i = 0; i < c->d.npoints && c->d.points[i].t <= horizon; i++)
	{
		cs_sum_add(&area, surv * (c->d.points[i].t - prev));
		prev = c->d.points[i].t;
		surv_step(c, i, &surv);
	}
	cs_sum_add(&area, surv * (horizon - prev));
	return cs_sum_value(&area);
}

PG_FUNCTION_INFO_V1(mean_lifetime);
Datum
mean_lifetime(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		horizon;

	if (!surv_age_args(fcinfo, "mean_lifetime", "horizon", &c, &horizon))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(surv_mean(&c, horizon));
}

/*
 * Standard error of the restricted mean, as R's print(survfit, rmean =
 * horizon): the square root of the sum over event times t_i <= horizon of
 * A_i^2 d_i / (n_i (n_i - d_i)), A_i being the area under S from t_i to the
 * horizon (a time where everyone at risk churns adds nothing).
 */
PG_FUNCTION_INFO_V1(mean_lifetime_std_error);
Datum
mean_lifetime_std_error(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	double		horizon;
	double	   *surv_before;
	int32		m = 0;
	double		after = 0.0;
	CsSum		var = {0.0, 0.0};
	double		surv = 1.0;

	if (!surv_age_args(fcinfo, "mean_lifetime_std_error", "horizon", &c, &horizon))
		PG_RETURN_NULL();
	/* S just before each point up to the horizon */
	surv_before = palloc(sizeof(double) * c.d.npoints);
	for (; m < c.d.npoints && c.d.points[m].t <= horizon; m++)
	{
		surv_before[m] = surv;
		surv_step(&c, m, &surv);
	}
	/* backwards: A_i = S(t_i) (t_{i+1} - t_i) + A_{i+1}, the last to the horizon */
	for (int32 i = m - 1; i >= 0; i--)
	{
		const SurvDataPoint *p = &c.d.points[i];
		double		next = (i + 1 < m) ? c.d.points[i + 1].t : horizon;
		double		s_after = (i + 1 < m) ? surv_before[i + 1] : surv;
		double		n = c.risk[i];

		after += s_after * (next - p->t);
		if (p->churned > 0 && n > p->churned)
			cs_sum_add(&var, after * after * p->churned / (n * (n - p->churned)));
	}
	PG_RETURN_FLOAT8(sqrt(cs_sum_value(&var)));
}

/* ltv(summary, arpa, gross_margin, horizon) = arpa * gross_margin * mean lifetime */
PG_FUNCTION_INFO_V1(survival_ltv);
Datum
survival_ltv(PG_FUNCTION_ARGS)
{
	SurvCurve	c;
	bool		nonempty = surv_curve_arg(fcinfo, 0, &c);
	double		arpa = PG_GETARG_FLOAT8(1);
	double		margin = PG_GETARG_FLOAT8(2);
	double		horizon = surv_require_age("ltv", "horizon", PG_GETARG_FLOAT8(3));
	double		r;

	cs_require_nonnegative("ltv", "arpa", arpa);
	cs_require_finite("ltv", "gross_margin", margin);
	if (margin < 0.0 || margin > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ltv: gross_margin must be between 0 and 1, got %g", margin)));
	if (!nonempty)
		PG_RETURN_NULL();
	r = arpa * margin * surv_mean(&c, horizon);
	if (isinf(r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ltv: result is out of range for double precision")));
	PG_RETURN_FLOAT8(r);
}

/* The counts of an unweighted summary; a weighted one has no counts */
static SurvivalSummary *
surv_read_counted(Datum d, const char *fname, const char *what)
{
	SurvivalSummary *s = survival_read(d);

	if (s->flags & SURV_FLAG_WEIGHTED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the summary is weighted, so it has no whole-number counts", fname),
				 errhint("Use survival_table(), whose %s are weights.", what)));
	return s;
}

PG_FUNCTION_INFO_V1(survival_customers);
Datum
survival_customers(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = surv_read_counted(PG_GETARG_DATUM(0), "survival_customers", "columns");
	int64		n = 0;

	for (int32 i = 0; i < s->npoints; i++)
	{
		if (s->flags & SURV_FLAG_ENTRY)
			n += (int64) (SURV_XPOINTS(s)[i].churned + SURV_XPOINTS(s)[i].censored);
		else
			n += s->points[i].churned + s->points[i].censored;
	}
	PG_RETURN_INT64(n);
}

PG_FUNCTION_INFO_V1(survival_churned);
Datum
survival_churned(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = surv_read_counted(PG_GETARG_DATUM(0), "survival_churned", "columns");
	int64		n = 0;

	for (int32 i = 0; i < s->npoints; i++)
	{
		if (s->flags & SURV_FLAG_ENTRY)
			n += (int64) SURV_XPOINTS(s)[i].churned;
		else
			n += s->points[i].churned;
	}
	PG_RETURN_INT64(n);
}

/*
 * One row per distinct duration: at risk, churned, censored, S and its
 * confidence interval.  Greenwood's variance of log S is
 * sum d_i / (n_i (n_i - d_i)); on the log(-log S) scale its standard error
 * is se = sqrt(that) / |log S|, and the interval
 * exp(-exp(log(-log S) +- z se)) is [S^exp(z se), S^exp(-z se)].
 * Where S = 1 (no event yet) the interval is [1, 1]; where S = 0 it is
 * undefined (NULL).  Counts are whole numbers: a weighted summary goes to
 * survival_table().
 */
PG_FUNCTION_INFO_V1(survival_curve);
Datum
survival_curve(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z("survival_curve", PG_GETARG_FLOAT8(1));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SurvCurve	c;
	double		surv = 1.0;
	double		greenwood = 0.0;

	if (s->flags & SURV_FLAG_WEIGHTED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("survival_curve: the summary is weighted, and survival_curve reports whole-number counts"),
				 errhint("Use survival_table(summary, confidence, conf_type), which reports weights.")));
	surv_curve_of(s, &c);
	InitMaterializedSRF(fcinfo, 0);
	for (int32 i = 0; i < c.d.npoints; i++)
	{
		const SurvDataPoint *p = &c.d.points[i];
		double		n = c.risk[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (p->churned == 0 && p->censored == 0)
			continue;			/* only entries there */
		values[0] = Float8GetDatum(p->t);
		values[1] = Int64GetDatum((int64) n);
		if (p->churned > 0 && n > p->churned)
			greenwood += p->churned / (n * (n - p->churned));
		surv_step(&c, i, &surv);
		values[2] = Int64GetDatum((int64) p->churned);
		values[3] = Int64GetDatum((int64) p->censored);
		values[4] = Float8GetDatum(surv);
		if (surv >= 1.0)
		{
			values[5] = Float8GetDatum(1.0);
			values[6] = Float8GetDatum(1.0);
		}
		else if (surv <= 0.0)
			nulls[5] = nulls[6] = true;
		else
		{
			double		se = sqrt(greenwood) / fabs(log(surv));

			values[5] = Float8GetDatum(pow(surv, exp(z * se)));
			values[6] = Float8GetDatum(pow(surv, exp(-z * se)));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- survfit's table ---------- */

typedef enum SurvConfType
{
	SURV_CI_LOGLOG,
	SURV_CI_LOG,
	SURV_CI_PLAIN
} SurvConfType;

static SurvConfType
surv_conf_type(const char *fname, text *arg)
{
	char	   *s = text_to_cstring(arg);

	if (strcmp(s, "log-log") == 0)
		return SURV_CI_LOGLOG;
	if (strcmp(s, "log") == 0)
		return SURV_CI_LOG;
	if (strcmp(s, "plain") == 0)
		return SURV_CI_PLAIN;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: conf_type must be 'log-log', 'log' or 'plain', got '%s'", fname, s)));
}

/*
 * The walk along a curve that survival_table() and the median's interval
 * share: one row per time with an event or a censoring.
 */
typedef struct SurvRow
{
	double		t;
	double		at_risk;
	double		entered;		/* since the previous row */
	double		churned;
	double		censored;
	double		surv;
	double		greenwood;		/* sum d/(n(n-d)); infinite once S = 0 */
	double		chaz;
	double		chaz_var;
	double		lower;
	double		upper;
	bool		band_null;		/* std_error, lower and upper NA in R */
	bool		loglog_null;	/* lower and upper NA in R (log-log at S = 1) */
} SurvRow;

typedef struct SurvWalk
{
	SurvCurve	c;
	double		z;
	SurvConfType type;
	int32		i;				/* next point */
	double		pending;		/* entered since the previous row */
	SurvRow		row;
} SurvWalk;

static void
surv_walk_init(SurvWalk *w, double z, SurvConfType type)
{
	w->z = z;
	w->type = type;
	w->i = 0;
	w->pending = w->c.d.initial;
	memset(&w->row, 0, sizeof(w->row));
	w->row.surv = 1.0;
}

/*
 * The confidence interval of S as R's survfit (survfit_confint), from the
 * standard error of log S, sqrt(greenwood):
 *   plain: S -+ z S se, clipped to [0, 1];
 *   log: exp(log S -+ z se), the upper clipped to 1;
 *   log-log: exp(-exp(log(-log S) -+ z se / log S)), NA where S is 0 or 1.
 * Where S = 0 the variance is infinite and R gives NA.
 */
static void
surv_band(SurvRow *r, double z, SurvConfType type)
{
	double		se = sqrt(r->greenwood);
	double		s = r->surv;

	r->loglog_null = false;
	r->band_null = isinf(r->greenwood) || !(s > 0.0);
	if (r->band_null)
		return;
	switch (type)
	{
		case SURV_CI_PLAIN:
			r->lower = Max(s - z * se * s, 0.0);
			r->upper = Min(s + z * se * s, 1.0);
			break;
		case SURV_CI_LOG:
			r->lower = exp(log(s) - z * se);
			r->upper = Min(exp(log(s) + z * se), 1.0);
			break;
		case SURV_CI_LOGLOG:
			if (s >= 1.0)
				r->loglog_null = true;
			else
			{
				double		ll = log(-log(s));
				double		se2 = z * se / log(s);

				r->lower = exp(-exp(ll - se2));
				r->upper = exp(-exp(ll + se2));
			}
			break;
	}
}

/* Advance to the next row; false at the end */
static bool
surv_walk_next(SurvWalk *w)
{
	const SurvCurve *c = &w->c;

	for (; w->i < c->d.npoints; w->i++)
	{
		const SurvDataPoint *p = &c->d.points[w->i];
		double		n = c->risk[w->i];
		SurvRow    *r = &w->row;

		if (p->churned == 0 && p->censored == 0)
		{
			w->pending += p->entered;
			continue;
		}
		r->t = p->t;
		r->at_risk = n;
		r->entered = w->pending;
		w->pending = p->entered;
		r->churned = p->churned;
		r->censored = p->censored;
		if (p->churned > 0)
		{
			if (n > p->churned)
				r->greenwood += p->churned / (n * (n - p->churned));
			else
				r->greenwood = INFINITY;
			r->chaz += p->churned / n;
			r->chaz_var += p->churned / (n * n);
			r->surv *= (n - p->churned) / n;
		}
		surv_band(r, w->z, w->type);
		w->i++;
		return true;
	}
	return false;
}

/*
 * survival_table(summary, confidence, conf_type): R's
 * summary(survfit(...), censored = TRUE) with robust = FALSE.
 */
PG_FUNCTION_INFO_V1(survival_table);
Datum
survival_table(PG_FUNCTION_ARGS)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z("survival_table", PG_GETARG_FLOAT8(1));
	SurvConfType type = surv_conf_type("survival_table", PG_GETARG_TEXT_PP(2));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SurvWalk	w;
	int32		rows = 0;

	surv_curve_of(s, &w.c);
	surv_walk_init(&w, z, type);
	InitMaterializedSRF(fcinfo, 0);
	while (surv_walk_next(&w))
	{
		const SurvRow *r = &w.row;
		Datum		values[11];
		bool		nulls[11];

		if ((rows++ & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		memset(nulls, 0, sizeof(nulls));
		values[0] = Float8GetDatum(r->t);
		values[1] = Float8GetDatum(r->at_risk);
		values[2] = Float8GetDatum(r->entered);
		values[3] = Float8GetDatum(r->churned);
		values[4] = Float8GetDatum(r->censored);
		values[5] = Float8GetDatum(r->surv);
		values[6] = Float8GetDatum(r->surv * sqrt(r->greenwood));
		values[7] = Float8GetDatum(r->lower);
		values[8] = Float8GetDatum(r->upper);
		nulls[6] = r->band_null;
		nulls[7] = nulls[8] = r->band_null || r->loglog_null;
		values[9] = Float8GetDatum(r->chaz);
		values[10] = Float8GetDatum(sqrt(r->chaz_var));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The confidence interval of the median as R's print(survfit) (0.95LCL,
 * 0.95UCL): the lower bound is the smallest time where the lower curve is at
 * most 0.5, the upper bound the smallest time where the upper curve is;
 * NULL if none.  (The lower curve reaches 0.5 first, so this is the order
 * in which R's survmean() pairs them.)
 */
static Datum
surv_median_bound(FunctionCallInfo fcinfo, const char *fname, bool upper_bound)
{
	SurvivalSummary *s = survival_read(PG_GETARG_DATUM(0));
	double		z = cs_confidence_z(fname, PG_GETARG_FLOAT8(1));
	SurvConfType type = surv_conf_type(fname, PG_GETARG_TEXT_PP(2));
	SurvWalk	w;

	surv_curve_of(s, &w.c);
	surv_walk_init(&w, z, type);
	while (surv_walk_next(&w))
	{
		const SurvRow *r = &w.row;

		if (r->band_null || r->loglog_null)
			continue;
		if ((upper_bound ? r->upper : r->lower) <= 0.5 + SURV_MEDIAN_TOLERANCE)
			PG_RETURN_FLOAT8(r->t);
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(median_lifetime_lower);
Datum
median_lifetime_lower(PG_FUNCTION_ARGS)
{
	return surv_median_bound(fcinfo, "median_lifetime_lower", false);
}

PG_FUNCTION_INFO_V1(median_lifetime_upper);
Datum
median_lifetime_upper(PG_FUNCTION_ARGS)
{
	return surv_median_bound(fcinfo, "median_lifetime_upper", true);
}

