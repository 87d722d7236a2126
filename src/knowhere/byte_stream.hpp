// byte_stream.hpp defines the chunked byte-stream interfaces that index
// serialization writes to and reads from, so the PostgreSQL side can stream
// 8 KB pages without first assembling one large buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// ByteWriter receives serialized bytes in order, in chunks of any size.
class ByteWriter {
public:
	virtual ~ByteWriter() = default;
	// Write appends n bytes; a non-ok status stops serialization.
	virtual Status Write(const void *data, size_t n) noexcept = 0;
};

// ByteReader hands serialized bytes back in order.
class ByteReader {
public:
	virtual ~ByteReader() = default;
	// Read fills exactly n bytes, or returns Corrupt when the stream ends first.
	virtual Status Read(void *data, size_t n) noexcept = 0;
};

// StringWriter collects bytes in a std::string (tests, small indexes).
class StringWriter final : public ByteWriter {
public:
	Status Write(const void *data, size_t n) noexcept override {
		try {
			buf_.append(static_cast<const char *>(data), n);
		} catch (...) {
			return Status::OutOfMemory("out of memory while serializing an index");
		}
		return Status::Ok();
	}
	const std::string &bytes() const noexcept { return buf_; }

private:
	std::string buf_;
};

// MemoryReader reads from a caller-owned buffer.
class MemoryReader final : public ByteReader {
public:
	MemoryReader(const void *data, size_t n) noexcept : data_(static_cast<const uint8_t *>(data)), n_(n) {}
	Status Read(void *out, size_t n) noexcept override {
		if (n > n_ - pos_)
			return Status::Corrupt("index data ends unexpectedly");
		for (size_t i = 0; i < n; i++)
			static_cast<uint8_t *>(out)[i] = data_[pos_ + i];
		pos_ += n;
		return Status::Ok();
	}
	size_t remaining() const noexcept { return n_ - pos_; }

private:
	const uint8_t *data_;
	size_t n_;
	size_t pos_ = 0;
};

}  // namespace vecdb::knowhere
