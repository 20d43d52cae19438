//===- block_quant_golden_test.cc - Block quantization vs ml_dtypes -------===//
//
// Part of infir2's tests. Every configuration (format, layout, scale
// method, scale mode, and the transposed training copy) of every golden
// tensor written by test/golden/numerics/make_golden.py (numpy + ml_dtypes),
// for every ISA the CPU supports and for 1 and 3 threads: scales must match
// bit for bit and FP8 data byte for byte (or by digest, for the largest
// tensor).
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "runtime/numerics/block_quant.h"
#include "runtime/numerics/convert.h"
#include "runtime/numerics/float_env.h"
#include "runtime/numerics/isa.h"
#include "runtime/numerics/parallel.h"
#include "test/unit/runtime/golden_file.h"

namespace infir2::numerics {
namespace {
using testing::GoldenTensor;

std::string goldenPath(const std::string &name) {
  return std::string(INFIR2_GOLDEN_DIR) + "/numerics/" + name;
}

bool parseSpec(const std::string &key, QuantSpec &spec) {
  std::vector<std::string> p = absl::StrSplit(key, '.');
  if (p.size() < 4)
    return false;
  static const std::map<std::string, Layout> layouts = {
      {"1x128", Layout::kTile1x128},
      {"128x1", Layout::kTile128x1},
      {"128x128", Layout::kTile128x128},
      {"per_row", Layout::kPerRow},
      {"per_tensor", Layout::kPerTensor}};
  spec.format = p[0] == "e4m3fn" ? Fp8Format::kE4M3FN : Fp8Format::kE5M2;
  spec.layout = layouts.at(p[1]);
  spec.method = p[2] == "te" ? ScaleMethod::kTE : ScaleMethod::kCheckpoint;
  spec.mode = p[3] == "pow2" ? ScaleMode::kPow2 : ScaleMode::kExactF32;
  return true;
}

struct Input {
  int64_t rows, cols;
  std::vector<float> f32;
  std::vector<uint16_t> bf16; // non-empty for bf16 inputs
  float at(int64_t i) const {
    return bf16.empty() ? f32[i] : bf16ToF32(bf16[i]);
  }
};

/// Compares one quantization with the golden scales and data.
void expectMatches(const std::map<std::string, GoldenTensor> &golden,
                   const std::string &key, const Input &in, bool transposed,
                   const std::vector<uint8_t> &data,
                   const std::vector<float> &scales, const std::string &where) {
  const GoldenTensor &gs = golden.at(key + ".scales");
  std::vector<float> want = gs.as<float>();
  ASSERT_EQ(scales.size(), want.size()) << where << " " << key;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(floatBits(scales[i]), floatBits(want[i]))
        << where << " " << key << ": scale " << i << " is " << scales[i]
        << ", ml_dtypes/numpy give " << want[i];
  if (auto it = golden.find(key + ".data"); it != golden.end()) {
    const std::vector<uint8_t> &w = it->second.bytes;
    ASSERT_EQ(data.size(), w.size()) << where << " " << key;
    int64_t cols = transposed ? in.rows : in.cols;
    for (size_t i = 0; i < w.size(); ++i) {
      if (data[i] == w[i])
        continue;
      int64_t r = static_cast<int64_t>(i) / cols, c = i % cols;
      float x = transposed ? in.at(c * in.cols + r) : in.at(i);
      FAIL() << where << " " << key << ": element [" << r << ", " << c
             << "] (input " << x << ") is 0x" << std::hex << int(data[i])
             << ", ml_dtypes gives 0x" << int(w[i]);
    }
    return;
  }
  std::vector<uint8_t> digest = golden.at(key + ".data_fnv1a64").bytes;
  uint64_t want64;
  std::memcpy(&want64, digest.data(), 8);
  EXPECT_EQ(testing::fnv1a64(data.data(), data.size()), want64)
      << where << " " << key << ": the FP8 data differ from ml_dtypes' "
      << "(digest mismatch; the scales above matched)";
}

class BlockQuantGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockQuantGolden, MatchesMlDtypes) {
  auto golden = testing::readGolden(goldenPath(GetParam()));
  const GoldenTensor &gi = golden.at("input");
  Input in{gi.shape[0], gi.shape[1], {}, {}};
  if (gi.dtype == "BF16")
    in.bf16 = gi.as<uint16_t>();
  else
    in.f32 = gi.as<float>();

  Isa savedIsa = activeIsa();
  int savedThreads = numThreads();
  const uint32_t savedControl = currentFloatControl();
  // Each ISA with 1 and 3 threads; the last run with the caller's FPU set to
  // flush-to-zero / denormals-are-zero (x86-64), which must change nothing.
  struct Run {
    Isa isa;
    int threads;
    bool flushDenormals;
  };
  std::vector<Run> runs;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2})
    if (isaSupported(isa))
      for (int threads : {1, 3})
        runs.push_back({isa, threads, false});
#if defined(__x86_64__)
  runs.push_back({activeIsa(), 2, true});
#endif
  for (const Run &run : runs) {
    {
      setIsa(run.isa);
      setNumThreads(run.threads);
      setFloatControl(run.flushDenormals ? 0x9FC0u : savedControl);
      int configs = 0;
      std::string where = std::string(isaName(run.isa)) + "/" +
                          std::to_string(run.threads) + "t" +
                          (run.flushDenormals ? "/ftz+daz" : "");
      for (const auto &[name, tensor] : golden) {
        const std::string suffix = ".scales";
        if (name.size() < suffix.size() ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) !=
                0)
          continue;
        std::string key = name.substr(0, name.size() - suffix.size());
        QuantSpec spec;
        ASSERT_TRUE(parseSpec(key, spec)) << key;
        Extent shape = scaleExtent(spec.layout, in.rows, in.cols);
        std::vector<uint8_t> data(in.rows * in.cols);
        std::vector<float> scales(shape.rows * shape.cols);
        bool transposed = key.size() > 11 &&
                          key.compare(key.size() - 11, 11, ".transposed") == 0;
        if (!transposed) {
          absl::Status s = in.bf16.empty()
                               ? quantize(in.f32.data(), in.rows, in.cols, spec,
                                          data.data(), scales.data())
                               : quantize(in.bf16.data(), in.rows, in.cols,
                                          spec, data.data(), scales.data());
          ASSERT_TRUE(s.ok()) << s;
          expectMatches(golden, key, in, false, data, scales, where);
          ++configs;
          continue;
        }
        // The fused row-wise + transposed quantization must give both the
        // row-wise golden and the transposed golden.
        Extent tShape = scaleExtent(spec.layout, in.cols, in.rows);
        std::vector<uint8_t> dataT(in.rows * in.cols);
        std::vector<float> scalesT(tShape.rows * tShape.cols);
        absl::Status s =
            in.bf16.empty()
                ? quantizeWithTranspose(in.f32.data(), in.rows, in.cols, spec,
                                        spec, data.data(), scales.data(),
                                        dataT.data(), scalesT.data())
                : quantizeWithTranspose(in.bf16.data(), in.rows, in.cols, spec,
                                        spec, data.data(), scales.data(),
                                        dataT.data(), scalesT.data());
        ASSERT_TRUE(s.ok()) << s;
        std::string rowKey = key.substr(0, key.size() - 11);
        expectMatches(golden, rowKey, in, false, data, scales, where);
        expectMatches(golden, key, in, true, dataT, scalesT, where);
        ++configs;
      }
      // 2 formats x 5 layouts x 2 rules x 2 modes, plus 4 transposed.
      EXPECT_EQ(configs, 44) << where << ": golden file lacks configurations";
    }
  }
  setFloatControl(savedControl);
  setIsa(savedIsa);
  setNumThreads(savedThreads);
}

INSTANTIATE_TEST_SUITE_P(Shapes, BlockQuantGolden,
                         ::testing::Values("block_quant_1x1.safetensors",
                                           "block_quant_127x129.safetensors",
                                           "block_quant_128x128.safetensors",
                                           "block_quant_1x4096.safetensors",
                                           "block_quant_300x1000.safetensors"),
                         [](const auto &info) {
                           std::string n =
                               info.param.substr(12); // drop "block_quant_"
                           return n.substr(0, n.find('.'));
                         });

//===----------------------------------------------------------------------===//
// E8M0 round-to-nearest (no cuda_fp8.h reference; ml_dtypes is the oracle)
//===----------------------------------------------------------------------===//

std::vector<uint32_t> f32Sample() { // as f32_sample() in make_golden.py
  std::vector<uint32_t> v;
  for (uint32_t e = 0; e < 256; ++e)
    for (uint32_t m : {0u, 1u, 0x3FFFFFu, 0x400000u, 0x400001u, 0x5FFFFFu,
                       0x600000u, 0x7FFFFFu})
      v.push_back((e << 23) | m);
  for (uint32_t i = 0; i < 65536; ++i)
    v.push_back(i * 0x9E3779B1u + 0x7F4A7C15u);
  return v;
}

/// Where ml_dtypes' float8_e8m0fnu conversion is a round-to-nearest oracle:
/// positive f32 normals, +inf and NaN, without saturation (ml_dtypes does
/// not saturate). Elsewhere it is not: zero and negative numbers become NaN
/// (infir2, like cuda_fp8.h's modes, rounds |x| and clips to 2^-127), and
/// every f32 subnormal above 2^-127 rounds up to 2^-126 (infir2 rounds to
/// the nearer power of two: up from 1.5 * 2^-127). Those cases are checked
/// by hand below.
bool comparable(uint32_t bits) {
  return (bits >> 31) == 0 && bits >= 0x00800000u;
}

TEST(E8M0Nearest, MatchesMlDtypes) {
  auto golden = testing::readGolden(goldenPath("e8m0_nearest.safetensors"));
  const std::vector<uint8_t> &bf16Want = golden.at("bf16_all").bytes;
  ASSERT_EQ(bf16Want.size(), 65536u);
  int compared = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    if (!comparable(b << 16))
      continue;
    ASSERT_EQ(bf16ToE8M0(b, Saturation::kNoSat, E8M0Rounding::kNearest),
              bf16Want[b])
        << "bf16 0x" << std::hex << b;
    ++compared;
  }
  std::vector<uint32_t> sample = f32Sample();
  const std::vector<uint8_t> &f32Want = golden.at("f32_sample").bytes;
  ASSERT_EQ(f32Want.size(), sample.size());
  for (size_t i = 0; i < sample.size(); ++i) {
    if (!comparable(sample[i]))
      continue;
    ASSERT_EQ(f32ToE8M0(bitsFloat(sample[i]), Saturation::kNoSat,
                        E8M0Rounding::kNearest),
              f32Want[i])
        << "f32 0x" << std::hex << sample[i];
    ++compared;
  }
  EXPECT_GT(compared, 60000);
}

TEST(E8M0Nearest, BulkMatchesScalar) {
  Isa saved = activeIsa();
  std::vector<uint16_t> bf16(65536);
  for (uint32_t i = 0; i < 65536; ++i)
    bf16[i] = static_cast<uint16_t>(i);
  std::vector<uint32_t> bits = f32Sample();
  std::vector<float> f32(bits.size());
  for (size_t i = 0; i < bits.size(); ++i)
    f32[i] = bitsFloat(bits[i]);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
    if (!isaSupported(isa))
      continue;
    setIsa(isa);
    for (Saturation sat : {Saturation::kSatFinite, Saturation::kNoSat}) {
      std::vector<uint8_t> out(bf16.size());
      convertBf16ToE8M0(bf16.data(), out.data(), bf16.size(), sat,
                        E8M0Rounding::kNearest);
      for (size_t i = 0; i < bf16.size(); ++i)
        ASSERT_EQ(out[i], bf16ToE8M0(bf16[i], sat, E8M0Rounding::kNearest))
            << isaName(isa) << " bf16 0x" << std::hex << i;
      out.resize(f32.size());
      convertF32ToE8M0(f32.data(), out.data(), f32.size(), sat,
                       E8M0Rounding::kNearest);
      for (size_t i = 0; i < f32.size(); ++i)
        ASSERT_EQ(out[i], f32ToE8M0(f32[i], sat, E8M0Rounding::kNearest))
            << isaName(isa) << " f32 0x" << std::hex << bits[i];
    }
  }
  setIsa(saved);
}

TEST(E8M0Nearest, SignZeroAndSaturationFollowTheOtherModes) {
  for (E8M0Rounding r :
       {E8M0Rounding::kTowardZero, E8M0Rounding::kUp, E8M0Rounding::kNearest}) {
    EXPECT_EQ(f32ToE8M0(0.0f, Saturation::kSatFinite, r), 0x00);
    EXPECT_EQ(f32ToE8M0(-4.0f, Saturation::kSatFinite, r), 0x81);
    EXPECT_EQ(f32ToE8M0(INFINITY, Saturation::kSatFinite, r), 0xFE);
    EXPECT_EQ(f32ToE8M0(INFINITY, Saturation::kNoSat, r), 0xFF);
    EXPECT_EQ(f32ToE8M0(NAN, Saturation::kSatFinite, r), 0xFF);
  }
  EXPECT_EQ(f32ToE8M0(1.5f, Saturation::kSatFinite, E8M0Rounding::kNearest),
            0x80); // halfway rounds up
  // Below 2^-126 (f32 subnormals): 2^-127 is 0x00, 2^-126 is 0x01.
  EXPECT_EQ(f32ToE8M0(0x1.8p-127f, Saturation::kNoSat, E8M0Rounding::kNearest),
            0x01);
  EXPECT_EQ(
      f32ToE8M0(0x1.7ffffcp-127f, Saturation::kNoSat, E8M0Rounding::kNearest),
      0x00);
  EXPECT_EQ(f32ToE8M0(0x1p-140f, Saturation::kNoSat, E8M0Rounding::kNearest),
            0x00);
  EXPECT_EQ(bf16ToE8M0(0x0060, Saturation::kNoSat, E8M0Rounding::kNearest),
            0x01); // 1.5 * 2^-127
  EXPECT_EQ(bf16ToE8M0(0x005F, Saturation::kNoSat, E8M0Rounding::kNearest),
            0x00);
  EXPECT_EQ(
      f32ToE8M0(1.4999999f, Saturation::kSatFinite, E8M0Rounding::kNearest),
      0x7F);
}
} // namespace
} // namespace infir2::numerics
