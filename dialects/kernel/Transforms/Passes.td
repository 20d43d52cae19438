//===- Passes.td - kernel dialect passes -------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_TRANSFORMS_PASSES_TD
#define INFIR2_DIALECTS_KERNEL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KernelFusePass : Pass<"kernel-fuse", "::mlir::func::FuncOp"> {
  let summary = "Groups elementwise ops and row reductions into kernels";
  let description = [{
    Partitions the ops of a function between library operations (GEMMs,
    attention, embedding lookups and their gradients, which stay as they
    are) and `kernel.fused` regions, each of which becomes one generated
    kernel. Every op a kernel can compute (elementwise arithmetic and
    activations, casts, RoPE, RMSNorm and its gradient, cross entropy and
    its gradient, reductions, FP8 quantization; `FusionRules.h`) ends up in
    exactly one region.

    Regions grow from consumers towards producers. Working from the end of
    the function, an op that is not yet in a region starts one and pulls in
    the ops that produce its operands when they iterate over the same rows
    (the tokens, or a weight's rows) and moving them creates no cycle: an
    op whose result is also read outside the region joins only if none of
    those outside readers leads back into the region, and its result then
    becomes a region output (written to memory once). Index maps (reshape,
    split, concat, slice, broadcast, splat constants) are cloned into each
    region that reads them instead. Then a region is merged with a region
    that reads its outputs when no path outside the two connects them.

    The cost rule: nothing that reduces is ever computed twice — a
    reduction belongs to exactly one region, and only index maps are
    duplicated. Values that stay inside a region never reach memory.

    In a Qwen2 layer this gives: residual add + RMSNorm + FP8 quantization
    of the result in both orientations; bias add + RoPE of q and k + the
    copy of v out of the fused QKV GEMM; SwiGLU + quantization; in the
    backward, RMSNorm gradient + residual gradient sum + quantization,
    SwiGLU gradient + quantization, RoPE gradients + bias gradients +
    quantization; at the top, the cross entropy forward and backward in one
    kernel, so the logits are read but the f32 logits never materialized.

    A region's schedule follows from its ops: `row_tiles` when an
    `fp8.quantize` emits the transposed copy, `blocks` for 128x128 weight
    quantization, `rows` otherwise.

    ```mlir
    // before
    %h = graph.add %x, %r : tensor<?x896xbf16>
    %n = graph.rms_norm %h, %w {epsilon = 1.0e-06 : f64} : ...
    %d, %s = fp8.quantize %n layout 1x128 scale pow2_f32 role activation : ...
    // after
    %k:3 = kernel.fused "add_rms_norm_quantize" schedule rows (%x, %r, %w) : ... {
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::infir2::kernel::KernelDialect"];
}

#endif // INFIR2_DIALECTS_KERNEL_TRANSFORMS_PASSES_TD
