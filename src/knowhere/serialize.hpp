// serialize.hpp defines the one framing every index kind's serialized form
// uses: the common header, 64-byte aligned payload sections, and a trailer
// with the checksum; writers, streaming readers and in-place views share it.
//
// Layout of a serialized index (format 3):
//   offset 0   IndexHeader (32 bytes)
//   then       the kind's sections, each starting at the next offset (from the
//              stream start) that is a multiple of kIndexAlign, zero padded
//   then       IndexTrailer (right after the last section, not aligned):
//              size of everything before it, checksum of those bytes, magic
// Sections hold fixed structs and arrays whose lengths follow from earlier
// sections, so a reader and a view locate them with the same rule
// (IndexStreamWriter::Section, IndexStreamReader::Align, ViewCursor::Take).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "knowhere/byte_stream.hpp"
#include "knowhere/index.hpp"

namespace vecdb::knowhere {

// kIndexMagic starts every serialized index ("VDBX"); kIndexFormatVersion
// changes when the framing or any kind's payload changes incompatibly (3: one
// framing for every kind, sections aligned for in-place views; format 2 is
// refused, the index must be rebuilt).
constexpr uint32_t kIndexMagic = 0x58424456;
constexpr uint32_t kIndexFormatVersion = 3;
// kIndexTrailerMagic ends every serialized index ("XBDV").
constexpr uint32_t kIndexTrailerMagic = 0x56444258;
// kIndexAlign is the alignment of every section, from the stream start.
constexpr uint64_t kIndexAlign = 64;

// IndexHeader is the common prefix of a serialized index.
struct IndexHeader {
	uint32_t magic;
	uint32_t version;
	uint32_t kind;
	uint32_t metric;
	int32_t dim;
	int32_t reserved;
	int64_t count;
};

// IndexTrailer closes a serialized index.
struct IndexTrailer {
	uint64_t size;      /* bytes before the trailer: header and sections */
	uint64_t checksum;  /* Checksum of those bytes */
	uint32_t magic;     /* kIndexTrailerMagic */
	uint32_t reserved;
};
static_assert(sizeof(IndexHeader) == 32 && sizeof(IndexTrailer) == 24, "stored structs");

// AlignUp rounds an offset up to the next multiple of kIndexAlign.
inline uint64_t AlignUp(uint64_t offset) noexcept {
	return (offset + kIndexAlign - 1) & ~(kIndexAlign - 1);
}

// Checksum is the one 64-bit hash of serialized bytes, used only to detect
// damage (not an adversary): four lanes of multiply-rotate over 32-byte
// blocks, so it runs at memory speed; the value does not depend on how the
// bytes were split into Update calls.
class Checksum {
public:
	// Update hashes n more bytes.
	void Update(const void *data, size_t n) noexcept;
	// Value returns the hash of everything so far.
	uint64_t Value() const noexcept;

private:
	// Block folds one 32-byte block into the lanes.
	void Block(const uint8_t *p) noexcept;

	uint64_t lane_[4] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL,
						 0x27d4eb2f165667c5ULL};
	uint8_t pending_[32] = {};
	size_t npending_ = 0;
	uint64_t length_ = 0;
};

// ChecksumOf returns the Checksum of one buffer.
uint64_t ChecksumOf(const void *data, size_t n) noexcept;

// WritePod writes a trivially copyable value.
template <typename T>
Status WritePod(ByteWriter &w, const T &v) noexcept {
	static_assert(std::is_trivially_copyable_v<T>);
	return w.Write(&v, sizeof(T));
}

// ReadPod reads a trivially copyable value.
template <typename T>
Status ReadPod(ByteReader &r, T *v) noexcept {
	static_assert(std::is_trivially_copyable_v<T>);
	return r.Read(v, sizeof(T));
}

// WriteHeader writes the common header of an index (dense or sparse).
Status WriteHeader(ByteWriter &w, IndexKind kind, Metric metric, int dim, int64_t count) noexcept;
inline Status WriteHeader(ByteWriter &w, const Index &index) noexcept {
	return WriteHeader(w, index.kind(), index.metric(), index.dim(), index.count());
}

// CheckHeader checks a header read from bytes (magic, version, known kind
// and metric, dim within limits, count not negative).
Status CheckHeader(const IndexHeader &header) noexcept;

// ReadHeader reads and checks the common header.
Status ReadHeader(ByteReader &r, IndexHeader *header) noexcept;

// IndexStreamWriter is the one writer of the framing: it passes bytes on to
// the caller's writer (in any chunks), counts and hashes them, pads sections
// to kIndexAlign and closes the stream with the trailer.
class IndexStreamWriter final : public ByteWriter {
public:
	explicit IndexStreamWriter(ByteWriter &inner) noexcept : inner_(inner) {}
	// Write forwards, counts and hashes n bytes.
	Status Write(const void *data, size_t n) noexcept override;
	// Align writes zero bytes up to the next multiple of kIndexAlign.
	Status Align() noexcept;
	// Section aligns, then writes n bytes (n may be 0).
	Status Section(const void *data, size_t n) noexcept {
		VECDB_RETURN_IF_ERROR(Align());
		return Write(data, n);
	}
	// Finish writes the trailer.
	Status Finish() noexcept;
	uint64_t offset() const noexcept { return offset_; }

private:
	ByteWriter &inner_;
	Checksum sum_;
	uint64_t offset_ = 0;
};

// WriteIndexStream writes index's header, then lets sections(writer) write
// the kind's sections, then the trailer: every kind's Serialize is this.
// IndexT is Index or SparseIndex (anything with kind, metric, dim and count).
template <typename IndexT, typename Fn>
Status WriteIndexStream(ByteWriter &out, const IndexT &index, Fn &&sections) noexcept {
	IndexStreamWriter w(out);
	VECDB_RETURN_IF_ERROR(WriteHeader(w, index.kind(), index.metric(), index.dim(), index.count()));
	VECDB_RETURN_IF_ERROR(sections(w));
	return w.Finish();
}

// IndexStreamReader is the streaming reader of the framing (DeserializeIndex):
// it reads through the caller's reader, counts and hashes, checks padding and,
// at Finish, the trailer. Loaders check every value they use; the checksum
// is compared only when the whole stream has been read.
class IndexStreamReader final : public ByteReader {
public:
	explicit IndexStreamReader(ByteReader &inner) noexcept : inner_(inner) {}
	// Read reads, counts and hashes n bytes.
	Status Read(void *data, size_t n) noexcept override;
	// Align reads the zero padding up to the next multiple of kIndexAlign.
	Status Align() noexcept;
	// Section aligns, then reads n bytes into out.
	Status Section(void *out, size_t n) noexcept {
		VECDB_RETURN_IF_ERROR(Align());
		return Read(out, n);
	}
	// SectionArray aligns, then reads n values into out, growing it as bytes
	// arrive (1 MB at a time), so a corrupt count in a short stream ends as
	// Corrupt rather than as one huge allocation.
	template <typename T>
	Status SectionArray(std::vector<T> *out, uint64_t n) noexcept {
		static_assert(std::is_trivially_copyable_v<T>);
		VECDB_RETURN_IF_ERROR(Align());
		constexpr uint64_t kChunk = (uint64_t{1} << 20) / sizeof(T) + 1;
		try {
			out->clear();
			while (out->size() < n) {
				size_t at = out->size();
				size_t take = static_cast<size_t>(std::min<uint64_t>(kChunk, n - at));
				out->resize(at + take);
				VECDB_RETURN_IF_ERROR(Read(out->data() + at, take * sizeof(T)));
			}
		} catch (...) {
			return Status::OutOfMemory("out of memory while reading an index");
		}
		return Status::Ok();
	}
	// Finish reads the trailer and checks size, magic and checksum (once;
	// later calls return the first answer, so a loader may finish early).
	Status Finish() noexcept;
	uint64_t offset() const noexcept { return offset_; }

private:
	ByteReader &inner_;
	Checksum sum_;
	uint64_t offset_ = 0;
	bool finished_ = false;
	Status finish_status_;
};

// IndexBytes is a serialized index in memory whose framing was checked
// (ParseIndexBytes): the header, and the end of the sections (the trailer's size).
struct IndexBytes {
	const uint8_t *data = nullptr;
	size_t size = 0;
	uint64_t end = 0;
	IndexHeader header{};
};

// ParseIndexBytes checks the framing of size bytes at data in O(1): room for
// header and trailer, the trailer's magic and size, and the header
// (CheckHeader). With verify it also compares the checksum (one pass).
Status ParseIndexBytes(const void *data, size_t size, bool verify, IndexBytes *out) noexcept;

// ViewCursor hands out a view's sections in order, with the writer's
// alignment rule, never past the end of the sections.
class ViewCursor {
public:
	explicit ViewCursor(const IndexBytes &bytes) noexcept
		: data_(bytes.data), end_(bytes.end), pos_(sizeof(IndexHeader)) {}
	// Take points *out at the next section of count values of T, or returns
	// Corrupt when it would not fit.
	template <typename T>
	Status Take(uint64_t count, const T **out) noexcept {
		static_assert(std::is_trivially_copyable_v<T>);
		uint64_t at = AlignUp(pos_);
		if (at > end_ || count > (end_ - at) / sizeof(T))
			return Status::Corrupt("index section extends past the end of the index");
		*out = reinterpret_cast<const T *>(data_ + at);
		pos_ = at + count * sizeof(T);
		return Status::Ok();
	}
	// TakeCopy copies the next section holding one T into *out.
	template <typename T>
	Status TakeCopy(T *out) noexcept {
		const T *p = nullptr;
		VECDB_RETURN_IF_ERROR(Take(1, &p));
		*out = *p;
		return Status::Ok();
	}
	// Done checks that the sections end exactly where the trailer begins.
	Status Done() const noexcept {
		return pos_ == end_ ? Status::Ok() : Status::Corrupt("index has bytes after its last section");
	}

private:
	const uint8_t *data_;
	uint64_t end_;
	uint64_t pos_;
};

}  // namespace vecdb::knowhere
