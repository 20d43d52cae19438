//===- Passes.h - graph dialect passes --------------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_TRANSFORMS_PASSES_H
#define INFIR2_DIALECTS_GRAPH_TRANSFORMS_PASSES_H

#include "dialects/graph/IR/GraphDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::infir2::graph {
#define GEN_PASS_DECL
#include "dialects/graph/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/graph/Transforms/Passes.h.inc"
} // namespace mlir::infir2::graph

#endif // INFIR2_DIALECTS_GRAPH_TRANSFORMS_PASSES_H
