//===- Passes.td - fp8 dialect passes ----------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_TRANSFORMS_PASSES_TD
#define INFIR2_DIALECTS_FP8_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def Fp8AnnotatePass : Pass<"fp8-annotate", "::mlir::ModuleOp"> {
  let summary = "Puts the InfiR2 FP8 recipe on the linear layers it covers";
  let description = [{
    Annotates, in function `function`, exactly the four linear groups of
    every decoder layer of a Qwen2 model with an `#fp8.recipe`: the
    attention's `q_proj`, `k_proj`, `v_proj` (the QKV group) and `o_proj`,
    and the MLP's `gate_proj`, `up_proj` (gate/up) and `down_proj`. A linear
    is recognized by its weight, a function argument whose `graph.param`
    name is `model.layers.<i>.self_attn.<q|k|v|o>_proj.weight` or
    `model.layers.<i>.mlp.<gate|up|down>_proj.weight`. Everything else stays
    in its precision: the embedding, the LM head, the norms and the
    attention core (recipe.md §2).

    The recipe is TransformerEngine's `Float8BlockScaling` as InfiR2 uses it
    (`RecipeAttr::getInfiR2`): E4M3 everywhere, 1x128 tiles for activations
    and gradients, 128x128 blocks for weights, power-of-two f32 scales
    (`fp32-scales`: exact f32 scales, the RL stage's
    `NVTE_FP8_BLOCK_SCALING_FP32_SCALES=1`). `e5m2-gradients` quantizes
    the output gradients to E5M2 instead (TransformerEngine's `HYBRID`
    format). `bf16-first-layers` / `bf16-last-layers` keep the first or last
    k decoder layers out of FP8 (TransformerEngine's
    `--first-last-layers-bf16`).

    ```mlir
    // infir2-opt --fp8-annotate='bf16-first-layers=1'
    %q = graph.linear %x, %wq, %bq {fp8 = #fp8.recipe<...>} : ...
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The model function to annotate">,
    Option<"fp32Scales", "fp32-scales", "bool", /*default=*/"false",
           "Exact f32 scales instead of powers of two">,
    Option<"e5m2Gradients", "e5m2-gradients", "bool", /*default=*/"false",
           "Quantize output gradients to E5M2">,
    Option<"bf16FirstLayers", "bf16-first-layers", "int64_t", /*default=*/"0",
           "Keep this many first decoder layers in high precision">,
    Option<"bf16LastLayers", "bf16-last-layers", "int64_t", /*default=*/"0",
           "Keep this many last decoder layers in high precision">,
  ];
  let dependentDialects = ["::mlir::infir2::fp8::Fp8Dialect"];
}

def Fp8LowerPass : Pass<"fp8-lower", "::mlir::func::FuncOp"> {
  let summary = "Lowers FP8-annotated GEMMs to quantize and scaled_matmul";
  let description = [{
    Rewrites every `graph.linear` with an `#fp8.recipe` and every gradient
    GEMM that `graph-autodiff` made of one (`graph.matmul` with `fp8` and
    `fp8_gemm`) into `fp8.quantize` + `fp8.scaled_matmul`, as
    `docs/dialects/fp8-semantics.md` §6 defines:

    * forward `y = x W^T (+ b)`: `x` quantized with the recipe's activation
      quantization (1x128 tiles along K), `W` with the weight's (128x128
      blocks), accumulated in f32; the bias is added to the f32 accumulator
      and the sum rounded once to the result type;
    * dgrad `dx = dy W`: `dy` quantized with the gradient quantization (1x128
      along N), `W`'s blocks read the other way round (128x128 blocks serve
      both orientations);
    * wgrad `dW = dy^T x`: both operands reduce over the tokens, so each is
      read through the `transposed` copy of its quantize — the copy made
      from the high-precision tensor, never re-quantized from FP8.

    A tensor is quantized once per quantization: the activation shared by
    `q_proj`, `k_proj` and `v_proj` has one `fp8.quantize`, which also
    emits the transposed copy when a wgrad reads it; `dy` of one linear is
    quantized once for its dgrad and wgrad. Quantizes are placed right after
    the tensor's definition. Every other op is left alone.

    ```mlir
    // before
    %y = graph.linear %x, %w {fp8 = #r} : (tensor<?x256xbf16>, tensor<512x256xbf16>) -> tensor<?x512xbf16>
    // after
    %xd, %xs = fp8.quantize %x layout 1x128 scale pow2_f32 role activation : ...
    %wd, %ws = fp8.quantize %w layout 128x128 scale pow2_f32 role weight : ...
    %y = fp8.scaled_matmul %xd, %xs layout 1x128, %wd, %ws layout 128x128 transposed : ... -> tensor<?x512xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::infir2::fp8::Fp8Dialect",
                           "::mlir::infir2::graph::GraphDialect"];
}

#endif // INFIR2_DIALECTS_FP8_TRANSFORMS_PASSES_TD
