// gpu_ivf_train.cpp registers GpuKMeans as the engine's centroid trainer, so
// IVF_FLAT, IVF_PQ and IVF_SQ8 train their coarse quantizer on the GPU
// (knowhere/centroid_trainer.hpp; the engine falls back to FAISS on the CPU
// whenever this fails).
#include <chrono>
#include <cstring>
#include <mutex>

#include "gpu/gpu_flat_index.hpp"
#include "gpu/gpu_kmeans.hpp"
#include "knowhere/centroid_trainer.hpp"

namespace vecdb::gpu {

namespace {

// stats_lock guards stats, the trainer's counters.
std::mutex stats_lock;
GpuTrainStats stats;

// TrainOnGpu runs one request through GpuKMeans with the request's FAISS
// parameters and records the outcome.
knowhere::Status TrainOnGpu(const knowhere::CentroidTrainRequest &r, float *centroids) noexcept {
	GpuKMeansOptions o;
	o.niter = r.niter;
	o.seed = r.seed;
	o.metric = r.metric;
	o.spherical = r.spherical;
	o.max_points_per_centroid = r.max_points_per_centroid;
	o.should_stop = r.should_stop;
	o.stop_arg = r.stop_arg;
	auto t0 = std::chrono::steady_clock::now();
	knowhere::Status s = GpuKMeans(r.rows, r.n, r.dim, r.k, o, centroids, nullptr);
	double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	std::lock_guard<std::mutex> guard(stats_lock);
	stats.calls++;
	if (s.ok()) {
		stats.trained++;
		stats.last_seconds = seconds;
	} else {
		stats.failed++;
		std::strncpy(stats.last_error, s.message().c_str(), sizeof(stats.last_error) - 1);
		stats.last_error[sizeof(stats.last_error) - 1] = '\0';
	}
	return s;
}

// GpuUsable reports whether a device answers.
bool GpuUsable() noexcept {
	return CheckDevice().ok();
}

}  // namespace

// RegisterGpuCentroidTrainer installs TrainOnGpu in the engine.
void RegisterGpuCentroidTrainer() noexcept {
	knowhere::RegisterCentroidTrainer(TrainOnGpu, GpuUsable);
}

// GetGpuTrainStats copies the counters.
GpuTrainStats GetGpuTrainStats() noexcept {
	std::lock_guard<std::mutex> guard(stats_lock);
	return stats;
}

}  // namespace vecdb::gpu
