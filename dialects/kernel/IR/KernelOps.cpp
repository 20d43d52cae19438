//===- KernelOps.cpp - kernel operations: verifiers -----------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"

#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::infir2;
using namespace mlir::infir2::kernel;

#define GET_OP_CLASSES
#include "dialects/kernel/IR/KernelOps.cpp.inc"

LogicalResult FusedOp::verify() {
  if (getSymName().empty())
    return emitOpError() << "needs a non-empty name";
  Block &block = getBodyBlock();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError() << "region has " << block.getNumArguments()
                         << " arguments for " << getInputs().size()
                         << " inputs; give one argument per input";
  for (auto [i, arg, input] :
       llvm::enumerate(block.getArguments(), getInputs()))
    if (arg.getType() != input.getType())
      return emitOpError() << "region argument " << i << " has type "
                           << arg.getType() << " but input " << i << " is "
                           << input.getType();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return emitOpError() << "region must end with kernel.yield";
  if (yield.getValues().size() != getNumResults())
    return emitOpError() << "kernel.yield returns " << yield.getValues().size()
                         << " values for " << getNumResults() << " results";
  for (auto [i, v, r] : llvm::enumerate(yield.getValues(), getResults()))
    if (v.getType() != r.getType())
      return emitOpError() << "yielded value " << i << " has type "
                           << v.getType() << " but result " << i << " is "
                           << r.getType();
  bool transposed = false, blocks = false;
  for (Operation &op : block.without_terminator()) {
    Dialect *d = op.getDialect();
    if (!isa_and_nonnull<graph::GraphDialect, fp8::Fp8Dialect>(d) &&
        !isa<arith::ConstantOp>(op))
      return emitOpError() << "may only hold graph, fp8 and arith.constant "
                              "ops, not '"
                           << op.getName() << "'";
    if (op.getNumRegions() != 0)
      return emitOpError() << "may not nest ops with regions ('" << op.getName()
                           << "')";
    if (auto q = dyn_cast<fp8::QuantizeOp>(op)) {
      transposed |= static_cast<bool>(q.getDataT());
      blocks |= q.getLayout().isBlock2D();
    }
  }
  Schedule s = getSchedule();
  if (transposed && s != Schedule::RowTiles)
    return emitOpError() << "quantizes with a transposed copy, whose tiles "
                            "run down 128 rows: the schedule must be "
                            "row_tiles, not "
                         << stringifySchedule(s);
  if (blocks && s != Schedule::Blocks)
    return emitOpError() << "quantizes 128x128 blocks: the schedule must be "
                            "blocks, not "
                         << stringifySchedule(s);
  if (s == Schedule::RowTiles && !transposed)
    return emitOpError() << "has schedule row_tiles but no fp8.quantize with "
                            "a transposed copy; use rows";
  if (s == Schedule::Blocks && !blocks)
    return emitOpError() << "has schedule blocks but no fp8.quantize of "
                            "128x128 blocks; use rows";
  return success();
}
