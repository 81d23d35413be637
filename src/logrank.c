/*
 * logrank.c
 *	  Comparing cohorts: the k-group log-rank test (and the Fleming-Harrington
 *	  G-rho family, and the stratified test) as aggregates over one
 *	  survival_summary per group, as R's survdiff().
 *
 * For groups g = 1..k at the distinct event times t_j of a stratum, with
 * n_gj at risk and d_gj churn events in group g, n_j and d_j their totals
 * and w_j = S(t_j-)^rho (S the Kaplan-Meier curve of the stratum's pooled
 * customers, left-continuous):
 *   O_g - E_g = sum over j of w_j (d_gj - d_j n_gj / n_j)
 *   V_gh      = sum over j with n_j > 1 of
 *               w_j^2 d_j (n_j - d_j) / (n_j - 1) * (n_gj / n_j) (delta_gh - n_hj / n_j)
 * (the hypergeometric variance), both summed over strata.  Groups whose
 * expected count E_g is 0 are left out, as survdiff does; with k' groups
 * left, chisq = z' V^-1 z over the first k' - 1 of them, and the p-value is
 * the chi-square upper tail with k' - 1 degrees of freedom.  With late
 * entry the risk sets are those of survival.h (entry < t <= duration), which
 * makes the test the score test of coxph(Surv(entry, d, churned) ~ group,
 * ties = "exact"); weights count as frequency weights.
 *
 * The aggregate state is a logrank_state, a type of its own rather than
 * internal, so that Citus can split these aggregates like the streaming
 * ones (it moves partial states of non-internal types through their text or
 * binary form): it is the list of the rows' groups, each a copy of its
 * summary's points (as survival_data_read() gives them) and, for the
 * stratified form, its group and stratum names.  Rows of one (grp, stratum)
 * are merged by the final function, so combining is just appending.  The
 * state grows with the summaries' distinct durations, not with customers.
 * While aggregating it keeps spare room at its end (cap > used), so that a
 * row costs one copy of its points.
 */
#include "postgres.h"

#include <float.h>

#include "common/int.h"
#include "cs_common.h"
#include "survival.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define LR_TYPE				"logrank_state"
#define LR_FLAG_RHO			0x01	/* rho given in every row (same value) */
#define LR_FLAG_KEYS		0x02	/* stratified form: groups have names */
#define LR_FLAG_STRATUM		0x04	/* rows gave a stratum */
#define LR_FLAG_NO_STRATUM	0x08	/* rows gave a NULL stratum */
#define LR_FLAGS			0x0f
#define LR_MAX_KEY			255		/* bytes of a grp or stratum name */
#define LR_MAX_GROUPS		10000	/* rows (summaries) in one test */
#define LR_MAX_K			1000	/* groups compared (k), for the k x k variance */
#define LR_MIN_CAP			1024

typedef struct LrState
{
	CS_SUMMARY_HEADER;
	int32		ngroups;		/* records */
	int32		used;			/* bytes of records */
	int32		cap;			/* room for records */
	int32		pad;
	double		rho;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} LrState;

/* One group as stored: header, points, then the names (padded to 8 bytes) */
typedef struct LrRecord
{
	int32		len;			/* bytes of the whole record, a multiple of 8 */
	int32		npoints;
	int32		grp_len;		/* -1 when the group has no name */
	int32		stratum_len;	/* -1 when there is no stratum */
	double		initial;
	SurvDataPoint points[FLEXIBLE_ARRAY_MEMBER];
} LrRecord;

#define LR_HEADER_BYTES		MAXALIGN(offsetof(LrState, data))
#define LR_REC_HEADER		offsetof(LrRecord, points)
#define LR_MAX_BYTES		((int64) MaxAllocSize / 2)

static int64
lr_record_bytes(int32 npoints, int32 grp_len, int32 stratum_len)
{
	return TYPEALIGN(8, LR_REC_HEADER + (int64) npoints * sizeof(SurvDataPoint) +
					 Max(grp_len, 0) + Max(stratum_len, 0));
}

static inline char *
lr_rec_keys(LrRecord *r)
{
	return (char *) &r->points[r->npoints];
}

/* A new state with room for cap bytes of records, in the current context */
static LrState *
lr_new(int64 cap)
{
	LrState    *s;

	if (cap > LR_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("log-rank test: the groups' summaries are too large"),
				 errdetail("The summaries of one test may hold at most %lld bytes.",
						   (long long) LR_MAX_BYTES)));
	s = palloc0(LR_HEADER_BYTES + cap);
	SET_VARSIZE(s, LR_HEADER_BYTES + cap);
	s->version = CS_SUMMARY_VERSION;
	s->cap = (int32) cap;
	return s;
}

/*
 * Checks of a state (also of a received one): NULL when sound, else what is
 * wrong.  The points must be what survival_data_read() could give: finite,
 * non-negative weights, distinct increasing times, and risk sets that never
 * run out (within rounding of the weights).
 */
static char *
lr_check(LrState *s)
{
	int32		off = 0;

	if (s->flags & ~LR_FLAGS)
		return psprintf("Unknown flags 0x%02x.", s->flags);
	if ((s->flags & LR_FLAG_STRATUM) && (s->flags & LR_FLAG_NO_STRATUM))
		return psprintf("Strata given in some rows and not in others.");
	if ((s->flags & (LR_FLAG_STRATUM | LR_FLAG_NO_STRATUM)) && !(s->flags & LR_FLAG_KEYS))
		return psprintf("Strata without group names.");
	if ((s->flags & LR_FLAG_KEYS) && !(s->flags & LR_FLAG_RHO))
		return psprintf("Group names without rho.");
	if (!isfinite(s->rho) || (!(s->flags & LR_FLAG_RHO) && s->rho != 0.0))
		return psprintf("Invalid rho %g.", s->rho);
	if (s->ngroups < 0 || s->used < 0 || s->used > s->cap)
		return psprintf("Inconsistent header.");
	for (int32 g = 0; g < s->ngroups; g++)
	{
		LrRecord   *r;
		double		exits = 0.0;
		double		entries = 0.0;

		if (off > s->used - (int32) LR_REC_HEADER)
			return psprintf("The groups are cut short.");
		r = (LrRecord *) (s->data + off);
		if (r->npoints < 0 || r->npoints > s->used / (int32) sizeof(SurvDataPoint) ||
			r->grp_len < -1 || r->grp_len > LR_MAX_KEY ||
			r->stratum_len < -1 || r->stratum_len > LR_MAX_KEY ||
			r->len != lr_record_bytes(r->npoints, r->grp_len, r->stratum_len) ||
			r->len > s->used - off)
			return psprintf("Group %d has an invalid size.", g + 1);
		if ((r->grp_len >= 0) != ((s->flags & LR_FLAG_KEYS) != 0) ||
			(r->stratum_len >= 0) != ((s->flags & LR_FLAG_STRATUM) != 0))
			return psprintf("Group %d has names that do not match the form of the test.", g + 1);
		if (r->grp_len >= 0 && !pg_verifymbstr(lr_rec_keys(r), r->grp_len, true))
			return psprintf("A group name is not valid text in the database encoding.");
		if (r->stratum_len >= 0 && !pg_verifymbstr(lr_rec_keys(r) + r->grp_len, r->stratum_len, true))
			return psprintf("A stratum name is not valid text in the database encoding.");
		if (memchr(lr_rec_keys(r), '\0', Max(r->grp_len, 0) + Max(r->stratum_len, 0)) != NULL)
			return psprintf("A name contains a zero byte.");
		if (!(isfinite(r->initial) && r->initial >= 0.0))
			return psprintf("The initial weight must be finite and not negative.");
		for (int32 i = 0; i < r->npoints; i++)
		{
			SurvDataPoint *p = &r->points[i];

			if (!isfinite(p->t) || p->t < 0)
				return psprintf("Durations must be finite and not negative, got %g.", p->t);
			if (i > 0 && !(p->t > r->points[i - 1].t))
				return psprintf("Durations must be distinct and in increasing order.");
			if (!(isfinite(p->entered) && p->entered >= 0 && isfinite(p->churned) &&
				  p->churned >= 0 && isfinite(p->censored) && p->censored >= 0))
				return psprintf("Weights must be finite and not negative.");
			exits += p->churned + p->censored;
			entries += p->entered;
		}
		if (!isfinite(exits) || fabs(r->initial + entries - exits) > 1e-9 * Max(exits, 1.0))
			return psprintf("Group %d: the weights entering and leaving do not balance.", g + 1);
		off += r->len;
	}
	if (off != s->used)
		return psprintf("Unexpected bytes after the groups.");
	return NULL;
}

/* ---------- the working-form protocol (cs_common.h) ---------- */

/*
 * The working form of a logrank_state is the stored form with spare room
 * at its end (cap > used): any state of the aggregate's own is one, and
 * lr_with_room() grows it when a row does not fit.
 */
static bool
lr_is_working(const void *v pg_attribute_unused(), int layout pg_attribute_unused())
{
	return true;
}

static void *
lr_stored_form(void *v)
{
	LrState    *s = v;

	if (s->cap < 0 || VARSIZE(s) != LR_HEADER_BYTES + (Size) s->cap)
		cs_corrupted(LR_TYPE, "Its size does not match its header.");
	return s;
}

static char *
lr_check_stored(void *v)
{
	return lr_check((LrState *) v);
}

/*
 * A copy of s (or a new state, when NULL) with room for extra more bytes of
 * records, in the current context (the executor copies a returned new
 * pointer into the aggregate context itself)
 */
static void *
lr_make_working(void *v, int layout pg_attribute_unused(), int64 extra)
{
	LrState    *s = v;
	LrState    *bigger;

	if (s == NULL)
		return lr_new(Max(extra, LR_MIN_CAP));
	bigger = lr_new(Max((int64) s->used + extra, 2 * (int64) s->cap));
	memcpy(bigger->data, s->data, s->used);
	bigger->flags = s->flags;
	bigger->rho = s->rho;
	bigger->ngroups = s->ngroups;
	bigger->used = s->used;
	return bigger;
}

static const CsWorkingType logrank_state_type = {
	.name = LR_TYPE,
	.header_bytes = LR_HEADER_BYTES,
	.is_working = lr_is_working,
	.stored_form = lr_stored_form,
	.check = lr_check_stored,
	.make_working = lr_make_working,
};

static LrState *
lr_read(Datum d)
{
	return (LrState *) cs_working_read(&logrank_state_type, d);
}

/*
 * The state argument, with room for extra more bytes: argument 0 itself
 * when it has the room (updated in place), else a bigger copy
 */
static LrState *
lr_state_with_room(FunctionCallInfo fcinfo, int64 extra)
{
	LrState    *s = cs_working_state(fcinfo, &logrank_state_type, 0, extra);

	if ((int64) s->used + extra <= s->cap)
		return s;
	return lr_make_working(s, 0, extra);
}

static void
lr_set_rho(const char *fname, LrState *s, double rho)
{
	if (!(s->flags & LR_FLAG_RHO))
	{
		s->flags |= LR_FLAG_RHO;
		s->rho = rho;
	}
	else if (s->rho != rho)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: rho must be the same in every row, got %g after %g", fname, rho, s->rho)));
}

static void
lr_set_strata_flag(const char *fname, LrState *s, int flag)
{
	s->flags |= flag;
	if ((s->flags & LR_FLAG_STRATUM) && (s->flags & LR_FLAG_NO_STRATUM))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: stratum must be given in every row or in none, got NULL in some rows only", fname)));
}

static void
lr_check_key(const char *fname, const char *what, int len)
{
	if (len > LR_MAX_KEY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must be at most %d bytes, got %d bytes", fname, what, LR_MAX_KEY, len)));
}

/*
 * Transition: (summary [, rho [, grp, stratum]]).  A NULL summary, rho or
 * grp skips the row; a NULL stratum means no strata (then in every row).
 */
static Datum
lr_accum(FunctionCallInfo fcinfo, int nargs)
{
	const char *fname;
	LrState    *s;
	SurvData	data;
	double		rho = 0.0;
	text	   *grp = NULL;
	text	   *stratum = NULL;
	int			glen = -1;
	int			slen = -1;
	int64		bytes;
	LrRecord   *r;

	cs_require_agg(fcinfo);
	if (PG_ARGISNULL(1) || (nargs >= 2 && PG_ARGISNULL(2)) || (nargs >= 4 && PG_ARGISNULL(3)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	fname = cs_agg_name(fcinfo, "logrank_chisq");
	if (nargs >= 2)
	{
		rho = PG_GETARG_FLOAT8(2);
		cs_require_finite(fname, "rho", rho);
		rho += 0.0;
	}
	if (nargs >= 4)
	{
		grp = PG_GETARG_TEXT_PP(3);
		glen = VARSIZE_ANY_EXHDR(grp);
		lr_check_key(fname, "grp", glen);
		if (!PG_ARGISNULL(4))
		{
			stratum = PG_GETARG_TEXT_PP(4);
			slen = VARSIZE_ANY_EXHDR(stratum);
			lr_check_key(fname, "stratum", slen);
		}
	}
	survival_data_read(PG_GETARG_DATUM(1), &data);
	bytes = lr_record_bytes(data.npoints, glen, slen);
	s = lr_state_with_room(fcinfo, bytes);
	if (s->ngroups >= LR_MAX_GROUPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: too many groups", fname),
				 errdetail("A log-rank test takes at most %d rows.", LR_MAX_GROUPS)));
	if (nargs >= 2)
		lr_set_rho(fname, s, rho);
	if (nargs >= 4)
	{
		s->flags |= LR_FLAG_KEYS;
		lr_set_strata_flag(fname, s, stratum ? LR_FLAG_STRATUM : LR_FLAG_NO_STRATUM);
	}
	r = (LrRecord *) (s->data + s->used);
	memset(r, 0, bytes);
	r->len = (int32) bytes;
	r->npoints = data.npoints;
	r->grp_len = glen;
	r->stratum_len = slen;
	r->initial = data.initial;
	memcpy(r->points, data.points, sizeof(SurvDataPoint) * data.npoints);
	if (grp)
		memcpy(lr_rec_keys(r), VARDATA_ANY(grp), glen);
	if (stratum)
		memcpy(lr_rec_keys(r) + glen, VARDATA_ANY(stratum), slen);
	s->used += (int32) bytes;
	s->ngroups++;
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(logrank_accum);
Datum
logrank_accum(PG_FUNCTION_ARGS)
{
	return lr_accum(fcinfo, 1);
}

PG_FUNCTION_INFO_V1(logrank_rho_accum);
Datum
logrank_rho_accum(PG_FUNCTION_ARGS)
{
	return lr_accum(fcinfo, 2);
}

PG_FUNCTION_INFO_V1(logrank_strata_accum);
Datum
logrank_strata_accum(PG_FUNCTION_ARGS)
{
	return lr_accum(fcinfo, 4);
}

PG_FUNCTION_INFO_V1(logrank_combine);
Datum
logrank_combine(PG_FUNCTION_ARGS)
{
	const char *fname;
	LrState    *s;
	LrState    *other;
	Datum		result;

	if (cs_working_combine_nulls(fcinfo, &logrank_state_type, &result))
		return result;
	fname = cs_agg_name(fcinfo, "logrank_chisq");
	other = lr_read(PG_GETARG_DATUM(1));
	s = lr_state_with_room(fcinfo, other->used);
	if (s->ngroups > 0 && other->ngroups > 0 &&
		(s->flags & LR_FLAG_KEYS) != (other->flags & LR_FLAG_KEYS))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: cannot combine the states of different forms of the test", fname)));
	if (other->flags & LR_FLAG_RHO)
		lr_set_rho(fname, s, other->rho);
	if (other->flags & LR_FLAG_KEYS)
		s->flags |= LR_FLAG_KEYS;
	if (other->flags & (LR_FLAG_STRATUM | LR_FLAG_NO_STRATUM))
		lr_set_strata_flag(fname, s, other->flags & (LR_FLAG_STRATUM | LR_FLAG_NO_STRATUM));
	if ((int64) s->ngroups + other->ngroups > LR_MAX_GROUPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: too many groups", fname),
				 errdetail("A log-rank test takes at most %d rows.", LR_MAX_GROUPS)));
	memcpy(s->data + s->used, other->data, other->used);
	s->used += other->used;
	s->ngroups += other->ngroups;
	PG_RETURN_POINTER(s);
}

/* ---------- the test ---------- */

typedef struct LrGroup
{
	LrRecord   *rec;			/* a record of the state, or a merged copy */
	const char *grp;
	int			grp_len;
	const char *stratum;
	int			stratum_len;
	int32		index;			/* group of the test (rows of one grp share it) */
	int32		stratum_no;
	double	   *risk;			/* at risk at each point */
} LrGroup;

static int
lr_bytes_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* Order of rows: by stratum, then group name, then the points themselves */
static int
lr_group_cmp(const void *x, const void *y)
{
	const LrGroup *a = x;
	const LrGroup *b = y;
	int			c;

	if ((c = lr_bytes_cmp(a->stratum, a->stratum_len, b->stratum, b->stratum_len)) != 0)
		return c;
	if ((c = lr_bytes_cmp(a->grp, a->grp_len, b->grp, b->grp_len)) != 0)
		return c;
	if (a->rec->npoints != b->rec->npoints)
		return a->rec->npoints < b->rec->npoints ? -1 : 1;
	if (a->rec->initial != b->rec->initial)
		return a->rec->initial < b->rec->initial ? -1 : 1;
	for (int32 i = 0; i < a->rec->npoints; i++)
	{
		const double *p = (const double *) &a->rec->points[i];
		const double *q = (const double *) &b->rec->points[i];

		for (int k = 0; k < 4; k++)
			if (p[k] != q[k])
				return p[k] < q[k] ? -1 : 1;
	}
	return 0;
}

/* The points of two rows of one (grp, stratum), merged by time */
static LrRecord *
lr_merge(const LrRecord *a, const LrRecord *b)
{
	LrRecord   *m = palloc0(lr_record_bytes(a->npoints + b->npoints, -1, -1));
	int32		i = 0;
	int32		j = 0;
	int32		n = 0;

	while (i < a->npoints || j < b->npoints)
	{
		if (j >= b->npoints || (i < a->npoints && a->points[i].t < b->points[j].t))
			m->points[n++] = a->points[i++];
		else if (i >= a->npoints || b->points[j].t < a->points[i].t)
			m->points[n++] = b->points[j++];
		else
		{
			m->points[n] = a->points[i++];
			m->points[n].entered += b->points[j].entered;
			m->points[n].churned += b->points[j].churned;
			m->points[n].censored += b->points[j++].censored;
			n++;
		}
	}
	m->npoints = n;
	m->initial = a->initial + b->initial;
	m->grp_len = m->stratum_len = -1;
	return m;
}

/*
 * Step 1: the state's rows as groups, sorted by stratum and group name;
 * the rows of one (grp, stratum) merged into one.  Returns their number.
 */
static int32
lr_collect_groups(LrState *s, LrGroup *g)
{
	int32		ng = 0;
	int32		off = 0;
	int32		n = 0;

	for (int32 i = 0; i < s->ngroups; i++)
	{
		LrRecord   *r = (LrRecord *) (s->data + off);

		off += r->len;
		g[ng].rec = r;
		g[ng].grp = lr_rec_keys(r);
		g[ng].grp_len = Max(r->grp_len, 0);
		g[ng].stratum = lr_rec_keys(r) + Max(r->grp_len, 0);
		g[ng].stratum_len = Max(r->stratum_len, 0);
		ng++;
	}
	qsort(g, ng, sizeof(LrGroup), lr_group_cmp);
	if (!(s->flags & LR_FLAG_KEYS))
		return ng;
	for (int32 i = 0; i < ng; i++)
	{
		if (n > 0 &&
			lr_bytes_cmp(g[i].grp, g[i].grp_len, g[n - 1].grp, g[n - 1].grp_len) == 0 &&
			lr_bytes_cmp(g[i].stratum, g[i].stratum_len, g[n - 1].stratum, g[n - 1].stratum_len) == 0)
			g[n - 1].rec = lr_merge(g[n - 1].rec, g[i].rec);
		else
			g[n++] = g[i];
	}
	return n;
}

/*
 * Step 2: number the strata (in order) and the groups of the test (the
 * same grp in another stratum is the same group).  Returns k, the number
 * of groups compared.
 */
static int32
lr_number_groups(const char *fname, LrGroup *g, int32 ng, bool keys)
{
	int32		nstrata = 0;
	int32		k = 0;

	for (int32 i = 0; i < ng; i++)
	{
		if (i == 0 || lr_bytes_cmp(g[i].stratum, g[i].stratum_len,
								   g[i - 1].stratum, g[i - 1].stratum_len) != 0)
			nstrata++;
		g[i].stratum_no = nstrata - 1;
		g[i].index = -1;
		for (int32 j = 0; keys && j < i; j++)
			if (lr_bytes_cmp(g[i].grp, g[i].grp_len, g[j].grp, g[j].grp_len) == 0)
			{
				g[i].index = g[j].index;
				break;
			}
		if (g[i].index < 0)
		{
			if (k >= LR_MAX_K)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("%s: too many groups", fname),
						 errdetail("A log-rank test compares at most %d groups.", LR_MAX_K)));
			g[i].index = k++;
		}
	}
	return k;
}

/*
 * Step 3: at risk from each point of each row on: risk[j] = (weight leaving
 * at or after t_j) - (weight entering at or after t_j), summed backwards as
 * R does, is the weight at risk at t_j and at any t between t_(j-1) and t_j
 * (clamped, against rounding, to at least those who leave at t_j).
 */
static void
lr_risk_sets(LrGroup *g, int32 ng)
{
	for (int32 i = 0; i < ng; i++)
	{
		LrRecord   *r = g[i].rec;
		double		exits = 0.0;
		double		entries = 0.0;

		g[i].risk = palloc(sizeof(double) * Max(r->npoints, 1));
		for (int32 j = r->npoints - 1; j >= 0; j--)
		{
			exits += r->points[j].churned + r->points[j].censored;
			entries += r->points[j].entered;
			g[i].risk[j] = exits - entries;
		}
	}
}

/* The sums of the test over the event times, and the walk's scratch space */
typedef struct LrSums
{
	int32		k;
	double		rho;
	CsSum	   *diff;			/* O_g - E_g */
	double	   *expected;		/* E_g */
	CsSum	   *var;			/* V, k x k */
	int32	   *pos;			/* next point of each row */
	double	   *n_g;			/* at risk per group at the time */
	double	   *d_g;			/* events per group at the time */
} LrSums;

/* One event time t of a stratum with d events among n at risk, weight w */
static void
lr_add_time(LrSums *sm, double n, double d, double w)
{
	int32		k = sm->k;

	for (int32 h = 0; h < k; h++)
	{
		cs_sum_add(&sm->diff[h], w * (sm->d_g[h] - d * sm->n_g[h] / n));
		sm->expected[h] += w * d * sm->n_g[h] / n;
	}
	if (n <= 1.0)
		return;
	for (int32 h = 0; h < k; h++)
	{
		double		tmp;

		if (sm->n_g[h] == 0.0)
			continue;
		tmp = w * w * d * sm->n_g[h] * (n - d) / (n * (n - 1.0));
		cs_sum_add(&sm->var[h * k + h], tmp);
		for (int32 l = 0; l < k; l++)
			if (sm->n_g[l] != 0.0)
				cs_sum_add(&sm->var[h * k + l], -tmp * sm->n_g[l] / n);
	}
}

/*
 * Step 4: walk the distinct times of the stratum of rows first..last-1 in
 * order, adding each event time to the sums, with the stratum's pooled
 * Kaplan-Meier curve S(t-) for the Fleming-Harrington weight.
 */
static void
lr_walk_stratum(const LrGroup *g, int32 first, int32 last, LrSums *sm)
{
	double		km = 1.0;

	for (;;)
	{
		double		t = DBL_MAX;
		bool		any = false;
		double		n = 0.0;
		double		d = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int32 i = first; i < last; i++)
			if (sm->pos[i] < g[i].rec->npoints && g[i].rec->points[sm->pos[i]].t <= t)
			{
				t = g[i].rec->points[sm->pos[i]].t;
				any = true;
			}
		if (!any)
			break;
		memset(sm->n_g, 0, sizeof(double) * sm->k);
		memset(sm->d_g, 0, sizeof(double) * sm->k);
		for (int32 i = first; i < last; i++)
		{
			LrRecord   *r = g[i].rec;
			int32		j = sm->pos[i];

			if (j >= r->npoints)
				continue;
			if (r->points[j].t == t)
			{
				SurvDataPoint *p = &r->points[j];

				sm->n_g[g[i].index] += Max(g[i].risk[j], p->churned + p->censored);
				sm->d_g[g[i].index] += p->churned;
				sm->pos[i]++;
			}
			else
				sm->n_g[g[i].index] += Max(g[i].risk[j], 0.0);
		}
		for (int32 h = 0; h < sm->k; h++)
		{
			n += sm->n_g[h];
			d += sm->d_g[h];
		}
		if (d <= 0.0 || n <= 0.0)
			continue;
		lr_add_time(sm, n, d, sm->rho == 0.0 ? 1.0 : pow(km, sm->rho));
		km *= (n - d) / n;
	}
}

/*
 * Step 5: the quadratic form z' V^-1 z over the groups with an expected
 * count, less the first of them; false when fewer than two are left or V is
 * not clearly positive definite (Cholesky: z' A^-1 z = |L^-1 z|^2).
 */
static bool
lr_quadratic_form(const LrSums *sm, double *chisq, int *df)
{
	int32		k = sm->k;
	int32	   *keep = palloc(sizeof(int32) * Max(k, 1));
	int32		m = 0;
	double	   *a;
	double	   *z;
	double		maxdiag = 0.0;
	double		sum = 0.0;

	for (int32 h = 0; h < k; h++)
		if (sm->expected[h] > 0.0)
			keep[m++] = h;
	if (m < 2)
		return false;
	*df = m - 1;
	m--;
	a = palloc(sizeof(double) * m * m);
	z = palloc(sizeof(double) * m);
	for (int32 i = 0; i < m; i++)
	{
		z[i] = cs_sum_value(&sm->diff[keep[i + 1]]);
		for (int32 j = 0; j < m; j++)
			a[i * m + j] = cs_sum_value(&sm->var[keep[i + 1] * k + keep[j + 1]]);
	}
	for (int32 i = 0; i < m; i++)
		maxdiag = Max(maxdiag, a[i * m + i]);
	if (!isfinite(maxdiag) || cs_cholesky(a, m, 1e-12 * maxdiag) >= 0)
		return false;
	for (int32 i = 0; i < m; i++)
	{
		double		v = z[i];

		for (int32 l = 0; l < i; l++)
			v -= a[i * m + l] * z[l];
		z[i] = v / a[i * m + i];
		sum += z[i] * z[i];
	}
	if (!isfinite(sum))
		return false;
	*chisq = sum;
	return true;
}

/*
 * The chi-square statistic and its degrees of freedom; false when there is
 * no test (fewer than two groups with an expected count, or a singular
 * variance, where R's survdiff reports no p-value or fails).
 */
static bool
lr_statistic(const char *fname, LrState *s, double *chisq, int *df)
{
	LrGroup    *g = palloc(sizeof(LrGroup) * Max(s->ngroups, 1));
	int32		ng = lr_collect_groups(s, g);
	int32		k = lr_number_groups(fname, g, ng, (s->flags & LR_FLAG_KEYS) != 0);
	LrSums		sm;
	int32		first = 0;

	lr_risk_sets(g, ng);
	sm.k = k;
	sm.rho = s->rho;
	sm.diff = palloc0(sizeof(CsSum) * Max(k, 1));
	sm.expected = palloc0(sizeof(double) * Max(k, 1));
	sm.var = palloc0(sizeof(CsSum) * Max(k * k, 1));
	sm.pos = palloc0(sizeof(int32) * Max(ng, 1));
	sm.n_g = palloc0(sizeof(double) * Max(k, 1));
	sm.d_g = palloc0(sizeof(double) * Max(k, 1));
	while (first < ng)
	{
		int32		last = first;

		while (last < ng && g[last].stratum_no == g[first].stratum_no)
			last++;
		lr_walk_stratum(g, first, last, &sm);
		first = last;
	}
	return lr_quadratic_form(&sm, chisq, df);
}

PG_FUNCTION_INFO_V1(logrank_chisq_final);
Datum
logrank_chisq_final(PG_FUNCTION_ARGS)
{
	double		chisq;
	int			df;

	if (!lr_statistic(cs_agg_name(fcinfo, "logrank_chisq"), lr_read(PG_GETARG_DATUM(0)), &chisq, &df))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(chisq);
}

PG_FUNCTION_INFO_V1(logrank_p_value_final);
Datum
logrank_p_value_final(PG_FUNCTION_ARGS)
{
	double		chisq;
	int			df;

	if (!lr_statistic(cs_agg_name(fcinfo, "logrank_chisq"), lr_read(PG_GETARG_DATUM(0)), &chisq, &df))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(cs_chisq_upper_tail(chisq, df));
}

/* ---------- I/O ---------- */

static void
lr_append_key(StringInfo buf, const char *key, int len)
{
	if (len < 0)
	{
		appendStringInfoChar(buf, '-');
		return;
	}
	appendStringInfoChar(buf, '"');
	for (int i = 0; i < len; i++)
	{
		if (key[i] == '"' || key[i] == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, key[i]);
	}
	appendStringInfoChar(buf, '"');
}

/*
 * Text form: v=1 flags=F rho=R groups={{G,S,initial,{t,entered,churned,censored,...}},...}
 * with G and S a quoted name or - (none), and four numbers per point.
 */
PG_FUNCTION_INFO_V1(logrank_state_out);
Datum
logrank_state_out(PG_FUNCTION_ARGS)
{
	LrState    *s = lr_read(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int32		off = 0;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d flags=%d rho=", CS_SUMMARY_VERSION, s->flags);
	cs_append_double(&buf, s->rho);
	appendStringInfoString(&buf, " groups={");
	for (int32 g = 0; g < s->ngroups; g++)
	{
		LrRecord   *r = (LrRecord *) (s->data + off);

		off += r->len;
		appendStringInfoString(&buf, g > 0 ? ",{" : "{");
		lr_append_key(&buf, lr_rec_keys(r), r->grp_len);
		appendStringInfoChar(&buf, ',');
		lr_append_key(&buf, lr_rec_keys(r) + Max(r->grp_len, 0), r->stratum_len);
		appendStringInfoChar(&buf, ',');
		cs_append_double(&buf, r->initial);
		appendStringInfoString(&buf, ",{");
		for (int32 i = 0; i < r->npoints; i++)
		{
			const double *p = (const double *) &r->points[i];

			for (int c = 0; c < 4; c++)
			{
				if (i > 0 || c > 0)
					appendStringInfoChar(&buf, ',');
				cs_append_double(&buf, p[c]);
			}
		}
		appendStringInfoString(&buf, "}}");
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

/* Appends one group to a state being built by an input function */
static LrState *
lr_add_record(CsParse *ps, LrState *s, const char *grp, int glen, const char *stratum, int slen,
			  double initial, const double *pts, int32 npoints)
{
	int64		bytes = lr_record_bytes(npoints, glen, slen);
	LrRecord   *r;

	if (s->ngroups >= LR_MAX_GROUPS)
		cs_parse_fail(ps, "At most %d groups.", LR_MAX_GROUPS);
	if ((int64) s->used + bytes > s->cap)
	{
		LrState    *bigger;

		if ((int64) s->used + bytes > LR_MAX_BYTES)
			cs_parse_fail(ps, "The groups are too large.");
		bigger = lr_new(Max((int64) s->used + bytes, 2 * (int64) s->cap));
		memcpy(bigger->data, s->data, s->used);
		bigger->flags = s->flags;
		bigger->rho = s->rho;
		bigger->ngroups = s->ngroups;
		bigger->used = s->used;
		s = bigger;
	}
	r = (LrRecord *) (s->data + s->used);
	memset(r, 0, bytes);
	r->len = (int32) bytes;
	r->npoints = npoints;
	r->grp_len = glen;
	r->stratum_len = slen;
	r->initial = initial;
	memcpy(r->points, pts, sizeof(SurvDataPoint) * npoints);
	if (glen > 0)
		memcpy(lr_rec_keys(r), grp, glen);
	if (slen > 0)
		memcpy(lr_rec_keys(r) + Max(glen, 0), stratum, slen);
	s->used += (int32) bytes;
	s->ngroups++;
	return s;
}

/* The compact copy of a state built by an input function, validated */
static LrState *
lr_finish_input(CsParse *ps, LrState *s)
{
	LrState    *c = lr_new(s->used);
	char	   *problem;

	memcpy(c->data, s->data, s->used);
	c->flags = s->flags;
	c->rho = s->rho;
	c->ngroups = s->ngroups;
	c->used = s->used;
	problem = lr_check(c);
	if (problem)
		cs_parse_fail(ps, "%s", problem);
	return c;
}

static int
lr_parse_key(CsParse *ps, StringInfo out)
{
	resetStringInfo(out);
	if (cs_parse_peek(ps, '-'))
		return -1;
	cs_parse_char(ps, '"');
	while (*ps->p != '"')
	{
		if (*ps->p == '\0')
			cs_parse_fail(ps, "Unterminated name.");
		if (*ps->p == '\\')
		{
			ps->p++;
			if (*ps->p == '\0')
				cs_parse_fail(ps, "Unterminated name.");
		}
		if (out->len >= LR_MAX_KEY)
			cs_parse_fail(ps, "A name must be at most %d bytes.", LR_MAX_KEY);
		appendStringInfoChar(out, *ps->p++);
	}
	ps->p++;
	return out->len;
}

PG_FUNCTION_INFO_V1(logrank_state_in);
Datum
logrank_state_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	CsParse		ps;
	LrState    *s = lr_new(LR_MIN_CAP);
	StringInfoData grp;
	StringInfoData stratum;
	int64		flags;

	cs_parse_init_text(&ps, LR_TYPE, text);
	cs_parse_version(&ps);
	cs_parse_key(&ps, "flags");
	flags = cs_parse_int64(&ps);
	if (flags < 0 || flags > LR_FLAGS)
		cs_parse_fail(&ps, "Unknown flags %lld.", (long long) flags);
	s->flags = (uint8) flags;
	cs_parse_key(&ps, "rho");
	s->rho = cs_parse_double(&ps) + 0.0;
	cs_parse_key(&ps, "groups");
	cs_parse_char(&ps, '{');
	initStringInfo(&grp);
	initStringInfo(&stratum);
	if (!cs_parse_peek(&ps, '}'))
	{
		do
		{
			int			glen;
			int			slen;
			double		initial;
			int32		n = 0;
			int32		cap = 64;
			double	   *v = palloc(sizeof(double) * cap);

			cs_parse_char(&ps, '{');
			glen = lr_parse_key(&ps, &grp);
			cs_parse_char(&ps, ',');
			slen = lr_parse_key(&ps, &stratum);
			cs_parse_char(&ps, ',');
			initial = cs_parse_double(&ps) + 0.0;
			cs_parse_char(&ps, ',');
			cs_parse_char(&ps, '{');
			if (!cs_parse_peek(&ps, '}'))
			{
				do
				{
					if (n == cap)
					{
						if (cap > (int32) (LR_MAX_BYTES / sizeof(double) / 2))
							cs_parse_fail(&ps, "Too many points.");
						cap *= 2;
						v = repalloc(v, sizeof(double) * cap);
					}
					v[n++] = cs_parse_double(&ps) + 0.0;
				} while (cs_parse_peek(&ps, ','));
				cs_parse_char(&ps, '}');
			}
			cs_parse_char(&ps, '}');
			if (n % 4 != 0)
				cs_parse_fail(&ps, "Four numbers per point are needed.");
			s = lr_add_record(&ps, s, grp.data, glen, stratum.data, slen, initial, v, n / 4);
			pfree(v);
		} while (cs_parse_peek(&ps, ','));
		cs_parse_char(&ps, '}');
	}
	cs_parse_end(&ps);
	PG_RETURN_POINTER(lr_finish_input(&ps, s));
}

/*
 * Binary form: version byte, flags byte, float8 rho, int32 number of
 * groups; per group int32 length of its name (-1: none) and its bytes, the
 * same for its stratum, float8 initial, int32 number of points and four
 * float8 per point.
 */
PG_FUNCTION_INFO_V1(logrank_state_send);
Datum
logrank_state_send(PG_FUNCTION_ARGS)
{
	LrState    *s = lr_read(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int32		off = 0;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendbyte(&buf, s->flags);
	pq_sendfloat8(&buf, s->rho);
	pq_sendint32(&buf, s->ngroups);
	for (int32 g = 0; g < s->ngroups; g++)
	{
		LrRecord   *r = (LrRecord *) (s->data + off);

		off += r->len;
		pq_sendint32(&buf, r->grp_len);
		if (r->grp_len > 0)
			pq_sendbytes(&buf, lr_rec_keys(r), r->grp_len);
		pq_sendint32(&buf, r->stratum_len);
		if (r->stratum_len > 0)
			pq_sendbytes(&buf, lr_rec_keys(r) + Max(r->grp_len, 0), r->stratum_len);
		pq_sendfloat8(&buf, r->initial);
		pq_sendint32(&buf, r->npoints);
		for (int32 i = 0; i < r->npoints; i++)
		{
			const double *p = (const double *) &r->points[i];

			for (int c = 0; c < 4; c++)
				pq_sendfloat8(&buf, p[c]);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(logrank_state_recv);
Datum
logrank_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CsParse		ps;
	LrState    *s = lr_new(LR_MIN_CAP);
	int32		ngroups;

	cs_parse_init_binary(&ps, LR_TYPE);
	cs_recv_version(&ps, buf);
	s->flags = pq_getmsgbyte(buf);
	if (s->flags & ~LR_FLAGS)
		cs_parse_fail(&ps, "Unknown flags 0x%02x.", s->flags);
	s->rho = pq_getmsgfloat8(buf) + 0.0;
	ngroups = pq_getmsgint(buf, 4);
	if (ngroups < 0 || ngroups > LR_MAX_GROUPS)
		cs_parse_fail(&ps, "Invalid number of groups %d.", ngroups);
	for (int32 g = 0; g < ngroups; g++)
	{
		int32		glen = pq_getmsgint(buf, 4);
		const char *grp = NULL;
		int32		slen;
		const char *stratum = NULL;
		double		initial;
		int32		n;
		double	   *v;

		if (glen < -1 || glen > LR_MAX_KEY)
			cs_parse_fail(&ps, "Invalid name length %d.", glen);
		if (glen > 0)
			grp = pq_getmsgbytes(buf, glen);
		slen = pq_getmsgint(buf, 4);
		if (slen < -1 || slen > LR_MAX_KEY)
			cs_parse_fail(&ps, "Invalid name length %d.", slen);
		if (slen > 0)
			stratum = pq_getmsgbytes(buf, slen);
		initial = pq_getmsgfloat8(buf) + 0.0;
		n = pq_getmsgint(buf, 4);
		if (n < 0 || (Size) n * 4 * sizeof(double) > (Size) (buf->len - buf->cursor))
			cs_parse_fail(&ps, "Invalid number of points %d for a message of %d bytes.", n, buf->len);
		v = palloc(sizeof(double) * 4 * Max(n, 1));
		for (int32 i = 0; i < 4 * n; i++)
			v[i] = pq_getmsgfloat8(buf) + 0.0;
		s = lr_add_record(&ps, s, grp, glen, stratum, slen, initial, v, n);
		pfree(v);
	}
	pq_getmsgend(buf);
	PG_RETURN_POINTER(lr_finish_input(&ps, s));
}
