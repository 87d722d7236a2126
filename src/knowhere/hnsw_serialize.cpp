// hnsw_serialize.cpp holds the HNSW kind's stored form: Serialize, the
// streaming Load, and the read-only view over serialized bytes.
//
// Sections (serialize.hpp's framing): a meta section (build parameters, entry
// point, max level, hnswlib's element layout, label span), hnswlib's level-0
// block as it is, labels, levels, each element's offset in the upper-list
// block, internal ids in label order (the view's label lookup), the
// upper-list block. Load reads the level-0 block straight into the graph's and
// checks every level, label, list and neighbour id; a view checks only the
// layout (O(1)) and bounds every read instead (GraphRef).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "knowhere/catching.hpp"
#include "knowhere/hnsw_internal.hpp"
#include "knowhere/index_kinds.hpp"
#include "knowhere/thread_util.hpp"

namespace vecdb::knowhere {

namespace hnsw {

namespace {

// kMaxLevel bounds element levels on load (a level above it means corruption:
// with m >= 2 reaching it needs far more rows than an index can hold).
constexpr int kMaxLevel = 48;

}  // namespace

// HnswConfigOf checks an HNSW meta section against the header (of kind
// expect) and hnswlib's element layout for its m and row bytes (dim floats,
// or HNSW_SQ's code), and returns the graph's config (kind HNSW).
Status HnswConfigOf(const IndexHeader &h, const HnswMeta &m, IndexConfig *config, IndexKind expect,
					uint64_t row) noexcept {
	config->kind = IndexKind::kHnsw;
	config->metric = static_cast<Metric>(h.metric);
	config->dim = h.dim;
	config->m = static_cast<int>(std::min<uint32_t>(m.m, 1u << 20));
	config->ef_construction = static_cast<int>(std::min<uint32_t>(m.ef_construction, 1u << 20));
	config->seed = m.seed;
	if (h.kind != static_cast<uint32_t>(expect) || !ValidateConfig(*config).ok())
		return Status::Corrupt("hnsw build parameters out of range");
	uint64_t links0 = sizeof(linklistsizeint) + 2 * uint64_t{m.m} * sizeof(tableint);
	if (m.count != static_cast<uint64_t>(h.count) || m.offset_data != links0 ||
		m.per_element != links0 + row + sizeof(labeltype) ||
		m.per_level != sizeof(linklistsizeint) + uint64_t{m.m} * sizeof(tableint) || (m.flags & ~kHnswIdentity) != 0)
		return Status::Corrupt("hnsw sections do not match the index header");
	if (m.count > std::numeric_limits<tableint>::max() / 2)
		return Status::Corrupt("hnsw element count out of range");
	if (m.count == 0) {
		if (m.max_level != -1 || m.entry != -1 || m.upper_bytes != 0)
			return Status::Corrupt("empty hnsw index with an entry point");
		return Status::Ok();
	}
	if (m.max_level < 0 || m.max_level > kMaxLevel || m.entry < 0 || static_cast<uint64_t>(m.entry) >= m.count)
		return Status::Corrupt("hnsw entry point out of range");
	return Status::Ok();
}

namespace {

// CheckList checks one stored neighbour list of element id: length within
// capacity, neighbours existing elements other than id.
Status CheckList(const char *ll, size_t capacity, size_t total, size_t id) noexcept {
	unsigned short n;
	std::memcpy(&n, ll, sizeof(n));
	if (n > capacity)
		return Status::Corrupt("hnsw neighbour list too long");
	for (size_t j = 0; j < n; j++) {
		tableint nb;
		std::memcpy(&nb, ll + sizeof(linklistsizeint) + j * sizeof(tableint), sizeof(nb));
		if (nb >= total || nb == id)
			return Status::Corrupt("hnsw neighbour id out of range");
	}
	return Status::Ok();
}

}  // namespace

// Serialize writes the meta section, hnswlib's level-0 block as it is, the
// labels, levels, upper-list offsets, the label order and the upper lists.
Status HnswIndex::Serialize(ByteWriter &out) const noexcept {
	return Catching("serializing an HNSW index", [&]() -> Status {
		return WriteIndexStream(out, *this, [&](IndexStreamWriter &w) { return WriteSections(w, nullptr); });
	});
}

// WriteSections writes the sections Serialize describes; with codec, each
// element's vector is replaced by its code, element by element in chunks.
Status HnswIndex::WriteSections(IndexStreamWriter &w, const SqCodec *codec) const {
	static_assert(sizeof(int) == sizeof(int32_t), "element levels are stored as int32");
	{
		const GraphRef g = Ref();
		size_t n = g.count;
		HnswMeta meta{};
		meta.m = static_cast<uint32_t>(config_.m);
		meta.ef_construction = static_cast<uint32_t>(config_.ef_construction);
		meta.seed = config_.seed;
		meta.max_level = n == 0 ? -1 : g.max_level;
		meta.flags = span_.identity ? kHnswIdentity : 0;
		meta.entry = n == 0 ? -1 : static_cast<int64_t>(g.entry);
		meta.count = n;
		size_t row = RowBytes(config_.metric, config_.dim);
		size_t code = codec != nullptr ? codec->code_bytes() : row;
		meta.per_element = g.per_element - row + code;
		meta.offset_data = g.offset_data;
		meta.per_level = g.per_level;
		meta.min_label = n == 0 ? 0 : span_.min_label;
		meta.max_label = n == 0 ? -1 : span_.max_label;
		std::vector<uint64_t> offsets(n, 0);
		for (size_t i = 0; i < n; i++) {
			offsets[i] = meta.upper_bytes;
			meta.upper_bytes += static_cast<uint64_t>(g.levels[i]) * g.per_level;
		}
		std::vector<uint32_t> by_label(n);
		for (size_t i = 0; i < n; i++)
			by_label[i] = static_cast<uint32_t>(i);
		std::sort(by_label.begin(), by_label.end(), [&](uint32_t a, uint32_t b) { return labels_[a] < labels_[b]; });
		{
			VECDB_RETURN_IF_ERROR(w.Section(&meta, sizeof(meta)));
			if (codec == nullptr) {
				VECDB_RETURN_IF_ERROR(w.Section(g.level0, n * g.per_element));
			} else {
				/*
				 * Encoding looks up each row's nearest cluster (up to 256
				 * centroids): the chunk's rows are split over the build's
				 * threads, and a stop request is honoured between chunks.
				 */
				constexpr size_t kChunk = 4096;
				size_t per = static_cast<size_t>(meta.per_element);
				std::vector<uint8_t> buf(kChunk * per);
				size_t threads = static_cast<size_t>(std::max(config_.threads, 1));
				VECDB_RETURN_IF_ERROR(w.Align());
				for (size_t i = 0; i < n; i += kChunk) {
					size_t c = std::min(kChunk, n - i);
					auto encode = [&](size_t from, size_t to) noexcept {
						for (size_t j = from; j < to; j++) {
							const char *src = g.level0 + (i + j) * g.per_element;
							uint8_t *dst = buf.data() + j * per;
							std::memcpy(dst, src, g.offset_data);
							codec->Encode(reinterpret_cast<const float *>(src + g.offset_data), dst + g.offset_data);
							std::memcpy(dst + g.offset_data + code, src + g.offset_data + row,
										g.per_element - g.offset_data - row);
						}
					};
					size_t parts = std::min(threads, (c + 255) / 256);
					ThreadGroup group;
					size_t started = parts > 1 ? group.Start(parts - 1, [&](size_t t) noexcept {
						encode(c * (t + 1) / parts, c * (t + 2) / parts);
					}) : 0;
					/* the calling thread takes the first part and those of threads that did not start */
					encode(0, c / parts);
					for (size_t t = started; t + 1 < parts; t++)
						encode(c * (t + 1) / parts, c * (t + 2) / parts);
					group.Join();
					VECDB_RETURN_IF_ERROR(w.Write(buf.data(), c * per));
					if (BuildStopRequested())
						return Status::Cancelled();
				}
			}
			VECDB_RETURN_IF_ERROR(w.Section(labels_.data(), n * sizeof(int64_t)));
			VECDB_RETURN_IF_ERROR(w.Section(g.levels, n * sizeof(int32_t)));
			VECDB_RETURN_IF_ERROR(w.Section(offsets.data(), n * sizeof(uint64_t)));
			VECDB_RETURN_IF_ERROR(w.Section(by_label.data(), n * sizeof(uint32_t)));
			VECDB_RETURN_IF_ERROR(w.Align());
			for (size_t i = 0; i < n; i++)
				if (g.levels[i] > 0)
					VECDB_RETURN_IF_ERROR(w.Write(g.upper_ptrs[i], static_cast<size_t>(g.levels[i]) * g.per_level));
			return Status::Ok();
		}
	}
}

// Load reads the sections (the level-0 block straight into the graph's,
// growing as bytes arrive) and checks every label, level, list and neighbour
// id before the graph is used.
Status HnswIndex::Load(const HnswMeta &meta, IndexStreamReader &r) {
	HnswGraph &g = *graph_;
	size_t total = static_cast<size_t>(meta.count);
	size_t per = static_cast<size_t>(meta.per_element);
	constexpr size_t kLoadChunk = 4096;
	VECDB_RETURN_IF_ERROR(r.Align());
	for (size_t i = 0; i < total; i += kLoadChunk) {
		size_t c = std::min(kLoadChunk, total - i);
		g.EnsureCapacity(i + c);
		VECDB_RETURN_IF_ERROR(r.Read(g.Level0() + i * per, c * per));
	}
	std::vector<int32_t> levels;
	std::vector<uint64_t> offsets;
	std::vector<uint32_t> by_label;
	std::vector<char> upper;
	VECDB_RETURN_IF_ERROR(r.SectionArray(&labels_, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&levels, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&offsets, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&by_label, total));
	VECDB_RETURN_IF_ERROR(r.SectionArray(&upper, meta.upper_bytes));
	if (total == 0)
		return Status::Ok();
	/* the capacity is final: the arrays Ref points at stay where they are */
	const GraphRef layout = g.Ref();
	size_t d = static_cast<size_t>(config_.dim);
	int seen_max = -1;
	g.ReserveLabels(total);
	for (size_t i = 0; i < total; i++) {
		tableint id = static_cast<tableint>(i);
		int64_t label = labels_[i];
		int level = levels[i];
		if (label < 0 || level < 0 || level > meta.max_level || g.StoredLabel(id) != label)
			return Status::Corrupt("hnsw element label or level out of range");
		if (!g.AddLabel(label, id))
			return Status::Corrupt("hnsw label stored twice");
		const float *v = g.VectorPtr(id);
		for (size_t j = 0; j < d; j++)
			if (!std::isfinite(v[j]))
				return Status::Corrupt("hnsw vector contains NaN or infinity");
		VECDB_RETURN_IF_ERROR(CheckList(layout.level0 + i * per, layout.max_m0, total, i));
		if (level > 0) {
			uint64_t bytes = static_cast<uint64_t>(level) * layout.per_level;
			if (offsets[i] > upper.size() || upper.size() - offsets[i] < bytes)
				return Status::Corrupt("hnsw upper-layer lists out of range");
			for (int l = 0; l < level; l++)
				VECDB_RETURN_IF_ERROR(
					CheckList(upper.data() + offsets[i] + l * layout.per_level, layout.max_m, total, i));
		}
		g.AdoptElement(id, level, level > 0 ? upper.data() + offsets[i] : nullptr);
		g.SetCount(i + 1);
		seen_max = std::max(seen_max, level);
	}
	if (seen_max != meta.max_level || layout.levels[static_cast<size_t>(meta.entry)] != meta.max_level)
		return Status::Corrupt("hnsw entry point level inconsistent");
	/* Upper-layer links must point at elements that exist on that layer. */
	const GraphRef loaded = g.Ref();
	for (size_t i = 0; i < total; i++) {
		for (int l = 1; l <= loaded.levels[i]; l++) {
			size_t n;
			const tableint *nb = loaded.Links(static_cast<tableint>(i), l, &n);
			for (size_t j = 0; j < n; j++)
				if (loaded.levels[nb[j]] < l)
					return Status::Corrupt("hnsw link to a missing layer");
		}
	}
	for (size_t j = 0; j < total; j++)
		if (by_label[j] >= total || (j > 0 && labels_[by_label[j]] <= labels_[by_label[j - 1]]))
			return Status::Corrupt("hnsw label order inconsistent");
	span_.Note(labels_.data(), 0, total);
	if (span_.identity != ((meta.flags & kHnswIdentity) != 0) || span_.min_label != meta.min_label ||
		span_.max_label != meta.max_label)
		return Status::Corrupt("hnsw label span inconsistent");
	g.SetEntry(static_cast<tableint>(meta.entry), meta.max_level);
	return Status::Ok();
}

// TakeSections points s at the HNSW sections under the cursor and checks
// them as HnswConfigOf does.
Status TakeSections(ViewCursor &c, const IndexHeader &h, IndexKind expect, uint64_t row, HnswSections *s,
					IndexConfig *config) noexcept {
	VECDB_RETURN_IF_ERROR(c.TakeCopy(&s->meta));
	VECDB_RETURN_IF_ERROR(HnswConfigOf(h, s->meta, config, expect, row));
	uint64_t n = s->meta.count;
	VECDB_RETURN_IF_ERROR(c.Take(n * s->meta.per_element, &s->level0));
	VECDB_RETURN_IF_ERROR(c.Take(n, &s->labels));
	VECDB_RETURN_IF_ERROR(c.Take(n, &s->levels));
	VECDB_RETURN_IF_ERROR(c.Take(n, &s->upper_offsets));
	VECDB_RETURN_IF_ERROR(c.Take(n, &s->by_label));
	return c.Take(s->meta.upper_bytes, &s->upper);
}

// HnswView takes the label span from the meta section.
HnswView::HnswView(const IndexBytes &bytes, const IndexConfig &config, const HnswSections &s, DistFunc dist,
				   const void *dist_param)
	: HnswSearcher(config, HnswBuildOptions()),
	  bytes_(bytes),
	  sections_(s),
	  dist_(dist != nullptr ? dist : DistanceFor(config.metric)),
	  compact_codes_(dist != nullptr),
	  dim_(static_cast<size_t>(config.dim)),
	  dist_param_(dist != nullptr ? dist_param : &dim_),
	  visited_(0, static_cast<int>(s.meta.count)) {
	span_.identity = (s.meta.flags & kHnswIdentity) != 0;
	span_.min_label = s.meta.min_label;
	span_.max_label = s.meta.max_label;
}

// Ref points into the bytes.
GraphRef HnswView::Ref() const noexcept {
	const HnswMeta &m = sections_.meta;
	GraphRef r;
	r.level0 = sections_.level0;
	r.per_element = m.per_element;
	r.offset_data = m.offset_data;
	r.count = m.count;
	r.max_m0 = 2 * static_cast<size_t>(m.m);
	r.max_m = m.m;
	r.per_level = m.per_level;
	r.levels = sections_.levels;
	r.upper_base = sections_.upper;
	r.upper_offsets = sections_.upper_offsets;
	r.upper_bytes = m.upper_bytes;
	r.max_level = m.max_level;
	r.entry = m.count > 0 ? static_cast<tableint>(m.entry) : 0;
	r.dist = dist_;
	r.dist_param = const_cast<void *>(dist_param_);
	r.labels = sections_.labels;
	r.visited = &visited_;
	/* compact codes are prefetched whole, float rows up to kRowPrefetchBytes */
	if (m.per_element > m.offset_data + sizeof(labeltype)) {
		size_t row = m.per_element - m.offset_data - sizeof(labeltype);
		r.prefetch_bytes = compact_codes_ ? row : std::min(row, kRowPrefetchBytes);
	}
	return r;
}

// FindLabel is the identity, or a binary search of the label order.
bool HnswView::FindLabel(int64_t label, tableint *id) const {
	size_t n = sections_.meta.count;
	if (span_.identity) {
		if (label < 0 || static_cast<uint64_t>(label) >= n)
			return false;
		*id = static_cast<tableint>(label);
		return true;
	}
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t at = sections_.by_label[mid];
		if (at >= n)
			return false;
		if (sections_.labels[at] < label)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || sections_.by_label[lo] >= n || sections_.labels[sections_.by_label[lo]] != label)
		return false;
	*id = sections_.by_label[lo];
	return true;
}

}  // namespace hnsw

// LoadHnswIndex reads the meta section, makes the index its build parameters
// describe and reads the graph into it (DeserializeIndex checks the trailer).
// An exception while reading means the bytes are damaged: Corrupt.
Expected<std::unique_ptr<Index>> LoadHnswIndex(const IndexHeader &header, IndexStreamReader &reader) noexcept {
	auto loaded = Catching("reading an HNSW index", [&]() -> Expected<std::unique_ptr<Index>> {
		hnsw::HnswMeta meta;
		Status s = reader.Section(&meta, sizeof(meta));
		if (!s.ok())
			return s;
		IndexConfig config;
		s = hnsw::HnswConfigOf(header, meta, &config, IndexKind::kHnsw,
							   static_cast<uint64_t>(header.dim) * sizeof(float));
		if (!s.ok())
			return s;
		auto index = std::make_unique<hnsw::HnswIndex>(
			config, HnswBuildOptions(), std::min<size_t>(static_cast<size_t>(meta.count), hnsw::kInitialCapacity));
		s = index->Load(meta, reader);
		if (!s.ok())
			return s;
		return std::unique_ptr<Index>(std::move(index));
	});
	if (loaded.status().code() == StatusCode::kInternal)
		return Status::Corrupt("corrupt HNSW index: " + loaded.status().message());
	return loaded;
}

// OpenHnswView locates the sections (O(1)) and points a view at them; every
// read through the view is bounded (GraphRef).
Expected<std::unique_ptr<Index>> OpenHnswView(const IndexBytes &bytes) noexcept {
	return Catching("opening an HNSW view", [&]() -> Expected<std::unique_ptr<Index>> {
		ViewCursor c(bytes);
		hnsw::HnswSections s;
		IndexConfig config;
		VECDB_RETURN_IF_ERROR(hnsw::TakeSections(c, bytes.header, IndexKind::kHnsw,
												 static_cast<uint64_t>(bytes.header.dim) * sizeof(float), &s,
												 &config));
		VECDB_RETURN_IF_ERROR(c.Done());
		return std::unique_ptr<Index>(std::make_unique<hnsw::HnswView>(bytes, config, s));
	});
}

}  // namespace vecdb::knowhere
