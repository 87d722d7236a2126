// gpu_ivf_flat_index.hpp declares GPU_IVF_FLAT: IVF_FLAT trained, assigned
// and searched on a CUDA device, behind the engine's Index interface. No CUDA
// type appears here.
#pragma once

#include <cstddef>
#include <memory>

#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::gpu {

// NewGpuIvfFlatIndex makes an empty, untrained GPU_IVF_FLAT index (L2,
// inner product or cosine; config.nlist lists) on device 0; NotSupported
// when no CUDA device is present. Train runs GpuKMeans (the IVF kinds'
// parameters), Add assigns rows to lists on the device, and Search probes
// the lists there. Its results are IVF_FLAT's at equal settings: the same
// filtered-search rules (exact below the brute-force ratio, nprobe widened
// by the allowed fraction, exact when the probed lists hold fewer than k
// allowed rows), distances computed directly in FP32.
knowhere::Expected<std::unique_ptr<knowhere::Index>> NewGpuIvfFlatIndex(const knowhere::IndexConfig &config) noexcept;

// GpuIvfFlatFrom makes a GPU_IVF_FLAT index holding a copy of a trained
// IVF_FLAT index's centroids and lists (an owned index or a view: the source
// may go away afterwards), so it answers as that index does.
knowhere::Expected<std::unique_ptr<knowhere::Index>> GpuIvfFlatFrom(const knowhere::Index &ivf_flat) noexcept;

// GpuIvfFlatStats describes an index's searches since it was made.
struct GpuIvfFlatStats {
	size_t queries = 0;	   /* queries answered on the device */
	size_t probed = 0;	   /* of those, by probing lists */
	size_t exact = 0;	   /* exact over every allowed row (selective filter, or k >= allowed / 2) */
	size_t refilled = 0;   /* probed lists held fewer than k allowed rows: answered again exactly */
	size_t cpu = 0;		   /* answered on the CPU (k above 2048, rows over 1024 floats) */
	size_t uploads = 0;	   /* times the lists were copied to the device (after Train or Add) */
	bool trained_on_gpu = false; /* the last Train ran GpuKMeans, else FAISS on the CPU after a device
									failure (read from the process-wide trainer counters: a Train
									finishing on another index at the same moment can blur it) */
};

// GetGpuIvfFlatStats returns a GPU_IVF_FLAT index's figures (zeros for
// another kind).
GpuIvfFlatStats GetGpuIvfFlatStats(const knowhere::Index &index) noexcept;

// RegisterGpuIvfKinds makes CreateIndex and DeserializeIndex build
// GPU_IVF_FLAT indexes through this library; call once at start-up (with
// RegisterGpuKinds). Only in builds that have the engine's IVF kinds (FAISS).
void RegisterGpuIvfKinds() noexcept;

}  // namespace vecdb::gpu
