//===- CudaCodegen.cpp - kernel.fused regions to CUDA C++ -----------------===//
//
// Part of infir2.
//
// The generated kernel walks the rows of its region (tokens, or a weight's
// rows) and, per row, evaluates every value as an expression of the
// kernel's inputs: elementwise ops and index maps become arithmetic on
// loaded elements, recomputed where needed rather than stored; only
// reductions make row scalars (one loop each, in dependency order), and
// only the region's outputs reach memory. docs/codegen.md has the layout of
// the generated code.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/CudaCodegen.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphOps.h"
#include "dialects/kernel/Transforms/FusionRules.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

namespace mlir::infir2::codegen {
namespace {
using kernel::Schedule;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Elements per row: the product of every dimension but the first.
int64_t colsOf(Value v) {
  auto t = tensorType(v);
  int64_t n = 1;
  for (int64_t d = 1; d < t.getRank(); ++d)
    n *= t.getDimSize(d);
  return n;
}

std::string num(int64_t v) { return std::to_string(v); }

/// An exact f32 literal.
std::string flt(float v) {
  if (std::isnan(v))
    return "infir2::u2f(0x7FC00000u)";
  if (std::isinf(v))
    return v > 0 ? "infir2::u2f(0x7F800000u)" : "infir2::u2f(0xFF800000u)";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%af", static_cast<double>(v));
  return buf;
}

/// C type of a buffer's elements.
FailureOr<std::string> ctype(Type t) {
  if (t.isF32())
    return std::string("float");
  if (t.isBF16() || t.isF16())
    return std::string("u16");
  if (isa<Float8E4M3FNType, Float8E5M2Type, Float8E8M0FNUType>(t))
    return std::string("u8");
  if (t.isInteger(32))
    return std::string("i32");
  if (t.isInteger(64))
    return std::string("i64");
  return failure();
}

int64_t bytesOf(Type t) {
  if (isa<FloatType>(t))
    return cast<FloatType>(t).getWidth() / 8;
  if (auto i = dyn_cast<IntegerType>(t))
    return i.getWidth() / 8;
  return 4;
}

/// Rounds an f32 expression to element type |t| (and back to f32).
std::string roundTo(const std::string &e, Type t) {
  if (t.isBF16())
    return "infir2::round_bf16(" + e + ")";
  return e;
}

struct Idx {
  std::string row, col;
};

/// A row scalar: the block-wide reduction of one expression over a row.
struct Scalar {
  std::string key;
  int id = 0;
  int64_t width = 0;
  bool isMax = false;
  bool isDouble = false;
  /// Emits the element's code at |idx|; returns its expression.
  std::function<std::string(const Idx &)> element;
  /// The scalar from the block-reduced accumulator |acc|.
  std::function<std::string(const std::string &acc)> finalize;
  int level = 1;
  bool inSmem = false; ///< read again by the transposed pass
};

/// Something the output loops do with a value, per element.
struct Sink {
  enum Kind { kStore, kQuant, kColSum } kind = kStore;
  int64_t width = 0;
  Value value; ///< stored / quantized value (kStore, kQuant)
  std::function<std::string(const Idx &)> element; ///< kColSum
  int out = -1;                                    ///< kStore: output index
  // kQuant
  int data = -1, scales = -1, dataT = -1, scalesT = -1;
  bool e5m2 = false, pow2 = true, e8m0 = false;
  float fmax = 448.0f;
  int amaxArray = -1; ///< smem column amax (transposed copy)
  // kColSum
  int sumArray = -1;
  bool mean = false;
};

class Emitter {
public:
  explicit Emitter(kernel::FusedOp op) : op_(op) {}

  FailureOr<GeneratedKernel> run();

private:
  //===--- Code buffer ---------------------------------------------------===//
  void line(const std::string &s) {
    out_->append(static_cast<size_t>(indent_) * 2, ' ');
    *out_ += s;
    *out_ += '\n';
  }
  void open(const std::string &s) {
    line(s + " {");
    ++indent_;
    scopes_.emplace_back();
  }
  void close(const std::string &tail = "") {
    scopes_.pop_back();
    --indent_;
    line("}" + tail);
  }
  std::string tmp(const char *prefix) { return prefix + num(counter_++); }

  //===--- Errors --------------------------------------------------------===//
  std::string fail(Operation *at, const Twine &why) {
    if (!failed_) {
      at->emitOpError() << "cannot be generated as kernel code: " << why;
      failed_ = true;
    }
    return "0.0f";
  }

  //===--- Values --------------------------------------------------------===//
  int idOf(Value v) {
    auto [it, inserted] = ids_.try_emplace(v, static_cast<int>(ids_.size()));
    return it->second;
  }
  std::string *lookup(const std::string &key) {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(key);
      if (f != it->end())
        return &f->second;
    }
    return nullptr;
  }
  std::string bind(const std::string &key, const std::string &expr,
                   const char *type = "float") {
    std::string var = tmp("v");
    line(std::string("const ") + type + " " + var + " = " + expr + ";");
    scopes_.back()[key] = var;
    return var;
  }

  /// |expr| bound once per scope under |key| (a subexpression several
  /// results of one op share).
  std::string shared(const std::string &key, const std::string &expr) {
    if (std::string *hit = lookup(key))
      return *hit;
    return bind(key, expr);
  }

  std::string argName(BlockArgument a) {
    return "a.in" + num(a.getArgNumber());
  }

  /// Element (idx.row, idx.col) of |v|'s row-major [rows, cols] view, as f32.
  std::string value(Value v, const Idx &idx);
  std::string compute(Value v, const Idx &idx);
  /// An integer element (labels, positions) at |row|.
  std::string index(Value v, const std::string &row);
  std::string load(BlockArgument a, const Idx &idx);

  /// Registers (when planning) or references a row scalar.
  std::string rowScalar(const std::string &key, const Idx &idx, int64_t width,
                        bool isMax, bool isDouble,
                        std::function<std::string(const Idx &)> element,
                        std::function<std::string(const std::string &)> fin);

  // Ops with reductions.
  std::string rstd(Value x, const Idx &idx, double eps);
  std::string ceMax(Value logits, const Idx &idx);
  std::string ceStats(Value logits, const Idx &idx, std::string &sumOut);

  //===--- Kernel structure ----------------------------------------------===//
  LogicalResult collectSinks();
  void emitScalarStages(const std::string &row);
  void emitOutputLoops(const std::string &row);
  void emitTransposedPass();
  void emitColumnEpilogue();
  void emitBlocksSchedule();
  void emitRowBody(const std::string &row);
  std::string smemArray(const char *type, int64_t count, int64_t elemBytes);
  std::string scaleStore(const Sink &s, const std::string &ts);

  kernel::FusedOp op_;
  std::string *out_ = nullptr;
  std::string body_, scratch_;
  int indent_ = 0;
  int counter_ = 0;
  bool failed_ = false;
  bool planning_ = false;
  bool transposed_ = false; ///< emitting the transposed pass
  std::vector<std::map<std::string, std::string>> scopes_;
  llvm::DenseMap<Value, int> ids_;
  std::vector<Scalar> scalars_;
  std::map<std::string, int> scalarIds_;
  std::vector<int> planningStack_;
  std::vector<Sink> sinks_;
  std::vector<std::string> smemDecls_;
  /// Constant tables (RoPE frequencies) by name.
  std::map<std::string, std::string> constants_;
  /// Shared-memory copies of row scalars the transposed pass reads.
  std::map<int, int> rsmNames_;
  int64_t smemBytes_ = 400; // red (128) + redd (256) + flag (16)
  int arrays_ = 0;
  bool needsWorkspace_ = false;
  int64_t colSumWidth_ = 0;
  int64_t rows_ = ShapedType::kDynamic;
  Schedule schedule_ = Schedule::Rows;
};

std::string Emitter::load(BlockArgument a, const Idx &idx) {
  auto t = tensorType(a);
  Type e = t.getElementType();
  std::string at;
  if (t.getRank() == 0) {
    at = "0";
  } else {
    int64_t cols = colsOf(a);
    at = cols == 1
             ? "(" + idx.row + ")"
             : "(" + idx.row + ") * " + num(cols) + " + (" + idx.col + ")";
  }
  std::string p = argName(a) + "[" + at + "]";
  if (e.isF32())
    return p;
  if (e.isBF16())
    return "infir2::bf16_to_f32(" + p + ")";
  return fail(op_, Twine("input ") + std::to_string(a.getArgNumber()) +
                       " has element type that kernels do not load as f32");
}

std::string Emitter::index(Value v, const std::string &row) {
  std::string key = "#idx" + num(idOf(v)) + "@" + row;
  if (std::string *hit = lookup(key))
    return *hit;
  auto a = dyn_cast<BlockArgument>(v);
  if (!a || tensorType(v).getRank() != 1)
    return fail(op_, "an index operand (labels, positions) must be a rank-1 "
                     "kernel input");
  return bind(key, "static_cast<i64>(" + argName(a) + "[" + row + "])", "i64");
}

std::string Emitter::value(Value v, const Idx &idx) {
  std::string key = num(idOf(v)) + "@" + idx.row + "|" + idx.col;
  if (std::string *hit = lookup(key))
    return *hit;
  std::string e = compute(v, idx);
  if (failed_)
    return "0.0f";
  // Plain loads and literals need no variable of their own.
  return bind(key, e);
}

std::string
Emitter::rowScalar(const std::string &key, const Idx &idx, int64_t width,
                   bool isMax, bool isDouble,
                   std::function<std::string(const Idx &)> element,
                   std::function<std::string(const std::string &)> fin) {
  auto it = scalarIds_.find(key);
  int id;
  if (it == scalarIds_.end()) {
    if (!planning_) {
      fail(op_, "internal: a row scalar appeared after planning");
      return "0.0f";
    }
    id = static_cast<int>(scalars_.size());
    scalarIds_[key] = id;
    Scalar s;
    s.key = key;
    s.id = id;
    s.width = width;
    s.isMax = isMax;
    s.isDouble = isDouble;
    s.element = element;
    s.finalize = fin;
    scalars_.push_back(s);
    // Plan the element: the scalars it reads come first.
    planningStack_.push_back(id);
    bool saved = transposed_;
    transposed_ = false;
    scopes_.emplace_back();
    element(Idx{"row", "c"});
    fin("acc");
    scopes_.pop_back();
    transposed_ = saved;
    planningStack_.pop_back();
  } else {
    id = it->second;
  }
  if (planning_) {
    if (!planningStack_.empty()) {
      Scalar &user = scalars_[planningStack_.back()];
      user.level = std::max(user.level, scalars_[id].level + 1);
    }
    if (transposed_)
      scalars_[id].inSmem = true;
  }
  if (transposed_)
    return "rsm" + num(id) + "[(" + idx.row + ") - r0]";
  return "rs" + num(id);
}

std::string Emitter::rstd(Value x, const Idx &idx, double eps) {
  const int64_t w = colsOf(x);
  const float epsf = static_cast<float>(eps);
  return rowScalar(
      "sumsq:" + num(idOf(x)) + ":" + flt(epsf), idx, w, false, false,
      [this, x](const Idx &i) {
        std::string xv = value(x, i);
        return xv + " * " + xv;
      },
      [w, epsf](const std::string &acc) {
        return "1.0f / sqrtf(" + acc + " / " + flt(static_cast<float>(w)) +
               " + " + flt(epsf) + ")";
      });
}

std::string Emitter::ceMax(Value logits, const Idx &idx) {
  return rowScalar(
      "max:" + num(idOf(logits)), idx, colsOf(logits), true, false,
      [this, logits](const Idx &i) { return value(logits, i); },
      [](const std::string &acc) { return acc; });
}

std::string Emitter::ceStats(Value logits, const Idx &idx,
                             std::string &sumOut) {
  std::string m = ceMax(logits, idx);
  sumOut = rowScalar(
      "sumexp:" + num(idOf(logits)), idx, colsOf(logits), false, false,
      [this, logits](const Idx &i) {
        return "expf(" + value(logits, i) + " - " + ceMax(logits, i) + ")";
      },
      [](const std::string &acc) { return acc; });
  return m;
}

std::string Emitter::compute(Value v, const Idx &idx) {
  if (auto a = dyn_cast<BlockArgument>(v))
    return load(a, idx);
  Operation *def = v.getDefiningOp();
  Type elem = tensorType(v).getElementType();
  auto operand = [&](unsigned i, const Idx &at) {
    return value(def->getOperand(i), at);
  };

  if (auto c = dyn_cast<arith::ConstantOp>(def)) {
    auto splat = dyn_cast<SplatElementsAttr>(c.getValue());
    if (!splat)
      return fail(def, "only splat constants");
    return flt(
        static_cast<float>(splat.getSplatValue<APFloat>().convertToDouble()));
  }
  if (isa<graph::ReshapeOp>(def))
    return operand(0, idx);
  if (auto b = dyn_cast<graph::BroadcastOp>(def)) {
    auto x = tensorType(b.getInput());
    if (x.getRank() == 0)
      return operand(0, Idx{"0", "0"});
    ArrayRef<int64_t> dims = b.getDims();
    // [R] across each row of [R, ...] (or onto [R] itself).
    if (dims.size() == 1 && dims[0] == 0 && x.getRank() == 1)
      return operand(0, Idx{idx.row, "0"});
    // Along the rows: element col of the input's flat layout.
    int64_t xc = colsOf(b.getInput());
    if (x.getRank() == 1)
      return operand(0, Idx{idx.col, "0"});
    return operand(0, Idx{"(" + idx.col + ") / " + num(xc),
                          "(" + idx.col + ") % " + num(xc)});
  }
  if (auto s = dyn_cast<graph::SplitOp>(def)) {
    unsigned which = cast<OpResult>(v).getResultNumber();
    int64_t axis = s.getAxis();
    int64_t off = 0;
    for (unsigned i = 0; i < which; ++i)
      off += s.getSizes()[i];
    if (axis == 0)
      return operand(0, Idx{"(" + idx.row + ") + " + num(off), idx.col});
    auto in = tensorType(s.getInput());
    int64_t inner = 1;
    for (int64_t d = axis + 1; d < in.getRank(); ++d)
      inner *= in.getDimSize(d);
    int64_t size = s.getSizes()[which], total = in.getDimSize(axis);
    if (axis == in.getRank() - 1 && in.getRank() == 2)
      return operand(0, Idx{idx.row, "(" + idx.col + ") + " + num(off)});
    std::string o = "((" + idx.col + ") / " + num(size * inner) + ")";
    std::string rem = "((" + idx.col + ") % " + num(size * inner) + ")";
    return operand(0, Idx{idx.row, o + " * " + num(total * inner) + " + " +
                                       num(off * inner) + " + " + rem});
  }
  if (auto c = dyn_cast<graph::ConcatOp>(def)) {
    int64_t axis = c.getAxis();
    auto out = tensorType(v);
    int64_t inner = 1;
    for (int64_t d = axis + 1; d < out.getRank(); ++d)
      inner *= out.getDimSize(d);
    int64_t total = out.getDimSize(axis);
    std::string pos, result = tmp("cat");
    // The position along the axis picks the input.
    if (axis == 0)
      pos = "(" + idx.row + ")";
    else
      pos = "(((" + idx.col + ") / " + num(inner) + ") % " + num(total) + ")";
    std::string posVar = tmp("p");
    line("const i64 " + posVar + " = " + pos + ";");
    line("float " + result + ";");
    int64_t off = 0;
    for (auto [i, in] : llvm::enumerate(c.getInputs())) {
      int64_t size = tensorType(in).getDimSize(axis);
      std::string cond = posVar + " < " + num(off + size);
      bool last = i + 1 == c.getInputs().size();
      open(i == 0 ? "if (" + cond + ")"
                  : (last ? "else" : "else if (" + cond + ")"));
      Idx at;
      if (axis == 0) {
        at = Idx{posVar + " - " + num(off), idx.col};
      } else {
        std::string o = "((" + idx.col + ") / " + num(total * inner) + ")";
        at = Idx{idx.row, o + " * " + num(size * inner) + " + (" + posVar +
                              " - " + num(off) + ") * " + num(inner) + " + (" +
                              idx.col + ") % " + num(inner)};
      }
      line(result + " = " + value(in, at) + ";");
      close();
      off += size;
    }
    return result;
  }
  if (auto s = dyn_cast<graph::SliceOp>(def)) {
    auto in = tensorType(s.getInput()), out = tensorType(v);
    ArrayRef<int64_t> start = s.getStart(), stride = s.getStride();
    std::string row =
        num(start[0]) + " + (" + idx.row + ") * " + num(stride[0]);
    // Column: the result's multi-index, mapped, flattened in the input.
    std::string col = "0";
    std::string rest = tmp("k");
    line("i64 " + rest + " = " + idx.col + ";");
    std::vector<std::string> parts(out.getRank());
    for (int64_t d = out.getRank() - 1; d >= 1; --d) {
      std::string i = tmp("i");
      line("const i64 " + i + " = " + rest + " % " + num(out.getDimSize(d)) +
           ";");
      line(rest + " /= " + num(out.getDimSize(d)) + ";");
      parts[d] = "(" + num(start[d]) + " + " + i + " * " + num(stride[d]) + ")";
    }
    for (int64_t d = 1; d < in.getRank(); ++d)
      col = "(" + col + ") * " + num(in.getDimSize(d)) + " + " + parts[d];
    return operand(0, Idx{row, col});
  }
  if (auto c = dyn_cast<graph::CastOp>(def))
    return roundTo(operand(0, idx), elem);
  auto binary = [&](const char *sym) {
    std::string l = operand(0, idx), r = operand(1, idx);
    return roundTo(l + " " + sym + " " + r, elem);
  };
  if (isa<graph::AddOp>(def))
    return binary("+");
  if (isa<graph::SubOp>(def))
    return binary("-");
  if (isa<graph::MulOp>(def))
    return binary("*");
  if (isa<graph::DivOp>(def))
    return binary("/");
  if (isa<graph::NegOp>(def))
    return roundTo("-" + operand(0, idx), elem);
  if (isa<graph::ExpOp>(def))
    return roundTo("expf(" + operand(0, idx) + ")", elem);
  if (isa<graph::LogOp>(def))
    return roundTo("logf(" + operand(0, idx) + ")", elem);
  if (isa<graph::RsqrtOp>(def))
    return roundTo("1.0f / sqrtf(" + operand(0, idx) + ")", elem);
  if (isa<graph::SiluOp>(def)) {
    std::string g = operand(0, idx);
    return roundTo(g + " / (1.0f + expf(-" + g + "))", elem);
  }
  if (isa<graph::SwigluOp>(def)) {
    std::string g = operand(0, idx), u = operand(1, idx);
    return roundTo("(" + g + " / (1.0f + expf(-" + g + "))) * " + u, elem);
  }
  if (isa<graph::SiluGradOp>(def)) {
    std::string dy = operand(0, idx), x = operand(1, idx);
    std::string sg =
        shared("#sg" + num(idOf(v)) + "@" + idx.row + "|" + idx.col,
               "1.0f / (1.0f + expf(-" + x + "))");
    return roundTo(
        dy + " * " + sg + " * (1.0f + " + x + " * (1.0f - " + sg + "))", elem);
  }
  if (auto sg = dyn_cast<graph::SwigluGradOp>(def)) {
    std::string dy = operand(0, idx), g = operand(1, idx), u = operand(2, idx);
    std::string s =
        shared("#sig" + num(idOf(sg.getGate())) + "@" + idx.row + "|" + idx.col,
               "1.0f / (1.0f + expf(-" + g + "))");
    if (cast<OpResult>(v).getResultNumber() == 0)
      return roundTo(dy + " * " + u + " * " + s + " * (1.0f + " + g +
                         " * (1.0f - " + s + "))",
                     elem);
    return roundTo(dy + " * (" + g + " * " + s + ")", elem);
  }
  if (auto adam = dyn_cast<graph::AdamwOp>(def)) {
    // runtime/train/optimizer.cc's arithmetic, operation by operation.
    const std::string at =
        num(idOf(adam.getParam())) + "@" + idx.row + "|" + idx.col;
    auto h = [&](int i) { return value(adam.getHyper(), Idx{num(i), "0"}); };
    std::string g =
        shared("#ag" + at, value(adam.getGrad(), idx) + " * " + h(0));
    std::string m0 = value(adam.getExpAvg(), idx);
    std::string m =
        shared("#am" + at, m0 + " + " + h(2) + " * (" + g + " - " + m0 + ")");
    const unsigned which = cast<OpResult>(v).getResultNumber();
    if (which == 1)
      return m;
    std::string vv =
        shared("#av" + at, value(adam.getExpAvgSq(), idx) + " * " + h(3) +
                               " + " + h(4) + " * " + g + " * " + g);
    if (which == 2)
      return vv;
    std::string denom =
        shared("#ad" + at, "sqrtf(" + vv + ") / " + h(5) + " + " + h(6));
    return value(adam.getParam(), idx) + " * " + h(1) + " + -" + h(7) + " * " +
           m + " / " + denom;
  }
  if (isa<graph::RopeOp, graph::RopeGradOp>(def)) {
    bool inverse = isa<graph::RopeGradOp>(def);
    double theta;
    graph::RopeStyle style;
    if (auto r = dyn_cast<graph::RopeOp>(def)) {
      theta = r.getTheta().convertToDouble();
      style = r.getStyle();
    } else {
      auto g = cast<graph::RopeGradOp>(def);
      theta = g.getTheta().convertToDouble();
      style = g.getStyle();
    }
    const int64_t d = tensorType(v).getDimSize(2), half = d / 2;
    // inv_freq[i] = 1 / theta^(2i/D) in f32, as the CPU kernel (and
    // transformers) compute it: a table in the kernel.
    std::string table =
        "inv_freq_" + num(d) + "_" +
        llvm::utohexstr(llvm::xxh3_64bits(flt(static_cast<float>(theta))));
    if (!constants_.count(table)) {
      std::string init;
      const float base = static_cast<float>(theta);
      for (int64_t i = 0; i < half; ++i) {
        float expo = static_cast<float>(2 * i) / static_cast<float>(d);
        init += (i ? ", " : "") + flt(1.0f / std::pow(base, expo));
      }
      constants_[table] = "INFIR2_CONST float " + table + "[" + num(half) +
                          "] = {" + init + "};";
    }
    std::string dd = tmp("d"), pi = tmp("i"), partner = tmp("q"),
                first = tmp("f");
    line("const i64 " + dd + " = (" + idx.col + ") % " + num(d) + ";");
    if (style == graph::RopeStyle::RotateHalf) {
      line("const bool " + first + " = " + dd + " < " + num(half) + ";");
      line("const i64 " + pi + " = " + first + " ? " + dd + " : " + dd + " - " +
           num(half) + ";");
      line("const i64 " + partner + " = " + first + " ? (" + idx.col + ") + " +
           num(half) + " : (" + idx.col + ") - " + num(half) + ";");
    } else {
      line("const bool " + first + " = (" + dd + " & 1) == 0;");
      line("const i64 " + pi + " = " + dd + " / 2;");
      line("const i64 " + partner + " = " + first + " ? (" + idx.col +
           ") + 1 : (" + idx.col + ") - 1;");
    }
    std::string pos = index(def->getOperand(1), idx.row);
    std::string angle = tmp("ang");
    line("const float " + angle + " = static_cast<float>(" + pos + ") * " +
         table + "[" + pi + "];");
    std::string x = operand(0, idx), y = operand(0, Idx{idx.row, partner});
    std::string cs = tmp("cs"), snv = tmp("sn");
    line("float " + snv + ", " + cs + ";");
    line("infir2::sin_cos(" + angle + ", &" + snv + ", &" + cs + ");");
    if (inverse)
      line(snv + " = -" + snv + ";");
    // first: x cos - y sin; second: x cos + y sin (y: the partner).
    return roundTo("(" + first + " ? (" + x + " * " + cs + ") - (" + y + " * " +
                       snv + ") : (" + x + " * " + cs + ") + (" + y + " * " +
                       snv + "))",
                   elem);
  }
  if (auto dq = dyn_cast<fp8::DequantizeOp>(def)) {
    auto data = dyn_cast<BlockArgument>(dq.getData());
    auto scales = dyn_cast<BlockArgument>(dq.getScales());
    if (!data || !scales)
      return fail(def, "dequantize reads kernel inputs only");
    bool e5m2 = isa<Float8E5M2Type>(tensorType(data).getElementType());
    fp8::LayoutAttr l = dq.getLayout();
    int64_t sc = tensorType(scales).getDimSize(1);
    std::string e = "infir2::fp8_to_f32(" + argName(data) + "[(" + idx.row +
                    ") * " + num(colsOf(data)) + " + (" + idx.col + ")], " +
                    (e5m2 ? "true" : "false") + ")";
    std::string s = argName(scales) + "[((" + idx.row + ") / " +
                    num(l.getRows()) + ") * " + num(sc) + " + (" + idx.col +
                    ") / " + num(l.getCols()) + "]";
    return roundTo(e + " * " + s, elem);
  }
  if (auto n = dyn_cast<graph::RmsNormOp>(def)) {
    Value x = n.getInput();
    std::string rs = rstd(x, idx, n.getEpsilon().convertToDouble());
    std::string t =
        roundTo(value(x, idx) + " * " + rs, tensorType(x).getElementType());
    std::string w = value(n.getWeight(), Idx{idx.col, "0"});
    return roundTo(w + " * " + t, elem);
  }
  if (auto g = dyn_cast<graph::RmsNormGradOp>(def)) {
    if (cast<OpResult>(v).getResultNumber() != 0)
      return fail(def, "the weight gradient is a column sum, not a value");
    Value dy = g.getGrad(), x = g.getInput(), w = g.getWeight();
    const int64_t width = colsOf(x);
    const double eps = g.getEpsilon().convertToDouble();
    std::string rs = rstd(x, idx, eps);
    std::string mean = rowScalar(
        "rmsdot:" + num(idOf(dy)) + ":" + num(idOf(x)) + ":" + num(idOf(w)),
        idx, width, false, true,
        [this, dy, x, w, eps](const Idx &i) {
          std::string r = rstd(x, i, eps);
          std::string gv = value(dy, i) + " * " + value(w, Idx{i.col, "0"});
          return "static_cast<double>(" + gv + ") * static_cast<double>(" +
                 value(x, i) + " * " + r + ")";
        },
        [width](const std::string &acc) {
          return "static_cast<float>(" + acc + " / " + num(width) + ".0)";
        });
    std::string gv = value(dy, idx) + " * " + value(w, Idx{idx.col, "0"});
    std::string xv = value(x, idx);
    return roundTo(rs + " * ((" + gv + ") - " + xv + " * " + rs + " * " + mean +
                       ")",
                   elem);
  }
  if (auto ce = dyn_cast<graph::CrossEntropyOp>(def)) {
    Value logits = ce.getLogits();
    std::string sum, mx = ceStats(logits, idx, sum);
    std::string m = value(ce.getLossMask(), Idx{idx.row, "0"});
    std::string lab = index(ce.getLabels(), idx.row);
    std::string result = tmp("ce");
    line("float " + result + " = 0.0f;");
    open("if (" + m + " != 0.0f)");
    open("if (" + lab + " < 0 || " + lab + " >= " + num(colsOf(logits)) + ")");
    line("infir2::report_error(a.ws, 1, " + idx.row + ", " + lab + ");");
    close();
    open("else");
    std::string xl = value(logits, Idx{idx.row, lab});
    line(result + " = " + m + " * ((" + mx + " + logf(" + sum + ")) - " + xl +
         ");");
    close();
    close();
    needsWorkspace_ = true;
    return result;
  }
  if (auto ce = dyn_cast<graph::CrossEntropyGradOp>(def)) {
    Value logits = ce.getLogits();
    std::string sum, mx = ceStats(logits, idx, sum);
    std::string g = value(ce.getGrad(), Idx{idx.row, "0"});
    std::string m = value(ce.getLossMask(), Idx{idx.row, "0"});
    std::string lab = index(ce.getLabels(), idx.row);
    std::string wv = tmp("w");
    line("const float " + wv + " = " + g + " * " + m + ";");
    std::string result = tmp("dl");
    line("float " + result + " = 0.0f;");
    open("if (" + wv + " != 0.0f)");
    std::string x = value(logits, idx);
    line(result + " = " + wv + " * (expf(" + x + " - " + mx + ") * (1.0f / " +
         sum + "));");
    line("if ((" + idx.col + ") == " + lab + ") " + result + " -= " + wv + ";");
    close();
    return roundTo(result, elem);
  }
  auto rowReduce = [&](Value x, bool isMax, bool mean) {
    const int64_t w = colsOf(x);
    std::string s = rowScalar(
        std::string(isMax ? "rmax:" : "rsum:") + num(idOf(x)), idx, w, isMax,
        !isMax,
        [this, x](const Idx &i) {
          return "static_cast<double>(" + value(x, i) + ")";
        },
        [w, mean, isMax](const std::string &acc) {
          if (isMax)
            return acc;
          return "static_cast<float>(" + acc +
                 (mean ? " / " + num(w) + ".0" : "") + ")";
        });
    return roundTo(s, elem);
  };
  if (auto r = dyn_cast<graph::ReduceSumOp>(def))
    return rowReduce(r.getInput(), false, false);
  if (auto r = dyn_cast<graph::ReduceMeanOp>(def))
    return rowReduce(r.getInput(), false, true);
  if (auto r = dyn_cast<graph::ReduceMaxOp>(def)) {
    // Max accumulates in f32 (it is exact); the element is the value.
    Value x = r.getInput();
    const int64_t w = colsOf(x);
    return roundTo(rowScalar(
                       "rmax:" + num(idOf(x)), idx, w, true, false,
                       [this, x](const Idx &i) { return value(x, i); },
                       [](const std::string &acc) { return acc; }),
                   elem);
  }
  return fail(def, Twine("no kernel code for '") +
                       def->getName().getStringRef() + "'");
}

std::string Emitter::smemArray(const char *type, int64_t count,
                               int64_t elemBytes) {
  std::string name = "sm" + num(arrays_++);
  smemBytes_ = (smemBytes_ + 15) / 16 * 16;
  smemDecls_.push_back(std::string(type) + " *const " + name +
                       " = reinterpret_cast<" + type + " *>(sm + " +
                       num(smemBytes_) + ");");
  smemBytes_ += count * elemBytes;
  return name;
}

LogicalResult Emitter::collectSinks() {
  auto yield = cast<kernel::YieldOp>(op_.getBodyBlock().getTerminator());
  llvm::DenseMap<Value, int> outIndex;
  for (auto [i, v] : llvm::enumerate(yield.getValues()))
    outIndex[v] = static_cast<int>(i);
  llvm::DenseSet<Operation *> quantized, summed;
  for (auto [i, v] : llvm::enumerate(yield.getValues())) {
    Operation *def = v.getDefiningOp();
    if (auto q = dyn_cast_or_null<fp8::QuantizeOp>(def)) {
      if (!quantized.insert(def).second)
        continue;
      Sink s;
      s.kind = Sink::kQuant;
      s.value = q.getInput();
      s.width = colsOf(q.getInput());
      auto find = [&](Value r) {
        auto it = outIndex.find(r);
        return it == outIndex.end() ? -1 : it->second;
      };
      s.data = find(q.getData());
      s.scales = find(q.getScales());
      if (q.getDataT()) {
        s.dataT = find(q.getDataT());
        s.scalesT = find(q.getScalesT());
      }
      Type dt = tensorType(q.getData()).getElementType();
      s.e5m2 = isa<Float8E5M2Type>(dt);
      s.fmax = s.e5m2 ? 57344.0f : 448.0f;
      s.pow2 = q.getScaleRule() != fp8::ScaleRule::ExactF32;
      s.e8m0 = q.getScaleRule() == fp8::ScaleRule::E8M0;
      if (q.getMethod() != fp8::QuantMethod::TE)
        return q.emitOpError()
               << "cannot be generated as kernel code: only the te method";
      if (s.data < 0 || s.scales < 0 ||
          (q.getDataT() && (s.dataT < 0 || s.scalesT < 0)))
        return q.emitOpError() << "cannot be generated as kernel code: every "
                                  "result of a fused quantize must be yielded";
      if (q.getLayout().isBlock2D()) {
        schedule_ = Schedule::Blocks;
      } else if (q.getDataT()) {
        s.amaxArray = 0; // assigned below
      }
      sinks_.push_back(s);
      continue;
    }
    if (auto g = dyn_cast_or_null<graph::RmsNormGradOp>(def);
        g && cast<OpResult>(v).getResultNumber() == 1) {
      Sink s;
      s.kind = Sink::kColSum;
      s.out = static_cast<int>(i);
      s.width = colsOf(g.getInput());
      Value dy = g.getGrad(), x = g.getInput();
      double eps = g.getEpsilon().convertToDouble();
      s.element = [this, dy, x, eps](const Idx &idx) {
        std::string r = rstd(x, idx, eps);
        return value(dy, idx) + " * (" + value(x, idx) + " * " + r + ")";
      };
      sinks_.push_back(s);
      continue;
    }
    if (isa_and_nonnull<graph::ReduceSumOp, graph::ReduceMeanOp>(def) &&
        kernel::classify(def) == kernel::OpClass::kColumnReduction) {
      Sink s;
      s.kind = Sink::kColSum;
      s.out = static_cast<int>(i);
      Value x = def->getOperand(0);
      s.width = colsOf(x);
      s.mean = isa<graph::ReduceMeanOp>(def);
      s.element = [this, x](const Idx &idx) { return value(x, idx); };
      sinks_.push_back(s);
      continue;
    }
    Sink s;
    s.kind = Sink::kStore;
    s.value = v;
    s.out = static_cast<int>(i);
    s.width = tensorType(v).getRank() == 0 ? 1 : colsOf(v);
    if (tensorType(v).getRank() == 0)
      return op_.emitOpError() << "cannot be generated as kernel code: "
                                  "result "
                               << i << " is a scalar that is not a column sum";
    sinks_.push_back(s);
  }
  // Shared-memory arrays of the sinks.
  for (Sink &s : sinks_) {
    if (s.kind == Sink::kQuant && s.dataT >= 0) {
      s.amaxArray = arrays_;
      smemArray("float", s.width, 4);
    }
    if (s.kind == Sink::kColSum) {
      s.sumArray = arrays_;
      smemArray("double", s.width, 8);
      colSumWidth_ += s.width;
      needsWorkspace_ = true;
    }
  }
  return success();
}

void Emitter::emitScalarStages(const std::string &row) {
  int maxLevel = 0;
  for (const Scalar &s : scalars_)
    maxLevel = std::max(maxLevel, s.level);
  for (const Scalar &s : scalars_)
    line(std::string("float rs") + num(s.id) + ";");
  for (int level = 1; level <= maxLevel; ++level) {
    std::vector<int64_t> widths;
    for (const Scalar &s : scalars_)
      if (s.level == level && !llvm::is_contained(widths, s.width))
        widths.push_back(s.width);
    for (int64_t w : widths) {
      std::vector<const Scalar *> group;
      for (const Scalar &s : scalars_)
        if (s.level == level && s.width == w)
          group.push_back(&s);
      open("");
      for (const Scalar *s : group)
        line(std::string(s->isDouble ? "double" : "float") + " acc" +
             num(s->id) + " = " +
             (s->isMax ? "-infir2::u2f(0x7F800000u)"
                       : (s->isDouble ? "0.0" : "0.0f")) +
             ";");
      open("for (i64 c = infir2::tid(); c < " + num(w) +
           "; c += infir2::nthreads())");
      for (const Scalar *s : group) {
        std::string e = s->element(Idx{row, "c"});
        if (s->isMax)
          line("acc" + num(s->id) + " = fmaxf(acc" + num(s->id) + ", " + e +
               ");");
        else
          line("acc" + num(s->id) + " += " + e + ";");
      }
      close();
      for (const Scalar *s : group) {
        std::string acc = "acc" + num(s->id);
        std::string red = s->isMax ? "infir2::block_max(" + acc + ", red)"
                                   : "infir2::block_sum(" + acc +
                                         (s->isDouble ? ", redd)" : ", red)");
        line("rs" + num(s->id) + " = " + s->finalize(red) + ";");
      }
      close();
    }
  }
  for (const Scalar &s : scalars_)
    if (s.inSmem)
      line("if (infir2::tid() == 0) rsm" + num(s.id) + "[(" + row +
           ") - r0] = rs" + num(s.id) + ";");
}

std::string Emitter::scaleStore(const Sink &s, const std::string &ts) {
  return s.e8m0 ? "infir2::e8m0_of(" + ts + ".scale)" : ts + ".scale";
}

void Emitter::emitOutputLoops(const std::string &row) {
  std::vector<int64_t> widths;
  for (const Sink &s : sinks_)
    if (!llvm::is_contained(widths, s.width))
      widths.push_back(s.width);
  for (int64_t w : widths) {
    const int64_t tiles = (w + 127) / 128;
    open("for (i64 t = infir2::warp(); t < " + num(tiles) +
         "; t += infir2::nwarps())");
    std::vector<const Sink *> quants;
    for (const Sink &s : sinks_)
      if (s.width == w && s.kind == Sink::kQuant) {
        quants.push_back(&s);
        line("float qv" + num(s.data) + "[128 / infir2::kWarp];");
        line("float qa" + num(s.data) + " = 0.0f;");
      }
    line("#pragma unroll");
    open("for (int j = 0; j < 128 / infir2::kWarp; ++j)");
    line("const i64 c = t * 128 + j * infir2::kWarp + infir2::lane();");
    open("if (c < " + num(w) + ")");
    for (const Sink &s : sinks_) {
      if (s.width != w)
        continue;
      Idx idx{row, "c"};
      if (s.kind == Sink::kStore) {
        std::string v = value(s.value, idx);
        Type e = tensorType(s.value).getElementType();
        std::string at =
            w == 1 ? "(" + row + ")" : "(" + row + ") * " + num(w) + " + c";
        line("a.out" + num(s.out) + "[" + at + "] = " +
             (e.isBF16() ? "infir2::f32_to_bf16(" + v + ")" : v) + ";");
      } else if (s.kind == Sink::kQuant) {
        std::string v = value(s.value, idx);
        line("qv" + num(s.data) + "[j] = " + v + ";");
        line("qa" + num(s.data) + " = fmaxf(qa" + num(s.data) +
             ", infir2::amax_of(" + v + "));");
        if (s.dataT >= 0) {
          std::string cam = "sm" + num(s.amaxArray) + "[c]";
          line(cam + " = fmaxf(" + cam + ", infir2::amax_of(" + v + "));");
        }
      } else {
        std::string v = s.element(idx);
        line("sm" + num(s.sumArray) + "[c] += static_cast<double>(" + v + ");");
      }
    }
    close();
    close();
    for (const Sink *s : quants) {
      std::string d = num(s->data), ts = "ts" + d;
      line("const float am" + d + " = infir2::warp_max(qa" + d + ");");
      line("const infir2::TileScale " + ts + " = infir2::te_scale(am" + d +
           ", " + flt(s->fmax) + ", " + (s->pow2 ? "true" : "false") + ");");
      line("if (infir2::lane() == 0) a.out" + num(s->scales) + "[(" + row +
           ") * " + num(tiles) + " + t] = " + scaleStore(*s, ts) + ";");
      line("#pragma unroll");
      open("for (int j = 0; j < 128 / infir2::kWarp; ++j)");
      line("const i64 c = t * 128 + j * infir2::kWarp + infir2::lane();");
      line("if (c < " + num(w) + ") a.out" + d + "[(" + row + ") * " + num(w) +
           " + c] = infir2::quantize(qv" + d + "[j], " + ts + ", " +
           (s->e5m2 ? "true" : "false") + ");");
      close();
    }
    close();
  }
}

void Emitter::emitTransposedPass() {
  for (const Sink &s : sinks_) {
    if (s.kind != Sink::kQuant || s.dataT < 0)
      continue;
    line("infir2::sync();");
    open("for (i64 c = infir2::tid(); c < " + num(s.width) +
         "; c += infir2::nthreads())");
    std::string ts = tmp("tt");
    line("const infir2::TileScale " + ts + " = infir2::te_scale(sm" +
         num(s.amaxArray) + "[c], " + flt(s.fmax) + ", " +
         (s.pow2 ? "true" : "false") + ");");
    line("a.out" + num(s.scalesT) +
         "[c * ((rows + 127) / 128) + tile] = " + scaleStore(s, ts) + ";");
    open("for (i64 r = r0; r < r1; ++r)");
    transposed_ = true;
    std::string v = value(s.value, Idx{"r", "c"});
    transposed_ = false;
    line("a.out" + num(s.dataT) + "[c * rows + r] = infir2::quantize(" + v +
         ", " + ts + ", " + (s.e5m2 ? "true" : "false") + ");");
    close();
    close();
  }
  line("infir2::sync();");
}

void Emitter::emitRowBody(const std::string &row) {
  open("");
  emitScalarStages(row);
  emitOutputLoops(row);
  close();
}

void Emitter::emitColumnEpilogue() {
  if (colSumWidth_ == 0)
    return;
  line("infir2::sync();");
  line("double *const parts = reinterpret_cast<double *>(a.ws + 8);");
  int64_t off = 0;
  for (const Sink &s : sinks_) {
    if (s.kind != Sink::kColSum)
      continue;
    open("for (i64 c = infir2::tid(); c < " + num(s.width) +
         "; c += infir2::nthreads())");
    line("parts[infir2::nblocks() * " + num(off) + " + infir2::block() * " +
         num(s.width) + " + c] = sm" + num(s.sumArray) + "[c];");
    close();
    off += s.width;
  }
  line("infir2::fence();");
  line("infir2::sync();");
  line("int *const last = reinterpret_cast<int *>(sm + 384);");
  line("if (infir2::tid() == 0) *last = infir2::atomic_inc("
       "reinterpret_cast<u32 *>(a.ws + 3)) == "
       "static_cast<u32>(infir2::nblocks() - 1);");
  line("infir2::sync();");
  open("if (*last)");
  line("infir2::fence();");
  // Reset for the next launch on the same workspace.
  line("if (infir2::tid() == 0) reinterpret_cast<u32 *>(a.ws + 3)[0] = 0u;");
  off = 0;
  for (const Sink &s : sinks_) {
    if (s.kind != Sink::kColSum)
      continue;
    open("for (i64 c = infir2::tid(); c < " + num(s.width) +
         "; c += infir2::nthreads())");
    line("double total = 0.0;");
    line("for (i64 b = 0; b < infir2::nblocks(); ++b) total += parts["
         "infir2::nblocks() * " +
         num(off) + " + b * " + num(s.width) + " + c];");
    line("a.out" + num(s.out) + "[c] = static_cast<float>(" +
         (s.mean ? "total / static_cast<double>(rows)" : "total") + ");");
    close();
    off += s.width;
  }
  close();
}

void Emitter::emitBlocksSchedule() {
  const Sink *q = nullptr;
  for (const Sink &s : sinks_)
    if (s.kind == Sink::kQuant)
      q = &s;
  const int64_t w = q->width, rt = (rows_ + 127) / 128, ct = (w + 127) / 128;
  open("for (i64 b = infir2::block(); b < " + num(rt * ct) +
       "; b += infir2::nblocks())");
  line("const i64 tr = b / " + num(ct) + ", tc = b % " + num(ct) + ";");
  line("float amax = 0.0f;");
  auto loop = [&](const std::function<void(const std::string &)> &body) {
    open("for (i64 e = infir2::tid(); e < 128 * 128; e += infir2::nthreads())");
    line("const i64 row = tr * 128 + e / 128, c = tc * 128 + e % 128;");
    open("if (row < " + num(rows_) + " && c < " + num(w) + ")");
    body(value(q->value, Idx{"row", "c"}));
    close();
    close();
  };
  loop([&](const std::string &v) {
    line("amax = fmaxf(amax, infir2::amax_of(" + v + "));");
  });
  line("amax = infir2::block_max(amax, red);");
  line("const infir2::TileScale ts = infir2::te_scale(amax, " + flt(q->fmax) +
       ", " + (q->pow2 ? "true" : "false") + ");");
  line("if (infir2::tid() == 0) a.out" + num(q->scales) + "[tr * " + num(ct) +
       " + tc] = " + scaleStore(*q, "ts") + ";");
  loop([&](const std::string &v) {
    line("a.out" + num(q->data) + "[row * " + num(w) +
         " + c] = infir2::quantize(" + v + ", ts, " +
         (q->e5m2 ? "true" : "false") + ");");
  });
  close();
}

FailureOr<GeneratedKernel> Emitter::run() {
  GeneratedKernel k;
  k.label = op_.getSymName().str();
  schedule_ = op_.getSchedule();
  Block &block = op_.getBodyBlock();
  for (Operation &o : block.without_terminator())
    if (kernel::classify(&o) != kernel::OpClass::kView)
      k.ops.push_back(o.getName().getStringRef().str());
  if (k.ops.empty())
    for (Operation &o : block.without_terminator())
      k.ops.push_back(o.getName().getStringRef().str());
  // Every op must be one the generator handles (the fusion rules).
  for (Operation &o : block.without_terminator())
    if (kernel::classify(&o) == kernel::OpClass::kOther)
      return o.emitOpError()
             << "cannot be generated as kernel code (not a fusible op with "
                "these types and shapes; see FusionRules.h)";
  // The rows every loop walks.
  auto yield = cast<kernel::YieldOp>(block.getTerminator());
  std::optional<int64_t> rows;
  for (Operation &o : block.without_terminator()) {
    kernel::OpClass cls = kernel::classify(&o);
    if (cls == kernel::OpClass::kRowReduction ||
        cls == kernel::OpClass::kColumnReduction ||
        cls == kernel::OpClass::kQuantize)
      rows = kernel::iterationRows(&o);
  }
  if (!rows)
    for (Value v : yield.getValues())
      if (tensorType(v).getRank() >= 1) {
        rows = tensorType(v).getDimSize(0);
        break;
      }
  if (!rows)
    return op_.emitOpError() << "cannot be generated as kernel code: no "
                                "value has rows to walk";
  rows_ = *rows;
  if (ShapedType::isDynamic(rows_)) {
    for (BlockArgument a : block.getArguments())
      if (tensorType(a).getRank() >= 1 && tensorType(a).isDynamicDim(0)) {
        k.rowsInput = static_cast<int>(a.getArgNumber());
        break;
      }
    if (k.rowsInput < 0)
      return op_.emitOpError() << "cannot be generated as kernel code: the "
                                  "rows are dynamic but no input has them";
  } else {
    k.staticRows = rows_;
  }

  if (failed(collectSinks()))
    return failure();
  if (schedule_ == Schedule::Blocks &&
      (sinks_.size() != 1 || sinks_.front().kind != Sink::kQuant))
    return op_.emitOpError() << "cannot be generated as kernel code: a "
                                "blocks kernel writes only its one 128x128 "
                                "quantization";
  // Plan: discover the row scalars with a dry run of every loop.
  planning_ = true;
  out_ = &scratch_;
  scopes_.emplace_back();
  if (schedule_ == Schedule::Blocks) {
    emitBlocksSchedule();
  } else {
    emitOutputLoops("row");
    if (schedule_ == Schedule::RowTiles)
      emitTransposedPass();
    for (const Sink &s : sinks_)
      if (s.kind == Sink::kColSum)
        s.element(Idx{"row", "c"});
  }
  scopes_.pop_back();
  if (failed_)
    return failure();
  planning_ = false;
  for (Scalar &s : scalars_)
    if (s.inSmem) {
      rsmNames_[s.id] = arrays_;
      smemArray("float", 128, 4);
    }

  // Emit.
  out_ = &body_;
  counter_ = 0;
  indent_ = 1;
  scopes_.emplace_back();
  line("char *const sm = infir2::smem();");
  line("float *const red = reinterpret_cast<float *>(sm);");
  line("double *const redd = reinterpret_cast<double *>(sm + 128);");
  for (const std::string &d : smemDecls_)
    line(d);
  for (const auto &[id, array] : rsmNames_)
    line("float *const rsm" + num(id) + " = sm" + num(array) + ";");
  line("const i64 rows = a.rows;");
  line("(void)red; (void)redd; (void)rows;");
  for (const Sink &s : sinks_)
    if (s.kind == Sink::kColSum) {
      line("for (i64 c = infir2::tid(); c < " + num(s.width) +
           "; c += infir2::nthreads()) sm" + num(s.sumArray) + "[c] = 0.0;");
    }
  if (colSumWidth_)
    line("infir2::sync();");
  if (schedule_ == Schedule::Blocks) {
    emitBlocksSchedule();
  } else if (schedule_ == Schedule::Rows) {
    open("for (i64 row = infir2::block(); row < rows; row += "
         "infir2::nblocks())");
    emitRowBody("row");
    close();
  } else {
    open("for (i64 tile = infir2::block(); tile < (rows + 127) / 128; tile "
         "+= infir2::nblocks())");
    line("const i64 r0 = tile * 128;");
    line("const i64 r1 = r0 + 128 < rows ? r0 + 128 : rows;");
    for (const Sink &s : sinks_)
      if (s.kind == Sink::kQuant && s.dataT >= 0)
        line("for (i64 c = infir2::tid(); c < " + num(s.width) +
             "; c += infir2::nthreads()) sm" + num(s.amaxArray) +
             "[c] = 0.0f;");
    line("infir2::sync();");
    open("for (i64 row = r0; row < r1; ++row)");
    emitRowBody("row");
    close();
    emitTransposedPass();
    close();
  }
  emitColumnEpilogue();
  scopes_.pop_back();
  if (failed_)
    return failure();

  // Launch shape.
  int64_t widest = 1;
  for (const Sink &s : sinks_)
    widest = std::max(widest, s.width);
  for (const Scalar &s : scalars_)
    widest = std::max(widest, s.width);
  k.schedule = schedule_;
  if (schedule_ == Schedule::Blocks) {
    k.blockThreads = 256;
    k.rowsPerBlock = 128;
    const Sink *q = nullptr;
    for (const Sink &s : sinks_)
      if (s.kind == Sink::kQuant)
        q = &s;
    k.colBlocks = (q->width + 127) / 128;
  } else {
    k.blockThreads = static_cast<int>(
        std::clamp<int64_t>(32 * ((widest + 127) / 128), 32, 256));
    k.rowsPerBlock = schedule_ == Schedule::RowTiles ? 128 : 1;
  }
  k.smemBytes = smemBytes_;
  k.numInputs = static_cast<int64_t>(block.getNumArguments());
  for (BlockArgument a : block.getArguments())
    k.inputDtypes.push_back(
        runtimeDTypeName(tensorType(a).getElementType()).value_or("?"));
  for (Value v : yield.getValues())
    k.resultDtypes.push_back(
        runtimeDTypeName(tensorType(v).getElementType()).value_or("?"));
  k.needsWorkspace = needsWorkspace_;
  k.workspacePerBlock = colSumWidth_ * 8;

  // Results.
  for (Value v : yield.getValues()) {
    std::vector<Dim> shape;
    auto t = tensorType(v);
    auto q = dyn_cast_or_null<fp8::QuantizeOp>(v.getDefiningOp());
    bool transposedCopy = q && (v == q.getDataT() || v == q.getScalesT());
    for (int64_t d = 0; d < t.getRank(); ++d) {
      Dim dim;
      if (!t.isDynamicDim(d))
        dim.value = t.getDimSize(d);
      else if (transposedCopy && v == q.getScalesT())
        dim.rowsDiv = 128;
      else
        dim.rowsDiv = 1;
      shape.push_back(dim);
    }
    k.resultShapes.push_back(shape);
  }
  // Traffic: what moves per row of T (tokens), and what once per launch.
  auto traffic = [&](Value v, ArrayRef<Dim> dims) {
    auto t = tensorType(v);
    const int64_t bytes = bytesOf(t.getElementType());
    int64_t fixed = 1, div = 0;
    for (const Dim &d : dims) {
      if (d.rowsDiv)
        div = d.rowsDiv;
      else
        fixed *= d.value;
    }
    if (div)
      k.bytesPerRow += fixed * bytes / div;
    else
      k.staticBytes += fixed * bytes;
  };
  for (BlockArgument a : block.getArguments()) {
    std::vector<Dim> dims;
    for (int64_t d : tensorType(a).getShape())
      dims.push_back(ShapedType::isDynamic(d) ? Dim{0, 1} : Dim{d, 0});
    traffic(a, dims);
  }
  for (auto [v, shape] : llvm::zip(yield.getValues(), k.resultShapes))
    traffic(v, shape);

  // The source, named by a hash of everything but the name.
  std::string args;
  for (BlockArgument a : block.getArguments()) {
    FailureOr<std::string> ct = ctype(tensorType(a).getElementType());
    if (failed(ct))
      return op_.emitOpError()
             << "cannot be generated as kernel code: input " << a.getArgNumber()
             << " has element type " << tensorType(a).getElementType();
    args +=
        "  const " + *ct + " *__restrict__ in" + num(a.getArgNumber()) + ";\n";
  }
  for (auto [i, v] : llvm::enumerate(yield.getValues())) {
    FailureOr<std::string> ct = ctype(tensorType(v).getElementType());
    if (failed(ct))
      return op_.emitOpError()
             << "cannot be generated as kernel code: result " << i
             << " has element type " << tensorType(v).getElementType();
    args += "  " + *ct + " *__restrict__ out" + num(i) + ";\n";
  }
  args += "  i64 rows;\n  i64 *__restrict__ ws;\n";
  std::string consts;
  for (const auto &[name, decl] : constants_)
    consts += decl + "\n";
  k.constants = constants_;
  std::string text =
      "// " + k.label + " (" + stringifySchedule(schedule_).str() +
      "): " + llvm::join(k.ops, ", ") + "\nstruct @_args {\n" + args +
      "};\n\nINFIR2_FN void @_body(const @_args &a) {\n" + body_ +
      "}\n\n#ifdef INFIR2_GPU\nextern \"C\" __global__ void "
      "__launch_bounds__(" +
      num(k.blockThreads) +
      ") @(@_args a) { @_body(a); }\n#else\nextern \"C\" void @(const void "
      "*args, i64 grid, i64 smem) {\n  @_args a;\n  std::memcpy(&a, args, "
      "sizeof(a));\n  infir2::run_blocks(grid, smem, [&] { @_body(a); });\n}\n"
      "#endif\n";
  // The launch is part of a kernel's identity: the same code over static
  // rows of another count is another manifest entry.
  std::string launch = "rows=" + num(k.staticRows) + ";";
  for (const std::vector<Dim> &shape : k.resultShapes)
    for (const Dim &d : shape)
      launch += num(d.value) + "/" + num(d.rowsDiv) + ",";
  k.name = k.label + "_" +
           llvm::utohexstr(llvm::xxh3_64bits(text + consts + launch),
                           /*LowerCase=*/true)
               .substr(0, 10);
  std::string named;
  for (char ch : text) {
    if (ch == '@')
      named += k.name;
    else
      named += ch;
  }
  k.source = named;
  return k;
}
} // namespace

std::optional<std::string> runtimeDTypeName(Type t) {
  if (t.isF32())
    return "F32";
  if (t.isBF16())
    return "BF16";
  if (t.isF16())
    return "F16";
  if (t.isF64())
    return "F64";
  if (t.isSignlessInteger(1))
    return "BOOL";
  if (t.isSignlessInteger(8))
    return "I8";
  if (t.isSignlessInteger(16))
    return "I16";
  if (t.isSignlessInteger(32))
    return "I32";
  if (t.isSignlessInteger(64))
    return "I64";
  if (isa<Float8E4M3FNType>(t))
    return "F8_E4M3";
  if (isa<Float8E5M2Type>(t))
    return "F8_E5M2";
  if (isa<Float8E8M0FNUType>(t))
    return "F8_E8M0";
  return std::nullopt;
}

FailureOr<GeneratedKernel> generateKernel(kernel::FusedOp op) {
  return Emitter(op).run();
}

std::string kernelsTranslationUnit(ArrayRef<GeneratedKernel> kernels) {
  std::string out = "// Generated by infir2: one kernel per kernel.fused "
                    "region (docs/codegen.md).\n#include "
                    "\"infir2_prelude.h\"\n";
  std::map<std::string, std::string> constants;
  for (const GeneratedKernel &k : kernels)
    constants.insert(k.constants.begin(), k.constants.end());
  for (const auto &[name, decl] : constants)
    out += decl + "\n";
  std::set<std::string> seen;
  for (const GeneratedKernel &k : kernels)
    if (seen.insert(k.name).second)
      out += "\n" + k.source;
  return out;
}

LogicalResult translateToCuda(ModuleOp module, raw_ostream &os) {
  std::vector<GeneratedKernel> kernels;
  WalkResult r = module.walk([&](kernel::FusedOp op) {
    FailureOr<GeneratedKernel> k = generateKernel(op);
    if (failed(k))
      return WalkResult::interrupt();
    kernels.push_back(std::move(*k));
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  os << kernelsTranslationUnit(kernels);
  return success();
}
} // namespace mlir::infir2::codegen
