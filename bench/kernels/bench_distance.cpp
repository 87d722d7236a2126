// bench_distance.cpp measures ns per call of each distance kernel at each SIMD level, next to FAISS' fvec_L2sqr / fvec_inner_product.
//
// Benchmarks are named <kernel>/<impl>/<d>, impl being a SimdLevelName or
// "faiss"; bench/kernels.sh turns the JSON output into a table. Inputs are two
// fixed random vectors that stay in L1 cache: this measures the kernels' compute
// speed, including the dispatch (one atomic load and an indirect call) that
// every caller of the public API pays.
#include <benchmark/benchmark.h>
#include <faiss/utils/distances.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "knowhere/distance.hpp"

using namespace vecdb::knowhere;

namespace {

constexpr size_t kDims[] = {128, 768, 1536};
constexpr SimdLevel kLevels[] = {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512};

// Inputs holds one pair of random vectors in every element type.
struct Inputs {
	std::vector<float> fa, fb;
	std::vector<Half> ha, hb;
	std::vector<uint8_t> ba, bb;
};

// MakeInputs fills vectors of d elements (d bits for the bit kernels).
Inputs MakeInputs(size_t d) {
	std::mt19937 rng(static_cast<uint32_t>(d));
	std::uniform_real_distribution<float> u(-1.0f, 1.0f);
	Inputs in;
	for (size_t i = 0; i < d; i++) {
		in.fa.push_back(u(rng));
		in.fb.push_back(u(rng));
		in.ha.push_back(FloatToHalf(in.fa.back()));
		in.hb.push_back(FloatToHalf(in.fb.back()));
	}
	for (size_t i = 0; i < d / 8; i++) {
		in.ba.push_back(static_cast<uint8_t>(rng()));
		in.bb.push_back(static_cast<uint8_t>(rng()));
	}
	return in;
}

// RunAtLevel times fn() after switching the kernels to level.
template <typename Fn>
void RunAtLevel(benchmark::State &state, SimdLevel level, Fn fn) {
	if (!SetSimdLevel(level)) {
		state.SkipWithError("CPU lacks this SIMD level");
		return;
	}
	for (auto _ : state)
		benchmark::DoNotOptimize(fn());
}

// Register adds one benchmark per SIMD level for a kernel at dimension d.
template <typename Fn>
void Register(const std::string &kernel, size_t d, Fn fn) {
	for (SimdLevel level : kLevels) {
		std::string name = kernel + "/" + SimdLevelName(level) + "/" + std::to_string(d);
		benchmark::RegisterBenchmark(name.c_str(), [level, fn](benchmark::State &state) {
			RunAtLevel(state, level, fn);
		});
	}
}

// RegisterAll adds every kernel and the FAISS baselines at every dimension.
void RegisterAll(std::vector<Inputs> &inputs) {
	for (size_t k = 0; k < std::size(kDims); k++) {
		size_t d = kDims[k];
		const Inputs *in = &inputs[k];
		const float *fa = in->fa.data(), *fb = in->fb.data();
		const Half *ha = in->ha.data(), *hb = in->hb.data();
		const uint8_t *ba = in->ba.data(), *bb = in->bb.data();
		size_t nbytes = in->ba.size();
		Register("L2F32", d, [=] { return L2SqrF32(fa, fb, d); });
		Register("IPF32", d, [=] { return InnerProductF32(fa, fb, d); });
		Register("CosineF32", d, [=] { return CosineDistanceF32(fa, fb, d); });
		Register("L1F32", d, [=] { return L1F32(fa, fb, d); });
		Register("L2F16", d, [=] { return L2SqrF16(ha, hb, d); });
		Register("IPF16", d, [=] { return InnerProductF16(ha, hb, d); });
		Register("CosineF16", d, [=] { return CosineDistanceF16(ha, hb, d); });
		Register("L1F16", d, [=] { return L1F16(ha, hb, d); });
		Register("Hamming", d, [=] { return HammingBits(ba, bb, nbytes); });
		benchmark::RegisterBenchmark(("L2F32/faiss/" + std::to_string(d)).c_str(),
									 [=](benchmark::State &state) {
										 for (auto _ : state)
											 benchmark::DoNotOptimize(faiss::fvec_L2sqr(fa, fb, d));
									 });
		benchmark::RegisterBenchmark(("IPF32/faiss/" + std::to_string(d)).c_str(),
									 [=](benchmark::State &state) {
										 for (auto _ : state)
											 benchmark::DoNotOptimize(faiss::fvec_inner_product(fa, fb, d));
									 });
	}
}

}  // namespace

// main registers the benchmarks and runs them with Google Benchmark's flags.
int main(int argc, char **argv) {
	std::vector<Inputs> inputs;
	for (size_t d : kDims)
		inputs.push_back(MakeInputs(d));
	RegisterAll(inputs);
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	std::printf("best SIMD level on this CPU: %s\n", SimdLevelName(BestSimdLevel()));
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
