//===- Annotate.cpp - Put the FP8 recipe on a model's linear layers -------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Dialect.h"
#include "dialects/fp8/Transforms/Passes.h"
#include "dialects/graph/IR/GraphOps.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::infir2::fp8 {
#define GEN_PASS_DEF_FP8ANNOTATEPASS
#include "dialects/fp8/Transforms/Passes.h.inc"

namespace {
/// The decoder layer of a weight the recipe covers ("model.layers.3.mlp.
/// down_proj.weight" -> 3), or -1 for any other parameter.
int64_t coveredLayer(StringRef name) {
  if (!name.consume_front("model.layers.") || !name.consume_back(".weight"))
    return -1;
  auto [index, module] = name.split('.');
  int64_t layer;
  if (index.getAsInteger(10, layer) || layer < 0)
    return -1;
  static constexpr StringLiteral kCovered[] = {
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
      "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
      "mlp.down_proj"};
  return llvm::is_contained(kCovered, module) ? layer : -1;
}

class Fp8AnnotatePass : public impl::Fp8AnnotatePassBase<Fp8AnnotatePass> {
public:
  using impl::Fp8AnnotatePassBase<Fp8AnnotatePass>::Fp8AnnotatePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(function);
    if (!fn) {
      module.emitError() << "fp8-annotate: no function @" << function;
      return signalPassFailure();
    }
    if (bf16FirstLayers < 0 || bf16LastLayers < 0) {
      module.emitError() << "fp8-annotate: bf16-first-layers and "
                            "bf16-last-layers must be >= 0";
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    RecipeAttr recipe = RecipeAttr::getInfiR2(ctx, fp32Scales);
    if (e5m2Gradients) {
      QuantAttr g = recipe.getGradient();
      recipe = RecipeAttr::get(ctx, recipe.getActivation(), recipe.getWeight(),
                               QuantAttr::get(ctx, Float8E5M2Type::get(ctx),
                                              g.getLayout(), g.getScaleRule()));
    }

    // The covered linears and their layers; the layer count is the largest
    // index + 1.
    SmallVector<std::pair<graph::LinearOp, int64_t>> linears;
    int64_t layers = 0;
    fn.walk([&](graph::LinearOp op) {
      auto arg = dyn_cast<BlockArgument>(op.getWeight());
      if (!arg || arg.getOwner()->getParentOp() != fn)
        return;
      auto name =
          fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "graph.param");
      int64_t layer = name ? coveredLayer(name.getValue()) : -1;
      if (layer < 0)
        return;
      linears.push_back({op, layer});
      layers = std::max(layers, layer + 1);
    });
    if (linears.empty()) {
      fn.emitError() << "fp8-annotate: no linear layer of @" << function
                     << " has a Qwen2 decoder weight (model.layers.<i>."
                        "self_attn.<q|k|v|o>_proj.weight or "
                        "model.layers.<i>.mlp.<gate|up|down>_proj.weight)";
      return signalPassFailure();
    }
    if (bf16FirstLayers + bf16LastLayers >= layers) {
      fn.emitError() << "fp8-annotate: bf16-first-layers="
                     << static_cast<int64_t>(bf16FirstLayers)
                     << " and bf16-last-layers="
                     << static_cast<int64_t>(bf16LastLayers)
                     << " leave none of the " << layers
                     << " decoder layers in FP8";
      return signalPassFailure();
    }
    for (auto [op, layer] : linears)
      if (layer >= bf16FirstLayers && layer < layers - bf16LastLayers)
        op.setFp8Attr(recipe);
  }
};
} // namespace
} // namespace mlir::infir2::fp8
