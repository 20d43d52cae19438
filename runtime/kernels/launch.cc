//===- launch.cc - How a generated kernel is launched ---------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/launch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace infir2::kernels {
absl::StatusOr<int64_t>
launchRows(const artifact::Kernel &kernel,
           const std::vector<std::vector<int64_t>> &operandShapes) {
  if (kernel.staticRows >= 0)
    return kernel.staticRows;
  const size_t input = static_cast<size_t>(kernel.rowsInput);
  if (input >= operandShapes.size() ||
      static_cast<size_t>(kernel.rowsDim) >= operandShapes[input].size())
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel ", kernel.name, ": operand ", kernel.rowsInput,
        " has no dimension ", kernel.rowsDim, " to take the rows from"));
  return operandShapes[input][kernel.rowsDim];
}

std::vector<int64_t> resultShape(const artifact::Kernel &kernel, size_t i,
                                 int64_t rows) {
  std::vector<int64_t> shape;
  for (const artifact::KernelDim &d : kernel.resultShapes[i])
    shape.push_back(d.rowsDiv ? (rows + d.rowsDiv - 1) / d.rowsDiv : d.value);
  return shape;
}

LaunchShape launchShape(const artifact::Kernel &kernel, int64_t rows,
                        int64_t maxGrid) {
  LaunchShape s;
  int64_t work;
  if (kernel.schedule == "blocks")
    work = (rows + 127) / 128 * kernel.colBlocks;
  else
    work = (rows + kernel.rowsPerBlock - 1) / kernel.rowsPerBlock;
  s.grid = std::max<int64_t>(1, std::min(work, maxGrid));
  if (kernel.workspace)
    s.workspaceBytes = kWorkspaceHeader + s.grid * kernel.workspacePerBlock;
  return s;
}

absl::Status workspaceError(const artifact::Kernel &kernel,
                            const int64_t *header, const std::string &where) {
  if (header[0] == 0)
    return absl::OkStatus();
  const std::string at = where.empty() ? "" : where + ": ";
  if (header[0] == 1)
    return absl::OutOfRangeError(
        absl::StrCat(at, "label ", header[2], " at position ", header[1],
                     " is outside the vocabulary and not masked (kernel ",
                     kernel.name, ")"));
  return absl::InternalError(absl::StrCat(at, "kernel ", kernel.name,
                                          " reported error ", header[0],
                                          " at row ", header[1]));
}
} // namespace infir2::kernels
