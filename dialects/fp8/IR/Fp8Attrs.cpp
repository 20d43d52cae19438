//===- Fp8Attrs.cpp - fp8 attributes --------------------------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Dialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::infir2::fp8;

//===----------------------------------------------------------------------===//
// LayoutAttr
//===----------------------------------------------------------------------===//

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  if (succeeded(parser.parseOptionalKeyword("per_row")))
    return getPerRow(ctx);
  if (succeeded(parser.parseOptionalKeyword("per_tensor")))
    return getPerTensor(ctx);
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t, 2> dims;
  if (parser.parseDimensionList(dims, /*allowDynamic=*/false,
                                /*withTrailingX=*/false))
    return {};
  if (dims.size() != 2) {
    parser.emitError(loc, "expected a tile RxC, per_row or per_tensor");
    return {};
  }
  return getChecked([&] { return parser.emitError(loc); }, ctx,
                    LayoutKind::Tile, dims[0], dims[1]);
}

void LayoutAttr::print(AsmPrinter &printer) const { printer << str(); }

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 LayoutKind kind, int64_t rows, int64_t cols) {
  if (kind == LayoutKind::Tile) {
    if (rows <= 0 || cols <= 0)
      return emitError() << "(R1) tile " << rows << "x" << cols
                         << " must have positive dimensions";
    return success();
  }
  if (rows != 0 || cols != 0)
    return emitError() << "(R1) " << stringifyLayoutKind(kind)
                       << " layout carries no tile dimensions";
  return success();
}

LayoutAttr LayoutAttr::getPerRow(MLIRContext *ctx) {
  return get(ctx, LayoutKind::PerRow, 0, 0);
}

LayoutAttr LayoutAttr::getPerTensor(MLIRContext *ctx) {
  return get(ctx, LayoutKind::PerTensor, 0, 0);
}

bool LayoutAttr::isLegal() const {
  if (getKind() != LayoutKind::Tile)
    return true;
  int64_t r = getRows(), c = getCols();
  return (r == 1 && c == 128) || (r == 128 && c == 1) || (r == 128 && c == 128);
}

bool LayoutAttr::isBlock2D() const {
  return getKind() == LayoutKind::Tile && getRows() == 128 && getCols() == 128;
}

SmallVector<int64_t, 2>
LayoutAttr::getTileShape(ArrayRef<int64_t> dataShape) const {
  assert(dataShape.size() == 2 && "fp8 layouts apply to rank-2 tensors");
  switch (getKind()) {
  case LayoutKind::Tile:
    return {getRows(), getCols()};
  case LayoutKind::PerRow:
    return {1, dataShape[1]};
  case LayoutKind::PerTensor:
    return {dataShape[0], dataShape[1]};
  }
  llvm_unreachable("unknown layout kind");
}

SmallVector<int64_t, 2>
LayoutAttr::getScaleShape(ArrayRef<int64_t> dataShape) const {
  assert(dataShape.size() == 2 && "fp8 layouts apply to rank-2 tensors");
  SmallVector<int64_t, 2> tile = getTileShape(dataShape);
  SmallVector<int64_t, 2> scale;
  for (auto [d, t] : llvm::zip_equal(dataShape, tile)) {
    // A whole-dimension tile has exactly one scale even when the dimension is
    // dynamic (per_row columns, per_tensor).
    if (t == d)
      scale.push_back(1);
    else if (ShapedType::isDynamic(d) || ShapedType::isDynamic(t))
      scale.push_back(ShapedType::kDynamic);
    else
      scale.push_back(llvm::divideCeil(d, t));
  }
  return scale;
}

std::string LayoutAttr::str() const {
  if (getKind() != LayoutKind::Tile)
    return stringifyLayoutKind(getKind()).str();
  return std::to_string(getRows()) + "x" + std::to_string(getCols());
}

//===----------------------------------------------------------------------===//
// Enum attributes
//===----------------------------------------------------------------------===//

/// Parses a bare enum keyword; on an unknown keyword lists the valid ones.
template <typename AttrT, typename EnumT>
static Attribute parseEnumBody(AsmParser &parser, uint64_t maxValue) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return {};
  if (std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword))
    return AttrT::get(parser.getContext(), *value);
  InFlightDiagnostic diag = parser.emitError(loc)
                            << "unknown " << AttrT::getMnemonic() << " '"
                            << keyword << "'; expected one of";
  for (uint64_t v = 0; v <= maxValue; ++v)
    diag << (v ? ", " : " ") << stringifyEnum(static_cast<EnumT>(v));
  return {};
}

Attribute ScaleRuleAttr::parse(AsmParser &parser, Type) {
  return parseEnumBody<ScaleRuleAttr, ScaleRule>(parser,
                                                 getMaxEnumValForScaleRule());
}
void ScaleRuleAttr::print(AsmPrinter &printer) const {
  printer << stringifyEnum(getValue());
}

Attribute QuantMethodAttr::parse(AsmParser &parser, Type) {
  return parseEnumBody<QuantMethodAttr, QuantMethod>(
      parser, getMaxEnumValForQuantMethod());
}
void QuantMethodAttr::print(AsmPrinter &printer) const {
  printer << stringifyEnum(getValue());
}

Attribute RoleAttr::parse(AsmParser &parser, Type) {
  return parseEnumBody<RoleAttr, Role>(parser, getMaxEnumValForRole());
}
void RoleAttr::print(AsmPrinter &printer) const {
  printer << stringifyEnum(getValue());
}

//===----------------------------------------------------------------------===//
// QuantAttr
//===----------------------------------------------------------------------===//

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                Type elementType, LayoutAttr layout,
                                ScaleRule scaleRule) {
  (void)scaleRule;
  if (!isFp8DataType(elementType))
    return emitError() << "(R2) quantized element type must be f8E4M3FN or "
                          "f8E5M2, got "
                       << elementType;
  if (!layout.isLegal())
    return emitError() << "(R3) layout " << layout.str()
                       << " is not a legal tile; legal layouts are 1x128, "
                          "128x1, 128x128, per_row and per_tensor";
  return success();
}

//===----------------------------------------------------------------------===//
// RecipeAttr
//===----------------------------------------------------------------------===//

LogicalResult RecipeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 QuantAttr activation, QuantAttr weight,
                                 QuantAttr gradient) {
  std::pair<StringRef, QuantAttr> roles[] = {
      {"activation", activation}, {"weight", weight}, {"gradient", gradient}};
  int blocked = 0;
  for (auto [name, quant] : roles) {
    LayoutAttr layout = quant.getLayout();
    if (layout.getKind() == LayoutKind::Tile && layout.getRows() == 128 &&
        layout.getCols() == 1)
      return emitError() << "(R4) " << name
                         << " layout 128x1 is not a recipe choice: recipes "
                            "give layouts along the forward GEMM's reduction "
                            "dimension and the compiler derives the "
                            "column-wise copies";
    if (layout.isBlock2D())
      ++blocked;
  }
  if (blocked > 1)
    return emitError() << "(R5) " << blocked
                       << " roles use 128x128 blocks, at most one may: every "
                          "pair of roles meets in one GEMM and a GEMM takes at "
                          "most one 2-D-blocked operand";
  int e5m2 = 0, e8m0 = 0;
  for (auto [name, quant] : roles) {
    e5m2 += isa<Float8E5M2Type>(quant.getElementType());
    e8m0 += quant.getScaleRule() == ScaleRule::E8M0;
  }
  if (e5m2 > 1)
    return emitError() << "(R6) " << e5m2
                       << " roles are f8E5M2, at most one may: every pair of "
                          "roles meets in one GEMM and a GEMM takes at most "
                          "one f8E5M2 operand";
  if (e8m0 != 0 && e8m0 != 3)
    return emitError() << "(R7) " << e8m0
                       << " of 3 roles use e8m0 scales; all or none may: a "
                          "GEMM's two operands have scales of one type";
  return success();
}

RecipeAttr RecipeAttr::getInfiR2(MLIRContext *ctx, bool fp32Scales) {
  Type e4m3 = Float8E4M3FNType::get(ctx);
  ScaleRule rule = fp32Scales ? ScaleRule::ExactF32 : ScaleRule::Pow2F32;
  auto oneD = QuantAttr::get(ctx, e4m3, LayoutAttr::get(ctx, 1, 128), rule);
  auto twoD = QuantAttr::get(ctx, e4m3, LayoutAttr::get(ctx, 128, 128), rule);
  return get(ctx, oneD, twoD, oneD);
}

QuantAttr RecipeAttr::getQuant(Role role) const {
  switch (role) {
  case Role::Activation:
    return getActivation();
  case Role::Weight:
    return getWeight();
  case Role::Gradient:
    return getGradient();
  }
  llvm_unreachable("unknown role");
}

//===----------------------------------------------------------------------===//
// TableGen'd definitions
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Enums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/fp8/IR/Fp8Attrs.cpp.inc"

//===----------------------------------------------------------------------===//
// Fp8Dialect attribute parsing and printing
//===----------------------------------------------------------------------===//

Attribute Fp8Dialect::parseAttribute(DialectAsmParser &parser,
                                     Type type) const {
  SMLoc loc = parser.getCurrentLocation();
  StringRef mnemonic;
  if (parser.parseKeyword(&mnemonic))
    return {};
  // Bodies without brackets of their own get them here.
  auto bracketed = [&](auto parseBody) -> Attribute {
    if (parser.parseLess())
      return {};
    Attribute attr = parseBody(parser, type);
    if (!attr || parser.parseGreater())
      return {};
    return attr;
  };
  if (mnemonic == LayoutAttr::getMnemonic())
    return bracketed(LayoutAttr::parse);
  if (mnemonic == ScaleRuleAttr::getMnemonic())
    return bracketed(ScaleRuleAttr::parse);
  if (mnemonic == QuantMethodAttr::getMnemonic())
    return bracketed(QuantMethodAttr::parse);
  if (mnemonic == RoleAttr::getMnemonic())
    return bracketed(RoleAttr::parse);
  if (mnemonic == QuantAttr::getMnemonic())
    return QuantAttr::parse(parser, type);
  if (mnemonic == RecipeAttr::getMnemonic())
    return RecipeAttr::parse(parser, type);
  parser.emitError(loc) << "unknown fp8 attribute '" << mnemonic
                        << "'; expected layout, scale_rule, method, role, "
                           "quant or recipe";
  return {};
}

void Fp8Dialect::printAttribute(Attribute attr,
                                DialectAsmPrinter &printer) const {
  llvm::TypeSwitch<Attribute>(attr)
      .Case<LayoutAttr, ScaleRuleAttr, QuantMethodAttr, RoleAttr>([&](auto a) {
        printer << a.getMnemonic() << '<';
        a.print(printer);
        printer << '>';
      })
      .Case<QuantAttr, RecipeAttr>([&](auto a) {
        printer << a.getMnemonic();
        a.print(printer);
      })
      .Default([](Attribute) { llvm_unreachable("unknown fp8 attribute"); });
}

// Here rather than in Fp8Dialect.cpp: addAttributes needs the storage classes
// that only the .cpp.inc above defines.
void Fp8Dialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/fp8/IR/Fp8Attrs.cpp.inc"
      >();
}
