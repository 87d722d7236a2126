// pg_mock.cpp implements the PostgreSQL stand-in of pg_mock.hpp.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "pg_mock.hpp"
#include "types/dense_io.h"

extern "C" {
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/memutils.h"
}

namespace {

// g_allocations holds every live palloc'd chunk (a context to reset).
std::unordered_set<void *> g_allocations;

// g_error is the ereport being built; g_elevel its level.
MockError g_error;
int g_elevel;

// Allocate returns size bytes from malloc, tracked; PostgreSQL raises an
// ERROR for a request over MaxAllocSize, and so do we.
void *Allocate(Size size, bool zero) {
	if (!AllocSizeIsValid(size))
		throw MockError{ERRCODE_PROGRAM_LIMIT_EXCEEDED, "invalid memory alloc request size"};
	void *p = zero ? std::calloc(1, size == 0 ? 1 : size) : std::malloc(size == 0 ? 1 : size);
	if (p == nullptr)
		throw MockError{ERRCODE_OUT_OF_MEMORY, "out of memory"};
	g_allocations.insert(p);
	return p;
}

// Format appends a printf-style message to out.
void Format(std::string *out, const char *fmt, va_list args) {
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, args);
	out->append(buf);
}

}  // namespace

void MockReportError(const MockError &error) {
	static const bool verbose = std::getenv("VECDB_FUZZ_VERBOSE") != nullptr;
	if (verbose)
	{
		char state[6];
		for (int i = 0, code = error.sqlerrcode; i < 5; i++, code >>= 6)
			state[i] = PGUNSIXBIT(code);
		state[5] = '\0';
		fprintf(stderr, "ERROR %s: %s\n", state, error.message.c_str());
	}
}

void MockResetMemory() {
	for (void *p : g_allocations)
		std::free(p);
	g_allocations.clear();
}

Datum MockCall3(PGFunction fn, Datum a0, Datum a1, Datum a2) {
	LOCAL_FCINFO(fcinfo, 3);
	InitFunctionCallInfoData(*fcinfo, NULL, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = a1;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = a2;
	fcinfo->args[2].isnull = false;
	Datum result = fn(fcinfo);
	if (fcinfo->isnull)
		std::abort();
	return result;
}

Datum MockCall1(PGFunction fn, Datum a0) {
	LOCAL_FCINFO(fcinfo, 1);
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = false;
	Datum result = fn(fcinfo);
	if (fcinfo->isnull)
		std::abort();
	return result;
}

extern "C" {

/* ---- memory (utils/palloc.h) ---- */

void *palloc(Size size) { return Allocate(size, false); }

void *palloc0(Size size) { return Allocate(size, true); }

/* one mock context: the context argument is not tracked */
void *MemoryContextAllocZero(MemoryContext, Size size) { return Allocate(size, true); }

void pfree(void *pointer) {
	if (g_allocations.erase(pointer) != 1)
		std::abort(); /* not palloc'd, or freed twice */
	std::free(pointer);
}

void *repalloc(void *pointer, Size size) {
	if (!AllocSizeIsValid(size))
		throw MockError{ERRCODE_PROGRAM_LIMIT_EXCEEDED, "invalid memory alloc request size"};
	if (g_allocations.erase(pointer) != 1)
		std::abort();
	void *p = std::realloc(pointer, size == 0 ? 1 : size);
	if (p == nullptr)
		throw MockError{ERRCODE_OUT_OF_MEMORY, "out of memory"};
	g_allocations.insert(p);
	return p;
}

char *pnstrdup(const char *in, Size len) {
	len = strnlen(in, len);
	char *out = static_cast<char *>(palloc(len + 1));
	std::memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

/* ---- errors (utils/elog.h): an ERROR is thrown as MockError ---- */

bool errstart(int elevel, const char *) {
	if (elevel < ERROR)
		return false; /* notices and warnings are dropped */
	g_elevel = elevel;
	g_error = MockError{ERRCODE_INTERNAL_ERROR, std::string()};
	return true;
}

bool errstart_cold(int elevel, const char *domain) { return errstart(elevel, domain); }

void errfinish(const char *, int, const char *) { throw g_error; }

int errcode(int sqlerrcode) {
	g_error.sqlerrcode = sqlerrcode;
	return 0;
}

int errmsg(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	Format(&g_error.message, fmt, args);
	va_end(args);
	return 0;
}

int errmsg_internal(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	Format(&g_error.message, fmt, args);
	va_end(args);
	return 0;
}

int errdetail(const char *fmt, ...) {
	std::string detail;
	va_list args;
	va_start(args, fmt);
	Format(&detail, fmt, args);
	va_end(args);
	return 0;
}

int errdetail_internal(const char *fmt, ...) {
	std::string detail;
	va_list args;
	va_start(args, fmt);
	Format(&detail, fmt, args);
	va_end(args);
	return 0;
}

int errhint(const char *fmt, ...) {
	std::string hint;
	va_list args;
	va_start(args, fmt);
	Format(&hint, fmt, args);
	va_end(args);
	return 0;
}

char *psprintf(const char *fmt, ...) {
	std::string out;
	va_list args;
	va_start(args, fmt);
	Format(&out, fmt, args);
	va_end(args);
	return pnstrdup(out.c_str(), out.size());
}

/* ---- varlena, numbers ---- */

struct varlena *pg_detoast_datum(struct varlena *datum) {
	/* the harness only passes plain 4-byte-header values */
	if (VARATT_IS_EXTENDED(datum))
		std::abort();
	return datum;
}

int pg_ltoa(int32 value, char *a) { return snprintf(a, 12, "%d", value); }

/* ---- StringInfo (lib/stringinfo.h) and pqformat (libpq/pqformat.h) ---- */

void initStringInfo(StringInfo str) {
	str->maxlen = 1024;
	str->data = static_cast<char *>(palloc(str->maxlen));
	str->len = 0;
	str->data[0] = '\0';
	str->cursor = 0;
}

void enlargeStringInfo(StringInfo str, int needed) {
	if (needed < 0 || static_cast<Size>(needed) >= MaxAllocSize - static_cast<Size>(str->len))
		throw MockError{ERRCODE_PROGRAM_LIMIT_EXCEEDED, "out of memory"};
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	int newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	str->data = static_cast<char *>(repalloc(str->data, newlen));
	str->maxlen = newlen;
}

int appendStringInfoVA(StringInfo str, const char *fmt, va_list args) {
	/* as stringinfo.c: 0 when it fit, else the space to ask for */
	int avail = str->maxlen - str->len;
	if (avail < 16)
		return 32;
	int n = vsnprintf(str->data + str->len, static_cast<size_t>(avail), fmt, args);
	if (n < 0)
		throw MockError{ERRCODE_INTERNAL_ERROR, "vsnprintf failed"};
	if (n < avail) {
		str->len += n;
		return 0;
	}
	str->data[str->len] = '\0';
	return n + 1;
}

void pq_begintypsend(StringInfo buf) {
	initStringInfo(buf);
	/* reserve four bytes for the bytea length word */
	buf->len = VARHDRSZ;
	std::memset(buf->data, 0, VARHDRSZ + 1);
}

bytea *pq_endtypsend(StringInfo buf) {
	bytea *result = reinterpret_cast<bytea *>(buf->data);
	SET_VARSIZE(result, buf->len);
	return result;
}

void pq_sendfloat4(StringInfo buf, float4 f) {
	union {
		float4 f;
		uint32 i;
	} swap;
	swap.f = f;
	pq_sendint32(buf, swap.i);
}

unsigned int pq_getmsgint(StringInfo msg, int b) {
	unsigned char n8;
	uint16 n16;
	uint32 n32;
	if (msg->cursor < 0 || b > msg->len - msg->cursor)
		throw MockError{ERRCODE_PROTOCOL_VIOLATION, "insufficient data left in message"};
	switch (b) {
		case 1:
			std::memcpy(&n8, msg->data + msg->cursor, 1);
			msg->cursor += 1;
			return n8;
		case 2:
			std::memcpy(&n16, msg->data + msg->cursor, 2);
			msg->cursor += 2;
			return pg_ntoh16(n16);
		case 4:
			std::memcpy(&n32, msg->data + msg->cursor, 4);
			msg->cursor += 4;
			return pg_ntoh32(n32);
		default:
			throw MockError{ERRCODE_INTERNAL_ERROR, "unsupported integer size"};
	}
}

float4 pq_getmsgfloat4(StringInfo msg) {
	union {
		float4 f;
		uint32 i;
	} swap;
	swap.i = pq_getmsgint(msg, 4);
	return swap.f;
}

}  // extern "C"

// DenseTypmodIn (dense_io.cpp, which needs the catalog) is not reached by
// the input functions the fuzz targets call.
int32 DenseTypmodIn(ArrayType *, int, const char *) { std::abort(); }
