//===- Qwen2Model.h - The Qwen2.5 forward graph -----------------*- C++ -*-===//
//
// Part of infir2.
//
// Builds the forward pass of a Qwen2 / Qwen2.5 causal LM over one packed
// micro-batch as a func.func in the graph dialect. The function's arguments
// are the micro-batch and then every parameter, marked with the tensor's
// Hugging Face name; its results are the f32 logits, the per-token NLL, the
// masked NLL sum and the token count.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_MODELS_QWEN2_QWEN2MODEL_H
#define INFIR2_MODELS_QWEN2_QWEN2MODEL_H

#include <string>
#include <vector>

#include "dialects/graph/IR/GraphDialect.h"
#include "frontends/hf/Qwen2Config.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::infir2 {
// The names graph functions give their arguments and results (GraphDialect.h).
using graph::kInputAttr;
using graph::kOutputAttr;
using graph::kParamAttr;

/// A parameter of the model: its Hugging Face name and [out, in]-style shape.
struct Qwen2Param {
  std::string name;
  SmallVector<int64_t, 2> shape;
};

/// Every parameter in argument order: embed_tokens, then per layer
/// input_layernorm, q/k/v_proj weight and bias, o_proj, post_attention_
/// layernorm, gate/up/down_proj, then model.norm and (untied) lm_head.
std::vector<Qwen2Param> qwen2Parameters(const ::infir2::Qwen2Config &config);

/// Builds `func.func @<name>` at |builder|'s insertion point. Outputs:
/// logits [T, V] f32 (unless |withLogits| is false: training needs only
/// the loss, and the logits are the largest activation), token_nll [T],
/// nll_sum and token_count (scalars, f32). Parameters and
/// activations have |elementType| (f32 or bf16); RMSNorm statistics,
/// softmax, logits and the loss are f32 (the graph ops' semantics).
///
/// Micro-batch inputs, T tokens of S packed sequences: token_ids [T] i32,
/// position_ids [T] i32 (restarting at 0 for each sequence), cu_seqlens
/// [S+1] i32, labels [T] i32, loss_mask [T] f32.
func::FuncOp buildQwen2Forward(OpBuilder &builder, Location loc,
                               const ::infir2::Qwen2Config &config,
                               Type elementType, StringRef name = "forward",
                               bool withLogits = true);
} // namespace mlir::infir2

#endif // INFIR2_MODELS_QWEN2_QWEN2MODEL_H
