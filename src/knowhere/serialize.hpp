// serialize.hpp holds the helpers every index kind uses to write and read its
// serialized form: the common header and bounds-checked plain values.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "knowhere/byte_stream.hpp"
#include "knowhere/index.hpp"

namespace vecdb::engine {

// kIndexMagic starts every serialized index ("VDBX"); kIndexFormatVersion
// changes when any kind's payload changes incompatibly (2: IVF payloads hold
// no second copy of the vectors of IVF_FLAT and BIN_IVF, and the raw rows of
// IVF_PQ / IVF_SQ8 in list order).
constexpr uint32_t kIndexMagic = 0x58424456;
constexpr uint32_t kIndexFormatVersion = 2;

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

// WriteHeader writes the common header of an index.
Status WriteHeader(ByteWriter &w, const Index &index) noexcept;

// ReadHeader reads and checks the common header (magic, version, known kind
// and metric, dim within limits, count not negative).
Status ReadHeader(ByteReader &r, IndexHeader *header) noexcept;

// WriteArray writes a length-prefixed array of trivially copyable values.
template <typename T>
Status WriteArray(ByteWriter &w, const T *data, uint64_t n) noexcept {
	VECDB_RETURN_IF_ERROR(WritePod(w, n));
	return n == 0 ? Status::Ok() : w.Write(data, n * sizeof(T));
}

// ReadArray reads a length-prefixed array into out, refusing lengths above
// max_n (a corrupt length must not become a huge allocation).
template <typename T>
Status ReadArray(ByteReader &r, std::vector<T> *out, uint64_t max_n) noexcept {
	uint64_t n = 0;
	VECDB_RETURN_IF_ERROR(ReadPod(r, &n));
	if (n > max_n)
		return Status::Corrupt("index array length out of range");
	try {
		out->resize(n);
	} catch (...) {
		return Status::OutOfMemory("out of memory while reading an index");
	}
	return n == 0 ? Status::Ok() : r.Read(out->data(), n * sizeof(T));
}

}  // namespace vecdb::engine
