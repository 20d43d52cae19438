//===- Fp8Dialect.td - The fp8 dialect ---------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_IR_FP8DIALECT_TD
#define INFIR2_DIALECTS_FP8_IR_FP8DIALECT_TD

include "mlir/IR/OpBase.td"

def Fp8_Dialect : Dialect {
  let name = "fp8";
  let summary = "Block-scaled FP8 quantization and GEMMs";
  let description = [{
    The `fp8` dialect describes FP8 training numerics the way the InfiR2 recipe
    (TransformerEngine `Float8BlockScaling`) uses them: tensors are split into
    tiles (1x128 along the last dimension, 128x1, 128x128 blocks, one tile per
    row, or the whole tensor), each tile gets one scale, and the tile's values
    are stored as FP8 numbers that are multiplied by the scale to recover them.

    Data use MLIR's builtin FP8 element types `f8E4M3FN` (max finite 448) and
    `f8E5M2` (max finite 57344). Scales are `f32` (exact or power-of-two
    values) or `f8E8M0FNU` (UE8M0: an exponent byte, value 2^(e-127)). A scale
    tensor always holds the *dequantization* multiplier (TransformerEngine's
    `scale_inv`, a Hugging Face checkpoint's `weight_scale_inv`).

    Attributes describe a quantization (`#fp8.layout<...>`,
    `#fp8.scale_rule<...>`, `#fp8.method<...>`, `#fp8.role<...>`,
    `#fp8.quant<...>`) and the recipe of one linear layer
    (`#fp8.recipe<...>`), which `graph.linear` carries. Ops quantize,
    dequantize and multiply block-scaled operands with FP32 accumulation.

    The exact semantics and the numbered verifier rules are in
    `docs/dialects/fp8-semantics.md`. Every rule the verifiers check is
    numbered, `(Cn)` for ops and `(Rn)` for attributes, and its diagnostic
    starts with the number; syntax errors and MLIR's structural checks (a
    missing attribute, wrong result counts) keep MLIR's own wording.
  }];
  let cppNamespace = "::mlir::infir2::fp8";
  // Hand-written so that bracket-free attribute bodies (layouts, enums) get
  // their brackets only in the standalone form (Fp8Attrs.cpp).
  let useDefaultAttributePrinterParser = 0;
  let extraClassDeclaration = [{
    void registerAttributes();
    ::mlir::Attribute parseAttribute(::mlir::DialectAsmParser &parser,
                                     ::mlir::Type type) const override;
    void printAttribute(::mlir::Attribute attr,
                        ::mlir::DialectAsmPrinter &printer) const override;
  }];
}

/// Base class of fp8 ops.
class Fp8_Op<string mnemonic, list<Trait> traits = []>
    : Op<Fp8_Dialect, mnemonic, traits>;

#endif // INFIR2_DIALECTS_FP8_IR_FP8DIALECT_TD
