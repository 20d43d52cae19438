//===- train_test.cc - AdamW, LR schedules, metrics, checkpoints ----------===//
//
// Part of infir2's tests. The optimizer against torch.optim.AdamW and the
// schedules against Megatron's OptimizerParamScheduler (golden files of
// test/golden/optim/make_golden.py); the TensorBoard encoding against
// TensorBoard's protobuf classes (test/golden/tensorboard); checkpoints by
// round trip and by what a crash leaves behind.
//
//===----------------------------------------------------------------------===//

#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "golden_file.h"
#include "nlohmann/json.hpp"
#include "runtime/io/safetensors.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/metrics.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"

namespace infir2::train {
namespace {
namespace fs = std::filesystem;
const std::string kGolden = INFIR2_GOLDEN_DIR;

cpu::Tensor tensorOf(const testing::GoldenTensor &g) {
  EXPECT_EQ(g.dtype, "F32");
  return cpu::Tensor::copyOf(DType::kF32, g.shape, g.bytes.data());
}

/// max|a - b| / max|b| over the elements.
double relError(const cpu::Tensor &a, const testing::GoldenTensor &b) {
  std::vector<float> ref = b.as<float>();
  EXPECT_EQ(a.numel(), static_cast<int64_t>(ref.size()));
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a.data<float>()[i]) - ref[i]));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

TEST(AdamW, MatchesTorchAdamWWithClipAndParameterGroups) {
  auto golden = testing::readGolden(kGolden + "/optim/adamw.safetensors");
  const char *names[] = {
      "model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight",
      "model.layers.0.self_attn.q_proj.bias", "model.norm.weight"};
  AdamWConfig config;
  config.beta1 = 0.9;
  config.beta2 = 0.95;
  config.eps = 1e-8;
  config.weightDecay = 0.1;
  config.clipGrad = 1.0;
  AdamW opt(config);
  for (const char *n : names)
    ASSERT_TRUE(
        opt.addParameter(n, tensorOf(golden.at(std::string("init.") + n)))
            .ok());
  std::vector<double> lrs = golden.at("lr").as<double>();
  std::vector<double> norms = golden.at("grad_norm").as<double>();
  double worst = 0;
  for (int k = 1; k <= 4; ++k) {
    std::map<std::string, cpu::Tensor> grads;
    for (const char *n : names)
      grads[n] = tensorOf(golden.at("grad." + std::to_string(k) + "." + n));
    absl::StatusOr<StepStats> stats = opt.step(grads, lrs[k - 1]);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_NEAR(stats->gradNorm, norms[k - 1], 1e-6 * norms[k - 1]);
    for (const char *n : names) {
      const std::string at = std::to_string(k) + "." + n;
      for (auto [what, t] : {std::make_pair("param.", &opt.master(n)),
                             std::make_pair("exp_avg.", &opt.expAvg(n)),
                             std::make_pair("exp_avg_sq.", &opt.expAvgSq(n))}) {
        double e = relError(*t, golden.at(what + at));
        worst = std::max(worst, e);
        EXPECT_LE(e, 1e-6) << what << at;
      }
    }
  }
  EXPECT_EQ(opt.steps(), 4);
  std::printf("AdamW vs torch.optim.AdamW: worst relative error %.3e\n", worst);
}

TEST(AdamW, MegatronDecayGroups) {
  EXPECT_TRUE(decays("model.layers.0.mlp.up_proj.weight", 2));
  EXPECT_TRUE(decays("model.embed_tokens.weight", 2));
  EXPECT_FALSE(decays("model.layers.0.self_attn.q_proj.bias", 1));
  EXPECT_FALSE(decays("model.norm.weight", 1));
}

TEST(AdamW, NonFiniteGradientChangesNothing) {
  AdamW opt(AdamWConfig{});
  cpu::Tensor w = cpu::Tensor::zeros(DType::kF32, {2, 2});
  w.data<float>()[0] = 1.0f;
  ASSERT_TRUE(opt.addParameter("w", w).ok());
  std::map<std::string, cpu::Tensor> grads = {
      {"w", cpu::Tensor::zeros(DType::kF32, {2, 2})}};
  grads["w"].data<float>()[3] = NAN;
  absl::StatusOr<StepStats> stats = opt.step(grads, 1e-3);
  ASSERT_TRUE(stats.ok());
  EXPECT_FALSE(stats->finite);
  EXPECT_EQ(opt.steps(), 0);
  EXPECT_EQ(opt.master("w").data<float>()[0], 1.0f);
  // A gradient of the wrong shape is an error naming the parameter.
  grads["w"] = cpu::Tensor::zeros(DType::kF32, {4});
  stats = opt.step(grads, 1e-3);
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("'w'"), std::string::npos);
}

TEST(AdamW, UpdateThatOverflowsIsReported) {
  AdamW opt(AdamWConfig{});
  ASSERT_TRUE(
      opt.addParameter("w", cpu::Tensor::zeros(DType::kF32, {3, 5})).ok());
  std::map<std::string, cpu::Tensor> grads = {
      {"w", cpu::Tensor::zeros(DType::kF32, {3, 5})}};
  grads["w"].data<float>()[14] = 0.5f;
  absl::StatusOr<StepStats> stats = opt.step(grads, 1e-3);
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->finite && stats->weightsFinite);
  stats = opt.step(grads, 1e39); // inf as an f32 step size
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->finite);
  EXPECT_FALSE(stats->weightsFinite);
}

TEST(LrSchedule, MatchesMegatronOptimizerParamScheduler) {
  std::ifstream in(kGolden + "/optim/schedules.json");
  ASSERT_TRUE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto &s : j["schedules"]) {
    LrSchedule sched;
    std::string style = s["style"];
    sched.style = style == "WSD" ? LrStyle::kWsd : *parseLrStyle(style);
    sched.maxLr = s["max_lr"];
    sched.minLr = s["min_lr"];
    sched.warmupSteps = s["warmup"];
    sched.decaySteps = s["decay"];
    if (s.contains("wsd")) {
      sched.wsdDecaySteps = s["wsd"];
      sched.wsdStyle = *parseWsdDecayStyle(s["wsd_style"]);
    }
    ASSERT_TRUE(sched.validate().ok()) << s["name"];
    const auto &lrs = s["lr"];
    for (size_t n = 0; n < lrs.size(); ++n) {
      double ref = lrs[n];
      EXPECT_NEAR(sched.lr(static_cast<int64_t>(n)), ref,
                  1e-12 * std::max(1e-6, ref))
          << s["name"] << " step " << n;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(LrSchedule, RejectsInconsistentSettings) {
  LrSchedule s;
  s.maxLr = 1e-5;
  s.minLr = 2e-5;
  EXPECT_FALSE(s.validate().ok());
  s.minLr = 0;
  s.warmupSteps = 10;
  s.decaySteps = 10;
  EXPECT_FALSE(s.validate().ok());
  s.decaySteps = 100;
  s.style = LrStyle::kWsd;
  s.wsdDecaySteps = 95;
  EXPECT_FALSE(s.validate().ok());
  s.wsdDecaySteps = 90;
  EXPECT_TRUE(s.validate().ok());
}

std::string unhex(const std::string &hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

TEST(TensorBoard, Crc32cTestVectors) {
  // RFC 3720, B.4.
  std::string zeros(32, '\0'), ones(32, '\xff'), inc;
  for (int i = 0; i < 32; ++i)
    inc.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc.data(), inc.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(TensorBoard, EventsMatchTensorBoardsEncoding) {
  std::ifstream in(kGolden + "/tensorboard/events.json");
  ASSERT_TRUE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  std::string scalar =
      encodeScalarEvent(1234.5, 7, {{"train/loss", 2.5}, {"train/lr", 1e-5}});
  EXPECT_EQ(scalar, unhex(j["scalar"]["payload"]));
  EXPECT_EQ(frameRecord(scalar), unhex(j["scalar"]["record"]));
  EXPECT_EQ(encodeFileVersionEvent(1234.5), unhex(j["version"]["payload"]));
  EXPECT_EQ(frameRecord(encodeFileVersionEvent(1234.5)),
            unhex(j["version"]["record"]));
  EXPECT_EQ(encodeSessionStartEvent(1234.5, 40), unhex(j["start"]["payload"]));
}

TEST(TensorBoard, WriterFramesEveryRecord) {
  fs::path dir = fs::temp_directory_path() / "infir2_train_test_tb";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path;
  {
    auto w = EventWriter::create(dir.string(), /*resumeStep=*/3);
    ASSERT_TRUE(w.ok()) << w.status();
    path = (*w)->path();
    ASSERT_TRUE((*w)->write(4, {{"train/loss", 1.0}}).ok());
    ASSERT_TRUE((*w)->flush().ok());
  }
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  // Walk the frames: version, session start, one scalar event.
  size_t at = 0;
  int records = 0;
  while (at < bytes.size()) {
    uint64_t len;
    ASSERT_LE(at + 12, bytes.size());
    std::memcpy(&len, bytes.data() + at, 8);
    uint32_t lenCrc, dataCrc;
    std::memcpy(&lenCrc, bytes.data() + at + 8, 4);
    EXPECT_EQ(lenCrc, maskedCrc32c(bytes.data() + at, 8));
    ASSERT_LE(at + 12 + len + 4, bytes.size());
    std::memcpy(&dataCrc, bytes.data() + at + 12 + len, 4);
    EXPECT_EQ(dataCrc, maskedCrc32c(bytes.data() + at + 12, len));
    at += 12 + len + 4;
    ++records;
  }
  EXPECT_EQ(records, 3);
  fs::remove_all(dir);
}

TEST(Plot, LossCurveHasOnePointPerStep) {
  std::vector<CurvePoint> train, eval = {{0, 3.0}, {9, 1.5}};
  for (int i = 0; i < 10; ++i)
    train.push_back({i, 4.0 - 0.3 * i});
  std::string svg = lossCurveSvg(train, eval, "tiny <sft>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("tiny &lt;sft&gt;"), std::string::npos);
  size_t poly = svg.find("points=\"");
  ASSERT_NE(poly, std::string::npos);
  std::string points = svg.substr(poly + 8, svg.find('"', poly + 8) - poly - 8);
  EXPECT_EQ(std::count(points.begin(), points.end(), ','), 10);
  size_t circles = 0;
  for (size_t p = svg.find("<circle"); p != std::string::npos;
       p = svg.find("<circle", p + 1))
    ++circles;
  EXPECT_EQ(circles, 3u); // two points and the legend's marker
}

class CheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("infir2_ckpt_test_" +
         std::string(
             ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  AdamW trainedOptimizer() {
    AdamW opt(AdamWConfig{});
    cpu::Tensor w = cpu::Tensor::empty(DType::kF32, {3, 4});
    cpu::Tensor b = cpu::Tensor::empty(DType::kF32, {3});
    for (int i = 0; i < 12; ++i)
      w.data<float>()[i] = 0.1f * i - 0.3f;
    for (int i = 0; i < 3; ++i)
      b.data<float>()[i] = 1.0f + i;
    EXPECT_TRUE(opt.addParameter("layer.weight", w).ok());
    EXPECT_TRUE(opt.addParameter("layer.bias", b).ok());
    std::map<std::string, cpu::Tensor> grads = {
        {"layer.weight", cpu::Tensor::empty(DType::kF32, {3, 4})},
        {"layer.bias", cpu::Tensor::empty(DType::kF32, {3})}};
    for (int i = 0; i < 12; ++i)
      grads["layer.weight"].data<float>()[i] = 0.01f * (i % 5) - 0.02f;
    for (int i = 0; i < 3; ++i)
      grads["layer.bias"].data<float>()[i] = 0.5f;
    EXPECT_TRUE(opt.step(grads, 1e-2).ok());
    return opt;
  }

  fs::path dir_;
};

TEST_F(CheckpointTest, RoundTripIsExact) {
  AdamW opt = trainedOptimizer();
  TrainerState state;
  state.step = 12;
  state.consumedSamples = 96;
  state.tokens = 1234;
  state.elapsedSeconds = 5.5;
  state.iterator = R"({"step":12,"epoch":1,"offset":3,"fingerprint":"ab"})";
  state.seed = 42;
  state.recipeHash = "0123456789abcdef";
  ModelExport model;
  model.configJson = "{\"model_type\": \"qwen2\"}\n";
  model.generationConfigJson = "{\"eos_token_id\": 2}\n";
  model.tokenizerDir = INFIR2_TOKENIZER_DIR;
  absl::StatusOr<std::string> saved =
      saveCheckpoint(dir_.string(), model, opt, state);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(*saved, (dir_ / "step-12").string());
  for (const char *f :
       {"config.json", "generation_config.json", "model.safetensors",
        "tokenizer.json", "tokenizer_config.json", "trainer_state/state.json",
        "trainer_state/optimizer.safetensors"})
    EXPECT_TRUE(fs::exists(dir_ / "step-12" / f)) << f;
  // The HF weights are the master weights rounded to bf16.
  auto hf =
      io::SafetensorsFile::open((dir_ / "step-12/model.safetensors").string());
  ASSERT_TRUE(hf.ok());
  ASSERT_EQ((*hf)->tensors().size(), 2u);
  EXPECT_EQ((*hf)->find("layer.weight")->dtype, DType::kBF16);

  absl::StatusOr<LoadedTrainerState> loaded =
      loadTrainerState((dir_ / "step-12").string());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->state.step, 12);
  EXPECT_EQ(loaded->state.tokens, 1234);
  EXPECT_EQ(loaded->state.seed, 42u);
  EXPECT_EQ(loaded->state.recipeHash, "0123456789abcdef");
  EXPECT_EQ(nlohmann::json::parse(loaded->state.iterator)["offset"], 3);
  AdamW restored(AdamWConfig{});
  ASSERT_TRUE(
      restored
          .addParameter("layer.weight", cpu::Tensor::zeros(DType::kF32, {3, 4}))
          .ok());
  ASSERT_TRUE(
      restored.addParameter("layer.bias", cpu::Tensor::zeros(DType::kF32, {3}))
          .ok());
  ASSERT_TRUE(restored
                  .restore(loaded->state.step, loaded->master, loaded->expAvg,
                           loaded->expAvgSq)
                  .ok());
  for (const std::string &n : opt.names()) {
    EXPECT_EQ(std::memcmp(opt.master(n).raw(), restored.master(n).raw(),
                          opt.master(n).nbytes()),
              0);
    EXPECT_EQ(std::memcmp(opt.expAvgSq(n).raw(), restored.expAvgSq(n).raw(),
                          opt.expAvgSq(n).nbytes()),
              0);
  }
}

TEST_F(CheckpointTest, IncompleteSavesAreIgnoredAndRemoved) {
  AdamW opt = trainedOptimizer();
  TrainerState state;
  state.iterator = "{}";
  ModelExport model;
  model.configJson = "{}";
  state.step = 5;
  ASSERT_TRUE(saveCheckpoint(dir_.string(), model, opt, state).ok());
  state.step = 10;
  ASSERT_TRUE(saveCheckpoint(dir_.string(), model, opt, state).ok());
  // What a kill during the save of step 15 leaves: a .tmp directory with
  // part of the files.
  // (The pid in the name is above any pid_max: that process is gone.)
  const fs::path dead = dir_ / "step-15.tmp.2147483000";
  fs::create_directories(dead / "trainer_state");
  std::ofstream(dead / "model.safetensors") << "partial";
  // A save in progress in another live process (our parent) is left alone.
  const fs::path live = dir_ / ("step-25.tmp." + std::to_string(::getppid()));
  fs::create_directories(live);
  // And a step directory without its trainer state is not complete.
  fs::create_directories(dir_ / "step-20");
  auto list = listCheckpoints(dir_.string());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list.back().first, 10);
  EXPECT_EQ(removeIncompleteSaves(dir_.string()), 1);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  fs::remove_all(live);
  ASSERT_TRUE(pruneCheckpoints(dir_.string(), 1).ok());
  list = listCheckpoints(dir_.string());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].first, 10);
}

TEST_F(CheckpointTest, ACheckpointMovedAsideIsPutBack) {
  AdamW opt = trainedOptimizer();
  TrainerState state;
  state.iterator = "{}";
  ModelExport model;
  model.configJson = "{}";
  state.step = 7;
  ASSERT_TRUE(saveCheckpoint(dir_.string(), model, opt, state).ok());
  // A crash between moving step-7 aside (to save step 7 again) and renaming
  // the new save into place.
  fs::rename(dir_ / "step-7", dir_ / "step-7.old.2147483000");
  fs::create_directories(dir_ / "step-7.tmp.2147483000");
  EXPECT_TRUE(listCheckpoints(dir_.string()).empty());
  EXPECT_EQ(removeIncompleteSaves(dir_.string()), 1); // the .tmp
  auto list = listCheckpoints(dir_.string());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].first, 7);
}

TEST_F(CheckpointTest, DamagedStateIsAnError) {
  fs::create_directories(dir_ / "step-3/trainer_state");
  std::ofstream(dir_ / "step-3/trainer_state/state.json") << "{\"version\": 1";
  absl::StatusOr<LoadedTrainerState> loaded =
      loadTrainerState((dir_ / "step-3").string());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("state.json"), std::string::npos);
  EXPECT_NE(loaded.status().message().find("damaged"), std::string::npos);
}
} // namespace
} // namespace infir2::train
