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

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHDIALECT_H
