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

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHENUMS_TD
