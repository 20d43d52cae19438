//===- Fp8Attrs.td - fp8 attributes ------------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_IR_FP8ATTRS_TD
#define INFIR2_DIALECTS_FP8_IR_FP8ATTRS_TD

include "dialects/fp8/IR/Fp8Dialect.td"
include "dialects/fp8/IR/Fp8Enums.td"
include "mlir/IR/AttrTypeBase.td"

class Fp8_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Fp8_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enum attributes
//===----------------------------------------------------------------------===//

// Standalone they read `#fp8.scale_rule<pow2_f32>`; inside ops and other
// fp8 attributes they print bare (`scale pow2_f32`). Fp8Dialect's own
// attribute printer adds the angle brackets, so the bodies carry none.
class Fp8_EnumAttr<EnumInfo enumInfo, string name>
    : EnumAttr<Fp8_Dialect, enumInfo, name> {
  let assemblyFormat = ?;
  let hasCustomAssemblyFormat = 1;
}

def Fp8_ScaleRuleAttr : Fp8_EnumAttr<Fp8_ScaleRule, "scale_rule">;
def Fp8_QuantMethodAttr : Fp8_EnumAttr<Fp8_QuantMethod, "method">;
def Fp8_RoleAttr : Fp8_EnumAttr<Fp8_Role, "role">;

//===----------------------------------------------------------------------===//
// LayoutAttr
//===----------------------------------------------------------------------===//

def Fp8_LayoutAttr : Fp8_Attr<"Layout", "layout"> {
  let summary = "How a 2-D tensor is split into tiles that share one scale";
  let description = [{
    A layout names the tile of a row-major 2-D tensor `[M, K]` that shares one
    scale:

    * `RxC` - tiles of R rows and C columns. The legal tiles are `1x128`
      (128 consecutive elements of a row: activations and gradients), `128x1`
      (128 consecutive elements of a column: the column-wise copy the weight
      gradient GEMM reads) and `128x128` (weights). Edge tiles are partial when
      a dimension is not a multiple of the tile.
    * `per_row` - one tile per row (the tile is `1xK`).
    * `per_tensor` - the whole tensor is one tile (the tile is `MxK`).

    The scale tensor of a `[M, K]` tensor has shape
    `[ceildiv(M, R), ceildiv(K, C)]` for the effective tile `RxC`.

    Rule: (R1) a tile has positive dimensions. Any such `RxC` parses; ops
    reject tiles that are not legal (rule C3 of `fp8.quantize`,
    `fp8.dequantize` and `fp8.scaled_matmul`).

    Examples: `#fp8.layout<1x128>`, `#fp8.layout<per_row>`; ops and other fp8
    attributes print the layout bare: `layout 128x128`.
  }];
  let parameters = (ins EnumParameter<Fp8_LayoutKind>:$kind,
                        "int64_t":$rows, "int64_t":$cols);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$rows, "int64_t":$cols), [{
      return $_get($_ctxt, LayoutKind::Tile, rows, cols);
    }]>,
  ];
  let extraClassDeclaration = [{
    /// Layouts by name.
    static LayoutAttr getPerRow(::mlir::MLIRContext *ctx);
    static LayoutAttr getPerTensor(::mlir::MLIRContext *ctx);

    /// True for 1x128, 128x1, 128x128, per_row and per_tensor.
    bool isLegal() const;
    /// True for the 128x128 block.
    bool isBlock2D() const;
    /// The tile of a tensor of shape |dataShape| (rank 2). Dynamic data
    /// dimensions give dynamic tile dimensions for per_row and per_tensor.
    ::llvm::SmallVector<int64_t, 2>
    getTileShape(::llvm::ArrayRef<int64_t> dataShape) const;
    /// The scale shape of a tensor of shape |dataShape| (rank 2):
    /// ceildiv(data, tile); dynamic stays dynamic.
    ::llvm::SmallVector<int64_t, 2>
    getScaleShape(::llvm::ArrayRef<int64_t> dataShape) const;
    /// "1x128", "per_row", ... as printed.
    std::string str() const;
  }];
}

//===----------------------------------------------------------------------===//
// QuantAttr
//===----------------------------------------------------------------------===//

def Fp8_QuantAttr : Fp8_Attr<"Quant", "quant"> {
  let summary = "The quantization of one tensor: FP8 type, layout, scale rule";
  let description = [{
    `#fp8.quant<f8E4M3FN, 1x128, pow2_f32>` quantizes a tensor to `f8E4M3FN`
    in 1x128 tiles with power-of-two f32 scales.

    Rules: (R2) the element type is `f8E4M3FN` or `f8E5M2`; (R3) the layout
    is legal (1x128, 128x1, 128x128, per_row or per_tensor).
  }];
  let parameters = (ins "::mlir::Type":$elementType,
                        "LayoutAttr":$layout,
                        EnumParameter<Fp8_ScaleRule>:$scaleRule);
  let assemblyFormat = "`<` $elementType `,` $layout `,` $scaleRule `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// RecipeAttr
//===----------------------------------------------------------------------===//

def Fp8_RecipeAttr : Fp8_Attr<"Recipe", "recipe"> {
  let summary = "How the GEMMs of one linear layer are quantized";
  let description = [{
    A recipe gives the quantization of each role of a linear layer
    `y = x * W^T`: the activation `x`, the weight `W` and the output gradient
    `dy`. Layouts are stated in the forward orientation, along the reduction
    dimension of the forward GEMM; the compiler derives the column-wise copies
    that the gradient GEMMs need (dgrad `dy * W`, wgrad `dy^T * x`) by
    quantizing the high-precision tensor a second time.

    The InfiR2 recipe (TransformerEngine `Float8BlockScaling`, E4M3):

    ```mlir
    #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>,
                weight = <f8E4M3FN, 128x128, pow2_f32>,
                gradient = <f8E4M3FN, 1x128, pow2_f32>>
    ```

    Every pair of roles meets in one of the three GEMMs, so the recipe obeys
    what `fp8.scaled_matmul` requires of one GEMM's operands. Rules: (R4) no
    role uses `128x1` (it is a derived orientation, not a recipe choice);
    (R5) at most one role uses `128x128` blocks; (R6) at most one role is
    `f8E5M2`; (R7) all roles or none use `e8m0` scales.
  }];
  let parameters = (ins "QuantAttr":$activation, "QuantAttr":$weight,
                        "QuantAttr":$gradient);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let genMnemonicAlias = 1;
  let extraClassDeclaration = [{
    /// The InfiR2 recipe: E4M3 everywhere, 1x128 activations and gradients,
    /// 128x128 weights; power-of-two scales, or exact f32 scales when
    /// |fp32Scales| (InfiR2's RL stage sets NVTE_FP8_BLOCK_SCALING_FP32_SCALES).
    static RecipeAttr getInfiR2(::mlir::MLIRContext *ctx, bool fp32Scales);
    /// The quantization of |role|.
    QuantAttr getQuant(Role role) const;
  }];
}

#endif // INFIR2_DIALECTS_FP8_IR_FP8ATTRS_TD
