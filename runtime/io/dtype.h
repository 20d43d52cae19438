//===- dtype.h - Element types of tensors and checkpoints -------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_IO_DTYPE_H_
#define INFIR2_RUNTIME_IO_DTYPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infir2 {
/// The element types of safetensors files (and of runtime tensors).
enum class DType : uint8_t {
  kF64,
  kF32,
  kF16,
  kBF16,
  kF8E4M3, ///< safetensors "F8_E4M3": float8_e4m3fn.
  kF8E5M2,
  kF8E8M0, ///< safetensors "F8_E8M0": float8_e8m0fnu.
  kI64,
  kI32,
  kI16,
  kI8,
  kU8,
  kBool,
};

/// Bytes per element.
int64_t dtypeSize(DType dtype);

/// The safetensors spelling: "F32", "BF16", "F8_E4M3", ...
const char *dtypeName(DType dtype);

/// Parses a safetensors dtype name; nullopt for an unknown one.
std::optional<DType> parseDType(std::string_view name);

/// The names parseDType accepts, comma-separated, for error messages.
std::string knownDTypeNames();

/// Product of |shape|; nullopt if it overflows int64 or a dimension is
/// negative.
std::optional<int64_t> elementCount(const std::vector<int64_t> &shape);

/// "[3, 4]".
std::string formatShape(const std::vector<int64_t> &shape);
} // namespace infir2

#endif // INFIR2_RUNTIME_IO_DTYPE_H_
