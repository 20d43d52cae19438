//===- Pipeline.cpp - The infir2 compilation pipeline ---------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Pipeline.h"

#include "mlir/Transforms/Passes.h"

namespace mlir::infir2 {
void buildArtifactPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
} // namespace mlir::infir2
