// centroid_trainer.cpp holds the registered centroid trainer and the rule
// that decides when IVF training uses it (centroid_trainer.hpp).
#include "knowhere/centroid_trainer.hpp"

#include <algorithm>
#include <atomic>

namespace vecdb::knowhere {

namespace {

// trainer and usable are the registration (atomic: tests register and
// remove fakes while no index trains, but reads must still be whole).
std::atomic<CentroidTrainFn> trainer{nullptr};
std::atomic<CentroidTrainerUsable> usable{nullptr};

}  // namespace

// RegisterCentroidTrainer installs or removes the trainer.
void RegisterCentroidTrainer(CentroidTrainFn train, CentroidTrainerUsable is_usable) noexcept {
	usable.store(is_usable);
	trainer.store(train);
}

// RegisteredCentroidTrainer returns the trainer, or nullptr.
CentroidTrainFn RegisteredCentroidTrainer() noexcept {
	return trainer.load();
}

// CentroidTrainWork counts the multiply-adds of the assignment steps.
double CentroidTrainWork(const CentroidTrainRequest &r) noexcept {
	double rows = static_cast<double>(r.n);
	if (r.max_points_per_centroid > 0)
		rows = std::min(rows, static_cast<double>(r.max_points_per_centroid) * r.k);
	return rows * r.k * r.dim * std::max(r.niter, 0);
}

// UseCentroidTrainer applies the train_device rule; auto weighs the work
// before it asks whether the trainer is usable (a first CUDA call loads the
// driver, which a small training set should not pay for).
bool UseCentroidTrainer(TrainDevice device, int threads, const CentroidTrainRequest &request) noexcept {
	if (device == TrainDevice::kCpu || trainer.load() == nullptr)
		return false;
	if (device == TrainDevice::kAuto && CentroidTrainWork(request) / std::max(1, threads) < kAutoTrainMinWork)
		return false;
	CentroidTrainerUsable u = usable.load();
	return u == nullptr || u();
}

}  // namespace vecdb::knowhere
