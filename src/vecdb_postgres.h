// vecdb_postgres.h includes PostgreSQL's headers for C++ translation units and
// defines the macro that declares SQL-callable functions with C linkage.
// pg_compat.h names the server APIs that changed after PostgreSQL 15.
//
// Include C++ and engine headers before this one: port.h redefines printf and
// friends, which breaks standard headers included after it.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "pg_compat.h"
}

// VECDB_FUNCTION declares and begins the definition of a V1 SQL-callable
// function with C linkage:  VECDB_FUNCTION(vector_in) { ... }
#define VECDB_FUNCTION(name)                                                   \
	extern "C" {                                                              \
	PG_FUNCTION_INFO_V1(name);                                                \
	}                                                                         \
	extern "C" Datum name(PG_FUNCTION_ARGS)
