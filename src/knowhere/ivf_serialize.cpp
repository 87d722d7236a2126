// ivf_serialize.cpp holds the IVF kinds' stored form: Serialize, the
// streaming Load, and the view over serialized bytes.
//
// Serialization (serialize.hpp's framing): a meta section (build fields,
// trained flag, count, code size, label span), the coarse centroids, IVF_PQ's
// codebooks or IVF_SQ8's ranges, the nlist + 1 list offsets, then every
// list's labels, codes and (IVF_PQ, IVF_SQ8) raw rows, each array in list
// order, and the row positions in label order. No stored byte reaches a
// FAISS parser: Load creates the FAISS index from the build fields (Init),
// adds the centroids to its quantizer, copies codebooks or ranges, and fills
// the lists, checking every size, label and vector.
//
// View (OpenIndexView): the same IvfIndex with view_ set. Its FAISS index
// holds private copies of the trained state (centroids, codebooks or ranges,
// and for IVF_PQ FAISS' precomputed table), and its inverted lists are
// ByteInvertedLists pointing into the bytes, so FAISS' own search runs over
// them; ListRows, RowOf (binary search of the label order) and re-ranking
// read the sections too. Opening checks the list offsets (O(nlist)).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "knowhere/catching.hpp"
#include "knowhere/ivf_internal.hpp"

namespace vecdb::knowhere {

namespace ivf {

// Serialize writes the sections in the common framing; a view copies its bytes.
Status IvfIndex::Serialize(ByteWriter &writer) const noexcept {
	if (view_)
		return writer.Write(bytes_.data, bytes_.size);
	return Catching("serializing an IVF index", [&] { return SerializeImpl(writer); });
}

// ExpectedAux returns the trained floats besides the centroids: IVF_PQ's
// codebooks (dim x 2^nbits), IVF_SQ8's per-dimension ranges (2 dim), else 0.
size_t IvfIndex::ExpectedAux() const noexcept {
	size_t d = static_cast<size_t>(config_.dim);
	switch (config_.kind) {
		case IndexKind::kIvfPq:
			return d << config_.nbits;
		case IndexKind::kIvfSq8:
			return 2 * d;
		default:
			return 0;
	}
}

// Centroids returns the coarse quantizer's stored rows (nlist when trained).
const uint8_t *IvfIndex::Centroids() const noexcept {
	if (binary_) {
		auto *q = dynamic_cast<const faiss::IndexBinaryFlat *>(bin_->quantizer);
		return q != nullptr ? q->xb.data() : nullptr;
	}
	auto *q = dynamic_cast<const faiss::IndexFlat *>(ivf_->quantizer);
	return q != nullptr ? q->codes.data() : nullptr;
}

// Aux returns IVF_PQ's codebooks or IVF_SQ8's ranges (nullptr otherwise).
const float *IvfIndex::Aux() const noexcept {
	if (auto *pq = dynamic_cast<const faiss::IndexIVFPQ *>(ivf_.get()))
		return pq->pq.centroids.data();
	if (auto *sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer *>(ivf_.get()))
		return sq->sq.trained.data();
	return nullptr;
}

// SerializeImpl writes the meta section, the trained state, the list
// offsets, then every list's labels, codes and (IVF_PQ, IVF_SQ8) raw rows in
// list order, then the row positions in label order.
Status IvfIndex::SerializeImpl(ByteWriter &writer) const {
	size_t n = Count();
	IvfMeta meta{};
	meta.nlist = config_.nlist;
	meta.pq_m = config_.pq_m;
	meta.nbits = config_.nbits;
	meta.threads = config_.threads;
	meta.seed = config_.seed;
	meta.trained = trained_ ? 1 : 0;
	meta.count = n;
	meta.code_size = lists_->code_size;
	meta.centroid_bytes = trained_ ? nlist() * RowBytes() : 0;
	meta.aux_floats = trained_ ? ExpectedAux() : 0;
	meta.min_label = n == 0 ? 0 : min_label_;
	meta.max_label = n == 0 ? -1 : max_label_;
	std::vector<uint64_t> offsets(nlist() + 1, 0);
	std::vector<int64_t> labels;
	labels.reserve(n);
	for (size_t l = 0; l < nlist(); l++) {
		offsets[l + 1] = offsets[l] + lists_->ids[l].size();
		labels.insert(labels.end(), lists_->ids[l].begin(), lists_->ids[l].end());
	}
	std::vector<uint64_t> by_label(n);
	for (size_t i = 0; i < n; i++)
		by_label[i] = i;
	std::sort(by_label.begin(), by_label.end(), [&](uint64_t a, uint64_t b) { return labels[a] < labels[b]; });
	return WriteIndexStream(writer, *this, [&](IndexStreamWriter &w) -> Status {
		VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
		VECDB_RETURN_IF_ERROR(w.Section(Centroids(), meta.centroid_bytes));
		VECDB_RETURN_IF_ERROR(w.Section(Aux(), meta.aux_floats * sizeof(float)));
		VECDB_RETURN_IF_ERROR(w.Section(offsets.data(), offsets.size() * sizeof(uint64_t)));
		VECDB_RETURN_IF_ERROR(w.Section(labels.data(), n * sizeof(int64_t)));
		VECDB_RETURN_IF_ERROR(w.Align());
		for (size_t l = 0; l < nlist(); l++)
			VECDB_RETURN_IF_ERROR(w.Write(lists_->codes[l].data(), lists_->codes[l].size()));
		VECDB_RETURN_IF_ERROR(w.Align());
		for (const std::vector<float> &r : raw_)
			VECDB_RETURN_IF_ERROR(w.Write(r.data(), r.size() * sizeof(float)));
		return w.Section(by_label.data(), n * sizeof(uint64_t));
	});
}

// ApplyMeta takes the build fields of a meta section, creates the FAISS
// index they describe (Init) and checks every size against it.
Status IvfIndex::ApplyMeta(const IndexHeader &h, const IvfMeta &meta) {
	config_.nlist = meta.nlist;
	config_.pq_m = meta.pq_m;
	config_.nbits = meta.nbits;
	config_.threads = meta.threads;
	config_.seed = meta.seed;
	if (!ValidateConfig(config_).ok() || meta.trained > 1 || meta.reserved != 0)
		return Status::Corrupt("IVF index parameters out of range");
	Status s = Init();
	if (!s.ok())
		return s.code() == StatusCode::kOutOfMemory ? s : Status::Corrupt("IVF index parameters out of range");
	bool trained = meta.trained != 0;
	if (meta.count != static_cast<uint64_t>(h.count) || meta.code_size != lists_->code_size ||
		meta.centroid_bytes != (trained ? nlist() * RowBytes() : 0) || meta.aux_floats != (trained ? ExpectedAux() : 0) ||
		(!trained && meta.count != 0) ||
		(meta.count == 0 && (meta.min_label != 0 || meta.max_label != -1)) ||
		meta.count > std::numeric_limits<uint64_t>::max() / std::max<uint64_t>(meta.code_size, RowBytes()))
		return Status::Corrupt("IVF index sections do not match its header");
	min_label_ = meta.count == 0 ? std::numeric_limits<int64_t>::max() : meta.min_label;
	max_label_ = meta.max_label;
	return Status::Ok();
}

// CheckOffsets checks that nlist + 1 list offsets rise from 0 to count.
Status IvfIndex::CheckOffsets(const uint64_t *offsets, uint64_t count) const noexcept {
	if (offsets[0] != 0 || offsets[nlist()] != count)
		return Status::Corrupt("IVF index list sizes do not match");
	for (size_t l = 0; l < nlist(); l++)
		if (offsets[l + 1] < offsets[l])
			return Status::Corrupt("IVF index list sizes do not match");
	return Status::Ok();
}

// RestoreTrained puts the stored centroids and codebooks or ranges back into
// the FAISS index (IVF_PQ also recomputes FAISS' precomputed table).
Status IvfIndex::RestoreTrained(const uint8_t *centroids, const float *aux) {
	if (!binary_) {
		const float *c = reinterpret_cast<const float *>(centroids);
		for (size_t i = 0; i < nlist() * static_cast<size_t>(config_.dim); i++)
			if (!std::isfinite(c[i]))
				return Status::Corrupt("IVF index holds a centroid with NaN or infinity");
		for (size_t i = 0; i < ExpectedAux(); i++)
			if (!std::isfinite(aux[i]))
				return Status::Corrupt("IVF index holds a codebook with NaN or infinity");
	}
	if (binary_) {
		bin_->quantizer->add(static_cast<idx_t>(nlist()), centroids);
		bin_->is_trained = true;
	} else {
		ivf_->quantizer->add(static_cast<idx_t>(nlist()), reinterpret_cast<const float *>(centroids));
		if (auto *pq = dynamic_cast<faiss::IndexIVFPQ *>(ivf_.get())) {
			pq->pq.centroids.assign(aux, aux + ExpectedAux());
			pq->precompute_table();
		}
		if (auto *sq = dynamic_cast<faiss::IndexIVFScalarQuantizer *>(ivf_.get()))
			sq->sq.trained.assign(aux, aux + ExpectedAux());
		ivf_->is_trained = true;
	}
	trained_ = true;
	return Status::Ok();
}

// Load reads the sections (growing as bytes arrive), then fills FAISS'
// lists, the raw store and the label map, checking every label, size and
// vector; no stored byte reaches a FAISS parser.
Status IvfIndex::Load(const IndexHeader &h, IndexStreamReader &reader) {
	IvfMeta meta;
	VECDB_RETURN_IF_ERROR(reader.Section(&meta, sizeof(meta)));
	VECDB_RETURN_IF_ERROR(ApplyMeta(h, meta));
	size_t n = static_cast<size_t>(meta.count), d = static_cast<size_t>(config_.dim), cs = lists_->code_size;
	std::vector<uint8_t> centroids, codes;
	std::vector<float> aux, raw;
	std::vector<uint64_t> offsets, by_label;
	std::vector<int64_t> ids;
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&centroids, meta.centroid_bytes));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&aux, meta.aux_floats));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&offsets, nlist() + 1));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&ids, n));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&codes, n * cs));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&raw, lists_hold_rows_ ? 0 : n * d));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&by_label, n));
	VECDB_RETURN_IF_ERROR(CheckOffsets(offsets.data(), n));
	if (meta.trained != 0)
		VECDB_RETURN_IF_ERROR(RestoreTrained(centroids.data(), aux.data()));
	rows_.reserve(n);
	for (size_t l = 0; l < nlist(); l++) {
		size_t a = static_cast<size_t>(offsets[l]), b = static_cast<size_t>(offsets[l + 1]);
		lists_->ids[l].assign(ids.begin() + static_cast<ptrdiff_t>(a), ids.begin() + static_cast<ptrdiff_t>(b));
		lists_->codes[l].assign(codes.begin() + static_cast<ptrdiff_t>(a * cs),
								codes.begin() + static_cast<ptrdiff_t>(b * cs));
		if (!lists_hold_rows_)
			raw_[l].assign(raw.begin() + static_cast<ptrdiff_t>(a * d), raw.begin() + static_cast<ptrdiff_t>(b * d));
		for (size_t j = a; j < b; j++) {
			if (ids[j] < 0 || !rows_.emplace(ids[j], PackLoc(l, j - a)).second)
				return Status::Corrupt("IVF index holds a bad or duplicate label");
		}
	}
	(binary_ ? bin_->ntotal : ivf_->ntotal) = static_cast<idx_t>(n);
	for (size_t j = 0; j < n; j++)
		if (by_label[j] >= n || (j > 0 && ids[by_label[j]] <= ids[by_label[j - 1]]))
			return Status::Corrupt("IVF index label order inconsistent");
	if (n > 0 && (ids[by_label[0]] != meta.min_label || ids[by_label[n - 1]] != meta.max_label))
		return Status::Corrupt("IVF index label span inconsistent");
	if (!binary_) {
		for (size_t l = 0; l < nlist(); l++) {
			RowSet rows = ListRows(l);
			for (size_t i = 0; i < rows.n * d; i++)
				if (!std::isfinite(reinterpret_cast<const float *>(rows.base)[i]))
					return Status::Corrupt("IVF index holds a vector with NaN or infinity");
		}
	}
	return Status::Ok();
}

// OpenView restores the trained state (small private copies: centroids,
// codebooks or ranges, IVF_PQ's precomputed table) and points FAISS and the
// exact paths at the sections.
Status IvfIndex::OpenView(const IndexBytes &bytes, const IvfSections &s) {
	VECDB_RETURN_IF_ERROR(CheckOffsets(s.offsets, s.meta.count));
	if (s.meta.trained != 0)
		VECDB_RETURN_IF_ERROR(RestoreTrained(s.centroids, s.aux));
	size_t cs = lists_->code_size;
	if (binary_) {
		bin_->ntotal = static_cast<idx_t>(s.meta.count);
	} else {
		ivf_->replace_invlists(new ByteInvertedLists(nlist(), cs, s), true);
		ivf_->ntotal = static_cast<idx_t>(s.meta.count);
	}
	lists_ = nullptr;
	raw_.clear();
	view_ = true;
	bytes_ = bytes;
	sections_ = s;
	return Status::Ok();
}

}  // namespace ivf

using ivf::IvfIndex;
using ivf::IvfSections;

// LoadIvfIndex reads an IVF index's payload after the common header; any
// inconsistency is Corrupt.
Expected<std::unique_ptr<Index>> LoadIvfIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	IndexConfig config;
	config.kind = static_cast<IndexKind>(header.kind);
	config.metric = static_cast<Metric>(header.metric);
	config.dim = header.dim;
	std::unique_ptr<IvfIndex> index;
	Status s = Catching("loading an IVF index", [&]() -> Status {
		index = std::make_unique<IvfIndex>(config);
		return index->Load(header, reader);
	});
	if (s.code() == StatusCode::kInternal)
		return Status::Corrupt("corrupt IVF index: " + s.message());
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

// OpenIvfView creates the FAISS index the meta section describes, locates
// the sections (O(1)) and makes the index a view of them (O(nlist) checks).
Expected<std::unique_ptr<Index>> OpenIvfView(const IndexBytes &bytes) noexcept {
	const IndexHeader &h = bytes.header;
	IndexConfig config;
	config.kind = static_cast<IndexKind>(h.kind);
	config.metric = static_cast<Metric>(h.metric);
	config.dim = h.dim;
	std::unique_ptr<IvfIndex> index;
	Status s = Catching("opening an IVF view", [&]() -> Status {
		index = std::make_unique<IvfIndex>(config);
		ViewCursor c(bytes);
		IvfSections sec;
		VECDB_RETURN_IF_ERROR(c.TakeCopy(&sec.meta));
		VECDB_RETURN_IF_ERROR(index->ApplyMeta(h, sec.meta));
		uint64_t n = sec.meta.count;
		size_t d = static_cast<size_t>(config.dim);
		bool hold = config.kind == IndexKind::kIvfFlat || config.kind == IndexKind::kBinIvf;
		VECDB_RETURN_IF_ERROR(c.Take(sec.meta.centroid_bytes, &sec.centroids));
		VECDB_RETURN_IF_ERROR(c.Take(sec.meta.aux_floats, &sec.aux));
		VECDB_RETURN_IF_ERROR(c.Take(static_cast<uint64_t>(sec.meta.nlist) + 1, &sec.offsets));
		VECDB_RETURN_IF_ERROR(c.Take(n, &sec.ids));
		VECDB_RETURN_IF_ERROR(c.Take(n * sec.meta.code_size, &sec.codes));
		VECDB_RETURN_IF_ERROR(c.Take(hold ? 0 : n * d, &sec.raw));
		VECDB_RETURN_IF_ERROR(c.Take(n, &sec.by_label));
		VECDB_RETURN_IF_ERROR(c.Done());
		return index->OpenView(bytes, sec);
	});
	if (s.code() == StatusCode::kInternal)
		return Status::Corrupt("corrupt IVF index: " + s.message());
	if (!s.ok())
		return s;
	return std::unique_ptr<Index>(std::move(index));
}

}  // namespace vecdb::knowhere
