//===- golden_file.h - Read the safetensors golden files of the tests -----===//
//
// Part of infir2's tests. A minimal reader for the golden files the Python
// generators in test/golden/ write (safetensors: u64 header length, JSON
// header, raw little-endian data). The runtime's own safetensors reader,
// with full validation, is a separate component; this one trusts its input
// beyond the checks a test needs to fail cleanly.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_TEST_UNIT_RUNTIME_GOLDEN_FILE_H_
#define INFIR2_TEST_UNIT_RUNTIME_GOLDEN_FILE_H_

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace infir2::testing {
struct GoldenTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  template <typename T>
  std::vector<T> as() const {
    if (bytes.size() % sizeof(T) != 0)
      throw std::runtime_error("golden tensor size is not a multiple of the "
                               "element size");
    std::vector<T> out(bytes.size() / sizeof(T));
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

/// Reads every tensor of a safetensors file; throws std::runtime_error with
/// the path on a malformed file.
inline std::map<std::string, GoldenTensor> readGolden(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot open golden file " + path);
  uint64_t headerSize = 0;
  in.read(reinterpret_cast<char *>(&headerSize), 8);
  if (!in || headerSize > (uint64_t{1} << 26))
    throw std::runtime_error("bad safetensors header length in " + path);
  std::string header(headerSize, '\0');
  in.read(header.data(), static_cast<std::streamsize>(headerSize));
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
  nlohmann::json json = nlohmann::json::parse(header);
  std::map<std::string, GoldenTensor> tensors;
  for (auto &[name, info] : json.items()) {
    if (name == "__metadata__")
      continue;
    GoldenTensor t;
    t.dtype = info.at("dtype").get<std::string>();
    t.shape = info.at("shape").get<std::vector<int64_t>>();
    auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
    if (offsets.size() != 2 || offsets[0] > offsets[1] ||
        offsets[1] > data.size())
      throw std::runtime_error("bad data_offsets of " + name + " in " + path);
    t.bytes.assign(data.begin() + offsets[0], data.begin() + offsets[1]);
    tensors.emplace(name, std::move(t));
  }
  return tensors;
}

/// 64-bit FNV-1a. Each step is a bijection of the state, so two byte strings
/// of equal length that differ in one byte always hash differently.
inline uint64_t fnv1a64(const uint8_t *p, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}
} // namespace infir2::testing

#endif // INFIR2_TEST_UNIT_RUNTIME_GOLDEN_FILE_H_
