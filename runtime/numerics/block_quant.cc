//===- block_quant.cc - Block-scaled FP8 quantization ---------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Structure: a tile's amax is the integer max of |x| bit patterns (exact;
// NaN bits exceed infinity's, so a NaN propagates unless the rule skips
// NaNs); tileScale turns it into a scale; the elements of the tile are then
// converted with one multiplier. Every entry point holds a ScopedFloatEnv, so
// the f32 arithmetic is IEEE round-to-nearest-even whatever the caller's
// flush-to-zero settings. Two kernel shapes cover every layout:
//  - row tiles (1x128, 128x128, per_row, per_tensor): the tile's part of a
//    row is a contiguous segment sharing one multiplier;
//  - column tiles (128x1): each column of a 128-row band has its own
//    multiplier, applied as a vector across the row.
// Work is split across threads by (band of tile rows, group of tile
// columns) items small enough to stay in L2 between the amax pass and the
// conversion pass, or by rows for per_tensor, so every output byte is
// computed the same way whatever the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/numerics/block_quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <mutex>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "runtime/numerics/float_env.h"
#include "runtime/numerics/isa.h"
#include "runtime/numerics/parallel.h"
#include "runtime/numerics/simd_avx2.h"

namespace infir2::numerics {
namespace {
/// Elements one thread should get at least.
constexpr int64_t kGrainElements = int64_t{1} << 16;

inline float toF32(float v) { return v; }
inline float toF32(uint16_t v) { return bf16ToF32(v); }

inline uint32_t absBits(float f) { return floatBits(f) & 0x7FFFFFFFu; }

inline uint8_t quantizeElement(float x, float multiplier, bool divide,
                               Fp8Format format) {
  return f32ToFp8(divide ? x / multiplier : x * multiplier, format,
                  Saturation::kSatFinite);
}

//===----------------------------------------------------------------------===//
// Scalar kernels
//===----------------------------------------------------------------------===//

/// |x| bits for the amax; with |ignoreNaN| a NaN counts as 0, as
/// TransformerEngine's fmaxf-based amax skips NaNs.
inline uint32_t amaxBits(uint32_t absBits, bool ignoreNaN) {
  return ignoreNaN && absBits > 0x7F800000u ? 0 : absBits;
}

template <typename T>
uint32_t maxAbsScalar(const T *p, int64_t n, bool ignoreNaN) {
  uint32_t m = 0;
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, amaxBits(absBits(toF32(p[i])), ignoreNaN));
  return m;
}

template <typename T>
void columnMaxScalar(const T *p, int64_t n, uint32_t *acc, bool ignoreNaN) {
  for (int64_t i = 0; i < n; ++i)
    acc[i] = std::max(acc[i], amaxBits(absBits(toF32(p[i])), ignoreNaN));
}

template <typename T>
void quantizeSegmentScalar(const T *p, int64_t n, float multiplier, bool divide,
                           Fp8Format format, uint8_t *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = quantizeElement(toF32(p[i]), multiplier, divide, format);
}

template <typename T>
void quantizeColumnsScalar(const T *p, int64_t n, const float *multipliers,
                           bool divide, Fp8Format format, uint8_t *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = quantizeElement(toF32(p[i]), multipliers[i], divide, format);
}

inline void storeOut(float v, float *out) { *out = v; }
inline void storeOut(float v, uint16_t *out) { *out = f32ToBf16(v); }

template <typename Out>
void dequantizeSegmentScalar(const uint8_t *q, int64_t n, float scale,
                             Fp8Format format, Out *out) {
  for (int64_t i = 0; i < n; ++i)
    storeOut(fp8ToF32(q[i], format) * scale, out + i);
}

template <typename Out>
void dequantizeColumnsScalar(const uint8_t *q, int64_t n, const float *scales,
                             Fp8Format format, Out *out) {
  for (int64_t i = 0; i < n; ++i)
    storeOut(fp8ToF32(q[i], format) * scales[i], out + i);
}

//===----------------------------------------------------------------------===//
// AVX2 kernels (vector forms of the scalar ones; tails reuse them)
//===----------------------------------------------------------------------===//

#if INFIR2_HAVE_AVX2_KERNELS
/// Eight |x| bits for the amax (vector form of amaxBits).
template <typename T>
INFIR2_AVX2 inline __m256i amaxBits8(const T *p, bool ignoreNaN) {
  __m256i a = avx2::absBits(avx2::load8(p));
  if (ignoreNaN)
    a = _mm256_and_si256(a, _mm256_cmpgt_epi32(avx2::set1(0x7F800001u), a));
  return a;
}

template <typename T>
INFIR2_AVX2 uint32_t maxAbsAvx2(const T *p, int64_t n, bool ignoreNaN) {
  __m256i m0 = _mm256_setzero_si256(), m1 = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_epu32(m0, amaxBits8(p + i, ignoreNaN));
    m1 = _mm256_max_epu32(m1, amaxBits8(p + i + 8, ignoreNaN));
  }
  for (; i + 8 <= n; i += 8)
    m0 = _mm256_max_epu32(m0, amaxBits8(p + i, ignoreNaN));
  uint32_t m = avx2::hmaxU32(_mm256_max_epu32(m0, m1));
  return std::max(m, maxAbsScalar(p + i, n - i, ignoreNaN));
}

template <typename T>
INFIR2_AVX2 void columnMaxAvx2(const T *p, int64_t n, uint32_t *acc,
                               bool ignoreNaN) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i *a = reinterpret_cast<__m256i *>(acc + i);
    _mm256_storeu_si256(a, _mm256_max_epu32(_mm256_loadu_si256(a),
                                            amaxBits8(p + i, ignoreNaN)));
  }
  columnMaxScalar(p + i, n - i, acc + i, ignoreNaN);
}

template <bool kDivide>
INFIR2_AVX2 inline __m256 applyMultiplier(__m256 x, __m256 m) {
  return kDivide ? _mm256_div_ps(x, m) : _mm256_mul_ps(x, m);
}

/// Eight quantized codes of p[0..8) with multipliers |m|. (A function, not
/// a lambda: lambdas do not inherit the target attribute.)
template <typename T, bool kE4M3, bool kDivide>
INFIR2_AVX2 inline __m256i quantize8(const T *p, __m256 m) {
  return avx2::f32ToFp8<kE4M3, true>(
      applyMultiplier<kDivide>(avx2::load8(p), m));
}

template <typename T, bool kE4M3, bool kDivide>
INFIR2_AVX2 void quantizeSegmentAvx2(const T *p, int64_t n, float multiplier,
                                     uint8_t *out) {
  const __m256 m = _mm256_set1_ps(multiplier);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    avx2::storeBytes32(out + i, quantize8<T, kE4M3, kDivide>(p + i, m),
                       quantize8<T, kE4M3, kDivide>(p + i + 8, m),
                       quantize8<T, kE4M3, kDivide>(p + i + 16, m),
                       quantize8<T, kE4M3, kDivide>(p + i + 24, m));
  for (; i + 8 <= n; i += 8)
    avx2::storeBytes8(out + i, quantize8<T, kE4M3, kDivide>(p + i, m));
  quantizeSegmentScalar(p + i, n - i, multiplier, kDivide,
                        kE4M3 ? Fp8Format::kE4M3FN : Fp8Format::kE5M2, out + i);
}

template <typename T, bool kE4M3, bool kDivide>
INFIR2_AVX2 void quantizeColumnsAvx2(const T *p, int64_t n,
                                     const float *multipliers, uint8_t *out) {
  const float *m = multipliers;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    avx2::storeBytes32(
        out + i, quantize8<T, kE4M3, kDivide>(p + i, _mm256_loadu_ps(m + i)),
        quantize8<T, kE4M3, kDivide>(p + i + 8, _mm256_loadu_ps(m + i + 8)),
        quantize8<T, kE4M3, kDivide>(p + i + 16, _mm256_loadu_ps(m + i + 16)),
        quantize8<T, kE4M3, kDivide>(p + i + 24, _mm256_loadu_ps(m + i + 24)));
  for (; i + 8 <= n; i += 8)
    avx2::storeBytes8(
        out + i, quantize8<T, kE4M3, kDivide>(p + i, _mm256_loadu_ps(m + i)));
  quantizeColumnsScalar(p + i, n - i, multipliers + i, kDivide,
                        kE4M3 ? Fp8Format::kE4M3FN : Fp8Format::kE5M2, out + i);
}

INFIR2_AVX2 inline void storeOut8(__m256 v, float *out) {
  _mm256_storeu_ps(out, v);
}
INFIR2_AVX2 inline void storeOut8(__m256 v, uint16_t *out) {
  avx2::storeU16x8(out, avx2::f32ToBf16(v));
}

template <bool kE4M3, typename Out>
INFIR2_AVX2 void dequantizeSegmentAvx2(const uint8_t *q, int64_t n, float scale,
                                       Out *out) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    storeOut8(_mm256_mul_ps(avx2::fp8ToF32<kE4M3>(q + i), s), out + i);
  dequantizeSegmentScalar(q + i, n - i, scale,
                          kE4M3 ? Fp8Format::kE4M3FN : Fp8Format::kE5M2,
                          out + i);
}

template <bool kE4M3, typename Out>
INFIR2_AVX2 void dequantizeColumnsAvx2(const uint8_t *q, int64_t n,
                                       const float *scales, Out *out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    storeOut8(_mm256_mul_ps(avx2::fp8ToF32<kE4M3>(q + i),
                            _mm256_loadu_ps(scales + i)),
              out + i);
  dequantizeColumnsScalar(q + i, n - i, scales + i,
                          kE4M3 ? Fp8Format::kE4M3FN : Fp8Format::kE5M2,
                          out + i);
}
#endif // INFIR2_HAVE_AVX2_KERNELS

//===----------------------------------------------------------------------===//
// Dispatch: one ISA per top-level call
//===----------------------------------------------------------------------===//

template <typename T>
struct Kernels {
  bool avx2;

  /// Largest |x| bits of p[0..n); NaN propagates unless |ignoreNaN|.
  uint32_t maxAbs(const T *p, int64_t n, bool ignoreNaN) const {
#if INFIR2_HAVE_AVX2_KERNELS
    if (avx2)
      return maxAbsAvx2(p, n, ignoreNaN);
#endif
    return maxAbsScalar(p, n, ignoreNaN);
  }

  /// acc[i] = max(acc[i], |p[i]| bits).
  void columnMax(const T *p, int64_t n, uint32_t *acc, bool ignoreNaN) const {
#if INFIR2_HAVE_AVX2_KERNELS
    if (avx2)
      return columnMaxAvx2(p, n, acc, ignoreNaN);
#endif
    columnMaxScalar(p, n, acc, ignoreNaN);
  }

  void quantizeSegment(const T *p, int64_t n, float multiplier, bool divide,
                       Fp8Format format, uint8_t *out) const {
#if INFIR2_HAVE_AVX2_KERNELS
    if (avx2)
      return withFlags(format, divide, [&](auto e4m3, auto div) {
        quantizeSegmentAvx2<T, e4m3(), div()>(p, n, multiplier, out);
      });
#endif
    quantizeSegmentScalar(p, n, multiplier, divide, format, out);
  }

  void quantizeColumns(const T *p, int64_t n, const float *multipliers,
                       bool divide, Fp8Format format, uint8_t *out) const {
#if INFIR2_HAVE_AVX2_KERNELS
    if (avx2)
      return withFlags(format, divide, [&](auto e4m3, auto div) {
        quantizeColumnsAvx2<T, e4m3(), div()>(p, n, multipliers, out);
      });
#endif
    quantizeColumnsScalar(p, n, multipliers, divide, format, out);
  }

private:
  /// Calls |fn| with the format and the divide flag as compile-time
  /// constants (std::bool_constant), for the templated vector kernels.
  template <typename Fn>
  static void withFlags(Fp8Format format, bool divide, Fn fn) {
    auto withDivide = [&](auto e4m3) {
      divide ? fn(e4m3, std::true_type{}) : fn(e4m3, std::false_type{});
    };
    format == Fp8Format::kE4M3FN ? withDivide(std::true_type{})
                                 : withDivide(std::false_type{});
  }
};

template <typename Out>
struct DequantKernels {
  bool avx2;

  void segment(const uint8_t *q, int64_t n, float scale, Fp8Format format,
               Out *out) const {
#if INFIR2_HAVE_AVX2_KERNELS
    if (avx2)
      return format == Fp8Format::kE4M3FN
                 ? dequantizeSegmentAvx2<true>(q, n, scale, out)
                 : dequantizeSegmentAvx2<false>(q, n, scale, out);
#endif
    dequantizeSegmentScalar(q, n, scale, format, out);
  }

  void columns(const uint8_t *q, int64_t n, const float *scales,
               Fp8Format format, Out *out) const {
#if INFIR2_HAVE_AVX2_KERNELS
    if (avx2)
      return format == Fp8Format::kE4M3FN
                 ? dequantizeColumnsAvx2<true>(q, n, scales, out)
                 : dequantizeColumnsAvx2<false>(q, n, scales, out);
#endif
    dequantizeColumnsScalar(q, n, scales, format, out);
  }
};

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

absl::Status checkShape(const char *what, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": shape [", rows, ", ", cols, "] has a negative dimension"));
  if (cols > 0 && rows > INT64_MAX / cols)
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": shape [", rows, ", ", cols, "] overflows 64-bit indexing"));
  return absl::OkStatus();
}

absl::Status checkPointers(const char *what, int64_t elements,
                           std::initializer_list<const void *> pointers) {
  if (elements == 0)
    return absl::OkStatus();
  for (const void *p : pointers)
    if (!p)
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": a buffer pointer is null for ", elements, " elements"));
  return absl::OkStatus();
}

bool dividesElements(const QuantSpec &spec) {
  return spec.method == ScaleMethod::kCheckpoint &&
         spec.mode == ScaleMode::kExactF32;
}

//===----------------------------------------------------------------------===//
// Quantization drivers
//===----------------------------------------------------------------------===//

/// computeTileScale without the floating-point mode guard; callers hold one.
TileScale tileScale(float amax, const QuantSpec &spec) {
  const float fmax = fp8MaxFinite(spec.format);
  const bool pow2 = spec.mode == ScaleMode::kPow2;
  if (spec.method == ScaleMethod::kTE) {
    // TransformerEngine's compute_scale_from_amax (epsilon 0).
    float s = 1.0f;
    if (amax != 0.0f && std::isfinite(amax)) {
      s = fmax / amax;
      if (std::isinf(s))
        s = FLT_MAX;
    }
    if (pow2)
      s = bitsFloat(floatBits(s) & 0xFF800000u);
    return {1.0f / s, s, false};
  }
  float scale = 1.0f;
  if (std::isfinite(amax))
    scale = std::max(amax, 1e-10f) / fmax;
  if (pow2) {
    // 2^ceil(log2 scale); scale is a positive normal number here.
    uint32_t bits = floatBits(scale);
    if (bits & 0x007FFFFFu)
      bits = (bits & 0xFF800000u) + 0x00800000u;
    scale = bitsFloat(bits);
    // Dividing by a power of two and multiplying by its (exact) inverse give
    // the same f32, so the fast path is taken.
    return {scale, 1.0f / scale, false};
  }
  return {scale, scale, true};
}

/// Elements of input a work item covers at most (128 KiB of bf16): a band
/// of tiles is processed in column groups that stay in L2 between the amax
/// pass and the conversion pass, so each input byte comes from memory once.
constexpr int64_t kCacheElements = int64_t{1} << 18;

/// The TE rule takes the amax with fmaxf, which skips NaNs; the checkpoint
/// tools' amax (torch amax) propagates them.
bool amaxIgnoresNaN(const QuantSpec &spec) {
  return spec.method == ScaleMethod::kTE;
}

/// Tiles that are segments of rows: 1x128, 128x128, per_row, per_tensor.
template <typename T>
void quantizeRowTiles(const T *x, int64_t rows, int64_t cols, Extent tile,
                      const QuantSpec &spec, uint8_t *data, float *scales,
                      const Kernels<T> &k) {
  const int64_t tileRows = tile.rows, tileCols = tile.cols;
  const Extent shape = scaleExtent(spec.layout, rows, cols);
  const int64_t bands = shape.rows, perRow = shape.cols;
  const bool ignoreNaN = amaxIgnoresNaN(spec);

  // Folds rows [r0, r1) of tile columns [j0, j1) into amax[j0..j1).
  auto accumulate = [&](int64_t r0, int64_t r1, int64_t j0, int64_t j1,
                        uint32_t *amax) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = j0; j < j1; ++j) {
        int64_t c0 = j * tileCols;
        amax[j] = std::max(amax[j],
                           k.maxAbs(x + r * cols + c0,
                                    std::min(tileCols, cols - c0), ignoreNaN));
      }
  };
  // Converts rows [r0, r1) of tile columns [j0, j1) with the tiles' scales.
  auto convert = [&](int64_t r0, int64_t r1, int64_t j0, int64_t j1,
                     const TileScale *ts) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = j0; j < j1; ++j) {
        int64_t c0 = j * tileCols;
        k.quantizeSegment(x + r * cols + c0, std::min(tileCols, cols - c0),
                          ts[j].multiplier, ts[j].divide, spec.format,
                          data + r * cols + c0);
      }
  };

  if (spec.layout == Layout::kPerTensor) {
    // One tile: an amax over everything, then the conversion. Rows are split
    // across threads; max is order-independent, so merging is too.
    uint32_t amax = 0;
    std::mutex mu;
    int64_t grainRows =
        std::max<int64_t>(1, kCacheElements / std::max<int64_t>(cols, 1));
    parallelFor(rows, grainRows, [&](int64_t r0, int64_t r1) {
      uint32_t local = 0;
      accumulate(r0, r1, 0, 1, &local);
      std::lock_guard<std::mutex> lock(mu);
      amax = std::max(amax, local);
    });
    TileScale ts = tileScale(bitsFloat(amax), spec);
    scales[0] = ts.scale;
    parallelFor(rows, grainRows,
                [&](int64_t r0, int64_t r1) { convert(r0, r1, 0, 1, &ts); });
    return;
  }

  // Work items: (band, group of tile columns).
  const int64_t group = std::clamp<int64_t>(
      kCacheElements / std::max<int64_t>(tileRows * tileCols, 1), 1, perRow);
  const int64_t groups = (perRow + group - 1) / group;
  parallelFor(bands * groups, 1, [&](int64_t w0, int64_t w1) {
    std::vector<uint32_t> amax(perRow);
    std::vector<TileScale> ts(perRow);
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t b = w / groups;
      const int64_t j0 = (w % groups) * group;
      const int64_t j1 = std::min(perRow, j0 + group);
      const int64_t r0 = b * tileRows, r1 = std::min(rows, r0 + tileRows);
      std::fill(amax.begin() + j0, amax.begin() + j1, 0);
      accumulate(r0, r1, j0, j1, amax.data());
      for (int64_t j = j0; j < j1; ++j) {
        ts[j] = tileScale(bitsFloat(amax[j]), spec);
        scales[b * perRow + j] = ts[j].scale;
      }
      convert(r0, r1, j0, j1, ts.data());
    }
  });
}

/// Tiles that are segments of columns: 128x1. Work items are (band, group
/// of columns).
template <typename T>
void quantizeColumnTiles(const T *x, int64_t rows, int64_t cols, Extent tile,
                         const QuantSpec &spec, uint8_t *data, float *scales,
                         const Kernels<T> &k) {
  const int64_t tileRows = tile.rows;
  const int64_t bands = scaleExtent(spec.layout, rows, cols).rows;
  const bool divide = dividesElements(spec);
  const bool ignoreNaN = amaxIgnoresNaN(spec);
  const int64_t width = std::clamp<int64_t>(kCacheElements / tileRows, 8, cols);
  const int64_t groups = (cols + width - 1) / width;
  parallelFor(bands * groups, 1, [&](int64_t w0, int64_t w1) {
    std::vector<uint32_t> amax(width);
    std::vector<float> multipliers(width);
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t b = w / groups;
      const int64_t c0 = (w % groups) * width;
      const int64_t n = std::min(width, cols - c0);
      const int64_t r0 = b * tileRows, r1 = std::min(rows, r0 + tileRows);
      std::fill(amax.begin(), amax.end(), 0);
      for (int64_t r = r0; r < r1; ++r)
        k.columnMax(x + r * cols + c0, n, amax.data(), ignoreNaN);
      for (int64_t c = 0; c < n; ++c) {
        TileScale ts = tileScale(bitsFloat(amax[c]), spec);
        scales[b * cols + c0 + c] = ts.scale;
        multipliers[c] = ts.multiplier;
      }
      for (int64_t r = r0; r < r1; ++r)
        k.quantizeColumns(x + r * cols + c0, n, multipliers.data(), divide,
                          spec.format, data + r * cols + c0);
    }
  });
}

template <typename T>
absl::Status quantizeImpl(const T *x, int64_t rows, int64_t cols,
                          const QuantSpec &spec, uint8_t *data, float *scales) {
  ScopedFloatEnv env;
  if (absl::Status s = checkShape("quantize", rows, cols); !s.ok())
    return s;
  const Extent shape = scaleExtent(spec.layout, rows, cols);
  if (absl::Status s =
          checkPointers("quantize", rows * cols, {x, data, scales});
      !s.ok())
    return s;
  if (rows == 0 || cols == 0) {
    // No elements: whole-tensor and per-row tiles still have scales, those
    // of an all-zero tile.
    float empty = computeTileScale(0.0f, spec).scale;
    if (shape.rows * shape.cols > 0 && !scales)
      return absl::InvalidArgumentError("quantize: the scale buffer is null");
    std::fill(scales, scales + shape.rows * shape.cols, empty);
    return absl::OkStatus();
  }
  const Kernels<T> k{activeIsa() == Isa::kAvx2};
  const Extent tile = tileExtent(spec.layout, rows, cols);
  if (tile.cols == 1)
    quantizeColumnTiles(x, rows, cols, tile, spec, data, scales, k);
  else
    quantizeRowTiles(x, rows, cols, tile, spec, data, scales, k);
  return absl::OkStatus();
}

/// Transposes a 16 x 16 byte tile: dst[c * dstStride + r] =
/// src[r * srcStride + c].
void transpose16x16(const uint8_t *src, int64_t srcStride, uint8_t *dst,
                    int64_t dstStride) {
#if defined(__x86_64__)
  // SSE2 is part of x86-64. Interleave bytes, then pairs, quads and eights
  // of rows, so each register ends up holding one column.
  __m128i row[16], lo8[8], hi8[8], w16[4][4], c32[4][4];
  for (int r = 0; r < 16; ++r)
    row[r] =
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + r * srcStride));
  for (int k = 0; k < 8; ++k) { // rows 2k, 2k+1; columns 0-7 and 8-15
    lo8[k] = _mm_unpacklo_epi8(row[2 * k], row[2 * k + 1]);
    hi8[k] = _mm_unpackhi_epi8(row[2 * k], row[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) { // rows 4k..4k+3; column quarters 0..3
    w16[0][k] = _mm_unpacklo_epi16(lo8[2 * k], lo8[2 * k + 1]);
    w16[1][k] = _mm_unpackhi_epi16(lo8[2 * k], lo8[2 * k + 1]);
    w16[2][k] = _mm_unpacklo_epi16(hi8[2 * k], hi8[2 * k + 1]);
    w16[3][k] = _mm_unpackhi_epi16(hi8[2 * k], hi8[2 * k + 1]);
  }
  for (int q = 0; q < 4; ++q) // rows 8m..8m+7 of columns 4q..4q+3
    for (int m = 0; m < 2; ++m) {
      c32[q][2 * m] = _mm_unpacklo_epi32(w16[q][2 * m], w16[q][2 * m + 1]);
      c32[q][2 * m + 1] = _mm_unpackhi_epi32(w16[q][2 * m], w16[q][2 * m + 1]);
    }
  for (int q = 0; q < 4; ++q) {
    __m128i col[4] = {_mm_unpacklo_epi64(c32[q][0], c32[q][2]),
                      _mm_unpackhi_epi64(c32[q][0], c32[q][2]),
                      _mm_unpacklo_epi64(c32[q][1], c32[q][3]),
                      _mm_unpackhi_epi64(c32[q][1], c32[q][3])};
    for (int i = 0; i < 4; ++i)
      _mm_storeu_si128(
          reinterpret_cast<__m128i *>(dst + (4 * q + i) * dstStride), col[i]);
  }
#else
  for (int c = 0; c < 16; ++c)
    for (int r = 0; r < 16; ++r)
      dst[c * dstStride + r] = src[r * srcStride + c];
#endif
}

/// 1x128 row-wise and 1x128 on the transpose (128x1 column tiles of the
/// input, written transposed). Work items are (128-row band, 512-column
/// group): one pass over the group computes the row-wise codes and the
/// column amaxes, a second (from L2) the transposed codes.
template <typename T>
void quantizeRowAndColumnFused(const T *x, int64_t rows, int64_t cols,
                               const QuantSpec &spec,
                               const QuantSpec &transposedSpec, uint8_t *data,
                               float *scales, uint8_t *dataT, float *scalesT,
                               const Kernels<T> &k) {
  constexpr int64_t kBand = 128, kSegment = 128, kColumnBlock = 128;
  constexpr int64_t kGroup = 4 * kSegment; // multiple of the row-wise tile
  const int64_t bands = (rows + kBand - 1) / kBand;
  const int64_t perRow = (cols + kSegment - 1) / kSegment;
  const int64_t groups = (cols + kGroup - 1) / kGroup;
  const bool divideT = dividesElements(transposedSpec);
  const bool ignoreNaN = amaxIgnoresNaN(spec);
  const bool ignoreNaNT = amaxIgnoresNaN(transposedSpec);
  parallelFor(bands * groups, 1, [&](int64_t w0, int64_t w1) {
    std::vector<uint32_t> columnAmax(kGroup);
    std::vector<float> multipliers(kGroup);
    // Codes of a band's rows for kColumnBlock columns, row-major, and their
    // transpose, column-major; both padded to whole 16 x 16 tiles.
    std::vector<uint8_t> rowCodes(kBand * kColumnBlock);
    std::vector<uint8_t> block(kColumnBlock * kBand);
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t b = w / groups;
      const int64_t g0 = (w % groups) * kGroup;
      const int64_t width = std::min(kGroup, cols - g0);
      const int64_t r0 = b * kBand, r1 = std::min(rows, r0 + kBand);
      std::fill(columnAmax.begin(), columnAmax.end(), 0);
      for (int64_t r = r0; r < r1; ++r) {
        const T *row = x + r * cols;
        for (int64_t c0 = g0; c0 < g0 + width; c0 += kSegment) {
          const int64_t len = std::min(kSegment, cols - c0);
          TileScale ts =
              tileScale(bitsFloat(k.maxAbs(row + c0, len, ignoreNaN)), spec);
          scales[r * perRow + c0 / kSegment] = ts.scale;
          k.quantizeSegment(row + c0, len, ts.multiplier, ts.divide,
                            spec.format, data + r * cols + c0);
        }
        k.columnMax(row + g0, width, columnAmax.data(), ignoreNaNT);
      }
      for (int64_t c = 0; c < width; ++c) {
        TileScale ts = tileScale(bitsFloat(columnAmax[c]), transposedSpec);
        scalesT[(g0 + c) * bands + b] = ts.scale;
        multipliers[c] = ts.multiplier;
      }
      // Transposed codes: quantize kColumnBlock columns of every band row,
      // transpose the codes in 16 x 16 tiles, then write each output row of
      // dataT as one run.
      const int64_t bandRows = r1 - r0;
      for (int64_t c0 = 0; c0 < width; c0 += kColumnBlock) {
        const int64_t n = std::min(kColumnBlock, width - c0);
        for (int64_t r = r0; r < r1; ++r)
          k.quantizeColumns(x + r * cols + g0 + c0, n, multipliers.data() + c0,
                            divideT, transposedSpec.format,
                            rowCodes.data() + (r - r0) * kColumnBlock);
        for (int64_t i = 0; i < n; i += 16)
          for (int64_t rr = 0; rr < bandRows; rr += 16)
            transpose16x16(rowCodes.data() + rr * kColumnBlock + i,
                           kColumnBlock, block.data() + i * kBand + rr, kBand);
        for (int64_t i = 0; i < n; ++i)
          std::copy_n(block.data() + i * kBand, bandRows,
                      dataT + (g0 + c0 + i) * rows + r0);
      }
    }
  });
}

template <typename T>
absl::Status quantizeWithTransposeImpl(const T *x, int64_t rows, int64_t cols,
                                       const QuantSpec &spec,
                                       const QuantSpec &transposedSpec,
                                       uint8_t *data, float *scales,
                                       uint8_t *dataT, float *scalesT) {
  ScopedFloatEnv env;
  if (absl::Status s = checkShape("quantizeWithTranspose", rows, cols); !s.ok())
    return s;
  if (absl::Status s = checkPointers("quantizeWithTranspose", rows * cols,
                                     {x, data, scales, dataT, scalesT});
      !s.ok())
    return s;
  if (spec.layout == Layout::kTile1x128 &&
      transposedSpec.layout == Layout::kTile1x128 && rows > 0 && cols > 0) {
    quantizeRowAndColumnFused(x, rows, cols, spec, transposedSpec, data, scales,
                              dataT, scalesT,
                              Kernels<T>{activeIsa() == Isa::kAvx2});
    return absl::OkStatus();
  }
  if (absl::Status s = quantizeImpl(x, rows, cols, spec, data, scales); !s.ok())
    return s;
  // Other combinations: quantize an explicit transposed copy, in tiles of
  // 64x64 to keep both sides in cache.
  std::vector<T> transposed(static_cast<size_t>(rows * cols));
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile)
      for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c)
          transposed[c * rows + r] = x[r * cols + c];
  return quantizeImpl(transposed.data(), cols, rows, transposedSpec, dataT,
                      scalesT);
}

template <typename Out>
absl::Status dequantizeImpl(const uint8_t *data, const float *scales,
                            int64_t rows, int64_t cols, Layout layout,
                            Fp8Format format, Out *out) {
  ScopedFloatEnv env;
  if (absl::Status s = checkShape("dequantize", rows, cols); !s.ok())
    return s;
  if (absl::Status s =
          checkPointers("dequantize", rows * cols, {data, scales, out});
      !s.ok())
    return s;
  if (rows == 0 || cols == 0)
    return absl::OkStatus();
  const DequantKernels<Out> k{activeIsa() == Isa::kAvx2};
  const Extent tile = tileExtent(layout, rows, cols);
  const Extent shape = scaleExtent(layout, rows, cols);
  int64_t grainRows = std::max<int64_t>(1, kGrainElements / cols);
  parallelFor(rows, grainRows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *tileScales = scales + (r / tile.rows) * shape.cols;
      if (tile.cols == 1) {
        k.columns(data + r * cols, cols, tileScales, format, out + r * cols);
        continue;
      }
      for (int64_t j = 0; j < shape.cols; ++j) {
        int64_t c0 = j * tile.cols;
        k.segment(data + r * cols + c0, std::min(tile.cols, cols - c0),
                  tileScales[j], format, out + r * cols + c0);
      }
    }
  });
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<QuantizedMatrix> quantizeMatrixImpl(const T *x, int64_t rows,
                                                   int64_t cols,
                                                   const QuantSpec &spec) {
  if (absl::Status s = checkShape("quantizeMatrix", rows, cols); !s.ok())
    return s;
  QuantizedMatrix m;
  m.spec = spec;
  m.extent = {rows, cols};
  m.scaleShape = scaleExtent(spec.layout, rows, cols);
  m.data.resize(static_cast<size_t>(rows * cols));
  m.scales.resize(static_cast<size_t>(m.scaleShape.rows * m.scaleShape.cols));
  if (absl::Status s =
          quantizeImpl(x, rows, cols, spec, m.data.data(), m.scales.data());
      !s.ok())
    return s;
  return m;
}
} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

Extent tileExtent(Layout layout, int64_t rows, int64_t cols) {
  switch (layout) {
  case Layout::kTile1x128:
    return {1, 128};
  case Layout::kTile128x1:
    return {128, 1};
  case Layout::kTile128x128:
    return {128, 128};
  case Layout::kPerRow:
    return {1, cols};
  case Layout::kPerTensor:
    return {rows, cols};
  }
  return {1, 1};
}

Extent scaleExtent(Layout layout, int64_t rows, int64_t cols) {
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  switch (layout) {
  case Layout::kTile1x128:
    return {rows, ceilDiv(cols, 128)};
  case Layout::kTile128x1:
    return {ceilDiv(rows, 128), cols};
  case Layout::kTile128x128:
    return {ceilDiv(rows, 128), ceilDiv(cols, 128)};
  case Layout::kPerRow:
    return {rows, 1};
  case Layout::kPerTensor:
    return {1, 1};
  }
  return {0, 0};
}

TileScale computeTileScale(float amax, const QuantSpec &spec) {
  ScopedFloatEnv env;
  return tileScale(amax, spec);
}

absl::Status quantize(const float *input, int64_t rows, int64_t cols,
                      const QuantSpec &spec, uint8_t *data, float *scales) {
  return quantizeImpl(input, rows, cols, spec, data, scales);
}

absl::Status quantize(const uint16_t *input, int64_t rows, int64_t cols,
                      const QuantSpec &spec, uint8_t *data, float *scales) {
  return quantizeImpl(input, rows, cols, spec, data, scales);
}

absl::Status quantizeWithTranspose(const float *input, int64_t rows,
                                   int64_t cols, const QuantSpec &spec,
                                   const QuantSpec &transposedSpec,
                                   uint8_t *data, float *scales, uint8_t *dataT,
                                   float *scalesT) {
  return quantizeWithTransposeImpl(input, rows, cols, spec, transposedSpec,
                                   data, scales, dataT, scalesT);
}

absl::Status quantizeWithTranspose(const uint16_t *input, int64_t rows,
                                   int64_t cols, const QuantSpec &spec,
                                   const QuantSpec &transposedSpec,
                                   uint8_t *data, float *scales, uint8_t *dataT,
                                   float *scalesT) {
  return quantizeWithTransposeImpl(input, rows, cols, spec, transposedSpec,
                                   data, scales, dataT, scalesT);
}

absl::Status dequantize(const uint8_t *data, const float *scales, int64_t rows,
                        int64_t cols, Layout layout, Fp8Format format,
                        float *out) {
  return dequantizeImpl(data, scales, rows, cols, layout, format, out);
}

absl::Status dequantize(const uint8_t *data, const float *scales, int64_t rows,
                        int64_t cols, Layout layout, Fp8Format format,
                        uint16_t *out) {
  return dequantizeImpl(data, scales, rows, cols, layout, format, out);
}

absl::Status scalesToE8M0(const float *scales, int64_t n, uint8_t *out) {
  if (n < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("scalesToE8M0: negative count ", n));
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = floatBits(scales[i]);
    const uint32_t exponent = bits >> 23;
    if (bits == 0x00400000u) { // 2^-127, an f32 subnormal
      out[i] = 0;
      continue;
    }
    if ((bits & 0x807FFFFFu) != 0 || exponent == 0 || exponent == 0xFF)
      return absl::InvalidArgumentError(absl::StrCat(
          "scalesToE8M0: scale ", i, " is ", scales[i],
          ", not a power of two in [2^-127, 2^127]; E8M0 holds only those "
          "(quantize with ScaleMode::kPow2)"));
    out[i] = static_cast<uint8_t>(exponent);
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantizedMatrix> quantizeMatrix(const float *input, int64_t rows,
                                               int64_t cols,
                                               const QuantSpec &spec) {
  return quantizeMatrixImpl(input, rows, cols, spec);
}

absl::StatusOr<QuantizedMatrix> quantizeMatrix(const uint16_t *input,
                                               int64_t rows, int64_t cols,
                                               const QuantSpec &spec) {
  return quantizeMatrixImpl(input, rows, cols, spec);
}

const char *layoutName(Layout layout) {
  switch (layout) {
  case Layout::kTile1x128:
    return "1x128";
  case Layout::kTile128x1:
    return "128x1";
  case Layout::kTile128x128:
    return "128x128";
  case Layout::kPerRow:
    return "per_row";
  case Layout::kPerTensor:
    return "per_tensor";
  }
  return "?";
}

const char *methodName(ScaleMethod method) {
  return method == ScaleMethod::kTE ? "te" : "checkpoint";
}

const char *modeName(ScaleMode mode) {
  return mode == ScaleMode::kPow2 ? "pow2" : "exact_f32";
}

const char *formatName(Fp8Format format) {
  return format == Fp8Format::kE4M3FN ? "e4m3fn" : "e5m2";
}
} // namespace infir2::numerics
