// sq_codec.hpp declares scalar quantization of float rows to 4 or 8 bits per
// dimension, the compact codes of the memory-light HNSW kind (HNSW_SQ,
// hnsw_sq.cpp), and the distances of a float query to a code.
//
// Each dimension d has a range [lo[d], lo[d] + step[d] * L] (L = 2^bits - 1);
// a value is coded as the nearest of the L + 1 levels (values outside the
// range as its nearest end) and decodes to lo[d] + code * step[d]. Train
// picks each range to minimize the squared coding error over the rows: the
// minimum and maximum, or a range with the tails cut off, which at 4 bits
// is usually much finer (docs/engine.md, HNSW_SQ). 8-bit codes are
// one byte per dimension (zero-padded to a multiple of 8). 4-bit codes pack 16 dimensions in 8 bytes: byte j
// of a block holds dimension 16b + j in its low nibble and 16b + 8 + j in its
// high nibble, so one 8-byte load feeds two 8-lane halves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "knowhere/index.hpp"

namespace vecdb::knowhere {

// SqMeta is the stored head of a codec: bits per dimension, dim and the
// bytes of one code; lo and step follow as dim floats each.
struct SqMeta {
	uint32_t bits;
	uint32_t dim;
	uint64_t code_bytes;
};

// SqCodeBytes returns the bytes of one code of dim dimensions at bits (4 or
// 8), a multiple of 8 so graph elements keep their links aligned.
inline size_t SqCodeBytes(int bits, int dim) noexcept {
	size_t d = static_cast<size_t>(dim);
	return bits == 4 ? (d + 15) / 16 * 8 : (d + 7) / 8 * 8;
}

// SqCode4 returns dimension d's code in a 4-bit code (the layout above).
inline unsigned SqCode4(const uint8_t *code, size_t d) noexcept {
	uint8_t b = code[d / 16 * 8 + d % 8];
	return d % 16 < 8 ? (b & 15u) : (b >> 4);
}

// kSqTrainSample bounds the rows Train's histograms count; kSqBins is their
// bins per dimension.
constexpr size_t kSqTrainSample = 65536;
constexpr size_t kSqBins = 2048;

// SqCodec holds the per-dimension ranges of one index's codes.
class SqCodec {
public:
	SqCodec() = default;
	// SqCodec sets up an untrained codec; Observe every row, then Finish.
	SqCodec(int bits, int dim);

	// Train sets the ranges from n prepared rows, row_at(i) returning row i:
	// a first pass over every row finds each dimension's minimum and maximum,
	// a second over at most kSqTrainSample rows, evenly spread, counts them in
	// per-dimension histograms, from which FinishTrained picks the ranges.
	template <typename RowAt>
	void Train(size_t n, RowAt &&row_at) {
		for (size_t i = 0; i < n; i++)
			Observe(row_at(i));
		StartHistograms();
		size_t stride = n > kSqTrainSample ? n / kSqTrainSample : 1;
		for (size_t i = 0; i < n; i += stride)
			Count(row_at(i));
		FinishTrained();
	}

	// Observe widens the ranges to hold one prepared row.
	void Observe(const float *row) noexcept;
	// Finish turns the observed minimum and maximum into lo and step.
	void Finish() noexcept;
	// StartHistograms, Count and FinishTrained are Train's second pass.
	void StartHistograms();
	void Count(const float *row) noexcept;
	void FinishTrained() noexcept;
	// Encode writes row's code (code_bytes() bytes).
	void Encode(const float *row, uint8_t *code) const noexcept;
	// Decode writes the code's approximate row (dim floats).
	void Decode(const uint8_t *code, float *row) const noexcept;
	// TransformQuery writes the form of a prepared query that SqDistanceFor's
	// kernels take (dim floats): q - lo for L2, q * step for inner product
	// and cosine, so a kernel does one multiply-add per dimension less.
	void TransformQuery(Metric metric, const float *q, float *out) const noexcept;

	// Load takes a stored codec's ranges; false when they are not finite or
	// a step is negative.
	bool Load(const SqMeta &meta, const float *lo, const float *step);

	int bits() const noexcept { return bits_; }
	int dim() const noexcept { return dim_; }
	size_t code_bytes() const noexcept { return SqCodeBytes(bits_, dim_); }
	const float *lo() const noexcept { return lo_.data(); }
	const float *step() const noexcept { return step_.data(); }

private:
	int bits_ = 8;
	int dim_ = 0;
	std::vector<float> lo_;
	std::vector<float> step_;
	std::vector<float> hi_;           /* while training */
	std::vector<uint32_t> histogram_; /* while training: kSqBins per dimension */
};

// SqDistFunc is a query-to-code score: a transformed query
// (SqCodec::TransformQuery), a code and the codec (hnswlib's distance
// signature, so a graph search can use it).
using SqDistFunc = float (*)(const void *query, const void *code, const void *codec);

// SqDistanceFor returns the score of a metric for codes of bits bits, at the
// CPU's widest kernel (nullptr for a metric other than L2, inner product and
// cosine). It orders codes as the metric orders their decoded rows: for L2
// it is the squared distance to the decoded row; for inner product and
// cosine it is minus the inner product with the decoded row's part
// code * step, which differs from the metric's score by a constant per
// query (re-ranking computes exact scores anyway).
SqDistFunc SqDistanceFor(Metric metric, int bits) noexcept;

// The SIMD kernels over transformed queries: sq_codec_avx2.cpp (AVX2 + FMA)
// and sq_codec_avx512.cpp (AVX-512F/BW), each compiled with its flags only.
namespace sq_avx2 {
float L2x8(const void *query, const void *code, const void *codec) noexcept;
float Ipx8(const void *query, const void *code, const void *codec) noexcept;
float L2x4(const void *query, const void *code, const void *codec) noexcept;
float Ipx4(const void *query, const void *code, const void *codec) noexcept;
}  // namespace sq_avx2
namespace sq_avx512 {
float L2x8(const void *query, const void *code, const void *codec) noexcept;
float Ipx8(const void *query, const void *code, const void *codec) noexcept;
float L2x4(const void *query, const void *code, const void *codec) noexcept;
float Ipx4(const void *query, const void *code, const void *codec) noexcept;
}  // namespace sq_avx512

}  // namespace vecdb::knowhere
