//===- Pipeline.h - The infir2 compilation pipeline -------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_COMPILER_PIPELINE_H
#define INFIR2_COMPILER_PIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace mlir::infir2 {
/// The passes from the model graph to what the artifact writer consumes.
/// With |gradients|, graph-autodiff first adds `forward_grad`; then
/// canonicalization (the graph folders) and CSE clean both functions up.
/// Later stages (FP8 lowering, fusion) insert themselves here.
void buildArtifactPipeline(OpPassManager &pm, bool gradients = false);
} // namespace mlir::infir2

#endif // INFIR2_COMPILER_PIPELINE_H
