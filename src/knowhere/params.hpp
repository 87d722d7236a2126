// params.hpp declares every index parameter once, with its default, valid
// range and phase, so the engine validates and the SQL layer (reloptions,
// GUCs) exports the same limits.
#pragma once

#include <cstddef>

namespace vecdb::knowhere {

// ParamPhase says when a parameter is set: at build (reloption) or per search (GUC).
enum class ParamPhase { kBuild, kSearch };

// ParamSpec describes one integer-valued parameter.
struct ParamSpec {
	const char *name;
	int default_value;
	int min_value;
	int max_value;
	ParamPhase phase;
	const char *description;
};

// Params returns the table of all parameters and sets *n to its length.
const ParamSpec *Params(size_t *n) noexcept;

// FindParam returns the spec named name, or nullptr.
const ParamSpec *FindParam(const char *name) noexcept;

}  // namespace vecdb::knowhere
