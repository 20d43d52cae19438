//===- AdamW.cpp - The optimizer step as graph functions ------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"
#include "dialects/graph/Transforms/Passes.h"

namespace mlir::infir2::graph {
#define GEN_PASS_DEF_GRAPHADAMWPASS
#include "dialects/graph/Transforms/Passes.h.inc"

namespace {
RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Megatron's parameter groups (runtime/train/optimizer.cc's `decays`):
/// no weight decay for biases and 1-D parameters.
bool decays(StringRef name, int64_t rank) {
  return rank > 1 && !name.ends_with(".bias");
}

struct Param {
  std::string name;
  RankedTensorType type; ///< in the model
};

/// A function with named inputs and outputs, built by |body|.
template <typename Body>
LogicalResult addFunction(ModuleOp module, Location loc, StringRef name,
                          ArrayRef<std::pair<std::string, Type>> inputs,
                          Body body) {
  if (module.lookupSymbol(name))
    return module.emitError()
           << "graph-adamw: a symbol @" << name << " exists already";
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> types;
  for (auto &[n, t] : inputs)
    types.push_back(t);
  auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(types, {}));
  Block *block = fn.addEntryBlock();
  for (auto [i, in] : llvm::enumerate(inputs))
    fn.setArgAttr(i, kInputAttr, b.getStringAttr(in.first));
  b.setInsertionPointToStart(block);
  SmallVector<std::pair<std::string, Value>> outputs;
  body(b, block->getArguments(), outputs);
  SmallVector<Value> values;
  SmallVector<Type> resultTypes;
  for (auto &[n, v] : outputs) {
    values.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(b, loc, values);
  fn.setFunctionType(b.getFunctionType(types, resultTypes));
  for (auto [i, out] : llvm::enumerate(outputs))
    fn.setResultAttr(i, kOutputAttr, b.getStringAttr(out.first));
  return success();
}

class GraphAdamwPass : public impl::GraphAdamwPassBase<GraphAdamwPass> {
public:
  using impl::GraphAdamwPassBase<GraphAdamwPass>::GraphAdamwPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(function);
    if (!fn) {
      module.emitError() << "graph-adamw: no function @" << function;
      return signalPassFailure();
    }
    SmallVector<Param> params;
    for (unsigned a = 0; a < fn.getNumArguments(); ++a)
      if (auto name = fn.getArgAttrOfType<StringAttr>(a, kParamAttr)) {
        auto t = dyn_cast<RankedTensorType>(fn.getArgument(a).getType());
        if (!t || !t.hasStaticShape() || t.getRank() < 1 ||
            !isa<FloatType>(t.getElementType())) {
          fn.emitError() << "graph-adamw: parameter '" << name.getValue()
                         << "' must be a float tensor of static shape and "
                            "rank >= 1, not "
                         << fn.getArgument(a).getType();
          return signalPassFailure();
        }
        params.push_back({name.getValue().str(), t});
      }
    if (params.empty()) {
      fn.emitError() << "graph-adamw: @" << function << " has no parameters";
      return signalPassFailure();
    }
    Location loc = fn.getLoc();
    MLIRContext *ctx = &getContext();
    Type f32 = Float32Type::get(ctx);
    auto f32Like = [&](RankedTensorType t) {
      return RankedTensorType::get(t.getShape(), f32);
    };

    // @grad_norm: one sum of squares per parameter.
    SmallVector<std::pair<std::string, Type>> gradInputs;
    for (const Param &p : params)
      gradInputs.push_back({"grad." + p.name, f32Like(p.type)});
    if (failed(addFunction(
            module, loc, "grad_norm", gradInputs,
            [&](OpBuilder &b, ValueRange args, auto &outputs) {
              for (auto [p, g] : llvm::zip(params, args)) {
                // A vector is one row (one block), like a matrix's rows.
                Value x = g;
                if (p.type.getRank() == 1)
                  x = ReshapeOp::create(
                      b, loc, x, ArrayRef<int64_t>{1, p.type.getDimSize(0)});
                Value sq = MulOp::create(b, loc, x, x);
                const int64_t rank = tensorType(x).getRank();
                sq = ReduceSumOp::create(
                    b, loc, sq, llvm::to_vector(llvm::seq<int64_t>(1, rank)));
                outputs.push_back(
                    {"sumsq." + p.name,
                     ReduceSumOp::create(b, loc, sq, ArrayRef<int64_t>{0})});
              }
            })))
      return signalPassFailure();

    // @optimizer_step: AdamW on every parameter.
    SmallVector<std::pair<std::string, Type>> stepInputs;
    for (const Param &p : params)
      for (const char *what : {"master.", "grad.", "exp_avg.", "exp_avg_sq."})
        stepInputs.push_back({what + p.name, f32Like(p.type)});
    auto hyperType = RankedTensorType::get({8}, f32);
    stepInputs.push_back({"adamw.hyper", hyperType});
    stepInputs.push_back({"adamw.hyper_no_decay", hyperType});
    if (failed(addFunction(
            module, loc, "optimizer_step", stepInputs,
            [&](OpBuilder &b, ValueRange args, auto &outputs) {
              Value hyper = args[4 * params.size()];
              Value hyperNoDecay = args[4 * params.size() + 1];
              for (auto [i, p] : llvm::enumerate(params)) {
                Location ploc = NameLoc::get(b.getStringAttr(p.name), loc);
                SmallVector<Value> in(args.begin() + 4 * i,
                                      args.begin() + 4 * i + 4);
                RankedTensorType t = f32Like(p.type);
                // A vector is one row: one block covers it.
                if (t.getRank() == 1)
                  for (Value &v : in)
                    v = ReshapeOp::create(
                        b, ploc, v, ArrayRef<int64_t>{1, t.getDimSize(0)});
                auto step = AdamwOp::create(
                    b, ploc,
                    TypeRange{in[0].getType(), in[0].getType(),
                              in[0].getType()},
                    in[0], in[1], in[2], in[3],
                    decays(p.name, t.getRank()) ? hyper : hyperNoDecay);
                SmallVector<Value> out(step.getResults());
                // The model's copy comes out of the same kernel.
                if (p.type.getElementType() != f32)
                  out.push_back(
                      CastOp::create(b, ploc, out[0], p.type.getElementType()));
                if (t.getRank() == 1)
                  for (Value &v : out)
                    v = ReshapeOp::create(b, ploc, v, t.getShape());
                outputs.push_back({"master." + p.name, out[0]});
                outputs.push_back({"exp_avg." + p.name, out[1]});
                outputs.push_back({"exp_avg_sq." + p.name, out[2]});
                if (out.size() > 3)
                  outputs.push_back({"param." + p.name, out[3]});
              }
            })))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::infir2::graph
