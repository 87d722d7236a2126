// ivf_index.cpp implements the inverted-file index kinds IVF_FLAT, IVF_PQ,
// IVF_SQ8 (FAISS IndexIVF*) and BIN_IVF (FAISS IndexBinaryIVF) behind the
// engine's Index interface: storage, training, adding and the factory
// (search in ivf_search.cpp, the stored form in ivf_serialize.cpp).
//
// Design notes.
//
// Storage. FAISS holds the coarse quantizer (an IndexFlatL2/IP or
// IndexBinaryFlat owned by the IVF index) and the inverted lists
// (ArrayInvertedLists: per list, the caller's int64 labels and the codes);
// labels go into the lists with add_core. Every row has an exact vector
// (normalized for cosine): for IVF_FLAT and BIN_IVF the list codes are those
// vectors, so nothing else is kept; for IVF_PQ and IVF_SQ8 a raw store keeps
// them per list, in the same order as the list's codes (raw_[list][offset]).
// A label -> (list, offset) map finds any row. A list's rows are thus one
// strided RowSet (labels from FAISS, vectors from the codes or the raw
// store), and every exact path is brute_force.hpp's: brute force over the
// allowed rows of a selective filter (all lists), the probed lists of
// BIN_IVF, the iterator, range search and re-ranking. Labels must be unique.
//
// Scores. L2: squared L2. IP: FAISS returns similarities, we negate them.
// Cosine: vectors are normalized at add and query, FAISS searches by inner
// product and the score is 1 - similarity (cosine distance); a zero vector is
// InvalidArgument. BIN_IVF: Hamming count; any dim, with the bits past dim
// in a row's last byte zero (FAISS works on whole bytes).
//
// Adding. Add assigns the rows to lists with the quantizer, reserves every
// list's exact new size (a Build leaves no slack: IVF_FLAT holds ~1x its
// vectors), then hands FAISS chunks of kAddChunk rows with their assignment
// (add_core), reading back from each touched list the labels FAISS appended
// to place the raw rows and map entries. Between chunks it polls the build
// stop callback and reports progress, so a cancel keeps a prefix of the
// batch; a FAISS exception inside a chunk trims the touched lists back to
// their sizes before it, so the index stays consistent.
//
// Training: nlist (and 2^nbits for IVF_PQ) rows at least, else
// InvalidArgument. FAISS' "please provide at least 39 * k points" warning
// (written to stderr, i.e. the server log) is silenced by setting
// min_points_per_centroid to 1; sampling above 256 points per centroid stays.
// Cancellation inside k-means uses FAISS' InterruptCallback, which FAISS
// 1.7.3 checks after every k-means iteration and every block of distance
// computations, on the thread that called train: one process-wide callback
// asks the stop callback the calling thread registered for the current
// Train (a thread_local), so OpenMP workers never run it. A failed or
// cancelled Train empties the quantizer (FAISS would otherwise take its
// partial centroids as trained on the next Train).
//
// Training elsewhere. When IndexConfig::train_device and the training work
// call for it (centroid_trainer.hpp: kGpu whenever a trainer is registered
// and usable, kAuto from kAutoTrainMinWork per build thread), the float kinds
// hand FAISS' clustering parameters (niter, seed, spherical for inner
// product, 256 points per centroid) to the registered trainer (src/gpu's
// GpuKMeans) and add its centroids to the quantizer; FAISS' train then skips
// its own k-means (a trained quantizer with nlist rows) and trains only the
// rest (IVF_PQ codebooks, IVF_SQ8 ranges, on the CPU). Add, Search and
// Serialize see an ordinary trained quantizer. A trainer that fails for any
// reason but a cancel, or returns a non-finite centroid, is ignored: FAISS
// trains on the CPU and Train succeeds.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <faiss/impl/AuxIndexStructures.h>

#include "knowhere/catching.hpp"
#include "knowhere/centroid_trainer.hpp"
#include "knowhere/ivf_internal.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::knowhere {

namespace ivf {

namespace {

// TrainInterrupt is FAISS' process-wide InterruptCallback: it asks only the
// stop callback that the current thread registered (PollThreadStop), so
// FAISS' OpenMP workers (and threads with no Train running) always get "go on".
class TrainInterrupt final : public faiss::InterruptCallback {
public:
	// want_interrupt polls the calling thread's Train stop callback.
	bool want_interrupt() override { return PollThreadStop(); }
};

// InstallTrainInterrupt makes TrainInterrupt FAISS' callback, once per process.
void InstallTrainInterrupt() {
	static std::once_flag once;
	std::call_once(once, [] {
		std::lock_guard<std::mutex> guard(faiss::InterruptCallback::lock);
		faiss::InterruptCallback::instance.reset(new TrainInterrupt());
	});
}

// GrowFor makes room for need elements in v: exactly when v is empty (a
// Build), by half its capacity at least otherwise (many small Adds stay linear).
template <typename T>
void GrowFor(std::vector<T> *v, size_t need) {
	if (need > v->capacity())
		v->reserve(v->empty() ? need : std::max(need, v->capacity() + v->capacity() / 2));
}

}  // namespace

// Init creates the quantizer and the FAISS IVF index of the configured kind.
Status IvfIndex::Init() noexcept {
	return Catching("creating an IVF index", [&]() -> Status {
		size_t d = static_cast<size_t>(config_.dim);
		raw_.assign(lists_hold_rows_ ? 0 : nlist(), {});
		if (binary_) {
			/* FAISS counts whole bytes: a row's RowBytes() bytes, whose bits past dim are zero */
			size_t bits = RowBytes() * 8;
			auto q = std::make_unique<faiss::IndexBinaryFlat>(static_cast<faiss::Index::idx_t>(bits));
			bin_ = std::make_unique<faiss::IndexBinaryIVF>(q.get(), bits, nlist());
			q.release();
			bin_->own_fields = true;
			bin_->cp.seed = static_cast<int>(config_.seed);
			bin_->cp.min_points_per_centroid = 1;
			return BindLists();
		}
		faiss::MetricType mt = config_.metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
		std::unique_ptr<faiss::Index> q;
		if (mt == faiss::METRIC_L2)
			q = std::make_unique<faiss::IndexFlatL2>(config_.dim);
		else
			q = std::make_unique<faiss::IndexFlatIP>(config_.dim);
		switch (config_.kind) {
			case IndexKind::kIvfFlat:
				ivf_ = std::make_unique<faiss::IndexIVFFlat>(q.get(), d, nlist(), mt);
				break;
			case IndexKind::kIvfPq: {
				auto pq = std::make_unique<faiss::IndexIVFPQ>(q.get(), d, nlist(), config_.pq_m, config_.nbits, mt);
				pq->pq.cp.seed = static_cast<int>(config_.seed);
				pq->pq.cp.min_points_per_centroid = 1;
				ivf_ = std::move(pq);
				break;
			}
			case IndexKind::kIvfSq8:
				ivf_ = std::make_unique<faiss::IndexIVFScalarQuantizer>(q.get(), d, nlist(),
																	   faiss::ScalarQuantizer::QT_8bit, mt, true);
				break;
			default:
				return Status::Internal("not an IVF kind");
		}
		q.release();
		ivf_->own_fields = true;
		ivf_->cp.seed = static_cast<int>(config_.seed);
		ivf_->cp.min_points_per_centroid = 1;
		return BindLists();
	});
}

// BindLists finds FAISS' ArrayInvertedLists (what every IVF index we create
// or read has) and checks its shape.
Status IvfIndex::BindLists() noexcept {
	faiss::InvertedLists *il = binary_ ? (bin_ ? bin_->invlists : nullptr) : (ivf_ ? ivf_->invlists : nullptr);
	lists_ = dynamic_cast<faiss::ArrayInvertedLists *>(il);
	if (lists_ == nullptr || lists_->nlist != nlist() || lists_->ids.size() != nlist() ||
		lists_->codes.size() != nlist())
		return Status::Corrupt("IVF index has no inverted lists of the expected shape");
	if (lists_hold_rows_ && lists_->code_size != RowBytes())
		return Status::Corrupt("IVF index codes do not hold its vectors");
	return Status::Ok();
}

// MemoryUsage adds the lists (codes and labels, by capacity), the raw store,
// the label map, the centroids and the quantizers' tables.
size_t IvfIndex::MemoryUsage() const noexcept {
	size_t bytes = sizeof(*this) + MapBytes(rows_.size(), rows_.bucket_count());
	if (view_)
		bytes += sizeof(ByteInvertedLists);
	if (lists_ != nullptr)
		for (size_t l = 0; l < nlist(); l++)
			bytes += lists_->codes[l].capacity() + lists_->ids[l].capacity() * sizeof(idx_t) +
				2 * sizeof(std::vector<uint8_t>);
	for (const std::vector<float> &r : raw_)
		bytes += r.capacity() * sizeof(float) + sizeof(r);
	bytes += binary_ ? nlist() * RowBytes() : nlist() * static_cast<size_t>(config_.dim) * sizeof(float);
	if (auto *pq = dynamic_cast<const faiss::IndexIVFPQ *>(ivf_.get()))
		bytes += (pq->pq.centroids.capacity() + pq->precomputed_table.size()) * sizeof(float);
	if (auto *sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer *>(ivf_.get()))
		bytes += sq->sq.trained.capacity() * sizeof(float);
	return bytes;
}

// FromFaiss negates inner products and turns cosine similarity into distance.
float IvfIndex::FromFaiss(float d) const noexcept {
	switch (config_.metric) {
		case Metric::kInnerProduct:
			return -d;
		case Metric::kCosine:
			return 1.0f - d;
		default:
			return d;
	}
}

// RowOf finds a label's list and offset and returns its exact vector.
const void *IvfIndex::RowOf(int64_t label) const noexcept {
	if (view_) {
		/* binary search of the label order; positions are checked, labels trusted */
		size_t n = Count(), lo = 0, hi = n;
		const uint64_t *order = sections_.by_label;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (order[mid] >= n)
				return nullptr;
			if (sections_.ids[order[mid]] < label)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n || order[lo] >= n || sections_.ids[order[lo]] != label)
			return nullptr;
		size_t at = static_cast<size_t>(order[lo]);
		return lists_hold_rows_ ? static_cast<const void *>(sections_.codes + at * sections_.meta.code_size)
								: static_cast<const void *>(sections_.raw + at * static_cast<size_t>(config_.dim));
	}
	auto it = rows_.find(label);
	if (it == rows_.end())
		return nullptr;
	return ListRows(LocList(it->second)).Row(LocOffset(it->second));
}

// Train validates the training rows and runs FAISS' k-means.
Status IvfIndex::Train(const void *vectors, size_t n) noexcept {
	if (view_)
		return Status::NotSupported("an index view is read-only");
	return Catching("training an IVF index", [&] { return TrainImpl(vectors, n); });
}

// TrainImpl checks row counts up front (FAISS would warn or throw), then
// trains with the build stop callback reachable from FAISS' interrupt checks.
Status IvfIndex::TrainImpl(const void *vectors, size_t n) {
	if (vectors == nullptr && n > 0)
		return Status::InvalidArgument("training vectors missing");
	if (n < nlist())
		return Status::InvalidArgument("IVF training needs at least nlist (" + std::to_string(nlist()) +
									   ") rows, got " + std::to_string(n));
	if (config_.kind == IndexKind::kIvfPq && n < (size_t{1} << config_.nbits))
		return Status::InvalidArgument("IVF_PQ training needs at least 2^nbits (" +
									   std::to_string(size_t{1} << config_.nbits) + ") rows, got " +
									   std::to_string(n));
	if (!rows_.empty())
		return Status::InvalidArgument("cannot train an IVF index that already holds rows");
	std::vector<float> xf;
	if (!binary_)
		VECDB_RETURN_IF_ERROR(PrepareRows(vectors, n, "vector", &xf));
	if (BuildStopRequested())
		return Status::Cancelled();
	if (!binary_)
		VECDB_RETURN_IF_ERROR(TrainCentroidsOutside(xf.data(), n));
	OmpThreads threads(config_.threads);
	InstallTrainInterrupt();
	ThreadStop stop{build_stop_, build_stop_arg_, false};
	try {
		ThreadStopScope scope(&stop);
		if (binary_)
			bin_->train(static_cast<idx_t>(n), static_cast<const uint8_t *>(vectors));
		else
			ivf_->train(static_cast<idx_t>(n), xf.data());
	} catch (...) {
		/* k-means stopped half way leaves centroids FAISS would take as trained */
		if (binary_)
			bin_->quantizer->reset();
		else
			ivf_->quantizer->reset();
		if (stop.fired)
			return Status::Cancelled();
		throw;
	}
	trained_ = true;
	return Status::Ok();
}

// TrainCentroidsOutside asks the registered centroid trainer (a GPU) for the
// coarse centroids when train_device and the work call for it, with FAISS'
// own clustering parameters, and puts them into the quantizer: FAISS' train
// then finds the quantizer trained (nlist rows) and skips its k-means, and
// trains only what follows it (IVF_PQ's codebooks, IVF_SQ8's ranges).
// Cancelled passes through; any other failure, or a centroid with NaN or
// infinity, leaves the quantizer empty and FAISS trains on the CPU.
Status IvfIndex::TrainCentroidsOutside(const float *x, size_t n) {
	CentroidTrainRequest r;
	r.rows = x;
	r.n = n;
	r.dim = config_.dim;
	r.k = config_.nlist;
	r.metric = ivf_->metric_type == faiss::METRIC_L2 ? Metric::kL2 : Metric::kInnerProduct;
	r.spherical = ivf_->cp.spherical;
	r.niter = ivf_->cp.niter;
	r.seed = config_.seed;
	r.max_points_per_centroid = static_cast<size_t>(std::max(0, ivf_->cp.max_points_per_centroid));
	r.should_stop = build_stop_;
	r.stop_arg = build_stop_arg_;
	if (!UseCentroidTrainer(config_.train_device, config_.threads, r))
		return Status::Ok();
	CentroidTrainFn train = RegisteredCentroidTrainer();
	if (train == nullptr)
		return Status::Ok();
	std::vector<float> c(nlist() * static_cast<size_t>(config_.dim));
	Status s = train(r, c.data());
	if (s.code() == StatusCode::kCancelled)
		return s;
	if (!s.ok())
		return Status::Ok();
	for (float v : c)
		if (!std::isfinite(v))
			return Status::Ok();
	ivf_->quantizer->reset();
	ivf_->quantizer->add(static_cast<idx_t>(nlist()), c.data());
	return Status::Ok();
}

// Add validates labels and rows, then adds them to FAISS and the raw store.
Status IvfIndex::Add(const void *vectors, const int64_t *labels, size_t n) noexcept {
	if (view_)
		return Status::NotSupported("an index view is read-only");
	return Catching("adding to an IVF index", [&] { return AddImpl(vectors, labels, n, nullptr); });
}

// AddImpl refuses untrained indexes, negative and duplicate labels, assigns
// lists, reserves them, then adds chunk by chunk (see the design notes).
Status IvfIndex::AddImpl(const void *vectors, const int64_t *labels, size_t n, const idx_t *assigned) {
	if (n == 0)
		return Status::Ok();
	if (!trained_)
		return Status::InvalidArgument("IVF index must be trained before rows are added");
	if (vectors == nullptr || labels == nullptr)
		return Status::InvalidArgument("vectors or labels missing");
	std::unordered_map<int64_t, size_t> batch;
	batch.reserve(n);
	for (size_t i = 0; i < n; i++) {
		if (labels[i] < 0)
			return Status::InvalidArgument("labels must not be negative");
		if (rows_.count(labels[i]) != 0 || !batch.emplace(labels[i], i).second)
			return Status::InvalidArgument("duplicate label " + std::to_string(labels[i]));
	}
	std::vector<uint8_t> x;
	VECDB_RETURN_IF_ERROR(PrepareRows(vectors, n, "vector", &x));
	OmpThreads threads(config_.threads);
	size_t rb = RowBytes();
	std::vector<idx_t> assign(n, -1);
	for (size_t c0 = 0; c0 < n && assigned != nullptr; c0++)
		assign[c0] = assigned[c0];
	for (size_t c0 = 0; c0 < n && assigned == nullptr; c0 += kAddChunk) {
		if (BuildStopRequested())
			return Status::Cancelled();
		idx_t m = static_cast<idx_t>(std::min(kAddChunk, n - c0));
		if (binary_)
			bin_->quantizer->assign(m, x.data() + c0 * rb, assign.data() + c0);
		else
			ivf_->quantizer->assign(m, reinterpret_cast<const float *>(x.data() + c0 * rb), assign.data() + c0);
	}
	std::vector<size_t> added(nlist(), 0);
	for (idx_t l : assign) {
		if (l < 0 || static_cast<size_t>(l) >= nlist())
			return assigned != nullptr ? Status::InvalidArgument("list number out of range")
									   : Status::Internal("IVF quantizer assigned a row to no list");
		added[static_cast<size_t>(l)]++;
	}
	for (size_t l = 0; l < nlist(); l++) {
		if (added[l] == 0)
			continue;
		size_t need = lists_->ids[l].size() + added[l];
		GrowFor(&lists_->ids[l], need);
		GrowFor(&lists_->codes[l], need * lists_->code_size);
		if (!lists_hold_rows_)
			GrowFor(&raw_[l], need * static_cast<size_t>(config_.dim));
	}
	rows_.reserve(rows_.size() + n);
	std::vector<size_t> old_size(nlist(), std::numeric_limits<size_t>::max());
	for (size_t c0 = 0; c0 < n; c0 += kAddChunk) {
		if (c0 > 0 && BuildStopRequested())
			return Status::Cancelled();
		size_t c1 = std::min(n, c0 + kAddChunk);
		VECDB_RETURN_IF_ERROR(AddChunk(x.data(), labels, assign.data(), c0, c1, batch, &old_size));
		ReportProgress(c1, n);
	}
	return Status::Ok();
}

// AddChunk hands one chunk to FAISS, then walks each touched list's new
// entries (FAISS appends in batch order, but we read back rather than rely
// on it) to place raw rows and map labels.
Status IvfIndex::AddChunk(const uint8_t *x, const int64_t *labels, const idx_t *assign, size_t c0, size_t c1,
						  const std::unordered_map<int64_t, size_t> &batch, std::vector<size_t> *old_size) {
	constexpr size_t kUnset = std::numeric_limits<size_t>::max();
	size_t rb = RowBytes();
	std::vector<size_t> touched;
	for (size_t i = c0; i < c1; i++) {
		size_t l = static_cast<size_t>(assign[i]);
		if ((*old_size)[l] == kUnset) {
			(*old_size)[l] = lists_->ids[l].size();
			touched.push_back(l);
		}
	}
	idx_t before = binary_ ? bin_->ntotal : ivf_->ntotal;
	idx_t m = static_cast<idx_t>(c1 - c0);
	try {
		if (binary_)
			bin_->add_core(m, x + c0 * rb, labels + c0, assign + c0);
		else
			ivf_->add_core(m, reinterpret_cast<const float *>(x + c0 * rb), labels + c0, assign + c0);
	} catch (...) {
		for (size_t l : touched) {
			lists_->ids[l].resize((*old_size)[l]);
			lists_->codes[l].resize((*old_size)[l] * lists_->code_size);
			(*old_size)[l] = kUnset;
		}
		(binary_ ? bin_->ntotal : ivf_->ntotal) = before;
		throw;
	}
	size_t d = static_cast<size_t>(config_.dim);
	for (size_t l : touched) {
		const std::vector<idx_t> &ids = lists_->ids[l];
		for (size_t j = (*old_size)[l]; j < ids.size(); j++) {
			auto it = batch.find(ids[j]);
			if (it == batch.end())
				return Status::Internal("FAISS added a label it was not given");
			if (!lists_hold_rows_) {
				const float *row = reinterpret_cast<const float *>(x + it->second * rb);
				raw_[l].insert(raw_[l].end(), row, row + d);
			}
			rows_.emplace(ids[j], PackLoc(l, j));
			NoteLabel(ids[j]);
		}
		(*old_size)[l] = kUnset;
	}
	return Status::Ok();
}

// DropBelow compacts every list in place; the label map is rebuilt aside
// and swapped in at the end.
Status IvfIndex::DropBelow(int64_t first) noexcept {
	if (view_)
		return Status::NotSupported("an index view is read-only");
	return Catching("dropping rows of an IVF index", [&] {
		std::unordered_map<int64_t, uint64_t> rows;
		size_t dropped = 0;
		rows.reserve(rows_.size());
		min_label_ = std::numeric_limits<int64_t>::max();
		max_label_ = -1;
		for (size_t l = 0; l < nlist(); l++)
			dropped += DropFromList(l, first, &rows);
		rows_.swap(rows);
		(binary_ ? bin_->ntotal : ivf_->ntotal) -= static_cast<idx_t>(dropped);
		return Status::Ok();
	});
}

size_t IvfIndex::DropFromList(size_t l, int64_t first, std::unordered_map<int64_t, uint64_t> *rows) {
	std::vector<idx_t> &ids = lists_->ids[l];
	std::vector<uint8_t> &codes = lists_->codes[l];
	size_t cs = lists_->code_size;
	size_t d = static_cast<size_t>(config_.dim);
	size_t kept = 0;
	for (size_t j = 0; j < ids.size(); j++) {
		if (ids[j] < first)
			continue;
		if (kept != j) {
			std::memmove(codes.data() + kept * cs, codes.data() + j * cs, cs);
			if (!lists_hold_rows_)
				std::memmove(raw_[l].data() + kept * d, raw_[l].data() + j * d, d * sizeof(float));
		}
		ids[kept] = ids[j] - first;
		rows->emplace(ids[kept], PackLoc(l, kept));
		NoteLabel(ids[kept]);
		kept++;
	}
	size_t dropped = ids.size() - kept;
	ids.resize(kept);
	codes.resize(kept * cs);
	if (!lists_hold_rows_)
		raw_[l].resize(kept * d);
	return dropped;
}

}  // namespace ivf

using ivf::idx_t;
using ivf::IvfIndex;

// EstimateIvfMemory mirrors MemoryUsage for one Build of n rows: per row its
// code, label, map entry and (IVF_PQ, IVF_SQ8) raw vector; per list the
// centroid and vector headers; the PQ codebooks and, for L2, FAISS' table
// of nlist x pq_m x 2^nbits precomputed terms.
size_t EstimateIvfMemory(const IndexConfig &config, size_t n) noexcept {
	size_t d = static_cast<size_t>(config.dim);
	size_t nlist = static_cast<size_t>(config.nlist);
	size_t row = RowBytes(config.metric, config.dim);
	size_t code = row, raw = 0, tables = 0;
	switch (config.kind) {
		case IndexKind::kIvfPq: {
			size_t ksub = size_t{1} << config.nbits;
			code = (static_cast<size_t>(config.pq_m) * static_cast<size_t>(config.nbits) + 7) / 8;
			raw = row;
			tables = ksub * d * sizeof(float);
			if (config.metric == Metric::kL2)
				tables += nlist * static_cast<size_t>(config.pq_m) * ksub * sizeof(float);
			break;
		}
		case IndexKind::kIvfSq8:
			code = d;
			raw = row;
			tables = 2 * d * sizeof(float);
			break;
		default:
			break;
	}
	size_t per_list = row + 2 * sizeof(std::vector<uint8_t>) + (raw != 0 ? sizeof(std::vector<float>) : 0);
	return sizeof(IvfIndex) + n * (code + sizeof(idx_t) + raw) + IvfIndex::MapBytes(n, n) + nlist * per_list + tables;
}

// NewIvfIndex makes an empty IVF_FLAT, IVF_PQ, IVF_SQ8 or BIN_IVF index.
Expected<std::unique_ptr<Index>> NewIvfIndex(const IndexConfig &config) noexcept {
	Status s = ValidateConfig(config);
	if (!s.ok())
		return s;
	return Catching("creating an IVF index", [&]() -> Expected<std::unique_ptr<Index>> {
		auto index = std::make_unique<IvfIndex>(config);
		VECDB_RETURN_IF_ERROR(index->Init());
		return std::unique_ptr<Index>(std::move(index));
	});
}

// NewTrainedIvfFlat makes the index, then restores the centroids as Load does.
Expected<std::unique_ptr<Index>> NewTrainedIvfFlat(const IndexConfig &config, const float *centroids) noexcept {
	if (config.kind != IndexKind::kIvfFlat || centroids == nullptr)
		return Status::InvalidArgument("NewTrainedIvfFlat needs IVF_FLAT and centroids");
	auto made = NewIvfIndex(config);
	if (!made.ok())
		return made;
	std::unique_ptr<Index> index = std::move(made).value();
	auto *ivf = static_cast<IvfIndex *>(index.get());
	Status s = Catching("restoring IVF centroids", [&] {
		return ivf->RestoreTrained(reinterpret_cast<const uint8_t *>(centroids), nullptr);
	});
	if (!s.ok())
		return s;
	return index;
}

// IvfFloatCentroids reads the quantizer of a trained float IVF index.
const float *IvfFloatCentroids(const Index &index) noexcept {
	auto *ivf = dynamic_cast<const IvfIndex *>(&index);
	if (ivf == nullptr || ivf->NeedsTraining() || IsBinaryKind(ivf->kind()))
		return nullptr;
	return reinterpret_cast<const float *>(ivf->Centroids());
}

// AddAssigned runs AddImpl with the caller's lists.
Status IvfIndex::AddAssigned(const void *vectors, const int64_t *labels, const idx_t *lists, size_t n) noexcept {
	if (view_)
		return Status::NotSupported("an index view is read-only");
	return Catching("adding to an IVF index", [&] { return AddImpl(vectors, labels, n, lists); });
}

// AddToIvfLists checks the kind, then adds with the given assignment.
Status AddToIvfLists(Index &index, const void *vectors, const int64_t *labels, const int64_t *lists,
					 size_t n) noexcept {
	auto *ivf = dynamic_cast<IvfIndex *>(&index);
	if (ivf == nullptr || IsBinaryKind(ivf->kind()))
		return Status::InvalidArgument("AddToIvfLists needs a float IVF index");
	if (n > 0 && lists == nullptr)
		return Status::InvalidArgument("list numbers missing");
	return ivf->AddAssigned(vectors, labels, lists, n);
}

// IvfListCount returns nlist of a trained IVF_FLAT index.
size_t IvfListCount(const Index &index) noexcept {
	auto *ivf = dynamic_cast<const IvfIndex *>(&index);
	if (ivf == nullptr || ivf->kind() != IndexKind::kIvfFlat || ivf->NeedsTraining())
		return 0;
	return static_cast<size_t>(ivf->ListCount());
}

// IvfListRows returns one list of an IVF_FLAT index (empty past nlist).
RowSet IvfListRows(const Index &index, size_t list) noexcept {
	if (list >= IvfListCount(index))
		return RowSet();
	return static_cast<const IvfIndex &>(index).ListRows(list);
}

}  // namespace vecdb::knowhere
