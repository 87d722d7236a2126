// vector_datum.cpp turns the indexed column's values (vector, halfvec,
// sparsevec, bit) into engine rows: float4 arrays, packed bits, or packed
// sparse rows (VecdbSparseRowBytes).
#include "knowhere/distance.hpp"
#include "am/am.hpp"
#include "types/halfvec.h"
#include "types/sparsevec.h"
#include "types/vector.h"

extern "C" {
#include "utils/rel.h"
#include "utils/varbit.h"
}

// VecdbDatumDims returns the dimensions of a value.
int
VecdbDatumDims(Datum value, VecdbElemType elem_type)
{
	switch (elem_type)
	{
		case VECDB_ELEM_VECTOR:
			return DatumGetVector(value)->dim;
		case VECDB_ELEM_HALFVEC:
			return DatumGetHalfVector(value)->dim;
		case VECDB_ELEM_SPARSEVEC:
		case VECDB_ELEM_SPARSE:
			return DatumGetSparseVector(value)->dim;
		case VECDB_ELEM_BIT:
			return VARBITLEN(DatumGetVarBitP(value));
		case VECDB_ELEM_SCALAR:
			break;
	}
	return 0;
}

// VecdbDatumRowBytes returns the bytes VecdbDatumToRow writes for value.
uint32
VecdbDatumRowBytes(Datum value, VecdbElemType elem_type, VecdbMetric metric, int dims)
{
	if (elem_type == VECDB_ELEM_SPARSE)
		return (uint32) (sizeof(uint32) +
						 (size_t) DatumGetSparseVector(value)->nnz * (sizeof(int32) + sizeof(float)));
	return (uint32) VecdbEngineRowBytes(metric, dims);
}

// VecdbCheckDims raises the pgvector error for a value of the wrong dimensions.
void
VecdbCheckDims(Relation index, int expected, int actual)
{
	if (expected != actual)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", expected, actual),
				 errdetail("Index \"%s\" holds vectors of %d dimensions.", RelationGetRelationName(index),
						   expected)));
}

// VecdbDatumToRow writes value as an engine row of dims dimensions to row
// and reports whether it is indexed: a zero vector under cosine is not (as in
// pgvector), since its distance to anything is undefined.
bool
VecdbDatumToRow(Datum value, VecdbElemType elem_type, VecdbMetric metric, int dims, void *row)
{
	float	   *out = (float *) row;
	double		norm = 0;
	int			i;

	switch (elem_type)
	{
		case VECDB_ELEM_VECTOR:
			{
				Vector	   *v = DatumGetVector(value);

				for (i = 0; i < dims; i++)
					out[i] = v->x[i];
				break;
			}
		case VECDB_ELEM_HALFVEC:
			{
				HalfVector *v = DatumGetHalfVector(value);

				for (i = 0; i < dims; i++)
					out[i] = vecdb::knowhere::HalfToFloat(v->x[i]);
				break;
			}
		case VECDB_ELEM_SPARSEVEC:
			{
				SparseVector *v = DatumGetSparseVector(value);
				float	   *values = SPARSEVEC_VALUES(v);

				memset(out, 0, sizeof(float) * dims);
				for (i = 0; i < v->nnz; i++)
					out[v->indices[i]] = values[i];
				break;
			}
		case VECDB_ELEM_SPARSE:
			{
				SparseVector *v = DatumGetSparseVector(value);
				float	   *values = SPARSEVEC_VALUES(v);
				uint32		nnz = (uint32) v->nnz;
				char	   *p = (char *) row;

				memcpy(p, &nnz, sizeof(nnz));
				memcpy(p + sizeof(nnz), v->indices, nnz * sizeof(int32));
				memcpy(p + sizeof(nnz) + nnz * sizeof(int32), values, nnz * sizeof(float));
				if (metric == VECDB_METRIC_COSINE)
				{
					for (i = 0; i < v->nnz; i++)
						norm += (double) values[i] * values[i];
					return norm > 0;
				}
				return true;
			}
		case VECDB_ELEM_BIT:
			{
				VarBit	   *b = DatumGetVarBitP(value);

				memcpy(row, VARBITS(b), VARBITBYTES(b));
				return true;
			}
		case VECDB_ELEM_SCALAR:
			return false;
	}
	if (metric == VECDB_METRIC_COSINE)
	{
		for (i = 0; i < dims; i++)
			norm += (double) out[i] * out[i];
		if (norm == 0)
			return false;
	}
	return true;
}
