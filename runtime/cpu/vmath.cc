//===- vmath.cc - Vectorized elementwise math for the CPU kernels ---------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/vmath.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/numerics/isa.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define INFIR2_VMATH_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace infir2::cpu {
namespace {
#if defined(__x86_64__)
/// exp of 8 floats (see vmath.h for the accuracy).
INFIR2_VMATH_AVX2 inline __m256 exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.72283935546875f);   // ln(FLT_MAX)
  const __m256 lo = _mm256_set1_ps(-103.97208404541016f); // ln(min subnormal/2)
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  __m256 v = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  // x = n ln2 + r, |r| <= ln2 / 2, ln2 split in two for an exact n ln2.
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)),
                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), v);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r),
                      _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n in two factors 2^(n/2) 2^(n - n/2), each a normal float for
  // n in [-150, 128], so results near FLT_MAX and subnormal ones come out.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), over);
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), under);
  return _mm256_blendv_ps(y, x, nan);
}

INFIR2_VMATH_AVX2 float expShiftedAvx2(float *x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
              ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  if (i < n) {
    alignas(32) float tail[8] = {};
    for (int64_t j = i; j < n; ++j)
      tail[j - i] = x[j] - shift;
    _mm256_store_ps(tail, exp8(_mm256_load_ps(tail)));
    for (int64_t j = i; j < n; ++j) {
      x[j] = tail[j - i];
      sum += x[j];
    }
  }
  return sum;
}

/// silu(g) * u, or silu(g) without |up|.
INFIR2_VMATH_AVX2 inline __m256 siluMul8(__m256 g, __m256 u, bool withUp) {
  __m256 e = exp8(_mm256_xor_ps(g, _mm256_set1_ps(-0.0f)));
  __m256 s = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  return withUp ? _mm256_mul_ps(s, u) : s;
}

INFIR2_VMATH_AVX2 void siluMulAvx2(const float *gate, const float *up,
                                   float *out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        out + i, siluMul8(_mm256_loadu_ps(gate + i),
                          up ? _mm256_loadu_ps(up + i) : _mm256_setzero_ps(),
                          up != nullptr));
  if (i < n) {
    alignas(32) float g[8] = {}, u[8] = {}, o[8];
    for (int64_t j = i; j < n; ++j) {
      g[j - i] = gate[j];
      u[j - i] = up ? up[j] : 0.0f;
    }
    _mm256_store_ps(
        o, siluMul8(_mm256_load_ps(g), _mm256_load_ps(u), up != nullptr));
    for (int64_t j = i; j < n; ++j)
      out[j] = o[j - i];
  }
}

INFIR2_VMATH_AVX2 float maxOfAvx2(const float *x, int64_t n) {
  __m256 acc = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  // max_ps returns its second operand when either is NaN: the running max.
  for (; i + 8 <= n; i += 8)
    acc = _mm256_max_ps(_mm256_loadu_ps(x + i), acc);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  float m = lanes[0];
  for (int j = 1; j < 8; ++j)
    m = std::max(m, lanes[j]);
  for (; i < n; ++i)
    m = std::max(m, x[i]);
  return m;
}
#endif

bool useAvx2() {
#if defined(__x86_64__)
  return numerics::activeIsa() == numerics::Isa::kAvx2;
#else
  return false;
#endif
}
} // namespace

float expShifted(float *x, int64_t n, float shift) {
#if defined(__x86_64__)
  if (useAvx2())
    return expShiftedAvx2(x, n, shift);
#endif
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

float maxOf(const float *x, int64_t n) {
#if defined(__x86_64__)
  if (useAvx2())
    return maxOfAvx2(x, n);
#endif
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, x[i]);
  return m;
}

void siluMul(const float *gate, const float *up, float *out, int64_t n) {
#if defined(__x86_64__)
  if (useAvx2())
    return siluMulAvx2(gate, up, out, n);
#endif
  for (int64_t i = 0; i < n; ++i) {
    float s = gate[i] / (1.0f + std::exp(-gate[i]));
    out[i] = up ? s * up[i] : s;
  }
}
} // namespace infir2::cpu
