// bit_ops.cpp implements the Hamming and Jaccard distances on PostgreSQL's
// bit type with the engine's bit kernels (pgvector's hamming_distance and
// jaccard_distance).
#include "knowhere/distance.hpp"
#include "vecdb_postgres.h"

extern "C" {
#include "utils/varbit.h"
}

namespace {

// CheckBitLengths rejects bit strings of different lengths.
void
CheckBitLengths(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %u and %u", VARBITLEN(a), VARBITLEN(b))));
}

}  // namespace

// hamming_distance counts the positions where two equal-length bit strings
// differ (PostgreSQL keeps the pad bits of the last byte zero).
VECDB_FUNCTION(hamming_distance)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	CheckBitLengths(a, b);
	PG_RETURN_FLOAT8((double) vecdb::knowhere::HammingBits(VARBITS(a), VARBITS(b), (size_t) VARBITBYTES(a)));
}

// jaccard_distance returns 1 - |a & b| / |a | b|, and 1 when no bit is set in both.
VECDB_FUNCTION(jaccard_distance)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	CheckBitLengths(a, b);
	PG_RETURN_FLOAT8(vecdb::knowhere::JaccardBits(VARBITS(a), VARBITS(b), (size_t) VARBITBYTES(a)));
}
