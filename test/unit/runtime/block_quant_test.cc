//===- block_quant_test.cc - Block quantization API -----------------------===//
//
// Part of infir2's tests. The behaviour around the golden numbers: shapes
// and scale extents, errors, the transposed forms, dequantization and E8M0
// scale output. Values against an external implementation are in
// block_quant_golden_test.cc.
//
//===----------------------------------------------------------------------===//

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/numerics/block_quant.h"
#include "runtime/numerics/convert.h"

namespace infir2::numerics {
namespace {
std::vector<float> randomMatrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    float magnitude = std::ldexp(1.0f, static_cast<int>(r % 13) - 6);
    for (int64_t c = 0; c < cols; ++c)
      x[r * cols + c] = normal(gen) * magnitude;
  }
  return x;
}

TEST(BlockQuant, ScaleExtents) {
  EXPECT_EQ(scaleExtent(Layout::kTile128x128, 256, 300), (Extent{2, 3}));
  EXPECT_EQ(scaleExtent(Layout::kTile1x128, 127, 129), (Extent{127, 2}));
  EXPECT_EQ(scaleExtent(Layout::kTile128x1, 127, 129), (Extent{1, 129}));
  EXPECT_EQ(scaleExtent(Layout::kPerRow, 300, 1000), (Extent{300, 1}));
  EXPECT_EQ(scaleExtent(Layout::kPerTensor, 300, 1000), (Extent{1, 1}));
  EXPECT_EQ(scaleExtent(Layout::kTile128x128, 0, 5), (Extent{0, 1}));
  EXPECT_EQ(tileExtent(Layout::kPerRow, 300, 1000), (Extent{1, 1000}));
  EXPECT_EQ(tileExtent(Layout::kPerTensor, 300, 1000), (Extent{300, 1000}));
}

TEST(BlockQuant, NamedTileScales) {
  QuantSpec te{Fp8Format::kE4M3FN, Layout::kTile1x128, ScaleMethod::kTE,
               ScaleMode::kExactF32};
  EXPECT_EQ(computeTileScale(448.0f, te).scale, 1.0f);
  EXPECT_EQ(computeTileScale(0.0f, te).scale, 1.0f);
  EXPECT_EQ(computeTileScale(NAN, te).scale, 1.0f);
  EXPECT_EQ(computeTileScale(INFINITY, te).scale, 1.0f);
  EXPECT_EQ(computeTileScale(1e-45f, te).multiplier, FLT_MAX); // overflow
  te.mode = ScaleMode::kPow2;
  EXPECT_EQ(computeTileScale(1e-45f, te).multiplier, 0x1p127f);
  EXPECT_EQ(computeTileScale(1e-45f, te).scale, 0x1p-127f);
  EXPECT_EQ(computeTileScale(3.0f, te).multiplier, 128.0f); // 448/3 = 149.3
  EXPECT_EQ(computeTileScale(3.0f, te).scale, 1.0f / 128.0f);

  QuantSpec ck{Fp8Format::kE4M3FN, Layout::kTile128x128,
               ScaleMethod::kCheckpoint, ScaleMode::kExactF32};
  EXPECT_EQ(computeTileScale(448.0f, ck).scale, 1.0f);
  EXPECT_TRUE(computeTileScale(448.0f, ck).divide);
  EXPECT_EQ(computeTileScale(0.0f, ck).scale, 1e-10f / 448.0f); // finite
  EXPECT_EQ(computeTileScale(NAN, ck).scale, 1.0f);
  ck.mode = ScaleMode::kPow2;
  EXPECT_EQ(computeTileScale(3.0f, ck).scale, 1.0f / 128.0f); // 2^ceil
  EXPECT_EQ(computeTileScale(448.0f, ck).scale, 1.0f);
  EXPECT_FALSE(computeTileScale(3.0f, ck).divide);
  ck.format = Fp8Format::kE5M2;
  EXPECT_EQ(computeTileScale(57344.0f, ck).scale, 1.0f);
}

TEST(BlockQuant, TeAmaxSkipsNaNCheckpointAmaxDoesNot) {
  // TransformerEngine's amax is an fmaxf reduction from 0: a NaN element
  // does not make the scale 1. The checkpoint tools' torch amax does.
  std::vector<float> x(128, 1.0f);
  x[0] = NAN;
  uint8_t q[128];
  float scale;
  QuantSpec te{Fp8Format::kE4M3FN, Layout::kTile1x128, ScaleMethod::kTE,
               ScaleMode::kPow2};
  ASSERT_TRUE(quantize(x.data(), 1, 128, te, q, &scale).ok());
  EXPECT_EQ(scale, 0x1p-8f); // s = 2^floor(log2 448) = 256
  EXPECT_EQ(q[0], 0x7F);     // NaN stays NaN
  EXPECT_EQ(q[1], 0x78);     // 1.0 * 256 = 256 in E4M3
  QuantSpec ck{Fp8Format::kE4M3FN, Layout::kTile1x128, ScaleMethod::kCheckpoint,
               ScaleMode::kPow2};
  ASSERT_TRUE(quantize(x.data(), 1, 128, ck, q, &scale).ok());
  EXPECT_EQ(scale, 1.0f);
  EXPECT_EQ(q[1], 0x38); // 1.0
  // A tile of NaNs only: TE's amax is 0, so s = 1.
  std::fill(x.begin(), x.end(), NAN);
  ASSERT_TRUE(quantize(x.data(), 1, 128, te, q, &scale).ok());
  EXPECT_EQ(scale, 1.0f);
}

TEST(BlockQuant, RejectsBadArguments) {
  std::vector<float> x(4);
  std::vector<uint8_t> q(4);
  std::vector<float> s(4);
  absl::Status st = quantize(x.data(), -1, 4, QuantSpec{}, q.data(), s.data());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("[-1, 4] has a negative dimension"),
            std::string::npos)
      << st;
  st = quantize(x.data(), 2, 2, QuantSpec{}, nullptr, s.data());
  EXPECT_NE(st.message().find("null"), std::string::npos) << st;
  st = dequantize(q.data(), s.data(), 2, -2, Layout::kPerRow,
                  Fp8Format::kE4M3FN, x.data());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
}

TEST(BlockQuant, EmptyTensorsGetTheScalesOfAZeroTile) {
  QuantSpec spec{Fp8Format::kE4M3FN, Layout::kPerTensor, ScaleMethod::kTE,
                 ScaleMode::kPow2};
  float scale = -1;
  ASSERT_TRUE(
      quantize(static_cast<const float *>(nullptr), 0, 7, spec, nullptr, &scale)
          .ok());
  EXPECT_EQ(scale, 1.0f);
  spec.layout = Layout::kTile128x128;
  ASSERT_TRUE(quantize(static_cast<const float *>(nullptr), 0, 7, spec, nullptr,
                       nullptr)
                  .ok());
}

TEST(BlockQuant, TransposedFormsEqualQuantizingATransposedCopy) {
  const int64_t rows = 200, cols = 300;
  std::vector<float> x = randomMatrix(rows, cols, 7);
  std::vector<float> xt(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      xt[c * rows + r] = x[r * cols + c];
  for (Layout rowLayout : {Layout::kTile1x128, Layout::kTile128x128})
    for (Layout tLayout : {Layout::kTile1x128, Layout::kTile128x128,
                           Layout::kPerRow, Layout::kTile128x1})
      for (ScaleMethod method : {ScaleMethod::kTE, ScaleMethod::kCheckpoint}) {
        QuantSpec spec{Fp8Format::kE4M3FN, rowLayout, method,
                       ScaleMode::kExactF32};
        QuantSpec tspec{Fp8Format::kE5M2, tLayout, method, ScaleMode::kPow2};
        Extent ts = scaleExtent(tLayout, cols, rows);
        Extent rs = scaleExtent(rowLayout, rows, cols);
        std::vector<uint8_t> q(rows * cols), qt(rows * cols),
            wantT(rows * cols), want(rows * cols);
        std::vector<float> s(rs.rows * rs.cols), st(ts.rows * ts.cols),
            wantS(s.size()), wantST(st.size());
        ASSERT_TRUE(quantizeWithTranspose(x.data(), rows, cols, spec, tspec,
                                          q.data(), s.data(), qt.data(),
                                          st.data())
                        .ok());
        ASSERT_TRUE(
            quantize(x.data(), rows, cols, spec, want.data(), wantS.data())
                .ok());
        ASSERT_TRUE(
            quantize(xt.data(), cols, rows, tspec, wantT.data(), wantST.data())
                .ok());
        EXPECT_EQ(q, want) << layoutName(rowLayout) << "/"
                           << layoutName(tLayout);
        EXPECT_EQ(s, wantS);
        EXPECT_EQ(qt, wantT)
            << layoutName(rowLayout) << "/" << layoutName(tLayout);
        EXPECT_EQ(st, wantST);
      }
}

TEST(BlockQuant, WeightBlocksServeBothOrientations) {
  // With 128x128 blocks the transposed quantization is the transpose of the
  // row-wise one: same scales, same codes.
  const int64_t rows = 256, cols = 384;
  std::vector<float> x = randomMatrix(rows, cols, 11);
  QuantSpec spec{Fp8Format::kE4M3FN, Layout::kTile128x128, ScaleMethod::kTE,
                 ScaleMode::kPow2};
  std::vector<uint8_t> q(rows * cols), qt(rows * cols);
  std::vector<float> s(2 * 3), st(3 * 2);
  ASSERT_TRUE(quantizeWithTranspose(x.data(), rows, cols, spec, spec, q.data(),
                                    s.data(), qt.data(), st.data())
                  .ok());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(qt[c * rows + r], q[r * cols + c]);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(st[j * 2 + i], s[i * 3 + j]);
}

TEST(BlockQuant, DequantizeIsCodeTimesTileScale) {
  const int64_t rows = 130, cols = 260;
  std::vector<float> x = randomMatrix(rows, cols, 3);
  for (Layout layout :
       {Layout::kTile1x128, Layout::kTile128x1, Layout::kTile128x128,
        Layout::kPerRow, Layout::kPerTensor})
    for (Fp8Format format : {Fp8Format::kE4M3FN, Fp8Format::kE5M2}) {
      QuantSpec spec{format, layout, ScaleMethod::kTE, ScaleMode::kExactF32};
      auto m = quantizeMatrix(x.data(), rows, cols, spec);
      ASSERT_TRUE(m.ok()) << m.status();
      std::vector<float> y(rows * cols);
      std::vector<uint16_t> yb(rows * cols);
      ASSERT_TRUE(dequantize(m->data.data(), m->scales.data(), rows, cols,
                             layout, format, y.data())
                      .ok());
      ASSERT_TRUE(dequantize(m->data.data(), m->scales.data(), rows, cols,
                             layout, format, yb.data())
                      .ok());
      Extent tile = tileExtent(layout, rows, cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t i = r * cols + c;
          float scale =
              m->scales[(r / tile.rows) * m->scaleShape.cols + c / tile.cols];
          float want = fp8ToF32(m->data[i], format) * scale;
          ASSERT_EQ(floatBits(y[i]), floatBits(want))
              << layoutName(layout) << " [" << r << ", " << c << "]";
          ASSERT_EQ(yb[i], f32ToBf16(want));
          // And the round trip is within half an FP8 ulp of the tile.
          float ulp =
              std::ldexp(1.0f, std::ilogb(std::fabs(x[i]) / scale) -
                                   (format == Fp8Format::kE4M3FN ? 3 : 2));
          ASSERT_LE(
              std::fabs(y[i] - x[i]),
              std::max(ulp, format == Fp8Format::kE4M3FN ? 0x1p-9f : 0x1p-16f) *
                  scale * 0.5f * 1.0001f)
              << layoutName(layout) << " x=" << x[i] << " y=" << y[i];
        }
    }
}

TEST(BlockQuant, Pow2ScalesConvertToE8M0) {
  std::vector<float> x = randomMatrix(256, 256, 5);
  QuantSpec spec{Fp8Format::kE4M3FN, Layout::kTile1x128, ScaleMethod::kTE,
                 ScaleMode::kPow2};
  auto m = quantizeMatrix(x.data(), 256, 256, spec);
  ASSERT_TRUE(m.ok());
  std::vector<uint8_t> e(m->scales.size());
  ASSERT_TRUE(scalesToE8M0(m->scales.data(), e.size(), e.data()).ok());
  std::vector<float> back(e.size());
  convertE8M0ToF32(e.data(), back.data(), e.size());
  EXPECT_EQ(back, m->scales);
  float extremes[] = {0x1p-127f, 0x1p127f, 1.0f};
  uint8_t out[3];
  ASSERT_TRUE(scalesToE8M0(extremes, 3, out).ok());
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 254);
  EXPECT_EQ(out[2], 127);
}

TEST(BlockQuant, ExactScalesDoNotConvertToE8M0) {
  float scales[] = {0.5f, 448.0f / 3.0f};
  uint8_t out[2];
  absl::Status st = scalesToE8M0(scales, 2, out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("scale 1 is 149.333"), std::string::npos) << st;
  EXPECT_NE(st.message().find("ScaleMode::kPow2"), std::string::npos) << st;
  float nan = NAN;
  EXPECT_FALSE(scalesToE8M0(&nan, 1, out).ok());
}

TEST(BlockQuant, Bf16AndF32InputsAgree) {
  std::vector<float> x = randomMatrix(129, 257, 9);
  std::vector<uint16_t> xb(x.size());
  convertF32ToBf16(x.data(), xb.data(), x.size());
  std::vector<float> xr(x.size());
  convertBf16ToF32(xb.data(), xr.data(), x.size());
  QuantSpec spec{Fp8Format::kE4M3FN, Layout::kTile128x128,
                 ScaleMethod::kCheckpoint, ScaleMode::kExactF32};
  auto a = quantizeMatrix(xb.data(), 129, 257, spec);
  auto b = quantizeMatrix(xr.data(), 129, 257, spec);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data, b->data);
  EXPECT_EQ(a->scales, b->scales);
}
} // namespace
} // namespace infir2::numerics
