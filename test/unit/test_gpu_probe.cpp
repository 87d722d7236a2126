// test_gpu_probe.cpp checks CUDA device discovery and the L2 batch kernel against
// the CPU kernel; without a GPU the device cases skip with the probe's reason.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "gpu/device_probe.hpp"
#include "gpu/l2_batch.hpp"
#include "knowhere/distance.hpp"

namespace {

// ProbeOrSkip returns the device count, skipping the calling test when there is none.
int ProbeOrSkip(vecdb::gpu::DeviceInfo *devs, int max, vecdb::gpu::ProbeResult *r) {
	*r = vecdb::gpu::ProbeDevices(devs, max);
	return r->count;
}

TEST(GpuProbe, ReportsDevicesOrAReason) {
	vecdb::gpu::DeviceInfo devs[8];
	vecdb::gpu::ProbeResult r = vecdb::gpu::ProbeDevices(devs, 8);
	ASSERT_GE(r.count, 0);
	ASSERT_NE(r.reason[0], '\0');
	if (r.count == 0) {
		EXPECT_NE(std::string(r.reason).find("no GPU"), std::string::npos) << r.reason;
		std::printf("probe: %s\n", r.reason);
		return;
	}
	for (int i = 0; i < r.count && i < 8; i++) {
		EXPECT_GT(devs[i].total_memory, 0u);
		EXPECT_GE(devs[i].major, 3);
		std::printf("device %d: %s sm_%d%d %zu MiB %d SMs\n", i, devs[i].name, devs[i].major,
					devs[i].minor, devs[i].total_memory >> 20, devs[i].multiprocessors);
	}
}

TEST(GpuL2Batch, MatchesCpuKernel) {
	vecdb::gpu::DeviceInfo devs[1];
	vecdb::gpu::ProbeResult r;
	if (ProbeOrSkip(devs, 1, &r) == 0)
		GTEST_SKIP() << r.reason;
	const size_t n = 1000, d = 131;
	std::mt19937 rng(42);
	std::normal_distribution<float> g;
	std::vector<float> base(n * d), query(d), dist(n);
	for (auto &x : base)
		x = g(rng);
	for (auto &x : query)
		x = g(rng);
	char err[256] = "";
	ASSERT_TRUE(vecdb::gpu::L2SqrBatch(query.data(), base.data(), n, d, dist.data(), err, sizeof(err))) << err;
	for (size_t i = 0; i < n; i++) {
		float cpu = vecdb::knowhere::L2SqrF32(query.data(), base.data() + i * d, d);
		EXPECT_NEAR(dist[i], cpu, 1e-4f * std::max(1.0f, cpu)) << "row " << i;
	}
}

TEST(GpuL2Batch, FailsCleanlyWithoutDevice) {
	vecdb::gpu::DeviceInfo devs[1];
	vecdb::gpu::ProbeResult r;
	if (ProbeOrSkip(devs, 1, &r) > 0)
		GTEST_SKIP() << "a GPU is present; this case covers machines without one";
	float q[4] = {0, 0, 0, 0}, b[4] = {1, 1, 1, 1}, out[1] = {-1};
	char err[256] = "";
	EXPECT_FALSE(vecdb::gpu::L2SqrBatch(q, b, 1, 4, out, err, sizeof(err)));
	EXPECT_NE(err[0], '\0');
	std::printf("without a GPU: %s\n", err);
}

}  // namespace
