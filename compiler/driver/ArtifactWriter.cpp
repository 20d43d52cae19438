//===- ArtifactWriter.cpp - Write the executable artifact manifest --------===//
//
// Part of infir2.
//
// Built with LLVM's -fno-exceptions: the JSON is assembled with
// nlohmann::ordered_json from ASCII strings only, which cannot throw.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/ArtifactWriter.h"

#include <cmath>
#include <set>

#include "dialects/fp8/IR/Fp8Dialect.h"
#include "dialects/graph/IR/GraphOps.h"
#include "dialects/kernel/IR/KernelOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "nlohmann/json.hpp"
#include "runtime/artifact/schema.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::infir2 {
namespace {
using Json = nlohmann::ordered_json;

Json shapeJson(ArrayRef<int64_t> shape) {
  Json dims = Json::array();
  for (int64_t d : shape)
    dims.push_back(ShapedType::isDynamic(d) ? int64_t{-1} : d);
  return dims;
}

std::string printed(Attribute a) {
  std::string s;
  llvm::raw_string_ostream os(s);
  a.print(os);
  return s;
}

/// Inherent attributes as JSON: numbers, booleans, integer lists; anything
/// else (enums, recipes) as its printed form.
/// JSON has no infinities or NaN: those become "inf", "-inf", "nan".
Json number(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return v;
}

Json attrJson(Attribute a) {
  if (auto f = dyn_cast<FloatAttr>(a))
    return number(f.getValueAsDouble());
  if (auto b = dyn_cast<BoolAttr>(a))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(a))
    return i.getType().isSignlessInteger(1) ? Json(i.getValue().getBoolValue())
                                            : Json(i.getInt());
  if (isa<UnitAttr>(a))
    return true;
  if (auto style = dyn_cast<graph::RopeStyleAttr>(a))
    return graph::stringifyRopeStyle(style.getValue()).str();
  // fp8 layouts and enums by name ("1x128", "pow2_f32", "te", "weight").
  if (auto layout = dyn_cast<fp8::LayoutAttr>(a))
    return layout.str();
  if (auto rule = dyn_cast<fp8::ScaleRuleAttr>(a))
    return fp8::stringifyScaleRule(rule.getValue()).str();
  if (auto method = dyn_cast<fp8::QuantMethodAttr>(a))
    return fp8::stringifyQuantMethod(method.getValue()).str();
  if (auto role = dyn_cast<fp8::RoleAttr>(a))
    return fp8::stringifyRole(role.getValue()).str();
  if (auto s = dyn_cast<StringAttr>(a))
    return s.getValue().str();
  if (auto arr = dyn_cast<DenseI64ArrayAttr>(a)) {
    Json list = Json::array();
    for (int64_t v : arr.asArrayRef())
      list.push_back(v);
    return list;
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(a); dense && dense.isSplat()) {
    Type e = dense.getElementType();
    if (isa<FloatType>(e))
      return Json{
          {"splat", number(dense.getSplatValue<APFloat>().convertToDouble())}};
    if (isa<IntegerType>(e))
      return Json{{"splat", dense.getSplatValue<APInt>().getSExtValue()}};
  }
  return printed(a);
}

bool runtimeExecutes(Operation *op) {
  StringRef dialect = op->getName().getDialectNamespace();
  if (dialect == "graph" || dialect == "fp8")
    return true;
  // Splat constants (e.g. the -0.0 of a folded add) are filled in place.
  if (op->getName().getStringRef() == "arith.constant") {
    auto value = dyn_cast<DenseElementsAttr>(op->getAttr("value"));
    return value && value.isSplat();
  }
  return false;
}

Json dimJson(const codegen::Dim &d) {
  if (d.rowsDiv == 0)
    return d.value;
  return d.rowsDiv == 1 ? Json("T") : Json("T/" + std::to_string(d.rowsDiv));
}

Json kernelJson(const codegen::GeneratedKernel &k,
                const std::vector<KernelResources> *resources) {
  Json ops = Json::array(), shapes = Json::array(), in = Json::array(),
       out = Json::array();
  for (const std::string &o : k.ops)
    ops.push_back(o);
  for (const std::string &d : k.inputDtypes)
    in.push_back(d);
  for (const std::string &d : k.resultDtypes)
    out.push_back(d);
  for (const std::vector<codegen::Dim> &shape : k.resultShapes) {
    Json dims = Json::array();
    for (const codegen::Dim &d : shape)
      dims.push_back(dimJson(d));
    shapes.push_back(dims);
  }
  Json j = {
      {"name", k.name},
      {"label", k.label},
      {"ops", ops},
      {"schedule", kernel::stringifySchedule(k.schedule).str()},
      {"inputs", k.numInputs},
      {"input_dtypes", in},
      {"result_dtypes", out},
      {"block_threads", k.blockThreads},
      {"rows_per_block", k.rowsPerBlock},
      {"col_blocks", k.colBlocks},
      {"rows",
       {{"static", k.staticRows}, {"input", k.rowsInput}, {"dim", k.rowsDim}}},
      {"smem_bytes", k.smemBytes},
      {"workspace", k.needsWorkspace},
      {"workspace_per_block", k.workspacePerBlock},
      {"result_shapes", shapes},
      {"bytes_per_row", k.bytesPerRow},
      {"static_bytes", k.staticBytes}};
  if (resources) {
    Json res = Json::object();
    for (const KernelResources &r : *resources)
      res[r.arch] = {{"registers", r.registers},
                     {"stack_bytes", r.stackBytes},
                     {"spill_stores", r.spillStores},
                     {"spill_loads", r.spillLoads},
                     {"static_smem", r.staticSmem}};
    j["resources"] = res;
  }
  return j;
}

class Writer {
public:
  Writer(const ArtifactInfo &info, const KernelTable &kernels)
      : info_(info), kernels_(kernels) {}

  LogicalResult addEntry(func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("artifact entry points have one block");
    Json entry = {{"name", fn.getSymName().str()}};
    Json inputs = Json::array(), params = Json::array(),
         outputs = Json::array(), steps = Json::array();
    for (BlockArgument arg : fn.getArguments()) {
      std::optional<int64_t> id = define(arg, fn);
      if (!id)
        return failure();
      if (auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "graph.param")) {
        params.push_back({{"name", name.getValue().str()},
                          {"buffer", *id},
                          {"dtype", buffers_[*id]["dtype"]},
                          {"shape", buffers_[*id]["shape"]}});
      } else if (auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                             "graph.input")) {
        inputs.push_back({{"name", name.getValue().str()}, {"buffer", *id}});
      } else {
        return fn.emitError() << "argument " << arg.getArgNumber()
                              << " has neither a graph.input nor a "
                                 "graph.param name";
      }
    }

    Block &body = fn.front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    llvm::DenseSet<Value> returned(ret.getOperands().begin(),
                                   ret.getOperands().end());
    // Last step that reads each value.
    llvm::DenseMap<Value, int64_t> lastUse;
    int64_t index = 0;
    for (Operation &op : body.without_terminator()) {
      for (Value v : op.getOperands())
        lastUse[v] = index;
      ++index;
    }

    index = 0;
    for (Operation &op : body.without_terminator()) {
      if (auto fused = dyn_cast<kernel::FusedOp>(op)) {
        if (failed(addKernelStep(fused, lastUse, returned, index, steps)))
          return failure();
        ++index;
        continue;
      }
      if (!runtimeExecutes(&op))
        return op.emitOpError()
               << "has no runtime implementation; the artifact can hold "
                  "graph and fp8 ops and splat arith.constant ops";
      Json operands = Json::array(), results = Json::array(),
           attrs = Json::object(), dead = Json::array();
      for (Value v : op.getOperands())
        operands.push_back(ids_.lookup(v));
      for (Value v : op.getResults()) {
        std::optional<int64_t> id = define(v, &op);
        if (!id)
          return failure();
        results.push_back(*id);
        // A result nobody reads dies at once.
        if (!lastUse.count(v) && !returned.count(v))
          dead.push_back(*id);
      }
      for (NamedAttribute a : op.getAttrDictionary())
        attrs[a.getName().str()] = attrJson(a.getValue());
      for (Value v : op.getOperands())
        if (lastUse.lookup(v) == index && !returned.count(v) &&
            !isa<BlockArgument>(v) && freed_.insert(v).second)
          dead.push_back(ids_.lookup(v));
      Json step = {{"kind", "op"}, {"op", op.getName().getStringRef().str()}};
      if (auto name = dyn_cast<NameLoc>(op.getLoc()))
        step["name"] = name.getName().str();
      step["operands"] = operands;
      step["results"] = results;
      step["attrs"] = attrs;
      step["free"] = dead;
      steps.push_back(std::move(step));
      ++index;
    }
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      auto name = fn.getResultAttrOfType<StringAttr>(i, "graph.output");
      if (!name)
        return fn.emitError() << "result " << i << " has no graph.output name";
      outputs.push_back(
          {{"name", name.getValue().str()}, {"buffer", ids_.lookup(v)}});
    }
    entry["inputs"] = inputs;
    entry["parameters"] = params;
    entry["outputs"] = outputs;
    entry["steps"] = steps;
    entries_.push_back(entry);
    return success();
  }

  LogicalResult addKernelStep(kernel::FusedOp op,
                              const llvm::DenseMap<Value, int64_t> &lastUse,
                              const llvm::DenseSet<Value> &returned,
                              int64_t index, Json &steps) {
    auto it = kernels_.byOp.find(op);
    if (it == kernels_.byOp.end())
      return op.emitOpError() << "has no generated kernel";
    const codegen::GeneratedKernel &k = kernels_.kernels[it->second];
    usedKernels_.insert(k.name);
    Json operands = Json::array(), results = Json::array(),
         dead = Json::array();
    for (Value v : op.getOperands())
      operands.push_back(ids_.lookup(v));
    for (Value v : op.getResults()) {
      std::optional<int64_t> id = define(v, op.getOperation());
      if (!id)
        return failure();
      results.push_back(*id);
      if (!lastUse.count(v) && !returned.count(v))
        dead.push_back(*id);
    }
    for (Value v : op.getOperands())
      if (lastUse.lookup(v) == index && !returned.count(v) &&
          !isa<BlockArgument>(v) && freed_.insert(v).second)
        dead.push_back(ids_.lookup(v));
    Json step = {{"kind", "kernel"}, {"kernel", k.name}};
    if (auto name = dyn_cast<NameLoc>(op.getLoc()))
      step["name"] = name.getName().str();
    step["operands"] = operands;
    step["results"] = results;
    step["free"] = dead;
    steps.push_back(std::move(step));
    return success();
  }

  std::string dump() const {
    Json manifest = {{"schema", ::infir2::artifact::kSchemaName},
                     {"version", ::infir2::artifact::kSchemaVersion},
                     {"producer", std::string("infir2 ") + INFIR2_VERSION},
                     {"target", info_.target},
                     {"precision", info_.precision},
                     {"model",
                      {{"family", info_.family},
                       {"config", info_.config},
                       {"key", info_.key}}},
                     {"buffers", buffers_},
                     {"entry_points", entries_}};
    if (!usedKernels_.empty()) {
      Json list = Json::array();
      std::set<std::string> listed;
      for (const codegen::GeneratedKernel &k : kernels_.kernels) {
        if (!usedKernels_.count(k.name) || !listed.insert(k.name).second)
          continue;
        auto res = kernels_.resources.find(k.name);
        list.push_back(kernelJson(
            k, res == kernels_.resources.end() ? nullptr : &res->second));
      }
      manifest["kernels"] = {{"source", kernels_.source}, {"list", list}};
    }
    return manifest.dump(1) + "\n";
  }

private:
  /// Gives |v| a buffer; the buffer's type is v's tensor type.
  template <typename Where>
  std::optional<int64_t> define(Value v, Where where) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    std::optional<std::string> dtype =
        type ? codegen::runtimeDTypeName(type.getElementType()) : std::nullopt;
    if (!dtype) {
      where->emitError() << "value of type " << v.getType()
                         << " has no runtime buffer type";
      return std::nullopt;
    }
    int64_t id = static_cast<int64_t>(buffers_.size());
    ids_[v] = id;
    buffers_.push_back(
        {{"id", id}, {"dtype", *dtype}, {"shape", shapeJson(type.getShape())}});
    return id;
  }

  const ArtifactInfo &info_;
  const KernelTable &kernels_;
  std::set<std::string> usedKernels_;
  llvm::DenseMap<Value, int64_t> ids_;
  llvm::DenseSet<Value> freed_;
  Json buffers_ = Json::array();
  Json entries_ = Json::array();
};
} // namespace

FailureOr<KernelTable> generateKernels(ModuleOp module) {
  KernelTable table;
  table.source = "kernels/kernels.cu";
  std::map<std::string, size_t> byName;
  WalkResult r = module.walk([&](kernel::FusedOp op) {
    FailureOr<codegen::GeneratedKernel> k = codegen::generateKernel(op);
    if (failed(k))
      return WalkResult::interrupt();
    auto [it, fresh] = byName.emplace(k->name, table.kernels.size());
    if (fresh)
      table.kernels.push_back(std::move(*k));
    table.byOp[op] = it->second;
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  return table;
}

LogicalResult writeManifest(ModuleOp module, const ArtifactInfo &info,
                            const KernelTable &kernels, std::string &json) {
  Writer writer(info, kernels);
  for (auto fn : module.getOps<func::FuncOp>())
    if (fn.isPublic() && failed(writer.addEntry(fn)))
      return failure();
  json = writer.dump();
  return success();
}
} // namespace mlir::infir2
