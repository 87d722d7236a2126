// index.cpp implements what all index kinds share: the default Train/Build,
// config and search validation, the common serialized header, and the
// factories (create, deserialize, open a view).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "knowhere/growing_index.hpp"
#include "knowhere/index.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/params.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/sparse_index.hpp"

namespace vecdb::knowhere {

namespace {

// CheckRange validates value against the declared range of the named parameter.
Status CheckRange(const char *name, int value) noexcept {
	const ParamSpec *p = FindParam(name);
	if (p == nullptr)
		return Status::Internal(std::string("undeclared parameter ") + name);
	if (value < p->min_value || value > p->max_value)
		return Status::InvalidArgument(std::string(name) + " must be between " + std::to_string(p->min_value) +
									   " and " + std::to_string(p->max_value) + ", not " +
									   std::to_string(value));
	return Status::Ok();
}

// MetricSupported reports whether kind can serve metric.
bool MetricSupported(IndexKind kind, Metric metric) noexcept {
	switch (kind) {
		case IndexKind::kFlat:
		case IndexKind::kHnsw:
		case IndexKind::kGrowing:
			return metric == Metric::kL2 || metric == Metric::kInnerProduct || metric == Metric::kCosine ||
				metric == Metric::kL1;
		case IndexKind::kGpuFlat:
		case IndexKind::kGpuIvfFlat:
		case IndexKind::kIvfFlat:
		case IndexKind::kIvfPq:
		case IndexKind::kIvfSq8:
		case IndexKind::kHnswSq:
			return metric == Metric::kL2 || metric == Metric::kInnerProduct || metric == Metric::kCosine;
		case IndexKind::kBinFlat:
			return metric == Metric::kHamming || metric == Metric::kJaccard;
		case IndexKind::kBinIvf:
			return metric == Metric::kHamming;
		case IndexKind::kSparseInverted:
			return metric == Metric::kL2 || metric == Metric::kInnerProduct || metric == Metric::kCosine;
	}
	return false;
}

// KnownKind reports whether v is an IndexKind value.
bool KnownKind(uint32_t v) noexcept { return v >= 1 && v <= 12; }

// ExternalKind holds the factory and loader of a kind built outside this
// library (RegisterExternalKind).
struct ExternalKind {
	IndexKind kind;
	ExternalKindFactory factory;
	ExternalKindLoader loader;
};

// external_kinds lists the registered external kinds (the GPU kinds).
ExternalKind external_kinds[] = {{IndexKind::kGpuFlat, nullptr, nullptr}, {IndexKind::kGpuIvfFlat, nullptr, nullptr}};

// FindExternalKind returns the registration slot of kind, or nullptr.
ExternalKind *FindExternalKind(IndexKind kind) noexcept {
	for (ExternalKind &e : external_kinds)
		if (e.kind == kind)
			return &e;
	return nullptr;
}

// GpuKindMissing explains why a GPU kind cannot be made in this process.
std::string GpuKindMissing(IndexKind kind) {
	return std::string(kind == IndexKind::kGpuFlat ? "GPU_FLAT" : "GPU_IVF_FLAT") +
		" is not available: vecdb was built without CUDA or its GPU kinds were not registered";
}

// kSparseIsNotAnIndex answers the Index factories for a sparse kind.
constexpr const char *kSparseIsNotAnIndex =
	"SPARSE_INVERTED holds sparse rows: use CreateSparseIndex / DeserializeSparseIndex (sparse_index.hpp)";

// KnownMetric reports whether v is a Metric value.
bool KnownMetric(uint32_t v) noexcept { return v >= 1 && v <= 6; }

}  // namespace

// MaxDim returns the dimension limit of kind: sparse, binary or float rows.
int MaxDim(IndexKind kind) noexcept {
	if (IsSparseKind(kind))
		return kMaxSparseDim;
	return IsBinaryKind(kind) ? kMaxBinaryDim : kMaxFloatDim;
}

// RegisterExternalKind installs the factory and loader of an external kind.
void RegisterExternalKind(IndexKind kind, ExternalKindFactory factory, ExternalKindLoader loader) noexcept {
	ExternalKind *e = FindExternalKind(kind);
	if (e != nullptr) {
		e->factory = factory;
		e->loader = loader;
	}
}

// Train does nothing by default: only kinds that need training override it.
Status Index::Train(const void *, size_t) noexcept {
	return Status::Ok();
}

// Build trains when the kind needs it, then adds the rows.
Status Index::Build(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (NeedsTraining())
		VECDB_RETURN_IF_ERROR(Train(vectors, n));
	return Add(vectors, labels, n);
}

// DropBelow is not supported unless the kind says otherwise.
Status Index::DropBelow(int64_t) noexcept {
	return Status::NotSupported("this index kind cannot drop rows in place");
}

// ValidateConfig checks dimensions, metric and every build parameter's range.
Status ValidateConfig(const IndexConfig &c) noexcept {
	if (!KnownKind(static_cast<uint32_t>(c.kind)))
		return Status::InvalidArgument("unknown index kind");
	if (!KnownMetric(static_cast<uint32_t>(c.metric)))
		return Status::InvalidArgument("unknown metric");
	int max_dim = MaxDim(c.kind);
	if (c.dim < 1)
		return Status::InvalidArgument("dimensions must be at least 1, not " + std::to_string(c.dim));
	if (c.dim > max_dim)
		return Status::TooManyDimensions("index cannot have more than " + std::to_string(max_dim) +
										 " dimensions, not " + std::to_string(c.dim));
	if (!MetricSupported(c.kind, c.metric))
		return Status::NotSupported("this index kind does not support this metric");
	VECDB_RETURN_IF_ERROR(CheckRange("m", c.m));
	VECDB_RETURN_IF_ERROR(CheckRange("ef_construction", c.ef_construction));
	VECDB_RETURN_IF_ERROR(CheckRange("nlist", c.nlist));
	VECDB_RETURN_IF_ERROR(CheckRange("pq_m", c.pq_m));
	VECDB_RETURN_IF_ERROR(CheckRange("nbits", c.nbits));
	VECDB_RETURN_IF_ERROR(CheckRange("threads", c.threads));
	VECDB_RETURN_IF_ERROR(CheckRange("repair_reach", c.repair_reach));
	VECDB_RETURN_IF_ERROR(CheckRange("train_device", static_cast<int>(c.train_device)));
	if (c.kind == IndexKind::kIvfPq && c.dim % c.pq_m != 0)
		return Status::InvalidArgument("pq_m (" + std::to_string(c.pq_m) + ") must divide the dimensions (" +
									   std::to_string(c.dim) + ")");
	if (c.kind == IndexKind::kHnswSq && c.nbits != 4 && c.nbits != 8)
		return Status::InvalidArgument("HNSW_SQ codes have 4 or 8 bits per dimension, not " +
									   std::to_string(c.nbits));
	return Status::Ok();
}

// DefaultBruteForceRatio returns the measured switch points (docs/engine.md:
// bench_engine switch-sweep, read through the iterator as the access method
// reads it). HNSW: the exact scan costs the allowed rows, fraction * rows,
// and the filtered walk about 1 / fraction (it expands nodes until ef_search
// allowed ones are found), so they cross where fraction^2 is proportional to
// 1 / rows; the walk's cost grows about as sqrt(ef_search). Fitted to the
// crossovers measured at 100,000 and 1M x 128, ef_search 10 to 160 (within
// a fifth, docs/engine.md) the switch is 4 * sqrt(ef_search / rows), ef_search
// taken as 10 below 10 (kHnswSwitchMinEf). For IVF
// nprobe / nlist, the fraction below which the widened probe count, nprobe /
// f lists, reaches every list: there the filtered iterator scans all lists
// anyway, and above it the iterator's list scan was 1.5-8x faster than its
// exact scan at every measured nprobe (8, 16, 32 of 316 lists). Float rows
// longer than 128 dimensions scale the HNSW switch by cbrt(128 / dim): the
// exact scan reads whole rows and falls behind the walk as rows grow (SQL,
// 10% allowed, ef_search 20 and 40: even at 100,000 x 128, the walk 1.6-1.2x
// faster at 60,000 x 784, recall 0.98-0.99; docs/engine.md).
double DefaultBruteForceRatio(const IndexConfig &config, const SearchParams &params, size_t rows) noexcept {
	switch (config.kind) {
		case IndexKind::kHnsw:
		case IndexKind::kHnswSq: {
			double n = static_cast<double>(rows == 0 ? kHnswSwitchRows : rows);
			double ef = std::max(kHnswSwitchMinEf, params.ef_search);
			bool float_rows = config.metric != Metric::kHamming && config.metric != Metric::kJaccard;
			double wide = float_rows && config.dim > kHnswSwitchDim
				? std::cbrt(static_cast<double>(kHnswSwitchDim) / config.dim) : 1.0;
			return std::min(1.0, kHnswSwitchScale * std::sqrt(ef / n) * wide);
		}
		case IndexKind::kIvfFlat:
		case IndexKind::kGpuIvfFlat:
		case IndexKind::kIvfPq:
		case IndexKind::kIvfSq8:
		case IndexKind::kBinIvf: {
			double lists = std::max(1, config.nlist), probes = std::max(1, params.nprobe);
			return std::min(1.0, probes / lists);
		}
		default:
			return 1.0;
	}
}

// BruteForceRatio returns the ratio a search uses.
double BruteForceRatio(const SearchParams &params, const IndexConfig &config, size_t rows) noexcept {
	return params.brute_force_ratio < 0 ? DefaultBruteForceRatio(config, params, rows) : params.brute_force_ratio;
}

// ValidateSearch checks k and every search parameter's range.
Status ValidateSearch(const SearchParams &p, size_t k) noexcept {
	if (k == 0)
		return Status::InvalidArgument("k must be at least 1");
	VECDB_RETURN_IF_ERROR(CheckRange("ef_search", p.ef_search));
	VECDB_RETURN_IF_ERROR(CheckRange("nprobe", p.nprobe));
	VECDB_RETURN_IF_ERROR(CheckRange("rerank", p.rerank));
	VECDB_RETURN_IF_ERROR(CheckRange("search_threads", p.threads));
	if (!(p.brute_force_ratio < 0.0 || (p.brute_force_ratio >= 0.0 && p.brute_force_ratio <= 1.0)))
		return Status::InvalidArgument("brute_force_ratio must be between 0 and 1 (negative: the default)");
	if (p.layer1_width < 0)
		return Status::InvalidArgument("layer1_width must not be negative (0: ef_search)");
	return Status::Ok();
}

// WriteHeader writes magic, format version, kind, metric, dim and count.
Status WriteHeader(ByteWriter &w, IndexKind kind, Metric metric, int dim, int64_t count) noexcept {
	IndexHeader h{kIndexMagic, kIndexFormatVersion, static_cast<uint32_t>(kind), static_cast<uint32_t>(metric), dim, 0,
				  count};
	return WritePod(w, h);
}

// CheckHeader rejects anything out of range; format 2 gets its own message.
Status CheckHeader(const IndexHeader &h) noexcept {
	if (h.magic != kIndexMagic)
		return Status::Corrupt("not a vecdb index (bad magic number)");
	if (h.version == 2)
		return Status::Corrupt("index format 2 is no longer supported; REINDEX");
	if (h.version != kIndexFormatVersion)
		return Status::Corrupt("unsupported index format version " + std::to_string(h.version));
	if (!KnownKind(h.kind) || h.kind == static_cast<uint32_t>(IndexKind::kGrowing) || !KnownMetric(h.metric))
		return Status::Corrupt("unknown index kind or metric");
	IndexKind kind = static_cast<IndexKind>(h.kind);
	int max_dim = MaxDim(kind);
	if (h.dim < 1 || h.dim > max_dim || h.count < 0)
		return Status::Corrupt("index header out of range");
	if (!MetricSupported(kind, static_cast<Metric>(h.metric)))
		return Status::Corrupt("index header names a metric its kind does not support");
	return Status::Ok();
}

// ReadHeader reads the common header and checks it.
Status ReadHeader(ByteReader &r, IndexHeader *h) noexcept {
	VECDB_RETURN_IF_ERROR(ReadPod(r, h));
	return CheckHeader(*h);
}

// EstimateMemory validates the config and asks the kind's estimator.
size_t EstimateMemory(const IndexConfig &config, size_t n) noexcept {
	if (!ValidateConfig(config).ok())
		return 0;
	switch (config.kind) {
		case IndexKind::kFlat:
		case IndexKind::kBinFlat:
		case IndexKind::kGpuFlat: /* host copy; the device copy is GPU memory */
		case IndexKind::kGrowing: /* lists hold the same rows */
			return EstimateFlatMemory(config, n);
		case IndexKind::kIvfFlat:
		case IndexKind::kGpuIvfFlat: /* the IVF_FLAT host twin; the device copy is GPU memory */
		case IndexKind::kIvfPq:
		case IndexKind::kIvfSq8:
		case IndexKind::kBinIvf:
			return EstimateIvfMemory(config, n);
		case IndexKind::kHnsw:
		case IndexKind::kHnswSq: /* built over floats; its stored form is smaller */
			return EstimateHnswMemory(config, n);
		case IndexKind::kSparseInverted: /* depends on the non-zeros: EstimateSparseMemory */
			return 0;
	}
	return 0;
}

// CreateIndex validates the config and constructs the kind's index.
Expected<std::unique_ptr<Index>> CreateIndex(const IndexConfig &config) noexcept {
	Status s = ValidateConfig(config);
	if (!s.ok())
		return s;
	switch (config.kind) {
		case IndexKind::kFlat:
		case IndexKind::kBinFlat:
			return NewFlatIndex(config);
		case IndexKind::kIvfFlat:
		case IndexKind::kIvfPq:
		case IndexKind::kIvfSq8:
		case IndexKind::kBinIvf:
			return NewIvfIndex(config);
		case IndexKind::kHnsw:
			return NewHnswIndex(config);
		case IndexKind::kHnswSq:
			return NewHnswSqIndex(config);
		case IndexKind::kGrowing:
			return NewGrowingIndex(config);
		case IndexKind::kSparseInverted:
			return Status::NotSupported(kSparseIsNotAnIndex);
		case IndexKind::kGpuFlat:
		case IndexKind::kGpuIvfFlat: {
			ExternalKind *e = FindExternalKind(config.kind);
			if (e == nullptr || e->factory == nullptr)
				return Status::NotSupported(GpuKindMissing(config.kind));
			return e->factory(config);
		}
		default:
			return Status::InvalidArgument("unknown index kind");
	}
}

// DeserializeIndex reads the header, hands the sections to the kind's loader,
// then checks the trailer (size, checksum).
Expected<std::unique_ptr<Index>> DeserializeIndex(ByteReader &reader) noexcept {
	IndexStreamReader r(reader);
	IndexHeader h;
	Status s = ReadHeader(r, &h);
	if (!s.ok())
		return s;
	Expected<std::unique_ptr<Index>> index = Status::Internal("unknown index kind");
	switch (static_cast<IndexKind>(h.kind)) {
		case IndexKind::kFlat:
		case IndexKind::kBinFlat:
			index = LoadFlatIndex(h, r);
			break;
		case IndexKind::kIvfFlat:
		case IndexKind::kIvfPq:
		case IndexKind::kIvfSq8:
		case IndexKind::kBinIvf:
			index = LoadIvfIndex(h, r);
			break;
		case IndexKind::kHnsw:
			index = LoadHnswIndex(h, r);
			break;
		case IndexKind::kHnswSq:
			index = LoadHnswSqIndex(h, r);
			break;
		case IndexKind::kGpuFlat:
		case IndexKind::kGpuIvfFlat: {
			ExternalKind *e = FindExternalKind(static_cast<IndexKind>(h.kind));
			if (e == nullptr || e->loader == nullptr)
				return Status::NotSupported(GpuKindMissing(static_cast<IndexKind>(h.kind)));
			index = e->loader(h, r);
			break;
		}
		case IndexKind::kGrowing: /* never serialized; CheckHeader refuses it */
			break;
		case IndexKind::kSparseInverted:
			return Status::NotSupported(kSparseIsNotAnIndex);
	}
	if (!index.ok())
		return index;
	s = r.Finish();
	if (!s.ok())
		return s;
	return index;
}

// VerifyIndexBytes checks the framing and the checksum.
Status VerifyIndexBytes(const void *data, size_t size) noexcept {
	IndexBytes bytes;
	return ParseIndexBytes(data, size, true, &bytes);
}

// OpenIndexView checks alignment and framing, then opens the kind's view.
Expected<std::unique_ptr<Index>> OpenIndexView(const void *data, size_t size, bool verify) noexcept {
	if (data != nullptr && reinterpret_cast<uintptr_t>(data) % kIndexViewAlign != 0)
		return Status::InvalidArgument("index view bytes must be 64-byte aligned");
	IndexBytes bytes;
	Status s = ParseIndexBytes(data, size, verify, &bytes);
	if (!s.ok())
		return s;
	switch (static_cast<IndexKind>(bytes.header.kind)) {
		case IndexKind::kFlat:
		case IndexKind::kBinFlat:
			return OpenFlatView(bytes);
		case IndexKind::kIvfFlat:
		case IndexKind::kIvfPq:
		case IndexKind::kIvfSq8:
		case IndexKind::kBinIvf:
			return OpenIvfView(bytes);
		case IndexKind::kHnsw:
			return OpenHnswView(bytes);
		case IndexKind::kHnswSq:
			return OpenHnswSqView(bytes);
		case IndexKind::kGpuFlat:
		case IndexKind::kGpuIvfFlat:
			return Status::NotSupported("the GPU kinds have no view over host bytes");
		case IndexKind::kGrowing:
			break;
		case IndexKind::kSparseInverted:
			return Status::NotSupported(kSparseIsNotAnIndex);
	}
	return Status::Corrupt("unknown index kind");
}

}  // namespace vecdb::knowhere
