/*
 * predictive.h
 *	  Shared machinery of the predictive LTV models (BG/NBD and Gamma-Gamma):
 *	  the weighted table of distinct customer summaries kept by the fitting
 *	  aggregates, the optimiser, special functions, and the model types.
 */
#ifndef PREDICTIVE_H
#define PREDICTIVE_H

#include "cs_common.h"

/*
 * One distinct customer summary and how many customers share it.  BG/NBD
 * uses (frequency, recency, t); Gamma-Gamma uses (frequency, monetary, 0).
 */
typedef struct FitPoint
{
	double		x;
	double		y;
	double		z;
	int64		w;
} FitPoint;

/*
 * The internal state of a fitting aggregate: a hash table of distinct
 * points (lib/simplehash.h, in the context it was made in), so that memory
 * follows distinct summaries, not rows.
 */
typedef struct FitTable
{
	CsInternalState hdr;		/* first: see cs_combine_internal_nulls() */
	struct fit_points_hash *points;
	int64		customers;		/* total weight */
} FitTable;

/* Validates one point read back from a serialized state */
typedef void (*FitPointCheck) (CsParse *ps, const FitPoint *p);

extern FitTable *fit_table_new(MemoryContext cxt);
extern void fit_table_add(FitTable *t, double x, double y, double z, int64 w);
extern void fit_table_merge(FitTable *into, const FitTable *from);
extern bytea *fit_table_serialize(const FitTable *t);
extern FitTable *fit_table_deserialize(bytea *b, MemoryContext cxt,
									   const char *what, FitPointCheck check);
extern FitPoint *fit_table_sorted(const FitTable *t);
extern int64 fit_table_count(const FitTable *t);

/* Input checks shared by the fitting aggregates and the prediction functions */
extern double pred_frequency(const char *fname, double x);

/* Special functions */
extern double pred_digamma(double x);
extern double pred_hyp2f1(double a, double b, double c, double z);
/* lnG(x) - lnG(x + a), accurate for large x (bgnbd_counts.c) */
extern double pred_lgamma_diff(double x, double a);

/*
 * Minimises fn over n <= PRED_MAX_PARAMS parameters (in log space) starting
 * from theta: Nelder-Mead to get close (on coarse_arg, a subsample of the
 * data, when not NULL), then BFGS with the analytic gradient and Newton
 * steps on arg.  Errors out, naming fname and the parameters, when the fit does
 * not converge or the optimum is not identified by the data.
 */
#define PRED_MAX_PARAMS 4
/* above this many distinct points, Nelder-Mead works on a subsample */
#define PRED_COARSE_POINTS 20000
typedef double (*PredObjective) (const double *theta, double *grad, void *arg);
extern void pred_minimize(PredObjective fn, void *arg, void *coarse_arg, int n,
						  double *theta, const char *fname, const char *const *names);

/* ---------- model types ---------- */

/*
 * A fitted model is a fixed-size summary: CS_SUMMARY_HEADER, then its
 * parameters, log-likelihood and customer count.  A PredModelType
 * describes one such struct, so that one implementation of fetch, _in,
 * _out, _recv, _send and <model>_params serves every model type.  Text
 * form: "v=1 <param>=... log_likelihood=... customers=N"; binary form: the
 * version byte, the parameters, the log-likelihood (float8) and the
 * customer count (int8), in that order.
 */
typedef struct PredModelType
{
	CsSummaryType type;			/* SQL type, e.g. "bgnbd_model", and sizeof the struct */
	const char *params_fname;	/* its parameters function */
	int			nparams;
	const char *const *names;	/* parameter names, in order */
	Size		param_off[PRED_MAX_PARAMS]; /* offsets of the parameters */
	Size		ll_off;
	Size		customers_off;
} PredModelType;

extern void *pred_model_fetch(const PredModelType *mt, Datum d);
extern Datum pred_model_make(const PredModelType *mt, const double *params,
							 double ll, int64 customers);
extern Datum pred_model_in(const PredModelType *mt, FunctionCallInfo fcinfo);
extern Datum pred_model_out(const PredModelType *mt, FunctionCallInfo fcinfo);
extern Datum pred_model_recv(const PredModelType *mt, FunctionCallInfo fcinfo);
extern Datum pred_model_send(const PredModelType *mt, FunctionCallInfo fcinfo);
extern Datum pred_model_params(const PredModelType *mt, FunctionCallInfo fcinfo);

/*
 * The fitting aggregate of a model: its final function sorts the distinct
 * points, builds the likelihood's data from them (and from a subsample
 * when there are many), minimises the objective from the start values
 * and returns the model.
 */
typedef struct PredFitType
{
	const PredModelType *model;
	const char *fname;			/* the aggregate, e.g. "bgnbd_fit" */
	const char *state_name;		/* its serialized state, in errors */
	FitPointCheck check;		/* validates a deserialized point */
	PredObjective objective;	/* on the data build returns */
	/* the likelihood's data from every stride-th of the n sorted points */
	void	   *(*build) (const FitPoint *pts, int64 n, int64 stride);
	/* start values of the log parameters, from the points and the data */
	void		(*start) (const FitPoint *pts, int64 n, const void *data, double *theta);
	/* the log-likelihood at the objective's last evaluation */
	double		(*loglik) (const void *data);
} PredFitType;

extern Datum pred_fit_deserialize(const PredFitType *ft, FunctionCallInfo fcinfo);
extern Datum pred_fit_final(const PredFitType *ft, FunctionCallInfo fcinfo);

/*
 * Defines the SQL-callable functions of a model type described by mt and
 * its fitting aggregate described by ft: <prefix>_model_in, _model_out,
 * _model_recv, _model_send, <prefix>_params, <prefix>_fit_deserialize and
 * <prefix>_fit_final.
 */
#define PRED_SQL_FUNCTIONS(prefix, mt, ft) \
	PRED_SQL_FUNCTION(prefix##_model_in, pred_model_in, mt) \
	PRED_SQL_FUNCTION(prefix##_model_out, pred_model_out, mt) \
	PRED_SQL_FUNCTION(prefix##_model_recv, pred_model_recv, mt) \
	PRED_SQL_FUNCTION(prefix##_model_send, pred_model_send, mt) \
	PRED_SQL_FUNCTION(prefix##_params, pred_model_params, mt) \
	PRED_SQL_FUNCTION(prefix##_fit_deserialize, pred_fit_deserialize, ft) \
	PRED_SQL_FUNCTION(prefix##_fit_final, pred_fit_final, ft)

#define PRED_SQL_FUNCTION(name, impl, desc) \
	PG_FUNCTION_INFO_V1(name); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		return impl(&(desc), fcinfo); \
	}

typedef struct BgnbdModel
{
	CS_SUMMARY_HEADER;
	double		r;
	double		alpha;
	double		a;
	double		b;
	double		ll;
	int64		customers;
} BgnbdModel;

typedef struct GammaGammaModel
{
	CS_SUMMARY_HEADER;
	double		p;
	double		q;
	double		v;
	double		ll;
	int64		customers;
} GammaGammaModel;

extern GammaGammaModel *gamma_gamma_fetch(Datum d);
extern double gamma_gamma_spend(const GammaGammaModel *m, double x, double mv,
								const char *fname);

#endif							/* PREDICTIVE_H */
