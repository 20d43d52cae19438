//===- convert.h - Bulk BF16/FP8/E8M0 conversions ---------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Array forms of the scalar conversions in float8.h, with identical results
// bit for bit: AVX2 kernels where the CPU has them (isa.h; f16 is scalar
// code), and split across
// threads (parallel.h) for arrays of a few hundred thousand elements or more.
// |in| and |out| must not overlap; |n| may be 0.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_CONVERT_H_
#define INFIR2_RUNTIME_NUMERICS_CONVERT_H_

#include <cstdint>

#include "runtime/numerics/float8.h"

namespace infir2::numerics {
void convertF32ToBf16(const float *in, uint16_t *out, int64_t n);
void convertBf16ToF32(const uint16_t *in, float *out, int64_t n);
void convertF32ToF16(const float *in, uint16_t *out, int64_t n);
void convertF16ToF32(const uint16_t *in, float *out, int64_t n);

void convertF32ToFp8(const float *in, uint8_t *out, int64_t n, Fp8Format format,
                     Saturation saturation);
void convertBf16ToFp8(const uint16_t *in, uint8_t *out, int64_t n,
                      Fp8Format format, Saturation saturation);
void convertFp8ToF32(const uint8_t *in, float *out, int64_t n,
                     Fp8Format format);
void convertFp8ToBf16(const uint8_t *in, uint16_t *out, int64_t n,
                      Fp8Format format);

void convertF32ToE8M0(const float *in, uint8_t *out, int64_t n,
                      Saturation saturation, E8M0Rounding rounding);
void convertBf16ToE8M0(const uint16_t *in, uint8_t *out, int64_t n,
                       Saturation saturation, E8M0Rounding rounding);
void convertE8M0ToF32(const uint8_t *in, float *out, int64_t n);
} // namespace infir2::numerics

#endif // INFIR2_RUNTIME_NUMERICS_CONVERT_H_
