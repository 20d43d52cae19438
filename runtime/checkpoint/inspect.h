//===- inspect.h - A checkpoint's tensors and problems ----------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Reads a checkpoint directory (single file or index + shards) or one
// safetensors file without loading tensor data (except the scales it
// checks) and reports its tensors, totals by dtype, the quantization
// config, and consistency problems: index entries without their shard or
// tensor, tensors missing from the index, a wrong index total_size, FP8
// tensors without scales, scale shapes that do not match their weight's
// blocks, orphan scales, INT4 packed tensors whose shape, scales or zero
// points disagree, "scale_fmt": "ue8m0" with scales that are not powers of
// two. A file whose header is malformed is an error, not a problem.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CHECKPOINT_INSPECT_H_
#define INFIR2_RUNTIME_CHECKPOINT_INSPECT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/io/dtype.h"

namespace infir2::checkpoint {
struct InspectedTensor {
  std::string name;
  std::string shard; ///< file name
  DType dtype;
  std::vector<int64_t> shape;
  int64_t bytes = 0;
};

struct InspectReport {
  std::string path;
  std::vector<std::string> shards; ///< file names, in index order
  bool indexed = false;
  std::vector<InspectedTensor> tensors; ///< sorted by name
  struct Total {
    int64_t tensors = 0, elements = 0, bytes = 0;
  };
  std::map<std::string, Total> byDtype; ///< by safetensors dtype name
  Total total;
  /// config.json's quantization_config, pretty-printed; empty if none.
  std::string quantizationConfig;
  std::vector<std::string> problems;
};

/// Inspects a checkpoint directory or a .safetensors file.
absl::StatusOr<InspectReport> inspect(const std::string &path);

/// The report as text; |listTensors| adds a line per tensor.
std::string formatInspectReport(const InspectReport &report, bool listTensors);
} // namespace infir2::checkpoint

#endif // INFIR2_RUNTIME_CHECKPOINT_INSPECT_H_
