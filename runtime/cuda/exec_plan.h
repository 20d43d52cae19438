//===- exec_plan.h - An entry point laid out in one device arena -*- C++
//-*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The CUDA backend runs an entry point out of one device allocation. Once
// the token count is known, every buffer's shape follows (kernel steps from
// their launch rows, library ops from their shape rules), and so does its
// lifetime (defined by one step, dead after its last reader). This file
// computes both and packs the temporaries into an arena, best fit with
// coalescing, 256-byte aligned; views (reshape, split along dimension 0)
// share their source's memory. Parameters live outside the arena; the
// entry point's outputs are allocated for the whole step. Steps that need
// scratch for the step itself (FP8 GEMM operand copies, attention
// statistics) get it from the arena too.
//
// Plain C++: the tests check the plan on the CPU against the CPU executor
// (every buffer's shape) and the manifest's own free lists (every
// lifetime), and `infir2 plan` prints the device memory of a training step.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_EXEC_PLAN_H_
#define INFIR2_RUNTIME_CUDA_EXEC_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/manifest.h"

namespace infir2::cuda {
inline constexpr int64_t kArenaAlignment = 256;

/// Where a buffer lives.
enum class Placement {
  kParameter, ///< bound from the checkpoint, outside the arena
  kOutput,    ///< an entry-point output: allocated for the whole step
  kArena,     ///< a temporary (or an input) packed into the arena
  kView       ///< shares |aliasOf|'s memory
};

struct PlannedBuffer {
  int64_t id = -1;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  int64_t bytes = 0;
  Placement placement = Placement::kArena;
  int64_t aliasOf = -1;  ///< views: the buffer owning the memory
  int64_t offset = -1;   ///< arena and output buffers: byte offset
  int64_t def = -1;      ///< defining step, -1 for inputs and parameters
  int64_t lastRead = -1; ///< last step reading this buffer itself
  int64_t lastUse = -1;  ///< until when its memory lives: the last read of
                         ///< it or any view of it; the end for outputs
};

struct PlannedStep {
  int64_t scratchBytes = 0; ///< arena bytes the step uses while it runs
  int64_t scratchOffset = -1;
};

struct ExecPlan {
  std::string entry;
  int64_t tokens = 0;
  std::vector<PlannedBuffer> buffers; ///< by buffer id (entry's only)
  std::vector<PlannedStep> steps;
  int64_t arenaBytes = 0;     ///< temporaries and step scratch
  int64_t peakLiveBytes = 0;  ///< the most arena bytes live at one step
  int64_t outputBytes = 0;    ///< entry-point outputs
  int64_t parameterBytes = 0; ///< bound parameters
  int64_t inputBytes = 0;
};

/// Plans |entry| of |manifest| for the given input shapes (every entry
/// input by name). Fails naming the step whose shape rule is unknown or
/// whose operands contradict the manifest's declared shapes.
absl::StatusOr<ExecPlan>
planEntryPoint(const artifact::Manifest &manifest, const std::string &entry,
               const std::map<std::string, std::vector<int64_t>> &inputs);

/// A table: the arena, outputs, parameters, and the largest buffers.
std::string formatPlan(const ExecPlan &plan, int topBuffers = 8);
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_EXEC_PLAN_H_
