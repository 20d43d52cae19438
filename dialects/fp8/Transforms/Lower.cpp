//===- Lower.cpp - FP8-annotated GEMMs to quantize + scaled_matmul --------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/fp8/Transforms/Passes.h"
#include "dialects/graph/IR/GraphOps.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::infir2::fp8 {
#define GEN_PASS_DEF_FP8LOWERPASS
#include "dialects/fp8/Transforms/Passes.h.inc"

namespace {
RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// One GEMM operand: a rank-2 tensor, its quantization and role, and the
/// dimension the GEMM reduces over.
struct Use {
  Value value;
  QuantAttr quant;
  Role role;
  int contractDim; // 0 or 1
};

/// A GEMM to rewrite: lhs * rhs (each read along its contractDim).
struct Gemm {
  Operation *op;
  Use lhs, rhs;
};

/// What one (tensor, quantization) pair needs. The role is the first
/// use's (it labels the op; it does not change the result).
struct Need {
  Role role;
  Operation *firstUser = nullptr;
  bool transposed = false; // a 1-D layout read along dimension 0
  QuantizeOp quantize;
};

/// Layouts whose tiles run along one dimension need a second, transposed
/// copy to be read along the other; 128x128 blocks and a single
/// per-tensor scale serve both orientations.
bool oneDimensional(LayoutAttr layout) {
  return !layout.isBlock2D() && layout.getKind() != LayoutKind::PerTensor;
}

using Key = std::pair<Value, Attribute>;

class Fp8LowerPass : public impl::Fp8LowerPassBase<Fp8LowerPass> {
public:
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    flattened_.clear();
    SmallVector<Gemm> gemms;
    WalkResult walk = fn.walk([&](Operation *op) {
      if (failed(collect(op, gemms)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    if (gemms.empty())
      return;

    // One quantize per (tensor, quantization), with the transposed copy when
    // some GEMM reduces a 1-D-tiled operand along its rows.
    llvm::MapVector<Key, Need> needs;
    for (const Gemm &g : gemms)
      for (const Use *u : {&g.lhs, &g.rhs}) {
        auto [it, inserted] =
            needs.insert({Key(u->value, u->quant), Need{u->role}});
        Need &need = it->second;
        if (u->contractDim == 0 && oneDimensional(u->quant.getLayout()))
          need.transposed = true;
        if (!need.firstUser || g.op->isBeforeInBlock(need.firstUser))
          need.firstUser = g.op;
      }
    // Each quantize goes right before its first GEMM (the FP8 copy of a
    // weight lives from its layer on, not from the function's start) and
    // takes that GEMM's name.
    OpBuilder b(&getContext());
    for (auto &[key, need] : needs) {
      Value v = key.first;
      auto q = cast<QuantAttr>(key.second);
      b.setInsertionPoint(need.firstUser);
      Location loc = need.firstUser->getLoc();
      need.quantize = QuantizeOp::create(
          b, loc, v, q.getElementType(), q.getLayout(), q.getScaleRule(),
          need.transposed ? q.getLayout() : LayoutAttr(), QuantMethod::TE,
          need.role);
    }

    for (const Gemm &g : gemms)
      if (failed(rewrite(g, needs)))
        return signalPassFailure();
  }

private:
  DenseMap<Value, Value> flattened_;

  /// Records |op| when it is an annotated linear or gradient GEMM.
  LogicalResult collect(Operation *op, SmallVectorImpl<Gemm> &gemms) {
    if (auto linear = dyn_cast<graph::LinearOp>(op)) {
      RecipeAttr r = linear.getFp8Attr();
      if (!r)
        return success();
      Value x = linear.getInput();
      RankedTensorType xt = tensorType(x);
      if (xt.getRank() > 2 &&
          llvm::count_if(xt.getShape().drop_back(), ShapedType::isDynamic) > 1)
        return linear.emitOpError() << "fp8-lower: input " << xt
                                    << " has more than one dynamic dimension";
      gemms.push_back({op,
                       {flatten(x, linear.getLoc()), r.getActivation(),
                        Role::Activation, 1},
                       {linear.getWeight(), r.getWeight(), Role::Weight, 1}});
      return success();
    }
    auto mm = dyn_cast<graph::MatmulOp>(op);
    if (!mm || !mm.getFp8Gemm())
      return success();
    RecipeAttr r = *mm.getFp8();
    const int lhsDim = mm.getTransposeLhs() ? 0 : 1;
    const int rhsDim = mm.getTransposeRhs() ? 1 : 0;
    Value lhs = sameFlattening(mm.getLhs()), rhs = sameFlattening(mm.getRhs());
    if (*mm.getFp8Gemm() == graph::Fp8Gemm::Dgrad)
      gemms.push_back({op,
                       {lhs, r.getGradient(), Role::Gradient, lhsDim},
                       {rhs, r.getWeight(), Role::Weight, rhsDim}});
    else
      gemms.push_back({op,
                       {lhs, r.getGradient(), Role::Gradient, lhsDim},
                       {rhs, r.getActivation(), Role::Activation, rhsDim}});
    return success();
  }

  /// |x| as [tokens, K]: itself when rank 2, else one reshape per x placed
  /// right after x, so that every GEMM reading x (linears sharing an input,
  /// the wgrad) shares one quantization.
  Value flatten(Value x, Location loc) {
    RankedTensorType xt = tensorType(x);
    if (xt.getRank() == 2)
      return x;
    Value &flat = flattened_[x];
    if (!flat) {
      OpBuilder b(&getContext());
      b.setInsertionPointAfterValue(x);
      int64_t rows = 1;
      for (int64_t d : xt.getShape().drop_back())
        rows = ShapedType::isDynamic(d) || ShapedType::isDynamic(rows)
                   ? ShapedType::kDynamic
                   : rows * d;
      flat = graph::ReshapeOp::create(
          b, loc, x, ArrayRef<int64_t>{rows, xt.getShape().back()});
    }
    return flat;
  }

  /// A gradient GEMM's operand that graph-autodiff flattened from a tensor
  /// this pass flattened too (the wgrad's x): the pass's flattening, so
  /// both GEMMs share one quantize.
  Value sameFlattening(Value v) {
    auto reshape = v.getDefiningOp<graph::ReshapeOp>();
    if (!reshape)
      return v;
    auto it = flattened_.find(reshape.getInput());
    return it != flattened_.end() && it->second.getType() == v.getType()
               ? it->second
               : v;
  }

  /// The quantized form of |u| and whether the GEMM reads it transposed.
  struct Operand {
    Value data, scales;
    LayoutAttr layout;
    bool transposed;
  };
  Operand operand(const Use &u, bool isLhs, llvm::MapVector<Key, Need> &needs) {
    QuantizeOp q = needs.find(Key(u.value, u.quant))->second.quantize;
    LayoutAttr layout = u.quant.getLayout();
    // A 1-D layout reduced along rows is read through the transposed copy,
    // which reduces along its own columns.
    const bool useT = u.contractDim == 0 && oneDimensional(layout);
    const int dim = useT ? 1 : u.contractDim;
    // lhs is [M, K] (K = dim 1); rhs is [K, N] (K = dim 0).
    const bool transposed = isLhs ? dim == 0 : dim == 1;
    return {useT ? q.getDataT() : q.getData(),
            useT ? q.getScalesT() : q.getScales(), layout, transposed};
  }

  LogicalResult rewrite(const Gemm &g, llvm::MapVector<Key, Need> &needs) {
    Operation *op = g.op;
    OpBuilder b(op);
    Location loc = op->getLoc();
    Operand lhs = operand(g.lhs, /*isLhs=*/true, needs);
    Operand rhs = operand(g.rhs, /*isLhs=*/false, needs);
    RankedTensorType result =
        cast<RankedTensorType>(op->getResult(0).getType());
    Type elem = result.getElementType();
    if (!elem.isBF16() && !elem.isF32())
      return op->emitOpError() << "fp8-lower: an FP8 GEMM produces bf16 or "
                                  "f32, not "
                               << elem;
    auto linear = dyn_cast<graph::LinearOp>(op);
    Value bias = linear ? linear.getBias() : Value();
    Type f32 = b.getF32Type();
    Value y = ScaledMatmulOp::create(
        b, loc, lhs.data, lhs.scales, lhs.layout, lhs.transposed, rhs.data,
        rhs.scales, rhs.layout, rhs.transposed, bias ? f32 : elem);
    if (bias) {
      // The bias joins the f32 accumulator; one rounding to the result type.
      Value bf = bias;
      if (tensorType(bias).getElementType() != f32)
        bf = graph::CastOp::create(b, loc, bias, f32);
      Value spread = graph::BroadcastOp::create(
          b, loc, bf, ArrayRef<int64_t>{1},
          RankedTensorType::get(tensorType(y).getShape(), f32), y);
      y = graph::AddOp::create(b, loc, y, spread);
      if (elem != f32)
        y = graph::CastOp::create(b, loc, y, elem);
    }
    // Back to the op's own type (its rank, or dimensions it knew statically).
    if (y.getType() != result)
      y = graph::ReshapeOp::create(b, loc, y, result.getShape());
    op->getResult(0).replaceAllUsesWith(y);
    op->erase();
    return success();
  }
};
} // namespace
} // namespace mlir::infir2::fp8
