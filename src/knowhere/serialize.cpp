// serialize.cpp implements the framing of serialized indexes: the checksum,
// the aligning writer, the streaming reader and the in-memory frame check.
#include <cstring>
#include <string>

#include "knowhere/serialize.hpp"

namespace vecdb::knowhere {

namespace {

constexpr uint64_t kPrime1 = 0x87c37b91114253d5ULL;
constexpr uint64_t kPrime2 = 0x4cf5ad432745937fULL;

// Rotl rotates a word left by r bits.
inline uint64_t Rotl(uint64_t x, int r) noexcept {
	return (x << r) | (x >> (64 - r));
}

// Fmix is MurmurHash3's 64-bit finalizer.
inline uint64_t Fmix(uint64_t h) noexcept {
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

// kZeros is the padding source.
const uint8_t kZeros[kIndexAlign] = {};

}  // namespace

// Block mixes four words, one per lane; each step is a bijection of the
// lane's state for a given word, so a changed word always changes its lane.
void Checksum::Block(const uint8_t *p) noexcept {
	for (int i = 0; i < 4; i++) {
		uint64_t w;
		std::memcpy(&w, p + 8 * i, 8);
		lane_[i] ^= w * kPrime1;
		lane_[i] = Rotl(lane_[i], 31) * kPrime2 + 0x52dce729;
	}
}

// Update fills the pending block first, then hashes whole blocks in place.
void Checksum::Update(const void *data, size_t n) noexcept {
	const uint8_t *p = static_cast<const uint8_t *>(data);
	length_ += n;
	if (npending_ > 0) {
		size_t take = std::min(n, sizeof(pending_) - npending_);
		std::memcpy(pending_ + npending_, p, take);
		npending_ += take;
		p += take;
		n -= take;
		if (npending_ < sizeof(pending_))
			return;
		Block(pending_);
		npending_ = 0;
	}
	for (; n >= sizeof(pending_); n -= sizeof(pending_), p += sizeof(pending_))
		Block(p);
	std::memcpy(pending_, p, n);
	npending_ = n;
}

// Value folds the zero-padded partial block, the length and the lanes.
uint64_t Checksum::Value() const noexcept {
	Checksum c = *this;
	if (c.npending_ > 0) {
		uint8_t last[sizeof(pending_)] = {};
		std::memcpy(last, c.pending_, c.npending_);
		c.Block(last);
	}
	uint64_t h = c.length_ * kPrime1;
	for (int i = 0; i < 4; i++)
		h = Rotl(h ^ Fmix(c.lane_[i] + static_cast<uint64_t>(i)), 27) * kPrime2 + 0x52dce729;
	return Fmix(h);
}

// ChecksumOf hashes one buffer.
uint64_t ChecksumOf(const void *data, size_t n) noexcept {
	Checksum c;
	c.Update(data, n);
	return c.Value();
}

// Write forwards n bytes and hashes them.
Status IndexStreamWriter::Write(const void *data, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	sum_.Update(data, n);
	offset_ += n;
	return inner_.Write(data, n);
}

// Align pads with zero bytes.
Status IndexStreamWriter::Align() noexcept {
	uint64_t pad = AlignUp(offset_) - offset_;
	return pad == 0 ? Status::Ok() : Write(kZeros, static_cast<size_t>(pad));
}

// Finish writes the trailer, which is not hashed itself.
Status IndexStreamWriter::Finish() noexcept {
	IndexTrailer t{offset_, sum_.Value(), kIndexTrailerMagic, 0};
	return inner_.Write(&t, sizeof(t));
}

// Read reads and hashes n bytes.
Status IndexStreamReader::Read(void *data, size_t n) noexcept {
	if (n == 0)
		return Status::Ok();
	VECDB_RETURN_IF_ERROR(inner_.Read(data, n));
	sum_.Update(data, n);
	offset_ += n;
	return Status::Ok();
}

// Align reads the padding and refuses non-zero bytes in it.
Status IndexStreamReader::Align() noexcept {
	uint64_t pad = AlignUp(offset_) - offset_;
	if (pad == 0)
		return Status::Ok();
	uint8_t buf[kIndexAlign];
	VECDB_RETURN_IF_ERROR(Read(buf, static_cast<size_t>(pad)));
	for (uint64_t i = 0; i < pad; i++)
		if (buf[i] != 0)
			return Status::Corrupt("index padding is not zero");
	return Status::Ok();
}

// Finish reads the trailer and compares it with what was read.
Status IndexStreamReader::Finish() noexcept {
	if (finished_)
		return finish_status_;
	finished_ = true;
	IndexTrailer t;
	finish_status_ = inner_.Read(&t, sizeof(t));
	if (finish_status_.ok() && (t.magic != kIndexTrailerMagic || t.reserved != 0 || t.size != offset_))
		finish_status_ = Status::Corrupt("index trailer does not match its contents");
	else if (finish_status_.ok() && t.checksum != sum_.Value())
		finish_status_ = Status::Corrupt("index checksum mismatch");
	return finish_status_;
}

// ParseIndexBytes reads the trailer from the end and the header from the start.
Status ParseIndexBytes(const void *data, size_t size, bool verify, IndexBytes *out) noexcept {
	if (data == nullptr)
		return Status::InvalidArgument("index bytes must not be null");
	if (size < sizeof(IndexHeader) + sizeof(IndexTrailer))
		return Status::Corrupt("index data ends unexpectedly");
	const uint8_t *p = static_cast<const uint8_t *>(data);
	IndexHeader h;
	std::memcpy(&h, p, sizeof(h));
	VECDB_RETURN_IF_ERROR(CheckHeader(h));
	IndexTrailer t;
	std::memcpy(&t, p + size - sizeof(t), sizeof(t));
	if (t.magic != kIndexTrailerMagic || t.reserved != 0 || t.size != size - sizeof(t))
		return Status::Corrupt("index trailer does not match its length (truncated or damaged)");
	if (verify && ChecksumOf(p, static_cast<size_t>(t.size)) != t.checksum)
		return Status::Corrupt("index checksum mismatch");
	out->data = p;
	out->size = size;
	out->end = t.size;
	out->header = h;
	return Status::Ok();
}

}  // namespace vecdb::knowhere
