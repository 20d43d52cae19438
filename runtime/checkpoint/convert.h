//===- convert.h - Checkpoint conversion: block FP8, INT4, BF16 -*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Converts Hugging Face checkpoint directories between BF16 (or F16/F32)
// weights and the two quantized formats engines load:
//   - block FP8 (DeepSeek-V3 style): `W` as F8_E4M3 plus
//     `W_scale_inv` [ceil(rows/128), ceil(cols/128)] dequantization
//     multipliers, with the checkpoint scale rule of the numerics library
//     (block_quant.h, ScaleMethod::kCheckpoint) and quantization_config
//     {quant_method fp8, fmt e4m3, ...} in config.json;
//   - INT4 weight-only, round to nearest, in compressed-tensors'
//     pack-quantized format (weight_packed / weight_scale / weight_shape /
//     weight_zero_point), the numbers of compressed-tensors' minmax observer
//     and quantizer (docs/guide/convert.md gives the formulas);
// and back to BF16.
//
// Conversions stream tensor by tensor: input files are memory-mapped and
// each tensor's pages are dropped once it is written, so the resident set
// stays near one tensor in and one out. The output keeps the input's shard
// layout, is written into a temporary directory next to the output and
// renamed into place at the end: an interrupted or failed run leaves no
// half checkpoint at the output path.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CHECKPOINT_CONVERT_H_
#define INFIR2_RUNTIME_CHECKPOINT_CONVERT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/io/dtype.h"
#include "runtime/numerics/block_quant.h"

namespace infir2::checkpoint {
/// What a conversion reports as it goes.
struct Progress {
  int64_t bytesDone = 0;  ///< input tensor bytes converted so far
  int64_t bytesTotal = 0; ///< input tensor bytes in all
  std::string tensor;     ///< the tensor being converted
};

struct ConvertOptions {
  std::string input;  ///< checkpoint directory
  std::string output; ///< directory to create
  /// Replace an existing non-empty |output|.
  bool force = false;
  /// Worker threads (0: every core).
  int threads = 0;
  /// Tensors whose name matches one of these regular expressions (ECMAScript,
  /// matched anywhere in the name) are copied unquantized.
  std::vector<std::string> exclude;

  // hf-to-fp8
  /// Exact f32 scales (DeepSeek-V3, slime); kPow2 for UE8M0 consumers.
  numerics::ScaleMode scaleMode = numerics::ScaleMode::kExactF32;
  DType scaleDtype = DType::kF32; ///< kF32, kBF16 or kF16
  int64_t blockRows = 128, blockCols = 128;

  // hf-to-int4
  int64_t groupSize = 128;
  bool symmetric = true;

  /// Called after every tensor (and at the start), from the calling thread.
  std::function<void(const Progress &)> progress;
  /// Set (e.g. from a signal handler) to stop between tensors; the run then
  /// fails with kCancelled and leaves nothing at |output|.
  const std::atomic<bool> *cancel = nullptr;
};

struct ConvertReport {
  int64_t tensorsIn = 0, tensorsOut = 0, tensorsQuantized = 0;
  int64_t bytesIn = 0, bytesOut = 0; ///< tensor bytes read and written
  int64_t largestTensorBytes = 0;    ///< largest input or output tensor
  int64_t shards = 0, filesCopied = 0;
  double seconds = 0;
  /// Things the user should know that are not errors (e.g. scales that
  /// are not exact in the chosen scale dtype).
  std::vector<std::string> warnings;
};

/// BF16/F16/F32 -> block FP8 (E4M3) with weight_scale_inv.
absl::StatusOr<ConvertReport> convertHfToFp8(const ConvertOptions &options);
/// Block-FP8 (weight_scale_inv) or per-tensor/per-channel (weight_scale)
/// FP8 -> BF16; removes quantization_config.
absl::StatusOr<ConvertReport> convertFp8ToBf16(const ConvertOptions &options);
/// BF16/F16/F32 -> INT4 pack-quantized (compressed-tensors).
absl::StatusOr<ConvertReport> convertHfToInt4(const ConvertOptions &options);
/// INT4 pack-quantized -> BF16; removes quantization_config.
absl::StatusOr<ConvertReport> convertInt4ToBf16(const ConvertOptions &options);

/// Peak resident set size of this process so far (VmHWM), in bytes; 0 if
/// unknown.
int64_t peakRssBytes();
} // namespace infir2::checkpoint

#endif // INFIR2_RUNTIME_CHECKPOINT_CONVERT_H_
