// test_gpu_kmeans.cpp checks GPU k-means against a CPU Lloyd reference that
// starts from the same rows (objective within 1%, centroids close), its
// empty-cluster handling and its errors; without a GPU the device cases skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "gpu/device_probe.hpp"
#include "gpu_test_util.hpp"
#include "gpu/gpu_kmeans.hpp"
#include "index_test_util.hpp"

namespace {

using namespace vecdb::knowhere;
using vecdb::gpu::GpuKMeansOptions;
using vecdb::gpu::GpuKMeansStats;

using vecdb::gpu::testutil::NoGpuReason;

// CpuLloyd runs niter L2 Lloyd iterations in double from the given initial
// rows and returns the last assignment's objective (the GPU's definition).
double CpuLloyd(const std::vector<float> &x, size_t n, int dim, int k, const std::vector<size_t> &init, int niter,
				std::vector<float> *centroids) {
	std::vector<double> c(static_cast<size_t>(k) * dim);
	for (int i = 0; i < k; i++)
		for (int j = 0; j < dim; j++)
			c[i * dim + j] = x[init[i] * dim + j];
	double obj = 0;
	for (int it = 0; it < niter; it++) {
		std::vector<double> sums(c.size(), 0.0);
		std::vector<size_t> counts(k, 0);
		obj = 0;
		for (size_t r = 0; r < n; r++) {
			double best = std::numeric_limits<double>::infinity();
			int arg = 0;
			for (int i = 0; i < k; i++) {
				double s = 0;
				for (int j = 0; j < dim; j++) {
					double t = x[r * dim + j] - c[i * dim + j];
					s += t * t;
				}
				if (s < best) {
					best = s;
					arg = i;
				}
			}
			obj += best;
			counts[arg]++;
			for (int j = 0; j < dim; j++)
				sums[arg * dim + j] += x[r * dim + j];
		}
		for (int i = 0; i < k; i++)
			if (counts[i] > 0)
				for (int j = 0; j < dim; j++)
					c[i * dim + j] = sums[i * dim + j] / counts[i];
	}
	centroids->assign(c.begin(), c.end());
	return obj;
}

TEST(GpuKMeans, WithoutDeviceSaysNotSupported) {
	if (NoGpuReason().empty())
		GTEST_SKIP() << "a GPU is present; this case covers machines without one";
	std::vector<float> x(64 * 4, 1.0f), c(4 * 4);
	GpuKMeansOptions o;
	Status s = vecdb::gpu::GpuKMeans(x.data(), 64, 4, 4, o, c.data(), nullptr);
	EXPECT_EQ(s.code(), StatusCode::kNotSupported);
	EXPECT_NE(s.message().find("no CUDA device"), std::string::npos) << s.message();
	std::printf("without a GPU: %s\n", s.message().c_str());
}

TEST(GpuKMeans, RejectsBadArguments) {
	std::vector<float> x(10 * 4, 1.0f), c(20 * 4);
	GpuKMeansOptions o;
	EXPECT_EQ(vecdb::gpu::GpuKMeans(x.data(), 10, 4, 20, o, c.data(), nullptr).code(), StatusCode::kInvalidArgument);
	EXPECT_EQ(vecdb::gpu::GpuKMeans(nullptr, 10, 4, 2, o, c.data(), nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(GpuKMeans, MatchesCpuLloydFromTheSameStart) {
	std::string why = NoGpuReason();
	if (!why.empty()) {
		std::printf("skipped: %s\n", why.c_str());
		GTEST_SKIP() << why;
	}
	const size_t n = 20000;
	const int dim = 24, k = 50;
	auto mix = testutil::GaussianMixture::Make(dim, 40, 3);
	std::vector<float> x = mix.Sample(n, 4);
	GpuKMeansOptions o;
	o.niter = 8;
	std::vector<float> gc(static_cast<size_t>(k) * dim), cc;
	GpuKMeansStats st;
	Status s = vecdb::gpu::GpuKMeans(x.data(), n, dim, k, o, gc.data(), &st);
	ASSERT_TRUE(s.ok()) << s.message();
	std::vector<size_t> init = vecdb::gpu::KMeansTrainingRows(n, k, o);
	double ref = CpuLloyd(x, n, dim, k, init, o.niter, &cc);
	/* float atomics may flip a borderline row; a split (which the reference
	   does not do) can only lower the GPU's objective */
	if (st.empty_splits == 0)
		EXPECT_NEAR(st.objective, ref, 0.01 * ref) << "gpu " << st.objective << " cpu " << ref;
	else
		EXPECT_LE(st.objective, 1.01 * ref) << "gpu " << st.objective << " cpu " << ref;
	std::printf("objective gpu %.6g cpu %.6g, %zu empty splits\n", st.objective, ref, st.empty_splits);
	if (st.empty_splits == 0) {
		double worst = 0;
		for (size_t i = 0; i < gc.size(); i++)
			worst = std::max(worst, std::fabs(static_cast<double>(gc[i]) - cc[i]));
		EXPECT_LT(worst, 5e-2) << "largest centroid coordinate difference";
	}
	/* the final centroids are better than the first ones: inertia fell */
	GpuKMeansOptions one = o;
	one.niter = 1;
	GpuKMeansStats st1;
	ASSERT_TRUE(vecdb::gpu::GpuKMeans(x.data(), n, dim, k, one, gc.data(), &st1).ok());
	EXPECT_LT(st.objective, st1.objective);
}

TEST(GpuKMeans, RefillsEmptyClustersAndSamples) {
	std::string why = NoGpuReason();
	if (!why.empty()) {
		std::printf("skipped: %s\n", why.c_str());
		GTEST_SKIP() << why;
	}
	/* 1000 rows on only 5 distinct points, 20 clusters: most clusters empty */
	const size_t n = 1000;
	const int dim = 4, k = 20;
	std::vector<float> x(n * dim);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
			x[i * dim + j] = static_cast<float>((i % 5) * 10 + j);
	GpuKMeansOptions o;
	o.niter = 5;
	std::vector<float> c(static_cast<size_t>(k) * dim);
	GpuKMeansStats st;
	ASSERT_TRUE(vecdb::gpu::GpuKMeans(x.data(), n, dim, k, o, c.data(), &st).ok());
	EXPECT_GT(st.empty_splits, 0u);
	for (float v : c)
		EXPECT_TRUE(std::isfinite(v));
	o.max_points_per_centroid = 10; /* 200 of the 1000 rows train */
	o.metric = Metric::kInnerProduct;
	o.spherical = true;
	ASSERT_TRUE(vecdb::gpu::GpuKMeans(x.data(), n, dim, k, o, c.data(), &st).ok());
	for (int i = 0; i < k; i++) {
		double s = 0;
		for (int j = 0; j < dim; j++)
			s += c[i * dim + j] * c[i * dim + j];
		EXPECT_NEAR(s, 1.0, 1e-4);
	}
}

}  // namespace
