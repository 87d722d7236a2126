// gpu_flat_index.hpp declares GPU_FLAT, the exact float32 index whose rows
// live on a CUDA device, behind the engine's Index interface. No CUDA type
// appears here: the PostgreSQL side and the engine include it freely.
#pragma once

#include <memory>

#include "knowhere/index.hpp"
#include "knowhere/status.hpp"

namespace vecdb::gpu {

// CheckDevice returns Ok when a CUDA device is usable, else NotSupported
// ("no CUDA device: ...").
engine::Status CheckDevice() noexcept;

// NewGpuFlatIndex makes an empty GPU_FLAT index (L2, inner product or
// cosine) on device 0; NotSupported when no CUDA device is present.
// Searches of up to kGpuFlatFusedQueries queries scan the rows once per
// query with the distances computed inside the selecting kernel; larger
// batches compute distances with cuBLAS SGEMM in tiles. k above 2048 is
// answered on the CPU from the index's host copy, as are RangeSearch and
// CreateIterator (exact, brute_force.hpp).
engine::Expected<std::unique_ptr<engine::Index>> NewGpuFlatIndex(const engine::IndexConfig &config) noexcept;

// kGpuFlatFusedQueries is the largest batch searched by the fused scan.
constexpr int kGpuFlatFusedQueries = 4;

// RegisterGpuKinds makes CreateIndex and DeserializeIndex build GPU_FLAT
// indexes through this library (call once at start-up).
void RegisterGpuKinds() noexcept;

}  // namespace vecdb::gpu
