/*
 * shim.c
 *	  The handful of PostgreSQL backend symbols that the summary types' I/O
 *	  functions use, so that the C files of src/ can be linked into a libFuzzer binary
 *	  outside the server.
 *
 *	  - memory: palloc and friends allocate with malloc and remember every
 *		block, so that shim_reset() frees everything an input allocated
 *		(the server would drop the memory context; leak checking stays on);
 *	  - errors: ereport/elog record the SQLSTATE and message, and ERROR
 *		longjmps to PG_exception_stack, so that PG_TRY works as in the server;
 *	  - libpq/pqformat.c: the message reading and writing functions, with
 *		the server's checks and SQLSTATEs (08P01 for short input);
 *	  - detoasting: the harness only passes plain 4-byte-header values.
 *
 *	  StringInfo and double_to_shortest_decimal_buf come from libpgcommon.
 *	  A family whose I/O functions call another backend function makes the
 *	  link fail with an undefined symbol: add it here (see notes/reliability.md).
 */
#include "postgres.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"

#include "shim.h"

/* ---------- globals the headers refer to ---------- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;
MemoryContext CurrentMemoryContext = NULL;
volatile sig_atomic_t InterruptPending = false;

void
ProcessInterrupts(void)
{
}

/* ---------- memory ---------- */

static void **blocks;
static size_t nblocks;
static size_t maxblocks;

typedef struct ShimBlock
{
	size_t		slot;
	size_t		size;
	max_align_t align[FLEXIBLE_ARRAY_MEMBER];
} ShimBlock;

static void *
shim_alloc(Size size, bool zero)
{
	ShimBlock  *b;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	if (nblocks == maxblocks)
	{
		maxblocks = maxblocks ? maxblocks * 2 : 256;
		blocks = realloc(blocks, maxblocks * sizeof(void *));
		if (blocks == NULL)
			abort();
	}
	b = zero ? calloc(1, offsetof(ShimBlock, align) + size) : malloc(offsetof(ShimBlock, align) + size);
	if (b == NULL)
		abort();
	b->slot = nblocks;
	b->size = size;
	blocks[nblocks++] = b;
	return b->align;
}

static ShimBlock *
shim_block(void *p)
{
	return (ShimBlock *) ((char *) p - offsetof(ShimBlock, align));
}

void
shim_reset(void)
{
	for (size_t i = 0; i < nblocks; i++)
		free(blocks[i]);
	nblocks = 0;
}

void *
palloc(Size size)
{
	return shim_alloc(size, false);
}

void *
palloc0(Size size)
{
	return shim_alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return shim_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return shim_alloc(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return shim_alloc(size, true);
}

void *
MemoryContextAllocZeroAligned(MemoryContext context, Size size)
{
	return shim_alloc(size, true);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return shim_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void
pfree(void *p)
{
	ShimBlock  *b = shim_block(p);

	blocks[b->slot] = blocks[--nblocks];
	((ShimBlock *) blocks[b->slot])->slot = b->slot;
	free(b);
}

void *
repalloc(void *p, Size size)
{
	ShimBlock  *b = shim_block(p);
	size_t		slot = b->slot;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	b = realloc(b, offsetof(ShimBlock, align) + size);
	if (b == NULL)
		abort();
	b->size = size;
	blocks[slot] = b;
	return b->align;
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in) + 1;
	char	   *out = palloc(len);

	memcpy(out, in, len);
	return out;
}

/* ---------- errors ---------- */

static int	cur_elevel;
static int	cur_sqlstate;
static char cur_message[1024];
static int	last_sqlstate;
static char last_message[1024];
static char last_location[256];

bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;			/* warnings and notices are dropped */
	cur_elevel = elevel;
	cur_sqlstate = ERRCODE_INTERNAL_ERROR;	/* elog's default, as in the server */
	cur_message[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	last_sqlstate = cur_sqlstate;
	memcpy(last_message, cur_message, sizeof(last_message));
	snprintf(last_location, sizeof(last_location), "%s:%d %s", filename, lineno, funcname);
	if (cur_elevel >= FATAL || PG_exception_stack == NULL)
	{
		fprintf(stderr, "shim: %s error outside PG_TRY at %s: %s\n",
				cur_elevel >= FATAL ? "FATAL" : "ERROR", last_location, last_message);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

int
errcode(int sqlerrcode)
{
	cur_sqlstate = sqlerrcode;
	return 0;
}

static int
shim_errmsg(const char *fmt, va_list args)
{
	if (cur_message[0] == '\0')
		vsnprintf(cur_message, sizeof(cur_message), fmt, args);
	return 0;
}

#define SHIM_MSG_FUNC(name) \
int name(const char *fmt,...) \
{ \
	va_list		args; \
	va_start(args, fmt); \
	shim_errmsg(fmt, args); \
	va_end(args); \
	return 0; \
}

SHIM_MSG_FUNC(errmsg)
SHIM_MSG_FUNC(errmsg_internal)

#define SHIM_IGNORED_FUNC(name) \
int name(const char *fmt,...) { return 0; }

SHIM_IGNORED_FUNC(errdetail)
SHIM_IGNORED_FUNC(errdetail_internal)
SHIM_IGNORED_FUNC(errhint)
SHIM_IGNORED_FUNC(errcontext_msg)

int
errdetail_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n,...)
{
	return 0;
}

int
errmsg_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n,...)
{
	if (cur_message[0] == '\0')
		strlcpy(cur_message, fmt_singular, sizeof(cur_message));
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

void
FlushErrorState(void)
{
}

int
shim_last_sqlstate(void)
{
	return last_sqlstate;
}

const char *
shim_last_message(void)
{
	return last_message;
}

const char *
shim_last_location(void)
{
	return last_location;
}

/* ---------- fmgr and friends ---------- */

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
	{
		fprintf(stderr, "shim: the harness passed an extended datum\n");
		abort();
	}
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return datum;
}

struct varlena *
pg_detoast_datum_copy(struct varlena *datum)
{
	struct varlena *copy = palloc(VARSIZE(datum));

	memcpy(copy, datum, VARSIZE(datum));
	return copy;
}

int
AggCheckCallContext(FunctionCallInfo fcinfo, MemoryContext *aggcontext)
{
	if (aggcontext)
		*aggcontext = NULL;
	return 0;
}

/* Not in an aggregate: the final functions the harness calls name no aggregate */
struct Aggref *
AggGetAggref(FunctionCallInfo fcinfo)
{
	return NULL;
}

char *
get_func_name(Oid funcid)
{
	return pstrdup("function");
}

/* ---------- libpq/pqformat.c ---------- */

void
pq_sendbytes(StringInfo buf, const char *data, int datalen)
{
	appendBinaryStringInfo(buf, data, datalen);
}

void
pq_sendtext(StringInfo buf, const char *str, int slen)
{
	pq_sendint32(buf, slen);
	appendBinaryStringInfo(buf, str, slen);
}

void
pq_sendstring(StringInfo buf, const char *str)
{
	appendBinaryStringInfo(buf, str, strlen(str) + 1);
}

void
pq_sendfloat4(StringInfo buf, float4 f)
{
	union
	{
		float4		f;
		uint32		i;
	}			swap;

	swap.f = f;
	pq_sendint32(buf, swap.i);
}

void
pq_sendfloat8(StringInfo buf, float8 f)
{
	union
	{
		float8		f;
		int64		i;
	}			swap;

	swap.f = f;
	pq_sendint64(buf, swap.i);
}

void
pq_begintypsend(StringInfo buf)
{
	initStringInfo(buf);
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
}

bytea *
pq_endtypsend(StringInfo buf)
{
	bytea	   *result = (bytea *) buf->data;

	SET_VARSIZE(result, buf->len);
	return result;
}

int
pq_getmsgbyte(StringInfo msg)
{
	if (msg->cursor >= msg->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("no data left in message")));
	return (unsigned char) msg->data[msg->cursor++];
}

void
pq_copymsgbytes(StringInfo msg, char *buf, int datalen)
{
	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	memcpy(buf, &msg->data[msg->cursor], datalen);
	msg->cursor += datalen;
}

const char *
pq_getmsgbytes(StringInfo msg, int datalen)
{
	const char *result;

	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	result = &msg->data[msg->cursor];
	msg->cursor += datalen;
	return result;
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	unsigned char n8;
	uint16		n16;
	uint32		n32;

	switch (b)
	{
		case 1:
			pq_copymsgbytes(msg, (char *) &n8, 1);
			return n8;
		case 2:
			pq_copymsgbytes(msg, (char *) &n16, 2);
			return pg_ntoh16(n16);
		case 4:
			pq_copymsgbytes(msg, (char *) &n32, 4);
			return pg_ntoh32(n32);
		default:
			elog(ERROR, "unsupported integer size %d", b);
	}
	return 0;
}

int64
pq_getmsgint64(StringInfo msg)
{
	uint64		n64;

	pq_copymsgbytes(msg, (char *) &n64, sizeof(n64));
	return pg_ntoh64(n64);
}

float4
pq_getmsgfloat4(StringInfo msg)
{
	union
	{
		float4		f;
		uint32		i;
	}			swap;

	swap.i = pq_getmsgint(msg, 4);
	return swap.f;
}

float8
pq_getmsgfloat8(StringInfo msg)
{
	union
	{
		float8		f;
		int64		i;
	}			swap;

	swap.i = pq_getmsgint64(msg);
	return swap.f;
}

const char *
pq_getmsgstring(StringInfo msg)
{
	char	   *str = &msg->data[msg->cursor];
	int			slen = strlen(str);

	if (msg->cursor + slen >= msg->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid string in message")));
	msg->cursor += slen + 1;
	return str;
}

void
pq_getmsgend(StringInfo msg)
{
	if (msg->cursor != msg->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid message format")));
}

char *
unpack_sql_state(int sql_state)
{
	static char buf[12];

	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

/*
 * Text stored in a summary (competing_risks_summary's reasons) is checked
 * against the database encoding: here UTF-8, the encoding of the test
 * clusters, with libpgcommon's verifier.
 */
bool
pg_verifymbstr(const char *mbstr, int len, bool noError)
{
	if (pg_encoding_verifymbstr(PG_UTF8, mbstr, len) == len)
		return true;
	if (!noError)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"UTF8\"")));
	return false;
}
