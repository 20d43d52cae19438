//===- cuda_reference.h - NVIDIA's host conversions as the reference ------===//
//
// Part of infir2's tests. cuda_fp8.h / cuda_bf16.h / cuda_fp16.h from the
// CUDA Toolkit compiled as host code: the conversions every numerics test
// compares against, bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_TEST_UNIT_RUNTIME_CUDA_REFERENCE_H_
#define INFIR2_TEST_UNIT_RUNTIME_CUDA_REFERENCE_H_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>
#include <cstring>

#include "runtime/numerics/float8.h"

namespace infir2::numerics::cuda_ref {
inline __nv_fp8_interpretation_t interp(Fp8Format f) {
  return f == Fp8Format::kE4M3FN ? __NV_E4M3 : __NV_E5M2;
}
inline __nv_saturation_t sat(Saturation s) {
  return s == Saturation::kSatFinite ? __NV_SATFINITE : __NV_NOSAT;
}
inline cudaRoundMode round(E8M0Rounding r) {
  return r == E8M0Rounding::kTowardZero ? cudaRoundZero : cudaRoundPosInf;
}

inline uint8_t f32ToFp8(float x, Fp8Format f, Saturation s) {
  return __nv_cvt_float_to_fp8(x, sat(s), interp(f));
}
inline uint8_t bf16ToFp8(uint16_t b, Fp8Format f, Saturation s) {
  __nv_bfloat16_raw raw;
  raw.x = b;
  return __nv_cvt_bfloat16raw_to_fp8(raw, sat(s), interp(f));
}
/// FP8 -> half (__nv_cvt_fp8_to_halfraw) -> float, exact.
inline uint32_t fp8ToF32Bits(uint8_t c, Fp8Format f) {
  __half_raw h = __nv_cvt_fp8_to_halfraw(c, interp(f));
  float v = __half2float(__half(h));
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}
/// The __nv_fp8_* -> __nv_bfloat16 conversion operator.
inline uint16_t fp8ToBf16(uint8_t c, Fp8Format f) {
  __nv_bfloat16 b;
  if (f == Fp8Format::kE4M3FN) {
    __nv_fp8_e4m3 v;
    v.__x = c;
    b = static_cast<__nv_bfloat16>(v);
  } else {
    __nv_fp8_e5m2 v;
    v.__x = c;
    b = static_cast<__nv_bfloat16>(v);
  }
  return static_cast<__nv_bfloat16_raw>(b).x;
}
inline uint8_t f32ToE8M0(float x, Saturation s, E8M0Rounding r) {
  return __nv_cvt_float_to_e8m0(x, sat(s), round(r));
}
inline uint8_t bf16ToE8M0(uint16_t b, Saturation s, E8M0Rounding r) {
  __nv_bfloat16_raw raw;
  raw.x = b;
  return __nv_cvt_bfloat16raw_to_e8m0(raw, sat(s), round(r));
}
/// __nv_fp8_e8m0 -> float.
inline uint32_t e8m0ToF32Bits(uint8_t e) {
  __nv_fp8_e8m0 v;
  v.__x = e;
  float f = static_cast<float>(v);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
/// __float2bfloat16 (round to nearest even).
inline uint16_t f32ToBf16(float x) {
  return static_cast<__nv_bfloat16_raw>(__float2bfloat16(x)).x;
}
/// __bfloat162float.
inline uint32_t bf16ToF32Bits(uint16_t b) {
  __nv_bfloat16_raw raw;
  raw.x = b;
  float f = __bfloat162float(__nv_bfloat16(raw));
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
/// __float2half_rn.
inline uint16_t f32ToF16(float x) {
  return static_cast<__half_raw>(__float2half_rn(x)).x;
}
/// __half2float.
inline uint32_t f16ToF32Bits(uint16_t h) {
  __half_raw raw;
  raw.x = h;
  float f = __half2float(__half(raw));
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
} // namespace infir2::numerics::cuda_ref

#endif // INFIR2_TEST_UNIT_RUNTIME_CUDA_REFERENCE_H_
