// sparse_serialize.cpp writes and reads SPARSE_INVERTED's stored form.
//
// Sections (serialize.hpp's framing), after the common header (dim = the
// number of dimensions, count = rows):
//   SparseMeta {count, nnz, flags, reserved}  (count == header.count; flags: labels ascending)
//   int64  labels[count]
//   uint64 row_offsets[count + 1]            (0, non-decreasing, ends at nnz)
//   int32  indices[nnz]                      (per row strictly increasing, in [0, dim))
//   float  values[nnz]                       (finite; normalized rows under cosine)
// Only the rows are stored: loading checks every value above, then rebuilds
// the posting lists (sparse_index.cpp), so no stored byte can make a list
// point outside the rows. There is no in-place view (OpenIndexView) yet.
#include <cmath>
#include <limits>

#include "knowhere/catching.hpp"
#include "knowhere/sparse_internal.hpp"

namespace vecdb::knowhere {

namespace {

// SparseMeta is the first section of a SPARSE_INVERTED payload.
struct SparseMeta {
	uint64_t count;
	uint64_t nnz;
	uint32_t flags;
	uint32_t reserved;
};
static_assert(sizeof(SparseMeta) == 24, "stored struct");

// CheckSparseMeta checks the meta section against the header.
Status CheckSparseMeta(const IndexHeader &header, const SparseMeta &meta) noexcept {
	if (meta.count != static_cast<uint64_t>(header.count) || (meta.flags & ~kSparseAscending) != 0 ||
		meta.reserved != 0)
		return Status::Corrupt("sparse index sections do not match its header");
	if (meta.count > std::numeric_limits<uint32_t>::max())
		return Status::Corrupt("sparse index row count out of range");
	return Status::Ok();
}

// CheckStoredRows checks offsets, indices, values and labels as Load reads them.
Status CheckStoredRows(Metric metric, int dim, const std::vector<int64_t> &labels,
					   const std::vector<uint64_t> &offsets, const std::vector<int32_t> &indices,
					   const std::vector<float> &values, bool ascending) noexcept {
	if (offsets.front() != 0 || offsets.back() != indices.size())
		return Status::Corrupt("sparse index row offsets do not match its non-zeros");
	bool ascend = true;
	for (size_t r = 0; r < labels.size(); r++) {
		if (labels[r] < 0)
			return Status::Corrupt("index holds a negative label");
		ascend = ascend && (r == 0 || labels[r] > labels[r - 1]);
		uint64_t begin = offsets[r], end = offsets[r + 1];
		if (end < begin || end > indices.size())
			return Status::Corrupt("sparse index row offsets are not increasing");
		if (metric == Metric::kCosine && begin == end)
			return Status::Corrupt("sparse cosine index holds a zero row");
		for (uint64_t p = begin; p < end; p++) {
			if (indices[p] < 0 || indices[p] >= dim || (p > begin && indices[p] <= indices[p - 1]))
				return Status::Corrupt("sparse index row indices out of range or not increasing");
			if (!std::isfinite(values[p]))
				return Status::Corrupt("index holds a NaN or infinite value");
		}
	}
	if (ascend != ascending)
		return Status::Corrupt("sparse index label order does not match its flag");
	return Status::Ok();
}

}  // namespace

// Serialize writes the meta section and the compressed rows.
Status SparseInvertedIndex::Serialize(ByteWriter &writer) const noexcept {
	return WriteIndexStream(writer, *this, [&](IndexStreamWriter &w) -> Status {
		SparseMeta meta{labels_.size(), values_.size(), ascending_ ? kSparseAscending : 0, 0};
		VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
		VECDB_RETURN_IF_ERROR(w.Section(labels_.data(), labels_.size() * sizeof(int64_t)));
		VECDB_RETURN_IF_ERROR(w.Section(row_offsets_.data(), row_offsets_.size() * sizeof(uint64_t)));
		VECDB_RETURN_IF_ERROR(w.Section(indices_.data(), indices_.size() * sizeof(int32_t)));
		return w.Section(values_.data(), values_.size() * sizeof(float));
	});
}

// Load reads the rows (arrays grow as bytes arrive), checks them, then builds
// the posting lists; the caller checks the trailer.
Status SparseInvertedIndex::Load(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	SparseMeta meta;
	VECDB_RETURN_IF_ERROR(reader.Section(&meta, sizeof(meta)));
	VECDB_RETURN_IF_ERROR(CheckSparseMeta(header, meta));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&labels_, meta.count));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&row_offsets_, meta.count + 1));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&indices_, meta.nnz));
	VECDB_RETURN_IF_ERROR(reader.SectionArray(&values_, meta.nnz));
	VECDB_RETURN_IF_ERROR(
		CheckStoredRows(metric_, dim_, labels_, row_offsets_, indices_, values_, (meta.flags & kSparseAscending) != 0));
	return Catching("reading a sparse index", [&] {
		IndexRows(0, false);
		return Status::Ok();
	});
}

// DeserializeSparseIndex reads the header, the kind's sections and the trailer.
Expected<std::unique_ptr<SparseIndex>> DeserializeSparseIndex(ByteReader &reader) noexcept {
	IndexStreamReader r(reader);
	IndexHeader h;
	Status s = ReadHeader(r, &h);
	if (!s.ok())
		return s;
	if (!IsSparseKind(static_cast<IndexKind>(h.kind)))
		return Status::InvalidArgument("not a sparse index: read it with DeserializeIndex");
	std::unique_ptr<SparseInvertedIndex> index;
	s = Catching("reading a sparse index", [&] {
		index.reset(new SparseInvertedIndex(static_cast<Metric>(h.metric), h.dim));
		return Status::Ok();
	});
	if (s.ok())
		s = index->Load(h, r);
	if (s.ok())
		s = r.Finish();
	if (!s.ok())
		return s;
	return std::unique_ptr<SparseIndex>(std::move(index));
}

}  // namespace vecdb::knowhere
