// fuzz_types.cpp is the libFuzzer target for the text and binary input of one
// SQL type (vector, halfvec or sparsevec, chosen by VECDB_FUZZ_TYPE at build
// time): the SQL input functions of src/types run unchanged over the
// PostgreSQL stand-in of pg_mock.hpp.
//
// Input: byte 0 picks the form (bit 0: text or binary) and the typmod (bits
// 1-2: none, or byte 1 as a small dimension count); the rest is the literal
// or the binary message. An input the function refuses must raise an ERROR
// (a MockError), nothing else. An input it accepts must survive the round
// trips the server makes: its text output parses back to the same bytes, and
// its binary output reads back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "pg_mock.hpp"
#include "types/halfvec.h"
#include "types/sparsevec.h"
#include "types/vector.h"

extern "C" {
#include "lib/stringinfo.h"
}

extern "C" {
Datum vector_in(PG_FUNCTION_ARGS);
Datum vector_out(PG_FUNCTION_ARGS);
Datum vector_recv(PG_FUNCTION_ARGS);
Datum vector_send(PG_FUNCTION_ARGS);
Datum halfvec_in(PG_FUNCTION_ARGS);
Datum halfvec_out(PG_FUNCTION_ARGS);
Datum halfvec_recv(PG_FUNCTION_ARGS);
Datum halfvec_send(PG_FUNCTION_ARGS);
Datum sparsevec_in(PG_FUNCTION_ARGS);
Datum sparsevec_out(PG_FUNCTION_ARGS);
Datum sparsevec_recv(PG_FUNCTION_ARGS);
Datum sparsevec_send(PG_FUNCTION_ARGS);
}

namespace {

// TypeIo is one type's four I/O functions.
struct TypeIo {
	PGFunction in, out, recv, send;
};

#if VECDB_FUZZ_TYPE == 1
constexpr TypeIo kIo = {vector_in, vector_out, vector_recv, vector_send};
#elif VECDB_FUZZ_TYPE == 2
constexpr TypeIo kIo = {halfvec_in, halfvec_out, halfvec_recv, halfvec_send};
#elif VECDB_FUZZ_TYPE == 3
constexpr TypeIo kIo = {sparsevec_in, sparsevec_out, sparsevec_recv, sparsevec_send};
#else
#error "VECDB_FUZZ_TYPE must be 1 (vector), 2 (halfvec) or 3 (sparsevec)"
#endif

// Same reports whether two values have the same bytes (varlena sizes included).
bool Same(Datum a, Datum b) {
	const struct varlena *x = reinterpret_cast<const struct varlena *>(DatumGetPointer(a));
	const struct varlena *y = reinterpret_cast<const struct varlena *>(DatumGetPointer(b));
	return VARSIZE(x) == VARSIZE(y) && std::memcmp(x, y, VARSIZE(x)) == 0;
}

// Recv reads a binary message of len bytes at data with typmod.
Datum Recv(const char *data, int len, int32 typmod) {
	StringInfoData buf;
	buf.data = static_cast<char *>(palloc(len + 1));
	std::memcpy(buf.data, data, len);
	buf.data[len] = '\0';
	buf.len = len;
	buf.maxlen = len + 1;
	buf.cursor = 0;
	return MockCall3(kIo.recv, PointerGetDatum(&buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod));
}

// RoundTrips checks that value's text and binary forms read back to value.
void RoundTrips(Datum value) {
	char *text = DatumGetCString(MockCall1(kIo.out, value));
	Datum again = MockCall3(kIo.in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	if (!Same(value, again))
		std::abort(); /* the text output did not parse back to the same value */

	bytea *bin = reinterpret_cast<bytea *>(DatumGetPointer(MockCall1(kIo.send, value)));
	Datum back = Recv(VARDATA(bin), static_cast<int>(VARSIZE(bin) - VARHDRSZ), -1);
	if (!Same(value, back))
		std::abort(); /* the binary output did not read back to the same value */
}

// Run feeds one input to the type's input function and round-trips an accepted value.
void Run(const uint8_t *data, size_t size) {
	if (size < 2)
		return;
	bool binary = (data[0] & 1) != 0;
	int32 typmod = (data[0] & 6) == 0 ? -1 : static_cast<int32>(data[1] % 8);
	const char *body = reinterpret_cast<const char *>(data + 2);
	size_t len = size - 2;
	Datum value;
	if (binary) {
		value = Recv(body, static_cast<int>(len), typmod);
	} else {
		/* a cstring ends at its first NUL, as the server's would */
		char *lit = static_cast<char *>(palloc(len + 1));
		std::memcpy(lit, body, len);
		lit[len] = '\0';
		value = MockCall3(kIo.in, CStringGetDatum(lit), ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod));
	}
	RoundTrips(value);
}

}  // namespace

// LLVMFuzzerTestOneInput runs one input; an ERROR is an accepted outcome.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	try {
		Run(data, size);
	} catch (const MockError &e) {
		MockReportError(e);
	}
	MockResetMemory();
	return 0;
}
