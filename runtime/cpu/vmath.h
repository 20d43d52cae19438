//===- vmath.h - Vectorized elementwise math for the CPU kernels -*- C++
//-*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// exp over arrays, AVX2 + FMA when the CPU has them (numerics::activeIsa),
// glibc's expf otherwise. The vector exp is Cephes' expf (Cody-Waite range
// reduction, degree-5 polynomial) with a two-step power-of-two scaling, so it
// covers the whole f32 range: within 1 ulp of the correctly rounded result
// for normal results (cpu_kernels_test.cc sweeps 2^24 inputs, asserts 2),
// subnormal results to 1 ulp of the subnormal spacing, +inf above 88.72,
// 0 below -103.97, NaN kept. The softmax, SiLU and cross entropy of the
// CPU backend spend most of their time here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CPU_VMATH_H_
#define INFIR2_RUNTIME_CPU_VMATH_H_

#include <cstdint>

namespace infir2::cpu {
/// x[i] = exp(x[i] - shift) for i in [0, n). Returns the sum of the results
/// (accumulated in f32, in vector lanes), which softmax needs.
float expShifted(float *x, int64_t n, float shift);

/// The largest of x[0, n) (-inf for n = 0); NaN elements are skipped, as
/// a std::max loop skips them. Exact, so any lane order gives the same.
float maxOf(const float *x, int64_t n);

/// out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i];
/// |up| may be null (plain SiLU).
void siluMul(const float *gate, const float *up, float *out, int64_t n);
} // namespace infir2::cpu

#endif // INFIR2_RUNTIME_CPU_VMATH_H_
