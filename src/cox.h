/*
 * cox.h: Cox proportional-hazards regression (SPEC §10)
 *
 * The files of the family, cut where the stored format ends:
 *
 *	cox.c			the cox_fit aggregates: the running state (its rows,
 *					the stratum and cluster names), combine, serialize and
 *					deserialize, the final function
 *	cox_fit.c		the fit of a state's rows: R's timefix, the rows sorted
 *					and centred, Newton-Raphson with step halving, the
 *					robust variance, the tests, the baseline hazard, the
 *					model built
 *	cox_likelihood.c one pass of the partial likelihood over the risk sets
 *					(Efron or Breslow), its Cholesky algebra, the score
 *					(dfbeta) residuals
 *	cox_stats.c		Harrell's concordance and R's cox.zph, on the rows as
 *					the fit leaves them (CoxData)
 *	cox_model.c		the stored cox_model: layout, validation, text and
 *					binary I/O (what the fuzzers and send_recv.sql guard),
 *					and the accessors
 */
#ifndef CS_COX_H
#define CS_COX_H

#include "postgres.h"

#include <math.h>

#include "cs_common.h"
#include "fmgr.h"

#define COX_TYPE "cox_model"
#define COX_FNAME "cox_fit"
#define COX_MAX_SIGNALS 100
#define COX_MAX_ITER 100
#define COX_EPS 1e-12			/* relative change of the log-likelihood */
#define COX_STATE_VERSION 2		/* 2 (1.3): the event in the weight's sign */

/*
 * Rows of the state: entry, duration, weight, signals[, ids].  Weights kept
 * are > 0 (rows of weight 0 add nothing and are not kept), so the weight's
 * sign carries the event: negative for a churn (row_weight, row_event).
 */
#define R_ENTRY 0
#define R_DUR 1
#define R_WEIGHT 2
#define R_X 3

static inline double
row_weight(const double *row)
{
	return fabs(row[R_WEIGHT]);
}

static inline bool
row_event(const double *row)
{
	return row[R_WEIGHT] < 0;
}

#define FORM_SIMPLE 1			/* (duration, churned, signals) */
#define FORM_COUNTING 2			/* (entry, duration, churned, signals) */
#define FORM_FULL 3				/* every option */

#define TIES_UNSET (-1)
#define TIES_BRESLOW 0
#define TIES_EFRON 1

/*
 * Names by number (a NULL name is the SQL NULL stratum) and the table from
 * name to number.  The names' bytes lie one after another in one area, each
 * with its '\0', name i at text + off[i] (off[n] is the end); the table
 * holds numbers only, comparing their text in the area: a distinct name
 * costs its text, 4 bytes of offset and a 12-byte table slot.
 */
typedef struct CoxNames
{
	struct cox_names_hash *ht;	/* cox.c's simplehash */
	char	   *text;
	uint32	   *off;			/* n + 1 offsets into text */
	int32		n;
	int32		cap;			/* offsets allocated: cap + 1 */
	uint32		text_cap;
	int32		null_id;		/* number of the NULL name, or -1 */
} CoxNames;

/* Name i and its length; NULL for the NULL name */
static inline const char *
cox_name(const CoxNames *nm, int32 i, int32 *len)
{
	if (i == nm->null_id)
	{
		*len = 0;
		return NULL;
	}
	*len = (int32) (nm->off[i + 1] - nm->off[i] - 1);
	return nm->text + nm->off[i];
}

/*
 * The running state of cox_fit: nrows rows of width doubles each (see
 * R_ENTRY ..), grown by a tenth past 64k rows (fit_state.h's size limit).
 */
typedef struct CoxFitState
{
	CsInternalState hdr;		/* first: see cs_combine_internal_nulls() */
	int32		form;
	int32		p;				/* signals */
	int32		width;			/* doubles per row */
	int32		ties;
	int64		nrows;
	int64		cap;			/* rows allocated */
	double	   *rows;
	CoxNames	strata;			/* FORM_FULL only */
	CoxNames	clusters;
} CoxFitState;

/* stratum and cluster numbers share the last slot of a full-form row */
static inline void
row_set_ids(double *slot, int32 stratum, int32 cluster)
{
	int32		ids[2] = {stratum, cluster};

	memcpy(slot, ids, sizeof(ids));
}

static inline void
row_get_ids(const double *slot, int32 *stratum, int32 *cluster)
{
	int32		ids[2];

	memcpy(ids, slot, sizeof(ids));
	*stratum = ids[0];
	*cluster = ids[1];
}

/*
 * A fitted model.  After the fixed part, doubles: coef[p], se[p], rse[p],
 * means[p], zph_chisq[p + 1], zph_df[p + 1] (NaN where R gives NA: a
 * signal left out, a statistic R does not report), then times[ntimes] and
 * cumhaz[ntimes] (the baseline cumulative hazard at the means, stratum
 * after stratum); then int32 stratum_times[nstrata]; then the stratum
 * names, each a byte (1 NULL, 0 not) and, if not NULL, its text and '\0'.
 */
typedef struct CoxModel
{
	CS_SUMMARY_HEADER;
	int32		p;
	int32		nstrata;
	int32		ntimes;
	int32		names_len;
	int32		iterations;
	uint8		ties;
	uint8		robust;			/* R reports robust se, z and p */
	uint8		stratified;		/* strata came from the full form */
	uint8		pad;
	int64		n;
	int64		nevent;
	double		loglik0;
	double		loglik;
	double		wald;
	double		score;
	double		robust_score;	/* NaN: not reported */
	double		concordance;
	double		concordance_se; /* NaN: NA */
	double		data[FLEXIBLE_ARRAY_MEMBER];
} CoxModel;

#define M_COEF(m)	((m)->data)
#define M_SE(m)		((m)->data + (m)->p)
#define M_RSE(m)	((m)->data + 2 * (m)->p)
#define M_MEANS(m)	((m)->data + 3 * (m)->p)
#define M_ZCHI(m)	((m)->data + 4 * (m)->p)
#define M_ZDF(m)	((m)->data + 5 * (m)->p + 1)
#define M_TIMES(m)	((m)->data + 6 * (m)->p + 2)
#define M_CUMHAZ(m) (M_TIMES(m) + (m)->ntimes)
#define M_STIMES(m) ((int32 *) (M_CUMHAZ(m) + (m)->ntimes))
#define M_NAMES(m)	((char *) (M_STIMES(m) + (m)->nstrata))

/*
 * Per event time, what the residuals and the baseline hazard need: the
 * hazard increment h (Efron: the sum over the d steps of meanw / denom_k),
 * its share for the rows that die then (hd, the steps weighted 1 - k/d),
 * and the same weighted by the risk-set means (g, gd), and the mean of the
 * d risk-set means (xe, the event's own centre).
 */
typedef struct CoxTimes
{
	int64		n;
	int64		cap;
	double	   *t;
	double	   *h;
	double	   *hd;
	double	   *g;				/* n x p */
	double	   *gd;
	double	   *xe;
	int32	   *stratum;
} CoxTimes;

/* The rows in the orders of the walk, and the work space of a pass */
typedef struct CoxFit
{
	int			n;
	int			p;				/* all signals; those left out are zeroed */
	bool		efron;
	int			nstrata;
	/* rows by stratum, duration descending */
	double	   *dur;
	double	   *entry;
	double	   *w;
	bool	   *ev;
	int32	   *stratum;
	int32	   *cluster;
	double	   *x;				/* n x p, centred and scaled */
	int		   *sstart;			/* nstrata + 1 */
	/* rows with entry > 0, by stratum, entry descending */
	int			n2;
	double	   *entry2;
	double	   *w2;
	double	   *x2;
	int		   *sstart2;
	double	   *r2;				/* work: exp of x2's linear predictor */
	/* work */
	double	   *eta;
	double	   *r;
	double	   *s1;
	double	   *s2;
	double	   *d1;
	double	   *d2;
	double	   *a;
} CoxFit;

/*
 * The rows of one fit, as the final function of cox_fit holds them.  Arrays
 * of n rows; x is row-major (x[i * p + j]) and holds only the signals kept in
 * the fit (a signal left out as collinear is not among the p columns).
 * Times are those the fit saw: near-tied ones merged as R's timefix merges
 * them (cox_fit.c), so that concordance and cox.zph see R's times too.
 */
typedef struct CoxData
{
	int			n;				/* rows (with weight > 0 or not: as fitted) */
	int			p;				/* signals kept in the fit */
	const double *entry;		/* NULL: every row observed from 0 */
	const double *duration;		/* at risk in (entry, duration] */
	const bool *event;			/* churned at duration */
	const double *weight;		/* NULL: every weight 1 */
	const int  *stratum;		/* NULL: one stratum; else 0 .. nstrata - 1 */
	int			nstrata;
	const int  *cluster;		/* NULL: no cluster column; else 0 .. nclusters - 1 */
	int			nclusters;
	const double *x;			/* n x p signals */
	bool		efron;			/* ties: true 'efron', false 'breslow' */
} CoxData;

/*
 * Harrell's concordance of the linear predictor lp (one per row) with the
 * survival times, as R's coxph reports it in fit$concordance: the
 * concordance (R's "concordance") and its standard error (R's "std"), with
 * R's weights, strata, counting-process risk sets and clusters.  *std_error
 * is set to NaN where R gives NA.
 */
extern void cox_concordance(const CoxData *d, const double *lp,
							double *concordance, double *std_error);

/*
 * The proportional-hazards test of R's cox.zph(fit) (transform = "km",
 * terms = TRUE, global = TRUE) for the fitted coefficients beta (p):
 * chisq[j] and df[j] for each signal j, then the global test at chisq[p],
 * df[p]; chisq NaN where R's cox.zph stops (a singular information, e.g.
 * all events at one time).  var (p x p) is not read: survival 3.x's cox.zph
 * uses neither fit$var nor fit$naive.var, it recomputes the 2p x 2p
 * information of the model extended with g(t) * x at (beta, 0), robust fit
 * or not.  Rows of weight 0 are left out (R refuses them).
 */
extern void cox_zph(const CoxData *d, const double *beta, const double *var,
					double *chisq, int *df);


/* ---------- the running state (cox.c) ---------- */

pg_noreturn extern void cox_state_too_large(int width);

/* ---------- the fit (cox_fit.c) ---------- */

/* The model of a state's rows; NULL without a row, an event or a signal */
extern CoxModel *cox_fit_model(const CoxFitState *st);

/* ---------- the partial likelihood (cox_likelihood.c) ---------- */

/*
 * One pass at beta: the log-likelihood, and unless NULL the score u (p)
 * and information imat (p x p), and the event times into tm; false where
 * the likelihood is not finite.
 */
extern bool cox_pass(CoxFit *f, const double *beta, double *loglik, double *u,
					 double *imat, CoxTimes *tm);
extern int	cox_chol(double *a, int p, double toler);
extern void cox_chol_solve(const double *a, int p, double *y);
extern void cox_chol_inverse(const double *a, int p, double *inv);
extern double cox_wtest(const double *mat, int p, const double *x, double toler);
extern int64 cox_times_floor(const double *t, int64 lo, int64 hi, double v);
extern void cox_score_residuals(CoxFit *f, CoxTimes *tm, const int32 *cluster,
								double *sums, const double *var, double *out);
extern void cox_crossprod(const double *sums, int64 nc, int p, double *out);

/* ---------- the stored model (cox_model.c) ---------- */

extern CoxModel *cox_model_alloc(int p, int nstrata, int ntimes, int names_len);
extern void cox_model_validate(CsParse *ps, const CoxModel *m, const char **names);

#endif							/* CS_COX_H */
