// centroid_trainer.hpp declares the hook through which a library outside the
// engine (src/gpu) trains the coarse centroids of the float IVF kinds, so the
// engine itself never depends on CUDA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// CentroidTrainRequest is one k-means run as FAISS' IVF training would do it
// (the IVF index's ClusteringParameters): the trainer's centroids replace
// FAISS' in the coarse quantizer, so everything after training is unchanged.
struct CentroidTrainRequest {
	const float *rows = nullptr;   /* n x dim row-major, prepared (normalized under cosine) */
	size_t n = 0;
	int dim = 0;
	int k = 0;                     /* nlist, <= n */
	Metric metric = Metric::kL2;   /* kL2 or kInnerProduct (cosine: inner product of normalized rows) */
	bool spherical = false;        /* normalize the centroids after each update (FAISS does for IP) */
	int niter = 10;                /* Lloyd iterations */
	uint64_t seed = 42;
	size_t max_points_per_centroid = 256;  /* n above k * this: train on a sample of that many rows */
	StopCallback should_stop = nullptr;    /* poll between iterations; Cancelled when it fires */
	void *stop_arg = nullptr;
};

// CentroidTrainFn writes k x dim centroids (row-major) for a request. Any
// status but Ok and Cancelled makes the IVF index train on the CPU instead.
using CentroidTrainFn = Status (*)(const CentroidTrainRequest &request, float *centroids) noexcept;
// CentroidTrainerUsable reports whether the trainer can run now (a device is
// present); it must be cheap, Train asks it on every call.
using CentroidTrainerUsable = bool (*)() noexcept;

// RegisterCentroidTrainer installs the trainer IVF training uses when
// IndexConfig::train_device asks for it (nullptr removes it). Process-wide;
// call it at start-up, before any index trains.
void RegisterCentroidTrainer(CentroidTrainFn train, CentroidTrainerUsable usable) noexcept;

// kAutoTrainMinWork is the k-means work per CPU build thread (multiply-adds:
// training rows x k x dim x iterations, see CentroidTrainWork) from which
// TrainDevice::kAuto prefers the registered trainer: FAISS does 15-25 G
// multiply-adds a second on one core (measured on the development VM), so
// this is about half a second of CPU, above what starting a device costs.
constexpr double kAutoTrainMinWork = 1e10;

// CentroidTrainWork returns the multiply-adds of a request's assignments:
// min(n, k x max_points_per_centroid) x k x dim x niter.
double CentroidTrainWork(const CentroidTrainRequest &request) noexcept;

// UseCentroidTrainer decides whether an IVF Train with device and threads
// build threads hands the request to the registered trainer: never for kCpu
// or without a usable trainer; always for kGpu; for kAuto when
// CentroidTrainWork / threads >= kAutoTrainMinWork.
bool UseCentroidTrainer(TrainDevice device, int threads, const CentroidTrainRequest &request) noexcept;

// RegisteredCentroidTrainer returns the registered trainer, or nullptr.
CentroidTrainFn RegisteredCentroidTrainer() noexcept;

}  // namespace vecdb::knowhere
