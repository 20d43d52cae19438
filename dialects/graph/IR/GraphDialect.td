//===- GraphDialect.td - The graph dialect -----------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_TD
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_TD

include "mlir/IR/OpBase.td"

def Graph_Dialect : Dialect {
  let name = "graph";
  let summary = "Tensor-level ops of a Qwen2.5 decoder";
  let description = [{
    The `graph` dialect is the model-level IR of infir2: value-semantics ops on
    ranked tensors (static or dynamic dimensions) that a Qwen2.5 decoder needs,
    from embedding lookup to the masked per-token cross entropy. Model builders
    (`models/qwen2`) emit it; the later stages of the compiler
    (`docs/architecture.md`) differentiate it, quantize it through the `fp8`
    dialect, partition, fuse and lower it to kernels.

    Conventions:

    * Compute element types are `f32`, `bf16` and `f16`; token ids,
      positions and labels are `i32` or `i64`; `cu_seqlens` is `i32`.
    * Ops do not broadcast implicitly: operands of elementwise ops have one
      type, and `graph.broadcast` makes shapes meet.
    * Where the recipe computes in higher precision (RMSNorm statistics,
      softmax, RoPE angles, cross entropy), the op description says so; the
      result is rounded once to the result type.
    * `graph.linear` is the op that carries FP8 quantization: an optional
      `fp8` attribute holding an `#fp8.recipe`.

    * Verifiers check every shape and type rule, across operands: a
      dynamic dimension agrees with anything, but two static sizes of the
      same dimension must be equal wherever they appear.
    * Folders are exact: they remove casts to the same type, reshapes of
      reshapes, identity transposes, broadcasts and slices, `x * 1`,
      `x / 1`, `-(-x)`, and additions of an additive identity (`x + (-0.0)`
      for floats, `x + 0` for integers; `x + 0.0` is not `x` when `x` is
      `-0.0`).
  }];
  let cppNamespace = "::mlir::infir2::graph";
  let dependentDialects = ["::mlir::infir2::fp8::Fp8Dialect"];
  let useDefaultAttributePrinterParser = 1;
}

/// Base class of graph ops.
class Graph_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graph_Dialect, mnemonic, traits>;

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_TD
