//===- GraphDialect.h - The graph dialect -----------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_H
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_H

#include "dialects/fp8/IR/Fp8Dialect.h"
#include "mlir/IR/Dialect.h"

#include "dialects/graph/IR/GraphDialect.h.inc"
#include "dialects/graph/IR/GraphEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/graph/IR/GraphAttrs.h.inc"

namespace mlir::infir2::graph {
/// Discardable attributes naming a graph function's arguments and results:
/// "graph.input" (token_ids, position_ids, cu_seqlens, labels, loss_mask),
/// "graph.param" (the Hugging Face tensor name), "graph.output" (logits,
/// token_nll, nll_sum, token_count, grad.<param>, ...). The artifact's entry
/// points bind buffers by these names.
inline constexpr const char *kInputAttr = "graph.input";
inline constexpr const char *kParamAttr = "graph.param";
inline constexpr const char *kOutputAttr = "graph.output";
} // namespace mlir::infir2::graph

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_H
