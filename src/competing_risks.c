/*
 * competing_risks.c
 *	  Churn by reason: competing risks, the Aalen-Johansen estimator; the
 *	  aggregates that build a competing_risks_summary and the functions that
 *	  read one.  The summary itself (layouts, hashed working form, reading,
 *	  validation, text and binary I/O) is competing_risks_summary.c.
 *
 * A customer churns for one reason (voluntary, payment failure, ...) and,
 * once gone for one, can no longer churn for another.  The cumulative
 * incidence of a reason k by age t is the probability of having churned for
 * k by t; with n_j customers at risk at the j-th distinct time t_j, d_kj
 * churn events for reason k there and d_j for any reason,
 *   S(t)    = prod over t_j <= t of (1 - d_j / n_j)           (no churn yet)
 *   F_k(t)  = sum over t_j <= t of S(t_j-) d_kj / n_j
 * which is R's survfit(Surv(duration, factor(reason)) ~ 1) pstate; the
 * F_k and S add up to 1 at every t.
 *
 */
#include "postgres.h"

#include <float.h>

#include "catalog/pg_type.h"
#include "competing_risks_summary.h"
#include "cs_common.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

/* ---------- aggregate support ---------- */

static Datum
cr_accum(FunctionCallInfo fcinfo, bool with_entry)
{
	const char *fname = "competing_risks_agg";
	CrSummary  *state;
	double		duration;
	double		entry = 0.0;
	int32		code = CR_CODE_CENSORED;
	text	   *reason = NULL;
	int			len = 0;

	cs_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || (with_entry && PG_ARGISNULL(3)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	duration = PG_GETARG_FLOAT8(1);
	if (unlikely(!(duration >= 0.0 && duration <= DBL_MAX)))
		cs_require_nonnegative(fname, "duration", duration);
	duration += 0.0;			/* -0 and 0 are one duration */
	if (with_entry)
	{
		/* entry 0: observed from the start, for any duration (as survival_agg) */
		entry = PG_GETARG_FLOAT8(3);
		if (unlikely(!(entry >= 0.0 && (entry < duration || entry == 0.0))))
		{
			cs_require_nonnegative(fname, "entry", entry);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: entry must be less than duration, got entry %g and duration %g",
							fname, entry, duration),
					 errhint("A customer is at risk when entry < t <= duration; an entry of 0 means observed from the start.")));
		}
	}
	if (!PG_ARGISNULL(2))
	{
		reason = PG_GETARG_TEXT_PP(2);
		len = VARSIZE_ANY_EXHDR(reason);
		if (unlikely(len == 0 || len > CR_MAX_REASON_LEN))
			cr_check_reason(fname, len);
	}
	state = cr_working_state(fcinfo, 1);
	state = cr_reserve(state, 1);
	if (reason != NULL)
		code = CR_CODE_REASON + cr_reason_index(fname, &state, VARDATA_ANY(reason), len);
	cr_slot(state, duration, entry > 0.0 ? entry : 0.0, code)->count++;
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(competing_risks_accum);
Datum
competing_risks_accum(PG_FUNCTION_ARGS)
{
	return cr_accum(fcinfo, false);
}

PG_FUNCTION_INFO_V1(competing_risks_entry_accum);
Datum
competing_risks_entry_accum(PG_FUNCTION_ARGS)
{
	return cr_accum(fcinfo, true);
}

/*
 * Merge the compact summary other into state (NULL for none yet): the one
 * merge step of competing_risks_combine() (the rollup() aggregate) and of
 * competing_risks_merge() (rollup(a, b)), so that the two agree.  state is
 * changed in place only when it is a working form; else, and when the
 * table grows, the result is a new value in the current context.
 */
static CrSummary *
cr_combine_into(CrSummary *state, CrSummary *other)
{
	int32		map[CR_MAX_REASONS];
	const char *p;

	state = cs_working_of(&competing_risks_summary_type, state, 0,
						  (int64) other->npoints * CR_COLS(other->nreasons) + CR_NPAIRS(other));
	p = cr_compact_names(other);
	for (int32 r = 0; r < other->nreasons; r++)
	{
		map[r] = cr_reason_index("rollup", &state, p + 1, (uint8) *p);
		p += 1 + (uint8) *p;
	}
	return cr_add_compact(state, other, map);
}

/* Merge two summaries; also the transition function of rollup() */
PG_FUNCTION_INFO_V1(competing_risks_combine);
Datum
competing_risks_combine(PG_FUNCTION_ARGS)
{
	Datum		result;

	if (cs_working_combine_nulls(fcinfo, &competing_risks_summary_type, &result))
		return result;
	PG_RETURN_POINTER(cr_combine_into(PG_ARGISNULL(0) ? NULL : (CrSummary *) PG_GETARG_POINTER(0),
									  cr_read(PG_GETARG_DATUM(1))));
}

/*
 * rollup(a, b) and a + b: what the rollup() aggregate does over a then b
 * (each merged into a working state of its own, never into an argument,
 * which may be a stored value), then its final function: the compact
 * summary.  A NULL argument is skipped, as the aggregate skips it.
 */
PG_FUNCTION_INFO_V1(competing_risks_merge);
Datum
competing_risks_merge(PG_FUNCTION_ARGS)
{
	CrSummary  *state = NULL;

	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(i))
			state = cr_combine_into(state, cr_read(PG_GETARG_DATUM(i)));
	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(cr_read(PointerGetDatum(state)));
}

/* Final function of competing_risks_agg() and rollup(): the compact summary */
PG_FUNCTION_INFO_V1(competing_risks_agg_final);
Datum
competing_risks_agg_final(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(cr_read(PG_GETARG_DATUM(0)));
}

/* ---------- Aalen-Johansen ---------- */

/*
 * A walk over the distinct times of a summary, one step per time: the
 * state probabilities just after it and the variances of the infinitesimal
 * jackknife (R's survfit for multi-state curves).
 *
 * The jackknife variance of p(t) is the sum over customers i of
 * (dp(t)/dw_i)^2, w_i the case weight of i.  With a_j = 1 - d_j/n_j the
 * derivatives follow the Aalen-Johansen recursion
 *   dS(t_j)   = a_j dS(t_j-1) - S(t_j-1) (dN_i(t_j) - Y_i(t_j) d_j/n_j) / n_j
 *   dF_k(t_j) = dF_k(t_j-1) + dS(t_j-1) d_kj/n_j
 *               + S(t_j-1) (dN_ik(t_j) - Y_i(t_j) d_kj/n_j) / n_j
 * (Y_i = 1 while i is at risk, dN_i = 1 at i's churn).  The recursion is
 * affine with coefficients common to everyone: every customer observed from
 * the start shares one value (ur, vr) while at risk, and those who left all
 * follow its linear part, (u, v_k) -> (a_j u, v_k + u d_kj/n_j); so it is
 * enough to carry the sums su = sum of u^2, sv_k = sum of v_k^2 and
 * suv_k = sum of u v_k over those who left, and add each time's leavers
 * with their own values.
 *
 * Late entry: that linear part is the Aalen-Johansen step itself, which
 * takes (S, F_k) at e to (S, F_k) at t.  A customer who enters at e starts
 * from 0 after the step of e, so while at risk his derivatives are
 * (ur, vr)(t) less that map applied to (ur, vr)(e): with h = ur(e)/S(e) and
 * g_k = vr_k(e) - h F_k(e),
 *   u = ur(t) - h S(t),   v_k = vr_k(t) - h F_k(t) - g_k,
 * and 0 throughout if S(e) = 0 (nothing after e carries weight).  The
 * customers of one pair share (h, g), known from their entry on.  The sums
 * of u^2 and of v_k^2 over those at risk follow from their number and the
 * means and centred second moments of (h, g_k) (Welford's updates as they
 * enter and leave); the leavers of a pair join the sums of those who left
 * with their own values.  O(times x reasons + pairs x reasons) in all;
 * customers observed from the start have h = g = 0.  A late-entry summary
 * without pairs (stored by 1.2) has no standard errors.
 */
typedef struct CrMoments
{
	double		n;				/* customers at risk (derivatives not all 0) */
	double		mh;				/* mean of h */
	double		chh;			/* sum of (h - mh)^2 */
	double	   *mg;				/* per reason: mean of g_k */
	double	   *chg;			/* sum of (h - mh)(g_k - mg_k) */
	double	   *cgg;			/* sum of (g_k - mg_k)^2 */
} CrMoments;

typedef struct CrWalk
{
	CrSummary  *s;
	int32		j;				/* next time to take */
	int32		cols;
	bool		with_var;
	double		at_risk;		/* at the time just taken */
	double		surv;			/* S after it */
	double	   *cif;			/* F_k after it, per reason */
	double		ur;
	double	   *vr;
	double		su;
	double	   *sv;
	double	   *suv;
	int64		left;			/* customers at risk after it (exact) */
	double		var_surv;
	double	   *var_cif;
	/* late entry with pairs */
	CrMoments	m;
	int32		pair;			/* next pair to take */
	double	   *h;				/* per time: h of who entered then (NaN: 0) */
	double	   *g;				/* per time and reason: g_k */
	double	   *zeros;			/* nreasons zeros: h = g = 0 */
	double	   *v;				/* scratch: a leaver's v_k */
	int64	   *late;			/* per column: leavers at this time of pairs */
} CrWalk;

static double *
cr_doubles(int32 n)
{
	return palloc0(sizeof(double) * Max(n, 1));
}

/* Add (sign 1) or take away (sign -1) count customers with constants (h, g) */
static void
cr_moments_update(CrMoments *m, int32 r, double h, const double *g, double count, int sign)
{
	double		n = m->n + sign * count;
	double		f;
	double		step;
	double		dh = h - m->mh;

	if (n <= 0.0)
	{
		/* nobody left at risk: start afresh, without rounding residue */
		m->n = m->mh = m->chh = 0.0;
		for (int32 k = 0; k < r; k++)
			m->mg[k] = m->chg[k] = m->cgg[k] = 0.0;
		return;
	}
	f = sign * count * (m->n / n);
	step = sign * count / n;
	for (int32 k = 0; k < r; k++)
	{
		double		dg = g[k] - m->mg[k];

		m->chg[k] += f * dh * dg;
		m->cgg[k] += f * dg * dg;
		m->mg[k] += step * dg;
	}
	m->chh += f * dh * dh;
	m->mh += step * dh;
	m->n = n;
}

static void
cr_walk_init(CrWalk *w, CrSummary *s, bool with_var)
{
	int32		r = s->nreasons;
	int64	   *counts = cr_counts(s);
	int64		initial = 0;

	memset(w, 0, sizeof(CrWalk));
	w->s = s;
	w->cols = CR_COLS(r);
	w->with_var = with_var &&
		(!(s->flags & CR_FLAG_LATE) || (s->flags & CR_FLAG_PAIRS));
	for (int32 i = 0; i < s->npoints; i++)
	{
		for (int32 k = CR_COL_CENSORED; k < w->cols; k++)
			initial += counts[(Size) i * w->cols + k];
		initial -= counts[(Size) i * w->cols + CR_COL_ENTERED];
	}
	w->left = initial;
	w->surv = 1.0;
	w->cif = cr_doubles(r);
	w->vr = cr_doubles(r);
	w->sv = cr_doubles(r);
	w->suv = cr_doubles(r);
	w->var_cif = cr_doubles(r);
	if (w->with_var)
	{
		w->m.n = (double) initial;
		w->m.mg = cr_doubles(r);
		w->m.chg = cr_doubles(r);
		w->m.cgg = cr_doubles(r);
		w->zeros = cr_doubles(r);
		w->v = cr_doubles(r);
		w->late = palloc0(sizeof(int64) * w->cols);
		if (CR_NPAIRS(s) > 0)
		{
			w->h = cr_doubles(s->npoints);
			w->g = palloc0(sizeof(double) * (Size) s->npoints * Max(r, 1));
		}
	}
}

/*
 * The variances after the step of time row (already applied to surv and
 * cif): p0 = S and n = at risk before it, a = 1 - d/n.
 */
static void
cr_walk_var(CrWalk *w, const int64 *row, double p0, double n, double a)
{
	int32		r = w->s->nreasons;
	CrPair	   *pairs = cr_pairs(w->s);
	double		q = p0 / n;		/* the jump of a churn */
	double		d = 0.0;
	double		c0;
	double		d0 = 0.0;
	double		ur_old = w->ur;
	double		ue;
	CrMoments  *m = &w->m;

	/* the leavers of this time who entered late, per column */
	memset(w->late, 0, sizeof(int64) * w->cols);
	for (int32 p = w->pair; p < CR_NPAIRS(w->s) && pairs[p].exit == w->j - 1; p++)
		w->late[pairs[p].col] += pairs[p].count;
	for (int32 k = 0; k < r; k++)
		d += (double) row[CR_COL_REASON + k];
	w->ur = a * ur_old + q * (d / n);
	ue = w->ur - q;

	/* those who left before: the linear map of this step */
	for (int32 k = 0; k < r; k++)
	{
		double		lk = (double) row[CR_COL_REASON + k] / n;

		w->sv[k] += 2.0 * lk * w->suv[k] + lk * lk * w->su;
		w->suv[k] = a * (w->suv[k] + lk * w->su);
		w->vr[k] += lk * ur_old - q * lk;
	}
	w->su *= a * a;

	/* the leavers observed from the start: censored, then churned */
	c0 = (double) (row[CR_COL_CENSORED] - w->late[CR_COL_CENSORED]);
	for (int32 k = 0; k < r; k++)
	{
		double		dk = (double) (row[CR_COL_REASON + k] - w->late[CR_COL_REASON + k]);
		double		vk = w->vr[k];

		d0 += dk;
		w->sv[k] += c0 * vk * vk + 2.0 * dk * vk * q + dk * q * q;
		w->suv[k] += c0 * w->ur * vk + ue * dk * q;
	}
	for (int32 k = 0; k < r; k++)
	{
		w->sv[k] += d0 * w->vr[k] * w->vr[k];
		w->suv[k] += ue * d0 * w->vr[k];
	}
	w->su += c0 * w->ur * w->ur + d0 * ue * ue;
	cr_moments_update(m, r, 0.0, w->zeros, c0 + d0, -1);

	/* the leavers of pairs, with their own values */
	for (; w->pair < CR_NPAIRS(w->s) && pairs[w->pair].exit == w->j - 1; w->pair++)
	{
		CrPair	   *p = &pairs[w->pair];
		double		h = w->h[p->entry];
		double	   *g = &w->g[(Size) p->entry * r];
		double		cnt = (double) p->count;
		double		u;

		if (isnan(h))
			continue;
		u = w->ur - h * w->surv;
		for (int32 k = 0; k < r; k++)
			w->v[k] = w->vr[k] - h * w->cif[k] - g[k];
		if (p->col != CR_COL_CENSORED)
		{
			u -= q;
			w->v[p->col - CR_COL_REASON] += q;
		}
		w->su += cnt * u * u;
		for (int32 k = 0; k < r; k++)
		{
			w->sv[k] += cnt * w->v[k] * w->v[k];
			w->suv[k] += cnt * u * w->v[k];
		}
		cr_moments_update(m, r, h, g, cnt, -1);
	}

	/* and those still at risk */
	{
		double		mu = w->ur - w->surv * m->mh;

		w->var_surv = w->su + m->n * mu * mu + w->surv * w->surv * m->chh;
	}
	for (int32 k = 0; k < r; k++)
	{
		double		f = w->cif[k];
		double		mv = w->vr[k] - f * m->mh - m->mg[k];

		w->var_cif[k] = w->sv[k] + m->n * mv * mv + f * f * m->chh +
			2.0 * f * m->chg[k] + m->cgg[k];
	}
}

/* Customers entering at the time just taken: their constants (h, g) */
static void
cr_walk_enter(CrWalk *w, int64 entered)
{
	int32		r = w->s->nreasons;
	int32		j = w->j - 1;
	double	   *g = &w->g[(Size) j * r];
	double		h;

	if (!(w->surv > 0.0))
	{
		w->h[j] = get_float8_nan();
		return;
	}
	h = w->ur / w->surv;
	for (int32 k = 0; k < r; k++)
		g[k] = w->vr[k] - h * w->cif[k];
	w->h[j] = h;
	cr_moments_update(&w->m, r, h, g, (double) entered, 1);
}

/* Take the next time; false when there is none left */
static bool
cr_walk_step(CrWalk *w)
{
	int32		r = w->s->nreasons;
	int64	   *row;
	int64		di = 0;
	double		n;
	double		a;
	double		p0 = w->surv;

	if (w->j >= w->s->npoints)
		return false;
	row = &cr_counts(w->s)[(Size) w->j * w->cols];
	w->j++;

	/*
	 * Counts in exact integers (cr_check() made sure that nobody leaves who
	 * is not at risk, and that no sum overflows), so that n >= d + c holds
	 * exactly and 0 <= a <= 1 even for counts beyond 2^53.
	 */
	for (int32 k = 0; k < r; k++)
		di += row[CR_COL_REASON + k];
	n = (double) w->left;
	w->at_risk = n;
	a = w->left > 0 ? (double) (w->left - di) / n : 1.0;
	w->left += row[CR_COL_ENTERED] - di - row[CR_COL_CENSORED];
	if (di > 0 || row[CR_COL_CENSORED] > 0)
	{
		for (int32 k = 0; k < r; k++)
			w->cif[k] += p0 * ((double) row[CR_COL_REASON + k] / n);
		w->surv = p0 * a;
		if (w->with_var)
			cr_walk_var(w, row, p0, n, a);
	}
	if (w->with_var && row[CR_COL_ENTERED] > 0)
		cr_walk_enter(w, row[CR_COL_ENTERED]);
	return true;
}

/* Index of a reason in a compact summary, -1 if absent */
static int32
cr_find_reason(CrSummary *s, text *reason, const char *fname)
{
	int			len = VARSIZE_ANY_EXHDR(reason);
	const char *p = cr_compact_names(s);

	cr_check_reason(fname, len);
	for (int32 r = 0; r < s->nreasons; r++)
	{
		if ((uint8) *p == len && memcmp(p + 1, VARDATA_ANY(reason), len) == 0)
			return r;
		p += 1 + (uint8) *p;
	}
	return -1;
}

static bool
cr_has_customers(CrSummary *s)
{
	return s->npoints > 0;
}

/* cumulative_incidence_at(summary, reason, t) */
PG_FUNCTION_INFO_V1(cumulative_incidence_at);
Datum
cumulative_incidence_at(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	int32		k = cr_find_reason(s, PG_GETARG_TEXT_PP(1), "cumulative_incidence_at");
	double		t = PG_GETARG_FLOAT8(2);
	CrWalk		w;

	cs_require_nonnegative("cumulative_incidence_at", "t", t);
	if (!cr_has_customers(s))
		PG_RETURN_NULL();
	if (k < 0)
		PG_RETURN_FLOAT8(0.0);
	cr_walk_init(&w, s, false);
	while (w.j < s->npoints && cr_times(s)[w.j] <= t)
	{
		if ((w.j & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		cr_walk_step(&w);
	}
	PG_RETURN_FLOAT8(w.cif[k]);
}

/* survival_at(competing_risks_summary, t): no churn of any reason by t */
PG_FUNCTION_INFO_V1(competing_risks_survival_at);
Datum
competing_risks_survival_at(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);
	CrWalk		w;

	cs_require_nonnegative("survival_at", "t", t);
	if (!cr_has_customers(s))
		PG_RETURN_NULL();
	cr_walk_init(&w, s, false);
	while (w.j < s->npoints && cr_times(s)[w.j] <= t)
	{
		if ((w.j & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		cr_walk_step(&w);
	}
	PG_RETURN_FLOAT8(w.surv);
}

/*
 * cumulative_incidence_curve(summary, reason): one row per distinct time
 * at which a customer leaves (an event of any reason, or a censoring).
 */
PG_FUNCTION_INFO_V1(cumulative_incidence_curve);
Datum
cumulative_incidence_curve(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	int32		k = cr_find_reason(s, PG_GETARG_TEXT_PP(1), "cumulative_incidence_curve");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CrWalk		w;

	InitMaterializedSRF(fcinfo, 0);
	cr_walk_init(&w, s, k >= 0);
	while (w.j < s->npoints)
	{
		int32		j = w.j;
		int64	   *row = &cr_counts(s)[(Size) j * w.cols];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		int64		leave = 0;

		CHECK_FOR_INTERRUPTS();
		cr_walk_step(&w);
		for (int32 c = CR_COL_CENSORED; c < w.cols; c++)
			leave += row[c];
		if (leave == 0)
			continue;
		values[0] = Float8GetDatum(cr_times(s)[j]);
		values[1] = Float8GetDatum(w.at_risk);
		values[2] = Float8GetDatum(k >= 0 ? (double) row[CR_COL_REASON + k] : 0.0);
		values[3] = Float8GetDatum(k >= 0 ? w.cif[k] : 0.0);
		if (k < 0)
			values[4] = Float8GetDatum(0.0);
		else if (w.with_var)
			values[4] = Float8GetDatum(sqrt(Max(w.var_cif[k], 0.0)));
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* competing_risks_reasons(summary): the reasons, sorted bytewise */
PG_FUNCTION_INFO_V1(competing_risks_reasons);
Datum
competing_risks_reasons(PG_FUNCTION_ARGS)
{
	CrSummary  *s = cr_read(PG_GETARG_DATUM(0));
	Datum	   *elems = palloc(sizeof(Datum) * Max(s->nreasons, 1));
	const char *p = cr_compact_names(s);

	for (int32 r = 0; r < s->nreasons; r++)
	{
		elems[r] = PointerGetDatum(cstring_to_text_with_len(p + 1, (uint8) *p));
		p += 1 + (uint8) *p;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, s->nreasons, TEXTOID, -1, false, TYPALIGN_INT));
}

