// test_gpu_ivf_train.cpp checks IVF training through GpuKMeans, the centroid
// trainer src/gpu registers in the engine: IVF_FLAT (L2, cosine) and IVF_SQ8
// trained on the GPU reach CPU training's recall within 0.01 at equal nlist
// and nprobe (IVF_PQ's path is the same hook, tested on the CPU with a fake
// trainer: its codebook training is slow), train_device auto picks the GPU for large
// training sets only, a cancel stops GPU training, and without a device
// training falls back to FAISS on the CPU. Device cases skip without a GPU,
// printing why.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "gpu/gpu_flat_index.hpp"
#include "gpu/gpu_kmeans.hpp"
#include "index_test_util.hpp"
#include "ivf_train_test_util.hpp"
#include "knowhere/centroid_trainer.hpp"

namespace {

using namespace vecdb::knowhere;
using namespace vecdb::knowhere::testutil;
using vecdb::gpu::GetGpuTrainStats;
using vecdb::gpu::GpuTrainStats;

// NoGpuReason returns why there is no usable device, or "" when there is one.
std::string NoGpuReason() {
	Status s = vecdb::gpu::CheckDevice();
	return s.ok() ? std::string() : s.message();
}

// CpuThreads is the CPU reference's build threads: the machine's cores, at most 16.
int CpuThreads() {
	return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
}

// Config returns an IVF config over the recall data set.
IndexConfig Config(IndexKind kind, Metric metric, TrainDevice device) {
	IndexConfig c = MakeConfig(kind, metric, kIvfRecallDim, kIvfRecallLists, kind == IndexKind::kIvfPq ? 8 : 0);
	c.train_device = device;
	c.threads = CpuThreads();
	return c;
}

// CompareWithCpu trains kind on the CPU and on the GPU over one data set,
// checks the GPU trainer answered, prints recall and times, and checks the
// recall within margin (two-sided).
void CompareWithCpu(IndexKind kind, Metric metric, double margin, uint64_t seed) {
	IvfRecallData d = MakeIvfRecallData(metric, kIvfRecallRows, kIvfRecallDim, kIvfRecallClusters, 1000, 10, seed);
	IvfRecallRun cpu = RunIvfRecall(Config(kind, metric, TrainDevice::kCpu), d, kIvfRecallProbes);
	ASSERT_TRUE(cpu.status.ok()) << cpu.status.message();
	GpuTrainStats before = GetGpuTrainStats();
	IvfRecallRun gpu = RunIvfRecall(Config(kind, metric, TrainDevice::kGpu), d, kIvfRecallProbes);
	ASSERT_TRUE(gpu.status.ok()) << gpu.status.message();
	GpuTrainStats after = GetGpuTrainStats();
	ASSERT_EQ(after.trained, before.trained + 1) << "GPU training did not answer: " << after.last_error;
	EXPECT_EQ(after.failed, before.failed) << after.last_error;
	std::printf("gpu-ivf-train: kind %d metric %d, %zu x %d, nlist %d, nprobe %d: recall@10 CPU-trained %.4f, GPU-trained %.4f; "
				"Train %.3f s on the CPU (FAISS, %d threads), %.3f s with the GPU (k-means %.3f s)\n",
				static_cast<int>(kind), static_cast<int>(metric), d.n, d.dim, kIvfRecallLists, kIvfRecallProbes,
				cpu.recall, gpu.recall, cpu.train_seconds, CpuThreads(), gpu.train_seconds, after.last_seconds);
	std::fflush(stdout);
	EXPECT_NEAR(gpu.recall, cpu.recall, margin);
}

TEST(GpuIvfTrain, IvfFlatL2RecallMatchesCpuTraining) {
	std::string reason = NoGpuReason();
	if (!reason.empty())
		GTEST_SKIP() << reason;
	vecdb::gpu::RegisterGpuCentroidTrainer();
	CompareWithCpu(IndexKind::kIvfFlat, Metric::kL2, 0.01, 13);
}

TEST(GpuIvfTrain, IvfFlatCosineRecallMatchesCpuTraining) {
	std::string reason = NoGpuReason();
	if (!reason.empty())
		GTEST_SKIP() << reason;
	vecdb::gpu::RegisterGpuCentroidTrainer();
	CompareWithCpu(IndexKind::kIvfFlat, Metric::kCosine, 0.01, 13);
}

TEST(GpuIvfTrain, IvfSq8RecallMatchesCpuTraining) {
	std::string reason = NoGpuReason();
	if (!reason.empty())
		GTEST_SKIP() << reason;
	vecdb::gpu::RegisterGpuCentroidTrainer();
	CompareWithCpu(IndexKind::kIvfSq8, Metric::kL2, 0.01, 21);
}

TEST(GpuIvfTrain, AutoPicksTheGpuForLargeTrainingSets) {
	std::string reason = NoGpuReason();
	if (!reason.empty())
		GTEST_SKIP() << reason;
	vecdb::gpu::RegisterGpuCentroidTrainer();
	/* 8,000 x 128 into 1,024 lists, 10 iterations: 1.05e10 multiply-adds */
	const int dim = 128, nlist = 1024;
	const size_t big = 8000, small = 2000;
	std::vector<float> x = GaussianMixture::Make(dim, 50, 5).Sample(big, 6);
	for (size_t n : {small, big}) {
		IndexConfig c = MakeConfig(IndexKind::kIvfFlat, Metric::kL2, dim, nlist);
		c.train_device = TrainDevice::kAuto;
		c.threads = 1;
		auto made = CreateIndex(c);
		ASSERT_TRUE(made.ok());
		GpuTrainStats before = GetGpuTrainStats();
		ASSERT_TRUE(made.value()->Train(x.data(), n).ok());
		GpuTrainStats after = GetGpuTrainStats();
		EXPECT_EQ(after.calls - before.calls, n == big ? 1u : 0u) << n << " rows";
		EXPECT_EQ(after.trained - before.trained, n == big ? 1u : 0u) << after.last_error;
		EXPECT_FALSE(made.value()->NeedsTraining());
	}
}

// StopOnSecondPoll says stop from the second poll on: the engine's poll
// before training passes, GpuKMeans' poll before its first iteration stops.
bool StopOnSecondPoll(void *arg) noexcept {
	return ++*static_cast<int *>(arg) >= 2;
}

TEST(GpuIvfTrain, CancelStopsGpuTraining) {
	std::string reason = NoGpuReason();
	if (!reason.empty())
		GTEST_SKIP() << reason;
	vecdb::gpu::RegisterGpuCentroidTrainer();
	const int dim = 32, nlist = 64;
	const size_t n = 5000;
	std::vector<float> x = GaussianMixture::Make(dim, 20, 7).Sample(n, 8);
	IndexConfig c = MakeConfig(IndexKind::kIvfFlat, Metric::kL2, dim, nlist);
	c.train_device = TrainDevice::kGpu;
	auto made = CreateIndex(c);
	ASSERT_TRUE(made.ok());
	int polls = 0;
	made.value()->SetBuildControl(StopOnSecondPoll, &polls);
	GpuTrainStats before = GetGpuTrainStats();
	EXPECT_EQ(made.value()->Train(x.data(), n).code(), StatusCode::kCancelled);
	GpuTrainStats after = GetGpuTrainStats();
	EXPECT_EQ(after.calls - before.calls, 1u);
	EXPECT_EQ(after.failed - before.failed, 1u);
	EXPECT_TRUE(made.value()->NeedsTraining());
	made.value()->SetBuildControl(nullptr, nullptr);
	ASSERT_TRUE(made.value()->Train(x.data(), n).ok());
	EXPECT_FALSE(made.value()->NeedsTraining());
}

TEST(GpuIvfTrain, WithoutDeviceTrainsOnTheCpu) {
	if (NoGpuReason().empty())
		GTEST_SKIP() << "a GPU is present; this case covers machines without one";
	vecdb::gpu::RegisterGpuCentroidTrainer();
	const int dim = 16, nlist = 32;
	const size_t n = 3000;
	std::vector<float> x = GaussianMixture::Make(dim, 20, 9).Sample(n, 10);
	std::string bytes[2];
	for (int i = 0; i < 2; i++) {
		IndexConfig c = MakeConfig(IndexKind::kIvfFlat, Metric::kL2, dim, nlist);
		c.train_device = i == 0 ? TrainDevice::kCpu : TrainDevice::kGpu;
		auto made = CreateIndex(c);
		ASSERT_TRUE(made.ok());
		ASSERT_TRUE(made.value()->Train(x.data(), n).ok());
		StringWriter w;
		ASSERT_TRUE(made.value()->Serialize(w).ok());
		bytes[i] = w.bytes();
	}
	EXPECT_EQ(bytes[0], bytes[1]);
	EXPECT_EQ(GetGpuTrainStats().calls, 0u);  /* not usable: never asked */
	RegisterCentroidTrainer(nullptr, nullptr);
}

}  // namespace
