//===- Fp8Enums.td - fp8 enumerations ----------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_IR_FP8ENUMS_TD
#define INFIR2_DIALECTS_FP8_IR_FP8ENUMS_TD

include "mlir/IR/EnumAttr.td"

def Fp8_LayoutKind : I32Enum<"LayoutKind", "how a tensor is split into tiles", [
  I32EnumCase<"Tile", 0, "tile">,
  I32EnumCase<"PerRow", 1, "per_row">,
  I32EnumCase<"PerTensor", 2, "per_tensor">
]> {
  let cppNamespace = "::mlir::infir2::fp8";
}

def Fp8_ScaleRule : I32Enum<"ScaleRule", "how a tile's scale is represented", [
  I32EnumCase<"ExactF32", 0, "exact_f32">,
  I32EnumCase<"Pow2F32", 1, "pow2_f32">,
  I32EnumCase<"E8M0", 2, "e8m0">
]> {
  let cppNamespace = "::mlir::infir2::fp8";
  let description = [{
    * `exact_f32`: the scale is the f32 value its formula gives.
    * `pow2_f32`: the scale is rounded to a power of two and stored as f32.
    * `e8m0`: the same power of two, stored as an `f8E8M0FNU` exponent byte.
  }];
}

def Fp8_QuantMethod : I32Enum<"QuantMethod",
    "which formula turns a tile's amax into its scale", [
  I32EnumCase<"TE", 0, "te">,
  I32EnumCase<"Checkpoint", 1, "checkpoint">
]> {
  let cppNamespace = "::mlir::infir2::fp8";
  let description = [{
    * `te`: TransformerEngine's rule, used by training: s = fmax / amax,
      q = saturate(x * s), scale = 1 / s.
    * `checkpoint`: the rule of block-FP8 checkpoint tools, used for exported
      checkpoints and rollout weights: scale = max(amax, 1e-10) / fmax,
      q = clamp(x / scale).
  }];
}

def Fp8_Role : I32Enum<"Role", "which tensor of a linear layer is quantized", [
  I32EnumCase<"Activation", 0, "activation">,
  I32EnumCase<"Weight", 1, "weight">,
  I32EnumCase<"Gradient", 2, "gradient">
]> {
  let cppNamespace = "::mlir::infir2::fp8";
}

#endif // INFIR2_DIALECTS_FP8_IR_FP8ENUMS_TD
