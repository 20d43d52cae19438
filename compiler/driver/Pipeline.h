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
/// v0: canonicalization (the graph folders) and CSE; later stages (autodiff,
/// FP8 lowering, fusion) insert themselves here.
void buildArtifactPipeline(OpPassManager &pm);
} // namespace mlir::infir2

#endif // INFIR2_COMPILER_PIPELINE_H
