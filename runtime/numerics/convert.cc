//===- convert.cc - Bulk BF16/FP8/E8M0 conversions ------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/numerics/convert.h"

#include "runtime/numerics/isa.h"
#include "runtime/numerics/parallel.h"
#include "runtime/numerics/simd_avx2.h"

namespace infir2::numerics {
namespace {
/// Elements per thread below which a conversion stays on one thread.
constexpr int64_t kGrain = int64_t{1} << 18;

inline float toF32(float v) { return v; }
inline float toF32(uint16_t v) { return bf16ToF32(v); }

/// FP8 values are exact in bf16, so truncating the f32 is exact.
template <typename Out>
Out fromF32(float v);
template <>
inline float fromF32<float>(float v) {
  return v;
}
template <>
inline uint16_t fromF32<uint16_t>(float v) {
  return static_cast<uint16_t>(floatBits(v) >> 16);
}

#if INFIR2_HAVE_AVX2_KERNELS
template <typename In, bool kE4M3, bool kSat>
INFIR2_AVX2 int64_t toFp8Avx2(const In *in, uint8_t *out, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    avx2::storeBytes32(out + i,
                       avx2::f32ToFp8<kE4M3, kSat>(avx2::load8(in + i)),
                       avx2::f32ToFp8<kE4M3, kSat>(avx2::load8(in + i + 8)),
                       avx2::f32ToFp8<kE4M3, kSat>(avx2::load8(in + i + 16)),
                       avx2::f32ToFp8<kE4M3, kSat>(avx2::load8(in + i + 24)));
  for (; i + 8 <= n; i += 8)
    avx2::storeBytes8(out + i,
                      avx2::f32ToFp8<kE4M3, kSat>(avx2::load8(in + i)));
  return i;
}

template <typename In>
int64_t toFp8Avx2(const In *in, uint8_t *out, int64_t n, Fp8Format format,
                  Saturation saturation) {
  bool e4m3 = format == Fp8Format::kE4M3FN;
  bool sat = saturation == Saturation::kSatFinite;
  if (e4m3)
    return sat ? toFp8Avx2<In, true, true>(in, out, n)
               : toFp8Avx2<In, true, false>(in, out, n);
  return sat ? toFp8Avx2<In, false, true>(in, out, n)
             : toFp8Avx2<In, false, false>(in, out, n);
}

INFIR2_AVX2 int64_t f32ToBf16Avx2(const float *in, uint16_t *out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    avx2::storeU16x16(out + i, avx2::f32ToBf16(avx2::load8(in + i)),
                      avx2::f32ToBf16(avx2::load8(in + i + 8)));
  for (; i + 8 <= n; i += 8)
    avx2::storeU16x8(out + i, avx2::f32ToBf16(avx2::load8(in + i)));
  return i;
}

template <bool kE4M3>
INFIR2_AVX2 int64_t fromFp8Avx2(const uint8_t *in, float *out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, avx2::fp8ToF32<kE4M3>(in + i));
  return i;
}

template <bool kE4M3>
INFIR2_AVX2 int64_t fromFp8Avx2(const uint8_t *in, uint16_t *out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a = _mm256_srli_epi32(
        _mm256_castps_si256(avx2::fp8ToF32<kE4M3>(in + i)), 16);
    __m256i b = _mm256_srli_epi32(
        _mm256_castps_si256(avx2::fp8ToF32<kE4M3>(in + i + 8)), 16);
    avx2::storeU16x16(out + i, a, b);
  }
  return i;
}
INFIR2_AVX2 int64_t bf16ToF32Avx2(const uint16_t *in, float *out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, avx2::loadBf16(in + i));
  return i;
}

INFIR2_AVX2 inline __m256i e8m0Of8(const float *p, bool sat,
                                   E8M0Rounding rounding) {
  return avx2::f32ToE8M0(_mm256_loadu_ps(p), sat, rounding);
}

INFIR2_AVX2 inline __m256i e8m0Of8(const uint16_t *p, bool sat,
                                   E8M0Rounding rounding) {
  __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  return avx2::bf16BitsToE8M0(_mm256_cvtepu16_epi32(raw), sat, rounding);
}

template <typename In>
INFIR2_AVX2 int64_t toE8M0Avx2(const In *in, uint8_t *out, int64_t n,
                               Saturation saturation, E8M0Rounding rounding) {
  const bool sat = saturation == Saturation::kSatFinite;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    avx2::storeBytes8(out + i, e8m0Of8(in + i, sat, rounding));
  return i;
}

INFIR2_AVX2 int64_t e8m0ToF32Avx2(const uint8_t *in, float *out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, avx2::e8m0ToF32(in + i));
  return i;
}
#endif // INFIR2_HAVE_AVX2_KERNELS

/// Runs |body(begin, end)| over [0, n) on threads; vector bodies run to the
/// end of each chunk and scalar code finishes it.
template <typename Body>
void forChunks(int64_t n, Body body) {
  parallelFor(n, kGrain, [&](int64_t begin, int64_t end) { body(begin, end); });
}
} // namespace

void convertF32ToBf16(const float *in, uint16_t *out, int64_t n) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += f32ToBf16Avx2(in + b, out + b, e - b);
#endif
    for (; i < e; ++i)
      out[i] = f32ToBf16(in[i]);
  });
}

void convertBf16ToF32(const uint16_t *in, float *out, int64_t n) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += bf16ToF32Avx2(in + b, out + b, e - b);
#endif
    for (; i < e; ++i)
      out[i] = bf16ToF32(in[i]);
  });
}

void convertF32ToF16(const float *in, uint16_t *out, int64_t n) {
  forChunks(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      out[i] = f32ToF16(in[i]);
  });
}

void convertF16ToF32(const uint16_t *in, float *out, int64_t n) {
  forChunks(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      out[i] = f16ToF32(in[i]);
  });
}

template <typename In>
void convertToFp8(const In *in, uint8_t *out, int64_t n, Fp8Format format,
                  Saturation saturation) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += toFp8Avx2(in + b, out + b, e - b, format, saturation);
#endif
    for (; i < e; ++i)
      out[i] = f32ToFp8(toF32(in[i]), format, saturation);
  });
}

void convertF32ToFp8(const float *in, uint8_t *out, int64_t n, Fp8Format format,
                     Saturation saturation) {
  convertToFp8(in, out, n, format, saturation);
}

void convertBf16ToFp8(const uint16_t *in, uint8_t *out, int64_t n,
                      Fp8Format format, Saturation saturation) {
  convertToFp8(in, out, n, format, saturation);
}

template <typename Out>
void convertFromFp8(const uint8_t *in, Out *out, int64_t n, Fp8Format format) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += format == Fp8Format::kE4M3FN
               ? fromFp8Avx2<true>(in + b, out + b, e - b)
               : fromFp8Avx2<false>(in + b, out + b, e - b);
#endif
    for (; i < e; ++i)
      out[i] = fromF32<Out>(fp8ToF32(in[i], format));
  });
}

void convertFp8ToF32(const uint8_t *in, float *out, int64_t n,
                     Fp8Format format) {
  convertFromFp8(in, out, n, format);
}

void convertFp8ToBf16(const uint8_t *in, uint16_t *out, int64_t n,
                      Fp8Format format) {
  convertFromFp8(in, out, n, format);
}

void convertF32ToE8M0(const float *in, uint8_t *out, int64_t n,
                      Saturation saturation, E8M0Rounding rounding) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += toE8M0Avx2(in + b, out + b, e - b, saturation, rounding);
#endif
    for (; i < e; ++i)
      out[i] = f32ToE8M0(in[i], saturation, rounding);
  });
}

void convertBf16ToE8M0(const uint16_t *in, uint8_t *out, int64_t n,
                       Saturation saturation, E8M0Rounding rounding) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += toE8M0Avx2(in + b, out + b, e - b, saturation, rounding);
#endif
    for (; i < e; ++i)
      out[i] = bf16ToE8M0(in[i], saturation, rounding);
  });
}

void convertE8M0ToF32(const uint8_t *in, float *out, int64_t n) {
  forChunks(n, [&](int64_t b, int64_t e) {
    int64_t i = b;
#if INFIR2_HAVE_AVX2_KERNELS
    if (activeIsa() == Isa::kAvx2)
      i += e8m0ToF32Avx2(in + b, out + b, e - b);
#endif
    for (; i < e; ++i)
      out[i] = e8m0ToF32(in[i]);
  });
}
} // namespace infir2::numerics
