// engine_bridge.cpp implements the bridge between the PostgreSQL side and the
// engine. The rules (STYLE.md): every engine call runs inside try and catches
// everything; a handler only copies the message into a fixed buffer; the
// ereport happens after the C++ scope has closed; PostgreSQL callbacks the
// engine makes (page reads and writes) run under PG_TRY and hand their error
// back as a Status, to be re-thrown here once the engine has unwound.
#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "knowhere/brute_force.hpp"
#include "knowhere/growing_index.hpp"
#include "knowhere/index.hpp"
#include "knowhere/sparse_index.hpp"
#include "knowhere/thread_util.hpp"
#ifdef VECDB_WITH_CUDA
#include "gpu/device_probe.hpp"
#include "gpu/gpu_flat_index.hpp"
#include "gpu/gpu_ivf_flat_index.hpp"
#endif

#include "am/engine_bridge.hpp"
#include "vecdb_postgres.h"

extern "C" {
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace knowhere = vecdb::knowhere;

static_assert(static_cast<int>(knowhere::Metric::kL2) == VECDB_METRIC_L2);
static_assert(static_cast<int>(knowhere::Metric::kInnerProduct) == VECDB_METRIC_IP);
static_assert(static_cast<int>(knowhere::Metric::kCosine) == VECDB_METRIC_COSINE);
static_assert(static_cast<int>(knowhere::Metric::kL1) == VECDB_METRIC_L1);
static_assert(static_cast<int>(knowhere::Metric::kHamming) == VECDB_METRIC_HAMMING);
static_assert(static_cast<int>(knowhere::Metric::kJaccard) == VECDB_METRIC_JACCARD);
static_assert(static_cast<int>(knowhere::IndexKind::kFlat) == VECDB_ENGINE_FLAT);
static_assert(static_cast<int>(knowhere::IndexKind::kHnsw) == VECDB_ENGINE_HNSW);
static_assert(static_cast<int>(knowhere::IndexKind::kIvfFlat) == VECDB_ENGINE_IVF_FLAT);
static_assert(static_cast<int>(knowhere::IndexKind::kIvfPq) == VECDB_ENGINE_IVF_PQ);
static_assert(static_cast<int>(knowhere::IndexKind::kIvfSq8) == VECDB_ENGINE_IVF_SQ8);
static_assert(static_cast<int>(knowhere::IndexKind::kBinFlat) == VECDB_ENGINE_BIN_FLAT);
static_assert(static_cast<int>(knowhere::IndexKind::kBinIvf) == VECDB_ENGINE_BIN_IVF);
static_assert(static_cast<int>(knowhere::IndexKind::kHnswSq) == VECDB_ENGINE_HNSW_SQ);
static_assert(static_cast<int>(knowhere::IndexKind::kSparseInverted) == VECDB_ENGINE_SPARSE_INVERTED);

namespace {

// kSparseNnzGuess is the non-zeros per row a sparse segment's memory estimate
// assumes before its rows are seen (learned sparse embeddings: ~100-300).
constexpr uint64_t kSparseNnzGuess = 200;

// RowReaderSource is the engine's RowSource over a PostgreSQL-side row
// reader, called under PG_TRY; the first error is kept for the bridge call
// that runs the engine to re-throw once the engine has unwound.
class RowReaderSource final : public knowhere::RowSource {
public:
	RowReaderSource(VecdbRowReader fn, void *arg) noexcept : fn_(fn), arg_(arg) {}
	knowhere::Status Read(const uint64_t *ids, size_t n, float *out) const noexcept override {
		MemoryContext cxt = CurrentMemoryContext;
		volatile bool ok = true;

		PG_TRY();
		{
			fn_(arg_, ids, n, out);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			if (pg_error == nullptr)
				pg_error = CopyErrorData();
			FlushErrorState();
			ok = false;
		}
		PG_END_TRY();
		return ok ? knowhere::Status::Ok() : knowhere::Status::Internal("reading full rows from index pages failed");
	}
	mutable ErrorData *pg_error = nullptr;

private:
	VecdbRowReader fn_;
	void *arg_;
};

}  // namespace

// VecdbEngineIndex owns one engine index: a dense one (index) or a sparse
// one (sparse, SPARSE_INVERTED), never both.
struct VecdbEngineIndex {
	std::unique_ptr<knowhere::Index> index;
	std::unique_ptr<RowReaderSource> rows;  /* HNSW_SQ: where its full rows are read */
	std::unique_ptr<knowhere::SparseIndex> sparse;
};

// VecdbEngineIter owns one engine iterator and its batch buffer.
struct VecdbEngineIter {
	std::unique_ptr<knowhere::Iterator> iter;
	std::vector<knowhere::Neighbor> batch;
	const VecdbEngineIndex *engine;
};

namespace {

// BridgeError is what a failed call leaves behind for the ereport: a
// SQLSTATE and message, or a PostgreSQL error caught in a guarded callback.
struct BridgeError {
	int sqlstate = 0;
	char message[1024] = {0};
	ErrorData *pg_error = nullptr;
};

// SetMessage copies msg into the error (no allocation).
void SetMessage(BridgeError *err, int sqlstate, const char *msg) noexcept {
	if (err->sqlstate != 0 || err->pg_error != nullptr)
		return;
	err->sqlstate = sqlstate;
	strlcpy(err->message, msg, sizeof(err->message));
}

// SqlState maps an engine status code to a SQLSTATE (STYLE.md).
int SqlState(knowhere::StatusCode code) noexcept {
	switch (code) {
		case knowhere::StatusCode::kOk:
			return 0;
		case knowhere::StatusCode::kInvalidArgument:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case knowhere::StatusCode::kOutOfMemory:
			return ERRCODE_OUT_OF_MEMORY;
		case knowhere::StatusCode::kNotSupported:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case knowhere::StatusCode::kCancelled:
			return ERRCODE_QUERY_CANCELED;
		case knowhere::StatusCode::kCorrupt:
			return ERRCODE_INDEX_CORRUPTED;
		case knowhere::StatusCode::kInternal:
			return ERRCODE_INTERNAL_ERROR;
		case knowhere::StatusCode::kDimensionMismatch:
			return ERRCODE_DATA_EXCEPTION;
		case knowhere::StatusCode::kTooManyDimensions:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	}
	return ERRCODE_INTERNAL_ERROR;
}

// Capture records a non-ok status.
void Capture(const knowhere::Status &s, BridgeError *err) noexcept {
	if (!s.ok())
		SetMessage(err, SqlState(s.code()), s.message().c_str());
}

// Run calls f (returning a Status) and records any failure or exception in err.
template <typename F>
void Run(BridgeError *err, F &&f) noexcept {
	try {
		knowhere::Status s = f();
		Capture(s, err);
	} catch (const std::bad_alloc &) {
		SetMessage(err, ERRCODE_OUT_OF_MEMORY, "out of memory in the vecdb engine");
	} catch (const std::exception &e) {
		SetMessage(err, ERRCODE_INTERNAL_ERROR, e.what());
	} catch (...) {
		SetMessage(err, ERRCODE_INTERNAL_ERROR, "unknown exception in the vecdb engine");
	}
}

// TakeRowError moves an error of the engine's row reader into err (it
// outranks the engine's own message, which only says the read failed).
void TakeRowError(const VecdbEngineIndex *e, BridgeError *err) noexcept {
	if (e->rows && e->rows->pg_error != nullptr) {
		if (err->pg_error == nullptr) {
			err->pg_error = e->rows->pg_error;
			err->sqlstate = 0;
		}
		e->rows->pg_error = nullptr;
	}
}

// Raise ereports the recorded error, if any; callers make sure no C++ object
// of theirs is alive. A cancellation is raised by CHECK_FOR_INTERRUPTS so the
// user sees PostgreSQL's own message (and a terminate request terminates).
void Raise(BridgeError *err) {
	if (err->pg_error != nullptr)
		ReThrowError(err->pg_error);
	if (err->sqlstate == 0)
		return;
	if (err->sqlstate == ERRCODE_QUERY_CANCELED)
		CHECK_FOR_INTERRUPTS();
	ereport(ERROR, (errcode(err->sqlstate), errmsg("%s", err->message)));
}

// StopRequested is the engine's stop callback: a pending cancel or terminate.
bool StopRequested(void *) noexcept {
	return QueryCancelPending || ProcDiePending;
}

// GuardedSink calls a PostgreSQL-side sink under PG_TRY; an ERROR is copied
// into err and reported as false.
bool GuardedSink(VecdbByteSink sink, void *arg, const void *data, size_t n, BridgeError *err) noexcept {
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		sink(arg, data, n);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		err->pg_error = CopyErrorData();
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

// GuardedSource is GuardedSink's twin for reads; *more is false at the end of the data.
bool GuardedSource(VecdbByteSource source, void *arg, void *data, size_t n, bool *more, BridgeError *err) noexcept {
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;
	volatile bool got = false;

	PG_TRY();
	{
		got = source(arg, data, n);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		err->pg_error = CopyErrorData();
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	*more = got;
	return ok;
}

// SinkWriter adapts a VecdbByteSink to the engine's ByteWriter.
class SinkWriter final : public knowhere::ByteWriter {
public:
	SinkWriter(VecdbByteSink sink, void *arg, BridgeError *err) noexcept : sink_(sink), arg_(arg), err_(err) {}
	knowhere::Status Write(const void *data, size_t n) noexcept override {
		if (!GuardedSink(sink_, arg_, data, n, err_))
			return knowhere::Status::Internal("writing index pages failed");
		return knowhere::Status::Ok();
	}

private:
	VecdbByteSink sink_;
	void *arg_;
	BridgeError *err_;
};

// SourceReader adapts a VecdbByteSource to the engine's ByteReader.
class SourceReader final : public knowhere::ByteReader {
public:
	SourceReader(VecdbByteSource source, void *arg, BridgeError *err) noexcept
		: source_(source), arg_(arg), err_(err) {}
	knowhere::Status Read(void *data, size_t n) noexcept override {
		bool more = false;
		if (!GuardedSource(source_, arg_, data, n, &more, err_))
			return knowhere::Status::Internal("reading index pages failed");
		if (!more)
			return knowhere::Status::Corrupt("index data ends unexpectedly");
		return knowhere::Status::Ok();
	}

private:
	VecdbByteSource source_;
	void *arg_;
	BridgeError *err_;
};

// ToConfig converts the bridge's config to the engine's.
knowhere::IndexConfig ToConfig(const VecdbEngineConfig *c) noexcept {
	knowhere::IndexConfig config;
	config.kind = static_cast<knowhere::IndexKind>(c->kind);
	config.metric = static_cast<knowhere::Metric>(c->metric);
	config.dim = c->dim;
	config.m = c->m;
	config.ef_construction = c->ef_construction;
	config.nlist = c->nlist;
	config.pq_m = c->pq_m;
	config.nbits = c->nbits;
	config.threads = c->threads;
	config.repair_reach = c->repair_reach;
	config.train_device = static_cast<knowhere::TrainDevice>(c->train_device);
	return config;
}

// ToSearchParams converts search settings (the stop callback: a pending
// cancel or terminate).
knowhere::SearchParams ToSearchParams(const VecdbEngineSearchParams *p) noexcept {
	knowhere::SearchParams params;
	params.ef_search = p->ef_search;
	params.nprobe = p->nprobe;
	params.rerank = p->rerank;
	if (p->brute_force_ratio >= 0)
		params.brute_force_ratio = p->brute_force_ratio;
	params.widen_probes = p->widen_probes;
	params.should_stop = StopRequested;
	return params;
}

// SparseRows points out at n packed sparse rows (VecdbSparseRowBytes).
void SparseRows(const void *data, size_t n, std::vector<knowhere::SparseRow> *out) {
	const char *p = static_cast<const char *>(data);

	out->resize(n);
	for (size_t i = 0; i < n; i++) {
		knowhere::SparseRow &r = (*out)[i];
		std::memcpy(&r.nnz, p, sizeof(uint32_t));
		r.indices = reinterpret_cast<const int32_t *>(p + sizeof(uint32_t));
		r.values = reinterpret_cast<const float *>(p + sizeof(uint32_t) + r.nnz * sizeof(int32_t));
		p += VecdbSparseRowBytes(p);
	}
}

// AddSparse adds n packed rows to a sparse index.
knowhere::Status AddSparse(knowhere::SparseIndex *index, const void *rows, const int64_t *labels, size_t n) {
	std::vector<knowhere::SparseRow> parsed;
	SparseRows(rows, n, &parsed);
	index->SetBuildControl(StopRequested, nullptr);
	return index->Add(parsed.data(), labels, n);
}

}  // namespace

// VecdbEngineCheckConfig raises the engine's complaint about a config, if any.
void VecdbEngineCheckConfig(const VecdbEngineConfig *config) {
	BridgeError err;
	Run(&err, [&]() { return knowhere::ValidateConfig(ToConfig(config)); });
	Raise(&err);
}

// VecdbEngineCreate makes an empty engine index.
VecdbEngineIndex *VecdbEngineCreate(const VecdbEngineConfig *config) {
	BridgeError err;
	VecdbEngineIndex *e = nullptr;
	Run(&err, [&]() {
		if (config->kind == VECDB_ENGINE_SPARSE_INVERTED) {
			auto made = knowhere::CreateSparseIndex(ToConfig(config));
			if (!made.ok())
				return made.status();
			e = new VecdbEngineIndex{};
			e->sparse = std::move(made).value();
			return knowhere::Status::Ok();
		}
		auto made = knowhere::CreateIndex(ToConfig(config));
		if (!made.ok())
			return made.status();
		e = new VecdbEngineIndex{std::move(made).value()};
		return knowhere::Status::Ok();
	});
	Raise(&err);
	return e;
}

// VecdbEngineFree releases an engine index (NULL is fine).
void VecdbEngineFree(VecdbEngineIndex *engine) {
	BridgeError err;
	Run(&err, [&]() {
		delete engine;
		return knowhere::Status::Ok();
	});
	Raise(&err);
}

// VecdbEngineBuild trains (when the kind needs it) and adds n rows, polling
// for cancellation.
void VecdbEngineBuild(VecdbEngineIndex *e, const void *rows, const int64_t *labels, size_t n) {
	BridgeError err;
	Run(&err, [&]() {
		if (e->sparse)
			return AddSparse(e->sparse.get(), rows, labels, n);
		e->index->SetBuildControl(StopRequested, nullptr);
		return e->index->Build(rows, labels, n);
	});
	Raise(&err);
}

// ProgressRelay carries a C progress callback through the engine's noexcept one.
struct ProgressRelay {
	VecdbEngineProgress fn;
	void *arg;
};

// RelayProgress calls the relayed callback.
void RelayProgress(void *arg, uint64_t done, uint64_t total) noexcept {
	const ProgressRelay *r = static_cast<const ProgressRelay *>(arg);
	r->fn(r->arg, done, total);
}

// VecdbEngineAddReporting is VecdbEngineAdd with a progress callback for
// the call (sparse indexes report nothing).
void VecdbEngineAddReporting(VecdbEngineIndex *e, const void *rows, const int64_t *labels, size_t n,
							 VecdbEngineProgress progress, void *arg) {
	BridgeError err;
	ProgressRelay relay{progress, arg};
	Run(&err, [&]() {
		if (e->sparse)
			return AddSparse(e->sparse.get(), rows, labels, n);
		e->index->SetBuildControl(StopRequested, nullptr);
		e->index->SetBuildProgress(progress != nullptr ? RelayProgress : nullptr, &relay);
		knowhere::Status s = e->index->Add(rows, labels, n);
		e->index->SetBuildProgress(nullptr, nullptr);
		return s;
	});
	Raise(&err);
}

// VecdbEngineAddSlice asks the engine (sparse indexes take the default).
size_t VecdbEngineAddSlice(const VecdbEngineIndex *e) {
	return e->sparse ? knowhere::Index::kDefaultAddSlice : e->index->AddSlice();
}

// VecdbEngineSetRepairReach sets the reach repair of later adds (sparse
// indexes have none).
void VecdbEngineSetRepairReach(VecdbEngineIndex *e, int mode) {
	if (!e->sparse)
		e->index->SetRepairReach(mode);
}

// VecdbEngineAdd adds n rows to a built (or trained) index.
void VecdbEngineAdd(VecdbEngineIndex *e, const void *rows, const int64_t *labels, size_t n) {
	VecdbEngineAddReporting(e, rows, labels, n, nullptr, nullptr);
}

// VecdbEngineDropBelow drops an index's rows labelled below first and
// relabels the rest from 0, in place; false when the kind cannot.
bool VecdbEngineDropBelow(VecdbEngineIndex *e, int64_t first) {
	BridgeError err;
	bool		supported = true;

	if (e->sparse)
		return false;
	Run(&err, [&]() {
		knowhere::Status s = e->index->DropBelow(first);
		if (s.code() == knowhere::StatusCode::kNotSupported) {
			supported = false;
			return knowhere::Status::Ok();
		}
		return s;
	});
	Raise(&err);
	return supported;
}

// VecdbEngineCount returns the rows of an index.
int64_t VecdbEngineCount(const VecdbEngineIndex *e) {
	return e->sparse ? e->sparse->count() : e->index->count();
}

// VecdbEngineDim returns the dimensions of an index.
int VecdbEngineDim(const VecdbEngineIndex *e) {
	return e->sparse ? e->sparse->dim() : e->index->dim();
}

// VecdbEngineMemory returns the engine's estimate of an index's bytes.
size_t VecdbEngineMemory(const VecdbEngineIndex *e) {
	return e->sparse ? e->sparse->MemoryUsage() : e->index->MemoryUsage();
}

// VecdbEngineAdoptGrowing passes a GROWING index's centroids on (no-op otherwise).
void VecdbEngineAdoptGrowing(const VecdbEngineIndex *from, VecdbEngineIndex *to) {
	if (from->sparse || to->sparse)
		return;
	knowhere::AdoptGrowingTraining(*from->index, to->index.get());
}

// VecdbEngineGrowingPlan reports how a GROWING index searches with p.
void VecdbEngineGrowingPlan(const VecdbEngineIndex *e, const VecdbEngineSearchParams *p, size_t *lists, size_t *probes,
							double *ratio) {
	knowhere::SearchParams params;
	if (e->sparse) {
		*lists = *probes = 0;
		*ratio = 1;
		return;
	}
	params.ef_search = p->ef_search;
	params.nprobe = p->nprobe;
	params.brute_force_ratio = p->brute_force_ratio;
	knowhere::GrowingPlan plan = knowhere::GrowingSearchPlan(*e->index, params);
	*lists = plan.lists;
	*probes = plan.probes;
	*ratio = plan.brute_force_ratio;
}

// VecdbEngineGetKind returns an index's VecdbEngineKind.
int VecdbEngineGetKind(const VecdbEngineIndex *e) {
	return static_cast<int>(e->sparse ? e->sparse->kind() : e->index->kind());
}

// VecdbEngineSerialize streams an index into sink.
void VecdbEngineSerialize(const VecdbEngineIndex *e, VecdbByteSink sink, void *arg) {
	BridgeError err;
	Run(&err, [&]() {
		SinkWriter writer(sink, arg, &err);
		return e->sparse ? e->sparse->Serialize(writer) : e->index->Serialize(writer);
	});
	Raise(&err);
}

// Adopt wraps a loaded index into *out, or returns why it was not loaded.
static knowhere::Status Adopt(knowhere::Expected<std::unique_ptr<knowhere::Index>> &&loaded, VecdbEngineIndex **out) {
	if (!loaded.ok())
		return loaded.status();
	*out = new VecdbEngineIndex{std::move(loaded).value()};
	return knowhere::Status::Ok();
}

// AdoptSparse wraps a loaded sparse index into *out.
static knowhere::Status AdoptSparse(knowhere::Expected<std::unique_ptr<knowhere::SparseIndex>> &&loaded,
									VecdbEngineIndex **out) {
	if (!loaded.ok())
		return loaded.status();
	*out = new VecdbEngineIndex{};
	(*out)->sparse = std::move(loaded).value();
	return knowhere::Status::Ok();
}

// VecdbEngineDeserialize reads an index of kind (what its directory entry
// says) back from source; damaged data is ERRCODE_INDEX_CORRUPTED.
VecdbEngineIndex *VecdbEngineDeserialize(VecdbByteSource source, void *arg, int kind) {
	BridgeError err;
	VecdbEngineIndex *e = nullptr;
	Run(&err, [&]() {
		SourceReader reader(source, arg, &err);
		if (kind == VECDB_ENGINE_SPARSE_INVERTED)
			return AdoptSparse(knowhere::DeserializeSparseIndex(reader), &e);
		return Adopt(knowhere::DeserializeIndex(reader), &e);
	});
	Raise(&err);
	return e;
}

// VecdbEngineOpenBytes returns an engine index over serialized bytes held in
// memory (a segment's shared copy, already checked by VecdbEngineVerifyBytes):
// a view that searches them in place (*in_place; the bytes must then outlive
// it), or, for a kind without a view, a private copy deserialized from them.
// Damaged bytes are ERRCODE_INDEX_CORRUPTED.
VecdbEngineIndex *VecdbEngineOpenBytes(const void *data, size_t size, bool *in_place) {
	BridgeError err;
	VecdbEngineIndex *e = nullptr;
	*in_place = false;
	Run(&err, [&]() {
		auto view = knowhere::OpenIndexView(data, size, false);
		if (view.ok() || view.status().code() != knowhere::StatusCode::kNotSupported) {
			*in_place = view.ok();
			return Adopt(std::move(view), &e);
		}
		knowhere::MemoryReader reader(data, size);
		auto dense = knowhere::DeserializeIndex(reader);
		if (dense.ok() || dense.status().code() != knowhere::StatusCode::kNotSupported)
			return Adopt(std::move(dense), &e);
		knowhere::MemoryReader again(data, size);
		return AdoptSparse(knowhere::DeserializeSparseIndex(again), &e);
	});
	Raise(&err);
	return e;
}

// VecdbEngineVerifyBytes checks a serialized index's framing and checksum;
// damaged bytes are ERRCODE_INDEX_CORRUPTED.
void VecdbEngineVerifyBytes(const void *data, size_t size) {
	BridgeError err;
	Run(&err, [&]() { return knowhere::VerifyIndexBytes(data, size); });
	Raise(&err);
}

// VecdbEngineReconstructBytes returns the bytes VecdbEngineReconstruct
// writes for labels: n rows of a dense index, packed rows of a sparse one.
size_t VecdbEngineReconstructBytes(const VecdbEngineIndex *e, const int64_t *labels, size_t n) {
	BridgeError err;
	size_t bytes = 0;
	Run(&err, [&]() {
		if (!e->sparse) {
			bytes = n * knowhere::RowBytes(e->index->metric(), e->index->dim());
			return knowhere::Status::Ok();
		}
		for (size_t i = 0; i < n; i++) {
			knowhere::SparseRow r;
			knowhere::Status s = e->sparse->GetRow(labels[i], &r);
			if (!s.ok())
				return s;
			bytes += sizeof(uint32_t) + static_cast<size_t>(r.nnz) * (sizeof(int32_t) + sizeof(float));
		}
		return knowhere::Status::Ok();
	});
	Raise(&err);
	return bytes;
}

// VecdbEngineReconstruct copies the stored rows of labels into out
// (VecdbEngineReconstructBytes of room); a sparse index's rows are packed.
void VecdbEngineReconstruct(const VecdbEngineIndex *e, const int64_t *labels, size_t n, void *out) {
	BridgeError err;
	Run(&err, [&]() {
		if (!e->sparse)
			return e->index->Reconstruct(labels, n, out);
		char *p = static_cast<char *>(out);
		for (size_t i = 0; i < n; i++) {
			knowhere::SparseRow r;
			knowhere::Status s = e->sparse->GetRow(labels[i], &r);
			if (!s.ok())
				return s;
			std::memcpy(p, &r.nnz, sizeof(uint32_t));
			p += sizeof(uint32_t);
			std::memcpy(p, r.indices, r.nnz * sizeof(int32_t));
			p += r.nnz * sizeof(int32_t);
			std::memcpy(p, r.values, r.nnz * sizeof(float));
			p += r.nnz * sizeof(float);
		}
		return knowhere::Status::Ok();
	});
	TakeRowError(e, &err);
	Raise(&err);
}

// VecdbEngineKeepsRowsApart reports whether an index's serialized form
// leaves its full rows out (HNSW_SQ): they are written by
// VecdbEngineSerializeRows and read back through VecdbEngineSetRowReader.
bool VecdbEngineKeepsRowsApart(const VecdbEngineIndex *e) {
	return !e->sparse && e->index->KeepsRowsApart();
}

// VecdbEngineSerializeRows streams the full rows, in the order a row reader
// is asked for them, to sink.
void VecdbEngineSerializeRows(const VecdbEngineIndex *e, VecdbByteSink sink, void *arg) {
	BridgeError err;
	Run(&err, [&]() {
		SinkWriter w(sink, arg, &err);
		return e->index->SerializeRows(w);
	});
	Raise(&err);
}

// VecdbEngineSetRowReader gives an index that keeps its rows apart the
// function that reads them (fn may ereport; arg must outlive the index).
void VecdbEngineSetRowReader(VecdbEngineIndex *e, VecdbRowReader fn, void *arg) {
	BridgeError err;
	Run(&err, [&]() {
		e->rows = std::make_unique<RowReaderSource>(fn, arg);
		return e->index->SetRowSource(e->rows.get());
	});
	Raise(&err);
}

// VecdbEngineEstimateMemory returns the bytes an index of n rows will hold.
size_t VecdbEngineEstimateMemory(const VecdbEngineConfig *config, size_t n) {
	if (config->kind == VECDB_ENGINE_SPARSE_INVERTED)
		return knowhere::EstimateSparseMemory(n, static_cast<uint64_t>(n) * kSparseNnzGuess);
	return knowhere::EstimateMemory(ToConfig(config), n);
}

// VecdbEngineIterStart begins a resumable search; deleted (set bit = skip,
// nbits labels) must outlive the iterator.
VecdbEngineIter *VecdbEngineIterStart(const VecdbEngineIndex *e, const void *query,
									  const VecdbEngineSearchParams *p, const uint8_t *deleted, size_t nbits) {
	BridgeError err;
	VecdbEngineIter *it = nullptr;
	Run(&err, [&]() {
		knowhere::SearchParams params = ToSearchParams(p);
		if (e->sparse) {
			std::vector<knowhere::SparseRow> q;
			knowhere::SparseSearchParams sp;
			SparseRows(query, 1, &q);
			if (p->brute_force_ratio >= 0)
				sp.brute_force_ratio = p->brute_force_ratio;
			sp.should_stop = StopRequested;
			auto made = e->sparse->CreateIterator(q[0], sp, knowhere::BitsetView(deleted, nbits));
			if (!made.ok())
				return made.status();
			it = new VecdbEngineIter{std::move(made).value(), {}, e};
			return knowhere::Status::Ok();
		}
		auto made = e->index->CreateIterator(query, params, knowhere::BitsetView(deleted, nbits));
		if (!made.ok())
			return made.status();
		it = new VecdbEngineIter{std::move(made).value(), {}, e};
		return knowhere::Status::Ok();
	});
	TakeRowError(e, &err);
	Raise(&err);
	return it;
}

// VecdbEngineIterNext writes up to max next results to out and returns how
// many; 0 means the iterator is exhausted.
size_t VecdbEngineIterNext(VecdbEngineIter *it, size_t max, VecdbNeighbor *out) {
	BridgeError err;
	size_t got = 0;
	Run(&err, [&]() {
		it->batch.clear();
		knowhere::Status s = it->iter->Next(max, &it->batch);
		if (!s.ok())
			return s;
		got = std::min(max, it->batch.size());
		for (size_t i = 0; i < got; i++) {
			out[i].label = it->batch[i].label;
			out[i].distance = it->batch[i].distance;
		}
		return knowhere::Status::Ok();
	});
	TakeRowError(it->engine, &err);
	Raise(&err);
	return got;
}

// VecdbEngineSearch answers nq dense queries at once (the GPU worker's
// batches): k results per query at out + q * k, ordered by distance; counts[q]
// says how many are real (fewer rows allowed than k). deleted: set bit = skip.
void VecdbEngineSearch(const VecdbEngineIndex *e, const void *queries, size_t nq, size_t k,
					   const VecdbEngineSearchParams *p, const uint8_t *deleted, size_t nbits, VecdbNeighbor *out,
					   int *counts) {
	BridgeError err;
	Run(&err, [&]() {
		if (!e->index)
			return knowhere::Status::NotSupported("batch search of a sparse index");
		knowhere::SearchParams params = ToSearchParams(p);
		std::vector<int64_t> labels(nq * k);
		std::vector<float> distances(nq * k);
		knowhere::Status s = e->index->Search(queries, nq, k, params, knowhere::BitsetView(deleted, nbits),
											  labels.data(), distances.data());
		if (!s.ok())
			return s;
		for (size_t q = 0; q < nq; q++) {
			int n = 0;
			for (size_t i = 0; i < k; i++) {
				if (labels[q * k + i] < 0)
					continue;
				out[q * k + n].label = labels[q * k + i];
				out[q * k + n].distance = distances[q * k + i];
				n++;
			}
			counts[q] = n;
		}
		return knowhere::Status::Ok();
	});
	TakeRowError(e, &err);
	Raise(&err);
}

// VecdbEngineGpuProbe says whether this build can search on a GPU and one
// is usable: true with the device's description in out (and the GPU kinds
// registered), false with the reason.
bool VecdbEngineGpuProbe(char *out, size_t len) {
#ifdef VECDB_WITH_CUDA
	vecdb::gpu::DeviceInfo info[1];
	vecdb::gpu::ProbeResult found = vecdb::gpu::ProbeDevices(info, 1);
	if (found.count == 0) {
		snprintf(out, len, strncmp(found.reason, "no GPU", 6) == 0 ? "%s" : "no GPU: %s", found.reason);
		return false;
	}
	vecdb::gpu::RegisterGpuKinds();
	vecdb::gpu::RegisterGpuIvfKinds();
	snprintf(out, len, "%s, sm_%d%d, %zu MB", info[0].name, info[0].major, info[0].minor,
			 info[0].total_memory >> 20);
	return true;
#else
	snprintf(out, len, "no GPU: this vecdb build has no CUDA device support");
	return false;
#endif
}

// VecdbEngineGpuTrainerReady registers the GPU k-means as the IVF kinds'
// centroid trainer in this process when this build has CUDA and a device is
// usable (probed once per process); false otherwise, and the engine then
// trains on the CPU.
bool VecdbEngineGpuTrainerReady(void) {
#ifdef VECDB_WITH_CUDA
	static int ready = -1;
	if (ready < 0) {
		char why[256];
		ready = VecdbEngineGpuProbe(why, sizeof(why)) ? 1 : 0;
	}
	return ready == 1;
#else
	return false;
#endif
}

// VecdbEngineToGpu returns the device copy of a segment for the GPU worker:
// GPU_IVF_FLAT with the same centroids and lists for an IVF_FLAT index, a
// GPU_FLAT holding the rows of a FLAT or HNSW index (labelled alike) for
// exact searches; an ERROR when this build has no GPU kinds or the device
// refuses (memory).
VecdbEngineIndex *VecdbEngineToGpu(const VecdbEngineIndex *cpu) {
	BridgeError err;
	VecdbEngineIndex *e = nullptr;
	Run(&err, [&]() {
#ifdef VECDB_WITH_CUDA
		if (cpu->index && cpu->index->kind() == knowhere::IndexKind::kIvfFlat) {
			auto made = vecdb::gpu::GpuIvfFlatFrom(*cpu->index);
			if (!made.ok())
				return made.status();
			e = new VecdbEngineIndex{std::move(made).value()};
			return knowhere::Status::Ok();
		}
#endif
		/* kinds whose Reconstruct returns the rows exactly */
		if (!cpu->index ||
			(cpu->index->kind() != knowhere::IndexKind::kFlat && cpu->index->kind() != knowhere::IndexKind::kHnsw))
			return knowhere::Status::NotSupported("only FLAT, HNSW and IVF_FLAT segments go to the GPU");
		const knowhere::Index &src = *cpu->index;
		knowhere::IndexConfig config;
		config.kind = knowhere::IndexKind::kGpuFlat;
		config.metric = src.metric();
		config.dim = src.dim();
		auto made = knowhere::CreateIndex(config);
		if (!made.ok())
			return made.status();
		std::unique_ptr<knowhere::Index> gpu = std::move(made).value();
		size_t n = static_cast<size_t>(src.count());
		std::vector<int64_t> labels(n);
		for (size_t i = 0; i < n; i++)
			labels[i] = static_cast<int64_t>(i);
		std::vector<float> rows(n * static_cast<size_t>(src.dim()));
		knowhere::Status s = src.Reconstruct(labels.data(), n, rows.data());
		if (!s.ok())
			return s;
		s = gpu->Build(rows.data(), labels.data(), n);
		if (!s.ok())
			return s;
		e = new VecdbEngineIndex{std::move(gpu)};
		return knowhere::Status::Ok();
	});
	Raise(&err);
	return e;
}

// VecdbEngineRowBytes returns the bytes of one engine row.
size_t VecdbEngineRowBytes(VecdbMetric metric, int dim) {
	return knowhere::RowBytes(static_cast<knowhere::Metric>(metric), dim);
}

// VecdbEngineKindName names an engine kind for vecdb_index_info.
const char *VecdbEngineKindName(int kind) {
	switch (kind) {
		case VECDB_ENGINE_FLAT:
			return "flat";
		case VECDB_ENGINE_HNSW:
			return "hnsw";
		case VECDB_ENGINE_IVF_FLAT:
			return "ivf_flat";
		case VECDB_ENGINE_IVF_PQ:
			return "ivf_pq";
		case VECDB_ENGINE_IVF_SQ8:
			return "ivf_sq8";
		case VECDB_ENGINE_BIN_FLAT:
			return "bin_flat";
		case VECDB_ENGINE_BIN_IVF:
			return "bin_ivf";
		case VECDB_ENGINE_GROWING:
			return "growing";
		case VECDB_ENGINE_HNSW_SQ:
			return "hnsw_sq";
		case VECDB_ENGINE_SPARSE_INVERTED:
			return "sparse_inverted";
	}
	return "unknown";
}

// VecdbMetricName names a metric.
const char *VecdbMetricName(VecdbMetric metric) {
	switch (metric) {
		case VECDB_METRIC_L2:
			return "l2";
		case VECDB_METRIC_IP:
			return "inner_product";
		case VECDB_METRIC_COSINE:
			return "cosine";
		case VECDB_METRIC_L1:
			return "l1";
		case VECDB_METRIC_HAMMING:
			return "hamming";
		case VECDB_METRIC_JACCARD:
			return "jaccard";
	}
	return "unknown";
}

// VecdbEngineTrain learns an index's centroids and codebooks from n rows.
void VecdbEngineTrain(VecdbEngineIndex *e, const void *rows, size_t n) {
	BridgeError err;
	Run(&err, [&]() {
		if (e->sparse)
			return knowhere::Status::Ok();
		e->index->SetBuildControl(StopRequested, nullptr);
		return e->index->Train(rows, n);
	});
	Raise(&err);
}

// VecdbEngineNeedsTraining reports whether Train must run before Add.
bool VecdbEngineNeedsTraining(const VecdbEngineIndex *e) {
	return !e->sparse && e->index->NeedsTraining();
}

// VecdbEngineWarmThreads creates the engine's OpenMP threads with signals
// blocked, so that only the backend's own thread runs PostgreSQL's handlers.
void VecdbEngineWarmThreads(int threads) {
	BridgeError err;
	Run(&err, [&]() { return knowhere::WarmOpenMP(threads); });
	Raise(&err);
}

struct VecdbEngineOwner {
	MemoryContextCallback cb;
	VecdbEngineIndex *engine;
};

struct VecdbIterOwner {
	MemoryContextCallback cb;
	VecdbEngineIter *iter;
};

namespace {

// FreeOwnedEngine is the reset callback of a VecdbEngineOwner; engine
// destructors do not throw, and a reset callback must not ereport.
void FreeOwnedEngine(void *arg) {
	VecdbEngineOwner *o = static_cast<VecdbEngineOwner *>(arg);
	try {
		delete o->engine;
	} catch (...) {
	}
	o->engine = nullptr;
}

// FreeOwnedIter is the reset callback of a VecdbIterOwner.
void FreeOwnedIter(void *arg) {
	VecdbIterOwner *o = static_cast<VecdbIterOwner *>(arg);
	try {
		delete o->iter;
	} catch (...) {
	}
	o->iter = nullptr;
}

}  // namespace

// VecdbEngineOwn ties engine to CurrentMemoryContext.
VecdbEngineOwner *VecdbEngineOwn(VecdbEngineIndex *e) {
	VecdbEngineOwner *o = static_cast<VecdbEngineOwner *>(palloc0(sizeof(VecdbEngineOwner)));
	o->engine = e;
	o->cb.func = FreeOwnedEngine;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return o;
}

// VecdbEngineOwnerRelease hands the engine back to the caller; the callback
// then has nothing to free.
VecdbEngineIndex *VecdbEngineOwnerRelease(VecdbEngineOwner *o) {
	VecdbEngineIndex *e = o->engine;
	o->engine = nullptr;
	return e;
}

// VecdbIterOwn ties an iterator to CurrentMemoryContext.
VecdbIterOwner *VecdbIterOwn(VecdbEngineIter *it) {
	VecdbIterOwner *o = static_cast<VecdbIterOwner *>(palloc0(sizeof(VecdbIterOwner)));
	o->iter = it;
	o->cb.func = FreeOwnedIter;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return o;
}

// VecdbIterOwnerFree frees the owned iterator now.
void VecdbIterOwnerFree(VecdbIterOwner *o) {
	FreeOwnedIter(o);
}

// VecdbEngineDefaultBruteForceRatio returns the allowed fraction below which
// the engine searches a filtered segment of kind holding rows rows exactly,
// by default.
double VecdbEngineDefaultBruteForceRatio(int kind, int nlist, int nprobe, int ef_search, uint64_t rows, int dims,
										 int metric) {
	knowhere::IndexConfig config;
	knowhere::SearchParams params;

	if (kind == VECDB_ENGINE_SPARSE_INVERTED)
		return 0;
	config.kind = static_cast<knowhere::IndexKind>(kind);
	config.metric = static_cast<knowhere::Metric>(metric);
	config.dim = dims;
	config.nlist = nlist;
	params.nprobe = nprobe;
	params.ef_search = ef_search;
	return knowhere::DefaultBruteForceRatio(config, params, static_cast<size_t>(rows));
}
