//===- dialect_api_test.cpp - C++ API of the graph and fp8 dialects -------===//
//
// Part of infir2.
//
// What the lit tests cannot reach: the attribute helpers the lowering will use
// (scale shapes of every layout), programmatic attribute verification, and
// that every type-inferring builder produces ops its verifier accepts.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "compiler/InitAll.h"
#include "dialects/common/ShapeUtils.h"
#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace mlir::infir2;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

class DialectApiTest : public ::testing::Test {
protected:
  DialectApiTest() : builder(&ctx), loc(UnknownLoc::get(&ctx)) {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = ModuleOp::create(builder, loc);
  }

  /// A function with arguments of |types|; the builder points into it.
  func::FuncOp makeFunc(ArrayRef<Type> types) {
    builder.setInsertionPointToEnd(module->getBody());
    auto fn = func::FuncOp::create(builder, loc, "f",
                                   builder.getFunctionType(types, {}));
    fn.addEntryBlock();
    builder.setInsertionPointToStart(&fn.front());
    return fn;
  }

  /// Verifies |op| and returns the diagnostics it produced ("" if none).
  std::string verifyOp(Operation *op) {
    std::string messages;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      messages += d.str();
      return success();
    });
    if (succeeded(verify(op))) {
      EXPECT_TRUE(messages.empty());
    }
    return messages;
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type elem) {
    return RankedTensorType::get(shape, elem);
  }

  MLIRContext ctx;
  OpBuilder builder;
  Location loc;
  OwningOpRef<ModuleOp> module;
};

//===----------------------------------------------------------------------===//
// fp8 attributes
//===----------------------------------------------------------------------===//

TEST_F(DialectApiTest, ScaleShapesAreCeilDivOfTheTile) {
  struct Case {
    fp8::LayoutAttr layout;
    SmallVector<int64_t, 2> data, scale;
  };
  auto tile = [&](int64_t r, int64_t c) {
    return fp8::LayoutAttr::get(&ctx, r, c);
  };
  Case cases[] = {
      {tile(128, 128), {256, 300}, {2, 3}},
      {tile(128, 128), {1, 1}, {1, 1}},
      {tile(128, 128), {128, 128}, {1, 1}},
      {tile(1, 128), {127, 129}, {127, 2}},
      {tile(128, 1), {127, 129}, {1, 129}},
      {tile(1, 128), {300, 1000}, {300, 8}},
      {tile(1, 128), {1, 4096}, {1, 32}},
      {fp8::LayoutAttr::getPerRow(&ctx), {300, 1000}, {300, 1}},
      {fp8::LayoutAttr::getPerTensor(&ctx), {300, 1000}, {1, 1}},
      // Dynamic token counts: 1x128 keeps the token dimension dynamic,
      // whole-dimension tiles still give exactly one scale.
      {tile(1, 128), {kDyn, 1536}, {kDyn, 12}},
      {tile(128, 128), {kDyn, 1536}, {kDyn, 12}},
      {fp8::LayoutAttr::getPerRow(&ctx), {kDyn, kDyn}, {kDyn, 1}},
      {fp8::LayoutAttr::getPerTensor(&ctx), {kDyn, kDyn}, {1, 1}},
  };
  for (const Case &c : cases)
    EXPECT_EQ(c.layout.getScaleShape(c.data), c.scale)
        << c.layout.str() << " on " << formatShape(c.data);
}

TEST_F(DialectApiTest, LegalLayouts) {
  EXPECT_TRUE(fp8::LayoutAttr::get(&ctx, 1, 128).isLegal());
  EXPECT_TRUE(fp8::LayoutAttr::get(&ctx, 128, 1).isLegal());
  EXPECT_TRUE(fp8::LayoutAttr::get(&ctx, 128, 128).isLegal());
  EXPECT_TRUE(fp8::LayoutAttr::getPerRow(&ctx).isLegal());
  EXPECT_TRUE(fp8::LayoutAttr::getPerTensor(&ctx).isLegal());
  EXPECT_FALSE(fp8::LayoutAttr::get(&ctx, 1, 32).isLegal());
  EXPECT_FALSE(fp8::LayoutAttr::get(&ctx, 64, 128).isLegal());
  EXPECT_EQ(fp8::LayoutAttr::get(&ctx, 128, 1).str(), "128x1");
  EXPECT_EQ(fp8::LayoutAttr::getPerRow(&ctx).str(), "per_row");
}

TEST_F(DialectApiTest, InfiR2RecipeMatchesTheRecipeDocument) {
  // The InfiR2 recipe (TransformerEngine Float8BlockScaling): E4M3 everywhere,
  // 1x128 activations and gradients, 128x128 weights, power-of-two scales
  // unless FP32 scales are requested.
  for (bool fp32 : {false, true}) {
    auto recipe = fp8::RecipeAttr::getInfiR2(&ctx, fp32);
    for (fp8::Role role :
         {fp8::Role::Activation, fp8::Role::Weight, fp8::Role::Gradient}) {
      fp8::QuantAttr q = recipe.getQuant(role);
      EXPECT_TRUE(isa<Float8E4M3FNType>(q.getElementType()));
      EXPECT_EQ(q.getScaleRule(),
                fp32 ? fp8::ScaleRule::ExactF32 : fp8::ScaleRule::Pow2F32);
      EXPECT_EQ(q.getLayout().str(),
                role == fp8::Role::Weight ? "128x128" : "1x128");
    }
  }
}

TEST_F(DialectApiTest, AttributeRulesAreCheckedProgrammatically) {
  Type e4m3 = Float8E4M3FNType::get(&ctx);
  std::string messages;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    messages += d.str() + "\n";
    return success();
  });
  auto emit = [&] { return mlir::emitError(loc); };
  auto blocked =
      fp8::QuantAttr::get(&ctx, e4m3, fp8::LayoutAttr::get(&ctx, 128, 128),
                          fp8::ScaleRule::Pow2F32);
  EXPECT_FALSE(
      fp8::RecipeAttr::getChecked(emit, &ctx, blocked, blocked, blocked));
  EXPECT_NE(messages.find("(R5) 3 roles use 128x128 blocks"), std::string::npos)
      << messages;
  EXPECT_FALSE(fp8::QuantAttr::getChecked(
      emit, &ctx, Type(Float32Type::get(&ctx)),
      fp8::LayoutAttr::get(&ctx, 1, 128), fp8::ScaleRule::Pow2F32));
  EXPECT_NE(messages.find("(R2) quantized element type must be f8E4M3FN or "
                          "f8E5M2, got 'f32'"),
            std::string::npos)
      << messages;
  EXPECT_FALSE(fp8::LayoutAttr::getChecked(emit, &ctx, fp8::LayoutKind::Tile,
                                           int64_t{0}, int64_t{128}));
  EXPECT_NE(messages.find("(R1) tile 0x128 must have positive dimensions"),
            std::string::npos)
      << messages;
  EXPECT_FALSE(fp8::LayoutAttr::getChecked(emit, &ctx, fp8::LayoutKind::PerRow,
                                           int64_t{1}, int64_t{128}));
  EXPECT_NE(messages.find("(R1) per_row layout carries no tile dimensions"),
            std::string::npos)
      << messages;
}

//===----------------------------------------------------------------------===//
// Builders infer types their verifiers accept
//===----------------------------------------------------------------------===//

TEST_F(DialectApiTest, Fp8BuildersInferScaleShapes) {
  Type bf16 = builder.getBF16Type();
  Type e4m3 = builder.getType<Float8E4M3FNType>();
  func::FuncOp fn =
      makeFunc({tensor({256, 300}, bf16), tensor({512, 300}, bf16)});
  auto oneD = fp8::LayoutAttr::get(&ctx, 1, 128);
  auto twoD = fp8::LayoutAttr::get(&ctx, 128, 128);
  auto x = fp8::QuantizeOp::create(builder, loc, fn.getArgument(0), e4m3, oneD,
                                   fp8::ScaleRule::E8M0, oneD);
  EXPECT_EQ(x.getScales().getType(),
            tensor({256, 3}, builder.getType<Float8E8M0FNUType>()));
  EXPECT_EQ(x.getDataT().getType(), tensor({300, 256}, e4m3));
  EXPECT_EQ(x.getScalesT().getType(),
            tensor({300, 2}, builder.getType<Float8E8M0FNUType>()));
  EXPECT_EQ(verifyOp(x), "");

  auto w = fp8::QuantizeOp::create(builder, loc, fn.getArgument(1), e4m3, twoD,
                                   fp8::ScaleRule::E8M0);
  EXPECT_EQ(w.getScales().getType(),
            tensor({4, 3}, builder.getType<Float8E8M0FNUType>()));
  EXPECT_FALSE(w.getDataT());
  EXPECT_EQ(verifyOp(w), "");

  auto y = fp8::ScaledMatmulOp::create(builder, loc, x.getData(), x.getScales(),
                                       oneD, false, w.getData(), w.getScales(),
                                       twoD, true, bf16);
  EXPECT_EQ(y.getType(), tensor({256, 512}, bf16));
  EXPECT_EQ(verifyOp(y), "");

  auto back = fp8::DequantizeOp::create(builder, loc, w.getData(),
                                        w.getScales(), twoD, bf16);
  EXPECT_EQ(back.getType(), tensor({512, 300}, bf16));
  EXPECT_EQ(verifyOp(back), "");
}

TEST_F(DialectApiTest, Fp8VerifierQuotesTheScaleShapeRule) {
  Type bf16 = builder.getBF16Type();
  func::FuncOp fn = makeFunc({tensor({256, 300}, bf16)});
  auto op = fp8::QuantizeOp::create(
      builder, loc, tensor({256, 300}, builder.getType<Float8E4M3FNType>()),
      tensor({2, 2}, builder.getF32Type()), Type(), Type(), fn.getArgument(0),
      fp8::LayoutAttr::get(&ctx, 128, 128), nullptr, fp8::ScaleRule::ExactF32,
      fp8::QuantMethod::TE, nullptr);
  EXPECT_EQ(verifyOp(op),
            "'fp8.quantize' op (C5) scale shape 2x2 does not match ceil-div "
            "of data shape 256x300 by tile 128x128, which is 2x3");
}

TEST_F(DialectApiTest, GraphBuildersInferTypes) {
  Type bf16 = builder.getBF16Type(), f32 = builder.getF32Type();
  Type i32 = builder.getI32Type();
  func::FuncOp fn = makeFunc({
      tensor({kDyn, 256}, bf16), // 0 hidden
      tensor({256, 256}, bf16),  // 1 weight
      tensor({256}, bf16),       // 2 bias / norm weight
      tensor({kDyn}, i32),       // 3 positions / ids / labels
      tensor({1000, 256}, bf16), // 4 embedding table
      tensor({kDyn}, i32),       // 5 cu_seqlens
      tensor({kDyn, 1000}, f32), // 6 logits
      tensor({kDyn}, f32),       // 7 loss mask
      tensor({4, 6, 8}, f32),    // 8 small tensor
  });
  auto arg = [&](unsigned i) -> Value { return fn.getArgument(i); };
  auto recipe = fp8::RecipeAttr::getInfiR2(&ctx, false);

  SmallVector<Operation *> ops;
  auto check = [&](Operation *op, Type expected) {
    ops.push_back(op);
    EXPECT_EQ(op->getResult(0).getType(), expected)
        << op->getName().getStringRef().str();
    EXPECT_EQ(verifyOp(op), "") << op->getName().getStringRef().str();
    return op->getResult(0);
  };

  check(graph::EmbeddingOp::create(builder, loc, arg(4), arg(3)),
        tensor({kDyn, 256}, bf16));
  Value lin = check(
      graph::LinearOp::create(builder, loc, arg(0), arg(1), arg(2), recipe),
      tensor({kDyn, 256}, bf16));
  check(graph::RmsNormOp::create(builder, loc, lin, arg(2), 1e-6),
        tensor({kDyn, 256}, bf16));
  Value heads = check(graph::ReshapeOp::create(builder, loc, lin,
                                               ArrayRef<int64_t>{kDyn, 4, 64}),
                      tensor({kDyn, 4, 64}, bf16));
  Value rot = check(graph::RopeOp::create(builder, loc, heads, arg(3), 1e6),
                    tensor({kDyn, 4, 64}, bf16));
  check(graph::AttentionOp::create(builder, loc, rot, rot, rot, arg(5), 0.125,
                                   true),
        tensor({kDyn, 4, 64}, bf16));
  check(graph::CrossEntropyOp::create(builder, loc, arg(6), arg(3), arg(7)),
        tensor({kDyn}, f32));
  check(graph::MatmulOp::create(builder, loc, arg(8), arg(8), false, true, f32),
        tensor({4, 6, 6}, f32));
  check(graph::MatmulOp::create(builder, loc, arg(8), arg(8), true, false,
                                Type()),
        tensor({4, 8, 8}, f32));
  check(graph::ReduceSumOp::create(builder, loc, arg(8),
                                   ArrayRef<int64_t>{0, 2}, false),
        tensor({6}, f32));
  check(graph::ReduceMaxOp::create(builder, loc, arg(8), ArrayRef<int64_t>{1},
                                   true),
        tensor({4, 1, 8}, f32));
  check(graph::TransposeOp::create(builder, loc, arg(8),
                                   ArrayRef<int64_t>{2, 0, 1}),
        tensor({8, 4, 6}, f32));
  check(graph::SliceOp::create(builder, loc, arg(8), ArrayRef<int64_t>{1, 0, 1},
                               ArrayRef<int64_t>{4, 6, 8},
                               ArrayRef<int64_t>{2, 3, 1}),
        tensor({2, 2, 7}, f32));
  check(graph::ConcatOp::create(builder, loc, ValueRange{arg(8), arg(8)}, 1),
        tensor({4, 12, 8}, f32));
  check(graph::CastOp::create(builder, loc, arg(8), bf16),
        tensor({4, 6, 8}, bf16));
  EXPECT_EQ(ops.size(), 15u);
}

TEST_F(DialectApiTest, GraphVerifierRejectsFp8Casts) {
  func::FuncOp fn = makeFunc({tensor({4}, builder.getF32Type())});
  auto op = graph::CastOp::create(builder, loc, fn.getArgument(0),
                                  builder.getType<Float8E4M3FNType>());
  EXPECT_NE(verifyOp(op).find("use fp8.quantize"), std::string::npos);
}
} // namespace
