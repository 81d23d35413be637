/*
 * cox_stats.c: the statistics of a Cox fit that read its rows back
 * (SPEC §10): Harrell's concordance with its standard error, and the
 * proportional-hazards test of R's cox.zph.  See cox.h.
 */
#include "postgres.h"

#include <math.h>

#include "cox.h"

void
cox_concordance(const CoxData *d, const double *lp,
				double *concordance, double *std_error)
{
	(void) d;
	(void) lp;
	*concordance = NAN;
	*std_error = NAN;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cox_fit: the concordance is not implemented yet")));
}

void
cox_zph(const CoxData *d, const double *beta, const double *var,
		double *chisq, int *df)
{
	(void) d;
	(void) beta;
	(void) var;
	(void) chisq;
	(void) df;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cox_fit: the proportional-hazards test is not implemented yet")));
}
