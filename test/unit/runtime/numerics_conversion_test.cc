//===- numerics_conversion_test.cc - Conversions vs cuda_fp8.h ------------===//
//
// Part of infir2's tests. Every bf16 input (65,536) and every FP8 and E8M0
// code (256) through the scalar and the bulk conversions, for every ISA the
// CPU supports, against NVIDIA's host functions. The 2^32 f32 inputs are in
// numerics_exhaustive_test.cc.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "runtime/numerics/convert.h"
#include "runtime/numerics/float8.h"
#include "runtime/numerics/isa.h"
#include "test/unit/runtime/cuda_reference.h"

namespace infir2::numerics {
namespace {
constexpr Fp8Format kFormats[] = {Fp8Format::kE4M3FN, Fp8Format::kE5M2};
constexpr Saturation kSats[] = {Saturation::kSatFinite, Saturation::kNoSat};
constexpr E8M0Rounding kCudaRoundings[] = {E8M0Rounding::kTowardZero,
                                           E8M0Rounding::kUp};

std::vector<Isa> supportedIsas() {
  std::vector<Isa> isas = {Isa::kScalar};
  if (isaSupported(Isa::kAvx2))
    isas.push_back(Isa::kAvx2);
  return isas;
}

/// Restores the ISA a test changed.
struct IsaGuard {
  Isa saved = activeIsa();
  ~IsaGuard() { setIsa(saved); }
};

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%X", v);
  return buf;
}

std::vector<uint16_t> allBf16() {
  std::vector<uint16_t> v(65536);
  for (uint32_t i = 0; i < 65536; ++i)
    v[i] = static_cast<uint16_t>(i);
  return v;
}

std::vector<uint8_t> allCodes() {
  std::vector<uint8_t> v(256);
  for (uint32_t i = 0; i < 256; ++i)
    v[i] = static_cast<uint8_t>(i);
  return v;
}

TEST(NumericsConversion, AllBf16ToFp8MatchCuda) {
  IsaGuard guard;
  std::vector<uint16_t> in = allBf16();
  std::vector<uint8_t> bulk(in.size());
  for (Fp8Format f : kFormats)
    for (Saturation s : kSats) {
      for (uint16_t b : in)
        ASSERT_EQ(bf16ToFp8(b, f, s), cuda_ref::bf16ToFp8(b, f, s))
            << "bf16 " << hex(b) << " format " << int(f) << " sat " << int(s);
      for (Isa isa : supportedIsas()) {
        setIsa(isa);
        convertBf16ToFp8(in.data(), bulk.data(), in.size(), f, s);
        for (size_t i = 0; i < in.size(); ++i)
          ASSERT_EQ(bulk[i], cuda_ref::bf16ToFp8(in[i], f, s))
              << isaName(isa) << " bf16 " << hex(in[i]);
      }
    }
}

TEST(NumericsConversion, AllBf16ToE8M0MatchCuda) {
  std::vector<uint16_t> in = allBf16();
  std::vector<uint8_t> bulk(in.size());
  for (Saturation s : kSats)
    for (E8M0Rounding r : kCudaRoundings) {
      convertBf16ToE8M0(in.data(), bulk.data(), in.size(), s, r);
      for (size_t i = 0; i < in.size(); ++i) {
        uint8_t want = cuda_ref::bf16ToE8M0(in[i], s, r);
        ASSERT_EQ(bf16ToE8M0(in[i], s, r), want) << "bf16 " << hex(in[i]);
        ASSERT_EQ(bulk[i], want) << "bf16 " << hex(in[i]);
      }
    }
}

TEST(NumericsConversion, AllBf16ToF32MatchCuda) {
  std::vector<uint16_t> in = allBf16();
  std::vector<float> bulk(in.size());
  convertBf16ToF32(in.data(), bulk.data(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(floatBits(bf16ToF32(in[i])), cuda_ref::bf16ToF32Bits(in[i]));
    ASSERT_EQ(floatBits(bulk[i]), cuda_ref::bf16ToF32Bits(in[i]));
  }
}

TEST(NumericsConversion, AllF16ToF32MatchCuda) {
  std::vector<uint16_t> in(65536);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<uint16_t>(i);
  std::vector<float> bulk(in.size());
  convertF16ToF32(in.data(), bulk.data(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(floatBits(f16ToF32(in[i])), cuda_ref::f16ToF32Bits(in[i]))
        << "f16 " << hex(in[i]);
    ASSERT_EQ(floatBits(bulk[i]), cuda_ref::f16ToF32Bits(in[i]));
    // Every non-NaN f16 survives the round trip.
    if (!std::isnan(bulk[i])) {
      ASSERT_EQ(f32ToF16(bulk[i]), in[i]) << "f16 " << hex(in[i]);
    }
  }
}

TEST(NumericsConversion, AllFp8CodesToF32AndBf16MatchCuda) {
  IsaGuard guard;
  std::vector<uint8_t> codes = allCodes();
  std::vector<float> f32(256);
  std::vector<uint16_t> bf16(256);
  for (Fp8Format f : kFormats) {
    for (uint8_t c : codes) {
      ASSERT_EQ(floatBits(fp8ToF32(c, f)), cuda_ref::fp8ToF32Bits(c, f))
          << "code " << hex(c);
      ASSERT_EQ(fp8ToBf16(c, f), cuda_ref::fp8ToBf16(c, f))
          << "code " << hex(c);
    }
    for (Isa isa : supportedIsas()) {
      setIsa(isa);
      convertFp8ToF32(codes.data(), f32.data(), 256, f);
      convertFp8ToBf16(codes.data(), bf16.data(), 256, f);
      for (int c = 0; c < 256; ++c) {
        ASSERT_EQ(floatBits(f32[c]), cuda_ref::fp8ToF32Bits(c, f))
            << isaName(isa) << " code " << hex(c);
        ASSERT_EQ(bf16[c], cuda_ref::fp8ToBf16(c, f))
            << isaName(isa) << " code " << hex(c);
      }
    }
  }
}

TEST(NumericsConversion, AllE8M0CodesToF32MatchCuda) {
  std::vector<uint8_t> codes = allCodes();
  std::vector<float> bulk(256);
  convertE8M0ToF32(codes.data(), bulk.data(), 256);
  for (int e = 0; e < 256; ++e) {
    ASSERT_EQ(floatBits(e8m0ToF32(e)), cuda_ref::e8m0ToF32Bits(e))
        << "e8m0 " << hex(e);
    ASSERT_EQ(floatBits(bulk[e]), cuda_ref::e8m0ToF32Bits(e));
  }
}

TEST(NumericsConversion, Fp8RoundTripsThroughF32) {
  // Every non-NaN code survives decode + encode (no saturation needed).
  for (Fp8Format f : kFormats)
    for (int c = 0; c < 256; ++c) {
      float v = fp8ToF32(c, f);
      if (v != v)
        continue;
      EXPECT_EQ(f32ToFp8(v, f, Saturation::kNoSat), c) << "code " << hex(c);
    }
}

TEST(NumericsConversion, BulkHandlesEveryLengthAndOffset) {
  // Vector bodies and scalar tails must meet correctly at every length.
  IsaGuard guard;
  std::vector<float> in(200);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = (static_cast<float>(i) - 100.0f) * 3.7f;
  for (Isa isa : supportedIsas()) {
    setIsa(isa);
    for (int n = 0; n <= 70; ++n)
      for (int offset = 0; offset < 3; ++offset) {
        std::vector<uint8_t> out(n + 1, 0xAB);
        convertF32ToFp8(in.data() + offset, out.data(), n, Fp8Format::kE4M3FN,
                        Saturation::kSatFinite);
        for (int i = 0; i < n; ++i)
          ASSERT_EQ(out[i],
                    cuda_ref::f32ToFp8(in[offset + i], Fp8Format::kE4M3FN,
                                       Saturation::kSatFinite));
        ASSERT_EQ(out[n], 0xAB) << "wrote past the end at n=" << n;
        std::vector<uint16_t> bf(n + 1, 0xABCD);
        convertF32ToBf16(in.data() + offset, bf.data(), n);
        for (int i = 0; i < n; ++i)
          ASSERT_EQ(bf[i], cuda_ref::f32ToBf16(in[offset + i]));
        ASSERT_EQ(bf[n], 0xABCD);
      }
  }
}

#if defined(__x86_64__)
TEST(NumericsConversion, FlushToZeroModeChangesNothing) {
  // The conversions are integer arithmetic: with the caller's FPU set to
  // flush-to-zero and denormals-are-zero they still match cuda_fp8.h, whose
  // reference values are computed before switching.
  IsaGuard guard;
  std::vector<uint16_t> in = allBf16();
  std::vector<uint8_t> want8(in.size()), got8(in.size());
  std::vector<uint8_t> codes = allCodes();
  std::vector<uint32_t> wantF(256);
  for (Fp8Format f : kFormats) {
    for (size_t i = 0; i < in.size(); ++i)
      want8[i] = cuda_ref::bf16ToFp8(in[i], f, Saturation::kSatFinite);
    for (int c = 0; c < 256; ++c)
      wantF[c] = cuda_ref::fp8ToF32Bits(c, f);
    for (Isa isa : supportedIsas()) {
      setIsa(isa);
      const uint32_t saved = _mm_getcsr();
      _mm_setcsr(0x9FC0u); // FTZ | DAZ | all exceptions masked
      convertBf16ToFp8(in.data(), got8.data(), in.size(), f,
                       Saturation::kSatFinite);
      std::vector<float> decoded(256);
      convertFp8ToF32(codes.data(), decoded.data(), 256, f);
      std::vector<uint8_t> scalar(in.size());
      for (size_t i = 0; i < in.size(); ++i)
        scalar[i] = bf16ToFp8(in[i], f, Saturation::kSatFinite);
      float scalarDecoded[256];
      for (int c = 0; c < 256; ++c)
        scalarDecoded[c] = fp8ToF32(c, f);
      _mm_setcsr(saved);
      EXPECT_EQ(got8, want8) << isaName(isa);
      EXPECT_EQ(scalar, want8);
      for (int c = 0; c < 256; ++c) {
        EXPECT_EQ(floatBits(decoded[c]), wantF[c]) << "code " << hex(c);
        EXPECT_EQ(floatBits(scalarDecoded[c]), wantF[c]) << "code " << hex(c);
      }
    }
  }
}
#endif

TEST(NumericsConversion, NamedValues) {
  // Values a reader can check by hand against the E4M3FN/E5M2 tables.
  EXPECT_EQ(f32ToFp8(448.0f, Fp8Format::kE4M3FN, Saturation::kNoSat), 0x7E);
  EXPECT_EQ(f32ToFp8(464.0f, Fp8Format::kE4M3FN, Saturation::kNoSat), 0x7E);
  EXPECT_EQ(f32ToFp8(465.0f, Fp8Format::kE4M3FN, Saturation::kNoSat), 0x7F);
  EXPECT_EQ(f32ToFp8(-1e9f, Fp8Format::kE4M3FN, Saturation::kSatFinite), 0xFE);
  EXPECT_EQ(f32ToFp8(0x1p-9f, Fp8Format::kE4M3FN, Saturation::kNoSat), 0x01);
  EXPECT_EQ(f32ToFp8(0x1p-10f, Fp8Format::kE4M3FN, Saturation::kNoSat), 0x00);
  EXPECT_EQ(f32ToFp8(-0.0f, Fp8Format::kE4M3FN, Saturation::kNoSat), 0x80);
  EXPECT_EQ(f32ToFp8(57344.0f, Fp8Format::kE5M2, Saturation::kNoSat), 0x7B);
  EXPECT_EQ(f32ToFp8(61440.0f, Fp8Format::kE5M2, Saturation::kNoSat), 0x7C);
  EXPECT_EQ(f32ToFp8(61440.0f, Fp8Format::kE5M2, Saturation::kSatFinite), 0x7B);
  EXPECT_EQ(fp8ToF32(0x7E, Fp8Format::kE4M3FN), 448.0f);
  EXPECT_EQ(fp8ToF32(0x01, Fp8Format::kE4M3FN), 0x1p-9f);
  EXPECT_EQ(fp8ToF32(0x01, Fp8Format::kE5M2), 0x1p-16f);
  EXPECT_EQ(f32ToBf16(1.00390625f), 0x3F80); // tie to even
  EXPECT_EQ(f32ToE8M0(3.0f, Saturation::kSatFinite, E8M0Rounding::kUp), 0x81);
  EXPECT_EQ(f32ToE8M0(3.0f, Saturation::kSatFinite, E8M0Rounding::kTowardZero),
            0x80);
  EXPECT_EQ(e8m0ToF32(127), 1.0f);
  EXPECT_EQ(e8m0ToF32(0), 0x1p-127f);
}
} // namespace
} // namespace infir2::numerics
