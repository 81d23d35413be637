/*
 * cox_model.c
 *	  The stored cox_model (SPEC §10): its layout (cox.h), the validation of
 *	  every value read back, the text and binary forms (what the fuzzers and
 *	  sql/send_recv.sql guard), and the accessors: coefficients, standard
 *	  errors, the summary table, the tests, concordance, the
 *	  proportional-hazards test, risk scores and predicted survival.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "cox.h"
#include "cs_common.h"
#include "fit_state.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"


static Size
model_bytes(int p, int nstrata, int ntimes, int names_len)
{
	return offsetof(CoxModel, data) +
		sizeof(double) * ((Size) 6 * p + 2 + (Size) 2 * ntimes) +
		sizeof(int32) * (Size) nstrata + names_len;
}

CoxModel *
cox_model_alloc(int p, int nstrata, int ntimes, int names_len)
{
	Size		size = model_bytes(p, nstrata, ntimes, names_len);
	CoxModel   *m;

	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cox_fit: the model would be too large to store"),
				 errdetail("It keeps a baseline hazard at each of %d event times.", ntimes)));
	m = palloc0(size);
	SET_VARSIZE(m, size);
	m->version = CS_SUMMARY_VERSION;
	m->p = p;
	m->nstrata = nstrata;
	m->ntimes = ntimes;
	m->names_len = names_len;
	return m;
}

static Size
model_size_of(const void *s)
{
	const CoxModel *m = s;

	if (m->p < 1 || m->p > COX_MAX_SIGNALS || m->nstrata < 1 || m->ntimes < 0 ||
		m->names_len < m->nstrata || m->ntimes > (int32) (MaxAllocSize / 16) ||
		m->nstrata > (int32) (MaxAllocSize / 8) || m->names_len > (int32) MaxAllocSize)
		return 0;
	return model_bytes(m->p, m->nstrata, m->ntimes, m->names_len);
}

static const CsSummaryType cox_model_type = {
	COX_TYPE, offsetof(CoxModel, data), model_size_of
};

/*
 * Checks every field of a model read from text, binary or disk; also
 * fills names[] (pointers into the model, NULL for the NULL stratum) when
 * names is not NULL.
 */
void
cox_model_validate(CsParse *ps, const CoxModel *m, const char **names)
{
	int			kept = 0;
	const double *t = M_TIMES(m);
	const double *h = M_CUMHAZ(m);
	const int32 *st = M_STIMES(m);
	const char *nm = M_NAMES(m);
	const char *end = nm + m->names_len;
	int64		total = 0;

	if (m->ties > TIES_EFRON || m->robust > 1 || m->stratified > 1 || m->pad != 0 ||
		m->flags != 0 || m->reserved != 0)
		cs_parse_fail(ps, "Bad flags.");
	if (!m->stratified && m->nstrata != 1)
		cs_parse_fail(ps, "A model without strata has one baseline hazard.");
	for (int j = 0; j < m->p; j++)
	{
		bool		na = isnan(M_COEF(m)[j]);

		if (!isfinite(M_MEANS(m)[j]))
			cs_parse_fail(ps, "Means must be finite.");
		if (na)
		{
			if (!isnan(M_SE(m)[j]) || !isnan(M_RSE(m)[j]) || !isnan(M_ZCHI(m)[j]) ||
				!isnan(M_ZDF(m)[j]))
				cs_parse_fail(ps, "A signal left out has no statistics.");
			continue;
		}
		kept++;
		if (!isfinite(M_COEF(m)[j]) || !(M_SE(m)[j] >= 0) || !isfinite(M_SE(m)[j]) ||
			!(M_RSE(m)[j] >= 0) || !isfinite(M_RSE(m)[j]))
			cs_parse_fail(ps, "Coefficients and standard errors must be finite, standard errors not negative.");
		if (!isnan(M_ZCHI(m)[j]) && !(M_ZCHI(m)[j] >= 0 && isfinite(M_ZCHI(m)[j])))
			cs_parse_fail(ps, "Test statistics must be finite and not negative.");
		if (!isnan(M_ZDF(m)[j]) && !(M_ZDF(m)[j] >= 0 && M_ZDF(m)[j] <= COX_MAX_SIGNALS &&
									 M_ZDF(m)[j] == floor(M_ZDF(m)[j])))
			cs_parse_fail(ps, "Degrees of freedom must be whole numbers.");
	}
	if (kept == 0)
		cs_parse_fail(ps, "A model keeps at least one signal.");
	if (!isnan(M_ZCHI(m)[m->p]) && !(M_ZCHI(m)[m->p] >= 0 && isfinite(M_ZCHI(m)[m->p])))
		cs_parse_fail(ps, "Test statistics must be finite and not negative.");
	if (!isnan(M_ZDF(m)[m->p]) && !(M_ZDF(m)[m->p] >= 0 && M_ZDF(m)[m->p] <= COX_MAX_SIGNALS &&
									M_ZDF(m)[m->p] == floor(M_ZDF(m)[m->p])))
		cs_parse_fail(ps, "Degrees of freedom must be whole numbers.");
	if (m->n < 1 || m->nevent < 1 || m->nevent > m->n)
		cs_parse_fail(ps, "A model has rows and at most as many events.");
	if (m->iterations < 0 || m->iterations > COX_MAX_ITER)
		cs_parse_fail(ps, "The iteration count is out of range.");
	if (!isfinite(m->loglik0) || !isfinite(m->loglik))
		cs_parse_fail(ps, "Log-likelihoods must be finite.");
	if (!(m->wald >= 0 && isfinite(m->wald)) || !(m->score >= 0 && isfinite(m->score)))
		cs_parse_fail(ps, "Test statistics must be finite and not negative.");
	if (m->robust ? !(m->robust_score >= 0 && isfinite(m->robust_score)) : !isnan(m->robust_score))
		cs_parse_fail(ps, "A robust score test goes with a robust model only.");
	if (!isnan(m->concordance) && !(m->concordance >= 0 && m->concordance <= 1))
		cs_parse_fail(ps, "The concordance must be between 0 and 1.");
	if (!isnan(m->concordance_se) && !(m->concordance_se >= 0 && isfinite(m->concordance_se)))
		cs_parse_fail(ps, "The concordance standard error must be finite and not negative.");
	for (int s = 0; s < m->nstrata; s++)
	{
		if (st[s] < 0 || st[s] > m->ntimes - total)
			cs_parse_fail(ps, "Event times per stratum do not add up.");
		for (int64 i = total; i < total + st[s]; i++)
		{
			if (!isfinite(t[i]) || t[i] < 0 || (i > total && !(t[i] > t[i - 1])))
				cs_parse_fail(ps, "Event times must be finite, not negative and increasing.");
			if (!isfinite(h[i]) || !(h[i] > (i > total ? h[i - 1] : 0)))
				cs_parse_fail(ps, "The cumulative hazard must be finite and increasing.");
		}
		total += st[s];
		if (nm >= end)
			cs_parse_fail(ps, "Stratum names do not add up.");
		if (*nm == 1)
		{
			if (names)
				names[s] = NULL;
			nm++;
		}
		else if (*nm == 0)
		{
			const char *z = memchr(nm + 1, '\0', end - nm - 1);

			if (z == NULL)
				cs_parse_fail(ps, "Stratum names do not add up.");
			if (names)
				names[s] = nm + 1;
			nm = z + 1;
		}
		else
			cs_parse_fail(ps, "Stratum names do not add up.");
	}
	if (total != m->ntimes || nm != end)
		cs_parse_fail(ps, "Event times or stratum names do not add up.");
	if (!m->stratified && M_NAMES(m)[0] != 1)
		cs_parse_fail(ps, "A model without strata has no stratum name.");
	/* distinct names, in order */
	if (names)
		for (int s = 1; s < m->nstrata; s++)
			if (names[s - 1] == NULL || (names[s] != NULL && strcmp(names[s - 1], names[s]) >= 0))
				cs_parse_fail(ps, "Stratum names must be distinct and in order, NULL last.");
}

/* Fetches a cox_model argument, validated as stored input is */
static CoxModel *
model_fetch(Datum d, const char ***names)
{
	CoxModel   *m = cs_summary_fetch(&cox_model_type, d);
	CsParse		ps;
	const char **nm = palloc(sizeof(char *) * m->nstrata);

	cs_parse_init_binary(&ps, COX_TYPE);
	cox_model_validate(&ps, m, nm);
	if (names)
		*names = nm;
	else
		pfree(nm);
	return m;
}

/* ---------- cox_model I/O ---------- */

/* {a,b,...} of doubles, NULL for NaN where allowed; n values expected */
static void
parse_list(CsParse *ps, const char *key, double *v, int n, bool nulls)
{
	if (key)
		cs_parse_key(ps, key);
	cs_parse_char(ps, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			cs_parse_char(ps, ',');
		while (isspace((unsigned char) *ps->p))
			ps->p++;
		if (nulls && strncmp(ps->p, "NULL", 4) == 0)
		{
			ps->p += 4;
			v[i] = NAN;
		}
		else
			v[i] = cs_parse_double(ps) + 0.0;
	}
	cs_parse_char(ps, '}');
}

static void
append_list(StringInfo buf, const char *key, const double *v, int n)
{
	if (key)
		appendStringInfo(buf, " %s=", key);
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		if (isnan(v[i]))
			appendStringInfoString(buf, "NULL");
		else
			cs_append_double(buf, v[i]);
	}
	appendStringInfoChar(buf, '}');
}

/* a double or NULL */
static double
parse_nullable(CsParse *ps, const char *key)
{
	cs_parse_key(ps, key);
	while (isspace((unsigned char) *ps->p))
		ps->p++;
	if (strncmp(ps->p, "NULL", 4) == 0)
	{
		ps->p += 4;
		return NAN;
	}
	return cs_parse_double(ps) + 0.0;
}

static void
append_nullable(StringInfo buf, const char *key, double v)
{
	appendStringInfo(buf, " %s=", key);
	if (isnan(v))
		appendStringInfoString(buf, "NULL");
	else
		cs_append_double(buf, v);
}

/* a count of the text form, counted before parsing the lists */
static int64
parse_int_in(CsParse *ps, const char *key, int64 lo, int64 hi)
{
	int64		v;

	cs_parse_key(ps, key);
	v = cs_parse_int64(ps);
	if (v < lo || v > hi)
		cs_parse_fail(ps, "\"%s\" must be between " INT64_FORMAT " and " INT64_FORMAT ".",
					  key, lo, hi);
	return v;
}

/* The fixed fields of a model's text, after its version, into h */
static void
parse_header(CsParse *ps, CoxModel *h)
{
	const char *tiestr;

	cs_parse_key(ps, "ties");
	tiestr = ps->p;
	if (strncmp(tiestr, "efron", 5) == 0)
	{
		h->ties = TIES_EFRON;
		ps->p += 5;
	}
	else if (strncmp(tiestr, "breslow", 7) == 0)
	{
		h->ties = TIES_BRESLOW;
		ps->p += 7;
	}
	else
		cs_parse_fail(ps, "ties must be efron or breslow.");
	h->robust = parse_int_in(ps, "robust", 0, 1);
	h->stratified = parse_int_in(ps, "stratified", 0, 1);
	h->p = parse_int_in(ps, "signals", 1, COX_MAX_SIGNALS);
	h->n = parse_int_in(ps, "n", 1, PG_INT64_MAX);
	h->nevent = parse_int_in(ps, "events", 1, PG_INT64_MAX);
	h->iterations = parse_int_in(ps, "iterations", 0, COX_MAX_ITER);
	cs_parse_key(ps, "loglik");
	cs_parse_char(ps, '{');
	h->loglik0 = cs_parse_double(ps) + 0.0;
	cs_parse_char(ps, ',');
	h->loglik = cs_parse_double(ps) + 0.0;
	cs_parse_char(ps, '}');
	cs_parse_key(ps, "wald");
	h->wald = cs_parse_double(ps) + 0.0;
	cs_parse_key(ps, "score");
	h->score = cs_parse_double(ps) + 0.0;
	h->robust_score = parse_nullable(ps, "robust_score");
	h->concordance = parse_nullable(ps, "concordance");
	h->concordance_se = parse_nullable(ps, "concordance_std_error");
}

/* A stratum's name (NULL or a quoted string) appended to names */
static void
parse_stratum_name(CsParse *ps, StringInfo names)
{
	if (strncmp(ps->p, "NULL", 4) == 0)
	{
		ps->p += 4;
		appendStringInfoChar(names, 1);
	}
	else
	{
		cs_parse_char(ps, '"');
		appendStringInfoChar(names, 0);
		while (*ps->p != '"')
		{
			if (*ps->p == '\0')
				cs_parse_fail(ps, "Unterminated stratum name.");
			if (*ps->p == '\\')
			{
				ps->p++;
				if (*ps->p == '\0')
					cs_parse_fail(ps, "Unterminated stratum name.");
			}
			appendStringInfoChar(names, *ps->p++);
		}
		ps->p++;
		appendStringInfoChar(names, '\0');
	}
}

PG_FUNCTION_INFO_V1(cox_model_in);
Datum
cox_model_in(PG_FUNCTION_ARGS)
{
	const char *text = PG_GETARG_CSTRING(0);
	CsParse		ps;
	CoxModel	h;
	CoxModel   *m;
	double	   *data;
	double	   *times;
	double	   *cumhaz;
	int32	   *stimes;
	StringInfoData names;
	int			cap = 8;
	int			ntcap = 64;

	memset(&h, 0, sizeof(h));
	cs_parse_init_text(&ps, COX_TYPE, text);
	cs_parse_version(&ps);
	parse_header(&ps, &h);
	data = palloc(sizeof(double) * (6 * h.p + 2));
	parse_list(&ps, "coefficients", data, h.p, true);
	parse_list(&ps, "std_errors", data + h.p, h.p, true);
	parse_list(&ps, "robust_std_errors", data + 2 * h.p, h.p, true);
	parse_list(&ps, "means", data + 3 * h.p, h.p, false);
	parse_list(&ps, "ph_chisq", data + 4 * h.p, h.p + 1, true);
	parse_list(&ps, "ph_df", data + 5 * h.p + 1, h.p + 1, true);

	/* strata=[NULL {t,..} {H,..}; "name" {..} {..}] */
	cs_parse_key(&ps, "strata");
	cs_parse_char(&ps, '[');
	initStringInfo(&names);
	stimes = palloc(sizeof(int32) * cap);
	times = palloc(sizeof(double) * ntcap);
	cumhaz = palloc(sizeof(double) * ntcap);
	do
	{
		int			k = 0;

		if (h.nstrata == cap)
		{
			if (cap > 1 << 24)
				cs_parse_fail(&ps, "Too many strata.");
			cap *= 2;
			stimes = repalloc(stimes, sizeof(int32) * cap);
		}
		while (isspace((unsigned char) *ps.p))
			ps.p++;
		parse_stratum_name(&ps, &names);
		/* times, then as many cumulative hazards */
		cs_parse_char(&ps, '{');
		if (!cs_parse_peek(&ps, '}'))
		{
			do
			{
				if (h.ntimes + k == ntcap)
				{
					if (ntcap > (int) (MaxAllocSize / 32))
						cs_parse_fail(&ps, "Too many event times.");
					ntcap *= 2;
					times = repalloc(times, sizeof(double) * ntcap);
					cumhaz = repalloc(cumhaz, sizeof(double) * ntcap);
				}
				times[h.ntimes + k++] = cs_parse_double(&ps) + 0.0;
			} while (cs_parse_peek(&ps, ','));
			cs_parse_char(&ps, '}');
		}
		if (k > 0)
			parse_list(&ps, NULL, cumhaz + h.ntimes, k, false);
		else
		{
			cs_parse_char(&ps, '{');
			cs_parse_char(&ps, '}');
		}
		stimes[h.nstrata++] = k;
		h.ntimes += k;
	} while (cs_parse_peek(&ps, ';'));
	cs_parse_char(&ps, ']');
	cs_parse_end(&ps);
	if (names.len > (int) (MaxAllocSize / 2))
		cs_parse_fail(&ps, "Stratum names are too long.");

	m = cox_model_alloc(h.p, h.nstrata, h.ntimes, names.len);
	memcpy(m, &h, offsetof(CoxModel, data));
	SET_VARSIZE(m, model_bytes(h.p, h.nstrata, h.ntimes, names.len));
	m->version = CS_SUMMARY_VERSION;
	m->names_len = names.len;
	memcpy(m->data, data, sizeof(double) * (6 * h.p + 2));
	memcpy(M_TIMES(m), times, sizeof(double) * h.ntimes);
	memcpy(M_CUMHAZ(m), cumhaz, sizeof(double) * h.ntimes);
	memcpy(M_STIMES(m), stimes, sizeof(int32) * h.nstrata);
	memcpy(M_NAMES(m), names.data, names.len);
	{
		const char **nm = palloc(sizeof(char *) * m->nstrata);

		cox_model_validate(&ps, m, nm);
	}
	PG_RETURN_POINTER(m);
}

static void
append_name(StringInfo buf, const char *s)
{
	if (s == NULL)
	{
		appendStringInfoString(buf, "NULL");
		return;
	}
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

PG_FUNCTION_INFO_V1(cox_model_out);
Datum
cox_model_out(PG_FUNCTION_ARGS)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	StringInfoData buf;
	int64		k = 0;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v=%d ties=%s robust=%d stratified=%d signals=%d n=" INT64_FORMAT
					 " events=" INT64_FORMAT " iterations=%d loglik={",
					 CS_SUMMARY_VERSION, m->ties == TIES_EFRON ? "efron" : "breslow",
					 m->robust, m->stratified, m->p, m->n, m->nevent, m->iterations);
	cs_append_double(&buf, m->loglik0);
	appendStringInfoChar(&buf, ',');
	cs_append_double(&buf, m->loglik);
	appendStringInfoString(&buf, "} wald=");
	cs_append_double(&buf, m->wald);
	appendStringInfoString(&buf, " score=");
	cs_append_double(&buf, m->score);
	append_nullable(&buf, "robust_score", m->robust_score);
	append_nullable(&buf, "concordance", m->concordance);
	append_nullable(&buf, "concordance_std_error", m->concordance_se);
	append_list(&buf, "coefficients", M_COEF(m), m->p);
	append_list(&buf, "std_errors", M_SE(m), m->p);
	append_list(&buf, "robust_std_errors", M_RSE(m), m->p);
	append_list(&buf, "means", M_MEANS(m), m->p);
	append_list(&buf, "ph_chisq", M_ZCHI(m), m->p + 1);
	append_list(&buf, "ph_df", M_ZDF(m), m->p + 1);
	appendStringInfoString(&buf, " strata=[");
	for (int s = 0; s < m->nstrata; s++)
	{
		int32		c = M_STIMES(m)[s];

		if (s > 0)
			appendStringInfoString(&buf, "; ");
		append_name(&buf, names[s]);
		appendStringInfoChar(&buf, ' ');
		append_list(&buf, NULL, M_TIMES(m) + k, c);
		appendStringInfoChar(&buf, ' ');
		append_list(&buf, NULL, M_CUMHAZ(m) + k, c);
		k += c;
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(cox_model_send);
Datum
cox_model_send(PG_FUNCTION_ARGS)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	StringInfoData buf;
	int64		nd = 6 * (int64) m->p + 2 + 2 * (int64) m->ntimes;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CS_SUMMARY_VERSION);
	pq_sendbyte(&buf, m->ties);
	pq_sendbyte(&buf, m->robust);
	pq_sendbyte(&buf, m->stratified);
	pq_sendint32(&buf, m->p);
	pq_sendint32(&buf, m->nstrata);
	pq_sendint32(&buf, m->ntimes);
	pq_sendint32(&buf, m->iterations);
	pq_sendint64(&buf, m->n);
	pq_sendint64(&buf, m->nevent);
	pq_sendfloat8(&buf, m->loglik0);
	pq_sendfloat8(&buf, m->loglik);
	pq_sendfloat8(&buf, m->wald);
	pq_sendfloat8(&buf, m->score);
	pq_sendfloat8(&buf, m->robust_score);
	pq_sendfloat8(&buf, m->concordance);
	pq_sendfloat8(&buf, m->concordance_se);
	for (int64 i = 0; i < nd; i++)
		pq_sendfloat8(&buf, m->data[i]);
	for (int s = 0; s < m->nstrata; s++)
	{
		pq_sendint32(&buf, M_STIMES(m)[s]);
		if (names[s] == NULL)
			pq_sendint32(&buf, -1);
		else
		{
			int			len = strlen(names[s]);

			pq_sendint32(&buf, len);
			pq_sendbytes(&buf, names[s], len);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(cox_model_recv);
Datum
cox_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CsParse		ps;
	CoxModel	h;
	CoxModel   *m;
	double	   *data;
	int32	   *stimes;
	StringInfoData names;
	int64		nd;

	memset(&h, 0, sizeof(h));
	cs_parse_init_binary(&ps, COX_TYPE);
	cs_recv_version(&ps, buf);
	h.ties = pq_getmsgbyte(buf);
	h.robust = pq_getmsgbyte(buf);
	h.stratified = pq_getmsgbyte(buf);
	h.p = pq_getmsgint(buf, 4);
	h.nstrata = pq_getmsgint(buf, 4);
	h.ntimes = pq_getmsgint(buf, 4);
	h.iterations = pq_getmsgint(buf, 4);
	if (h.p < 1 || h.p > COX_MAX_SIGNALS)
		cs_parse_fail(&ps, "The number of signals must be between 1 and %d, got %d.",
					  COX_MAX_SIGNALS, h.p);
	if (h.nstrata < 1 || h.ntimes < 0 ||
		(int64) h.nstrata * 8 + (int64) h.ntimes * 16 > buf->len - buf->cursor)
		cs_parse_fail(&ps, "The counts of strata and event times do not match the data.");
	h.n = pq_getmsgint64(buf);
	h.nevent = pq_getmsgint64(buf);
	h.loglik0 = pq_getmsgfloat8(buf);
	h.loglik = pq_getmsgfloat8(buf);
	h.wald = pq_getmsgfloat8(buf);
	h.score = pq_getmsgfloat8(buf);
	h.robust_score = pq_getmsgfloat8(buf);
	h.concordance = pq_getmsgfloat8(buf);
	h.concordance_se = pq_getmsgfloat8(buf);
	nd = 6 * (int64) h.p + 2 + 2 * (int64) h.ntimes;
	data = palloc_extended(sizeof(double) * nd, MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < nd; i++)
		data[i] = pq_getmsgfloat8(buf);
	stimes = palloc(sizeof(int32) * h.nstrata);
	initStringInfo(&names);
	for (int s = 0; s < h.nstrata; s++)
	{
		int32		len;

		stimes[s] = pq_getmsgint(buf, 4);
		len = pq_getmsgint(buf, 4);
		if (len < -1 || len > buf->len - buf->cursor)
			cs_parse_fail(&ps, "Bad stratum name length.");
		if (len < 0)
			appendStringInfoChar(&names, 1);
		else
		{
			const char *s2 = pq_getmsgbytes(buf, len);

			if (memchr(s2, '\0', len) != NULL)
				cs_parse_fail(&ps, "A stratum name holds a zero byte.");
			appendStringInfoChar(&names, 0);
			appendBinaryStringInfo(&names, s2, len);
			appendStringInfoChar(&names, '\0');
		}
	}
	pq_getmsgend(buf);
	m = cox_model_alloc(h.p, h.nstrata, h.ntimes, names.len);
	memcpy(m, &h, offsetof(CoxModel, data));
	SET_VARSIZE(m, model_bytes(h.p, h.nstrata, h.ntimes, names.len));
	m->version = CS_SUMMARY_VERSION;
	m->names_len = names.len;
	memcpy(m->data, data, sizeof(double) * nd);
	memcpy(M_STIMES(m), stimes, sizeof(int32) * h.nstrata);
	memcpy(M_NAMES(m), names.data, names.len);
	{
		const char **nm = palloc(sizeof(char *) * m->nstrata);

		cox_model_validate(&ps, m, nm);
	}
	PG_RETURN_POINTER(m);
}

/* ---------- accessors ---------- */

static Datum
nullable_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		nulls[i] = isnan(v[i]);
		d[i] = Float8GetDatum(nulls[i] ? 0 : v[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_md_array(d, nulls, 1, dims, lbs, FLOAT8OID,
											 sizeof(float8), FLOAT8PASSBYVAL,
											 TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(cox_coefficients);
Datum
cox_coefficients(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_COEF(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_std_errors);
Datum
cox_std_errors(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_SE(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_robust_std_errors);
Datum
cox_robust_std_errors(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_RSE(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_means);
Datum
cox_means(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	return nullable_array(M_MEANS(m), m->p);
}

PG_FUNCTION_INFO_V1(cox_log_likelihood);
Datum
cox_log_likelihood(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(model_fetch(PG_GETARG_DATUM(0), NULL)->loglik);
}

PG_FUNCTION_INFO_V1(cox_null_log_likelihood);
Datum
cox_null_log_likelihood(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(model_fetch(PG_GETARG_DATUM(0), NULL)->loglik0);
}

PG_FUNCTION_INFO_V1(cox_concordance_value);
Datum
cox_concordance_value(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	if (isnan(m->concordance))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(m->concordance);
}

PG_FUNCTION_INFO_V1(cox_concordance_std_error);
Datum
cox_concordance_std_error(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);

	if (isnan(m->concordance_se))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(m->concordance_se);
}

PG_FUNCTION_INFO_V1(cox_observations);
Datum
cox_observations(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(model_fetch(PG_GETARG_DATUM(0), NULL)->n);
}

PG_FUNCTION_INFO_V1(cox_events);
Datum
cox_events(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(model_fetch(PG_GETARG_DATUM(0), NULL)->nevent);
}

static int
model_kept(const CoxModel *m)
{
	int			k = 0;

	for (int j = 0; j < m->p; j++)
		k += !isnan(M_COEF(m)[j]);
	return k;
}

PG_FUNCTION_INFO_V1(cox_summary);
Datum
cox_summary(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	double		z = cs_confidence_z("cox_summary", PG_GETARG_FLOAT8(1));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int j = 0; j < m->p; j++)
	{
		Datum		values[9];
		bool		nulls[9];
		double		b = M_COEF(m)[j];
		double		se = m->robust ? M_RSE(m)[j] : M_SE(m)[j];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int32GetDatum(j + 1);
		if (isnan(b))
		{
			for (int c = 1; c < 9; c++)
				nulls[c] = true;
		}
		else
		{
			values[1] = Float8GetDatum(b);
			values[2] = Float8GetDatum(exp(b));
			values[3] = Float8GetDatum(M_SE(m)[j]);
			values[4] = Float8GetDatum(M_RSE(m)[j]);
			values[5] = Float8GetDatum(b / se);
			values[6] = Float8GetDatum(cs_chisq_upper_tail((b / se) * (b / se), 1));
			values[7] = Float8GetDatum(exp(b - z * se));
			values[8] = Float8GetDatum(exp(b + z * se));
			if (se == 0)
				nulls[5] = nulls[6] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(cox_tests);
Datum
cox_tests(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			df = model_kept(m);
	const char *name[4] = {"likelihood_ratio", "wald", "score", "robust_score"};
	double		stat[4];

	stat[0] = 2 * (m->loglik - m->loglik0);
	stat[1] = m->wald;
	stat[2] = m->score;
	stat[3] = m->robust_score;
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < 4; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (isnan(stat[i]))
			continue;
		values[0] = CStringGetTextDatum(name[i]);
		values[1] = Float8GetDatum(stat[i]);
		values[2] = Int32GetDatum(df);
		values[3] = Float8GetDatum(cs_chisq_upper_tail(stat[i], df));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(cox_ph_test);
Datum
cox_ph_test(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int j = 0; j <= m->p; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		double		chi = M_ZCHI(m)[j];
		double		df = M_ZDF(m)[j];

		if (j < m->p && isnan(M_COEF(m)[j]))
			continue;
		values[0] = Int32GetDatum(j + 1);
		nulls[0] = j == m->p;
		nulls[1] = isnan(chi);
		values[1] = Float8GetDatum(nulls[1] ? 0 : chi);
		nulls[2] = isnan(df);
		values[2] = Int32GetDatum(nulls[2] ? 0 : (int32) df);
		nulls[3] = nulls[1] || nulls[2] || df <= 0;
		values[3] = Float8GetDatum(nulls[3] ? 0 : cs_chisq_upper_tail(chi, df));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * exp(beta . (x - means)) for the signals given; false when one of them is
 * NULL (the answer is then NULL)
 */
static bool
model_risk(const CoxModel *m, ArrayType *signals, const char *fname, double *risk)
{
	const double *v;
	int			k;
	double		e = 0;

	if (ARR_NDIM(signals) > 1 || ARR_ELEMTYPE(signals) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: signals must be a one-dimensional double precision array", fname)));
	k = ARR_NDIM(signals) == 1 ? ARR_DIMS(signals)[0] : 0;
	if (k != m->p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the model has %d signals, got %d", fname, m->p, k)));
	if (ARR_HASNULL(signals))
		return false;
	v = CS_ARR_DOUBLES(signals);
	cs_signals_finite(fname, v, k);
	for (int j = 0; j < k; j++)
	{
		if (!isnan(M_COEF(m)[j]))
			e += M_COEF(m)[j] * (v[j] - M_MEANS(m)[j]);
	}
	*risk = exp(e);
	if (!isfinite(*risk))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: the relative risk of these signals is out of range", fname),
				 errdetail("beta . (x - means) = %g.", e)));
	return true;
}

PG_FUNCTION_INFO_V1(cox_risk_score);
Datum
cox_risk_score(PG_FUNCTION_ARGS)
{
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), NULL);
	double		risk;

	if (!model_risk(m, PG_GETARG_ARRAYTYPE_P(1), "cox_risk_score", &risk))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(risk);
}

/* The stratum of a prediction: its number, or an error */
static int
model_stratum(const CoxModel *m, const char **names, text *stratum, const char *fname)
{
	char	   *s;

	if (stratum == NULL)
	{
		if (m->nstrata == 1)
			return 0;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the model has %d strata, name one", fname, m->nstrata),
				 errhint("Use %s(model, t, stratum, signals...).", fname)));
	}
	s = text_to_cstring(stratum);
	for (int i = 0; i < m->nstrata; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: the model has no stratum \"%s\"", fname, s)));
}

static Datum
survival_at(FunctionCallInfo fcinfo, bool with_stratum)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	double		t = PG_GETARG_FLOAT8(1);
	int			s = model_stratum(m, names, with_stratum ? PG_GETARG_TEXT_PP(2) : NULL,
								  "cox_survival_at");
	double		risk;
	int64		first = 0;
	int64		k;

	if (isnan(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cox_survival_at: t must not be NaN")));
	if (!model_risk(m, PG_GETARG_ARRAYTYPE_P(with_stratum ? 3 : 2), "cox_survival_at", &risk))
		PG_RETURN_NULL();
	for (int i = 0; i < s; i++)
		first += M_STIMES(m)[i];
	k = cox_times_floor(M_TIMES(m), first, first + M_STIMES(m)[s], t);
	if (k < first)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(exp(-M_CUMHAZ(m)[k] * risk));
}

PG_FUNCTION_INFO_V1(cox_survival_at);
Datum
cox_survival_at(PG_FUNCTION_ARGS)
{
	return survival_at(fcinfo, false);
}

PG_FUNCTION_INFO_V1(cox_survival_at_stratum);
Datum
cox_survival_at_stratum(PG_FUNCTION_ARGS)
{
	return survival_at(fcinfo, true);
}

PG_FUNCTION_INFO_V1(cox_survival_table);
Datum
cox_survival_table(PG_FUNCTION_ARGS)
{
	const char **names;
	CoxModel   *m = model_fetch(PG_GETARG_DATUM(0), &names);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		risk;
	int64		k = 0;

	if (!model_risk(m, PG_GETARG_ARRAYTYPE_P(1), "cox_survival_table", &risk))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum) 0;
	}
	InitMaterializedSRF(fcinfo, 0);
	for (int s = 0; s < m->nstrata; s++)
	{
		Datum		name = names[s] ? CStringGetTextDatum(names[s]) : (Datum) 0;

		for (int i = 0; i < M_STIMES(m)[s]; i++, k++)
		{
			Datum		values[3];
			bool		nulls[3] = {names[s] == NULL, false, false};

			values[0] = name;
			values[1] = Float8GetDatum(M_TIMES(m)[k]);
			values[2] = Float8GetDatum(exp(-M_CUMHAZ(m)[k] * risk));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
