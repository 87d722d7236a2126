// fuzz_index.cpp is the libFuzzer target for the engine's readers of a
// serialized index segment: VerifyIndexBytes, DeserializeIndex and
// OpenIndexView, then searches over whatever they accept.
//
// The input is a serialized index (seeds: every kind, from make_index_seeds).
// It goes in twice: as it is (the checksum path, and DeserializeIndex's
// loaders, which read everything before they compare the checksum), and
// resealed: with the trailer rewritten (size, checksum, magic) so that any
// content passes the checksum and reaches the structural checks of a view
// opened without verification, which is how the PostgreSQL side opens bytes
// it verified once. An index that opens is searched (top-k with and without a
// filter, range search, an iterator, Reconstruct): a view must never read
// outside its bytes, even when they are checksum-valid and inconsistent.
// DeserializeSparseIndex reads the same bytes both ways too (SPARSE_INVERTED
// seeds), and a sparse index that loads is searched every way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <sanitizer/asan_interface.h>

#include "knowhere/index.hpp"
#include "knowhere/serialize.hpp"
#include "knowhere/sparse_index.hpp"

namespace {

using namespace vecdb::knowhere;

// AlignedCopy holds bytes at a kIndexViewAlign-aligned address, allocated to
// their exact size so that AddressSanitizer sees any read past the end.
class AlignedCopy {
public:
	AlignedCopy(const uint8_t *data, size_t size) : size_(size) {
		/* aligned_alloc wants a multiple of the alignment; the tail is poisoned by hand */
		size_t cap = (size + kIndexViewAlign - 1) / kIndexViewAlign * kIndexViewAlign;
		mem_ = static_cast<uint8_t *>(std::aligned_alloc(kIndexViewAlign, cap == 0 ? kIndexViewAlign : cap));
		if (size > 0)
			std::memcpy(mem_, data, size);
		tail_ = (cap == 0 ? kIndexViewAlign : cap) - size;
		PoisonTail(true);
	}
	~AlignedCopy() {
		PoisonTail(false);
		std::free(mem_);
	}
	AlignedCopy(const AlignedCopy &) = delete;
	AlignedCopy &operator=(const AlignedCopy &) = delete;
	uint8_t *data() const { return mem_; }
	size_t size() const { return size_; }

private:
	// PoisonTail marks the allocation's tail past size as unreadable (or readable again).
	void PoisonTail(bool poison) {
		if (poison)
			ASAN_POISON_MEMORY_REGION(mem_ + size_, tail_);
		else
			ASAN_UNPOISON_MEMORY_REGION(mem_ + size_, tail_);
	}

	uint8_t *mem_;
	size_t size_;
	size_t tail_;
};

// Query returns a query row for index: dim floats of a fixed pattern, or
// (dim + 7) / 8 bytes of bits for a binary kind.
std::vector<uint8_t> Query(const Index &index, int salt) {
	size_t dim = static_cast<size_t>(index.dim());
	std::vector<uint8_t> q;
	if (IsBinaryKind(index.kind())) {
		q.resize((dim + 7) / 8);
		for (size_t i = 0; i < q.size(); i++)
			q[i] = static_cast<uint8_t>(0x5a ^ (i * 37 + salt));
	} else {
		std::vector<float> f(dim);
		for (size_t i = 0; i < dim; i++)
			f[i] = static_cast<float>((static_cast<int>(i * 7 + salt) % 11) - 5) * 0.25f;
		q.resize(dim * sizeof(float));
		std::memcpy(q.data(), f.data(), q.size());
	}
	return q;
}

// SearchEverything runs every read-only call of the interface on index; the
// answers are not checked (garbage in, garbage out), only that they come
// back without a crash, a sanitizer report or a hang.
void SearchEverything(const Index &index) {
	if (index.dim() <= 0)
		return;
	const size_t k = 5;
	std::vector<uint8_t> q0 = Query(index, 0), q1 = Query(index, 3);
	std::vector<uint8_t> queries(q0);
	queries.insert(queries.end(), q1.begin(), q1.end());
	SearchParams p;
	p.ef_search = 16;
	p.nprobe = 3;
	int64_t labels[2 * k];
	float distances[2 * k];
	(void) index.Search(queries.data(), 2, k, p, BitsetView(), labels, distances);

	/* a filter over the first labels, every third one filtered out */
	uint8_t bits[16];
	for (size_t i = 0; i < sizeof(bits); i++)
		bits[i] = 0x49;
	BitsetView filter(bits, sizeof(bits) * 8);
	(void) index.Search(q0.data(), 1, k, p, filter, labels, distances);
	SearchParams exact = p;
	exact.brute_force_ratio = 1.0;
	(void) index.Search(q1.data(), 1, k, exact, filter, labels, distances);

	std::vector<Neighbor> range;
	float radius = distances[k - 1];
	if (!(radius < 1e30f))
		radius = 1e30f;
	(void) index.RangeSearch(q0.data(), radius, p, BitsetView(), &range);

	auto it = index.CreateIterator(q1.data(), p, filter);
	if (it.ok()) {
		std::vector<Neighbor> out;
		for (int batch = 0; batch < 4; batch++) {
			size_t before = out.size();
			if (!it.value()->Next(8, &out).ok() || out.size() == before)
				break;
		}
	}

	if (index.count() > 0) {
		std::vector<uint8_t> row(q0.size());
		int64_t label = labels[0] >= 0 ? labels[0] : 0;
		(void) index.Reconstruct(&label, 1, row.data());
	}
	(void) index.MemoryUsage();
}

// SearchSparse runs every read-only call of a sparse index: exact and WAND
// searches (with a filter, dropped terms and re-scoring), an iterator and
// GetRow, with a query of indices spread over the index's dimensions.
void SearchSparse(const SparseIndex &index) {
	std::vector<int32_t> idx;
	std::vector<float> val;
	for (int64_t d = 0; d < index.dim() && idx.size() < 6; d += 1 + index.dim() / 6) {
		idx.push_back(static_cast<int32_t>(d));
		val.push_back(0.5f + static_cast<float>(idx.size()));
	}
	SparseRow q{idx.data(), val.data(), static_cast<uint32_t>(idx.size())};
	const size_t k = 5;
	int64_t labels[k];
	float distances[k];
	uint8_t bits[16];
	for (size_t i = 0; i < sizeof(bits); i++)
		bits[i] = 0x49;
	BitsetView filter(bits, sizeof(bits) * 8);
	SparseSearchParams p;
	for (SparseAlgorithm a : {SparseAlgorithm::kExact, SparseAlgorithm::kWand}) {
		p.algorithm = a;
		(void) index.Search(&q, 1, k, p, BitsetView(), labels, distances);
		(void) index.Search(&q, 1, k, p, filter, labels, distances);
	}
	p.drop_ratio = 0.5f;
	p.refine = 2;
	p.brute_force_ratio = 1.0;
	(void) index.Search(&q, 1, k, p, filter, labels, distances);
	auto it = index.CreateIterator(q, SparseSearchParams(), filter);
	if (it.ok()) {
		std::vector<Neighbor> out;
		(void) it.value()->Next(8, &out);
	}
	SparseRow row;
	if (index.GetRow(labels[0] >= 0 ? labels[0] : 0, &row).ok() && row.nnz > 0)
		(void) (row.indices[row.nnz - 1] + row.values[row.nnz - 1]);
	(void) index.MemoryUsage();
}

// LoadSparse reads bytes as a sparse index and searches whatever loads.
void LoadSparse(const uint8_t *data, size_t size) {
	MemoryReader reader(data, size);
	auto loaded = DeserializeSparseIndex(reader);
	if (loaded.ok())
		SearchSparse(*loaded.value());
}

// Reseal rewrites the trailer of bytes so that its size, checksum and magic
// match the bytes before it.
void Reseal(std::vector<uint8_t> *bytes) {
	size_t body = bytes->size() - sizeof(IndexTrailer);
	IndexTrailer t{};
	t.size = body;
	t.checksum = ChecksumOf(bytes->data(), body);
	t.magic = kIndexTrailerMagic;
	std::memcpy(bytes->data() + body, &t, sizeof(t));
}

}  // namespace

// LLVMFuzzerTestOneInput reads one input as a serialized index, as it is and resealed.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	/* as it is: the checksum path and the streaming loaders */
	(void) VerifyIndexBytes(data, size);
	LoadSparse(data, size);
	{
		MemoryReader reader(data, size);
		auto loaded = DeserializeIndex(reader);
		if (loaded.ok())
			SearchEverything(*loaded.value());
	}
	{
		AlignedCopy copy(data, size);
		auto view = OpenIndexView(copy.data(), copy.size(), true);
		if (view.ok())
			SearchEverything(*view.value());
	}

	/* resealed: any content passes the checksum */
	if (size < sizeof(IndexHeader) + sizeof(IndexTrailer))
		return 0;
	std::vector<uint8_t> sealed(data, data + size);
	Reseal(&sealed);
	LoadSparse(sealed.data(), sealed.size());
	{
		MemoryReader reader(sealed.data(), sealed.size());
		auto loaded = DeserializeIndex(reader);
		if (loaded.ok())
			SearchEverything(*loaded.value());
	}
	{
		AlignedCopy copy(sealed.data(), sealed.size());
		auto view = OpenIndexView(copy.data(), copy.size(), false);
		if (view.ok())
			SearchEverything(*view.value());
	}
	return 0;
}
