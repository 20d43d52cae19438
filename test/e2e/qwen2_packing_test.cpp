//===- qwen2_packing_test.cpp - Packed sequences do not see each other ----===//
//
// Part of infir2.
//
// Compiles the golden Qwen2 checkpoints (test/golden/qwen2) and checks that
// a sequence's logits do not depend on what it is packed with: alone, packed
// with the others, or packed in another order. A negative control removes
// the sequence boundaries (one cu_seqlens span) and must change the logits
// by far more than the tolerance, so the test can see leakage.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compiler/driver/Compile.h"
#include "runtime/artifact/manifest.h"
#include "runtime/cpu/executor.h"
#include "runtime/io/safetensors.h"
#include "runtime/lm/logits.h"
#include "gtest/gtest.h"

namespace {
namespace fs = std::filesystem;
using infir2::cpu::Tensor;
using infir2::lm::Sequence;

struct Case {
  const char *config;
  const char *precision;
};

class PackingTest : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    const std::string modelDir =
        std::string(INFIR2_GOLDEN_DIR) + "/qwen2/" + GetParam().config;
    artifactDir_ = fs::temp_directory_path() /
                   ("infir2-packing-" + std::string(GetParam().config) + "-" +
                    GetParam().precision + "-" + std::to_string(::getpid()));
    infir2::CompileOptions options{
        modelDir, *infir2::parsePrecision(GetParam().precision), "cpu"};
    ASSERT_TRUE(infir2::compileArtifact(options, artifactDir_).ok());
    auto manifest = infir2::artifact::loadManifest(artifactDir_);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    auto program = infir2::cpu::Program::create(*manifest, "forward");
    ASSERT_TRUE(program.ok()) << program.status();
    program_ = std::move(*program);
    auto checkpoint = infir2::io::Checkpoint::open(modelDir);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    ASSERT_TRUE(
        program_
            ->bindParameters(std::shared_ptr<const infir2::io::Checkpoint>(
                std::move(*checkpoint)))
            .ok());
    auto seqs = infir2::lm::readTokenFile(modelDir + "/tokens.jsonl");
    ASSERT_TRUE(seqs.ok()) << seqs.status();
    sequences_ = *seqs;
    ASSERT_GE(sequences_.size(), 3u);
  }
  void TearDown() override { fs::remove_all(artifactDir_); }

  std::vector<Tensor> logitsOf(const std::vector<Sequence> &seqs) {
    auto result = infir2::lm::evaluate(*program_, seqs);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<Tensor> out;
    if (result.ok())
      for (auto &s : result->sequences)
        out.push_back(s.logits);
    return out;
  }

  // Tolerance: f32 rounding-level noise (OpenBLAS may sum a row's products
  // in another order when the batch has another number of rows), rounded to
  // bf16 in bf16 mode.
  double tolerance(double maxLogit) const {
    return (std::string(GetParam().precision) == "fp32" ? 1e-5 : 1e-2) *
           maxLogit;
  }

  fs::path artifactDir_;
  std::unique_ptr<infir2::cpu::Program> program_;
  std::vector<Sequence> sequences_;
};

double maxAbs(const Tensor &t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i)
    m = std::max(m, std::fabs(double(t.data<float>()[i])));
  return m;
}

double maxDiff(const Tensor &a, const Tensor &b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < std::min(a.numel(), b.numel()); ++i)
    m = std::max(m, std::fabs(double(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

TEST_P(PackingTest, LogitsDoNotDependOnThePacking) {
  std::vector<Tensor> packed = logitsOf(sequences_);
  ASSERT_EQ(packed.size(), sequences_.size());
  double worst = 0;
  for (size_t i = 0; i < sequences_.size(); ++i) {
    std::vector<Tensor> alone = logitsOf({sequences_[i]});
    ASSERT_EQ(alone.size(), 1u);
    double d = maxDiff(packed[i], alone[0]);
    worst = std::max(worst, d);
    EXPECT_LE(d, tolerance(maxAbs(alone[0]))) << "sequence " << i;
  }
  // Another order: 2, 0, 1.
  std::vector<Tensor> reordered =
      logitsOf({sequences_[2], sequences_[0], sequences_[1]});
  ASSERT_EQ(reordered.size(), 3u);
  EXPECT_LE(maxDiff(reordered[0], packed[2]), tolerance(maxAbs(packed[2])));
  EXPECT_LE(maxDiff(reordered[1], packed[0]), tolerance(maxAbs(packed[0])));
  EXPECT_LE(maxDiff(reordered[2], packed[1]), tolerance(maxAbs(packed[1])));
  RecordProperty("max_abs_diff_alone_vs_packed", std::to_string(worst));
  std::printf("%s %s: max |alone - packed| = %.3g\n", GetParam().config,
              GetParam().precision, worst);
}

TEST_P(PackingTest, NegativeControlWithoutBoundariesLeaks) {
  auto batch = infir2::lm::packSequences(sequences_);
  ASSERT_TRUE(batch.ok());
  const int64_t total = batch->tokenIds.numel();
  // Same tokens and positions, but one attention span over all of them.
  Tensor oneSpan = Tensor::empty(infir2::DType::kI32, {2});
  oneSpan.data<int32_t>()[0] = 0;
  oneSpan.data<int32_t>()[1] = static_cast<int32_t>(total);
  auto leaked = program_->run({{"token_ids", batch->tokenIds},
                               {"position_ids", batch->positionIds},
                               {"cu_seqlens", oneSpan},
                               {"labels", batch->labels},
                               {"loss_mask", batch->lossMask}});
  ASSERT_TRUE(leaked.ok()) << leaked.status();
  std::vector<Tensor> packed = logitsOf(sequences_);
  const Tensor &all = (*leaked)["logits"];
  const int64_t vocab = all.dim(1);
  // The second sequence now attends to the first: its logits move.
  const int64_t off = batch->offsets[1], len = packed[1].dim(0);
  Tensor second = Tensor::copyOf(infir2::DType::kF32, {len, vocab},
                                 all.data<float>() + off * vocab);
  double d = maxDiff(second, packed[1]);
  EXPECT_GT(d, 10 * tolerance(maxAbs(packed[1])));
  // The first sequence has nothing before it: unchanged.
  Tensor first =
      Tensor::copyOf(infir2::DType::kF32, packed[0].shape(), all.data<float>());
  EXPECT_LE(maxDiff(first, packed[0]), tolerance(maxAbs(packed[0])));
  std::printf("%s %s: without boundaries sequence 1 moves by %.3g\n",
              GetParam().config, GetParam().precision, d);
}

INSTANTIATE_TEST_SUITE_P(Golden, PackingTest,
                         ::testing::Values(Case{"tied_hd64_r7", "fp32"},
                                           Case{"tied_hd64_r7", "bf16"},
                                           Case{"untied_hd128_r6", "fp32"},
                                           Case{"untied_hd128_r6", "bf16"}),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return std::string(info.param.config) + "_" +
                                  info.param.precision;
                         });
} // namespace
