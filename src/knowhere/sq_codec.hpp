// sq_codec.hpp declares scalar quantization of float rows to 4 or 8 bits per
// dimension, the compact codes of the memory-light HNSW kind (HNSW_SQ,
// hnsw_sq.cpp), and the distances of a float query to a code.
//
// Rows are coded as residuals from the nearest of K cluster centroids (K
// grows with the rows, up to kSqMaxClusters; K = 1 is a plain per-dimension
// quantizer). Each cluster j has, per dimension d, a range of L = 2^bits - 1
// steps: a row in cluster j codes each value as the nearest level of
// center[j][d] + code * step[j][d] (center = centroid + the range's low
// end; values outside the range as its nearest end). Training sets each
// 4-bit range to the cluster's residuals' mean +- 2.5 standard deviations,
// inside the values seen: residuals from a centroid span far less than the
// rows when the data has clusters, and clusters differ in shape, so
// per-cluster ranges code much closer than global ones (docs/engine.md,
// HNSW_SQ). 8-bit ranges are the residuals' minimum and maximum over the
// whole training sample.
//
// A code is an 8-byte head (the cluster, uint32, then 4 zero bytes) and the
// levels: one byte per dimension at 8 bits (zero-padded to a multiple of 8);
// at 4 bits 16 dimensions per 8 bytes: byte j of a block holds dimension
// 16b + j in its low nibble and 16b + 8 + j in its high nibble, so one
// 8-byte load feeds two 8-lane halves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "knowhere/index.hpp"

namespace vecdb::knowhere {

// SqMeta is the stored head of a codec: bits per dimension, dim, the bytes
// of one code and the cluster count; the steps and the centers (clusters x
// dim floats each) follow.
struct SqMeta {
	uint32_t bits;
	uint32_t dim;
	uint64_t code_bytes;
	uint32_t clusters;
	uint32_t reserved; /* 0 */
};

// kSqCodeHead is the bytes before a code's levels; kSqMaxClusters bounds K.
constexpr size_t kSqCodeHead = 8;
constexpr uint32_t kSqMaxClusters = 256;

// SqCodeBytes returns the bytes of one code of dim dimensions at bits (4 or
// 8), a multiple of 8 so graph elements keep their links aligned.
inline size_t SqCodeBytes(int bits, int dim) noexcept {
	size_t d = static_cast<size_t>(dim);
	return kSqCodeHead + (bits == 4 ? (d + 15) / 16 * 8 : (d + 7) / 8 * 8);
}

// SqCode4 returns dimension d's level in the 4-bit levels at code (past the head).
inline unsigned SqCode4(const uint8_t *code, size_t d) noexcept {
	uint8_t b = code[d / 16 * 8 + d % 8];
	return d % 16 < 8 ? (b & 15u) : (b >> 4);
}

// SqTrainOptions are Train's choices: clusters (0: by the row count,
// SqClustersFor) and whether 4-bit ranges cut tails (false: each cluster's
// minimum and maximum residuals in the sample).
struct SqTrainOptions {
	uint32_t clusters = 0;
	bool cut_tails = true;
	int threads = 1;  /* nearest-cluster look-ups are split over this many threads */
};

// SqClustersFor returns the clusters Train uses for n rows: one per 100
// rows, at least 1 and at most kSqMaxClusters (k-means' training work grows
// with the square of the clusters).
inline uint32_t SqClustersFor(size_t n) noexcept {
	size_t k = n / 100;
	return static_cast<uint32_t>(k < 1 ? 1 : k > kSqMaxClusters ? kSqMaxClusters : k);
}

// kSqTrainSample bounds the rows Train's range statistics use; a cluster
// with fewer than kSqMinClusterSample of them takes the whole sample's
// statistics; k-means runs on at most kSqPointsPerCluster rows per cluster,
// kSqKmeansIterations rounds.
constexpr size_t kSqTrainSample = 65536;
constexpr size_t kSqMinClusterSample = 8;
constexpr size_t kSqPointsPerCluster = 64;
constexpr int kSqKmeansIterations = 8;

// SqCodec holds the centers and steps of one index's codes.
class SqCodec {
public:
	SqCodec() = default;
	// SqCodec sets up an untrained codec for Train.
	SqCodec(int bits, int dim);

	// Train sets the centers and ranges from n prepared rows, row_at(i)
	// returning row i: k-means on an evenly spread sample, then the range
	// statistics of the residuals of at most kSqTrainSample rows.
	template <typename RowAt>
	void Train(size_t n, RowAt &&row_at, const SqTrainOptions &options = SqTrainOptions()) {
		uint32_t k = options.clusters > 0 ? options.clusters : SqClustersFor(n);
		if (n > 0 && k > n)
			k = static_cast<uint32_t>(n);
		std::vector<const float *> sample;
		size_t want = static_cast<size_t>(k) * kSqPointsPerCluster;
		for (size_t i = 0, stride = n > want ? n / want : 1; i < n && sample.size() < want; i += stride)
			sample.push_back(row_at(i));
		TrainCentroids(sample, k < 1 ? 1 : k, options.threads);
		sample.clear();
		for (size_t i = 0, stride = n > kSqTrainSample ? n / kSqTrainSample : 1; i < n; i += stride)
			sample.push_back(row_at(i));
		TrainRanges(sample, options.cut_tails, options.threads);
	}

	// Encode writes row's code (code_bytes() bytes); the codec must be trained.
	void Encode(const float *row, uint8_t *code) const noexcept;
	// Decode writes the code's approximate row (dim floats).
	void Decode(const uint8_t *code, float *row) const noexcept;
	// Cluster returns the nearest centroid of row.
	uint32_t Cluster(const float *row) const noexcept;

	// Load takes a stored codec's steps and centers (clusters x dim each);
	// false when they are not finite, a step is negative or the sizes
	// disagree. With borrow it reads them in place (they must outlive the
	// codec and its copies: a view over stored bytes), else it copies them.
	bool Load(const SqMeta &meta, const float *step, const float *centers, bool borrow = false);
	// OwnedBytes returns the bytes of the steps and centers the codec holds
	// itself (0 when it borrows them).
	size_t OwnedBytes() const noexcept { return (step_.capacity() + centers_.capacity()) * sizeof(float); }
	// Meta returns the stored head of this codec.
	SqMeta Meta() const noexcept;

	int bits() const noexcept { return bits_; }
	int dim() const noexcept { return dim_; }
	uint32_t clusters() const noexcept { return clusters_; }
	size_t code_bytes() const noexcept { return SqCodeBytes(bits_, dim_); }
	// step and center return cluster j's steps and center (dim floats each);
	// a j past the last cluster reads cluster 0.
	const float *step(uint32_t j) const noexcept {
		return (borrowed_step_ != nullptr ? borrowed_step_ : step_.data()) +
			static_cast<size_t>(j < clusters_ ? j : 0) * static_cast<size_t>(dim_);
	}
	const float *center(uint32_t j) const noexcept {
		return (borrowed_centers_ != nullptr ? borrowed_centers_ : centers_.data()) +
			static_cast<size_t>(j < clusters_ ? j : 0) * static_cast<size_t>(dim_);
	}
	// low / high return dimension d's range for cluster j (for tests).
	float low(uint32_t j, int d) const noexcept { return center(j)[d]; }
	float high(uint32_t j, int d) const noexcept;

private:
	void TrainCentroids(const std::vector<const float *> &sample, uint32_t k, int threads);
	void TrainRanges(const std::vector<const float *> &sample, bool cut_tails, int threads);
	// AssignClusters writes Cluster(rows[i]) to (*out)[i], split over threads.
	void AssignClusters(const std::vector<const float *> &rows, int threads, std::vector<uint32_t> *out) const;

	int bits_ = 8;
	int dim_ = 0;
	uint32_t clusters_ = 0;
	std::vector<float> step_;      /* clusters x dim */
	std::vector<float> centers_;   /* clusters x dim: centroid + the range's low end */
	const float *borrowed_step_ = nullptr;    /* Load with borrow: in the stored bytes */
	const float *borrowed_centers_ = nullptr;
	std::vector<float> centroids_; /* clusters x dim, while encoding (not stored) */
};

// SqL2Term and SqIpTerm are one dimension of the query-to-code scores:
// query value q against the decoded value center + level * step.
inline float SqL2Term(float q, float level, float step, float center) noexcept {
	float diff = q - (center + level * step);
	return diff * diff;
}
inline float SqIpTerm(float q, float level, float step, float center) noexcept {
	return q * (center + level * step);
}

// SqDistFunc is a query-to-code score: a prepared query, a code and the
// codec (hnswlib's distance signature, so a graph search can use it).
using SqDistFunc = float (*)(const void *query, const void *code, const void *codec);

// SqDistanceFor returns the score of a metric for codes of bits bits, at the
// CPU's widest kernel (nullptr for a metric other than L2, inner product and
// cosine): the squared distance to the decoded row for L2, minus the inner
// product with it for inner product and cosine (rows and queries prepared,
// i.e. normalized under cosine).
SqDistFunc SqDistanceFor(Metric metric, int bits) noexcept;

// The SIMD kernels: sq_codec_avx2.cpp (AVX2 + FMA)
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
