//===- Fp8Ops.td - fp8 operations --------------------------*- tablegen -*-===//
//
// Part of infir2.
//
// Operand types are checked by the C++ verifiers, not by ODS constraints, so
// that each type rule's diagnostic names its number
// (docs/dialects/fp8-semantics.md).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_IR_FP8OPS_TD
#define INFIR2_DIALECTS_FP8_IR_FP8OPS_TD

include "dialects/fp8/IR/Fp8Dialect.td"
include "dialects/fp8/IR/Fp8Attrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

def Fp8_QuantizeOp : Fp8_Op<"quantize", [Pure, AttrSizedResultSegments]> {
  let summary = "Quantizes a tensor to FP8 data and one scale per tile";
  let description = [{
    Splits the 2-D `input` `[M, K]` (f32, bf16 or f16) into the tiles of
    `layout`, computes one scale per tile from the tile's largest magnitude
    (amax) with the formula of `method` and the representation of
    `scale_rule`, and returns the FP8 `data` (same shape) and the `scales`
    (`ceildiv([M, K], tile)`). `scales` holds dequantization multipliers:
    `input ~= data * scale` element-wise within each tile.

    With `transposed`, the op also quantizes the transpose of the same
    high-precision input, `[K, M]`, with the given layout and returns its data
    and scales as the third and fourth results. Training's weight-gradient
    GEMM reduces over tokens and reads this copy; producing it from the
    high-precision input in the same pass (as TransformerEngine does) avoids
    quantizing twice through FP8.

    `method` selects the scale formula (default `te`); `role` records which
    tensor of a linear layer this is (it does not change the result).

    Example, the activation of an FP8 linear with the wgrad copy:

    ```mlir
    %d, %s, %dt, %st = fp8.quantize %x layout 1x128 transposed 1x128
        scale pow2_f32 role activation
        : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>,
          tensor<300x256xf8E4M3FN>, tensor<300x2xf32>
    ```

    Rules (C1)-(C6) and the exact arithmetic are in
    `docs/dialects/fp8-semantics.md`.
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    Fp8_LayoutAttr:$layout,
    OptionalAttr<Fp8_LayoutAttr>:$transposed_layout,
    Fp8_ScaleRuleAttr:$scale_rule,
    DefaultValuedAttr<Fp8_QuantMethodAttr,
                      "::mlir::infir2::fp8::QuantMethod::TE">:$method,
    OptionalAttr<Fp8_RoleAttr>:$role
  );
  let results = (outs
    AnyRankedTensor:$data,
    AnyRankedTensor:$scales,
    Optional<AnyRankedTensor>:$data_t,
    Optional<AnyRankedTensor>:$scales_t
  );
  let assemblyFormat = [{
    $input `layout` $layout (`transposed` $transposed_layout^)?
    `scale` $scale_rule (`method` $method^)? (`role` $role^)? attr-dict
    `:` type($input) `->` type($data) `,` type($scales)
    (`,` type($data_t)^ `,` type($scales_t))?
  }];
  let builders = [
    // Infers all result types from the input, the FP8 element type and the
    // layouts. |transposedLayout| null: no transposed copy.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Type":$dataElementType,
                   "LayoutAttr":$layout, "ScaleRule":$scaleRule,
                   CArg<"LayoutAttr", "{}">:$transposedLayout,
                   CArg<"QuantMethod", "QuantMethod::TE">:$method,
                   CArg<"std::optional<Role>", "std::nullopt">:$role)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

def Fp8_DequantizeOp : Fp8_Op<"dequantize", [Pure]> {
  let summary = "Multiplies FP8 data by its per-tile scales";
  let description = [{
    Returns `data * scale` for every element, where `scale` is the scale of
    the element's tile under `layout`, computed in f32 and rounded once to the
    result element type (f32, bf16 or f16).

    ```mlir
    %w = fp8.dequantize %d, %s layout 128x128
        : tensor<512x1536xf8E4M3FN>, tensor<4x12xf32> -> tensor<512x1536xbf16>
    ```

    Rules (C1)-(C5) are in `docs/dialects/fp8-semantics.md`.
  }];
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$scales,
                       Fp8_LayoutAttr:$layout);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $data `,` $scales `layout` $layout attr-dict
    `:` type($data) `,` type($scales) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$data, "::mlir::Value":$scales,
                   "LayoutAttr":$layout, "::mlir::Type":$resultElementType)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// ScaledMatmulOp
//===----------------------------------------------------------------------===//

def Fp8_ScaledMatmulOp : Fp8_Op<"scaled_matmul", [Pure]> {
  let summary = "GEMM of block-scaled FP8 operands with FP32 accumulation";
  let description = [{
    Computes `result[m, n] = sum_k A[m, k] * B[k, n]` where `A` is the
    dequantized `lhs` (`[M, K]`, or `[K, M]` read transposed when
    `transposed` follows its layout) and `B` the dequantized `rhs` (`[K, N]`,
    or `[N, K]` read transposed). Products and sums are in f32 (tensor-core
    partial sums are promoted to f32, TransformerEngine's split accumulator);
    the f32 result is rounded once to the result element type (bf16 or f32).

    A linear layer `y = x * W^T` with a Hugging Face weight `W [N, K]`:

    ```mlir
    %y = fp8.scaled_matmul %x, %xs layout 1x128,
                           %w, %ws layout 128x128 transposed
        : tensor<256x1536xf8E4M3FN>, tensor<256x12xf32>,
          tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
    ```

    1-D tiles must run along the contraction dimension, and at most one
    operand may use 128x128 blocks. Rules (C1)-(C8) are in
    `docs/dialects/fp8-semantics.md`.
  }];
  let arguments = (ins
    AnyRankedTensor:$lhs, AnyRankedTensor:$lhs_scales,
    AnyRankedTensor:$rhs, AnyRankedTensor:$rhs_scales,
    Fp8_LayoutAttr:$lhs_layout, Fp8_LayoutAttr:$rhs_layout,
    UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs
  );
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $lhs_scales `layout` $lhs_layout (`transposed` $transpose_lhs^)?
    `,` $rhs `,` $rhs_scales `layout` $rhs_layout
    (`transposed` $transpose_rhs^)? attr-dict
    `:` type($lhs) `,` type($lhs_scales) `,` type($rhs) `,` type($rhs_scales)
    `->` type($result)
  }];
  let builders = [
    // Infers the result type [M, N] with the given element type.
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$lhsScales,
                   "LayoutAttr":$lhsLayout, "bool":$transposeLhs,
                   "::mlir::Value":$rhs, "::mlir::Value":$rhsScales,
                   "LayoutAttr":$rhsLayout, "bool":$transposeRhs,
                   "::mlir::Type":$resultElementType)>
  ];
  let hasVerifier = 1;
}

#endif // INFIR2_DIALECTS_FP8_IR_FP8OPS_TD
