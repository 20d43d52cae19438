//===- CudaCodegen.h - kernel.fused regions to CUDA C++ ---------*- C++ -*-===//
//
// Part of infir2.
//
// Turns each kernel.fused region into one CUDA C++ kernel written against
// the runtime's prelude (runtime/kernels/prelude.h), so that the same source
// compiles with NVRTC for the GPU and with the host compiler for the CPU
// target (DESIGN.md decision 3). docs/codegen.md describes the generated
// code.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_COMPILER_CODEGEN_CUDACODEGEN_H
#define INFIR2_COMPILER_CODEGEN_CUDACODEGEN_H

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dialects/kernel/IR/KernelOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace mlir::infir2::codegen {
/// One dimension of a kernel result: a constant, or the kernel's row count
/// T divided by |rowsDiv| and rounded up (rowsDiv 1: T itself).
struct Dim {
  int64_t value = 0;
  int64_t rowsDiv = 0;
};

/// A generated kernel and how to launch it.
struct GeneratedKernel {
  std::string name;   ///< the C symbol: <label>_<hash of the code>
  std::string label;  ///< the region's sym_name
  std::string source; ///< the kernel's code (after the prelude)
  /// Constant tables the code reads (RoPE frequencies), by name; a
  /// translation unit defines each once.
  std::map<std::string, std::string> constants;
  kernel::Schedule schedule = kernel::Schedule::Rows;
  int blockThreads = 256;   ///< GPU threads per block
  int64_t rowsPerBlock = 1; ///< rows a block handles at a time
  int64_t colBlocks = 1;    ///< blocks schedule: 128-column tiles per row tile
  int64_t staticRows = -1;  ///< the row count when static, else -1
  int rowsInput = -1;       ///< dynamic rows: the input whose dimension ...
  int rowsDim = 0;          ///< ... holds them
  int64_t smemBytes = 0;    ///< dynamic shared memory per block
  int64_t numInputs = 0;    ///< operands
  bool needsWorkspace = false;
  int64_t workspacePerBlock = 0; ///< bytes per block after the 64-byte header
  std::vector<std::vector<Dim>> resultShapes;
  /// Element types of the inputs and results, as safetensors names (the
  /// pointer types of the argument block).
  std::vector<std::string> inputDtypes, resultDtypes;
  std::vector<std::string> ops; ///< the ops computed, in program order
  int64_t bytesPerRow = 0;      ///< memory traffic per row (tokens)
  int64_t staticBytes = 0;      ///< and per launch (weights, biases)
};

/// The runtime's name of an element type (safetensors': "F32", "BF16",
/// "F8_E4M3", ...), or nullopt for a type buffers cannot have.
std::optional<std::string> runtimeDTypeName(Type t);

/// Generates |op|'s kernel; on failure emits a diagnostic on the op that
/// names the construct the generator does not handle.
FailureOr<GeneratedKernel> generateKernel(kernel::FusedOp op);

/// One translation unit: the prelude include and each distinct kernel once.
std::string kernelsTranslationUnit(ArrayRef<GeneratedKernel> kernels);

/// The CUDA C++ of every kernel.fused op in |module| (infir2-translate
/// --kernel-to-cuda).
LogicalResult translateToCuda(ModuleOp module, raw_ostream &os);
} // namespace mlir::infir2::codegen

#endif // INFIR2_COMPILER_CODEGEN_CUDACODEGEN_H
