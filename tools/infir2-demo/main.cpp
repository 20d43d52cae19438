//===- main.cpp - The embedded demo of tools/demo.sh ----------------------===//
//
// Part of infir2.
//
// Builds, with the C++ op builders, (1) a Qwen2.5-style decoder layer in the
// graph dialect whose linears carry the InfiR2 FP8 recipe, (2) the FP8 form of
// one linear in the fp8 dialect, (3) a function the folders simplify; verifies
// the module, prints it, runs the passes that exist (canonicalize, cse),
// prints it again, and shows the diagnostic an invalid op gets.
//
//===----------------------------------------------------------------------===//

#include <cmath>

#include "compiler/InitAll.h"
#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::infir2;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// A Qwen2.5 configuration small enough to read: 4 query heads sharing 2
/// key/value heads of dimension 64.
struct TinyConfig {
  int64_t hidden = 256, heads = 4, kvHeads = 2, headDim = 64,
          intermediate = 512;
  double ropeTheta = 1e6, rmsEps = 1e-6;
};

func::FuncOp createFunc(OpBuilder &b, Location loc, StringRef name,
                        ArrayRef<Type> inputs, ArrayRef<Type> results) {
  auto fn =
      func::FuncOp::create(b, loc, name, b.getFunctionType(inputs, results));
  fn.addEntryBlock();
  return fn;
}

/// One pre-norm Qwen2 decoder layer (RMSNorm, QKV with bias, RoPE, GQA
/// attention, O, residual, RMSNorm, SwiGLU MLP, residual) on a packed
/// micro-batch of T tokens.
void buildDecoderLayer(OpBuilder &b, Location loc, const TinyConfig &c) {
  Type bf16 = b.getBF16Type(), i32 = b.getI32Type();
  auto t = [&](ArrayRef<int64_t> shape, Type e) -> Type {
    return RankedTensorType::get(shape, e);
  };
  int64_t qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
  SmallVector<Type> inputs = {
      t({kDyn, c.hidden}, bf16),            // hidden states
      t({kDyn}, i32),                       // positions
      t({kDyn}, i32),                       // cu_seqlens
      t({c.hidden}, bf16),                  // input_layernorm.weight
      t({qDim, c.hidden}, bf16),            // q_proj.weight
      t({qDim}, bf16),                      // q_proj.bias
      t({kvDim, c.hidden}, bf16),           // k_proj.weight
      t({kvDim}, bf16),                     // k_proj.bias
      t({kvDim, c.hidden}, bf16),           // v_proj.weight
      t({kvDim}, bf16),                     // v_proj.bias
      t({c.hidden, qDim}, bf16),            // o_proj.weight
      t({c.hidden}, bf16),                  // post_attention_layernorm.weight
      t({c.intermediate, c.hidden}, bf16),  // gate_proj.weight
      t({c.intermediate, c.hidden}, bf16),  // up_proj.weight
      t({c.hidden, c.intermediate}, bf16)}; // down_proj.weight
  func::FuncOp fn = createFunc(b, loc, "qwen2_decoder_layer", inputs,
                               {t({kDyn, c.hidden}, bf16)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.front());
  auto args = fn.getArguments();
  Value h = args[0], pos = args[1], cu = args[2];
  auto recipe = fp8::RecipeAttr::getInfiR2(b.getContext(), false);

  Value a = graph::RmsNormOp::create(b, loc, h, args[3], c.rmsEps);
  Value q = graph::LinearOp::create(b, loc, a, args[4], args[5], recipe);
  Value k = graph::LinearOp::create(b, loc, a, args[6], args[7], recipe);
  Value v = graph::LinearOp::create(b, loc, a, args[8], args[9], recipe);
  auto heads = [&](Value x, int64_t n) -> Value {
    return graph::ReshapeOp::create(b, loc, x,
                                    ArrayRef<int64_t>{kDyn, n, c.headDim});
  };
  Value qr = graph::RopeOp::create(b, loc, heads(q, c.heads), pos, c.ropeTheta);
  Value kr =
      graph::RopeOp::create(b, loc, heads(k, c.kvHeads), pos, c.ropeTheta);
  Value o = graph::AttentionOp::create(b, loc, qr, kr, heads(v, c.kvHeads), cu,
                                       1.0 / std::sqrt(double(c.headDim)),
                                       /*causal=*/true);
  Value o2 = graph::ReshapeOp::create(b, loc, o, ArrayRef<int64_t>{kDyn, qDim});
  Value attn = graph::LinearOp::create(b, loc, o2, args[10], Value(), recipe);
  Value h1 = graph::AddOp::create(b, loc, h, attn);
  Value m = graph::RmsNormOp::create(b, loc, h1, args[11], c.rmsEps);
  Value gate = graph::LinearOp::create(b, loc, m, args[12], Value(), recipe);
  Value up = graph::LinearOp::create(b, loc, m, args[13], Value(), recipe);
  Value act = graph::SwigluOp::create(b, loc, gate, up);
  Value down = graph::LinearOp::create(b, loc, act, args[14], Value(), recipe);
  Value h2 = graph::AddOp::create(b, loc, h1, down);
  func::ReturnOp::create(b, loc, h2);
}

/// The FP8 form of y = x * W^T: activation in 1x128 tiles (with the
/// transposed copy wgrad reads), weight in 128x128 blocks.
void buildFp8Linear(OpBuilder &b, Location loc) {
  Type bf16 = b.getBF16Type();
  Type e4m3 = b.getType<Float8E4M3FNType>();
  MLIRContext *ctx = b.getContext();
  Type x = RankedTensorType::get({256, 1536}, bf16);
  Type w = RankedTensorType::get({512, 1536}, bf16);
  Type y = RankedTensorType::get({256, 512}, bf16);
  func::FuncOp fn = createFunc(b, loc, "fp8_linear", {x, w}, {y, w});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.front());
  auto oneD = fp8::LayoutAttr::get(ctx, 1, 128);
  auto twoD = fp8::LayoutAttr::get(ctx, 128, 128);
  auto xq = fp8::QuantizeOp::create(
      b, loc, fn.getArgument(0), e4m3, oneD, fp8::ScaleRule::Pow2F32, oneD,
      fp8::QuantMethod::TE, fp8::Role::Activation);
  auto wq = fp8::QuantizeOp::create(b, loc, fn.getArgument(1), e4m3, twoD,
                                    fp8::ScaleRule::Pow2F32, fp8::LayoutAttr(),
                                    fp8::QuantMethod::TE, fp8::Role::Weight);
  Value out = fp8::ScaledMatmulOp::create(
      b, loc, xq.getData(), xq.getScales(), oneD, /*transposeLhs=*/false,
      wq.getData(), wq.getScales(), twoD, /*transposeRhs=*/true, bf16);
  Value wBack = fp8::DequantizeOp::create(b, loc, wq.getData(), wq.getScales(),
                                          twoD, bf16);
  func::ReturnOp::create(b, loc, ValueRange{out, wBack});
}

/// Ops the folders remove: a cast to the same type, a reshape of a reshape
/// and the addition of -0.0 (the float additive identity: x + 0.0 would not
/// fold, since -0.0 + 0.0 is +0.0).
void buildFoldable(OpBuilder &b, Location loc) {
  Type f32 = b.getF32Type();
  auto x = RankedTensorType::get({4, 8}, f32);
  auto r = RankedTensorType::get({2, 16}, f32);
  func::FuncOp fn = createFunc(b, loc, "foldable", {x}, {r});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.front());
  Value c = graph::CastOp::create(b, loc, fn.getArgument(0), f32);
  Value flat = graph::ReshapeOp::create(b, loc, c, ArrayRef<int64_t>{32});
  Value back = graph::ReshapeOp::create(b, loc, flat, ArrayRef<int64_t>{2, 16});
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(r, b.getFloatAttr(f32, -0.0)));
  Value sum = graph::AddOp::create(b, loc, back, zero);
  func::ReturnOp::create(b, loc, sum);
}

/// Builds a quantize whose scale tensor has the wrong shape and prints the
/// verifier's diagnostic.
void showDiagnostic(MLIRContext &ctx) {
  OpBuilder b(&ctx);
  Location loc = FileLineColLoc::get(&ctx, "demo.mlir", 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b, loc);
  b.setInsertionPointToStart(module->getBody());
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type();
  Type x = RankedTensorType::get({256, 300}, bf16);
  func::FuncOp fn = createFunc(b, loc, "bad", {x}, {});
  b.setInsertionPointToStart(&fn.front());
  fp8::QuantizeOp::create(
      b, loc, RankedTensorType::get({256, 300}, b.getType<Float8E4M3FNType>()),
      RankedTensorType::get({2, 2}, f32), Type(), Type(), fn.getArgument(0),
      fp8::LayoutAttr::get(&ctx, 128, 128), nullptr, fp8::ScaleRule::ExactF32,
      fp8::QuantMethod::TE, nullptr);
  func::ReturnOp::create(b, loc);
  ScopedDiagnosticHandler handler(&ctx, [](Diagnostic &diag) {
    llvm::outs() << "error: " << diag.str() << "\n";
    return success();
  });
  (void)verify(*module);
}
} // namespace

int main() {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  OpBuilder b(&ctx);
  Location loc = UnknownLoc::get(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b, loc);
  b.setInsertionPointToStart(module->getBody());
  buildDecoderLayer(b, loc, TinyConfig());
  buildFp8Linear(b, loc);
  buildFoldable(b, loc);

  if (failed(verify(*module))) {
    llvm::errs() << "infir2-demo: the built module does not verify\n";
    return 1;
  }
  llvm::outs() << "// ===== built with the C++ op builders =====\n";
  module->print(llvm::outs());
  llvm::outs() << "\n";

  PassManager pm(&ctx);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*module))) {
    llvm::errs() << "infir2-demo: canonicalize,cse failed\n";
    return 1;
  }
  llvm::outs() << "// ===== after canonicalize, cse =====\n";
  module->print(llvm::outs());
  llvm::outs() << "\n";

  llvm::outs() << "// ===== the verifier on a bad fp8.quantize =====\n";
  showDiagnostic(ctx);
  return 0;
}
