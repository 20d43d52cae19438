//===- simd_avx2.h - AVX2 building blocks of the numerics kernels -*- C++ -*-//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here. Internal to
// runtime/numerics.
//
// Every function carries __attribute__((target("avx2,fma"))) instead of the
// translation unit being compiled with -mavx2: inline functions shared with
// scalar code (float8.h) then stay baseline x86-64 in every object, so the
// linker cannot pick an AVX2 copy of them for a CPU without AVX2. Callers
// check activeIsa() before calling into this file.
//
// Each kernel is the vector form of the scalar definition in float8.h and is
// checked against it (and against cuda_fp8.h) on every f32 input. Like the
// scalar code, the conversion kernels use integer arithmetic only, so
// flush-to-zero settings cannot change them.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_SIMD_AVX2_H_
#define INFIR2_RUNTIME_NUMERICS_SIMD_AVX2_H_

#if defined(__x86_64__)
#define INFIR2_HAVE_AVX2_KERNELS 1

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "runtime/numerics/float8.h"

#define INFIR2_AVX2 __attribute__((target("avx2,fma")))

namespace infir2::numerics::avx2 {
INFIR2_AVX2 inline __m256i set1(uint32_t v) {
  return _mm256_set1_epi32(static_cast<int>(v));
}

/// Eight bf16 values widened to f32 (exact).
INFIR2_AVX2 inline __m256 loadBf16(const uint16_t *p) {
  __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

INFIR2_AVX2 inline __m256 load8(const float *p) { return _mm256_loadu_ps(p); }
INFIR2_AVX2 inline __m256 load8(const uint16_t *p) { return loadBf16(p); }

/// |x| as integer bits; integer order equals float order for |x|, and NaNs
/// compare above infinity, so an integer max propagates NaN.
INFIR2_AVX2 inline __m256i absBits(__m256 x) {
  return _mm256_and_si256(_mm256_castps_si256(x), set1(0x7FFFFFFFu));
}

INFIR2_AVX2 inline uint32_t hmaxU32(__m256i v) {
  __m128i m =
      _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_max_epu32(m, _mm_shuffle_epi32(m, 0x4E));
  m = _mm_max_epu32(m, _mm_shuffle_epi32(m, 0xB1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(m));
}

/// f32 -> FP8 codes (one per 32-bit lane), the vector form of f32ToFp8.
template <bool kE4M3, bool kSat>
INFIR2_AVX2 inline __m256i f32ToFp8(__m256 x) {
  constexpr uint32_t kDrop = kE4M3 ? 20 : 21;
  constexpr uint32_t kRebias = kE4M3 ? (120u << 3) : (112u << 2);
  constexpr uint32_t kMinNormal = kE4M3 ? 0x3C800000u : 0x38800000u;
  // Largest |x| bits that do not overflow (464 rounds down to 448; just below
  // 61440 rounds down to 57344).
  constexpr uint32_t kLastInRange = kE4M3 ? 0x43E80000u : 0x476FFFFFu;
  const __m256i u = _mm256_castps_si256(x);
  const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(u, 24), set1(0x80));
  __m256i a = _mm256_and_si256(u, set1(0x7FFFFFFFu));
  const __m256i nan = _mm256_cmpgt_epi32(a, set1(0x7F800000u));
  const __m256i over = _mm256_cmpgt_epi32(a, set1(kLastInRange));
  if (kSat)
    a = _mm256_min_epu32(a, set1(kLastInRange));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(a, kDrop), set1(1));
  const __m256i rounded =
      _mm256_add_epi32(a, _mm256_add_epi32(set1((1u << (kDrop - 1)) - 1), lsb));
  const __m256i normal =
      _mm256_sub_epi32(_mm256_srli_epi32(rounded, kDrop), set1(kRebias));
  const __m256i isSub = _mm256_cmpgt_epi32(set1(kMinNormal), a);
  __m256i code = normal;
  // Values below the smallest normal are rare in real tensors: the integer
  // subnormal path runs only for vectors that hold one.
  if (!_mm256_testz_si256(isSub, isSub)) {
    // As in float8.h: M >> (K - e), rounded to nearest even; variable
    // shifts by 32 or more give 0, the right count for the tiniest inputs.
    // (Lanes that are not subnormal compute garbage and are blended away.)
    const __m256i e = _mm256_srli_epi32(a, 23);
    const __m256i m = _mm256_or_si256(
        _mm256_and_si256(a, set1(0x7FFFFFu)),
        _mm256_and_si256(_mm256_cmpgt_epi32(e, _mm256_setzero_si256()),
                         set1(0x800000u)));
    const __m256i shift = _mm256_sub_epi32(set1(kE4M3 ? 141u : 134u),
                                           _mm256_max_epi32(e, set1(1)));
    const __m256i half =
        _mm256_sllv_epi32(set1(1), _mm256_sub_epi32(shift, set1(1)));
    const __m256i subLsb =
        _mm256_and_si256(_mm256_srlv_epi32(m, shift), set1(1));
    const __m256i sub =
        _mm256_srlv_epi32(_mm256_add_epi32(_mm256_add_epi32(m, half),
                                           _mm256_sub_epi32(subLsb, set1(1))),
                          shift);
    code = _mm256_blendv_epi8(normal, sub, isSub);
  }
  if (!kSat)
    code = _mm256_blendv_epi8(code, set1(kE4M3 ? 0x7F : 0x7C), over);
  code = _mm256_or_si256(code, sign);
  return _mm256_blendv_epi8(code, set1(0x7F), nan);
}

/// Packs four vectors of byte-valued 32-bit lanes into 32 bytes, in order.
INFIR2_AVX2 inline void storeBytes32(uint8_t *out, __m256i a, __m256i b,
                                     __m256i c, __m256i d) {
  __m256i ab = _mm256_packus_epi32(a, b);
  __m256i cd = _mm256_packus_epi32(c, d);
  __m256i abcd = _mm256_packus_epi16(ab, cd);
  abcd = _mm256_permutevar8x32_epi32(abcd,
                                     _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out), abcd);
}

/// Packs one vector of byte-valued 32-bit lanes into 8 bytes, in order.
INFIR2_AVX2 inline void storeBytes8(uint8_t *out, __m256i a) {
  __m256i p =
      _mm256_packus_epi16(_mm256_packus_epi32(a, a), _mm256_setzero_si256());
  p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  uint64_t bytes =
      static_cast<uint64_t>(_mm_cvtsi128_si64(_mm256_castsi256_si128(p)));
  std::memcpy(out, &bytes, 8);
}

/// f32 -> bf16 bits (one per 32-bit lane), the vector form of f32ToBf16.
INFIR2_AVX2 inline __m256i f32ToBf16(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, set1(0x7FFFFFFFu)),
                                         set1(0x7F800000u));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), set1(1));
  __m256i r = _mm256_srli_epi32(
      _mm256_add_epi32(u, _mm256_add_epi32(set1(0x7FFF), lsb)), 16);
  return _mm256_blendv_epi8(r, set1(0x7FFF), nan);
}

/// Packs two vectors of 16-bit-valued lanes into 16 uint16, in order.
INFIR2_AVX2 inline void storeU16x16(uint16_t *out, __m256i a, __m256i b) {
  __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out), p);
}

INFIR2_AVX2 inline void storeU16x8(uint16_t *out, __m256i a) {
  __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, a), 0xD8);
  _mm_storeu_si128(reinterpret_cast<__m128i *>(out), _mm256_castsi256_si128(p));
}

/// Eight FP8 codes -> f32, the vector form of fp8ToF32.
template <bool kE4M3>
INFIR2_AVX2 inline __m256 fp8ToF32(const uint8_t *p) {
  int64_t raw;
  std::memcpy(&raw, p, 8);
  const __m256i c = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(raw));
  const __m256i mag = _mm256_and_si256(c, set1(0x7F));
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(c, set1(0x80)), 24);
  constexpr int kShift = kE4M3 ? 20 : 21;
  // Normal: move exponent and mantissa into f32 position and rebias.
  const __m256i normal = _mm256_add_epi32(
      _mm256_slli_epi32(mag, kShift), set1(kE4M3 ? 120u << 23 : 112u << 23));
  // Subnormal (exponent 0): the mantissa times the smallest subnormal,
  // computed on integers to stay clear of denormal-operand slow paths.
  const __m256i sub = _mm256_castps_si256(_mm256_mul_ps(
      _mm256_cvtepi32_ps(mag), _mm256_set1_ps(kE4M3 ? 0x1p-9f : 0x1p-16f)));
  const __m256i isSub =
      _mm256_cmpgt_epi32(set1(kE4M3 ? 8 : 4), mag); // exponent field 0
  __m256i v = _mm256_or_si256(_mm256_blendv_epi8(normal, sub, isSub), sign);
  if (kE4M3) {
    v = _mm256_blendv_epi8(v, set1(0x7FFFFFFFu),
                           _mm256_cmpeq_epi32(mag, set1(0x7F)));
  } else {
    v = _mm256_blendv_epi8(v, _mm256_or_si256(sign, set1(0x7F800000u)),
                           _mm256_cmpeq_epi32(mag, set1(0x7C)));
    v = _mm256_blendv_epi8(v, set1(0x7FFFFFFFu),
                           _mm256_cmpgt_epi32(mag, set1(0x7C)));
  }
  return _mm256_castsi256_ps(v);
}
/// Eight bf16 bit patterns (one per 32-bit lane) -> E8M0 bytes, the vector
/// form of bf16ToE8M0.
INFIR2_AVX2 inline __m256i bf16BitsToE8M0(__m256i b, bool sat,
                                          E8M0Rounding rounding) {
  const __m256i a = _mm256_and_si256(b, set1(0x7FFF));
  __m256i e = _mm256_srli_epi32(a, 7);
  const __m256i finite = _mm256_cmpgt_epi32(set1(0x7F80), a);
  __m256i up = _mm256_setzero_si256();
  if (rounding == E8M0Rounding::kUp) {
    const __m256i frac = _mm256_cmpgt_epi32(_mm256_and_si256(a, set1(0x7F)),
                                            _mm256_setzero_si256());
    up = _mm256_and_si256(frac, _mm256_cmpgt_epi32(a, set1(0x40)));
  } else if (rounding == E8M0Rounding::kNearest) {
    const __m256i normal = _mm256_cmpgt_epi32(a, set1(0x7F));
    const __m256i half = _mm256_cmpgt_epi32(_mm256_and_si256(a, set1(0x40)),
                                            _mm256_setzero_si256());
    const __m256i subUp = _mm256_cmpgt_epi32(a, set1(0x5F));
    up = _mm256_blendv_epi8(subUp, half, normal);
  }
  e = _mm256_sub_epi32(e, _mm256_and_si256(up, finite)); // mask is -1
  if (sat) {
    const __m256i notNaN = _mm256_cmpgt_epi32(set1(0x7F81), a);
    const __m256i top = _mm256_cmpeq_epi32(e, set1(0xFF));
    e = _mm256_add_epi32(e, _mm256_and_si256(notNaN, top)); // 0xFF -> 0xFE
  }
  return e;
}

/// Eight f32 values -> E8M0 bytes, the vector form of f32ToE8M0.
INFIR2_AVX2 inline __m256i f32ToE8M0(__m256 x, bool sat,
                                     E8M0Rounding rounding) {
  const __m256i a = absBits(x);
  const __m256i nan = _mm256_cmpgt_epi32(a, set1(0x7F800000u));
  const __m256i finite = _mm256_cmpgt_epi32(set1(0x7F800000u), a);
  __m256i e;
  if (rounding == E8M0Rounding::kNearest) {
    e = _mm256_srli_epi32(a, 23);
    const __m256i normal = _mm256_cmpgt_epi32(a, set1(0x007FFFFFu));
    const __m256i half = _mm256_cmpgt_epi32(
        _mm256_and_si256(a, set1(0x400000u)), _mm256_setzero_si256());
    const __m256i subUp = _mm256_cmpgt_epi32(a, set1(0x005FFFFFu));
    e = _mm256_sub_epi32(
        e, _mm256_and_si256(_mm256_blendv_epi8(subUp, half, normal), finite));
    if (sat) {
      const __m256i top = _mm256_cmpeq_epi32(e, set1(0xFF));
      e = _mm256_add_epi32(e, _mm256_andnot_si256(nan, top));
    }
  } else {
    // Through bf16 as cuda_fp8.h does: truncated, or rounded up when any of
    // the dropped bits is set (finite values only).
    __m256i b = _mm256_srli_epi32(a, 16);
    if (rounding == E8M0Rounding::kUp) {
      const __m256i dropped = _mm256_cmpgt_epi32(
          _mm256_and_si256(a, set1(0xFFFF)), _mm256_setzero_si256());
      b = _mm256_sub_epi32(b, _mm256_and_si256(dropped, finite));
    }
    e = bf16BitsToE8M0(b, sat, rounding);
  }
  return _mm256_blendv_epi8(e, set1(0xFF), nan);
}

/// Eight E8M0 bytes -> f32, the vector form of e8m0ToF32.
INFIR2_AVX2 inline __m256 e8m0ToF32(const uint8_t *p) {
  int64_t raw;
  std::memcpy(&raw, p, 8);
  const __m256i e = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(raw));
  __m256i v = _mm256_slli_epi32(e, 23);
  v = _mm256_blendv_epi8(v, set1(0x00400000u),
                         _mm256_cmpeq_epi32(e, _mm256_setzero_si256()));
  v = _mm256_blendv_epi8(v, set1(0x7FFF0000u),
                         _mm256_cmpeq_epi32(e, set1(0xFF)));
  return _mm256_castsi256_ps(v);
}
} // namespace infir2::numerics::avx2

#endif // defined(__x86_64__)

#endif // INFIR2_RUNTIME_NUMERICS_SIMD_AVX2_H_
