// engine_stubs.cpp stands in for the FAISS- and hnswlib-backed kinds (IVF_*,
// HNSW, HNSW_SQ) in the device-only build of bench/gpu/CMakeLists.txt, where those
// libraries may be missing: the factory answers NotSupported for them (IVF is
// real when that build found FAISS: VECDB_DEVICE_HAVE_IVF).
// Never linked into the extension or the main build.
#include "knowhere/index_kinds.hpp"

namespace vecdb::knowhere {

// kStubbed explains the stubbed kinds.
static const char *const kStubbed = "this kind is not built in the device-only GPU build";

#ifndef VECDB_DEVICE_HAVE_IVF
Expected<std::unique_ptr<Index>> NewIvfIndex(const IndexConfig &) noexcept {
	return Status::NotSupported(kStubbed);
}
Expected<std::unique_ptr<Index>> LoadIvfIndex(const IndexHeader &, IndexStreamReader &) noexcept {
	return Status::NotSupported(kStubbed);
}
Expected<std::unique_ptr<Index>> OpenIvfView(const IndexBytes &) noexcept {
	return Status::NotSupported(kStubbed);
}
size_t EstimateIvfMemory(const IndexConfig &, size_t) noexcept {
	return 0;
}
Expected<std::unique_ptr<Index>> NewTrainedIvfFlat(const IndexConfig &, const float *) noexcept {
	return Status::NotSupported(kStubbed);
}
const float *IvfFloatCentroids(const Index &) noexcept {
	return nullptr;
}
#endif
Expected<std::unique_ptr<Index>> NewHnswIndex(const IndexConfig &) noexcept {
	return Status::NotSupported(kStubbed);
}
Expected<std::unique_ptr<Index>> LoadHnswIndex(const IndexHeader &, IndexStreamReader &) noexcept {
	return Status::NotSupported(kStubbed);
}
Expected<std::unique_ptr<Index>> OpenHnswView(const IndexBytes &) noexcept {
	return Status::NotSupported(kStubbed);
}
size_t EstimateHnswMemory(const IndexConfig &, size_t) noexcept {
	return 0;
}
Expected<std::unique_ptr<Index>> NewHnswSqIndex(const IndexConfig &) noexcept {
	return Status::NotSupported(kStubbed);
}
Expected<std::unique_ptr<Index>> LoadHnswSqIndex(const IndexHeader &, IndexStreamReader &) noexcept {
	return Status::NotSupported(kStubbed);
}
Expected<std::unique_ptr<Index>> OpenHnswSqView(const IndexBytes &) noexcept {
	return Status::NotSupported(kStubbed);
}

}  // namespace vecdb::knowhere
