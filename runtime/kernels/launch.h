//===- launch.h - How a generated kernel is launched ------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The arithmetic both backends share: a kernel's row count from its operand
// shapes, its result shapes, grid and workspace, the argument block every
// generated kernel takes (pointers to its inputs and outputs, the row
// count, the workspace: 8 bytes each, in that order), and the errors a
// kernel reports through its workspace header.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_KERNELS_LAUNCH_H_
#define INFIR2_RUNTIME_KERNELS_LAUNCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/manifest.h"

namespace infir2::kernels {
/// Bytes of the workspace header: error code, row, value, block counter.
inline constexpr int64_t kWorkspaceHeader = 64;

/// The row count T of a launch, from the operand shapes.
absl::StatusOr<int64_t>
launchRows(const artifact::Kernel &kernel,
           const std::vector<std::vector<int64_t>> &operandShapes);

/// Result |i|'s shape for |rows|.
std::vector<int64_t> resultShape(const artifact::Kernel &kernel, size_t i,
                                 int64_t rows);

struct LaunchShape {
  int64_t grid = 1;           ///< thread blocks (at least 1)
  int64_t workspaceBytes = 0; ///< 0 when the kernel takes none
};

/// Blocks for |rows| (at most |maxGrid|, at least one so column sums are
/// written even for no rows) and the workspace they need.
LaunchShape launchShape(const artifact::Kernel &kernel, int64_t rows,
                        int64_t maxGrid);

/// The error a kernel recorded in its workspace header, if any, as a status
/// naming |where| (the step) and the row.
absl::Status workspaceError(const artifact::Kernel &kernel,
                            const int64_t *header, const std::string &where);
} // namespace infir2::kernels

#endif // INFIR2_RUNTIME_KERNELS_LAUNCH_H_
