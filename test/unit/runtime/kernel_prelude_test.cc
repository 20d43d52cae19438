//===- kernel_prelude_test.cc - The kernel prelude on the host ------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Generated kernels do their bf16 / FP8 arithmetic with the prelude's own
// conversions and scale rules (it compiles under NVRTC, without the
// numerics library). Compiled for the host, they must give exactly the
// numerics library's results, which are proven bit-exact against
// cuda_fp8.h; and its sin_cos must be correctly rounded.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstring>
#include <random>

#include "runtime/kernels/prelude.h"
#include "runtime/numerics/block_quant.h"
#include "runtime/numerics/float8.h"
#include "gtest/gtest.h"

namespace {
namespace nm = infir2::numerics;

float bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(KernelPrelude, Fp8ConversionsMatchTheNumericsLibrary) {
  // Every 4093rd f32 bit pattern (about a million, every exponent and
  // sign) plus the boundaries of both formats.
  std::vector<uint32_t> patterns;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4093)
    patterns.push_back(static_cast<uint32_t>(u));
  for (float v : {448.0f, 464.0f, 464.0001f, 57344.0f, 61440.0f, 0x1p-9f,
                  0x1p-10f, 0x1.8p-10f, 0x1p-16f, 0x1p-17f, 0.0f, -0.0f})
    for (float s : {1.0f, -1.0f})
      patterns.push_back(bitsOf(v * s));
  for (uint32_t u : patterns) {
    const float f = bits(u);
    ASSERT_EQ(
        infir2::f32_to_fp8(f, false),
        nm::f32ToFp8(f, nm::Fp8Format::kE4M3FN, nm::Saturation::kSatFinite))
        << std::hex << u;
    ASSERT_EQ(infir2::f32_to_fp8(f, true),
              nm::f32ToFp8(f, nm::Fp8Format::kE5M2, nm::Saturation::kSatFinite))
        << std::hex << u;
    ASSERT_EQ(infir2::f32_to_bf16(f), nm::f32ToBf16(f)) << std::hex << u;
  }
  for (int c = 0; c < 256; ++c)
    for (bool e5m2 : {false, true}) {
      const float ours = infir2::fp8_to_f32(static_cast<uint8_t>(c), e5m2);
      const float ref =
          nm::fp8ToF32(static_cast<uint8_t>(c),
                       e5m2 ? nm::Fp8Format::kE5M2 : nm::Fp8Format::kE4M3FN);
      EXPECT_EQ(bitsOf(ours), bitsOf(ref)) << c << " e5m2=" << e5m2;
    }
}

TEST(KernelPrelude, TileScalesMatchTheNumericsLibrary) {
  std::mt19937 rng(7);
  std::vector<float> amaxes = {0.0f,      1.0f,           448.0f, 0x1p-149f,
                               0x1p-126f, 3.0e38f,        1e-30f, INFINITY,
                               NAN,       0x1.fffffep127f};
  std::uniform_int_distribution<uint32_t> any(0, 0x7F7FFFFFu);
  for (int i = 0; i < 100000; ++i)
    amaxes.push_back(bits(any(rng)));
  for (float amax : amaxes)
    for (bool pow2 : {false, true})
      for (bool e5m2 : {false, true}) {
        nm::QuantSpec spec;
        spec.format = e5m2 ? nm::Fp8Format::kE5M2 : nm::Fp8Format::kE4M3FN;
        spec.method = nm::ScaleMethod::kTE;
        spec.mode = pow2 ? nm::ScaleMode::kPow2 : nm::ScaleMode::kExactF32;
        const nm::TileScale ref = nm::computeTileScale(amax, spec);
        const infir2::TileScale ours =
            infir2::te_scale(amax, e5m2 ? 57344.0f : 448.0f, pow2);
        ASSERT_EQ(bitsOf(ours.scale), bitsOf(ref.scale)) << amax;
        ASSERT_EQ(bitsOf(ours.mult), bitsOf(ref.multiplier)) << amax;
        spec.method = nm::ScaleMethod::kCheckpoint;
        const nm::TileScale refc = nm::computeTileScale(amax, spec);
        const infir2::TileScale oursc =
            infir2::checkpoint_scale(amax, e5m2 ? 57344.0f : 448.0f, pow2);
        ASSERT_EQ(bitsOf(oursc.scale), bitsOf(refc.scale)) << amax;
        ASSERT_EQ(oursc.divide, refc.divide) << amax;
      }
}

TEST(KernelPrelude, QuantizedTilesMatchTheNumericsLibrary) {
  // A 4 x 384 tensor with zeros, a huge value, subnormals and a NaN, 1x128
  // tiles: the prelude's amax, scale and conversion give the library's
  // codes and scales.
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const int64_t rows = 4, cols = 384;
  std::vector<float> x(rows * cols);
  for (float &v : x)
    v = normal(rng);
  std::fill(x.begin(), x.begin() + 128, 0.0f);
  x[130] = 3.0e6f;
  x[300] = 0x1p-140f;
  x[500] = NAN;
  std::vector<uint8_t> data(x.size());
  std::vector<float> scales(rows * 3);
  nm::QuantSpec spec{nm::Fp8Format::kE4M3FN, nm::Layout::kTile1x128,
                     nm::ScaleMethod::kTE, nm::ScaleMode::kPow2};
  ASSERT_TRUE(
      nm::quantize(x.data(), rows, cols, spec, data.data(), scales.data())
          .ok());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < 3; ++t) {
      float amax = 0.0f;
      for (int64_t c = t * 128; c < t * 128 + 128; ++c)
        amax = fmaxf(amax, infir2::amax_of(x[r * cols + c]));
      const infir2::TileScale ts = infir2::te_scale(amax, 448.0f, true);
      ASSERT_EQ(bitsOf(ts.scale), bitsOf(scales[r * 3 + t]));
      for (int64_t c = t * 128; c < t * 128 + 128; ++c)
        ASSERT_EQ(infir2::quantize(x[r * cols + c], ts, false),
                  data[r * cols + c])
            << r << "," << c;
    }
}

TEST(KernelPrelude, SinCosIsCorrectlyRounded) {
  // RoPE angles: positions up to 2^17 times frequencies up to 1.
  int64_t checked = 0;
  for (float x = -131072.0f; x < 131072.0f;
       x = std::nextafter(x, INFINITY) + std::fabs(x) * 3e-5f + 1e-4f) {
    float s, c;
    infir2::sin_cos(x, &s, &c);
    ASSERT_EQ(s, static_cast<float>(std::sin(static_cast<long double>(x))))
        << x;
    ASSERT_EQ(c, static_cast<float>(std::cos(static_cast<long double>(x))))
        << x;
    ++checked;
  }
  EXPECT_GT(checked, 500000);
}
} // namespace
