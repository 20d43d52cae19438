//===- numerics_bench.cc - Throughput of FP8 quantization -----------------===//
//
// Part of infir2. Single-core GB/s of input for bf16 -> E4M3 block
// quantization (128x128 weights, 1x128 activations with and without the
// transposed copy) and dequantization, on a 4096 x 4096 matrix and on
// Qwen2.5-7B's down_proj weight (3584 x 18944, whose 128-row bands are wider
// than L2), for:
//   infir2/avx2     the library as it runs (AVX2 kernels),
//   infir2/scalar   the same code with the vector kernels off,
//   peer/cuda_fp8   a plain two-pass loop over cuda_fp8.h's host conversion
//                   (__nv_cvt_float_to_fp8), the straightforward way to
//                   write it on a CPU.
// Usage: infir2-bench-numerics [--benchmark_filter=...]
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "runtime/numerics/block_quant.h"
#include "runtime/numerics/convert.h"
#include "runtime/numerics/isa.h"
#include "runtime/numerics/parallel.h"

#ifdef INFIR2_BENCH_CUDA_PEER
#include <cuda_fp8.h>
#endif

namespace infir2::numerics {
namespace {
/// A bf16 matrix of N(0, 0.02) values (one per shape, made once).
const std::vector<uint16_t> &weights(int64_t rows, int64_t cols) {
  static std::map<std::pair<int64_t, int64_t>, std::vector<uint16_t>> cache;
  auto [it, fresh] = cache.try_emplace({rows, cols});
  if (fresh) {
    std::mt19937 gen(1);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> f(rows * cols);
    for (float &v : f)
      v = normal(gen);
    it->second.resize(f.size());
    convertF32ToBf16(f.data(), it->second.data(), f.size());
  }
  return it->second;
}

/// Runs the benchmark body on one thread with |isa|.
struct Setup {
  Isa saved = activeIsa();
  int threads = numThreads();
  Setup(benchmark::State &state, Isa isa) {
    setNumThreads(1);
    if (setIsa(isa) != isa)
      state.SkipWithError("ISA not supported by this CPU");
  }
  ~Setup() {
    setIsa(saved);
    setNumThreads(threads);
  }
};

void quantizeBench(benchmark::State &state, Isa isa, QuantSpec spec) {
  Setup setup(state, isa);
  const int64_t rows = state.range(0), cols = state.range(1);
  const std::vector<uint16_t> &x = weights(rows, cols);
  Extent s = scaleExtent(spec.layout, rows, cols);
  std::vector<uint8_t> data(rows * cols);
  std::vector<float> scales(s.rows * s.cols);
  for (auto _ : state) {
    absl::Status st =
        quantize(x.data(), rows, cols, spec, data.data(), scales.data());
    benchmark::DoNotOptimize(data.data());
    if (!st.ok())
      state.SkipWithError("quantize failed");
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 2);
}

void quantizeTransposedBench(benchmark::State &state, Isa isa) {
  Setup setup(state, isa);
  const int64_t rows = state.range(0), cols = state.range(1);
  QuantSpec spec{Fp8Format::kE4M3FN, Layout::kTile1x128, ScaleMethod::kTE,
                 ScaleMode::kPow2};
  const std::vector<uint16_t> &x = weights(rows, cols);
  std::vector<uint8_t> data(rows * cols), dataT(rows * cols);
  std::vector<float> scales(rows * ((cols + 127) / 128)),
      scalesT(cols * ((rows + 127) / 128));
  for (auto _ : state) {
    absl::Status st =
        quantizeWithTranspose(x.data(), rows, cols, spec, spec, data.data(),
                              scales.data(), dataT.data(), scalesT.data());
    benchmark::DoNotOptimize(dataT.data());
    if (!st.ok())
      state.SkipWithError("quantize failed");
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 2);
}

void dequantizeBench(benchmark::State &state, Isa isa) {
  Setup setup(state, isa);
  const int64_t rows = state.range(0), cols = state.range(1);
  QuantSpec spec{Fp8Format::kE4M3FN, Layout::kTile128x128, ScaleMethod::kTE,
                 ScaleMode::kPow2};
  auto m = quantizeMatrix(weights(rows, cols).data(), rows, cols, spec);
  std::vector<uint16_t> out(rows * cols);
  for (auto _ : state) {
    absl::Status st = dequantize(m->data.data(), m->scales.data(), rows, cols,
                                 spec.layout, spec.format, out.data());
    benchmark::DoNotOptimize(out.data());
    if (!st.ok())
      state.SkipWithError("dequantize failed");
  }
  // GB/s of input: one FP8 byte per element.
  state.SetBytesProcessed(state.iterations() * rows * cols);
}

#ifdef INFIR2_BENCH_CUDA_PEER
/// 128x128 blocks, TE rule, power-of-two scales: amax pass, then
/// __nv_cvt_float_to_fp8 per element.
void cudaFp8PeerBench(benchmark::State &state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const std::vector<uint16_t> &x = weights(rows, cols);
  std::vector<uint8_t> data(rows * cols);
  std::vector<float> scales((rows / 128) * (cols / 128));
  for (auto _ : state) {
    for (int64_t bi = 0; bi < rows / 128; ++bi)
      for (int64_t bj = 0; bj < cols / 128; ++bj) {
        float amax = 0.0f;
        for (int64_t r = bi * 128; r < bi * 128 + 128; ++r)
          for (int64_t c = bj * 128; c < bj * 128 + 128; ++c)
            amax = std::max(amax, std::fabs(bf16ToF32(x[r * cols + c])));
        float s = amax > 0.0f && std::isfinite(amax) ? 448.0f / amax : 1.0f;
        s = std::exp2(std::floor(std::log2(s)));
        scales[bi * (cols / 128) + bj] = 1.0f / s;
        for (int64_t r = bi * 128; r < bi * 128 + 128; ++r)
          for (int64_t c = bj * 128; c < bj * 128 + 128; ++c)
            data[r * cols + c] = __nv_cvt_float_to_fp8(
                bf16ToF32(x[r * cols + c]) * s, __NV_SATFINITE, __NV_E4M3);
      }
    benchmark::DoNotOptimize(data.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 2);
}
BENCHMARK(cudaFp8PeerBench)
    ->Name("quantize_bf16_e4m3/128x128/te_pow2/peer:cuda_fp8_loop")
    ->Args({4096, 4096})
    ->Args({3584, 18944})
    ->Unit(benchmark::kMillisecond);
#endif

void registerAll() {
  const QuantSpec weightTE{Fp8Format::kE4M3FN, Layout::kTile128x128,
                           ScaleMethod::kTE, ScaleMode::kPow2};
  const QuantSpec weightCkptExact{Fp8Format::kE4M3FN, Layout::kTile128x128,
                                  ScaleMethod::kCheckpoint,
                                  ScaleMode::kExactF32};
  const QuantSpec weightCkptPow2{Fp8Format::kE4M3FN, Layout::kTile128x128,
                                 ScaleMethod::kCheckpoint, ScaleMode::kPow2};
  const QuantSpec activation{Fp8Format::kE4M3FN, Layout::kTile1x128,
                             ScaleMethod::kTE, ScaleMode::kPow2};
  for (Isa isa : {Isa::kAvx2, Isa::kScalar}) {
    std::string tag = std::string("/infir2:") + isaName(isa);
    // 4096 x 4096, and Qwen2.5-7B's down_proj weight [3584, 18944].
    auto unit = [](benchmark::internal::Benchmark *b) {
      b->Unit(benchmark::kMillisecond)->Args({4096, 4096})->Args({3584, 18944});
    };
    unit(benchmark::RegisterBenchmark(
        ("quantize_bf16_e4m3/128x128/te_pow2" + tag).c_str(), quantizeBench,
        isa, weightTE));
    unit(benchmark::RegisterBenchmark(
        ("quantize_bf16_e4m3/128x128/checkpoint_exact" + tag).c_str(),
        quantizeBench, isa, weightCkptExact));
    unit(benchmark::RegisterBenchmark(
        ("quantize_bf16_e4m3/128x128/checkpoint_pow2" + tag).c_str(),
        quantizeBench, isa, weightCkptPow2));
    unit(benchmark::RegisterBenchmark(
        ("quantize_bf16_e4m3/1x128/te_pow2" + tag).c_str(), quantizeBench, isa,
        activation));
    unit(benchmark::RegisterBenchmark(
        ("quantize_bf16_e4m3/1x128+transposed/te_pow2" + tag).c_str(),
        quantizeTransposedBench, isa));
    unit(benchmark::RegisterBenchmark(
        ("dequantize_e4m3_bf16/128x128" + tag).c_str(), dequantizeBench, isa));
  }
}
} // namespace
} // namespace infir2::numerics

int main(int argc, char **argv) {
  infir2::numerics::registerAll();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
