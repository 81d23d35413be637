/*
 * ltv.c
 *	  Formula customer lifetime value and CAC payback.
 *
 * The survival-based ltv(survival_summary, ...) and the predictive clv()
 * live with their families; this file holds the closed-form formulas an
 * analyst feeds with ARPA and a churn rate.
 */
#include "postgres.h"

#include "cs_common.h"

/* A gross margin is a fraction of revenue: 0 to 1 */
static double
ltv_gross_margin(const char *fname, double gm)
{
	cs_require_nonnegative(fname, "gross_margin", gm);
	if (gm > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: gross_margin must be between 0 and 1, got %g", fname, gm),
				 errhint("Give the margin as a fraction, e.g. 0.8 for 80%%.")));
	return gm;
}

/*
 * arpa * gross_margin * (1 + d) / (d + churn_rate): revenue per period paid
 * at the start of each period while the customer stays, each period's
 * survival (1 - churn_rate) and discount 1 / (1 + d) compounding; with d = 0
 * the familiar arpa * gross_margin / churn_rate.
 */
PG_FUNCTION_INFO_V1(ltv_formula);
Datum
ltv_formula(PG_FUNCTION_ARGS)
{
	double		arpa = PG_GETARG_FLOAT8(0);
	double		churn = PG_GETARG_FLOAT8(1);
	double		gm = PG_GETARG_FLOAT8(2);
	double		d = PG_GETARG_FLOAT8(3);
	double		result;

	cs_require_nonnegative("ltv", "arpa", arpa);
	cs_require_finite("ltv", "churn_rate", churn);
	if (!(churn > 0.0 && churn <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ltv: churn_rate must be greater than 0 and at most 1, got %g", churn)));
	ltv_gross_margin("ltv", gm);
	cs_require_finite("ltv", "discount_rate", d);
	if (!(d > -1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ltv: discount_rate must be greater than -1, got %g", d)));
	if (!(d + churn > 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ltv: discount_rate must be greater than -churn_rate (%g), got %g", churn, d),
				 errdetail("With discount_rate + churn_rate <= 0 the discounted lifetime value is infinite.")));

	result = arpa * gm * (1.0 + d) / (d + churn);
	if (isinf(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ltv: result is out of range for double precision")));
	PG_RETURN_FLOAT8(result);
}

/* cac / (arpa * gross_margin): months of gross profit that repay the CAC */
PG_FUNCTION_INFO_V1(cac_payback_months);
Datum
cac_payback_months(PG_FUNCTION_ARGS)
{
	double		cac = PG_GETARG_FLOAT8(0);
	double		arpa = PG_GETARG_FLOAT8(1);
	double		gm = PG_GETARG_FLOAT8(2);
	double		result;

	cs_require_nonnegative("cac_payback_months", "cac", cac);
	cs_require_nonnegative("cac_payback_months", "arpa", arpa);
	ltv_gross_margin("cac_payback_months", gm);

	/* no gross profit per period: never paid back */
	if (arpa == 0.0 || gm == 0.0)
		PG_RETURN_NULL();
	/* divided in turn, so that a tiny arpa * gross_margin cannot underflow to 0 */
	result = cac / arpa / gm;
	if (isinf(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cac_payback_months: result is out of range for double precision")));
	PG_RETURN_FLOAT8(result);
}
