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

#include <string>

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

/// Writes the manifest JSON of |module|'s entry points (its public
/// func.funcs) into |json|. Arguments must carry "graph.input" or
/// "graph.param" names and results "graph.output" names. Fails, with a
/// diagnostic on the offending op, for ops the runtime cannot execute.
LogicalResult writeManifest(ModuleOp module, const ArtifactInfo &info,
                            std::string &json);
} // namespace mlir::infir2

#endif // INFIR2_COMPILER_ARTIFACTWRITER_H
