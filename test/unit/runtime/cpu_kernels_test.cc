//===- cpu_kernels_test.cc - The CPU backend's graph-op kernels -----------===//
//
// Part of infir2.
//
// Each kernel against a direct double-precision transcription of the op's
// definition (docs/dialects/graph.md), written here independently of
// kernels.cc. The end-to-end reference (transformers) is test/e2e.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/kernels.h"

#include "runtime/cpu/fp8_kernels.h"
#include "runtime/cpu/vmath.h"
#include "runtime/numerics/convert.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {
using namespace infir2;
using namespace infir2::cpu;

Tensor f32(std::vector<int64_t> shape, std::vector<float> v) {
  return Tensor::copyOf(DType::kF32, std::move(shape), v.data());
}
Tensor i32(std::vector<int64_t> shape, std::vector<int32_t> v) {
  return Tensor::copyOf(DType::kI32, std::move(shape), v.data());
}
Tensor randomF32(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t = Tensor::empty(DType::kF32, std::move(shape));
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}
std::vector<float> values(const Tensor &t) {
  Tensor f = toF32(t);
  return std::vector<float>(f.data<float>(), f.data<float>() + f.numel());
}
/// Round to nearest even bf16, written from the format's definition.
float bf16Round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  u &= 0xFFFF0000u;
  std::memcpy(&x, &u, 4);
  return x;
}
std::string message(const absl::StatusOr<Tensor> &r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}
#define EXPECT_CONTAINS(haystack, needle)                                      \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)             \
      << "'" << (haystack) << "' lacks '" << (needle) << "'"

TEST(CpuKernels, LinearIsXTimesWTransposedPlusBias) {
  Tensor x = randomF32({2, 3, 7}, 1), w = randomF32({5, 7}, 2),
         b = randomF32({5}, 3);
  auto y = linear(x, w, &b, DType::kF32);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->shape(), (std::vector<int64_t>{2, 3, 5}));
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t n = 0; n < 5; ++n) {
      double ref = b.data<float>()[n];
      for (int64_t k = 0; k < 7; ++k)
        ref += double(x.data<float>()[r * 7 + k]) * w.data<float>()[n * 7 + k];
      EXPECT_NEAR(y->data<float>()[r * 5 + n], ref, 1e-5);
    }
  // bf16 result: the f32 sum rounded once.
  auto yb = linear(x, w, &b, DType::kBF16);
  ASSERT_TRUE(yb.ok());
  std::vector<float> vb = values(*yb);
  for (int64_t i = 0; i < 30; ++i)
    EXPECT_EQ(vb[i], bf16Round(y->data<float>()[i]));
  EXPECT_CONTAINS(
      message(linear(x, randomF32({5, 6}, 4), nullptr, DType::kF32)),
      "do not fit [..., K] x [N, K]");
}

TEST(CpuKernels, BatchedMatmulWithTransposes) {
  Tensor a = randomF32({2, 4, 3}, 5), b = randomF32({2, 5, 4}, 6);
  // A^T (3x4) * B^T (4x5) per batch.
  auto c = matmul(a, b, true, true, DType::kF32);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->shape(), (std::vector<int64_t>{2, 3, 5}));
  for (int bt = 0; bt < 2; ++bt)
    for (int m = 0; m < 3; ++m)
      for (int n = 0; n < 5; ++n) {
        double ref = 0;
        for (int k = 0; k < 4; ++k)
          ref += double(a.data<float>()[bt * 12 + k * 3 + m]) *
                 b.data<float>()[bt * 20 + n * 4 + k];
        EXPECT_NEAR(c->data<float>()[bt * 15 + m * 5 + n], ref, 1e-5);
      }
  EXPECT_CONTAINS(message(matmul(a, b, false, false, DType::kF32)),
                  "contraction sizes 3 and 5 differ");
}

TEST(CpuKernels, RmsNormF32AndTheBf16RoundingOrder) {
  Tensor x = randomF32({3, 16}, 7), w = randomF32({16}, 8);
  auto y = rmsNorm(x, w, 1e-6, DType::kF32);
  ASSERT_TRUE(y.ok());
  for (int r = 0; r < 3; ++r) {
    double ss = 0;
    for (int i = 0; i < 16; ++i)
      ss += double(x.data<float>()[r * 16 + i]) * x.data<float>()[r * 16 + i];
    double inv = 1.0 / std::sqrt(ss / 16 + 1e-6);
    for (int i = 0; i < 16; ++i)
      EXPECT_NEAR(y->data<float>()[r * 16 + i],
                  x.data<float>()[r * 16 + i] * inv * w.data<float>()[i], 1e-5);
  }
  // bf16: x / rms rounded to bf16 first, then times the weight, rounded.
  Tensor xb = *cast(x, DType::kBF16), wb = *cast(w, DType::kBF16);
  auto yb = rmsNorm(xb, wb, 1e-6, DType::kBF16);
  ASSERT_TRUE(yb.ok());
  std::vector<float> xv = values(xb), wv = values(wb), got = values(*yb);
  for (int r = 0; r < 3; ++r) {
    float ss = 0;
    for (int i = 0; i < 16; ++i)
      ss += xv[r * 16 + i] * xv[r * 16 + i];
    float inv = 1.0f / std::sqrt(ss / 16.0f + 1e-6f);
    for (int i = 0; i < 16; ++i)
      EXPECT_EQ(got[r * 16 + i],
                bf16Round(wv[i] * bf16Round(xv[r * 16 + i] * inv)))
          << r << "," << i;
  }
}

TEST(CpuKernels, RopeRotateHalfAndInterleaved) {
  const int64_t t = 3, h = 2, d = 8;
  Tensor x = randomF32({t, h, d}, 9);
  Tensor pos = i32({t}, {0, 5, 1000});
  const double theta = 10000.0;
  for (RopeStyle style : {RopeStyle::kRotateHalf, RopeStyle::kInterleaved}) {
    auto y = rope(x, pos, theta, style);
    ASSERT_TRUE(y.ok());
    for (int64_t tok = 0; tok < t; ++tok)
      for (int64_t hd = 0; hd < h; ++hd)
        for (int64_t i = 0; i < d / 2; ++i) {
          double angle = pos.data<int32_t>()[tok] *
                         std::pow(theta, -2.0 * double(i) / double(d));
          int64_t i0 = style == RopeStyle::kRotateHalf ? i : 2 * i;
          int64_t i1 = style == RopeStyle::kRotateHalf ? i + d / 2 : 2 * i + 1;
          const float *a = x.data<float>() + (tok * h + hd) * d;
          const float *o = y->data<float>() + (tok * h + hd) * d;
          // f32 angles at position 1000 carry ~1e-4 absolute error.
          EXPECT_NEAR(o[i0], a[i0] * std::cos(angle) - a[i1] * std::sin(angle),
                      1e-3);
          EXPECT_NEAR(o[i1], a[i1] * std::cos(angle) + a[i0] * std::sin(angle),
                      1e-3);
        }
    // Position 0 is the identity.
    for (int64_t i = 0; i < h * d; ++i)
      EXPECT_EQ(y->data<float>()[i], x.data<float>()[i]);
  }
}

/// Reference attention of one packed batch, in double.
std::vector<double> referenceAttention(const Tensor &q, const Tensor &k,
                                       const Tensor &v,
                                       const std::vector<int32_t> &cu,
                                       double scale, bool causal) {
  const int64_t hq = q.dim(1), hkv = k.dim(1), d = q.dim(2);
  std::vector<double> out(q.numel(), 0.0);
  for (size_t s = 0; s + 1 < cu.size(); ++s)
    for (int64_t head = 0; head < hq; ++head) {
      const int64_t g = head / (hq / hkv);
      for (int64_t i = cu[s]; i < cu[s + 1]; ++i) {
        const int64_t last = causal ? i : cu[s + 1] - 1;
        std::vector<double> p;
        double mx = -1e300, sum = 0;
        for (int64_t j = cu[s]; j <= last; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < d; ++c)
            dot += double(q.data<float>()[(i * hq + head) * d + c]) *
                   k.data<float>()[(j * hkv + g) * d + c];
          p.push_back(dot * scale);
          mx = std::max(mx, p.back());
        }
        for (double &e : p)
          sum += (e = std::exp(e - mx));
        for (int64_t j = cu[s]; j <= last; ++j)
          for (int64_t c = 0; c < d; ++c)
            out[(i * hq + head) * d + c] +=
                p[j - cu[s]] / sum * v.data<float>()[(j * hkv + g) * d + c];
      }
    }
  return out;
}

TEST(CpuKernels, AttentionIsPerSequenceCausalAndGrouped) {
  const int64_t t = 7, hq = 6, hkv = 2, d = 8;
  Tensor q = randomF32({t, hq, d}, 10), k = randomF32({t, hkv, d}, 11),
         v = randomF32({t, hkv, d}, 12);
  std::vector<int32_t> cuv = {0, 3, 3, 7}; // includes an empty sequence
  Tensor cu = i32({4}, cuv);
  for (bool causal : {true, false}) {
    auto o = attention(q, k, v, cu, 0.3, causal);
    ASSERT_TRUE(o.ok()) << o.status();
    std::vector<double> ref = referenceAttention(q, k, v, cuv, 0.3, causal);
    for (int64_t i = 0; i < o->numel(); ++i)
      EXPECT_NEAR(o->data<float>()[i], ref[i], 1e-5) << i;
  }
  // Changing the second sequence leaves the first one's output alone.
  auto before = attention(q, k, v, cu, 0.3, true);
  for (int64_t i = 3 * hkv * d; i < t * hkv * d; ++i)
    k.data<float>()[i] += 1.0f;
  auto after = attention(q, k, v, cu, 0.3, true);
  for (int64_t i = 0; i < 3 * hq * d; ++i)
    EXPECT_EQ(before->data<float>()[i], after->data<float>()[i]);
  EXPECT_CONTAINS(message(attention(q, k, v, i32({2}, {0, 6}), 0.3, true)),
                  "must run from 0 to T = 7");
  EXPECT_CONTAINS(
      message(attention(q, k, v, i32({4}, {0, 5, 4, 7}), 0.3, true)),
      "decreases at 1");
  EXPECT_CONTAINS(message(attention(q, randomF32({t, 4, d}, 1),
                                    randomF32({t, 4, d}, 2), cu, 0.3, true)),
                  "a multiple of Hkv");
}

TEST(CpuKernels, CrossEntropyIsMaskedLogSumExpMinusTheLabel) {
  Tensor logits = randomF32({4, 10}, 13);
  Tensor labels = i32({4}, {3, -100, 9, 0});
  Tensor mask = f32({4}, {1.0f, 0.0f, 1.0f, 0.5f});
  auto l = crossEntropy(logits, labels, mask);
  ASSERT_TRUE(l.ok()) << l.status();
  for (int r = 0; r < 4; ++r) {
    if (r == 1) {
      EXPECT_EQ(l->data<float>()[r], 0.0f); // masked: any label
      continue;
    }
    double mx = -1e300, sum = 0;
    for (int c = 0; c < 10; ++c)
      mx = std::max(mx, double(logits.data<float>()[r * 10 + c]));
    for (int c = 0; c < 10; ++c)
      sum += std::exp(logits.data<float>()[r * 10 + c] - mx);
    double ref = mask.data<float>()[r] *
                 (mx + std::log(sum) -
                  logits.data<float>()[r * 10 + labels.data<int32_t>()[r]]);
    EXPECT_NEAR(l->data<float>()[r], ref, 1e-5);
  }
  EXPECT_CONTAINS(message(crossEntropy(logits, i32({4}, {3, 10, 10, 0}), mask)),
                  "label 10 at position 2 is outside [0, 10)");
}

TEST(CpuKernels, ElementwiseOps) {
  Tensor x = f32({4}, {-2.0f, 0.0f, 0.5f, 3.0f});
  Tensor y = f32({4}, {1.0f, 2.0f, -0.5f, 4.0f});
  EXPECT_EQ(values(*binary(BinaryKind::kSub, x, y)),
            (std::vector<float>{-3.0f, -2.0f, 1.0f, -1.0f}));
  EXPECT_EQ(values(*binary(BinaryKind::kDiv, x, y)),
            (std::vector<float>{-2.0f, 0.0f, -1.0f, 0.75f}));
  std::vector<float> s = values(*unary(UnaryKind::kSilu, x));
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(s[i], x.data<float>()[i] / (1 + std::exp(-x.data<float>()[i])),
                1e-6);
  std::vector<float> sw = values(*swiglu(x, y));
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(sw[i], s[i] * y.data<float>()[i], 1e-6);
  EXPECT_EQ(values(*unary(UnaryKind::kRsqrt, f32({2}, {4.0f, 0.25f}))),
            (std::vector<float>{0.5f, 2.0f}));
  // Integers wrap; division truncates; division by zero is an error.
  Tensor a = i32({3}, {std::numeric_limits<int32_t>::max(), -7, 7});
  Tensor b = i32({3}, {1, 2, -2});
  auto sum = binary(BinaryKind::kAdd, a, b);
  EXPECT_EQ(sum->data<int32_t>()[0], std::numeric_limits<int32_t>::min());
  auto q = binary(BinaryKind::kDiv, a, b);
  EXPECT_EQ(q->data<int32_t>()[1], -3);
  EXPECT_EQ(q->data<int32_t>()[2], -3);
  EXPECT_CONTAINS(message(binary(BinaryKind::kDiv, a, i32({3}, {1, 0, 1}))),
                  "division by zero at element 1");
  EXPECT_CONTAINS(message(binary(BinaryKind::kAdd, x, a)), "differ");
}

TEST(CpuKernels, ReductionsOverAxes) {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i)
    v[i] = float(i);
  Tensor x = f32({2, 3, 4}, v);
  auto s = reduce(ReduceKind::kSum, x, {0, 2}, true);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->shape(), (std::vector<int64_t>{1, 3, 1}));
  // sum over b, k of (12 b + 4 j + k)
  for (int j = 0; j < 3; ++j)
    EXPECT_EQ(s->data<float>()[j], float(12 * 4 + 2 * 4 * 4 * j + 2 * 6));
  auto m = reduce(ReduceKind::kMean, x, {1}, false);
  EXPECT_EQ(m->shape(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(m->data<float>()[0], 4.0f);
  auto mx = reduce(ReduceKind::kMax, x, {0, 1, 2}, false);
  EXPECT_EQ(mx->shape(), std::vector<int64_t>{});
  EXPECT_EQ(mx->data<float>()[0], 23.0f);
  x.data<float>()[5] = NAN;
  EXPECT_TRUE(
      std::isnan(reduce(ReduceKind::kMax, x, {2}, false)->data<float>()[1]));
  auto is = reduce(ReduceKind::kSum, i32({2, 2}, {1, 2, 3, 4}), {1}, false);
  EXPECT_EQ(is->data<int32_t>()[1], 7);
  EXPECT_CONTAINS(message(reduce(ReduceKind::kSum, x, {2, 1}, false)),
                  "axes must increase");
}

TEST(CpuKernels, CastRoundsAndSaturates) {
  Tensor x = f32({6}, {1.5f, -2.7f, 3e10f, -3e10f, NAN, 1.0f + 0x1p-8f});
  auto i = cast(x, DType::kI32);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->data<int32_t>()[0], 1);
  EXPECT_EQ(i->data<int32_t>()[1], -2);
  EXPECT_EQ(i->data<int32_t>()[2], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(i->data<int32_t>()[3], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(i->data<int32_t>()[4], 0);
  std::vector<float> b = values(*cast(x, DType::kBF16));
  EXPECT_EQ(b[5], 1.0f); // a tie rounds to even
  EXPECT_TRUE(std::isnan(b[4]));
  auto flags = cast(f32({3}, {0.0f, -0.0f, NAN}), DType::kBool);
  EXPECT_EQ(flags->data<uint8_t>()[0], 0);
  EXPECT_EQ(flags->data<uint8_t>()[1], 0);
  EXPECT_EQ(flags->data<uint8_t>()[2], 1);
  std::vector<float> h =
      values(*cast(f32({2}, {65519.0f, 65520.0f}), DType::kF16));
  EXPECT_EQ(h[0], 65504.0f);
  EXPECT_TRUE(std::isinf(h[1]));
  EXPECT_CONTAINS(message(cast(x, DType::kF8E4M3)), "is not a graph.cast");
}

TEST(CpuKernels, ShapeOps) {
  std::vector<float> v(6);
  for (int i = 0; i < 6; ++i)
    v[i] = float(i);
  Tensor x = f32({2, 3}, v);
  auto r = reshape(x, {-1, 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r->raw(), x.raw()); // an alias, no copy
  EXPECT_CONTAINS(message(reshape(x, {-1, 4})), "do not fill");
  EXPECT_EQ(values(*transpose(x, {1, 0})),
            (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor like = Tensor::empty(DType::kF32, {4, 3});
  auto b = broadcast(f32({3}, {7, 8, 9}), {1}, {-1, 3}, &like);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->shape(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(values(*b)[10], 8.0f);
  EXPECT_EQ(values(*slice(x, {0, 0}, {2, 3}, {1, 2})),
            (std::vector<float>{0, 2, 3, 5}));
  Tensor y = f32({2, 1}, {10, 11});
  EXPECT_EQ(values(*concat({&x, &y}, 1)),
            (std::vector<float>{0, 1, 2, 10, 3, 4, 5, 11}));
  EXPECT_CONTAINS(message(concat({&x, &y}, 0)), "does not match");
  auto c = splat(DType::kBF16, {2, 2}, -0.0);
  EXPECT_TRUE(std::signbit(values(*c)[3]));
}

/// Distance in units in the last place between two finite floats.
int64_t ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0)
    ia = INT32_MIN - ia;
  if (ib < 0)
    ib = INT32_MIN - ib;
  return std::llabs(int64_t{ia} - ib);
}

TEST(CpuVmath, ExpIsWithinTwoUlpOverTheWholeRange) {
  // 2^24 points spread over [-104, 89], the range where exp is neither 0
  // nor infinite in f32, against the correctly rounded double result.
  const int64_t n = int64_t{1} << 24;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = -104.0f + 193.0f * float(i) / float(n);
  y = x;
  expShifted(y.data(), n, 0.0f);
  int64_t worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float ref = static_cast<float>(std::exp(double(x[i])));
    if (ref < std::numeric_limits<float>::min()) // subnormal: absolute error
      ASSERT_LE(std::fabs(y[i] - ref), 0x1p-149f) << x[i];
    else if (std::isinf(ref))
      ASSERT_TRUE(std::isinf(y[i])) << x[i];
    else
      worst = std::max(worst, ulps(y[i], ref));
  }
  EXPECT_LE(worst, 2);
  RecordProperty("max_ulp", std::to_string(worst));
  float special[6] = {NAN, INFINITY, -INFINITY, 89.0f, -110.0f, 0.0f};
  expShifted(special, 6, 0.0f);
  EXPECT_TRUE(std::isnan(special[0]));
  EXPECT_TRUE(std::isinf(special[1]));
  EXPECT_EQ(special[2], 0.0f);
  EXPECT_TRUE(std::isinf(special[3]));
  EXPECT_EQ(special[4], 0.0f);
  EXPECT_EQ(special[5], 1.0f);
  // The returned sum is the sum of the results; odd lengths use the tail.
  std::vector<float> v = {0.0f, std::log(2.0f), std::log(3.0f)};
  EXPECT_NEAR(expShifted(v.data(), 3, 0.0f), 6.0f, 2e-6f);
}

TEST(CpuVmath, SiluMatchesItsDefinition) {
  std::vector<float> g(1001), u(1001), out(1001);
  for (int i = 0; i < 1001; ++i) {
    g[i] = -50.0f + 0.1f * float(i);
    u[i] = 0.5f + 0.001f * float(i);
  }
  siluMul(g.data(), u.data(), out.data(), 1001);
  for (int i = 0; i < 1001; ++i) {
    double ref = g[i] / (1.0 + std::exp(-double(g[i]))) * u[i];
    EXPECT_NEAR(out[i], ref, 4e-7 * std::fabs(ref) + 1e-30) << g[i];
  }
}

TEST(CpuKernels, EmbeddingNamesTheBadId) {
  Tensor table = randomF32({4, 3}, 14);
  auto e = embedding(table, i32({2}, {3, 1}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->data<float>()[0], table.data<float>()[9]);
  EXPECT_EQ(e->data<float>()[3], table.data<float>()[3]);
  EXPECT_CONTAINS(message(embedding(table, i32({2}, {3, 4}))),
                  "token id 4 at position 1 is outside the vocabulary [0, 4)");
}
} // namespace

//===----------------------------------------------------------------------===//
// fp8 ops
//===----------------------------------------------------------------------===//

namespace fp8test {
using namespace infir2;
using namespace infir2::cpu;

/// bf16 of N(0, sigma) values.
Tensor randomBf16(std::vector<int64_t> shape, uint32_t seed, float sigma) {
  Tensor f = Tensor::empty(DType::kF32, shape);
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  for (int64_t i = 0; i < f.numel(); ++i)
    f.data<float>()[i] = dist(gen);
  absl::StatusOr<Tensor> b = cast(f, DType::kBF16);
  EXPECT_TRUE(b.ok());
  return *b;
}

/// Element (r, c) of quantized |q| as a double: code value times its
/// tile's scale.
double dequant(const numerics::QuantizedMatrix &q, int64_t r, int64_t c) {
  float v;
  numerics::convertFp8ToF32(&q.data[r * q.extent.cols + c], &v, 1,
                            q.spec.format);
  const numerics::Extent tile =
      numerics::tileExtent(q.spec.layout, q.extent.rows, q.extent.cols);
  return double(v) *
         q.scales[(r / tile.rows) * q.scaleShape.cols + c / tile.cols];
}

TEST(Fp8Kernels, QuantizeMatchesTheNumericsLibraryInBothOrientations) {
  const int64_t m = 300, k = 200; // partial tiles in both dimensions
  Tensor x = randomBf16({m, k}, 7, 3.0f);
  absl::StatusOr<std::vector<Tensor>> q =
      fp8Quantize(x, DType::kF8E4M3, numerics::Layout::kTile1x128,
                  numerics::Layout::kTile1x128, numerics::ScaleMode::kPow2,
                  numerics::ScaleMethod::kTE);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1].shape(), (std::vector<int64_t>{300, 2}));
  EXPECT_EQ((*q)[2].shape(), (std::vector<int64_t>{200, 300}));
  EXPECT_EQ((*q)[3].shape(), (std::vector<int64_t>{200, 3}));
  numerics::QuantSpec spec{
      numerics::Fp8Format::kE4M3FN, numerics::Layout::kTile1x128,
      numerics::ScaleMethod::kTE, numerics::ScaleMode::kPow2};
  auto row = numerics::quantizeMatrix(x.data<uint16_t>(), m, k, spec);
  ASSERT_TRUE(row.ok());
  // The transposed copy is the quantization of x^T from the bf16 values.
  std::vector<uint16_t> xt(m * k);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < k; ++c)
      xt[c * m + r] = x.data<uint16_t>()[r * k + c];
  auto col = numerics::quantizeMatrix(xt.data(), k, m, spec);
  ASSERT_TRUE(col.ok());
  EXPECT_EQ(std::memcmp((*q)[0].raw(), row->data.data(), m * k), 0);
  EXPECT_EQ(std::memcmp((*q)[1].raw(), row->scales.data(), (*q)[1].nbytes()),
            0);
  EXPECT_EQ(std::memcmp((*q)[2].raw(), col->data.data(), m * k), 0);
  EXPECT_EQ(std::memcmp((*q)[3].raw(), col->scales.data(), (*q)[3].nbytes()),
            0);
}

TEST(Fp8Kernels, QuantizeF32InputInBothOrientations) {
  for (int64_t m : {5, 11, 37, 300})
    for (int64_t k : {64, 176, 256}) {
      Tensor x = randomF32({m, k}, 3 + m * k);
      auto q =
          fp8Quantize(x, DType::kF8E4M3, numerics::Layout::kTile1x128,
                      numerics::Layout::kTile1x128, numerics::ScaleMode::kPow2,
                      numerics::ScaleMethod::kTE);
      ASSERT_TRUE(q.ok()) << q.status();
      numerics::QuantSpec spec{
          numerics::Fp8Format::kE4M3FN, numerics::Layout::kTile1x128,
          numerics::ScaleMethod::kTE, numerics::ScaleMode::kPow2};
      std::vector<float> xt(m * k);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < k; ++c)
          xt[c * m + r] = x.data<float>()[r * k + c];
      auto row = numerics::quantizeMatrix(x.data<float>(), m, k, spec);
      auto col = numerics::quantizeMatrix(xt.data(), k, m, spec);
      ASSERT_TRUE(row.ok() && col.ok());
      EXPECT_EQ(std::memcmp((*q)[0].raw(), row->data.data(), m * k), 0)
          << m << "x" << k;
      EXPECT_EQ(std::memcmp((*q)[2].raw(), col->data.data(), m * k), 0)
          << m << "x" << k;
      EXPECT_EQ(
          std::memcmp((*q)[3].raw(), col->scales.data(), (*q)[3].nbytes()), 0)
          << m << "x" << k;
    }
}

TEST(Fp8Kernels, DequantizeIsCodeTimesScale) {
  for (int64_t rows : {1, 3, 128})
    for (int64_t cols = 1; cols <= 300; cols += cols < 20 ? 1 : 37) {
      Tensor x = randomF32({rows, cols}, 5 + rows * cols);
      auto q = fp8Quantize(x, DType::kF8E4M3, numerics::Layout::kTile1x128,
                           std::nullopt, numerics::ScaleMode::kPow2,
                           numerics::ScaleMethod::kTE);
      ASSERT_TRUE(q.ok());
      absl::StatusOr<Tensor> d = fp8Dequantize(
          (*q)[0], (*q)[1], numerics::Layout::kTile1x128, DType::kF32);
      ASSERT_TRUE(d.ok()) << d.status();
      const int64_t sc = (*q)[1].dim(1);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          float v;
          numerics::convertFp8ToF32(&(*q)[0].data<uint8_t>()[r * cols + c], &v,
                                    1, numerics::Fp8Format::kE4M3FN);
          ASSERT_EQ(d->data<float>()[r * cols + c],
                    v * (*q)[1].data<float>()[r * sc + c / 128])
              << rows << "x" << cols << " at " << r << "," << c;
        }
    }
}

TEST(Fp8Kernels, ScaledMatmulIsTheProductOfTheDequantizedOperands) {
  // y = x W^T with x [P, K] in 1x128 tiles and W [N, K] in 128x128 blocks,
  // against a double-precision sum of the dequantized operands.
  const int64_t p = 37, kk = 300, n = 260;
  Tensor x = randomBf16({p, kk}, 11, 2.0f), w = randomBf16({n, kk}, 12, 0.05f);
  auto qx =
      fp8Quantize(x, DType::kF8E4M3, numerics::Layout::kTile1x128, std::nullopt,
                  numerics::ScaleMode::kPow2, numerics::ScaleMethod::kTE);
  auto qw = fp8Quantize(w, DType::kF8E4M3, numerics::Layout::kTile128x128,
                        std::nullopt, numerics::ScaleMode::kPow2,
                        numerics::ScaleMethod::kTE);
  ASSERT_TRUE(qx.ok() && qw.ok());
  absl::StatusOr<Tensor> y = fp8ScaledMatmul(
      (*qx)[0], (*qx)[1], numerics::Layout::kTile1x128, false, (*qw)[0],
      (*qw)[1], numerics::Layout::kTile128x128, true, DType::kF32);
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(y->shape(), (std::vector<int64_t>{p, n}));
  numerics::QuantSpec sx{
      numerics::Fp8Format::kE4M3FN, numerics::Layout::kTile1x128,
      numerics::ScaleMethod::kTE, numerics::ScaleMode::kPow2};
  numerics::QuantSpec sw = sx;
  sw.layout = numerics::Layout::kTile128x128;
  auto rx = numerics::quantizeMatrix(x.data<uint16_t>(), p, kk, sx);
  auto rw = numerics::quantizeMatrix(w.data<uint16_t>(), n, kk, sw);
  ASSERT_TRUE(rx.ok() && rw.ok());
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < p; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int64_t c = 0; c < kk; ++c) {
        const double t = dequant(*rx, i, c) * dequant(*rw, j, c);
        ref += t;
        mag += std::fabs(t);
      }
      worst = std::max(worst, std::fabs(y->data<float>()[i * n + j] - ref));
      scale = std::max(scale, mag);
    }
  // f32 accumulation of exact products: a few ulps of the magnitude sum.
  EXPECT_LT(worst, 4e-7 * scale);
  // bf16 output: the f32 result rounded once.
  absl::StatusOr<Tensor> yb = fp8ScaledMatmul(
      (*qx)[0], (*qx)[1], numerics::Layout::kTile1x128, false, (*qw)[0],
      (*qw)[1], numerics::Layout::kTile128x128, true, DType::kBF16);
  ASSERT_TRUE(yb.ok());
  absl::StatusOr<Tensor> rounded = cast(*y, DType::kBF16);
  ASSERT_TRUE(rounded.ok());
  EXPECT_EQ(std::memcmp(yb->raw(), rounded->raw(), yb->nbytes()), 0);
}

TEST(Fp8Kernels, BadOperandsAreErrors) {
  Tensor x = randomBf16({4, 8}, 1, 1.0f);
  auto q =
      fp8Quantize(x, DType::kF8E4M3, numerics::Layout::kTile1x128, std::nullopt,
                  numerics::ScaleMode::kPow2, numerics::ScaleMethod::kTE);
  ASSERT_TRUE(q.ok());
  // Scales of another tiling.
  Tensor wrong = Tensor::zeros(DType::kF32, {4, 2});
  auto d =
      fp8Dequantize((*q)[0], wrong, numerics::Layout::kTile1x128, DType::kF32);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("do not tile data [4x8]"),
            std::string::npos)
      << d.status();
  // E8M0 scales are not read on the CPU.
  Tensor e8 = Tensor::zeros(DType::kF8E8M0, {4, 1});
  d = fp8Dequantize((*q)[0], e8, numerics::Layout::kTile1x128, DType::kF32);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("e8m0"), std::string::npos);
  // Non-FP8 data.
  d = fp8Dequantize(x, (*q)[1], numerics::Layout::kTile1x128, DType::kF32);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("F8_E4M3 or F8_E5M2"), std::string::npos);
  EXPECT_FALSE(parseFp8Layout("64x64").ok());
}
} // namespace fp8test
