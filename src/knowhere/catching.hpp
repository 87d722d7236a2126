// catching.hpp is the engine's one way to stop exceptions: every index kind
// runs the code that may throw (std::bad_alloc, hnswlib's and FAISS'
// exceptions, which all derive from std::exception) inside Catching, which
// turns any exception into a Status.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// Catching runs fn and returns its result (a Status or an Expected<T>), or a
// Status for whatever it threw: OutOfMemory "out of memory while <what>" for
// std::bad_alloc, Internal "<what> failed: <message>" for any other
// exception. `what` names the work in the gerund ("adding to an HNSW index").
template <typename Fn>
auto Catching(const char *what, Fn &&fn) noexcept -> decltype(fn()) {
	try {
		return fn();
	} catch (const std::bad_alloc &) {
		return Status::OutOfMemory(std::string("out of memory while ") + what);
	} catch (const std::exception &e) {
		return Status::Internal(std::string(what) + " failed: " + e.what());
	} catch (...) {
		return Status::Internal(std::string(what) + " failed with an unknown exception");
	}
}

}  // namespace vecdb::knowhere
