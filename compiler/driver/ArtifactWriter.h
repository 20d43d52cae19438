//===- ArtifactWriter.h - Write the executable artifact manifest -*- C++
//-*-===//
//
// Part of infir2.
//
// Turns a function of graph-dialect ops into the runtime's manifest: one
// buffer per value, one step per op in program order, each step listing the
// buffers that die after it. The schema is owned by the runtime and
// documented in docs/artifact.md.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_COMPILER_ARTIFACTWRITER_H
#define INFIR2_COMPILER_ARTIFACTWRITER_H

#include <map>
#include <string>
#include <vector>

#include "compiler/codegen/CudaCodegen.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::infir2 {
/// Facts about the compilation that go into the manifest header.
struct ArtifactInfo {
  std::string target;    ///< "cpu"
  std::string precision; ///< "fp32" / "bf16"
  std::string family;    ///< "qwen2"
  std::string config;    ///< canonical model configuration
  std::string key;       ///< cache key
};

/// What ptxas reported for one kernel on one architecture.
struct KernelResources {
  std::string arch;
  int64_t registers = 0, stackBytes = 0, spillStores = 0, spillLoads = 0;
  int64_t staticSmem = 0;
};

/// The generated kernels of a module: one per kernel.fused op (identical
/// regions share a kernel), with their resources when compiled for a GPU.
struct KernelTable {
  std::vector<codegen::GeneratedKernel> kernels;
  llvm::DenseMap<Operation *, size_t> byOp;
  std::map<std::string, std::vector<KernelResources>> resources;
  std::string source; ///< the translation unit's path in the artifact
};

/// Generates the kernel of every kernel.fused op of |module|.
FailureOr<KernelTable> generateKernels(ModuleOp module);

/// Writes the manifest JSON of |module|'s entry points (its public
/// func.funcs) into |json|. Arguments must carry "graph.input" or
/// "graph.param" names and results "graph.output" names; kernel.fused ops
/// become kernel steps of |kernels|. Fails, with a diagnostic on the
/// offending op, for ops the runtime cannot execute.
LogicalResult writeManifest(ModuleOp module, const ArtifactInfo &info,
                            const KernelTable &kernels, std::string &json);
} // namespace mlir::infir2

#endif // INFIR2_COMPILER_ARTIFACTWRITER_H
