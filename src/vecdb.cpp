// vecdb.cpp is the module's entry point: PG_MODULE_MAGIC, _PG_init and the
// module-wide SQL functions.
#include "knowhere/distance.hpp"
#include "am/am.hpp"
#include "vecdb_postgres.h"

extern "C" {
#include "utils/builtins.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
}

// _PG_init runs when a backend loads the library: it registers the settings,
// the shared segment area (when preloaded), the access methods' reloptions
// and the planner hook.
void
_PG_init(void)
{
	VecdbRegisterGucs();
	VecdbSharedInit();
	VecdbSealInit();
	VecdbGpuInit();
	VecdbRegisterReloptions();
	VecdbInstallPlannerHooks();
	VecdbInstallExplainHook();
}

// vecdb_simd_level returns the SIMD level the distance kernels dispatch to.
VECDB_FUNCTION(vecdb_simd_level)
{
	PG_RETURN_TEXT_P(cstring_to_text(vecdb::knowhere::SimdLevelName(vecdb::knowhere::ActiveSimdLevel())));
}
