//===- safetensors_test.cc - safetensors reading, writing, validation -----===//
//
// Part of infir2's tests. Round trips, sharded checkpoints, and one
// malformed file per validation rule (R1-R9 of runtime/io/safetensors.h),
// each of which must fail with a message naming the file, the tensor and
// the rule. Files written by Hugging Face (torch / safetensors) are read by
// the model tests' golden checkpoints.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace infir2::io {
namespace {
namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("infir2_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) { return (dir_ / name).string(); }

  /// A file made of an explicit header length, header text and data.
  std::string raw(const std::string &name, uint64_t headerLen,
                  const std::string &header, const std::string &data) {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    for (int i = 0; i < 8; ++i)
      out.put(static_cast<char>(headerLen >> (8 * i)));
    out << header << data;
    return p;
  }
  std::string raw(const std::string &name, const std::string &header,
                  const std::string &data) {
    return raw(name, header.size(), header, data);
  }

  /// The error of opening |p|; fails the test if it opens.
  std::string errorOf(const std::string &p) {
    auto f = SafetensorsFile::open(p);
    EXPECT_FALSE(f.ok()) << p << " opened";
    return f.ok() ? "" : std::string(f.status().message());
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripsEveryDtype) {
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1.0f};
  std::vector<uint16_t> bf16 = {0x3F80, 0xC000};
  std::vector<uint8_t> fp8 = {0x7E, 0x01, 0x80};
  std::vector<int64_t> i64 = {-5, 1ll << 40};
  std::vector<TensorData> tensors = {
      {"a.weight", DType::kF32, {2, 3}, f32.data(), 24},
      {"b", DType::kBF16, {2}, bf16.data(), 4},
      {"c.weight_scale_inv", DType::kF8E4M3, {3}, fp8.data(), 3},
      {"empty", DType::kF32, {0, 4}, nullptr, 0},
      {"d", DType::kI64, {2}, i64.data(), 16},
  };
  ASSERT_TRUE(writeSafetensors(path("m.safetensors"), tensors).ok());
  auto file = SafetensorsFile::open(path("m.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
  ASSERT_EQ((*file)->tensors().size(), 5u);
  const TensorView *a = (*file)->find("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(a->data, f32.data(), 24), 0);
  EXPECT_EQ(std::memcmp((*file)->find("d")->data, i64.data(), 16), 0);
  EXPECT_EQ((*file)->find("empty")->nbytes, 0);
  EXPECT_EQ((*file)->find("missing"), nullptr);
  // The header is padded to 8 bytes; no temporary file is left behind.
  std::ifstream in(path("m.safetensors"), std::ios::binary);
  uint64_t len = 0;
  in.read(reinterpret_cast<char *>(&len), 8);
  EXPECT_EQ(len % 8, 0u);
  int files = 0;
  for (const auto &e : fs::directory_iterator(dir_))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(SafetensorsTest, WritesShardedCheckpointsAndReadsThemBack) {
  std::vector<float> w(1000, 0.5f);
  std::vector<TensorData> tensors;
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i)
    names.push_back("model.layers." + std::to_string(i) + ".weight");
  for (const std::string &n : names)
    tensors.push_back({n, DType::kF32, {10, 100}, w.data(), 4000});
  ASSERT_TRUE(writeCheckpoint(dir_.string(), tensors, 9000).ok());
  EXPECT_TRUE(fs::exists(dir_ / "model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(dir_ / "model-00003-of-00003.safetensors"));
  std::ifstream in(dir_ / "model.safetensors.index.json");
  std::string index((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(index.find("\"total_size\": 20000"), std::string::npos) << index;
  auto ckpt = Checkpoint::open(dir_.string());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ((*ckpt)->names(), names);
  EXPECT_EQ((*ckpt)->find(names[4])->elements(), 1000);
}

TEST_F(SafetensorsTest, R1TooShort) {
  std::string p = path("short.safetensors");
  std::ofstream(p) << "abc";
  std::string e = errorOf(p);
  EXPECT_NE(e.find("short.safetensors: the file is 3 bytes, shorter than the "
                   "8-byte header length (R1)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R1HeaderLengthPastEndOfFile) {
  std::string e = errorOf(raw("past.safetensors", 1000, "{}", ""));
  EXPECT_NE(e.find("header length 1000 runs past the end of the 10-byte file "
                   "(R1)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R1HeaderTooLarge) {
  std::string e = errorOf(raw("big.safetensors", 200000000, "{}", ""));
  EXPECT_NE(e.find("exceeds the 100 MB limit (R1)"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, R2NotUtf8) {
  std::string e = errorOf(raw("utf.safetensors", "{\"a\xff\":1}", ""));
  EXPECT_NE(e.find("the header is not UTF-8 (byte 3 of the header) (R2)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R2NotJson) {
  std::string e = errorOf(raw("json.safetensors", "{\"a\": [1,", ""));
  EXPECT_NE(e.find("the header is not a JSON object (R2)"), std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R3UnknownDtype) {
  std::string e =
      errorOf(raw("dtype.safetensors",
                  R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})",
                  std::string(16, '\0')));
  EXPECT_NE(e.find("tensor 'w': unknown dtype 'F128'; known: F64, F32"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("(R3)"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, R4NegativeShape) {
  std::string e = errorOf(
      raw("shape.safetensors",
          R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})",
          std::string(8, '\0')));
  EXPECT_NE(e.find("tensor 'w': shape [2, -1] has an entry that is not a "
                   "non-negative integer (R4)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R5TruncatedData) {
  // The header promises 16 bytes; the file was cut after 12.
  std::string e =
      errorOf(raw("trunc.safetensors",
                  R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                  std::string(12, '\0')));
  EXPECT_NE(e.find("tensor 'w': data_offsets [0, 16] lie outside the 12-byte "
                   "data section (R5)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R5OffsetsBackwards) {
  std::string e =
      errorOf(raw("back.safetensors",
                  R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[8,4]}})",
                  std::string(8, '\0')));
  EXPECT_NE(e.find("data_offsets [8, 4] end before they begin (R5)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, DeeplyNestedHeaderValuesAreReportedNotCrashed) {
  // A 400 KB header nesting 200000 arrays: the message must elide it (a
  // recursive dump would overflow the stack).
  std::string shape = std::string(200000, '[') + std::string(200000, ']');
  std::string e = errorOf(raw("deep.safetensors",
                              R"({"w":{"dtype":"U8","shape":)" + shape +
                                  R"(,"data_offsets":[0,0]}})",
                              ""));
  EXPECT_NE(e.find("shape [[[[...]]]] has an entry that is not a"),
            std::string::npos)
      << e.substr(0, 200);
}

TEST_F(SafetensorsTest, DirectoriesAreNotFiles) {
  fs::create_directories(dir_ / "dir.safetensors");
  EXPECT_NE(errorOf(path("dir.safetensors")).find("is not a regular file"),
            std::string::npos);
}

TEST_F(SafetensorsTest, WriterChecksNamesAndKeepsFreeTextMetadata) {
  uint8_t byte = 7;
  absl::Status s = writeSafetensors(path("bad.safetensors"),
                                    {{"w\xff", DType::kU8, {1}, &byte, 1}});
  EXPECT_NE(std::string(s.message()).find("is not UTF-8"), std::string::npos)
      << s;
  ASSERT_TRUE(writeSafetensors(path("meta.safetensors"),
                               {{"w", DType::kU8, {1}, &byte, 1}},
                               {{"format", "pt"}, {"model", "/data/mod\xe9le"}})
                  .ok());
  auto f = SafetensorsFile::open(path("meta.safetensors"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->metadata().at("model"), "/data/mod\xef\xbf\xbdle");
}

TEST_F(SafetensorsTest, StreamingWriterWritesTensorsInPiecesAndChecksBytes) {
  auto w = SafetensorsWriter::create(
      path("s.safetensors"),
      {{"a", DType::kF32, {2, 3}}, {"b", DType::kU8, {5}}});
  ASSERT_TRUE(w.ok()) << w.status();
  const float a[6] = {1, 2, 3, 4, 5, 6};
  const uint8_t b[5] = {9, 8, 7, 6, 5};
  // Too early: the bytes of "b" are missing.
  ASSERT_TRUE((*w)->write(a, 8).ok());
  ASSERT_TRUE((*w)->write(a + 2, 16).ok());
  EXPECT_FALSE((*w)->write(b, 6).ok()) << "more bytes than the header";
  auto early = SafetensorsWriter::create(path("e.safetensors"),
                                         {{"b", DType::kU8, {5}}});
  ASSERT_TRUE(early.ok());
  EXPECT_NE(std::string((*early)->finish().message()).find("0 of 5"),
            std::string::npos);
  ASSERT_TRUE((*w)->write(b, 5).ok());
  ASSERT_TRUE((*w)->finish().ok());
  auto f = SafetensorsFile::open(path("s.safetensors"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->fileBytes(), (*w)->fileBytes());
  const TensorView *ta = (*f)->find("a");
  const TensorView *tb = (*f)->find("b");
  ASSERT_TRUE(ta && tb);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(ta->data, a, 24), 0);
  EXPECT_EQ(std::memcmp(tb->data, b, 5), 0);
  // Released pages read back the same bytes.
  (*f)->release(*ta);
  (*f)->prefetch(*ta);
  EXPECT_EQ(std::memcmp(ta->data, a, 24), 0);
  // Repeated names are refused before anything is written.
  EXPECT_FALSE(
      SafetensorsWriter::create(path("r.safetensors"), {{"x", DType::kU8, {1}},
                                                        {"x", DType::kU8, {1}}})
          .ok());
}

TEST_F(SafetensorsTest, R6WrongDtypeSize) {
  std::string e = errorOf(
      raw("size.safetensors",
          R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,24]}})",
          std::string(24, '\0')));
  EXPECT_NE(e.find("tensor 'w': shape [2, 3] of BF16 (2 bytes each) needs 12 "
                   "bytes but data_offsets [0, 24] hold 24 (R6)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R7OverlappingOffsets) {
  std::string e =
      errorOf(raw("overlap.safetensors",
                  R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  std::string(12, '\0')));
  EXPECT_NE(e.find("tensor 'b': data_offsets [4, 12] overlap tensor 'a', "
                   "which ends at 8 (R7)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R7Gap) {
  std::string e =
      errorOf(raw("gap.safetensors",
                  R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                  std::string(12, '\0')));
  EXPECT_NE(e.find("tensor 'b': data_offsets [8, 12] leave a gap of 4 bytes "
                   "after 'a' (R7)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R7TrailingBytes) {
  std::string e =
      errorOf(raw("tail.safetensors",
                  R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  std::string(9, '\0')));
  EXPECT_NE(e.find("5 bytes follow the last tensor; the data section is 9 "
                   "bytes (R7)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R8MetadataValuesAreStrings) {
  std::string e =
      errorOf(raw("meta.safetensors", R"({"__metadata__":{"format":1}})", ""));
  EXPECT_NE(e.find("__metadata__ entry 'format' is not a string (R8)"),
            std::string::npos)
      << e;
}

TEST_F(SafetensorsTest, R9MissingShard) {
  std::vector<float> w(4, 1.0f);
  ASSERT_TRUE(writeCheckpoint(dir_.string(),
                              {{"a", DType::kF32, {4}, w.data(), 16},
                               {"b", DType::kF32, {4}, w.data(), 16}},
                              16)
                  .ok());
  fs::remove(dir_ / "model-00002-of-00002.safetensors");
  auto ckpt = Checkpoint::open(dir_.string());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_NE(ckpt.status().message().find(
                "weight_map entry 'b' names shard "
                "model-00002-of-00002.safetensors, which does not exist (R9)"),
            std::string::npos)
      << ckpt.status();
}

TEST_F(SafetensorsTest, R9WeightMapPointsToTheWrongShard) {
  std::vector<float> w(4, 1.0f);
  ASSERT_TRUE(writeSafetensors(path("one.safetensors"),
                               {{"a", DType::kF32, {4}, w.data(), 16}})
                  .ok());
  std::ofstream(dir_ / "model.safetensors.index.json")
      << R"({"metadata":{"total_size":32},"weight_map":{"a":"one.safetensors","b":"one.safetensors"}})";
  auto ckpt = Checkpoint::open(dir_.string());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_NE(ckpt.status().message().find(
                "weight_map puts tensor 'b' in shard one.safetensors, which "
                "does not hold it (R9)"),
            std::string::npos)
      << ckpt.status();
}

TEST_F(SafetensorsTest, MissingCheckpointSaysWhatItLookedFor) {
  auto ckpt = Checkpoint::open(dir_.string());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_NE(ckpt.status().message().find(
                "no model.safetensors or model.safetensors.index.json"),
            std::string::npos);
}

TEST_F(SafetensorsTest, WriterRejectsSizeMismatch) {
  std::vector<float> w(4);
  absl::Status s = writeSafetensors(path("bad.safetensors"),
                                    {{"a", DType::kF32, {5}, w.data(), 16}});
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(path("bad.safetensors")));
}
} // namespace
} // namespace infir2::io
