//===- Qwen2Model.cpp - The Qwen2.5 forward graph -------------------------===//
//
// Part of infir2.
//
// The computation is transformers' Qwen2ForCausalLM: pre-norm decoder layers
// (RMSNorm, q/k/v projections with bias, rotate-half RoPE, causal GQA
// attention within each packed sequence, o projection, residual, RMSNorm,
// SwiGLU MLP, residual), a final RMSNorm and the LM head (the embedding when
// tied); logits are cast to f32 before the loss.
//
//===----------------------------------------------------------------------===//

#include "models/qwen2/Qwen2Model.h"

#include <cmath>

#include "dialects/graph/IR/GraphOps.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::infir2;

namespace mlir::infir2 {
std::vector<Qwen2Param> qwen2Parameters(const ::infir2::Qwen2Config &c) {
  const int64_t h = c.hiddenSize, q = c.numAttentionHeads * c.headDim,
                kv = c.numKeyValueHeads * c.headDim, inter = c.intermediateSize;
  std::vector<Qwen2Param> params = {
      {"model.embed_tokens.weight", {c.vocabSize, h}}};
  for (int64_t i = 0; i < c.numHiddenLayers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    params.push_back({p + "input_layernorm.weight", {h}});
    params.push_back({p + "self_attn.q_proj.weight", {q, h}});
    params.push_back({p + "self_attn.q_proj.bias", {q}});
    params.push_back({p + "self_attn.k_proj.weight", {kv, h}});
    params.push_back({p + "self_attn.k_proj.bias", {kv}});
    params.push_back({p + "self_attn.v_proj.weight", {kv, h}});
    params.push_back({p + "self_attn.v_proj.bias", {kv}});
    params.push_back({p + "self_attn.o_proj.weight", {h, q}});
    params.push_back({p + "post_attention_layernorm.weight", {h}});
    params.push_back({p + "mlp.gate_proj.weight", {inter, h}});
    params.push_back({p + "mlp.up_proj.weight", {inter, h}});
    params.push_back({p + "mlp.down_proj.weight", {h, inter}});
  }
  params.push_back({"model.norm.weight", {h}});
  if (!c.tieWordEmbeddings)
    params.push_back({"lm_head.weight", {c.vocabSize, h}});
  return params;
}

func::FuncOp buildQwen2Forward(OpBuilder &b, Location loc,
                               const ::infir2::Qwen2Config &c, Type elem,
                               StringRef name, bool withLogits) {
  constexpr int64_t kDyn = ShapedType::kDynamic;
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto tensor = [](ArrayRef<int64_t> shape, Type e) -> Type {
    return RankedTensorType::get(shape, e);
  };

  std::vector<Qwen2Param> params = qwen2Parameters(c);
  const char *inputNames[] = {"token_ids", "position_ids", "cu_seqlens",
                              "labels", "loss_mask"};
  SmallVector<Type> inputs = {tensor({kDyn}, i32), tensor({kDyn}, i32),
                              tensor({kDyn}, i32), tensor({kDyn}, i32),
                              tensor({kDyn}, f32)};
  for (const Qwen2Param &p : params)
    inputs.push_back(tensor(p.shape, elem));
  SmallVector<Type> results = {tensor({kDyn}, f32), tensor({}, f32),
                               tensor({}, f32)};
  SmallVector<const char *> outputNames = {"token_nll", "nll_sum",
                                           "token_count"};
  if (withLogits) {
    results.insert(results.begin(), tensor({kDyn, c.vocabSize}, f32));
    outputNames.insert(outputNames.begin(), "logits");
  }
  auto fn =
      func::FuncOp::create(b, loc, name, b.getFunctionType(inputs, results));
  for (unsigned i = 0; i < 5; ++i)
    fn.setArgAttr(i, kInputAttr, b.getStringAttr(inputNames[i]));
  for (auto [i, p] : llvm::enumerate(params))
    fn.setArgAttr(5 + i, kParamAttr, b.getStringAttr(p.name));
  for (auto [i, outName] : llvm::enumerate(outputNames))
    fn.setResultAttr(i, kOutputAttr, b.getStringAttr(outName));

  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(fn.addEntryBlock());
  auto args = fn.getArguments();
  Value tokens = args[0], positions = args[1], cu = args[2], labels = args[3],
        mask = args[4];
  unsigned next = 5;
  auto param = [&]() -> Value { return args[next++]; };

  const double eps = c.rmsNormEps, theta = c.ropeTheta;
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
  auto heads = [&](Value x, int64_t n, Location at) -> Value {
    return graph::ReshapeOp::create(b, at, x,
                                    ArrayRef<int64_t>{kDyn, n, c.headDim});
  };

  // Ops carry the HF module path they implement (a NameLoc), so dumps and
  // runtime errors say which layer they belong to.
  auto at = [&](const std::string &module) -> Location {
    return NameLoc::get(b.getStringAttr(module), loc);
  };
  Value embed = param();
  Value h =
      graph::EmbeddingOp::create(b, at("model.embed_tokens"), embed, tokens);
  for (int64_t layer = 0; layer < c.numHiddenLayers; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    Value inNorm = param(), wq = param(), bq = param(), wk = param(),
          bk = param(), wv = param(), bv = param(), wo = param(),
          postNorm = param(), wg = param(), wu = param(), wd = param();
    Value a =
        graph::RmsNormOp::create(b, at(p + "input_layernorm"), h, inNorm, eps);
    Value q = graph::LinearOp::create(b, at(p + "self_attn.q_proj"), a, wq, bq);
    Value k = graph::LinearOp::create(b, at(p + "self_attn.k_proj"), a, wk, bk);
    Value v = graph::LinearOp::create(b, at(p + "self_attn.v_proj"), a, wv, bv);
    Location attn = at(p + "self_attn");
    Value qr = graph::RopeOp::create(
        b, attn, heads(q, c.numAttentionHeads, attn), positions, theta);
    Value kr = graph::RopeOp::create(
        b, attn, heads(k, c.numKeyValueHeads, attn), positions, theta);
    Value o = graph::AttentionOp::create(
        b, attn, qr, kr, heads(v, c.numKeyValueHeads, attn), cu, scale,
        /*causal=*/true);
    Value flat = graph::ReshapeOp::create(
        b, attn, o, ArrayRef<int64_t>{kDyn, c.numAttentionHeads * c.headDim});
    Value attnOut =
        graph::LinearOp::create(b, at(p + "self_attn.o_proj"), flat, wo);
    h = graph::AddOp::create(b, at(p + "residual"), h, attnOut);
    Value m = graph::RmsNormOp::create(b, at(p + "post_attention_layernorm"), h,
                                       postNorm, eps);
    Value gate = graph::LinearOp::create(b, at(p + "mlp.gate_proj"), m, wg);
    Value up = graph::LinearOp::create(b, at(p + "mlp.up_proj"), m, wu);
    Value act = graph::SwigluOp::create(b, at(p + "mlp.act_fn"), gate, up);
    Value down = graph::LinearOp::create(b, at(p + "mlp.down_proj"), act, wd);
    h = graph::AddOp::create(b, at(p + "residual"), h, down);
  }
  Value finalNorm = param();
  Value head = c.tieWordEmbeddings ? embed : param();
  h = graph::RmsNormOp::create(b, at("model.norm"), h, finalNorm, eps);
  Value logits = graph::LinearOp::create(b, at("lm_head"), h, head);
  if (elem != f32)
    logits = graph::CastOp::create(b, at("lm_head"), logits, f32);
  Location lossLoc = at("loss");
  Value nll = graph::CrossEntropyOp::create(b, lossLoc, logits, labels, mask);
  Value sum = graph::ReduceSumOp::create(b, lossLoc, nll, ArrayRef<int64_t>{0});
  Value count =
      graph::ReduceSumOp::create(b, lossLoc, mask, ArrayRef<int64_t>{0});
  SmallVector<Value> returned = {nll, sum, count};
  if (withLogits)
    returned.insert(returned.begin(), logits);
  func::ReturnOp::create(b, loc, returned);
  return fn;
}
} // namespace mlir::infir2
