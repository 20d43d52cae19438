//===- manifest.cc - The executable artifact's manifest -------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/manifest.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace infir2::artifact {
namespace {
using nlohmann::json;

/// Typed access to the JSON tree; the first error, with the path of the
/// offending field, is kept and every later access is a no-op.
class Reader {
public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  bool ok() const { return error_.empty(); }
  absl::Status status() const {
    return ok() ? absl::OkStatus()
                : absl::InvalidArgumentError(
                      absl::StrCat(source_, ": ", error_));
  }
  void fail(const std::string &path, const std::string &what) {
    if (ok())
      error_ = absl::StrCat(path, ": ", what);
  }

  const json *field(const json &obj, const std::string &path, const char *key) {
    if (!ok())
      return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      fail(path, absl::StrCat("missing field '", key, "'"));
      return nullptr;
    }
    return &*it;
  }
  std::string str(const json &obj, const std::string &path, const char *key) {
    const json *v = field(obj, path, key);
    if (v && !v->is_string())
      fail(absl::StrCat(path, ".", key), "expected a string");
    return ok() ? v->get<std::string>() : std::string();
  }
  int64_t integer(const json &v, const std::string &path) {
    if (!ok())
      return 0;
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail(path, "integer out of range");
      return 0;
    }
    if (v.is_number_integer())
      return v.get<int64_t>();
    fail(path, "expected an integer");
    return 0;
  }
  int64_t integer(const json &obj, const std::string &path, const char *key) {
    const json *v = field(obj, path, key);
    return v ? integer(*v, absl::StrCat(path, ".", key)) : 0;
  }
  const json *array(const json &obj, const std::string &path, const char *key) {
    const json *v = field(obj, path, key);
    if (v && !v->is_array()) {
      fail(absl::StrCat(path, ".", key), "expected an array");
      return nullptr;
    }
    return ok() ? v : nullptr;
  }
  const json *object(const json &v, const std::string &path) {
    if (ok() && !v.is_object())
      fail(path, "expected an object");
    return ok() ? &v : nullptr;
  }
  std::vector<int64_t> ints(const json &obj, const std::string &path,
                            const char *key) {
    std::vector<int64_t> out;
    const json *v = array(obj, path, key);
    if (!v)
      return out;
    for (size_t i = 0; i < v->size() && ok(); ++i)
      out.push_back(
          integer((*v)[i], absl::StrCat(path, ".", key, "[", i, "]")));
    return out;
  }
  DType dtype(const json &obj, const std::string &path) {
    std::string name = str(obj, path, "dtype");
    if (!ok())
      return DType::kF32;
    std::optional<DType> d = parseDType(name);
    if (!d)
      fail(absl::StrCat(path, ".dtype"),
           absl::StrCat("unknown dtype '", name,
                        "' (known: ", knownDTypeNames(), ")"));
    return d.value_or(DType::kF32);
  }

private:
  std::string source_;
  std::string error_;
};

std::optional<AttrValue> attrValue(const json &v) {
  if (v.is_boolean())
    return AttrValue(v.get<bool>());
  if (v.is_number_integer())
    return AttrValue(v.get<int64_t>());
  if (v.is_number_float())
    return AttrValue(v.get<double>());
  if (v.is_string())
    return AttrValue(v.get<std::string>());
  if (v.is_array()) {
    std::vector<int64_t> list;
    for (const json &e : v) {
      if (!e.is_number_integer())
        return std::nullopt;
      list.push_back(e.get<int64_t>());
    }
    return AttrValue(std::move(list));
  }
  if (v.is_object() && v.size() == 1 && v.contains("splat")) {
    const json &x = v["splat"];
    if (x.is_number())
      return AttrValue(Splat{x.get<double>()});
    // JSON has no infinities or NaN; the writer spells them.
    if (x == "inf" || x == "-inf" || x == "nan")
      return AttrValue(Splat{x == "nan"   ? std::nan("")
                             : x == "inf" ? HUGE_VAL
                                          : -HUGE_VAL});
  }
  return std::nullopt;
}
} // namespace

const AttrValue *Step::attr(const std::string &key) const {
  auto it = attrs.find(key);
  return it == attrs.end() ? nullptr : &it->second;
}

const EntryPoint *Manifest::entryPoint(const std::string &name) const {
  for (const EntryPoint &e : entryPoints)
    if (e.name == name)
      return &e;
  return nullptr;
}

absl::StatusOr<Manifest> parseManifest(const std::string &text,
                                       const std::string &source) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat(source, ": not valid JSON"));
  if (!root.is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the manifest is not a JSON object"));
  Reader r(source);
  Manifest m;
  std::string schema = r.str(root, "manifest", "schema");
  if (r.ok() && schema != kSchemaName)
    r.fail("manifest.schema",
           absl::StrCat("'", schema, "' is not '", kSchemaName, "'"));
  const int64_t version = r.integer(root, "manifest", "version");
  m.version = static_cast<int>(std::clamp<int64_t>(version, -1, INT32_MAX));
  if (r.ok() && version != kSchemaVersion)
    r.fail("manifest.version",
           absl::StrCat("schema version ", version,
                        " is not the version this runtime reads (",
                        kSchemaVersion,
                        "); recompile the artifact with this release's "
                        "infir2c, or delete the cache entry"));
  m.producer = r.str(root, "manifest", "producer");
  m.target = r.str(root, "manifest", "target");
  m.precision = r.str(root, "manifest", "precision");
  if (const json *model = r.field(root, "manifest", "model");
      model && r.object(*model, "manifest.model")) {
    m.modelFamily = r.str(*model, "manifest.model", "family");
    m.modelConfig = r.str(*model, "manifest.model", "config");
    m.modelKey = r.str(*model, "manifest.model", "key");
  }

  if (const json *buffers = r.array(root, "manifest", "buffers")) {
    for (size_t i = 0; i < buffers->size() && r.ok(); ++i) {
      std::string path = absl::StrCat("buffers[", i, "]");
      if (!r.object((*buffers)[i], path))
        break;
      Buffer b;
      b.id = r.integer((*buffers)[i], path, "id");
      b.dtype = r.dtype((*buffers)[i], path);
      b.shape = r.ints((*buffers)[i], path, "shape");
      if (r.ok() && b.id != static_cast<int64_t>(i))
        r.fail(path + ".id", absl::StrCat("is ", b.id, ", expected ", i,
                                          " (ids are dense and in order)"));
      std::vector<int64_t> staticDims;
      for (int64_t d : b.shape) {
        if (r.ok() && d < -1)
          r.fail(path + ".shape", "dimensions are >= 0, or -1 for dynamic");
        if (d >= 0)
          staticDims.push_back(d);
      }
      // Static sizes must fit a 64-bit byte count (2^62 bytes).
      std::optional<int64_t> count = elementCount(staticDims);
      if (r.ok() && (!count || *count > (int64_t{1} << 62) / 8))
        r.fail(path + ".shape", "is too large");
      m.buffers.push_back(std::move(b));
    }
  }
  const int64_t numBuffers = static_cast<int64_t>(m.buffers.size());

  // Generated kernels (absent when nothing was fused).
  std::map<std::string, int64_t> kernelIndex;
  if (root.contains("kernels") && r.object(root["kernels"], "kernels")) {
    const json &kj = root["kernels"];
    m.kernelSource = r.str(kj, "kernels", "source");
    if (r.ok() && (m.kernelSource.empty() || m.kernelSource[0] == '/' ||
                   m.kernelSource.find("..") != std::string::npos))
      r.fail("kernels.source", "must be a path inside the artifact");
    const json *list = r.array(kj, "kernels", "list");
    for (size_t i = 0; list && i < list->size() && r.ok(); ++i) {
      std::string path = absl::StrCat("kernels.list[", i, "]");
      const json &k = (*list)[i];
      if (!r.object(k, path))
        break;
      Kernel kern;
      kern.name = r.str(k, path, "name");
      kern.label = r.str(k, path, "label");
      kern.schedule = r.str(k, path, "schedule");
      if (r.ok() && kern.schedule != "rows" && kern.schedule != "row_tiles" &&
          kern.schedule != "blocks")
        r.fail(path + ".schedule",
               absl::StrCat("'", kern.schedule,
                            "' is not rows, row_tiles or blocks"));
      if (const json *ops = r.array(k, path, "ops"))
        for (size_t j = 0; j < ops->size() && r.ok(); ++j) {
          if (!(*ops)[j].is_string())
            r.fail(absl::StrCat(path, ".ops[", j, "]"), "expected a string");
          else
            kern.ops.push_back((*ops)[j].get<std::string>());
        }
      kern.inputs = r.integer(k, path, "inputs");
      auto dtypes = [&](const char *key, std::vector<DType> &out) {
        const json *list = r.array(k, path, key);
        for (size_t j = 0; list && j < list->size() && r.ok(); ++j) {
          std::string name = (*list)[j].is_string()
                                 ? (*list)[j].get<std::string>()
                                 : std::string();
          std::optional<DType> d = parseDType(name);
          if (!d)
            r.fail(absl::StrCat(path, ".", key, "[", j, "]"),
                   absl::StrCat("'", name, "' is not a dtype (known: ",
                                knownDTypeNames(), ")"));
          else
            out.push_back(*d);
        }
      };
      dtypes("input_dtypes", kern.inputDtypes);
      dtypes("result_dtypes", kern.resultDtypes);
      kern.blockThreads = r.integer(k, path, "block_threads");
      kern.rowsPerBlock = r.integer(k, path, "rows_per_block");
      kern.colBlocks = r.integer(k, path, "col_blocks");
      kern.smemBytes = r.integer(k, path, "smem_bytes");
      kern.workspacePerBlock = r.integer(k, path, "workspace_per_block");
      kern.bytesPerRow = r.integer(k, path, "bytes_per_row");
      kern.staticBytes = r.integer(k, path, "static_bytes");
      if (const json *ws = r.field(k, path, "workspace"); ws && r.ok()) {
        if (!ws->is_boolean())
          r.fail(path + ".workspace", "expected a bool");
        else
          kern.workspace = ws->get<bool>();
      }
      if (const json *rows = r.field(k, path, "rows");
          rows && r.object(*rows, path + ".rows")) {
        kern.staticRows = r.integer(*rows, path + ".rows", "static");
        kern.rowsInput = r.integer(*rows, path + ".rows", "input");
        kern.rowsDim = r.integer(*rows, path + ".rows", "dim");
      }
      if (r.ok() && kern.smemBytes > kMaxKernelSharedMemory)
        r.fail(path + ".smem_bytes",
               absl::StrCat(kern.smemBytes, " is more than a block gets (",
                            kMaxKernelSharedMemory, ")"));
      if (r.ok() &&
          (kern.blockThreads < 1 || kern.blockThreads > 1024 ||
           kern.rowsPerBlock < 1 || kern.colBlocks < 1 || kern.smemBytes < 0 ||
           kern.workspacePerBlock < 0 || kern.inputs < 0 ||
           (kern.staticRows < 0 &&
            (kern.rowsInput < 0 || kern.rowsInput >= kern.inputs ||
             kern.rowsDim < 0))))
        r.fail(path, "launch fields out of range (threads 1..1024, rows from "
                     "a static count or an input dimension)");
      if (const json *shapes = r.array(k, path, "result_shapes"))
        for (size_t j = 0; j < shapes->size() && r.ok(); ++j) {
          std::string spath = absl::StrCat(path, ".result_shapes[", j, "]");
          if (!(*shapes)[j].is_array()) {
            r.fail(spath, "expected an array");
            break;
          }
          std::vector<KernelDim> dims;
          for (const json &d : (*shapes)[j]) {
            KernelDim dim;
            if (d.is_number_integer() && d.get<int64_t>() >= 0)
              dim.value = d.get<int64_t>();
            else if (d == "T")
              dim.rowsDiv = 1;
            else if (d.is_string() &&
                     d.get<std::string>().rfind("T/", 0) == 0 &&
                     std::atoll(d.get<std::string>().c_str() + 2) > 0)
              dim.rowsDiv = std::atoll(d.get<std::string>().c_str() + 2);
            else
              r.fail(spath, "dimensions are sizes >= 0, \"T\" or \"T/<n>\"");
            dims.push_back(dim);
          }
          kern.resultShapes.push_back(std::move(dims));
        }
      if (r.ok() &&
          (static_cast<int64_t>(kern.inputDtypes.size()) != kern.inputs ||
           kern.resultDtypes.size() != kern.resultShapes.size()))
        r.fail(path, "input_dtypes and result_dtypes need one entry per input "
                     "and per result");
      if (r.ok() && k.contains("resources")) {
        const json &res = k["resources"];
        if (r.object(res, path + ".resources"))
          for (auto it = res.begin(); it != res.end() && r.ok(); ++it) {
            std::string rpath = absl::StrCat(path, ".resources.", it.key());
            if (!r.object(it.value(), rpath))
              break;
            KernelResources kr;
            kr.arch = it.key();
            kr.registers = r.integer(it.value(), rpath, "registers");
            kr.stackBytes = r.integer(it.value(), rpath, "stack_bytes");
            kr.spillStores = r.integer(it.value(), rpath, "spill_stores");
            kr.spillLoads = r.integer(it.value(), rpath, "spill_loads");
            kr.staticSmem = r.integer(it.value(), rpath, "static_smem");
            kern.resources.push_back(kr);
          }
      }
      if (r.ok() && !kernelIndex.emplace(kern.name, m.kernels.size()).second)
        r.fail(path + ".name", absl::StrCat("kernel '", kern.name, "' twice"));
      m.kernels.push_back(std::move(kern));
    }
  }

  const json *entries = r.array(root, "manifest", "entry_points");
  for (size_t e = 0; entries && e < entries->size() && r.ok(); ++e) {
    const std::string epath = absl::StrCat("entry_points[", e, "]");
    const json &ej = (*entries)[e];
    if (!r.object(ej, epath))
      break;
    EntryPoint ep;
    ep.name = r.str(ej, epath, "name");
    std::vector<bool> defined(numBuffers, false), external(numBuffers, false);
    std::map<int64_t, std::string> freedAt; // buffer -> the step that freed it
    auto checkId = [&](int64_t id, const std::string &path) {
      if (r.ok() && (id < 0 || id >= numBuffers))
        r.fail(path, absl::StrCat("buffer ", id, " does not exist (there are ",
                                  numBuffers, ")"));
      return r.ok();
    };
    auto define = [&](int64_t id, const std::string &path) {
      if (!checkId(id, path))
        return;
      if (defined[id])
        r.fail(path, absl::StrCat("buffer ", id, " is defined twice"));
      else
        defined[id] = true;
    };
    auto use = [&](int64_t id, const std::string &path) {
      if (checkId(id, path) && !defined[id])
        r.fail(path, absl::StrCat("buffer ", id,
                                  " is read before it is "
                                  "defined"));
      else if (r.ok() && freedAt.count(id))
        r.fail(path, absl::StrCat("buffer ", id, " is read after ", freedAt[id],
                                  " freed it"));
    };
    auto bindings = [&](const char *key, std::vector<Binding> &out,
                        bool defines) {
      const json *list = r.array(ej, epath, key);
      for (size_t i = 0; list && i < list->size() && r.ok(); ++i) {
        std::string path = absl::StrCat(epath, ".", key, "[", i, "]");
        if (!r.object((*list)[i], path))
          return;
        Binding b{r.str((*list)[i], path, "name"),
                  r.integer((*list)[i], path, "buffer")};
        if (defines) {
          define(b.buffer, path + ".buffer");
          if (r.ok())
            external[b.buffer] = true;
        }
        out.push_back(std::move(b));
      }
    };
    bindings("inputs", ep.inputs, /*defines=*/true);
    if (const json *params = r.array(ej, epath, "parameters")) {
      for (size_t i = 0; i < params->size() && r.ok(); ++i) {
        std::string path = absl::StrCat(epath, ".parameters[", i, "]");
        const json &pj = (*params)[i];
        if (!r.object(pj, path))
          break;
        Parameter p;
        p.name = r.str(pj, path, "name");
        p.buffer = r.integer(pj, path, "buffer");
        p.dtype = r.dtype(pj, path);
        p.shape = r.ints(pj, path, "shape");
        define(p.buffer, path + ".buffer");
        if (r.ok())
          external[p.buffer] = true;
        if (r.ok() && (m.buffers[p.buffer].dtype != p.dtype ||
                       m.buffers[p.buffer].shape != p.shape))
          r.fail(path, absl::StrCat("dtype/shape differ from buffer ", p.buffer,
                                    "'s"));
        for (int64_t d : p.shape)
          if (r.ok() && d < 0)
            r.fail(path + ".shape", "parameter shapes are static");
        ep.parameters.push_back(std::move(p));
      }
    }
    if (const json *steps = r.array(ej, epath, "steps")) {
      for (size_t i = 0; i < steps->size() && r.ok(); ++i) {
        std::string path = absl::StrCat(epath, ".steps[", i, "]");
        const json &sj = (*steps)[i];
        if (!r.object(sj, path))
          break;
        Step s;
        s.kind = r.str(sj, path, "kind");
        if (r.ok() && s.kind != "op" && s.kind != "kernel")
          r.fail(path + ".kind",
                 absl::StrCat("step kind '", s.kind,
                              "' is unknown to this runtime (schema version ",
                              kSchemaVersion, " has: op, kernel)"));
        if (s.kind == "kernel") {
          std::string name = r.str(sj, path, "kernel");
          auto it = kernelIndex.find(name);
          if (r.ok() && it == kernelIndex.end())
            r.fail(path + ".kernel",
                   absl::StrCat("no kernel '", name, "' in kernels.list"));
          if (r.ok())
            s.kernel = it->second;
          s.op = "kernel " + name;
        } else {
          s.op = r.str(sj, path, "op");
        }
        if (r.ok() && sj.contains("name")) {
          if (!sj["name"].is_string())
            r.fail(path + ".name", "expected a string");
          else
            s.name = sj["name"].get<std::string>();
        }
        s.operands = r.ints(sj, path, "operands");
        s.results = r.ints(sj, path, "results");
        s.free = r.ints(sj, path, "free");
        for (int64_t id : s.operands)
          use(id, path + ".operands");
        for (int64_t id : s.results)
          define(id, path + ".results");
        if (r.ok() && s.kernel >= 0) {
          const Kernel &k = m.kernels[s.kernel];
          if (static_cast<int64_t>(s.operands.size()) != k.inputs ||
              s.results.size() != k.resultShapes.size())
            r.fail(path,
                   absl::StrCat("kernel '", k.name, "' takes ", k.inputs,
                                " operands and makes ", k.resultShapes.size(),
                                " results, not ", s.operands.size(), " and ",
                                s.results.size()));
          // The argument block's pointer types are the buffers' dtypes.
          auto sameTypes = [&](const std::vector<int64_t> &ids,
                               const std::vector<DType> &types,
                               const char *what, const char *verb) {
            for (size_t j = 0; j < ids.size() && r.ok(); ++j)
              if (m.buffers[ids[j]].dtype != types[j])
                r.fail(absl::StrCat(path, ".", what, "[", j, "]"),
                       absl::StrCat("buffer ", ids[j], " is ",
                                    dtypeName(m.buffers[ids[j]].dtype),
                                    ", kernel '", k.name, "' ", verb, " ",
                                    dtypeName(types[j])));
          };
          sameTypes(s.operands, k.inputDtypes, "operands", "reads");
          sameTypes(s.results, k.resultDtypes, "results", "writes");
          for (size_t j = 0; j < s.results.size() && r.ok(); ++j) {
            const std::vector<int64_t> &shape = m.buffers[s.results[j]].shape;
            const std::vector<KernelDim> &dims = k.resultShapes[j];
            bool fits = shape.size() == dims.size();
            for (size_t d = 0; fits && d < dims.size(); ++d)
              fits =
                  dims[d].rowsDiv ? shape[d] == -1 : shape[d] == dims[d].value;
            if (!fits)
              r.fail(absl::StrCat(path, ".results[", j, "]"),
                     absl::StrCat("buffer ", s.results[j],
                                  " does not have the shape kernel '", k.name,
                                  "' makes"));
          }
        }
        for (int64_t id : s.free) {
          use(id, path + ".free");
          if (r.ok() && external[id])
            r.fail(path + ".free",
                   absl::StrCat("buffer ", id,
                                " is an input or a parameter, which the "
                                "caller owns"));
          if (r.ok())
            freedAt[id] = path;
        }
        if (s.kind == "kernel") {
          ep.steps.push_back(std::move(s));
          continue;
        }
        if (const json *attrs = r.field(sj, path, "attrs");
            attrs && r.object(*attrs, path + ".attrs")) {
          for (auto it = attrs->begin(); it != attrs->end() && r.ok(); ++it) {
            std::optional<AttrValue> v = attrValue(it.value());
            if (!v)
              r.fail(absl::StrCat(path, ".attrs.", it.key()),
                     "expected a number, bool, string, integer list or "
                     "{\"splat\": number | \"inf\" | \"-inf\" | \"nan\"}");
            else
              s.attrs.emplace(it.key(), std::move(*v));
          }
        }
        ep.steps.push_back(std::move(s));
      }
    }
    bindings("outputs", ep.outputs, /*defines=*/false);
    for (size_t i = 0; i < ep.outputs.size() && r.ok(); ++i)
      use(ep.outputs[i].buffer,
          absl::StrCat(epath, ".outputs[", i, "].buffer"));
    std::set<std::string> names;
    for (const Binding &b : ep.inputs)
      if (r.ok() && !names.insert(b.name).second)
        r.fail(epath + ".inputs", absl::StrCat("'", b.name, "' twice"));
    if (r.ok() && m.entryPoint(ep.name))
      r.fail(epath + ".name",
             absl::StrCat("entry point '", ep.name, "' twice"));
    m.entryPoints.push_back(std::move(ep));
  }
  if (!r.ok())
    return r.status();
  return m;
}

absl::StatusOr<Manifest> loadManifest(const std::string &dir) {
  const std::string path = dir + "/manifest.json";
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot open; is ", dir,
        " an artifact directory (written by infir2c --emit artifact)?"));
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<Manifest> m = parseManifest(text.str(), path);
  if (m.ok())
    m->dir = dir;
  return m;
}
} // namespace infir2::artifact
