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
    "schema": "infir2-artifact", "version": 2, "producer": "test",
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

namespace {
/// A generated-kernel artifact written by hand: kernel "scale_rows" of
/// rows schedule computes y = x * 2 and s = column sums of y, and reports
/// error 1 for a negative element (as the cross-entropy kernel reports a
/// bad label).
constexpr const char *kKernelSource = R"(#include "infir2_prelude.h"
struct scale_rows_args {
  const float *__restrict__ in0;
  float *__restrict__ out0;
  float *__restrict__ out1;
  i64 rows;
  i64 *__restrict__ ws;
};
INFIR2_FN void scale_rows_body(const scale_rows_args &a) {
  double *const cs = reinterpret_cast<double *>(infir2::smem() + 400);
  for (i64 c = infir2::tid(); c < 3; c += infir2::nthreads()) cs[c] = 0.0;
  for (i64 row = infir2::block(); row < a.rows; row += infir2::nblocks())
    for (i64 c = infir2::tid(); c < 3; c += infir2::nthreads()) {
      const float x = a.in0[row * 3 + c];
      if (x < 0.0f) infir2::report_error(a.ws, 1, row, static_cast<i64>(x));
      a.out0[row * 3 + c] = x * 2.0f;
      cs[c] += x * 2.0f;
    }
  double *const parts = reinterpret_cast<double *>(a.ws + 8);
  for (i64 c = infir2::tid(); c < 3; c += infir2::nthreads())
    parts[infir2::block() * 3 + c] = cs[c];
  infir2::fence();
  int *const last = reinterpret_cast<int *>(infir2::smem() + 384);
  if (infir2::tid() == 0)
    *last = infir2::atomic_inc(reinterpret_cast<u32 *>(a.ws + 3)) ==
            static_cast<u32>(infir2::nblocks() - 1);
  if (*last)
    for (i64 c = infir2::tid(); c < 3; c += infir2::nthreads()) {
      double total = 0.0;
      for (i64 b = 0; b < infir2::nblocks(); ++b) total += parts[b * 3 + c];
      a.out1[c] = static_cast<float>(total);
    }
}
#ifndef INFIR2_GPU
extern "C" void scale_rows(const void *args, i64 grid, i64 smem) {
  scale_rows_args a;
  std::memcpy(&a, args, sizeof(a));
  infir2::run_blocks(grid, smem, [&] { scale_rows_body(a); });
}
#endif
)";

json kernelProgram(const std::string &name = "scale_rows") {
  return json::parse(R"({
    "schema": "infir2-artifact", "version": 2, "producer": "test",
    "target": "cpu", "precision": "fp32",
    "model": {"family": "test", "config": "c", "key": "k"},
    "buffers": [
      {"id": 0, "dtype": "F32", "shape": [-1, 3]},
      {"id": 1, "dtype": "F32", "shape": [-1, 3]},
      {"id": 2, "dtype": "F32", "shape": [3]}
    ],
    "kernels": {"source": "kernels/kernels.cu", "list": [{
      "name": ")" + name +
                     R"(", "label": "scale", "ops": ["graph.mul"],
      "schedule": "rows", "inputs": 1, "input_dtypes": ["F32"],
      "result_dtypes": ["F32", "F32"], "block_threads": 32,
      "rows_per_block": 1, "col_blocks": 1,
      "rows": {"static": -1, "input": 0, "dim": 0},
      "smem_bytes": 432, "workspace": true, "workspace_per_block": 24,
      "result_shapes": [["T", 3], [3]], "bytes_per_row": 24,
      "static_bytes": 12}]},
    "entry_points": [{
      "name": "forward",
      "inputs": [{"name": "x", "buffer": 0}],
      "parameters": [],
      "outputs": [{"name": "y", "buffer": 1}, {"name": "s", "buffer": 2}],
      "steps": [{"kind": "kernel", "kernel": ")" +
                     name + R"(",
                 "name": "scale", "operands": [0], "results": [1, 2],
                 "free": []}]
    }]
  })");
}

TEST_F(ExecutorTest, RunsGeneratedKernelsBuiltForTheHost) {
  setenv("INFIR2_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  fs::create_directories(dir_ / "art" / "kernels");
  std::ofstream(dir_ / "art" / "kernels" / "kernels.cu") << kKernelSource;
  std::ofstream(dir_ / "art" / "manifest.json") << kernelProgram().dump();
  auto m = artifact::loadManifest((dir_ / "art").string());
  ASSERT_TRUE(m.ok()) << m.status();
  auto p = cpu::Program::create(*m, "forward");
  ASSERT_TRUE(p.ok()) << p.status();
  // 300 rows: more than the CPU's 256 blocks, so blocks take several rows
  // and the column sums add partials of every block.
  const int64_t rows = 300;
  cpu::Tensor x = cpu::Tensor::empty(DType::kF32, {rows, 3});
  double expected[3] = {0, 0, 0};
  for (int64_t i = 0; i < rows * 3; ++i) {
    x.data<float>()[i] = static_cast<float>(i % 7) * 0.5f;
    expected[i % 3] += 2.0 * x.data<float>()[i];
  }
  auto out = (*p)->run({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status();
  const cpu::Tensor &y = out->at("y");
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{rows, 3}));
  for (int64_t i = 0; i < rows * 3; ++i)
    ASSERT_EQ(y.data<float>()[i], 2.0f * x.data<float>()[i]);
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(out->at("s").data<float>()[c], static_cast<float>(expected[c]));
  // The module is cached: a second program loads the same shared object.
  auto again = cpu::Program::create(*m, "forward");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "cache" / "kernels"),
                          fs::directory_iterator{}),
            1);

  // An error the kernel reports names the step and the row.
  x.data<float>()[5 * 3 + 1] = -4.0f;
  auto bad = (*p)->run({{"x", x}});
  ASSERT_FALSE(bad.ok());
  EXPECT_CONTAINS(bad.status().message(),
                  "step 0 (kernel scale_rows at scale)");
  EXPECT_CONTAINS(bad.status().message(), "label -4 at position 5");
}

TEST_F(ExecutorTest, KernelModuleErrorsAreClear) {
  setenv("INFIR2_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  fs::create_directories(dir_ / "art" / "kernels");
  // A manifest naming a kernel the source does not define.
  std::ofstream(dir_ / "art" / "kernels" / "kernels.cu") << kKernelSource;
  std::ofstream(dir_ / "art" / "manifest.json")
      << kernelProgram("missing_kernel").dump();
  auto m = artifact::loadManifest((dir_ / "art").string());
  ASSERT_TRUE(m.ok()) << m.status();
  auto p = cpu::Program::create(*m, "forward");
  ASSERT_FALSE(p.ok());
  EXPECT_CONTAINS(p.status().message(), "has no kernel 'missing_kernel'");
  // A source that does not compile: the compiler's message comes back.
  std::ofstream(dir_ / "art" / "kernels" / "kernels.cu")
      << "#include \"infir2_prelude.h\"\nthis is not C++;\n";
  auto m2 = artifact::loadManifest((dir_ / "art").string());
  ASSERT_TRUE(m2.ok());
  auto p2 = cpu::Program::create(*m2, "forward");
  ASSERT_FALSE(p2.ok());
  EXPECT_CONTAINS(p2.status().message(), "for the CPU failed");
  EXPECT_CONTAINS(p2.status().message(), "kernels.cc");
  // No source at all.
  fs::remove(dir_ / "art" / "kernels" / "kernels.cu");
  auto p3 = cpu::Program::create(*m2, "forward");
  ASSERT_FALSE(p3.ok());
  EXPECT_CONTAINS(p3.status().message(), "cannot read the artifact's kernel "
                                         "source");
}
} // namespace
