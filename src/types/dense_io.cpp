// dense_io.cpp holds the non-template parts of the dense text form helpers.
#include "types/dense_io.h"

extern "C" {
#include "utils/array.h"
}

// DenseTypmodIn validates the "(n)" modifier of vector(n) and halfvec(n).
int32
DenseTypmodIn(ArrayType *ta, int max_dim, const char *type_name)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier")));
	if (*tl < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", type_name)));
	if (*tl > max_dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", type_name, max_dim)));
	return *tl;
}
