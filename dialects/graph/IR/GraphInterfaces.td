//===- GraphInterfaces.td - graph op interfaces ------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHINTERFACES_TD
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHINTERFACES_TD

include "mlir/IR/OpBase.td"

def Graph_VjpOpInterface : OpInterface<"VjpOpInterface"> {
  let description = [{
    An op that states its vector-Jacobian product: given the gradient of a
    scalar loss with respect to the op's (single) result, it builds the
    gradients with respect to its operands, as graph ops, at the builder's
    insertion point. The `graph-autodiff` pass calls it for every op between
    the parameters and the loss, in reverse order.

    Operands that have no gradient (integer tensors such as token ids,
    positions, labels and `cu_seqlens`; a broadcast's `like` operand; a loss
    mask) get a null value. A gradient has the operand's type, except that
    gradients of parameters-like operands that are accumulated over tokens
    (an embedding table, a linear weight or bias, an RMSNorm weight) are
    `f32`, so that training accumulates them in f32.
  }];
  let cppNamespace = "::mlir::infir2::graph";
  let methods = [
    InterfaceMethod<[{
        Builds the operand gradients from `resultGrad` (the gradient of the
        loss with respect to the op's result). Fills `operandGrads` with one
        value per operand (null: no gradient). Fails, with a diagnostic on
        the op, where the product cannot be expressed (e.g. a dynamic shape
        the gradient ops cannot rebuild).
      }],
      "::mlir::LogicalResult", "buildVjp",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$resultGrad,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHINTERFACES_TD
