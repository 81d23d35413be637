/*
 * cs_common.h
 *	  Machinery shared by every metric family of customer_success:
 *	  compensated sums, argument checks, aggregate-context checks, the
 *	  text and binary reading helpers used by every stored summary type,
 *	  and the normal quantile used for confidence intervals.
 */
#ifndef CS_COMMON_H
#define CS_COMMON_H

#include "postgres.h"

#include "cs_compat.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"

/*
 * Every stored summary starts with a varlena header followed by this
 * version byte, a flags byte reserved for later use and two bytes of
 * padding, so that the 8-byte fields that follow are aligned.
 */
#define CS_SUMMARY_VERSION	1

#define CS_SUMMARY_HEADER \
	int32		vl_len_; \
	uint8		version; \
	uint8		flags; \
	uint16		reserved

/*
 * Neumaier compensated sum: the running sum and the accumulated rounding
 * error.  The value is sum + comp.
 */
typedef struct CsSum
{
	double		sum;
	double		comp;
} CsSum;

pg_noreturn extern void cs_sum_overflow(void);

/*
 * Neumaier's step without a data-dependent branch: the larger operand in
 * magnitude goes first, chosen with selects the compiler turns into
 * conditional moves.  An overflow of the running sum is an error.
 */
static inline void
cs_sum_add(CsSum *s, double x)
{
	double		a = s->sum;
	double		t = a + x;
	bool		a_big = fabs(a) >= fabs(x);
	double		big = a_big ? a : x;
	double		small = a_big ? x : a;

	s->comp += (big - t) + small;
	s->sum = t;
	if (unlikely(isinf(t)))
		cs_sum_overflow();
}

static inline double
cs_sum_value(const CsSum *s)
{
	return s->sum + s->comp;
}

static inline void
cs_sum_merge(CsSum *into, const CsSum *from)
{
	cs_sum_add(into, from->sum);
	cs_sum_add(into, from->comp);
}

/*
 * The one SQLSTATE of a maximum-likelihood fit that does not converge (the
 * estimate runs off towards infinity, or the iteration limit is reached):
 * 22003, numeric_value_out_of_range.  Every fit reports it with this code.
 */
#define CS_ERRCODE_NOT_CONVERGED	ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE


/*
 * Hash of a double's bits (and of a small salt, e.g. a category code), for
 * the open-addressing tables kept inside flat summaries: the 64-bit
 * finalizer of MurmurHash3 (PostgreSQL 15 has only the 32-bit one).
 */
static inline uint32
cs_hash_double(double v, uint64 salt)
{
	uint64		h;

	memcpy(&h, &v, sizeof(h));
	h ^= salt * UINT64CONST(0x9e3779b97f4a7c15);
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

/*
 * One step of the modified Lentz method for a continued fraction
 * b0 + a1/(b1 + a2/(b2 + ...)) (Numerical Recipes 5.2): updates C and D for
 * the partial numerator a and denominator b and returns the factor by which
 * the running value h changes; converged when it is 1 within rounding.
 */
#define CS_LENTZ_TINY 1e-300

static inline double
cs_lentz_step(double a, double b, double *c, double *d)
{
	*d = b + a * *d;
	if (fabs(*d) < CS_LENTZ_TINY)
		*d = CS_LENTZ_TINY;
	*c = b + a / *c;
	if (fabs(*c) < CS_LENTZ_TINY)
		*c = CS_LENTZ_TINY;
	*d = 1.0 / *d;
	return *d * *c;
}

/* int64 addition that raises numeric_value_out_of_range on overflow */
extern int64 cs_add_count(int64 a, int64 b);

/*
 * Aggregate support.  The executor's contract for a state passed by
 * reference: a transition or combine function that returns the pointer it
 * was given has updated the state in place; one that returns another
 * pointer has its value copied into the aggregate context by the executor,
 * which frees the old state, so a new summary is built in the current
 * (per-row) context, never in the aggregate context.  An internal state is
 * allocated once in the aggregate context and the same pointer returned.
 *
 * cs_require_agg() is the check of a function that modifies its state in
 * place (as float.c does it, AggCheckCallContext(fcinfo, NULL)): called
 * outside an aggregate it would modify its argument, so that is refused.
 * cs_agg_context() makes the same check and returns the aggregate context.
 * cs_agg_name() is the name of the aggregate being run, for the messages of
 * support functions that serve several aggregates (fallback outside one).
 */
pg_noreturn extern void cs_not_in_agg(FunctionCallInfo fcinfo);

static inline void
cs_require_agg(FunctionCallInfo fcinfo)
{
	if (unlikely(!AggCheckCallContext(fcinfo, NULL)))
		cs_not_in_agg(fcinfo);
}

extern MemoryContext cs_agg_context(FunctionCallInfo fcinfo);
extern const char *cs_agg_name(FunctionCallInfo fcinfo, const char *fallback);

/*
 * The NULL cases of a combine function (and of the transition function of
 * rollup()), for every kind of state: when the right side is NULL the
 * result is the left side (NULL when both are); when only the left side is
 * NULL it is the right side as read by read(type, datum).  Returns true
 * with *result set in those cases, false when the caller has two states to
 * merge.  cs_combine_nulls() (summaries), cs_working_combine_nulls()
 * (working-form summaries) and cs_combine_internal_nulls() (internal
 * states) are this with their reader.
 */
typedef void *(*CsStateReader) (const void *type, Datum d);

extern bool cs_combine_prologue(FunctionCallInfo fcinfo, CsStateReader read,
								const void *type, Datum *result);

/*
 * Internal states passed between parallel workers.  The deserialize
 * function runs in per-row memory; it builds its state in a memory context
 * of its own, cs_state_context(), and records it in the state, which starts
 * with a CsInternalState.  A combine function whose left side is NULL then
 * adopts that state into the aggregate context as it is (no copy):
 * cs_combine_internal_nulls() does that and the other NULL cases.  A right
 * side that owns no context (a partial state of the same process) is
 * merged into a new state instead.
 */
typedef struct CsInternalState
{
	MemoryContext owner;		/* the context a deserialize function made, or NULL */
} CsInternalState;

extern MemoryContext cs_state_context(void);
extern bool cs_combine_internal_nulls(FunctionCallInfo fcinfo, Datum *result);

/* Argument checks: errors name the function, the argument and the value */
extern void cs_require_finite(const char *fname, const char *what, double v);
extern void cs_require_nonnegative(const char *fname, const char *what, double v);
extern double cs_confidence_z(const char *fname, double confidence);

/* Standard normal quantile (Wichura, AS 241), |error| < 1e-15 */
extern double cs_normal_quantile(double p);

/*
 * Upper tail P(X > x) of the chi-square distribution with df > 0 degrees of
 * freedom (the p-value of a likelihood-ratio, score or log-rank test), to
 * 1e-12 relative or better, far into the tail: it reaches 0 only where the
 * true value is below the smallest double (1e-308, subnormals to 5e-324).
 * x <= 0 gives 1, x = Infinity gives 0.
 */
extern double cs_chisq_upper_tail(double x, double df);

/* Shortest text that reads back to the same double */
extern void cs_append_double(StringInfo buf, double v);
extern void cs_append_sum(StringInfo buf, const CsSum *s);

/*
 * Parsing of stored summaries.  The same context serves the text input
 * function (text != NULL) and the binary receive function (text == NULL),
 * so that one validation routine per type reports errors with the right
 * SQLSTATE: 22P02 for text, 22P03 for binary.
 */
typedef struct CsParse
{
	const char *type_name;
	const char *text;			/* whole input, or NULL for binary */
	const char *p;				/* current position in text */
} CsParse;

extern void cs_parse_init_text(CsParse *ps, const char *type_name, const char *text);
extern void cs_parse_init_binary(CsParse *ps, const char *type_name);
pg_noreturn extern void cs_parse_fail(const CsParse *ps, const char *fmt,...) pg_attribute_printf(2, 3);

extern void cs_parse_key(CsParse *ps, const char *key);
extern void cs_parse_char(CsParse *ps, char c);
extern bool cs_parse_peek(CsParse *ps, char c);
extern int64 cs_parse_int64(CsParse *ps);
extern int64 cs_parse_count(CsParse *ps);
extern double cs_parse_double(CsParse *ps);
extern void cs_parse_sum(CsParse *ps, CsSum *s);
extern void cs_parse_version(CsParse *ps);
extern void cs_parse_end(CsParse *ps);

extern void cs_recv_version(CsParse *ps, StringInfo buf);
extern void cs_send_sum(StringInfo buf, const CsSum *s);
extern void cs_recv_sum(StringInfo buf, CsSum *s);
extern void cs_check_sum(CsParse *ps, const char *what, const CsSum *s, bool nonnegative);
extern void cs_check_count(CsParse *ps, const char *what, int64 n);

/*
 * Fetch a summary argument: detoast it and check its size and version, so
 * that a value of the wrong shape can never be read past its end.
 */
extern void *cs_fetch_summary(Datum d, const char *type_name, Size min_size);

/*
 * A stored summary type: its SQL name and its size, or, for a type whose
 * size varies, the size of its fixed part and size_of(), which gives the
 * whole size from the fixed part (0 when that is invalid).
 * cs_summary_fetch() fetches an argument and checks its exact size;
 * cs_combine_nulls() handles the NULL cases of a combine function (and of
 * the transition function of rollup()): when the right side is NULL the
 * result is the left side (NULL when both are); when only the left side is
 * NULL it is the right side as fetched, which the executor copies into the
 * aggregate context.  It returns true with *result set in those cases,
 * false when the caller has two summaries to merge.
 */
typedef struct CsSummaryType
{
	const char *name;
	Size		size;
	Size		(*size_of) (const void *s);
} CsSummaryType;

extern void *cs_summary_fetch(const CsSummaryType *type, Datum d);
extern bool cs_combine_nulls(FunctionCallInfo fcinfo, const CsSummaryType *type,
							 Datum *result);

/* The error of a stored value that fails its checks (detail may be NULL) */
pg_noreturn extern void cs_corrupted(const char *type_name, const char *detail);

/*
 * Working-form summaries.  Some summary types are built in one shape while
 * an aggregate runs (their "working form": a hash table, spare room at the
 * end) and stored, printed and sent in another (sorted, compact), both in
 * the same varlena type so that a partial state of a parallel plan or of a
 * Citus worker can travel through the type's I/O.  Each such type has one
 * descriptor (survival_summary, competing_risks_summary, logrank_state):
 *
 *  - is_working(s, layout): s (the aggregate's own state) is a working form
 *    that a transition asking for layout (a family-defined number, e.g. "with
 *    entries") may update in place;
 *  - stored_form(s): the stored form of a fetched value of at least
 *    header_bytes bytes: s itself once its size matches its header, or a
 *    fresh compact copy of a working form (errors through cs_corrupted());
 *  - check(s): NULL if a stored form is sound, else what is wrong; the same
 *    routine serves the input functions (22P02/22P03) and reading (XX001);
 *  - make_working(stored, layout, extra): a new working form of layout in
 *    the current context holding stored (nothing when NULL), with room for
 *    extra more entries; the executor copies it into the aggregate context.
 *
 * cs_working_read() reads any argument of the type (detoast, stored form,
 * check): output, send, combine and the accessors only ever see stored
 * forms.  cs_working_state() is the state argument of a transition or
 * combine function as a working form: the state itself when it is one,
 * else a new one.  cs_working_combine_nulls() is the combine prologue.
 */
typedef struct CsWorkingType
{
	const char *name;
	Size		header_bytes;
	bool		(*is_working) (const void *s, int layout);
	void	   *(*stored_form) (void *s);
	char	   *(*check) (void *s);
	void	   *(*make_working) (void *stored, int layout, int64 extra);
} CsWorkingType;

extern void *cs_working_read(const CsWorkingType *type, Datum d);
extern bool cs_working_combine_nulls(FunctionCallInfo fcinfo, const CsWorkingType *type,
									 Datum *result);

/*
 * s (NULL for none yet) as a working form of layout with room for extra
 * more entries: s itself when it is one, else a new one (in the current
 * context) holding what s holds.  rollup(a, b) builds its working state
 * with it; cs_working_state() is the same for argument 0 of a transition.
 */
static inline void *
cs_working_of(const CsWorkingType *type, void *s, int layout, int64 extra)
{
	if (likely(s != NULL))
	{
		if (likely(VARATT_IS_4B_U(s) && type->is_working(s, layout)))
			return s;
		return type->make_working(cs_working_read(type, PointerGetDatum(s)), layout, extra);
	}
	return type->make_working(NULL, layout, extra);
}

static inline void *
cs_working_state(FunctionCallInfo fcinfo, const CsWorkingType *type, int layout, int64 extra)
{
	return cs_working_of(type, PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0), layout, extra);
}

/*
 * rollup(a, b), the merge of two stored summaries outside an aggregate
 * (SPEC section 11): cs_merge_nulls() handles its NULL rules as the rollup()
 * aggregate over a then b does (a NULL argument gives the other, fetched;
 * both NULL give NULL) and returns true with *result set in those cases;
 * otherwise it returns false with *a a copy of the first argument in the
 * current context (the arguments may be stored values: never change them)
 * and *b the second, fetched, for the family's merge step to add *b into
 * *a, the same step its combine function takes.
 */
extern bool cs_merge_nulls(FunctionCallInfo fcinfo, const CsSummaryType *type,
						   void **a, void **b, Datum *result);

/*
 * The data of a double precision array (ARR_DATA_PTR without its
 * signed/unsigned mix, which -Wextra refuses); needs utils/array.h.
 */
#define CS_ARR_DOUBLES(a) \
	((const double *) ((const char *) (a) + \
					   (ARR_HASNULL(a) ? (Size) (a)->dataoffset : \
						(Size) ARR_OVERHEAD_NONULLS(ARR_NDIM(a)))))

/*
 * The signals argument of a model's aggregate: a one-dimensional double
 * precision array of 1..max elements and, when expected >= 0, of expected
 * elements (the length of the rows before it).  Returns the number of
 * elements; other shapes are refused with fname's name.
 * cs_signals_finite() then refuses a NaN or infinite element of v[0..k-1].
 */
extern int	cs_signals_count(const char *fname, ArrayType *a, int max, int expected);
extern void cs_signals_finite(const char *fname, const double *v, int k);

/*
 * Cholesky factorization L L' of a symmetric n x n matrix (row-major), in
 * place in its lower triangle: returns -1, or the index of the first pivot
 * not above floor (the matrix is not clearly positive definite).
 * cs_cholesky_solve() then solves L L' x = b (b may be x).
 */
extern int	cs_cholesky(double *a, int n, double floor);
extern void cs_cholesky_solve(const double *l, int n, const double *b, double *x);

#endif							/* CS_COMMON_H */
