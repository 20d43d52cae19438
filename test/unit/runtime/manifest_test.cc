//===- manifest_test.cc - The artifact manifest parser --------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/manifest.h"

#include <cmath>
#include <string>

#include "nlohmann/json.hpp"
#include "gtest/gtest.h"

namespace {
using infir2::artifact::Manifest;
using infir2::artifact::parseManifest;
using nlohmann::json;

/// A valid manifest: y = x + w.
json valid() {
  return json::parse(R"({
    "schema": "infir2-artifact", "version": 2, "producer": "test",
    "target": "cpu", "precision": "fp32",
    "model": {"family": "test", "config": "c", "key": "k"},
    "buffers": [
      {"id": 0, "dtype": "F32", "shape": [-1, 4]},
      {"id": 1, "dtype": "F32", "shape": [4]},
      {"id": 2, "dtype": "F32", "shape": [-1, 4]},
      {"id": 3, "dtype": "F32", "shape": [-1, 4]}
    ],
    "entry_points": [{
      "name": "forward",
      "inputs": [{"name": "x", "buffer": 0}],
      "parameters": [{"name": "w", "buffer": 1, "dtype": "F32", "shape": [4]}],
      "outputs": [{"name": "y", "buffer": 3}],
      "steps": [
        {"kind": "op", "op": "graph.broadcast", "name": "b",
         "operands": [1, 0], "results": [2],
         "attrs": {"dims": [1]}, "free": []},
        {"kind": "op", "op": "graph.add", "operands": [0, 2], "results": [3],
         "attrs": {}, "free": [2]}
      ]
    }]
  })");
}

std::string error(const json &j) {
  auto m = parseManifest(j.dump(), "art/manifest.json");
  EXPECT_FALSE(m.ok());
  return m.ok() ? "" : std::string(m.status().message());
}

TEST(Manifest, ParsesAValidManifest) {
  auto m = parseManifest(valid().dump(), "m");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version, 2);
  EXPECT_EQ(m->target, "cpu");
  ASSERT_EQ(m->buffers.size(), 4u);
  EXPECT_EQ(m->buffers[0].shape, (std::vector<int64_t>{-1, 4}));
  const infir2::artifact::EntryPoint *e = m->entryPoint("forward");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->steps.size(), 2u);
  EXPECT_EQ(e->steps[0].name, "b");
  const auto *dims = e->steps[0].attr("dims");
  ASSERT_NE(dims, nullptr);
  EXPECT_EQ(std::get<std::vector<int64_t>>(*dims), std::vector<int64_t>{1});
  EXPECT_EQ(e->steps[1].free, std::vector<int64_t>{2});
  EXPECT_EQ(m->entryPoint("backward"), nullptr);
}

TEST(Manifest, RejectsOtherSchemasAndVersions) {
  json j = valid();
  j["schema"] = "iree-module";
  EXPECT_NE(error(j).find("'iree-module' is not 'infir2-artifact'"),
            std::string::npos);
  j = valid();
  j["version"] = 1;
  std::string e = error(j);
  EXPECT_NE(e.find("schema version 1 is not the version this runtime reads"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("art/manifest.json"), std::string::npos) << e;
}

TEST(Manifest, RejectsUnknownStepKinds) {
  json j = valid();
  j["entry_points"][0]["steps"][0]["kind"] = "collective";
  EXPECT_NE(error(j).find("entry_points[0].steps[0].kind: step kind "
                          "'collective' is unknown to this runtime"),
            std::string::npos);
}

TEST(Manifest, RejectsReadsBeforeDefinitions) {
  json j = valid();
  std::swap(j["entry_points"][0]["steps"][0], j["entry_points"][0]["steps"][1]);
  EXPECT_NE(error(j).find("buffer 2 is read before it is defined"),
            std::string::npos);
}

TEST(Manifest, RejectsDoubleDefinitionsAndBadIds) {
  json j = valid();
  j["entry_points"][0]["steps"][1]["results"] = json::array({2});
  EXPECT_NE(error(j).find("buffer 2 is defined twice"), std::string::npos);
  j = valid();
  j["entry_points"][0]["outputs"][0]["buffer"] = 9;
  EXPECT_NE(error(j).find("buffer 9 does not exist (there are 4)"),
            std::string::npos);
  j = valid();
  j["buffers"][2]["id"] = 7;
  EXPECT_NE(error(j).find("buffers[2].id: is 7, expected 2"),
            std::string::npos);
}

TEST(Manifest, RejectsReadsAfterFreeAndFreeingInputs) {
  json j = valid();
  j["entry_points"][0]["steps"][0]["free"] = json::array({2});
  EXPECT_NE(error(j).find("buffer 2 is read after entry_points[0].steps[0] "
                          "freed it"),
            std::string::npos);
  j = valid();
  j["entry_points"][0]["steps"][1]["free"] = json::array({0});
  EXPECT_NE(error(j).find("buffer 0 is an input or a parameter"),
            std::string::npos);
  j = valid();
  j["entry_points"][0]["steps"][1]["free"] = json::array({3});
  EXPECT_NE(error(j).find("outputs[0].buffer: buffer 3 is read after"),
            std::string::npos);
}

TEST(Manifest, RejectsOutOfRangeIntegersAndShapes) {
  json j = valid();
  j["version"] = 4294967297ll; // 2^32 + 1 must not pass for 1
  EXPECT_NE(error(j).find("schema version 4294967297"), std::string::npos);
  j = valid();
  j["entry_points"][0]["outputs"][0]["buffer"] = 18446744073709551615ull;
  EXPECT_NE(error(j).find("integer out of range"), std::string::npos);
  j = valid();
  j["buffers"][1]["shape"] = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_NE(error(j).find("buffers[1].shape: is too large"), std::string::npos);
}

TEST(Manifest, ReadsNonFiniteSplats) {
  json j = valid();
  j["entry_points"][0]["steps"][0]["attrs"]["value"] = {{"splat", "-inf"}};
  auto m = parseManifest(j.dump(), "m");
  ASSERT_TRUE(m.ok()) << m.status();
  const auto *v = m->entryPoints[0].steps[0].attr("value");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(std::get<infir2::artifact::Splat>(*v).value, -HUGE_VAL);
}

TEST(Manifest, RejectsBadFieldTypes) {
  json j = valid();
  j["buffers"][1]["dtype"] = "F33";
  EXPECT_NE(error(j).find("buffers[1].dtype: unknown dtype 'F33'"),
            std::string::npos);
  j = valid();
  j["entry_points"][0]["steps"][0]["operands"] = "1, 0";
  EXPECT_NE(error(j).find("steps[0].operands: expected an array"),
            std::string::npos);
  j = valid();
  j["entry_points"][0]["steps"][0]["attrs"]["dims"] = {{"a", 1}};
  EXPECT_NE(error(j).find("steps[0].attrs.dims"), std::string::npos);
  j = valid();
  j.erase("target");
  EXPECT_NE(error(j).find("missing field 'target'"), std::string::npos);
  j = valid();
  j["entry_points"][0]["parameters"][0]["shape"] = {-1};
  EXPECT_NE(error(j).find("dtype/shape differ"), std::string::npos);
}

TEST(Manifest, RejectsNonJson) {
  auto m = parseManifest("{\"schema\": ", "m");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(std::string(m.status().message()).find("not valid JSON"),
            std::string::npos);
}

TEST(Manifest, LoadSaysWhatADirectoryLacks) {
  auto m = infir2::artifact::loadManifest("/nonexistent/art");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(std::string(m.status().message()).find("infir2c --emit artifact"),
            std::string::npos);
}
} // namespace

// A manifest with one generated kernel: [T, 4] -> ([T, 4], [T/128 tiles, 4]).
json withKernel() {
  json j = valid();
  j["buffers"].push_back({{"id", 4}, {"dtype", "F32"}, {"shape", {-1, 4}}});
  j["buffers"].push_back({{"id", 5}, {"dtype", "F32"}, {"shape", {4, -1}}});
  j["kernels"] = {{"source", "kernels/kernels.cu"},
                  {"list",
                   {{{"name", "add_0123"},
                     {"label", "add"},
                     {"ops", {"graph.add"}},
                     {"schedule", "row_tiles"},
                     {"inputs", 1},
                     {"input_dtypes", {"F32"}},
                     {"result_dtypes", {"F32", "F32"}},
                     {"block_threads", 32},
                     {"rows_per_block", 128},
                     {"col_blocks", 1},
                     {"rows", {{"static", -1}, {"input", 0}, {"dim", 0}}},
                     {"smem_bytes", 400},
                     {"workspace", false},
                     {"workspace_per_block", 0},
                     {"result_shapes", {{"T", 4}, {4, "T/128"}}},
                     {"bytes_per_row", 48},
                     {"static_bytes", 0},
                     {"resources",
                      {{"sm_90a",
                        {{"registers", 30},
                         {"stack_bytes", 0},
                         {"spill_stores", 0},
                         {"spill_loads", 0},
                         {"static_smem", 0}}}}}}}}};
  j["entry_points"][0]["steps"].push_back({{"kind", "kernel"},
                                           {"kernel", "add_0123"},
                                           {"operands", {3}},
                                           {"results", {4, 5}},
                                           {"free", json::array()}});
  return j;
}

TEST(Manifest, ParsesKernels) {
  auto m = parseManifest(withKernel().dump(), "m");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->kernels.size(), 1u);
  const infir2::artifact::Kernel &k = m->kernels[0];
  EXPECT_EQ(k.name, "add_0123");
  EXPECT_EQ(k.schedule, "row_tiles");
  EXPECT_EQ(k.rowsInput, 0);
  ASSERT_EQ(k.resultShapes.size(), 2u);
  EXPECT_EQ(k.resultShapes[0][0].rowsDiv, 1);
  EXPECT_EQ(k.resultShapes[0][1].value, 4);
  EXPECT_EQ(k.resultShapes[1][1].rowsDiv, 128);
  ASSERT_EQ(k.resources.size(), 1u);
  EXPECT_EQ(k.resources[0].arch, "sm_90a");
  EXPECT_EQ(k.resources[0].registers, 30);
  const infir2::artifact::Step &s = m->entryPoint("forward")->steps[2];
  EXPECT_EQ(s.kind, "kernel");
  EXPECT_EQ(s.kernel, 0);
}

TEST(Manifest, RejectsBadKernels) {
  json j = withKernel();
  j["entry_points"][0]["steps"][2]["kernel"] = "nope";
  EXPECT_NE(error(j).find("steps[2].kernel: no kernel 'nope' in kernels.list"),
            std::string::npos);
  j = withKernel();
  j["entry_points"][0]["steps"][2]["results"] = {4};
  EXPECT_NE(error(j).find("kernel 'add_0123' takes 1 operands and makes 2 "
                          "results, not 1 and 1"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["result_shapes"][1] = {4, 5};
  EXPECT_NE(error(j).find("steps[2].results[1]: buffer 5 does not have the "
                          "shape kernel 'add_0123' makes"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["result_shapes"][1] = {4, "T/0"};
  EXPECT_NE(error(j).find("dimensions are sizes >= 0, \"T\" or \"T/<n>\""),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["schedule"] = "warps";
  EXPECT_NE(error(j).find("'warps' is not rows, row_tiles or blocks"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["block_threads"] = 4096;
  EXPECT_NE(error(j).find("launch fields out of range"), std::string::npos);
  j = withKernel();
  j["kernels"]["source"] = "../../etc/passwd";
  EXPECT_NE(error(j).find("kernels.source: must be a path inside the artifact"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"].push_back(j["kernels"]["list"][0]);
  EXPECT_NE(error(j).find("kernel 'add_0123' twice"), std::string::npos);
  // The argument block's types are the buffers': a kernel never writes a
  // bf16 buffer as f32 (or reads one).
  j = withKernel();
  j["kernels"]["list"][0]["result_dtypes"] = {"BF16", "F32"};
  EXPECT_NE(error(j).find("steps[2].results[0]: buffer 4 is F32, kernel "
                          "'add_0123' writes BF16"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["input_dtypes"] = {"I32"};
  EXPECT_NE(error(j).find("steps[2].operands[0]: buffer 3 is F32, kernel "
                          "'add_0123' reads I32"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["input_dtypes"] = json::array();
  EXPECT_NE(error(j).find("input_dtypes and result_dtypes need one entry"),
            std::string::npos);
  j = withKernel();
  j["kernels"]["list"][0]["smem_bytes"] = 1 << 30;
  EXPECT_NE(error(j).find("smem_bytes: 1073741824 is more than a block gets"),
            std::string::npos);
}
