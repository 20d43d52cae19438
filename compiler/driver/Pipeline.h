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
/// With |fp8|, fp8-annotate puts the FP8 recipe on the decoder layers'
/// linears; with |gradients|, graph-autodiff adds `forward_grad`; with
/// |fp8|, fp8-lower then turns every annotated GEMM (forward, dgrad, wgrad)
/// into fp8.quantize + fp8.scaled_matmul; canonicalization (the graph
/// folders) and CSE clean up; with |fusion|, kernel-fuse groups everything
/// but the library ops into kernel.fused regions; with |optimizer|,
/// graph-adamw adds the AdamW step (`grad_norm`, `optimizer_step`).
/// Where the pipeline may stop early (infir2c --emit autodiff|fp8).
enum class PipelineStop { kAutodiff, kFp8, kAll };
void buildArtifactPipeline(OpPassManager &pm, bool gradients = false,
                           bool fp8 = false,
                           PipelineStop stop = PipelineStop::kAll,
                           bool fusion = false, bool optimizer = false);
} // namespace mlir::infir2

#endif // INFIR2_COMPILER_PIPELINE_H
