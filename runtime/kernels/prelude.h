//===- prelude.h - What generated kernels are written against ---*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Generated kernels (docs/codegen.md) include this file and nothing else.
// It compiles two ways (DESIGN.md decision 3):
//  - as CUDA C++ under NVRTC (__CUDACC_RTC__): a thread block of
//    blockDim.x threads, warp shuffles, shared memory;
//  - as host C++ for the CPU target: every thread block runs on one thread
//    (tid() == 0, nthreads() == 1, kWarp == 1), blocks run in parallel with
//    OpenMP, shared memory is a per-thread buffer. Strided loops then visit
//    every element in order and block reductions return their input.
// The numerics (bf16, FP8, the scale rules) are bit-exact with
// runtime/numerics on both; the runtime's tests check that on the host, and
// the CUDA backend's on the GPU.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_KERNEL_PRELUDE_H_
#define INFIR2_KERNEL_PRELUDE_H_

#define INFIR2_PRELUDE_VERSION 1

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define INFIR2_GPU 1
#endif

#ifdef INFIR2_GPU
typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef int i32;
#define INFIR2_FN __device__ __forceinline__
#define INFIR2_CONST __device__ const
#else
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <vector>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif
typedef int64_t i64;
typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef int32_t i32;
#define INFIR2_FN static inline
#define INFIR2_CONST static const
#endif

namespace infir2 {
//===----------------------------------------------------------------------===//
// Threads, blocks, shared memory, reductions
//===----------------------------------------------------------------------===//

#ifdef INFIR2_GPU
constexpr int kWarp = 32;
INFIR2_FN int tid() { return threadIdx.x; }
INFIR2_FN int nthreads() { return blockDim.x; }
INFIR2_FN i64 block() { return blockIdx.x; }
INFIR2_FN i64 nblocks() { return gridDim.x; }
INFIR2_FN void sync() { __syncthreads(); }
INFIR2_FN void fence() { __threadfence(); }
INFIR2_FN char *smem() {
  extern __shared__ __align__(16) char infir2_smem[];
  return infir2_smem;
}
INFIR2_FN float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
INFIR2_FN float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
INFIR2_FN double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
/// The sum (max) over the block, in a fixed order: every thread gets it.
/// |scratch| holds 32 values; it is free again after the call returns.
template <typename T, typename Combine>
INFIR2_FN T block_reduce(T v, T identity, T *scratch, Combine combine,
                         T (*warp)(T)) {
  v = warp(v);
  const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  const int nw = (blockDim.x + 31) >> 5;
  __syncthreads(); // an earlier reduction may still read scratch
  if (l == 0)
    scratch[w] = v;
  __syncthreads();
  T t = l < nw ? scratch[l] : identity;
  t = warp(t);
  return t;
}
INFIR2_FN float max2(float a, float b) { return fmaxf(a, b); }
INFIR2_FN float add2(float a, float b) { return a + b; }
INFIR2_FN double add2d(double a, double b) { return a + b; }
INFIR2_FN float block_sum(float v, float *scratch) {
  return block_reduce<float>(v, 0.0f, scratch, add2, warp_sum);
}
INFIR2_FN double block_sum(double v, double *scratch) {
  return block_reduce<double>(v, 0.0, scratch, add2d, warp_sum);
}
INFIR2_FN float block_max(float v, float *scratch) {
  return block_reduce<float>(v, -__int_as_float(0x7f800000), scratch, max2,
                             warp_max);
}
INFIR2_FN u32 atomic_inc(u32 *p) { return atomicAdd(p, 1u); }
/// Records the first error a kernel meets (code, row, offending value).
INFIR2_FN void report_error(i64 *ws, i64 code, i64 row, i64 value) {
  if (atomicCAS(reinterpret_cast<u64 *>(ws), 0ull, static_cast<u64>(code)) ==
      0ull) {
    ws[1] = row;
    ws[2] = value;
  }
}
INFIR2_FN u32 f2u(float f) { return __float_as_uint(f); }
INFIR2_FN float u2f(u32 u) { return __uint_as_float(u); }
#else
constexpr int kWarp = 1;
struct HostBlock {
  i64 block = 0, nblocks = 1;
  char *smem = nullptr;
};
inline thread_local HostBlock host_block;
INFIR2_FN int tid() { return 0; }
INFIR2_FN int nthreads() { return 1; }
INFIR2_FN i64 block() { return host_block.block; }
INFIR2_FN i64 nblocks() { return host_block.nblocks; }
INFIR2_FN void sync() {}
INFIR2_FN void fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
INFIR2_FN char *smem() { return host_block.smem; }
INFIR2_FN float warp_max(float v) { return v; }
INFIR2_FN float warp_sum(float v) { return v; }
INFIR2_FN float block_sum(float v, float *) { return v; }
INFIR2_FN double block_sum(double v, double *) { return v; }
INFIR2_FN float block_max(float v, float *) { return v; }
INFIR2_FN u32 atomic_inc(u32 *p) {
  return __atomic_fetch_add(p, 1u, __ATOMIC_ACQ_REL);
}
INFIR2_FN void report_error(i64 *ws, i64 code, i64 row, i64 value) {
  i64 expected = 0;
  if (__atomic_compare_exchange_n(ws, &expected, code, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    ws[1] = row;
    ws[2] = value;
  }
}
INFIR2_FN u32 f2u(float f) {
  u32 u;
  std::memcpy(&u, &f, 4);
  return u;
}
INFIR2_FN float u2f(u32 u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
/// Runs |body| once per block, blocks spread over OpenMP threads, each
/// with its own |smemBytes| of "shared memory" and IEEE round-to-nearest
/// arithmetic with subnormals (as the GPU's, whatever the caller's FTZ/DAZ).
template <typename F>
void run_blocks(i64 grid, i64 smemBytes, const F &body) {
#pragma omp parallel
  {
    std::vector<double> buffer(static_cast<size_t>(smemBytes / 8 + 1));
#if defined(__x86_64__)
    const unsigned saved = _mm_getcsr();
    _mm_setcsr(0x1F80);
#endif
#pragma omp for schedule(dynamic, 1)
    for (i64 b = 0; b < grid; ++b) {
      host_block.block = b;
      host_block.nblocks = grid;
      host_block.smem = reinterpret_cast<char *>(buffer.data());
      body();
    }
#if defined(__x86_64__)
    _mm_setcsr(saved);
#endif
  }
}
#endif

/// sin and cos of one f32 angle, evaluated in f64 and rounded once: within
/// 0.5 ulp + 2^-50 of the true values for |x| < 2^20, the same bits on the
/// host and the GPU (no libm slow path, no local memory). The reduction is
/// Cody-Waite with pi/2 split into a 33-bit head and a tail, so k * head is
/// exact while k < 2^20; the polynomials are the Taylor series on
/// |r| <= pi/4, truncated below 2^-56.
INFIR2_FN void sin_cos(float angle, float *s, float *c) {
  const double x = angle;
  const double k = rint(x * 0.63661977236758134308);
  const double r =
      (x - k * 1.57079632673412561417e+00) - k * 6.07710050650619224932e-11;
  const double r2 = r * r;
  const double sr =
      r *
      (1.0 +
       r2 * (-1.0 / 6 +
             r2 * (1.0 / 120 +
                   r2 * (-1.0 / 5040 +
                         r2 * (1.0 / 362880 +
                               r2 * (-1.0 / 39916800 +
                                     r2 * (1.0 / 6227020800.0 +
                                           r2 * (-1.0 / 1307674368000.0))))))));
  const double cr =
      1.0 +
      r2 * (-0.5 +
            r2 * (1.0 / 24 +
                  r2 * (-1.0 / 720 +
                        r2 * (1.0 / 40320 +
                              r2 * (-1.0 / 3628800 +
                                    r2 * (1.0 / 479001600.0 +
                                          r2 * (-1.0 / 87178291200.0 +
                                                r2 / 20922789888000.0)))))));
  switch (static_cast<int>(static_cast<i64>(k) & 3)) {
  case 0:
    *s = static_cast<float>(sr);
    *c = static_cast<float>(cr);
    break;
  case 1:
    *s = static_cast<float>(cr);
    *c = static_cast<float>(-sr);
    break;
  case 2:
    *s = static_cast<float>(-sr);
    *c = static_cast<float>(-cr);
    break;
  default:
    *s = static_cast<float>(-cr);
    *c = static_cast<float>(sr);
    break;
  }
}

INFIR2_FN int lane() { return tid() % kWarp; }
INFIR2_FN int warp() { return tid() / kWarp; }
INFIR2_FN int nwarps() { return (nthreads() + kWarp - 1) / kWarp; }

//===----------------------------------------------------------------------===//
// Numbers: bf16 and FP8 (runtime/numerics/float8.h, bit for bit)
//===----------------------------------------------------------------------===//

INFIR2_FN bool is_finite(float f) {
  return (f2u(f) & 0x7F800000u) != 0x7F800000u;
}
INFIR2_FN float bf16_to_f32(u16 b) { return u2f(static_cast<u32>(b) << 16); }
/// Round to nearest even; every NaN becomes 0x7FFF.
INFIR2_FN u16 f32_to_bf16(float f) {
  u32 u = f2u(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u)
    return 0x7FFF;
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<u16>(u >> 16);
}
INFIR2_FN float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

/// f32 -> E4M3FN (|e5m2| false) or E5M2, round to nearest even, saturating
/// to the largest finite value; NaN -> 0x7F.
INFIR2_FN u8 f32_to_fp8(float f, bool e5m2) {
  const bool e4m3 = !e5m2;
  const u32 u = f2u(f);
  const u32 sign = (u >> 24) & 0x80u;
  u32 a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return 0x7F;
  const bool overflow = e4m3 ? a > 0x43E80000u : a >= 0x47700000u;
  if (overflow)
    return static_cast<u8>(sign | (e4m3 ? 0x7Eu : 0x7Bu));
  const u32 mantissaBits = e4m3 ? 3 : 2;
  const u32 drop = 23 - mantissaBits;
  const u32 minNormal = e4m3 ? 0x3C800000u : 0x38800000u;
  u32 code;
  if (a >= minNormal) {
    a += ((1u << (drop - 1)) - 1) + ((a >> drop) & 1u);
    code = (a >> drop) - ((127u - (e4m3 ? 7u : 15u)) << mantissaBits);
  } else {
    const u32 e = a >> 23;
    const u32 m = (a & 0x7FFFFFu) | (e ? 0x800000u : 0u);
    const u32 shift = (e4m3 ? 141u : 134u) - (e ? e : 1u);
    code = shift > 31
               ? 0
               : (m + (1u << (shift - 1)) - 1 + ((m >> shift) & 1u)) >> shift;
  }
  return static_cast<u8>(sign | code);
}

/// FP8 -> f32, exact; NaN codes give 0x7FFFFFFF.
INFIR2_FN float fp8_to_f32(u8 c, bool e5m2) {
  const bool e4m3 = !e5m2;
  const u32 sign = static_cast<u32>(c & 0x80u) << 24;
  const u32 mag = c & 0x7Fu;
  const u32 mantissaBits = e4m3 ? 3 : 2;
  if (e4m3 ? mag == 0x7F : mag > 0x7C)
    return u2f(0x7FFFFFFFu);
  if (!e4m3 && mag == 0x7C)
    return u2f(sign | 0x7F800000u);
  if (mag >= (1u << mantissaBits))
    return u2f(sign |
               ((mag << (23 - mantissaBits)) + ((e4m3 ? 120u : 112u) << 23)));
  if (mag == 0)
    return u2f(sign);
  u32 top = 0;
  while ((mag >> (top + 1)) != 0)
    ++top;
  const u32 exponent = top + 127u - (e4m3 ? 9u : 16u);
  return u2f(sign | (exponent << 23) | ((mag - (1u << top)) << (23 - top)));
}

/// A tile's scale: data = fp8(x * mult) (or x / mult when |divide|); the
/// stored dequantization scale is |scale|.
struct TileScale {
  float scale;
  float mult;
  bool divide;
};

/// TransformerEngine's rule (training): s = fmax / amax (1 when amax is 0
/// or not finite, FLT_MAX on overflow), optionally 2^floor(log2 s).
INFIR2_FN TileScale te_scale(float amax, float fmax, bool pow2) {
  float s = 1.0f;
  if (amax != 0.0f && is_finite(amax)) {
    s = fmax / amax;
    if (!is_finite(s))
      s = u2f(0x7F7FFFFFu);
  }
  if (pow2)
    s = u2f(f2u(s) & 0xFF800000u);
  TileScale t = {1.0f / s, s, false};
  return t;
}

/// The checkpoint tools' rule: scale = max(amax, 1e-10) / fmax (1 when amax
/// is not finite), optionally 2^ceil(log2 scale); q = x / scale.
INFIR2_FN TileScale checkpoint_scale(float amax, float fmax, bool pow2) {
  float scale = 1.0f;
  if (is_finite(amax))
    scale = fmaxf(amax, 1e-10f) / fmax;
  if (pow2) {
    u32 bits = f2u(scale);
    if (bits & 0x007FFFFFu)
      bits = (bits & 0xFF800000u) + 0x00800000u;
    scale = u2f(bits);
    TileScale t = {scale, 1.0f / scale, false};
    return t;
  }
  TileScale t = {scale, scale, true};
  return t;
}

INFIR2_FN u8 quantize(float x, TileScale t, bool e5m2) {
  return f32_to_fp8(t.divide ? x / t.mult : x * t.mult, e5m2);
}

/// A power-of-two scale as its E8M0 exponent byte.
INFIR2_FN u8 e8m0_of(float pow2Scale) {
  return static_cast<u8>((f2u(pow2Scale) >> 23) & 0xFFu);
}

/// |x| as an amax candidate: NaN counts as 0 (TransformerEngine's fmaxf
/// reduction skips NaNs).
INFIR2_FN float amax_of(float x) {
  const float a = fabsf(x);
  return a == a ? a : 0.0f;
}
/// |x| for the checkpoint rule's amax, which propagates NaN (torch amax).
INFIR2_FN float amax_nan(float acc, float x) {
  const float a = fabsf(x);
  return (a != a || acc != acc) ? a + acc : fmaxf(acc, a);
}
} // namespace infir2

#endif // INFIR2_KERNEL_PRELUDE_H_
