//===- numerics_exhaustive_test.cc - Every f32 input vs cuda_fp8.h --------===//
//
// Part of infir2's tests (ctest label "exhaustive"). Runs all 2^32 f32 bit
// patterns through f32 -> E4M3FN and E5M2 (both saturation modes), f32 ->
// E8M0 (toward zero and up, both saturation modes), f32 -> bf16 and f16, with
// the scalar and the bulk conversions, against NVIDIA's host functions.
// INFIR2_EXHAUSTIVE_STRIDE=k checks every k-th pattern for quick runs.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/numerics/convert.h"
#include "runtime/numerics/float8.h"
#include "runtime/numerics/parallel.h"
#include "test/unit/runtime/cuda_reference.h"

namespace infir2::numerics {
namespace {
uint64_t stride() {
  const char *env = std::getenv("INFIR2_EXHAUSTIVE_STRIDE");
  uint64_t s = env ? std::strtoull(env, nullptr, 10) : 1;
  return s == 0 ? 1 : s;
}

/// Sweeps every |stride()|-th f32 pattern in chunks across threads: fills a
/// chunk of inputs, calls |check(inputs, n)|, which returns the index of the
/// first mismatch or -1; reports the first mismatch found overall.
template <typename Check>
void sweep(const std::string &what, Check check) {
  constexpr int64_t kChunk = int64_t{1} << 20;
  const uint64_t step = stride();
  const uint64_t total = ((uint64_t{1} << 32) + step - 1) / step;
  const int64_t chunks = static_cast<int64_t>((total + kChunk - 1) / kChunk);
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string firstFailure;
  parallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> in(kChunk);
    for (int64_t c = c0; c < c1 && !failed; ++c) {
      uint64_t first = static_cast<uint64_t>(c) * kChunk;
      int64_t n =
          static_cast<int64_t>(std::min<uint64_t>(kChunk, total - first));
      for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>((first + i) * step);
        std::memcpy(&in[i], &bits, 4);
      }
      std::string message = check(in.data(), n);
      if (!message.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true))
          firstFailure = message;
      }
    }
  });
  EXPECT_FALSE(failed) << what << ": " << firstFailure;
}

std::string mismatch(const char *path, float x, uint32_t got, uint32_t want,
                     const char *referenceName) {
  char buf[160];
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  std::snprintf(buf, sizeof buf, "%s: f32 0x%08X gives 0x%X, %s 0x%X", path,
                bits, got, referenceName, want);
  return buf;
}

/// Converts |in| with |bulk| and each element with |scalar| and |reference|;
/// returns the first disagreement with the reference, or "".
template <typename Out, typename Bulk, typename Scalar, typename Reference>
std::string compareAll(const float *in, int64_t n, Bulk bulk, Scalar scalar,
                       Reference reference,
                       const char *referenceName = "cuda_fp8.h") {
  std::vector<Out> out(n);
  bulk(in, out.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    Out want = reference(in[i]);
    Out got = scalar(in[i]);
    if (got != want)
      return mismatch("scalar", in[i], got, want, referenceName);
    if (out[i] != want)
      return mismatch("bulk", in[i], out[i], want, referenceName);
  }
  return {};
}

class Fp8Sweep
    : public ::testing::TestWithParam<std::tuple<Fp8Format, Saturation>> {};

TEST_P(Fp8Sweep, EveryF32MatchesCuda) {
  auto [format, saturation] = GetParam();
  sweep("f32 -> fp8", [&](const float *in, int64_t n) {
    return compareAll<uint8_t>(
        in, n,
        [&](const float *a, uint8_t *o, int64_t k) {
          convertF32ToFp8(a, o, k, format, saturation);
        },
        [&](float x) { return f32ToFp8(x, format, saturation); },
        [&](float x) { return cuda_ref::f32ToFp8(x, format, saturation); });
  });
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, Fp8Sweep,
    ::testing::Combine(::testing::Values(Fp8Format::kE4M3FN, Fp8Format::kE5M2),
                       ::testing::Values(Saturation::kSatFinite,
                                         Saturation::kNoSat)),
    [](const auto &info) {
      return std::string(std::get<0>(info.param) == Fp8Format::kE4M3FN
                             ? "E4M3FN"
                             : "E5M2") +
             (std::get<1>(info.param) == Saturation::kSatFinite ? "_SatFinite"
                                                                : "_NoSat");
    });

class E8M0Sweep
    : public ::testing::TestWithParam<std::tuple<E8M0Rounding, Saturation>> {};

TEST_P(E8M0Sweep, EveryF32MatchesCuda) {
  auto [rounding, saturation] = GetParam();
  sweep("f32 -> e8m0", [&](const float *in, int64_t n) {
    return compareAll<uint8_t>(
        in, n,
        [&](const float *a, uint8_t *o, int64_t k) {
          convertF32ToE8M0(a, o, k, saturation, rounding);
        },
        [&](float x) { return f32ToE8M0(x, saturation, rounding); },
        [&](float x) { return cuda_ref::f32ToE8M0(x, saturation, rounding); });
  });
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, E8M0Sweep,
    ::testing::Combine(
        ::testing::Values(E8M0Rounding::kTowardZero, E8M0Rounding::kUp),
        ::testing::Values(Saturation::kSatFinite, Saturation::kNoSat)),
    [](const auto &info) {
      return std::string(std::get<0>(info.param) == E8M0Rounding::kUp
                             ? "Up"
                             : "TowardZero") +
             (std::get<1>(info.param) == Saturation::kSatFinite ? "_SatFinite"
                                                                : "_NoSat");
    });

// Round-to-nearest E8M0 has no cuda_fp8.h counterpart; its scalar form is
// checked against ml_dtypes (block_quant_golden_test), and the bulk kernels
// must agree with it on every input.
TEST(E8M0NearestSweep, BulkMatchesScalarOnEveryF32) {
  for (Saturation saturation : {Saturation::kSatFinite, Saturation::kNoSat})
    sweep("f32 -> e8m0 nearest", [&](const float *in, int64_t n) {
      return compareAll<uint8_t>(
          in, n,
          [&](const float *a, uint8_t *o, int64_t k) {
            convertF32ToE8M0(a, o, k, saturation, E8M0Rounding::kNearest);
          },
          [&](float x) {
            return f32ToE8M0(x, saturation, E8M0Rounding::kNearest);
          },
          [&](float x) {
            return f32ToE8M0(x, saturation, E8M0Rounding::kNearest);
          },
          "the scalar conversion");
    });
}

TEST(Bf16Sweep, EveryF32MatchesCuda) {
  sweep("f32 -> bf16", [&](const float *in, int64_t n) {
    return compareAll<uint16_t>(
        in, n,
        [&](const float *a, uint16_t *o, int64_t k) {
          convertF32ToBf16(a, o, k);
        },
        [](float x) { return f32ToBf16(x); },
        [](float x) { return cuda_ref::f32ToBf16(x); });
  });
}

TEST(F16Sweep, EveryF32MatchesCuda) {
  sweep("f32 -> f16", [&](const float *in, int64_t n) {
    return compareAll<uint16_t>(
        in, n,
        [&](const float *a, uint16_t *o, int64_t k) {
          convertF32ToF16(a, o, k);
        },
        [](float x) { return f32ToF16(x); },
        [](float x) { return cuda_ref::f32ToF16(x); });
  });
}
} // namespace
} // namespace infir2::numerics
