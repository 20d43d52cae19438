//===- Pipeline.cpp - The infir2 compilation pipeline ---------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Pipeline.h"

#include "dialects/fp8/Transforms/Passes.h"
#include "dialects/graph/Transforms/Passes.h"
#include "dialects/kernel/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::infir2 {
void buildArtifactPipeline(OpPassManager &pm, bool gradients, bool fp8,
                           PipelineStop stop, bool fusion, bool optimizer) {
  // The recipe goes on before differentiation, so the gradient GEMMs of an
  // FP8 linear inherit it; the lowering sees forward and backward together
  // and quantizes each tensor once for both.
  if (fp8)
    pm.addPass(fp8::createFp8AnnotatePass());
  // Fused QKV and gate/up GEMMs (FP8 ones only where the 128-blocks align).
  pm.addNestedPass<func::FuncOp>(graph::createGraphMergeLinearsPass());
  if (gradients) {
    graph::GraphAutodiffPassOptions options;
    options.function = "forward";
    options.loss = "nll_sum";
    options.keep = "token_count";
    options.gradFunction = "forward_grad";
    pm.addPass(graph::createGraphAutodiffPass(options));
    if (optimizer)
      pm.addPass(graph::createGraphAdamwPass());
  }
  if (stop == PipelineStop::kAutodiff)
    return;
  if (fp8)
    pm.addNestedPass<func::FuncOp>(fp8::createFp8LowerPass());
  if (stop == PipelineStop::kFp8)
    return;
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (fusion)
    pm.addNestedPass<func::FuncOp>(kernel::createKernelFusePass());
}
} // namespace mlir::infir2
