//===- KernelDialect.td - The kernel dialect ---------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_IR_KERNELDIALECT_TD
#define INFIR2_DIALECTS_KERNEL_IR_KERNELDIALECT_TD

include "mlir/IR/OpBase.td"

def Kernel_Dialect : Dialect {
  let name = "kernel";
  let summary = "Fused kernel regions: what one generated GPU kernel computes";
  let description = [{
    The `kernel` dialect holds the output of fusion: a `kernel.fused` op
    wraps the `graph` and `fp8` ops that one generated kernel computes,
    in a region isolated from above whose arguments are the kernel's inputs
    and whose `kernel.yield` operands are its outputs (the values used
    outside the kernel). Library operations (GEMMs, attention, embedding
    lookups) stay outside kernels.

    Every op inside a kernel iterates over the same rows: the token
    dimension of activations and gradients, or the rows of a weight. The
    kernel's `schedule` says how the generated code walks them: one row per
    thread block (`rows`), 128-row tiles per thread block (`row_tiles`, for
    quantizations that also emit the transposed copy, whose tiles run along
    the rows), or 128x128 blocks (`blocks`, for weight quantization).
    `docs/dialects/kernel.md` is this reference; the code generator that
    turns a kernel into CUDA C++ is described in `docs/codegen.md`.
  }];
  let cppNamespace = "::mlir::infir2::kernel";
}

/// Base class of kernel ops.
class Kernel_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kernel_Dialect, mnemonic, traits>;

#endif // INFIR2_DIALECTS_KERNEL_IR_KERNELDIALECT_TD
