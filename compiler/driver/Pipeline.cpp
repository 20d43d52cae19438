//===- Pipeline.cpp - The infir2 compilation pipeline ---------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Pipeline.h"

#include "dialects/graph/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::infir2 {
void buildArtifactPipeline(OpPassManager &pm, bool gradients) {
  if (gradients) {
    graph::GraphAutodiffPassOptions options;
    options.function = "forward";
    options.loss = "nll_sum";
    options.keep = "token_count";
    options.gradFunction = "forward_grad";
    pm.addPass(graph::createGraphAutodiffPass(options));
  }
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
} // namespace mlir::infir2
