// fault_inject.hpp declares the test-only fault points of the storage layer.
#pragma once

// vecdb_fault_injection is the vecdb.fault_injection setting,
// "point:action[:count]" or empty (guc.cpp).
extern char *vecdb_fault_injection;

// VecdbFaultFire acts on the point name when the setting names it.
extern void VecdbFaultFire(const char *name);

// VecdbFaultAssign resets the pass counter when the setting changes.
extern void VecdbFaultAssign(const char *newval, void *extra);

// VecdbFaultPoint costs one load and compare when the setting is empty.
#define VecdbFaultPoint(name) \
	do { \
		if (unlikely(vecdb_fault_injection != NULL && vecdb_fault_injection[0] != '\0')) \
			VecdbFaultFire(name); \
	} while (0)
