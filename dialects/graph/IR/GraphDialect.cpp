//===- GraphDialect.cpp - The graph dialect -------------------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphDialect.h"

#include "dialects/graph/IR/GraphOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::infir2::graph;

#include "dialects/graph/IR/GraphDialect.cpp.inc"
#include "dialects/graph/IR/GraphEnums.cpp.inc"
#include "dialects/graph/IR/GraphInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/graph/IR/GraphAttrs.cpp.inc"

void GraphDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/graph/IR/GraphAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/graph/IR/GraphOps.cpp.inc"
      >();
}
