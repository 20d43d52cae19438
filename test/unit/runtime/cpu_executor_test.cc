//===- cpu_executor_test.cc - Programs, parameter binding, packing --------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/executor.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "nlohmann/json.hpp"
#include "runtime/lm/logits.h"
#include "gtest/gtest.h"

namespace {
namespace fs = std::filesystem;
using namespace infir2;
using nlohmann::json;

#define EXPECT_CONTAINS(haystack, needle)                                      \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)             \
      << "'" << (haystack) << "' lacks '" << (needle) << "'"

/// y[t, :] = x[t, :] * w, s = sum(y): broadcast, mul, reduce_sum.
json program(const char *paramDtype = "F32") {
  return json::parse(std::string(R"({
    "schema": "infir2-artifact", "version": 1, "producer": "test",
    "target": "cpu", "precision": "fp32",
    "model": {"family": "test", "config": "c", "key": "k"},
    "buffers": [
      {"id": 0, "dtype": "F32", "shape": [-1, 3]},
      {"id": 1, "dtype": ")") +
                     paramDtype + R"(", "shape": [3]},
      {"id": 2, "dtype": ")" +
                     paramDtype + R"(", "shape": [-1, 3]},
      {"id": 3, "dtype": "F32", "shape": [-1, 3]},
      {"id": 4, "dtype": "F32", "shape": [-1, 3]},
      {"id": 5, "dtype": "F32", "shape": []}
    ],
    "entry_points": [{
      "name": "forward",
      "inputs": [{"name": "x", "buffer": 0}],
      "parameters": [{"name": "w", "buffer": 1, "dtype": ")" +
                     paramDtype +
                     R"(", "shape": [3]}],
      "outputs": [{"name": "y", "buffer": 4}, {"name": "s", "buffer": 5}],
      "steps": [
        {"kind": "op", "op": "graph.broadcast", "operands": [1, 0],
         "results": [2], "attrs": {"dims": [1]}, "free": []},
        {"kind": "op", "op": "graph.cast", "operands": [2], "results": [3],
         "attrs": {}, "free": [2]},
        {"kind": "op", "op": "graph.mul", "name": "scale",
         "operands": [0, 3], "results": [4], "attrs": {}, "free": [3]},
        {"kind": "op", "op": "graph.reduce_sum", "operands": [4],
         "results": [5], "attrs": {"axes": [0, 1]}, "free": []}
      ]
    }]
  })");
}

class ExecutorTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("infir2-executor-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<const io::Checkpoint> checkpoint(DType dtype,
                                                   std::vector<int64_t> shape,
                                                   const void *data,
                                                   const char *name = "w") {
    io::TensorData t{
        name, dtype, shape, data,
        static_cast<int64_t>(elementCount(shape).value() * dtypeSize(dtype))};
    EXPECT_TRUE(
        io::writeSafetensors((dir_ / "model.safetensors").string(), {t}).ok());
    auto c = io::Checkpoint::open(dir_.string());
    EXPECT_TRUE(c.ok()) << c.status();
    return std::shared_ptr<const io::Checkpoint>(std::move(*c));
  }

  std::unique_ptr<cpu::Program> create(const json &j) {
    auto m = artifact::parseManifest(j.dump(), "m");
    EXPECT_TRUE(m.ok()) << m.status();
    auto p = cpu::Program::create(*m, "forward");
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::string createError(const json &j) {
    auto m = artifact::parseManifest(j.dump(), "m");
    EXPECT_TRUE(m.ok()) << m.status();
    auto p = cpu::Program::create(*m, "forward");
    EXPECT_FALSE(p.ok());
    return p.ok() ? "" : std::string(p.status().message());
  }

  fs::path dir_;
};

TEST_F(ExecutorTest, RunsStepsWithDynamicShapes) {
  auto p = create(program());
  ASSERT_NE(p, nullptr);
  float w[3] = {1.0f, 2.0f, -1.0f};
  ASSERT_TRUE(p->bindParameters(checkpoint(DType::kF32, {3}, w)).ok());
  float x[6] = {1, 1, 1, 2, 3, 4};
  auto out = p->run({{"x", cpu::Tensor::copyOf(DType::kF32, {2, 3}, x)}});
  ASSERT_TRUE(out.ok()) << out.status();
  const cpu::Tensor &y = (*out)["y"];
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(y.data<float>()[4], 6.0f);
  EXPECT_EQ((*out)["s"].data<float>()[0], 1 + 2 - 1 + 2 + 6 - 4);
}

TEST_F(ExecutorTest, BindsBf16CheckpointsIntoF32AndBack) {
  // bf16 1.0, 2.0, -1.0 into an F32 parameter (exact).
  uint16_t wb[3] = {0x3F80, 0x4000, 0xBF80};
  auto p = create(program("F32"));
  ASSERT_TRUE(p->bindParameters(checkpoint(DType::kBF16, {3}, wb)).ok());
  float x[3] = {1, 1, 1};
  auto out = p->run({{"x", cpu::Tensor::copyOf(DType::kF32, {1, 3}, x)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["y"].data<float>()[1], 2.0f);
  // An f32 checkpoint into a BF16 parameter rounds to nearest even.
  float w[3] = {1.0f + 0x1p-8f, 1.0f + 0x1p-7f + 0x1p-8f, 3.0f};
  auto q = create(program("BF16"));
  ASSERT_TRUE(q->bindParameters(checkpoint(DType::kF32, {3}, w)).ok());
  out = q->run({{"x", cpu::Tensor::copyOf(DType::kF32, {1, 3}, x)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["y"].data<float>()[0], 1.0f);
  EXPECT_EQ((*out)["y"].data<float>()[1], 1.0f + 0x1p-6f);
}

TEST_F(ExecutorTest, BindingErrorsNameTheTensor) {
  auto p = create(program());
  float w4[4] = {};
  std::string e(p->bindParameters(checkpoint(DType::kF32, {4}, w4)).message());
  EXPECT_CONTAINS(e, "tensor 'w' has shape [4], the artifact expects [3]");
  float w3[3] = {};
  e = std::string(
      p->bindParameters(checkpoint(DType::kF32, {3}, w3, "v")).message());
  EXPECT_CONTAINS(e, "has no tensor 'w'");
  int32_t i3[3] = {};
  e = std::string(
      p->bindParameters(checkpoint(DType::kI32, {3}, i3)).message());
  EXPECT_CONTAINS(e, "tensor 'w' is I32, the artifact expects F32");
  // Running unbound fails cleanly.
  auto q = create(program());
  float x[3] = {};
  auto out = q->run({{"x", cpu::Tensor::copyOf(DType::kF32, {1, 3}, x)}});
  ASSERT_FALSE(out.ok());
  EXPECT_CONTAINS(out.status().message(), "not bound");
}

TEST_F(ExecutorTest, InputsAreChecked) {
  auto p = create(program());
  float w[3] = {1, 1, 1};
  ASSERT_TRUE(p->bindParameters(checkpoint(DType::kF32, {3}, w)).ok());
  float x[4] = {};
  auto out = p->run({{"x", cpu::Tensor::copyOf(DType::kF32, {1, 4}, x)}});
  ASSERT_FALSE(out.ok());
  EXPECT_CONTAINS(out.status().message(),
                  "input 'x' is F32 [1, 4]; the artifact expects F32 [-1, 3]");
  out = p->run({});
  EXPECT_CONTAINS(out.status().message(), "input 'x' is missing");
  out = p->run({{"x", cpu::Tensor::copyOf(DType::kF32, {1, 4}, x)},
                {"z", cpu::Tensor::copyOf(DType::kF32, {1, 4}, x)}});
  EXPECT_FALSE(out.ok());
}

TEST_F(ExecutorTest, KernelErrorsNameTheStep) {
  json j = program();
  // Make the mul read mismatched shapes: y = x * x[..] via a bad slice.
  j["entry_points"][0]["steps"][2]["op"] = "graph.div";
  j["buffers"][0]["dtype"] = "I32";
  j["buffers"][3]["dtype"] = "I32";
  j["buffers"][4]["dtype"] = "I32";
  j["buffers"][5]["dtype"] = "I32";
  auto p = create(j);
  float w[3] = {1, 0, 1};
  ASSERT_TRUE(p->bindParameters(checkpoint(DType::kF32, {3}, w)).ok());
  int32_t x[3] = {1, 2, 3};
  auto out = p->run({{"x", cpu::Tensor::copyOf(DType::kI32, {1, 3}, x)}});
  ASSERT_FALSE(out.ok());
  EXPECT_CONTAINS(out.status().message(),
                  "step 2 (graph.div at scale): div: integer division by "
                  "zero at element 1");
}

TEST_F(ExecutorTest, RejectsWhatTheCpuCannotRun) {
  json j = program();
  j["entry_points"][0]["steps"][2]["op"] = "graph.scaled_matmul";
  EXPECT_CONTAINS(createError(j), "step 2 (graph.scaled_matmul at scale): the "
                                  "CPU backend has no implementation");
  j = program();
  j["entry_points"][0]["steps"][3]["attrs"].erase("axes");
  EXPECT_CONTAINS(createError(j), "attribute 'axes' must be an integer list");
  j = program();
  j["target"] = "cuda";
  EXPECT_CONTAINS(createError(j), "the artifact targets 'cuda'");
  j = program();
  j["entry_points"][0]["steps"][2] = {{"kind", "op"},
                                      {"op", "graph.linear"},
                                      {"operands", {0, 3}},
                                      {"results", {4}},
                                      {"attrs", {{"fp8", "#fp8.recipe<...>"}}},
                                      {"free", json::array()}};
  EXPECT_CONTAINS(createError(j), "an FP8 GEMM (fp8 recipe) that fp8-lower did "
                                  "not lower");
  // fp8 ops: attributes the CPU cannot honour are refused at load.
  j = program();
  for (int id : {6, 7})
    j["buffers"].push_back({{"id", id}, {"dtype", "F32"}, {"shape", {-1, 1}}});
  j["entry_points"][0]["steps"][2] = {
      {"kind", "op"},
      {"op", "fp8.quantize"},
      {"operands", {0}},
      {"results", {4, 6}},
      {"attrs", {{"layout", "64x64"}, {"scale_rule", "pow2_f32"}}},
      {"free", json::array()}};
  EXPECT_CONTAINS(createError(j), "unknown FP8 layout '64x64'");
  j["entry_points"][0]["steps"][2]["attrs"] = {{"layout", "1x128"},
                                               {"scale_rule", "e8m0"}};
  EXPECT_CONTAINS(createError(j), "scale rule 'e8m0' does not run on the CPU");
  j["entry_points"][0]["steps"][2]["results"] = {4, 6, 7};
  EXPECT_CONTAINS(createError(j), "expected 2 or 4 results, got 3");
}

TEST_F(ExecutorTest, RejectsDtypesAnOpDoesNotTake) {
  json j = program();
  j["buffers"][4]["dtype"] = "BF16"; // mul's result must be its operands'
  EXPECT_CONTAINS(createError(j), "step 2 (graph.mul at scale): operand dtypes "
                                  "(F32, F32) -> BF16 are not ones this op "
                                  "takes");
  j = program();
  j["buffers"][5]["dtype"] = "I32";
  j["entry_points"][0]["steps"][3] = {
      {"kind", "op"},
      {"op", "arith.constant"},
      {"operands", json::array()},
      {"results", {5}},
      {"attrs", {{"value", {{"splat", "nan"}}}}},
      {"free", json::array()}};
  EXPECT_CONTAINS(createError(j), "the constant nan does not fit I32");
}

TEST(LmPacking, PacksSequencesBackToBack) {
  auto b = lm::packSequences({{5, 6, 7}, {8}, {9, 10}});
  ASSERT_TRUE(b.ok()) << b.status();
  auto ints = [](const cpu::Tensor &t) {
    return std::vector<int32_t>(t.data<int32_t>(),
                                t.data<int32_t>() + t.numel());
  };
  EXPECT_EQ(ints(b->tokenIds), (std::vector<int32_t>{5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(ints(b->positionIds), (std::vector<int32_t>{0, 1, 2, 0, 0, 1}));
  EXPECT_EQ(ints(b->cuSeqlens), (std::vector<int32_t>{0, 3, 4, 6}));
  EXPECT_EQ(ints(b->labels), (std::vector<int32_t>{6, 7, 0, 0, 10, 0}));
  std::vector<float> mask(b->lossMask.data<float>(),
                          b->lossMask.data<float>() + 6);
  EXPECT_EQ(mask, (std::vector<float>{1, 1, 0, 0, 1, 0}));
  EXPECT_EQ(b->offsets, (std::vector<int64_t>{0, 3, 4}));
  EXPECT_FALSE(lm::packSequences({}).ok());
  EXPECT_FALSE(lm::packSequences({{1}, {}}).ok());
}

TEST(LmPacking, ReadsTokenFilesAndNamesBadLines) {
  fs::path p = fs::temp_directory_path() /
               ("infir2-tokens-" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream(p) << "[1, 2, 3]\n\n[4]\n[5, 1.5]\n";
  auto r = lm::readTokenFile(p.string());
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.status().message(), ".jsonl:4: element 1 (1.5) is not a "
                                        "token id");
  std::ofstream(p) << "[1, 2, 3]\n\n[4]\n";
  r = lm::readTokenFile(p.string());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 2u);
  std::ofstream(p) << "\n";
  EXPECT_CONTAINS(lm::readTokenFile(p.string()).status().message(),
                  "no sequences");
  fs::remove(p);
}
} // namespace
