/*
 * fuzz_type.c
 *	  libFuzzer target for one summary/model type, built once per type with
 *	  -DCS_FUZZ_TYPE=<type> (test/fuzz/run finds the types in the SQL of src/ and
 *	  expects the C functions <type>_in, _out, _recv and _send).
 *
 *	  The first byte of an input picks the path: even = text input
 *	  (<type>_in), odd = binary input (<type>_recv); the rest is the
 *	  payload.  A rejected input must raise an error with a proper SQLSTATE
 *	  (22P02/22P03/22023/22003/08P01); anything else, XX000 included,
 *	  aborts.  An accepted value must round-trip: out -> in -> out gives the
 *	  same text and send -> recv -> send the same bytes, and every accessor
 *	  (one-argument scalar function of the type) must return or raise a
 *	  proper error on it.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "shim.h"

#define CS_CAT2(a, b) a##b
#define CS_CAT(a, b) CS_CAT2(a, b)
#define CS_STR2(a) #a
#define CS_STR(a) CS_STR2(a)

extern Datum CS_CAT(CS_FUZZ_TYPE, _in) (PG_FUNCTION_ARGS);
extern Datum CS_CAT(CS_FUZZ_TYPE, _out) (PG_FUNCTION_ARGS);
extern Datum CS_CAT(CS_FUZZ_TYPE, _recv) (PG_FUNCTION_ARGS);
extern Datum CS_CAT(CS_FUZZ_TYPE, _send) (PG_FUNCTION_ARGS);

static Datum
call(PGFunction f, Datum arg)
{
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = ObjectIdGetDatum(InvalidOid);
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = Int32GetDatum(-1);
	fcinfo->args[2].isnull = false;
	result = f(fcinfo);
	if (fcinfo->isnull)
	{
		fprintf(stderr, "fuzz: %s I/O function returned NULL\n", CS_STR(CS_FUZZ_TYPE));
		abort();
	}
	return result;
}

static Datum
call_in(const char *text)
{
	return call(CS_CAT(CS_FUZZ_TYPE, _in), CStringGetDatum(text));
}

static char *
call_out(Datum v)
{
	return DatumGetCString(call(CS_CAT(CS_FUZZ_TYPE, _out), v));
}

/* The server hands recv a StringInfo over a NUL-terminated copy of the bytes */
static Datum
call_recv(const char *data, size_t len)
{
	StringInfoData buf;

	buf.data = palloc(len + 1);
	memcpy(buf.data, data, len);
	buf.data[len] = '\0';
	buf.len = len;
	buf.maxlen = len + 1;
	buf.cursor = 0;
	return call(CS_CAT(CS_FUZZ_TYPE, _recv), PointerGetDatum(&buf));
}

static bytea *
call_send(Datum v)
{
	return DatumGetByteaPP(call(CS_CAT(CS_FUZZ_TYPE, _send), v));
}

/*
 * The accessors: every C function taking just this type and returning a
 * scalar (test/fuzz/run lists them from the SQL of src/ into CS_ACCESSORS)
 */
#define CS_ACCESSOR(f) extern Datum f(PG_FUNCTION_ARGS);
#include CS_ACCESSORS
#undef CS_ACCESSOR
#define CS_ACCESSOR(f) {f, #f},
static const struct
{
	PGFunction	fn;
	const char *name;
}			accessors[] = {
#include CS_ACCESSORS
	{NULL, NULL}
};
#undef CS_ACCESSOR

static bool
proper_rejection(int sqlstate)
{
	return sqlstate == ERRCODE_INVALID_TEXT_REPRESENTATION ||
		sqlstate == ERRCODE_INVALID_BINARY_REPRESENTATION ||
		sqlstate == ERRCODE_INVALID_PARAMETER_VALUE ||
		sqlstate == ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE ||
		sqlstate == ERRCODE_PROTOCOL_VIOLATION;
}

static void
check_round_trip(Datum v)
{
	char	   *text1 = call_out(v);
	Datum		v2 = call_in(text1);
	char	   *text2 = call_out(v2);
	bytea	   *bin1 = call_send(v);
	Datum		v3 = call_recv(VARDATA(bin1), VARSIZE(bin1) - VARHDRSZ);
	bytea	   *bin2 = call_send(v3);

	if (strcmp(text1, text2) != 0)
	{
		fprintf(stderr, "fuzz: text round trip differs:\n  %s\n  %s\n", text1, text2);
		abort();
	}
	if (VARSIZE(bin1) != VARSIZE(bin2) || memcmp(bin1, bin2, VARSIZE(bin1)) != 0)
	{
		fprintf(stderr, "fuzz: binary round trip differs for %s\n", text1);
		abort();
	}
	if (strcmp(text1, call_out(v3)) != 0)
	{
		fprintf(stderr, "fuzz: text and binary forms disagree for %s\n", text1);
		abort();
	}
}

/*
 * Call every accessor on an accepted value: each may return a value or NULL,
 * or raise a proper error (an overflowing total, say), nothing else.
 */
static void
check_accessors(Datum v)
{
	for (int i = 0; accessors[i].fn != NULL; i++)
	{
		sigjmp_buf	jmp;
		sigjmp_buf *save = PG_exception_stack;

		if (sigsetjmp(jmp, 0) == 0)
		{
			LOCAL_FCINFO(fcinfo, 1);
			FmgrInfo	flinfo = {0};

			/* as fmgr calls them: with a FmgrInfo (fn_oid unknown here) */
			flinfo.fn_nargs = 1;
			PG_exception_stack = &jmp;
			InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
			fcinfo->args[0].value = v;
			fcinfo->args[0].isnull = false;
			(void) accessors[i].fn(fcinfo);
		}
		else if (!proper_rejection(shim_last_sqlstate()))
		{
			fprintf(stderr, "fuzz: %s on an accepted value raised SQLSTATE %s at %s: %s\n",
					accessors[i].name, unpack_sql_state(shim_last_sqlstate()),
					shim_last_location(), shim_last_message());
			abort();
		}
		PG_exception_stack = save;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf	jmp;
	sigjmp_buf *volatile save = PG_exception_stack;
	volatile bool in_check = false;

	if (size < 1)
		return 0;
	if (sigsetjmp(jmp, 0) == 0)
	{
		Datum		v;

		PG_exception_stack = &jmp;
		if (data[0] % 2 == 0)
		{
			char	   *text = palloc(size);

			memcpy(text, data + 1, size - 1);
			text[size - 1] = '\0';
			v = call_in(text);
		}
		else
			v = call_recv((const char *) data + 1, size - 1);
		in_check = true;
		check_round_trip(v);
		in_check = false;
		check_accessors(v);
		if (getenv("CS_FUZZ_DUMP_BINARY") != NULL)
		{
			bytea	   *bin = call_send(v);
			FILE	   *f = fopen(getenv("CS_FUZZ_DUMP_BINARY"), "wb");

			if (f != NULL)
			{
				fputc(1, f);
				fwrite(VARDATA(bin), 1, VARSIZE(bin) - VARHDRSZ, f);
				fclose(f);
			}
		}
	}
	else if (in_check || !proper_rejection(shim_last_sqlstate()))
	{
		fprintf(stderr, "fuzz: %s: %s raised SQLSTATE %s at %s: %s\n", CS_STR(CS_FUZZ_TYPE),
				in_check ? "an accepted value's round trip" : "a rejection",
				unpack_sql_state(shim_last_sqlstate()), shim_last_location(), shim_last_message());
		abort();
	}
	PG_exception_stack = save;
	shim_reset();
	return 0;
}
