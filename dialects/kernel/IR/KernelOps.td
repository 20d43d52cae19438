//===- KernelOps.td - kernel operations --------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_IR_KERNELOPS_TD
#define INFIR2_DIALECTS_KERNEL_IR_KERNELOPS_TD

include "dialects/kernel/IR/KernelDialect.td"
include "dialects/kernel/IR/KernelEnums.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

def Kernel_FusedOp : Kernel_Op<"fused", [Pure, IsolatedFromAbove, SingleBlock]> {
  let summary = "A group of ops that one generated kernel computes";
  let description = [{
    The region computes the results from `inputs` (its block arguments, one
    per input, of the same types) with `graph`, `fp8` and `arith.constant`
    ops and returns them with `kernel.yield`. Values defined inside and not
    yielded never reach memory: the generated kernel keeps them in
    registers or recomputes them. `sym_name` names the kernel in reports
    and errors.

    `schedule` is `rows` (a thread block per row), `row_tiles` (a thread
    block per 128 rows: required when an `fp8.quantize` in the region
    returns the `transposed` copy, whose 1x128 tiles run down 128 rows) or
    `blocks` (a thread block per 128x128 block: required by an
    `fp8.quantize` with `128x128` layout, a weight's). Every op in the
    region has the same number of rows in its first dimension (the tokens,
    or the weight's rows), except reductions over that dimension
    (`graph.reduce_sum` with `axes [0]`, an `rms_norm_grad`'s weight
    gradient), whose results are the kernel's column sums.

    ```mlir
    %h, %d, %s, %dt, %st = kernel.fused "add_rms_norm_quantize" schedule row_tiles
        (%x, %r, %w) : (tensor<?x896xbf16>, tensor<?x896xbf16>, tensor<896xbf16>)
        -> (tensor<?x896xbf16>, tensor<?x896xf8E4M3FN>, tensor<?x7xf32>,
            tensor<896x?xf8E4M3FN>, tensor<896x?xf32>) {
    ^bb0(%a: tensor<?x896xbf16>, %b: tensor<?x896xbf16>, %g: tensor<896xbf16>):
      %0 = graph.add %a, %b : tensor<?x896xbf16>
      %1 = graph.rms_norm %0, %g {epsilon = 1.0e-06 : f64} : ...
      %2:4 = fp8.quantize %1 layout 1x128 transposed 1x128 scale pow2_f32 role activation : ...
      kernel.yield %0, %2#0, %2#1, %2#2, %2#3 : ...
    }
    ```
  }];
  let arguments = (ins StrAttr:$sym_name, Kernel_Schedule:$schedule,
                       Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `schedule` $schedule `(` $inputs `)` attr-dict `:`
    functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The region's single block.
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

def Kernel_YieldOp : Kernel_Op<"yield", [Pure, Terminator, HasParent<"FusedOp">,
                                          ReturnLike]> {
  let summary = "Returns a kernel's outputs";
  let description = [{
    Ends the region of a `kernel.fused`; its operands become the kernel's
    results, in order, with the same types.

    ```mlir
    kernel.yield %0, %1 : tensor<?x896xbf16>, tensor<?x7xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // INFIR2_DIALECTS_KERNEL_IR_KERNELOPS_TD
