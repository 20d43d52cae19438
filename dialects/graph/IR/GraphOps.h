//===- GraphOps.h - graph operations ----------------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHOPS_H
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHOPS_H

#include "dialects/graph/IR/GraphDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/graph/IR/GraphInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/graph/IR/GraphOps.h.inc"

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHOPS_H
