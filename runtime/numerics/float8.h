//===- float8.h - Scalar BF16/FP8/E8M0 conversions --------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Bit-exact scalar conversions between f32, bf16, f16, the FP8 formats E4M3FN
// and E5M2, and the E8M0 scale format. Values travel as their bit patterns
// (uint16_t for bf16, uint8_t for FP8 and E8M0), the form they have in
// tensors and checkpoints. Every function reproduces the host code of
// CUDA 13's cuda_bf16.h / cuda_fp8.h exactly, NaN encodings included, which
// the exhaustive tests (test/unit/runtime/numerics_exhaustive_test.cc) check
// on every input. They use integer arithmetic only, so their results do not
// depend on the FPU's rounding mode or flush-to-zero settings.
//
// The bulk and SIMD versions are in convert.h; block quantization is in
// block_quant.h.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_FLOAT8_H_
#define INFIR2_RUNTIME_NUMERICS_FLOAT8_H_

#include <cstdint>
#include <cstring>

namespace infir2::numerics {
/// FP8 formats.
enum class Fp8Format : uint8_t {
  kE4M3FN, ///< 4 exponent bits (bias 7), no infinities, NaN 0x7F/0xFF; max 448.
  kE5M2,   ///< 5 exponent bits (bias 15), IEEE inf/NaN; max 57344.
};

/// What a conversion does with finite values beyond the format's range.
enum class Saturation : uint8_t {
  kSatFinite, ///< Clamp to the largest finite value (cuda_fp8.h
              ///< __NV_SATFINITE).
  kNoSat, ///< Overflow to NaN (E4M3FN, E8M0) or infinity (E5M2) (__NV_NOSAT).
};

/// Rounding of a value to an E8M0 power of two.
enum class E8M0Rounding : uint8_t {
  kTowardZero, ///< 2^floor(log2|x|) (cuda_fp8.h cudaRoundZero).
  kUp,         ///< 2^ceil(log2|x|) (cuda_fp8.h cudaRoundPosInf).
  kNearest,    ///< the nearer power of two in value; halfway rounds up
               ///< (ml_dtypes' float8_e8m0fnu conversion). Not in cuda_fp8.h.
};

/// Largest finite value of |format|: 448 or 57344.
constexpr float fp8MaxFinite(Fp8Format format) {
  return format == Fp8Format::kE4M3FN ? 448.0f : 57344.0f;
}

//===----------------------------------------------------------------------===//
// Bit casts
//===----------------------------------------------------------------------===//

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

//===----------------------------------------------------------------------===//
// f32 <-> bf16
//===----------------------------------------------------------------------===//

/// f32 -> bf16, round to nearest even; every NaN becomes 0x7FFF
/// (__float2bfloat16).
inline uint16_t f32ToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u)
    return 0x7FFF;
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

/// bf16 -> f32, exact.
inline float bf16ToF32(uint16_t b) {
  return bitsFloat(static_cast<uint32_t>(b) << 16);
}

//===----------------------------------------------------------------------===//
// f32 <-> f16 (IEEE binary16)
//===----------------------------------------------------------------------===//

/// f32 -> f16, round to nearest even, overflow to infinity; every NaN
/// becomes 0x7FFF (__float2half_rn).
inline uint16_t f32ToF16(float f) {
  const uint32_t u = floatBits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return 0x7FFF;
  if (a >= 0x477FF000u) // 65520 and up round to infinity
    return sign | 0x7C00u;
  if (a >= 0x38800000u) { // normal: 2^-14 and up
    const uint32_t r = a + 0xFFFu + ((a >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((r - 0x38000000u) >> 13));
  }
  if (a <= 0x33000000u) // 2^-25 and below round to zero (2^-25 is a tie)
    return sign;
  // Subnormal: the significand in units of 2^-24, rounded to nearest even.
  const uint32_t e = a >> 23, m = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126 - e;
  uint32_t r = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (r & 1u)))
    ++r;
  return static_cast<uint16_t>(sign | r);
}

/// f16 -> f32, exact; every NaN becomes 0x7FFFFFFF (__half2float).
inline float f16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 0x1F)
    return bitsFloat(m ? 0x7FFFFFFFu : sign | 0x7F800000u);
  if (e == 0) {
    if (m == 0)
      return bitsFloat(sign);
    uint32_t shift = 0;
    while (!(m & 0x400u)) {
      m <<= 1;
      ++shift;
    }
    return bitsFloat(sign | ((113 - shift) << 23) | ((m & 0x3FFu) << 13));
  }
  return bitsFloat(sign | ((e + 112) << 23) | (m << 13));
}

//===----------------------------------------------------------------------===//
// f32 / bf16 -> FP8
//===----------------------------------------------------------------------===//

/// f32 -> FP8, round to nearest even (__nv_cvt_float_to_fp8). Every NaN
/// becomes 0x7F; the sign of zeros, finite values and infinities is kept.
inline uint8_t f32ToFp8(float f, Fp8Format format, Saturation saturation) {
  const bool e4m3 = format == Fp8Format::kE4M3FN;
  const uint32_t u = floatBits(f);
  const uint32_t sign = (u >> 24) & 0x80u;
  uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return 0x7F;
  // Values past the midpoint between the largest finite value and the next
  // (464 for E4M3FN, 61440 for E5M2) overflow; the midpoint itself rounds
  // to even, which is down for E4M3FN and up (to inf) for E5M2.
  const bool overflow = e4m3 ? a > 0x43E80000u : a >= 0x47700000u;
  if (overflow) {
    if (saturation == Saturation::kSatFinite)
      return static_cast<uint8_t>(sign | (e4m3 ? 0x7Eu : 0x7Bu));
    return static_cast<uint8_t>(sign | (e4m3 ? 0x7Fu : 0x7Cu));
  }
  const uint32_t mantissaBits = e4m3 ? 3 : 2;
  const uint32_t drop = 23 - mantissaBits;
  const uint32_t minNormal = e4m3 ? 0x3C800000u : 0x38800000u; // 2^-6, 2^-14
  uint32_t code;
  if (a >= minNormal) {
    // Round the mantissa to |mantissaBits| bits, then rebias the exponent.
    a += ((1u << (drop - 1)) - 1) + ((a >> drop) & 1u);
    code = (a >> drop) - ((127u - (e4m3 ? 7u : 15u)) << mantissaBits);
  } else {
    // Subnormal: the number of smallest subnormals (2^-9 or 2^-16) it holds,
    // rounded to nearest even. |x| = M * 2^(e - 150) with M the significand
    // (implicit bit included), so the count is M >> (141 or 134 - e).
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7FFFFFu) | (e ? 0x800000u : 0u);
    const uint32_t shift = (e4m3 ? 141u : 134u) - (e ? e : 1u); // >= 21
    code = shift > 31
               ? 0
               : (m + (1u << (shift - 1)) - 1 + ((m >> shift) & 1u)) >> shift;
  }
  return static_cast<uint8_t>(sign | code);
}

/// bf16 -> FP8 (__nv_cvt_bfloat16raw_to_fp8).
inline uint8_t bf16ToFp8(uint16_t b, Fp8Format format, Saturation saturation) {
  return f32ToFp8(bf16ToF32(b), format, saturation);
}

//===----------------------------------------------------------------------===//
// FP8 -> f32 / bf16
//===----------------------------------------------------------------------===//

/// FP8 -> f32, exact. Every NaN code gives the canonical 0x7FFFFFFF (the
/// sign is dropped) and E5M2 infinities give infinities, as
/// __nv_cvt_fp8_to_halfraw followed by the exact half -> float conversion.
inline float fp8ToF32(uint8_t c, Fp8Format format) {
  const bool e4m3 = format == Fp8Format::kE4M3FN;
  const uint32_t sign = static_cast<uint32_t>(c & 0x80u) << 24;
  const uint32_t mag = c & 0x7Fu;
  const uint32_t mantissaBits = e4m3 ? 3 : 2;
  if (e4m3 ? mag == 0x7F : mag > 0x7C)
    return bitsFloat(0x7FFFFFFFu);
  if (!e4m3 && mag == 0x7C)
    return bitsFloat(sign | 0x7F800000u);
  if (mag >= (1u << mantissaBits)) // normal: rebias the exponent
    return bitsFloat(
        sign | ((mag << (23 - mantissaBits)) + ((e4m3 ? 120u : 112u) << 23)));
  if (mag == 0)
    return bitsFloat(sign);
  // Subnormal: mag * 2^-9 (2^-16), normalized into an f32.
  const uint32_t top = 31u - static_cast<uint32_t>(__builtin_clz(mag));
  const uint32_t exponent = top + 127u - (e4m3 ? 9u : 16u);
  return bitsFloat(sign | (exponent << 23) |
                   ((mag - (1u << top)) << (23 - top)));
}

/// FP8 -> bf16, exact (every FP8 value is a bf16 value); every NaN code gives
/// 0x7FFF.
inline uint16_t fp8ToBf16(uint8_t c, Fp8Format format) {
  return static_cast<uint16_t>(floatBits(fp8ToF32(c, format)) >> 16);
}

//===----------------------------------------------------------------------===//
// E8M0
//===----------------------------------------------------------------------===//

/// bf16 -> E8M0 (__nv_cvt_bfloat16raw_to_e8m0 for kTowardZero and kUp). The
/// sign is ignored; |x| below 2^-127 gives 0x00 (2^-127); NaN gives 0xFF;
/// overflow gives 0xFE with kSatFinite and 0xFF (NaN) with kNoSat.
inline uint8_t bf16ToE8M0(uint16_t b, Saturation saturation,
                          E8M0Rounding rounding) {
  const uint32_t a = b & 0x7FFFu;
  uint32_t e = a >> 7;
  if (a < 0x7F80u) { // finite
    if (rounding == E8M0Rounding::kUp) {
      if ((a & 0x7Fu) && a > 0x0040u)
        ++e;
    } else if (rounding == E8M0Rounding::kNearest) {
      // Normal: up from 1.5 * 2^k. Subnormal: between 2^-127 (0x00) and
      // 2^-126 (0x01), up from 1.5 * 2^-127 (mantissa 0x60); smaller values
      // clip to 2^-127 like the other modes.
      if (a >= 0x0080u ? (a & 0x40u) != 0 : a >= 0x0060u)
        ++e;
    }
  }
  if (saturation == Saturation::kSatFinite && a <= 0x7F80u && e == 0xFF)
    e = 0xFE;
  return static_cast<uint8_t>(e);
}

/// f32 -> E8M0 (__nv_cvt_float_to_e8m0 for kTowardZero and kUp), with the
/// rules of bf16ToE8M0. kNearest rounds the f32 value directly (no bf16
/// step, so no double rounding).
inline uint8_t f32ToE8M0(float f, Saturation saturation,
                         E8M0Rounding rounding) {
  const uint32_t u = floatBits(f);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return 0xFF;
  uint16_t b = 0;
  switch (rounding) {
  case E8M0Rounding::kTowardZero:
    b = static_cast<uint16_t>(a >> 16); // truncate
    break;
  case E8M0Rounding::kUp:
    b = static_cast<uint16_t>((a >> 16) +
                              ((a & 0xFFFFu) != 0 && a < 0x7F800000u));
    break;
  case E8M0Rounding::kNearest: {
    uint32_t e = a >> 23;
    if (a < 0x7F800000u) {
      if (e != 0 ? (a & 0x400000u) != 0 : a >= 0x00600000u)
        ++e;
    }
    if (saturation == Saturation::kSatFinite && e == 0xFF && a <= 0x7F800000u)
      e = 0xFE;
    return static_cast<uint8_t>(e);
  }
  }
  return bf16ToE8M0(b, saturation, rounding);
}

/// E8M0 -> f32: 2^(e - 127), exact (2^-127 is an f32 subnormal); 0xFF is NaN
/// 0x7FFF0000 (__nv_cvt_e8m0_to_bf16raw's 0x7FFF widened, as the
/// __nv_fp8_e8m0 -> float conversion does).
inline float e8m0ToF32(uint8_t e) {
  if (e == 0xFF)
    return bitsFloat(0x7FFF0000u);
  if (e == 0)
    return bitsFloat(0x00400000u);
  return bitsFloat(static_cast<uint32_t>(e) << 23);
}
} // namespace infir2::numerics

#endif // INFIR2_RUNTIME_NUMERICS_FLOAT8_H_
