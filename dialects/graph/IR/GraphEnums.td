//===- GraphEnums.td - graph enumerations ------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHENUMS_TD
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHENUMS_TD

include "mlir/IR/EnumAttr.td"

def Graph_RopeStyle : I32Enum<"RopeStyle",
    "which elements of a head a rotary angle rotates together", [
  I32EnumCase<"RotateHalf", 0, "rotate_half">,
  I32EnumCase<"Interleaved", 1, "interleaved">
]> {
  let cppNamespace = "::mlir::infir2::graph";
  let description = [{
    * `rotate_half` (Qwen2, Llama, Hugging Face `rotate_half`): element `i`
      of the first half of a head pairs with element `i + D/2`.
    * `interleaved` (GPT-J, Megatron `--rotary-interleaved`): element `2i`
      pairs with element `2i + 1`.
  }];
}

def Graph_Fp8Gemm : I32Enum<"Fp8Gemm",
    "which gradient GEMM of an FP8 linear layer a matmul is", [
  I32EnumCase<"Dgrad", 0, "dgrad">,
  I32EnumCase<"Wgrad", 1, "wgrad">
]> {
  let cppNamespace = "::mlir::infir2::graph";
  let description = [{
    For a linear layer `y = x * W^T` with an `#fp8.recipe`:

    * `dgrad`: `dx = dy * W`; `lhs` is the output gradient (recipe role
      `gradient`), `rhs` the weight (role `weight`).
    * `wgrad`: `dW = dy^T * x`; `lhs` is the output gradient read transposed
      (role `gradient`), `rhs` the activation (role `activation`). Both reduce
      over the tokens.
  }];
}

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHENUMS_TD
