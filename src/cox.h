/*
 * cox.h: Cox proportional-hazards regression (SPEC §10)
 *
 * The fit (src/cox.c: the cox_fit aggregates, Newton-Raphson on the partial
 * likelihood, the cox_model type and its accessors) and the statistics that
 * read the fitted model back against its rows (src/cox_stats.c: Harrell's
 * concordance with its standard error, and the proportional-hazards test of
 * R's cox.zph) meet here.  Both run once, in the final function of cox_fit,
 * while the rows are still at hand; the model stores their results.
 */
#ifndef CS_COX_H
#define CS_COX_H

#include "postgres.h"

/*
 * The rows of one fit, as the final function of cox_fit holds them.  Arrays
 * of n rows; x is row-major (x[i * p + j]) and holds only the signals kept in
 * the fit (a signal left out as collinear is not among the p columns).
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

#endif							/* CS_COX_H */
