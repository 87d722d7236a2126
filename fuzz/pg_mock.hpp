// pg_mock.hpp declares the stand-in for the few PostgreSQL backend services
// that the type input functions (src/types/vector.cpp, halfvec.cpp,
// sparsevec.cpp) call, so a fuzz target runs them unchanged, without a server.
//
// pg_mock.cpp implements palloc and friends over malloc (AddressSanitizer sees
// every allocation at its exact size; MockResetMemory frees them, as a memory
// context reset does), ereport(ERROR) as a thrown MockError carrying the
// SQLSTATE and message, and the pqformat and StringInfo calls with the
// server's semantics. float_to_shortest_decimal_buf(n) and qsort come from
// PostgreSQL's libpgcommon.a and libpgport.a.
#pragma once

#include <string>

#include "vecdb_postgres.h"

// MockError is an ereport(ERROR) (or elog) raised inside a call.
struct MockError {
	int sqlerrcode;
	std::string message;
};

// MockReportError prints an ERROR's SQLSTATE and message on stderr when the
// environment sets VECDB_FUZZ_VERBOSE (to see why a seed is refused).
void MockReportError(const MockError &error);

// MockResetMemory frees everything palloc'd since the last reset.
void MockResetMemory();

// MockCall3 calls a V1 function with three arguments (the type input
// functions' cstring or StringInfo, type OID and typmod) and returns its
// result; an ERROR propagates as MockError.
Datum MockCall3(PGFunction fn, Datum a0, Datum a1, Datum a2);

// MockCall1 calls a V1 function with one argument (the output and send functions).
Datum MockCall1(PGFunction fn, Datum a0);
