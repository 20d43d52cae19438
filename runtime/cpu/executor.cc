//===- executor.cc - Run an artifact entry point on the CPU ---------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <new>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/cpu/fp8_kernels.h"
#include "runtime/cpu/kernels.h"
#include "runtime/kernels/host_module.h"
#include "runtime/kernels/launch.h"

namespace infir2::cpu {
enum class OpKind {
  kEmbedding,
  kLinear,
  kMatmul,
  kRmsNorm,
  kRope,
  kAttention,
  kCrossEntropy,
  kUnary,
  kSwiglu,
  kBinary,
  kReduce,
  kCast,
  kReshape,
  kTranspose,
  kBroadcast,
  kSlice,
  kConcat,
  kSplit,
  kAdamw,
  kSplat,
  kEmbeddingGrad,
  kRmsNormGrad,
  kRopeGrad,
  kAttentionGrad,
  kCrossEntropyGrad,
  kSiluGrad,
  kSwigluGrad,
  kFp8Quantize,
  kFp8Dequantize,
  kFp8ScaledMatmul,
  kKernel, ///< a generated kernel (kernel steps)
};

/// Thread blocks a generated kernel gets at most on the CPU: fixed, not
/// the thread count, so column sums add up in the same order everywhere.
constexpr int64_t kCpuMaxGrid = 256;

/// A step with its kernel chosen and its attributes read.
struct PreparedStep {
  const artifact::Step *step = nullptr;
  int64_t index = 0;
  OpKind kind = OpKind::kEmbedding;
  UnaryKind unary = UnaryKind::kNeg;
  BinaryKind binary = BinaryKind::kAdd;
  ReduceKind reduce = ReduceKind::kSum;
  RopeStyle ropeStyle = RopeStyle::kRotateHalf;
  double number = 0; ///< epsilon, theta, scale or the splat value
  bool flagA = false, flagB = false; ///< causal / keep_dims / transposes
  std::vector<int64_t> list1, list2, list3;
  int64_t integer = 0; ///< concat axis
  // fp8 ops: layouts of the (lhs, rhs) or (data, transposed copy) operands.
  numerics::Layout layoutA = numerics::Layout::kTile1x128;
  numerics::Layout layoutB = numerics::Layout::kTile1x128;
  numerics::ScaleMode scaleMode = numerics::ScaleMode::kPow2;
  numerics::ScaleMethod scaleMethod = numerics::ScaleMethod::kTE;
  // kernel steps
  const artifact::Kernel *kernel = nullptr;
  kernels::HostKernelFn fn = nullptr;
};

namespace {
struct OpInfo {
  OpKind kind;
  int minOperands, maxOperands; ///< -1: variadic
  int results = 1;              ///< -1: any number
  int maxResults = 0;           ///< 0: exactly |results|
};

const std::map<std::string, std::pair<OpInfo, int>> &opTable() {
  // The int is the sub-kind (UnaryKind / BinaryKind / ReduceKind).
  static const auto *table = new std::map<std::string, std::pair<OpInfo, int>>{
      {"graph.embedding", {{OpKind::kEmbedding, 2, 2}, 0}},
      {"graph.linear", {{OpKind::kLinear, 2, 3}, 0}},
      {"graph.matmul", {{OpKind::kMatmul, 2, 2}, 0}},
      {"graph.rms_norm", {{OpKind::kRmsNorm, 2, 2}, 0}},
      {"graph.rope", {{OpKind::kRope, 2, 2}, 0}},
      {"graph.attention", {{OpKind::kAttention, 4, 4}, 0}},
      {"graph.cross_entropy", {{OpKind::kCrossEntropy, 3, 3}, 0}},
      {"graph.neg", {{OpKind::kUnary, 1, 1}, int(UnaryKind::kNeg)}},
      {"graph.exp", {{OpKind::kUnary, 1, 1}, int(UnaryKind::kExp)}},
      {"graph.log", {{OpKind::kUnary, 1, 1}, int(UnaryKind::kLog)}},
      {"graph.rsqrt", {{OpKind::kUnary, 1, 1}, int(UnaryKind::kRsqrt)}},
      {"graph.silu", {{OpKind::kUnary, 1, 1}, int(UnaryKind::kSilu)}},
      {"graph.swiglu", {{OpKind::kSwiglu, 2, 2}, 0}},
      {"graph.add", {{OpKind::kBinary, 2, 2}, int(BinaryKind::kAdd)}},
      {"graph.sub", {{OpKind::kBinary, 2, 2}, int(BinaryKind::kSub)}},
      {"graph.mul", {{OpKind::kBinary, 2, 2}, int(BinaryKind::kMul)}},
      {"graph.div", {{OpKind::kBinary, 2, 2}, int(BinaryKind::kDiv)}},
      {"graph.reduce_sum", {{OpKind::kReduce, 1, 1}, int(ReduceKind::kSum)}},
      {"graph.reduce_max", {{OpKind::kReduce, 1, 1}, int(ReduceKind::kMax)}},
      {"graph.reduce_mean", {{OpKind::kReduce, 1, 1}, int(ReduceKind::kMean)}},
      {"graph.cast", {{OpKind::kCast, 1, 1}, 0}},
      {"graph.reshape", {{OpKind::kReshape, 1, 1}, 0}},
      {"graph.transpose", {{OpKind::kTranspose, 1, 1}, 0}},
      {"graph.broadcast", {{OpKind::kBroadcast, 1, 2}, 0}},
      {"graph.slice", {{OpKind::kSlice, 1, 1}, 0}},
      {"graph.concat", {{OpKind::kConcat, 1, -1}, 0}},
      {"graph.split", {{OpKind::kSplit, 1, 1, -1}, 0}},
      {"graph.adamw", {{OpKind::kAdamw, 5, 5, 3}, 0}},
      {"arith.constant", {{OpKind::kSplat, 0, 0}, 0}},
      {"graph.embedding_grad", {{OpKind::kEmbeddingGrad, 2, 2}, 0}},
      {"graph.rms_norm_grad", {{OpKind::kRmsNormGrad, 3, 3, 2}, 0}},
      {"graph.rope_grad", {{OpKind::kRopeGrad, 2, 2}, 0}},
      {"graph.attention_grad", {{OpKind::kAttentionGrad, 5, 5, 3}, 0}},
      {"graph.cross_entropy_grad", {{OpKind::kCrossEntropyGrad, 4, 4}, 0}},
      {"graph.silu_grad", {{OpKind::kSiluGrad, 2, 2}, 0}},
      {"graph.swiglu_grad", {{OpKind::kSwigluGrad, 3, 3, 2}, 0}},
      {"fp8.quantize", {{OpKind::kFp8Quantize, 1, 1, 2, 4}, 0}},
      {"fp8.dequantize", {{OpKind::kFp8Dequantize, 2, 2}, 0}},
      {"fp8.scaled_matmul", {{OpKind::kFp8ScaledMatmul, 4, 4}, 0}},
  };
  return *table;
}

std::string where(const artifact::Step &s, int64_t index) {
  return absl::StrCat("step ", index, " (", s.op,
                      s.name.empty() ? "" : absl::StrCat(" at ", s.name), ")");
}

/// Reads the step's attributes with the type the op needs.
class AttrReader {
public:
  AttrReader(const artifact::Step &s, int64_t index) : s_(s), index_(index) {}
  absl::Status status() const { return status_; }

  double number(const char *key) {
    const artifact::AttrValue *v = s_.attr(key);
    if (v && std::holds_alternative<double>(*v))
      return std::get<double>(*v);
    if (v && std::holds_alternative<int64_t>(*v))
      return static_cast<double>(std::get<int64_t>(*v));
    fail(key, "a number");
    return 0;
  }
  int64_t integer(const char *key) {
    const artifact::AttrValue *v = s_.attr(key);
    if (v && std::holds_alternative<int64_t>(*v))
      return std::get<int64_t>(*v);
    fail(key, "an integer");
    return 0;
  }
  bool flag(const char *key) { // unit attributes: present means set
    const artifact::AttrValue *v = s_.attr(key);
    if (!v)
      return false;
    if (std::holds_alternative<bool>(*v))
      return std::get<bool>(*v);
    fail(key, "a bool");
    return false;
  }
  std::string string(const char *key, const char *fallback) {
    const artifact::AttrValue *v = s_.attr(key);
    if (!v)
      return fallback;
    if (std::holds_alternative<std::string>(*v))
      return std::get<std::string>(*v);
    fail(key, "a string");
    return "";
  }
  std::vector<int64_t> list(const char *key) {
    const artifact::AttrValue *v = s_.attr(key);
    if (v && std::holds_alternative<std::vector<int64_t>>(*v))
      return std::get<std::vector<int64_t>>(*v);
    fail(key, "an integer list");
    return {};
  }
  double splat(const char *key) {
    const artifact::AttrValue *v = s_.attr(key);
    if (v && std::holds_alternative<artifact::Splat>(*v))
      return std::get<artifact::Splat>(*v).value;
    fail(key, "a {\"splat\": number} constant (only splat constants run on "
              "the cpu)");
    return 0;
  }
  void fail(const std::string &key, const std::string &expected) {
    if (status_.ok())
      status_ = absl::InvalidArgumentError(absl::StrCat(
          where(s_, index_), ": attribute '", key, "' must be ", expected));
  }

private:
  const artifact::Step &s_;
  int64_t index_;
  absl::Status status_;
};

bool isNumeric(DType d) { return isFloat(d) || isIndex(d); }
bool isCastable(DType d) { return isNumeric(d) || d == DType::kBool; }
bool isFp8(DType d) { return d == DType::kF8E4M3 || d == DType::kF8E5M2; }

/// The dtype rules of each op (the graph dialect's type constraints), checked
/// on the artifact's buffers so that kernels only ever see what they handle.
absl::Status checkTypes(const PreparedStep &ps,
                        const std::vector<artifact::Buffer> &buffers) {
  const artifact::Step &s = *ps.step;
  auto in = [&](size_t i) { return buffers[s.operands[i]].dtype; };
  auto res = [&](size_t i) { return buffers[s.results[i]].dtype; };
  const DType out = res(0);
  bool ok = true;
  auto need = [&](bool condition) { ok = ok && condition; };
  auto allFloat = [&]() {
    for (size_t i = 0; i < s.operands.size(); ++i)
      need(isFloat(in(i)));
  };
  switch (ps.kind) {
  case OpKind::kEmbedding:
    need(isFloat(in(0)) && isIndex(in(1)) && out == in(0));
    break;
  case OpKind::kLinear:
  case OpKind::kMatmul:
  case OpKind::kRmsNorm:
    allFloat();
    need(isFloat(out));
    break;
  case OpKind::kRope:
    need(isFloat(in(0)) && isIndex(in(1)) && out == in(0));
    break;
  case OpKind::kAttention:
    need(isFloat(in(0)) && isFloat(in(1)) && isFloat(in(2)) &&
         in(3) == DType::kI32 && out == in(0));
    break;
  case OpKind::kCrossEntropy:
    need(in(0) == DType::kF32 && isIndex(in(1)) && in(2) == DType::kF32 &&
         out == DType::kF32);
    break;
  case OpKind::kUnary:
    need((ps.unary == UnaryKind::kNeg ? isNumeric(in(0)) : isFloat(in(0))) &&
         out == in(0));
    break;
  case OpKind::kSwiglu:
    need(isFloat(in(0)) && in(1) == in(0) && out == in(0));
    break;
  case OpKind::kBinary:
    need(isNumeric(in(0)) && in(1) == in(0) && out == in(0));
    break;
  case OpKind::kReduce:
    need((ps.reduce == ReduceKind::kMean ? isFloat(in(0)) : isNumeric(in(0))) &&
         out == in(0));
    break;
  case OpKind::kCast:
    need(isCastable(in(0)) && isCastable(out));
    break;
  case OpKind::kReshape:
  case OpKind::kTranspose:
  case OpKind::kBroadcast:
  case OpKind::kSlice:
  case OpKind::kConcat:
    for (size_t i = 0; i < s.operands.size(); ++i)
      need(ps.kind == OpKind::kBroadcast && i == 1 ? true : in(i) == out);
    break;
  case OpKind::kSplit:
    for (size_t i = 0; i < s.results.size(); ++i)
      need(res(i) == in(0));
    break;
  case OpKind::kAdamw:
    for (size_t i = 0; i < s.operands.size(); ++i)
      need(in(i) == DType::kF32);
    for (size_t i = 0; i < s.results.size(); ++i)
      need(res(i) == DType::kF32);
    break;
  case OpKind::kEmbeddingGrad:
    need(isFloat(in(0)) && isIndex(in(1)) && out == DType::kF32);
    break;
  case OpKind::kRmsNormGrad:
    allFloat();
    need(in(1) == in(0) && in(2) == in(0) && out == in(0) &&
         res(1) == DType::kF32);
    break;
  case OpKind::kRopeGrad:
    need(isFloat(in(0)) && isIndex(in(1)) && out == in(0));
    break;
  case OpKind::kAttentionGrad:
    need(isFloat(in(1)) && in(0) == in(1) && in(2) == in(1) && in(3) == in(1) &&
         in(4) == DType::kI32 && out == in(1) && res(1) == in(1) &&
         res(2) == in(1));
    break;
  case OpKind::kCrossEntropyGrad:
    need(in(0) == DType::kF32 && in(1) == DType::kF32 && isIndex(in(2)) &&
         in(3) == DType::kF32 && out == DType::kF32);
    break;
  case OpKind::kSiluGrad:
    need(isFloat(in(0)) && in(1) == in(0) && out == in(0));
    break;
  case OpKind::kSwigluGrad:
    need(isFloat(in(0)) && in(1) == in(0) && in(2) == in(0) && out == in(0) &&
         res(1) == in(0));
    break;
  case OpKind::kSplat:
    need(isCastable(out));
    if (isIndex(out) &&
        !(std::isfinite(ps.number) && std::fabs(ps.number) < 0x1p62))
      return absl::InvalidArgumentError(
          absl::StrCat(where(s, ps.index), ": the constant ", ps.number,
                       " does not fit ", dtypeName(out)));
    break;
  case OpKind::kFp8Quantize:
    need(isFloat(in(0)) && isFp8(out) && res(1) == DType::kF32);
    if (s.results.size() == 4)
      need(isFp8(res(2)) && res(3) == DType::kF32);
    break;
  case OpKind::kFp8Dequantize:
    need(isFp8(in(0)) && in(1) == DType::kF32 && isFloat(out));
    break;
  case OpKind::kFp8ScaledMatmul:
    need(isFp8(in(0)) && in(1) == DType::kF32 && isFp8(in(2)) &&
         in(3) == DType::kF32 && isFloat(out));
    break;
  case OpKind::kKernel:
    break; // kernel steps are checked against their manifest entry
  }
  if (ok)
    return absl::OkStatus();
  std::string types, results;
  for (size_t i = 0; i < s.operands.size(); ++i)
    absl::StrAppend(&types, i ? ", " : "", dtypeName(in(i)));
  for (size_t i = 0; i < s.results.size(); ++i)
    absl::StrAppend(&results, i ? ", " : "", dtypeName(res(i)));
  return absl::InvalidArgumentError(absl::StrCat(
      where(s, ps.index), ": operand dtypes (", types, ") -> ",
      s.results.size() > 1 ? absl::StrCat("(", results, ")") : results,
      " are not ones this op takes"));
}

bool staticShapeMatches(const std::vector<int64_t> &declared,
                        const std::vector<int64_t> &actual) {
  if (declared.size() != actual.size())
    return false;
  for (size_t i = 0; i < declared.size(); ++i)
    if (declared[i] != -1 && declared[i] != actual[i])
      return false;
  return true;
}
} // namespace

Program::~Program() = default;

absl::StatusOr<std::unique_ptr<Program>>
Program::create(const artifact::Manifest &manifest, const std::string &entry) {
  if (manifest.target != "cpu")
    return absl::InvalidArgumentError(absl::StrCat(
        "the artifact targets '", manifest.target,
        "'; the CPU backend runs artifacts compiled with --target cpu"));
  const artifact::EntryPoint *ep = manifest.entryPoint(entry);
  if (!ep)
    return absl::NotFoundError(
        absl::StrCat("the artifact has no entry point '", entry, "'"));
  std::unique_ptr<Program> p(new Program());
  p->buffers_ = manifest.buffers;
  p->entry_ = *ep;
  p->params_.resize(p->buffers_.size());
  p->kernelInfo_ = manifest.kernels;
  for (size_t i = 0; i < p->entry_.steps.size(); ++i) {
    const artifact::Step &s = p->entry_.steps[i];
    const int64_t index = static_cast<int64_t>(i);
    if (s.kind == "kernel") {
      if (!p->kernels_) {
        absl::StatusOr<std::shared_ptr<const kernels::HostModule>> module =
            kernels::HostModule::load(manifest);
        if (!module.ok())
          return module.status();
        p->kernels_ = *module;
      }
      PreparedStep ps;
      ps.step = &s;
      ps.index = index;
      ps.kind = OpKind::kKernel;
      ps.kernel = &p->kernelInfo_[s.kernel];
      ps.fn = p->kernels_->find(ps.kernel->name);
      if (!ps.fn)
        return absl::InternalError(absl::StrCat(
            where(s, index), ": the kernel module ", p->kernels_->path(),
            " has no '", ps.kernel->name, "'; recompile the artifact"));
      p->steps_.push_back(std::move(ps));
      continue;
    }
    auto it = opTable().find(s.op);
    if (it == opTable().end())
      return absl::UnimplementedError(absl::StrCat(
          where(s, index), ": the CPU backend has no implementation of '", s.op,
          "'"));
    const OpInfo &info = it->second.first;
    const int n = static_cast<int>(s.operands.size());
    if (n < info.minOperands || (info.maxOperands >= 0 && n > info.maxOperands))
      return absl::InvalidArgumentError(
          absl::StrCat(where(s, index), ": ", n, " operands"));
    const int results = static_cast<int>(s.results.size());
    if (info.results >= 0 && results != info.results &&
        (info.maxResults == 0 || results != info.maxResults))
      return absl::InvalidArgumentError(absl::StrCat(
          where(s, index), ": expected ", info.results,
          info.maxResults ? absl::StrCat(" or ", info.maxResults) : "",
          info.results == 1 ? " result" : " results", ", got ", results));
    PreparedStep ps;
    ps.step = &s;
    ps.index = index;
    ps.kind = info.kind;
    AttrReader attrs(s, index);
    switch (info.kind) {
    case OpKind::kLinear:
    case OpKind::kMatmul:
      if (s.attr("fp8"))
        return absl::UnimplementedError(absl::StrCat(
            where(s, index),
            ": an FP8 GEMM (fp8 recipe) that fp8-lower did not lower; the "
            "artifact's pipeline must run fp8-lower"));
      if (info.kind == OpKind::kMatmul) {
        ps.flagA = attrs.flag("transpose_lhs");
        ps.flagB = attrs.flag("transpose_rhs");
      }
      break;
    case OpKind::kFp8Quantize:
    case OpKind::kFp8Dequantize:
    case OpKind::kFp8ScaledMatmul: {
      // #fp8.layout attributes arrive by name ("1x128", ...).
      auto layout = [&](const char *key,
                        numerics::Layout &out) -> absl::Status {
        absl::StatusOr<numerics::Layout> l =
            parseFp8Layout(attrs.string(key, ""));
        if (!l.ok())
          return absl::InvalidArgumentError(absl::StrCat(
              where(s, index), ": ", key, ": ", l.status().message()));
        out = *l;
        return absl::OkStatus();
      };
      const bool mm = info.kind == OpKind::kFp8ScaledMatmul;
      if (absl::Status st = layout(mm ? "lhs_layout" : "layout", ps.layoutA);
          !st.ok())
        return st;
      if (mm) {
        if (absl::Status st = layout("rhs_layout", ps.layoutB); !st.ok())
          return st;
        ps.flagA = attrs.flag("transpose_lhs");
        ps.flagB = attrs.flag("transpose_rhs");
      }
      if (info.kind != OpKind::kFp8Quantize)
        break;
      if (s.results.size() == 4)
        if (absl::Status st = layout("transposed_layout", ps.layoutB); !st.ok())
          return st;
      const std::string rule = attrs.string("scale_rule", "");
      if (rule == "pow2_f32")
        ps.scaleMode = numerics::ScaleMode::kPow2;
      else if (rule == "exact_f32")
        ps.scaleMode = numerics::ScaleMode::kExactF32;
      else
        return absl::UnimplementedError(absl::StrCat(
            where(s, index), ": scale rule '", rule,
            "' does not run on the CPU backend (pow2_f32 or exact_f32)"));
      const std::string method = attrs.string("method", "te");
      if (method != "te" && method != "checkpoint")
        return absl::InvalidArgumentError(absl::StrCat(
            where(s, index), ": unknown quantization method '", method, "'"));
      ps.scaleMethod = method == "te" ? numerics::ScaleMethod::kTE
                                      : numerics::ScaleMethod::kCheckpoint;
      break;
    }
    case OpKind::kRmsNorm:
      ps.number = attrs.number("epsilon");
      break;
    case OpKind::kRope:
    case OpKind::kRopeGrad: {
      ps.number = attrs.number("theta");
      std::string style = attrs.string("style", "rotate_half");
      if (style == "interleaved")
        ps.ropeStyle = RopeStyle::kInterleaved;
      else if (style != "rotate_half")
        attrs.fail("style", "rotate_half or interleaved");
      break;
    }
    case OpKind::kAttention:
    case OpKind::kAttentionGrad:
      ps.number = attrs.number("scale");
      ps.flagA = attrs.flag("causal");
      break;
    case OpKind::kEmbeddingGrad:
      ps.integer = attrs.integer("num_embeddings");
      if (attrs.status().ok() && ps.integer < 1)
        attrs.fail("num_embeddings", "positive");
      break;
    case OpKind::kRmsNormGrad:
      ps.number = attrs.number("epsilon");
      break;
    case OpKind::kUnary:
      ps.unary = static_cast<UnaryKind>(it->second.second);
      break;
    case OpKind::kBinary:
      ps.binary = static_cast<BinaryKind>(it->second.second);
      break;
    case OpKind::kReduce:
      ps.reduce = static_cast<ReduceKind>(it->second.second);
      ps.list1 = attrs.list("axes");
      ps.flagA = attrs.flag("keep_dims");
      break;
    case OpKind::kTranspose:
      ps.list1 = attrs.list("permutation");
      break;
    case OpKind::kBroadcast:
      ps.list1 = attrs.list("dims");
      break;
    case OpKind::kSlice:
      ps.list1 = attrs.list("start");
      ps.list2 = attrs.list("limit");
      ps.list3 = attrs.list("stride");
      break;
    case OpKind::kConcat:
      ps.integer = attrs.integer("axis");
      break;
    case OpKind::kSplit: {
      ps.integer = attrs.integer("axis");
      ps.list1 = attrs.list("sizes");
      const int64_t rank =
          static_cast<int64_t>(p->buffers_[s.operands[0]].shape.size());
      if (attrs.status().ok() && (ps.list1.size() != s.results.size() ||
                                  ps.integer < 0 || ps.integer >= rank))
        attrs.fail("sizes", "one size per result (axis within the rank)");
      break;
    }
    case OpKind::kSplat:
      ps.number = attrs.splat("value");
      break;
    default:
      break;
    }
    if (!attrs.status().ok())
      return attrs.status();
    if (absl::Status st = checkTypes(ps, p->buffers_); !st.ok())
      return st;
    p->steps_.push_back(std::move(ps));
  }
  return p;
}

absl::Status
Program::bindParameters(std::shared_ptr<const io::Checkpoint> checkpoint) {
  // A failed bind leaves the program unbound, never half old, half new.
  bound_ = false;
  params_.assign(buffers_.size(), Tensor());
  f32Weights_.clear();
  std::set<std::string> used;
  for (const artifact::Parameter &param : entry_.parameters) {
    const io::TensorView *t = checkpoint->find(param.name);
    if (!t)
      return absl::NotFoundError(absl::StrCat(
          "checkpoint ", checkpoint->dir(), " has no tensor '", param.name,
          "' (the artifact binds it: ", dtypeName(param.dtype), " ",
          formatShape(param.shape),
          "); was the artifact compiled from this model's config.json?"));
    used.insert(param.name);
    if (t->shape != param.shape)
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", checkpoint->dir(), ": tensor '",
                       param.name, "' has shape ", formatShape(t->shape),
                       ", the artifact expects ", formatShape(param.shape)));
    if (!isFloat(t->dtype) || !isFloat(param.dtype)) {
      if (t->dtype != param.dtype)
        return absl::UnimplementedError(absl::StrCat(
            "checkpoint ", checkpoint->dir(), ": tensor '", param.name, "' is ",
            dtypeName(t->dtype), ", the artifact expects ",
            dtypeName(param.dtype),
            (t->dtype == DType::kF8E4M3
                 ? "; block-FP8 checkpoints must be dequantized first"
                 : "")));
    }
    // safetensors does not align tensors; kernels expect aligned elements.
    const bool aligned =
        reinterpret_cast<uintptr_t>(t->data) % dtypeSize(t->dtype) == 0;
    Tensor view = aligned
                      ? Tensor::view(t->dtype, t->shape, t->data, checkpoint)
                      : Tensor::copyOf(t->dtype, t->shape, t->data);
    params_[param.buffer] =
        t->dtype == param.dtype ? view : *cast(view, param.dtype);
  }
  cacheF32Weights();
  unused_.clear();
  for (const std::string &name : checkpoint->names())
    if (!used.count(name))
      unused_.push_back(name);
  bound_ = true;
  return absl::OkStatus();
}

void Program::cacheF32Weights() {
  // GEMM weights the kernels would otherwise convert on every run.
  for (const PreparedStep &ps : steps_) {
    if (ps.kind != OpKind::kLinear)
      continue;
    int64_t w = ps.step->operands[1];
    const Tensor &weight = params_[w];
    if (weight.defined() && weight.dtype() != DType::kF32 &&
        !f32Weights_.count(w))
      f32Weights_[w] = toF32(weight);
  }
}

absl::Status
Program::bindTensors(const std::map<std::string, Tensor> &tensors) {
  bound_ = false;
  params_.assign(buffers_.size(), Tensor());
  f32Weights_.clear();
  for (const artifact::Parameter &param : entry_.parameters) {
    auto it = tensors.find(param.name);
    if (it == tensors.end())
      return absl::NotFoundError(absl::StrCat(
          "no tensor '", param.name, "' to bind (the artifact binds it: ",
          dtypeName(param.dtype), " ", formatShape(param.shape), ")"));
    const Tensor &t = it->second;
    if (t.dtype() != param.dtype || t.shape() != param.shape)
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", param.name, "' is ", dtypeName(t.dtype()),
                       " ", formatShape(t.shape()), ", the artifact expects ",
                       dtypeName(param.dtype), " ", formatShape(param.shape)));
    params_[param.buffer] = t;
  }
  cacheF32Weights();
  unused_.clear();
  bound_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>>
Program::execute(const PreparedStep &ps, const std::vector<Tensor> &v) const {
  const artifact::Step &s = *ps.step;
  auto arg = [&](size_t i) -> const Tensor & { return v[s.operands[i]]; };
  switch (ps.kind) {
  case OpKind::kRmsNormGrad:
    return rmsNormGrad(arg(0), arg(1), arg(2), ps.number);
  case OpKind::kAttentionGrad:
    return attentionGrad(arg(0), arg(1), arg(2), arg(3), arg(4), ps.number,
                         ps.flagA);
  case OpKind::kSwigluGrad:
    return swigluGrad(arg(0), arg(1), arg(2));
  case OpKind::kSplit:
    return split(arg(0), ps.integer, ps.list1);
  case OpKind::kAdamw:
    return adamw(arg(0), arg(1), arg(2), arg(3), arg(4));
  case OpKind::kKernel:
    return launch(ps, v);
  case OpKind::kFp8Quantize:
    return fp8Quantize(arg(0), buffers_[s.results[0]].dtype, ps.layoutA,
                       s.results.size() == 4 ? std::optional(ps.layoutB)
                                             : std::nullopt,
                       ps.scaleMode, ps.scaleMethod);
  default: {
    absl::StatusOr<Tensor> one = run1(ps, v);
    if (!one.ok())
      return one.status();
    std::vector<Tensor> out;
    out.push_back(std::move(*one));
    return out;
  }
  }
}

absl::StatusOr<Tensor> Program::run1(const PreparedStep &ps,
                                     const std::vector<Tensor> &v) const {
  const artifact::Step &s = *ps.step;
  auto arg = [&](size_t i) -> const Tensor & { return v[s.operands[i]]; };
  const artifact::Buffer &result = buffers_[s.results[0]];
  switch (ps.kind) {
  case OpKind::kEmbedding:
    return embedding(arg(0), arg(1));
  case OpKind::kLinear: {
    auto f32 = f32Weights_.find(s.operands[1]);
    const Tensor &w = f32 != f32Weights_.end() ? f32->second : arg(1);
    return linear(arg(0), w, s.operands.size() > 2 ? &arg(2) : nullptr,
                  result.dtype);
  }
  case OpKind::kMatmul:
    return matmul(arg(0), arg(1), ps.flagA, ps.flagB, result.dtype);
  case OpKind::kFp8Dequantize:
    return fp8Dequantize(arg(0), arg(1), ps.layoutA, result.dtype);
  case OpKind::kFp8ScaledMatmul:
    return fp8ScaledMatmul(arg(0), arg(1), ps.layoutA, ps.flagA, arg(2), arg(3),
                           ps.layoutB, ps.flagB, result.dtype);
  case OpKind::kRmsNorm:
    return rmsNorm(arg(0), arg(1), ps.number, result.dtype);
  case OpKind::kRope:
    return rope(arg(0), arg(1), ps.number, ps.ropeStyle);
  case OpKind::kAttention:
    return attention(arg(0), arg(1), arg(2), arg(3), ps.number, ps.flagA);
  case OpKind::kCrossEntropy:
    return crossEntropy(arg(0), arg(1), arg(2));
  case OpKind::kUnary:
    return unary(ps.unary, arg(0));
  case OpKind::kSwiglu:
    return swiglu(arg(0), arg(1));
  case OpKind::kBinary:
    return binary(ps.binary, arg(0), arg(1));
  case OpKind::kReduce:
    return reduce(ps.reduce, arg(0), ps.list1, ps.flagA);
  case OpKind::kCast:
    return cast(arg(0), result.dtype);
  case OpKind::kReshape:
    return reshape(arg(0), result.shape);
  case OpKind::kTranspose:
    return transpose(arg(0), ps.list1);
  case OpKind::kBroadcast:
    return broadcast(arg(0), ps.list1, result.shape,
                     s.operands.size() > 1 ? &arg(1) : nullptr);
  case OpKind::kSlice:
    return slice(arg(0), ps.list1, ps.list2, ps.list3);
  case OpKind::kConcat: {
    std::vector<const Tensor *> inputs;
    for (size_t i = 0; i < s.operands.size(); ++i)
      inputs.push_back(&arg(i));
    return concat(inputs, ps.integer);
  }
  case OpKind::kSplat:
    return splat(result.dtype, result.shape, ps.number);
  case OpKind::kEmbeddingGrad:
    return embeddingGrad(arg(0), arg(1), ps.integer);
  case OpKind::kRopeGrad:
    return ropeGrad(arg(0), arg(1), ps.number, ps.ropeStyle);
  case OpKind::kCrossEntropyGrad:
    return crossEntropyGrad(arg(0), arg(1), arg(2), arg(3));
  case OpKind::kSiluGrad:
    return siluGrad(arg(0), arg(1));
  default:
    break;
  }
  return absl::InternalError("unhandled op kind");
}

absl::StatusOr<std::vector<Tensor>>
Program::launch(const PreparedStep &ps, const std::vector<Tensor> &v) const {
  const artifact::Step &s = *ps.step;
  const artifact::Kernel &k = *ps.kernel;
  std::vector<std::vector<int64_t>> shapes;
  for (int64_t id : s.operands)
    shapes.push_back(v[id].shape());
  absl::StatusOr<int64_t> rows = kernels::launchRows(k, shapes);
  if (!rows.ok())
    return rows.status();
  // The generated code takes every dynamic size to be the row count.
  for (size_t i = 0; i < s.operands.size(); ++i) {
    const std::vector<int64_t> &declared = buffers_[s.operands[i]].shape;
    for (size_t d = 0; d < declared.size(); ++d)
      if (declared[d] == -1 && shapes[i][d] != *rows)
        return absl::InvalidArgumentError(
            absl::StrCat("operand ", i, " is ", formatShape(shapes[i]),
                         "; the kernel needs every dynamic size equal to its ",
                         *rows, " rows"));
  }
  std::vector<Tensor> results;
  std::vector<uint64_t> args;
  for (int64_t id : s.operands)
    args.push_back(reinterpret_cast<uint64_t>(v[id].raw()));
  for (size_t i = 0; i < s.results.size(); ++i) {
    results.push_back(Tensor::empty(buffers_[s.results[i]].dtype,
                                    kernels::resultShape(k, i, *rows)));
    args.push_back(reinterpret_cast<uint64_t>(results.back().raw()));
  }
  const kernels::LaunchShape launch =
      kernels::launchShape(k, *rows, kCpuMaxGrid);
  std::vector<int64_t> workspace((launch.workspaceBytes + 7) / 8, 0);
  args.push_back(static_cast<uint64_t>(*rows));
  args.push_back(reinterpret_cast<uint64_t>(
      workspace.empty() ? nullptr : workspace.data()));
  ps.fn(args.data(), launch.grid, k.smemBytes);
  if (!workspace.empty())
    if (absl::Status e = kernels::workspaceError(k, workspace.data(), "");
        !e.ok())
      return e;
  return results;
}

std::string RunProfile::format() const {
  std::vector<std::pair<std::string, Entry>> rows(byOp.begin(), byOp.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.seconds > b.second.seconds;
  });
  double total = 0;
  for (const auto &row : rows)
    total += row.second.seconds;
  std::string out = absl::StrFormat("%-22s %6s %10s %6s\n", "op", "steps",
                                    "seconds", "share");
  for (const auto &[op, e] : rows)
    absl::StrAppendFormat(&out, "%-22s %6d %10.4f %5.1f%%\n", op, e.steps,
                          e.seconds, total > 0 ? 100 * e.seconds / total : 0);
  absl::StrAppendFormat(&out, "%-22s %6s %10.4f\n", "total", "", total);
  return out;
}

absl::StatusOr<std::map<std::string, Tensor>>
Program::run(const std::map<std::string, Tensor> &inputs,
             RunProfile *profile) const {
  if (!bound_ && !entry_.parameters.empty())
    return absl::FailedPreconditionError(
        "the program's parameters are not bound (bindParameters)");
  std::vector<Tensor> values(buffers_.size());
  for (const artifact::Parameter &param : entry_.parameters)
    values[param.buffer] = params_[param.buffer];
  for (const artifact::Binding &in : entry_.inputs) {
    auto it = inputs.find(in.name);
    if (it == inputs.end())
      return absl::InvalidArgumentError(
          absl::StrCat("input '", in.name, "' is missing"));
    const artifact::Buffer &b = buffers_[in.buffer];
    if (it->second.dtype() != b.dtype ||
        !staticShapeMatches(b.shape, it->second.shape()))
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", in.name, "' is ", dtypeName(it->second.dtype()), " ",
          formatShape(it->second.shape()), "; the artifact expects ",
          dtypeName(b.dtype), " ", formatShape(b.shape), " (-1: any size)"));
    values[in.buffer] = it->second;
  }
  for (const auto &[name, t] : inputs) {
    bool known = false;
    for (const artifact::Binding &in : entry_.inputs)
      known |= in.name == name;
    if (!known)
      return absl::InvalidArgumentError(absl::StrCat(
          "'", name, "' is not an input of entry point '", entry_.name, "'"));
  }
  for (const PreparedStep &ps : steps_) {
    const artifact::Step &s = *ps.step;
    absl::StatusOr<std::vector<Tensor>> out = absl::InternalError("not run");
    const auto start = std::chrono::steady_clock::now();
    try {
      out = execute(ps, values);
    } catch (const std::bad_alloc &) {
      return absl::ResourceExhaustedError(
          absl::StrCat(where(s, ps.index), ": out of memory for its result (",
                       dtypeName(buffers_[s.results[0]].dtype), " ",
                       formatShape(buffers_[s.results[0]].shape), ")"));
    }
    if (profile) {
      RunProfile::Entry &e = profile->byOp[s.op];
      e.steps += 1;
      e.seconds += std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    }
    if (!out.ok())
      return absl::Status(
          out.status().code(),
          absl::StrCat(where(s, ps.index), ": ", out.status().message()));
    if (out->size() != s.results.size())
      return absl::InternalError(absl::StrCat(where(s, ps.index), ": produced ",
                                              out->size(), " results"));
    for (size_t r = 0; r < s.results.size(); ++r) {
      const artifact::Buffer &b = buffers_[s.results[r]];
      const Tensor &t = (*out)[r];
      if (t.dtype() != b.dtype || !staticShapeMatches(b.shape, t.shape()))
        return absl::InternalError(absl::StrCat(
            where(s, ps.index), ": result ", r, " is ", dtypeName(t.dtype()),
            " ", formatShape(t.shape()), " where the artifact declares ",
            dtypeName(b.dtype), " ", formatShape(b.shape)));
      if (profile && profile->recordShapes)
        profile->shapes[s.results[r]] = t.shape();
      values[s.results[r]] = std::move((*out)[r]);
    }
    for (int64_t id : s.free)
      values[id] = Tensor();
  }
  std::map<std::string, Tensor> outputs;
  for (const artifact::Binding &o : entry_.outputs)
    outputs[o.name] = values[o.buffer];
  return outputs;
}
} // namespace infir2::cpu
