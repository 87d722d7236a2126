// bitset_view.hpp defines BitsetView, a non-owning view of a filter bitmap in
// which a set bit means "filtered out" (Knowhere's convention): deletes and
// scalar filters reach every search path through this one type.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecdb::knowhere {

// BitsetView covers labels 0 .. size()-1; bit i lives in byte i / 8 at
// position i % 8 (least significant first). Labels at or past size() are not
// filtered. An empty view filters nothing.
class BitsetView {
public:
	BitsetView() noexcept = default;
	BitsetView(const uint8_t *data, size_t num_bits) noexcept : data_(data), num_bits_(num_bits) {}

	bool empty() const noexcept { return data_ == nullptr || num_bits_ == 0; }
	size_t size() const noexcept { return num_bits_; }
	const uint8_t *data() const noexcept { return data_; }

	// test reports whether label is filtered out.
	bool test(int64_t label) const noexcept {
		if (data_ == nullptr || label < 0 || static_cast<size_t>(label) >= num_bits_)
			return false;
		return (data_[label >> 3] >> (label & 7)) & 1;
	}

	// count returns the number of filtered-out labels.
	size_t count() const noexcept {
		size_t n = 0, full = num_bits_ / 8;
		if (data_ == nullptr)
			return 0;
		for (size_t i = 0; i < full; i++)
			n += static_cast<size_t>(__builtin_popcount(data_[i]));
		for (size_t i = full * 8; i < num_bits_; i++)
			n += (data_[i >> 3] >> (i & 7)) & 1;
		return n;
	}

private:
	const uint8_t *data_ = nullptr;
	size_t num_bits_ = 0;
};

}  // namespace vecdb::knowhere
