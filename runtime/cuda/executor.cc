//===- executor.cc - Artifacts on the GPU ---------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/executor.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "runtime/cuda/cubin_cache.h"
#include "runtime/cuda/cublaslt_gemm.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/gemm_plan.h"
#include "runtime/kernels/launch.h"
#include "runtime/kernels/prelude_text.h"

// The library kernels' argument blocks and launch constants, from the
// kernel sources themselves (their host build: the prelude compiles as
// host C++), so that the layouts cannot drift apart.
// clang-format off
#include "runtime/kernels/prelude.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/embedding.h"
#include "runtime/kernels/layout.h"
// clang-format on

namespace infir2::cuda {
namespace {
namespace attn = infir2::attn;
namespace embed = infir2::embed;
namespace layout = infir2::layout;
constexpr int64_t kCublasWorkspace = int64_t{32} << 20;
constexpr int64_t kDefaultSmem = 48 * 1024;

void *ptr(CUdeviceptr p) { return reinterpret_cast<void *>(p); }
} // namespace

struct DeviceProgram::Impl {
  const DriverApi *api = nullptr;
  DeviceInfo info;
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  CUstream stream = nullptr;
  artifact::Manifest manifest;
  const artifact::EntryPoint *ep = nullptr;
  CUmodule kernels = nullptr, library = nullptr;
  std::vector<CUfunction> kernelFns; ///< by manifest kernel index
  std::map<std::string, CUfunction> libFns;
  std::map<int64_t, CUdeviceptr> params;
  CUdeviceptr arena = 0, outputs = 0, cublasWs = 0, errors = 0;
  int64_t arenaCap = 0, outputsCap = 0;
  std::unique_ptr<LtGemmRunner> gemm;
  int64_t maxGrid = 1056;

  absl::Status check(CUresult r, const std::string &what) const {
    return checkCu(*api, r, what);
  }
  ~Impl() {
    if (!api)
      return;
    gemm.reset();
    for (auto &[id, p] : params)
      api->cuMemFree(p);
    for (CUdeviceptr p : {arena, outputs, cublasWs, errors})
      if (p)
        api->cuMemFree(p);
    if (kernels)
      api->cuModuleUnload(kernels);
    if (library)
      api->cuModuleUnload(library);
    if (stream)
      api->cuStreamDestroy(stream);
    if (ctx)
      api->cuDevicePrimaryCtxRelease(dev);
  }

  absl::StatusOr<CUfunction> lib(const std::string &name, int64_t smem) {
    auto it = libFns.find(name);
    CUfunction f = nullptr;
    if (it == libFns.end()) {
      if (absl::Status s =
              check(api->cuModuleGetFunction(&f, library, name.c_str()),
                    absl::StrCat("cuModuleGetFunction(", name, ")"));
          !s.ok())
        return s;
      libFns[name] = f;
    } else {
      f = it->second;
    }
    if (smem > kDefaultSmem)
      if (absl::Status s =
              check(api->cuFuncSetAttribute(
                        f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        static_cast<int>(smem)),
                    "cuFuncSetAttribute");
          !s.ok())
        return s;
    return f;
  }

  absl::Status launch(CUfunction f, int64_t grid, int64_t threads, int64_t smem,
                      void *args, const std::string &what) {
    if (grid <= 0) // no rows (an empty batch): nothing to do
      return absl::OkStatus();
    void *params[] = {args};
    return check(api->cuLaunchKernel(f, static_cast<unsigned>(grid), 1, 1,
                                     static_cast<unsigned>(threads), 1, 1,
                                     static_cast<unsigned>(smem), stream,
                                     params, nullptr),
                 absl::StrCat("launching ", what));
  }

  absl::Status ensure(CUdeviceptr &p, int64_t &cap, int64_t bytes) {
    if (bytes <= cap && p)
      return absl::OkStatus();
    if (p)
      api->cuMemFree(p);
    p = 0;
    cap = 0;
    if (absl::Status s = check(
            api->cuMemAlloc(&p, std::max<int64_t>(bytes, 256)),
            absl::StrCat("cuMemAlloc of ", bytes, " bytes (the plan's arena)"));
        !s.ok())
      return s;
    cap = bytes;
    return absl::OkStatus();
  }
};

DeviceProgram::DeviceProgram(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
DeviceProgram::~DeviceProgram() = default;

absl::StatusOr<std::unique_ptr<DeviceProgram>>
DeviceProgram::create(const artifact::Manifest &manifest,
                      const std::string &entry) {
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<const DriverApi *> api = driver();
  if (!api.ok())
    return api.status();
  impl->api = *api;
  absl::StatusOr<DeviceInfo> info = deviceInfo(0);
  if (!info.ok())
    return info.status();
  impl->info = *info;
  impl->maxGrid = std::min<int64_t>(1056, info->multiprocessors * 8);
  Impl &m = *impl;
  for (absl::Status s : {m.check(m.api->cuDeviceGet(&m.dev, 0), "cuDeviceGet"),
                         m.check(m.api->cuDevicePrimaryCtxRetain(&m.ctx, m.dev),
                                 "cuDevicePrimaryCtxRetain")})
    if (!s.ok())
      return s;
  for (absl::Status s :
       {m.check(m.api->cuCtxSetCurrent(m.ctx), "cuCtxSetCurrent"),
        m.check(m.api->cuStreamCreate(&m.stream, CU_STREAM_NON_BLOCKING),
                "cuStreamCreate")})
    if (!s.ok())
      return s;
  m.manifest = manifest;
  m.ep = m.manifest.entryPoint(entry);
  if (!m.ep)
    return absl::NotFoundError(
        absl::StrCat("the artifact has no entry point '", entry, "'"));

  NvrtcOptions opt;
  opt.arch = info->arch();
  opt.fmad = false; // as the generated kernels are checked on the host
  opt.headers = {{kernels::kPreludeName, kernels::preludeText()}};
  auto load = [&](const std::string &source, const std::string &name,
                  CUmodule &module) -> absl::Status {
    absl::StatusOr<CachedCubin> cubin = compileCached(source, name, opt);
    if (!cubin.ok())
      return cubin.status();
    return m.check(m.api->cuModuleLoadData(&module, cubin->result.cubin.data()),
                   absl::StrCat("cuModuleLoadData(", name, ")"));
  };
  if (!m.manifest.kernels.empty()) {
    std::ifstream in(m.manifest.dir + "/" + m.manifest.kernelSource);
    std::stringstream text;
    text << in.rdbuf();
    if (!in)
      return absl::NotFoundError(absl::StrCat(
          m.manifest.dir, "/", m.manifest.kernelSource,
          ": cannot read the artifact's kernels; recompile the artifact"));
    if (absl::Status s = load(text.str(), m.manifest.kernelSource, m.kernels);
        !s.ok())
      return s;
    for (const artifact::Kernel &k : m.manifest.kernels) {
      CUfunction f = nullptr;
      if (absl::Status s =
              m.check(m.api->cuModuleGetFunction(&f, m.kernels, k.name.c_str()),
                      absl::StrCat("kernel ", k.name));
          !s.ok())
        return s;
      if (k.smemBytes > kDefaultSmem)
        if (absl::Status s =
                m.check(m.api->cuFuncSetAttribute(
                            f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            static_cast<int>(k.smemBytes)),
                        "cuFuncSetAttribute");
            !s.ok())
          return s;
      m.kernelFns.push_back(f);
    }
  }
  opt.headers.push_back({kernels::kAttentionName, kernels::attentionText()});
  opt.headers.push_back({kernels::kLayoutName, kernels::layoutText()});
  opt.headers.push_back({kernels::kEmbeddingName, kernels::embeddingText()});
  std::string libSource;
  for (const auto &[name, text] : opt.headers)
    libSource += absl::StrCat("#include \"", name, "\"\n");
  if (absl::Status s = load(libSource, "library_kernels.cu", m.library);
      !s.ok())
    return s;
  if (absl::Status s = m.check(m.api->cuMemAlloc(&m.cublasWs, kCublasWorkspace),
                               "cuMemAlloc (cuBLASLt workspace)");
      !s.ok())
    return s;
  if (absl::Status s = m.check(m.api->cuMemAlloc(&m.errors, 64),
                               "cuMemAlloc (error header)");
      !s.ok())
    return s;
  absl::StatusOr<std::unique_ptr<LtGemmRunner>> gemm =
      LtGemmRunner::create(m.cublasWs, kCublasWorkspace);
  if (!gemm.ok())
    return gemm.status();
  m.gemm = std::move(*gemm);
  return std::unique_ptr<DeviceProgram>(new DeviceProgram(std::move(impl)));
}

absl::Status DeviceProgram::bindParameters(const io::Checkpoint &checkpoint) {
  Impl &m = *impl_;
  if (absl::Status s =
          m.check(m.api->cuCtxSetCurrent(m.ctx), "cuCtxSetCurrent");
      !s.ok())
    return s;
  for (const artifact::Parameter &p : m.ep->parameters) {
    const io::TensorView *t = checkpoint.find(p.name);
    if (!t)
      return absl::NotFoundError(absl::StrCat(checkpoint.dir(),
                                              " has no tensor '", p.name,
                                              "' the artifact needs"));
    if (t->dtype != p.dtype || t->shape != p.shape)
      return absl::InvalidArgumentError(absl::StrCat(
          checkpoint.dir(), ": tensor '", p.name, "' is ", dtypeName(t->dtype),
          "; the artifact needs ", dtypeName(p.dtype),
          " with its shape (convert the checkpoint first)"));
    CUdeviceptr d = 0;
    if (auto it = m.params.find(p.buffer); it != m.params.end())
      d = it->second;
    else if (absl::Status s = m.check(m.api->cuMemAlloc(&d, t->nbytes),
                                      absl::StrCat("cuMemAlloc(", p.name, ")"));
             !s.ok())
      return s;
    m.params[p.buffer] = d;
    if (absl::Status s = m.check(m.api->cuMemcpyHtoD(d, t->data, t->nbytes),
                                 absl::StrCat("uploading ", p.name));
        !s.ok())
      return s;
  }
  // The uploads ran on the legacy stream, which run()'s non-blocking
  // stream does not wait for.
  return m.check(m.api->cuCtxSynchronize(), "uploading the parameters");
}

absl::StatusOr<std::map<std::string, HostTensor>>
DeviceProgram::run(const std::map<std::string, HostTensor> &inputs,
                   DeviceTiming *timing) {
  Impl &m = *impl_;
  if (absl::Status s =
          m.check(m.api->cuCtxSetCurrent(m.ctx), "cuCtxSetCurrent");
      !s.ok())
    return s;
  if (m.params.size() < m.ep->parameters.size())
    return absl::FailedPreconditionError(
        "the program's parameters are not bound (bindParameters)");
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto &[name, t] : inputs)
    shapes[name] = t.shape;
  absl::StatusOr<ExecPlan> planOr =
      planEntryPoint(m.manifest, m.ep->name, shapes);
  if (!planOr.ok())
    return planOr.status();
  const ExecPlan &plan = *planOr;
  for (absl::Status s : {m.ensure(m.arena, m.arenaCap, plan.arenaBytes),
                         m.ensure(m.outputs, m.outputsCap, plan.outputBytes)})
    if (!s.ok())
      return s;

  // Addresses: parameters, the arena, outputs; views follow their source.
  std::vector<CUdeviceptr> addr(m.manifest.buffers.size(), 0);
  auto place = [&](int64_t id) {
    const PlannedBuffer &b = plan.buffers[id];
    if (b.placement == Placement::kParameter)
      addr[id] = m.params[id];
    else if (b.placement == Placement::kOutput)
      addr[id] = m.outputs + b.offset;
    else if (b.placement == Placement::kArena)
      addr[id] = m.arena + b.offset;
  };
  for (const artifact::Parameter &p : m.ep->parameters)
    place(p.buffer);
  for (const artifact::Binding &in : m.ep->inputs) {
    place(in.buffer);
    const HostTensor &t = inputs.at(in.name);
    if (static_cast<int64_t>(t.bytes.size()) != plan.buffers[in.buffer].bytes ||
        t.dtype != plan.buffers[in.buffer].dtype)
      return absl::InvalidArgumentError(
          absl::StrCat("input '", in.name, "' has ", t.bytes.size(),
                       " bytes of ", dtypeName(t.dtype), "; the plan needs ",
                       plan.buffers[in.buffer].bytes, " of ",
                       dtypeName(plan.buffers[in.buffer].dtype)));
    if (absl::Status s =
            m.check(m.api->cuMemcpyHtoDAsync(addr[in.buffer], t.bytes.data(),
                                             t.bytes.size(), m.stream),
                    absl::StrCat("uploading input ", in.name));
        !s.ok())
      return s;
  }
  CUevent start = nullptr, stop = nullptr;
  if (timing) {
    m.api->cuEventCreate(&start, CU_EVENT_DEFAULT);
    m.api->cuEventCreate(&stop, CU_EVENT_DEFAULT);
    m.api->cuEventRecord(start, m.stream);
  }
  m.api->cuMemsetD8Async(m.errors, 0, 64, m.stream);

  for (size_t i = 0; i < m.ep->steps.size(); ++i) {
    const artifact::Step &s = m.ep->steps[i];
    const PlannedStep &ps = plan.steps[i];
    const CUdeviceptr scratch =
        m.arena + std::max<int64_t>(ps.scratchOffset, 0);
    for (int64_t id : s.results)
      place(id);
    const std::string where =
        absl::StrCat("step ", i, " (", s.kind == "kernel" ? "kernel" : s.op,
                     s.name.empty() ? "" : " " + s.name, ")");
    auto shape = [&](size_t operand) -> const std::vector<int64_t> & {
      return plan.buffers[s.operands[operand]].shape;
    };
    absl::Status st = absl::OkStatus();
    if (s.kind == "kernel") {
      const artifact::Kernel &k = m.manifest.kernels[s.kernel];
      std::vector<std::vector<int64_t>> ops;
      for (size_t o = 0; o < s.operands.size(); ++o)
        ops.push_back(shape(o));
      absl::StatusOr<int64_t> rows = kernels::launchRows(k, ops);
      if (!rows.ok())
        return rows.status();
      const kernels::LaunchShape ls = kernels::launchShape(k, *rows, m.maxGrid);
      std::vector<uint64_t> block;
      for (int64_t id : s.operands)
        block.push_back(addr[id]);
      for (int64_t id : s.results)
        block.push_back(addr[id]);
      block.push_back(static_cast<uint64_t>(*rows));
      block.push_back(k.workspace ? scratch : 0);
      if (k.workspace)
        m.api->cuMemsetD8Async(scratch, 0, ls.workspaceBytes, m.stream);
      st = m.launch(m.kernelFns[s.kernel], ls.grid, k.blockThreads, k.smemBytes,
                    block.data(), where);
      // The workspace header lives in step scratch that the next steps
      // reuse: read it now. (A synchronization per such kernel; a CUDA
      // graph run will copy the headers aside instead.)
      if (k.workspace && st.ok()) {
        int64_t header[8] = {};
        st = m.check(m.api->cuStreamSynchronize(m.stream), where);
        if (st.ok())
          m.api->cuMemcpyDtoH(header, scratch, sizeof(header));
        if (absl::Status e = kernels::workspaceError(k, header, where); !e.ok())
          return e;
      }
    } else if (s.op == "graph.reshape") {
      addr[s.results[0]] = addr[s.operands[0]];
    } else if (s.op == "graph.split") {
      const std::vector<int64_t> &src = shape(0);
      const int64_t axis = std::get<int64_t>(*s.attr("axis"));
      if (axis == 0) {
        // Contiguous pieces: views (exec_plan.cc plans them so).
        CUdeviceptr at = addr[s.operands[0]];
        for (int64_t id : s.results) {
          addr[id] = at;
          at += plan.buffers[id].bytes;
        }
      } else {
        // Each piece is a column range of every outer row: copied.
        int64_t outer = 1, inner = dtypeSize(plan.buffers[s.operands[0]].dtype);
        for (int64_t d = 0; d < axis; ++d)
          outer *= src[d];
        for (size_t d = axis + 1; d < src.size(); ++d)
          inner *= src[d];
        int64_t offset = 0;
        absl::StatusOr<CUfunction> f = m.lib("infir2_copy_rows", 0);
        if (!f.ok())
          return f.status();
        for (int64_t id : s.results) {
          const int64_t bytes = plan.buffers[id].shape[axis] * inner;
          layout::CopyRowsArgs ca{
              reinterpret_cast<const u8 *>(addr[s.operands[0]] + offset),
              reinterpret_cast<u8 *>(addr[id]),
              outer,
              bytes,
              src[axis] * inner,
              bytes};
          const int64_t grid = std::min<int64_t>(
              m.maxGrid,
              (outer * bytes + layout::kThreads - 1) / layout::kThreads);
          st = m.launch(*f, grid, layout::kThreads, 0, &ca, where);
          if (!st.ok())
            break;
          offset += bytes;
        }
      }
    } else if (s.op == "fp8.scaled_matmul" || s.op == "graph.linear" ||
               s.op == "graph.matmul") {
      const bool fp8 = s.op == "fp8.scaled_matmul";
      auto type = [&](int64_t id) {
        switch (m.manifest.buffers[id].dtype) {
        case DType::kF8E4M3:
          return GemmType::kE4M3;
        case DType::kF8E5M2:
          return GemmType::kE5M2;
        case DType::kBF16:
          return GemmType::kBF16;
        default:
          return GemmType::kF32;
        }
      };
      auto layout = [&](const char *key) {
        const artifact::AttrValue *v = s.attr(key);
        const std::string t = v && std::holds_alternative<std::string>(*v)
                                  ? std::get<std::string>(*v)
                                  : "";
        return t == "1x128"     ? ScaleLayout::kTile1x128
               : t == "128x128" ? ScaleLayout::kTile128x128
                                : ScaleLayout::kNone;
      };
      auto flag = [&](const char *key) {
        const artifact::AttrValue *v = s.attr(key);
        return v && std::holds_alternative<bool>(*v) && std::get<bool>(*v);
      };
      const size_t li = 0, ri = fp8 ? 2 : 1;
      const bool linear = s.op == "graph.linear";
      const std::vector<int64_t> &l = shape(li), &r = shape(ri);
      // linear: x [.., K] times W^T; leading dimensions fold into rows.
      const int64_t lRows =
          linear ? plan.buffers[s.operands[li]].bytes /
                       dtypeSize(m.manifest.buffers[s.operands[li]].dtype) /
                       l.back()
                 : l[0];
      const GemmOperand lhs{lRows, l.back(), type(s.operands[li]),
                            fp8 ? layout("lhs_layout") : ScaleLayout::kNone,
                            !linear && flag("transpose_lhs")};
      const GemmOperand rhs{r[0], r[1], type(s.operands[ri]),
                            fp8 ? layout("rhs_layout") : ScaleLayout::kNone,
                            linear || flag("transpose_rhs")};
      absl::StatusOr<LtPlan> gp =
          planGemm(lhs, rhs,
                   type(s.results[0]) == GemmType::kBF16 ? GemmType::kBF16
                                                         : GemmType::kF32);
      if (!gp.ok())
        return absl::Status(gp.status().code(),
                            absl::StrCat(where, ": ", gp.status().message()));
      LtGemmArgs args;
      CUdeviceptr cursor = scratch;
      auto prepare = [&](const LtOperand &o, CUdeviceptr data,
                         CUdeviceptr scales, CUdeviceptr &outData,
                         CUdeviceptr &outScales) -> absl::Status {
        outData = data;
        if (o.transposeCopy) {
          // The stored tensor is row-major [rows, cols] of the copy's
          // column-major view; the copy is its transpose.
          layout::TransposeArgs ta{reinterpret_cast<const u8 *>(data),
                                   reinterpret_cast<u8 *>(cursor), o.rows,
                                   o.cols};
          absl::StatusOr<CUfunction> f =
              m.lib("infir2_transpose_u8", layout::transpose_smem());
          if (!f.ok())
            return f.status();
          const int64_t grid = ((o.cols + layout::kTile - 1) / layout::kTile) *
                               ((o.rows + layout::kTile - 1) / layout::kTile);
          if (absl::Status e = m.launch(*f, grid, layout::kThreads,
                                        layout::transpose_smem(), &ta, where);
              !e.ok())
            return e;
          outData = cursor;
          cursor += (o.rows * o.cols + 255) / 256 * 256;
        }
        outScales = 0;
        if (o.scaleMode != LtScaleMode::kNone) {
          layout::RepackArgs ra{reinterpret_cast<const float *>(scales),
                                reinterpret_cast<float *>(cursor),
                                o.scales.srcRows,
                                o.scales.srcCols,
                                o.scales.ld,
                                o.scales.elements,
                                o.scales.transpose ? 1 : 0};
          absl::StatusOr<CUfunction> f = m.lib("infir2_repack_scales", 0);
          if (!f.ok())
            return f.status();
          const int64_t grid = std::min<int64_t>(
              m.maxGrid,
              (o.scales.elements + layout::kThreads - 1) / layout::kThreads);
          if (absl::Status e = m.launch(*f, std::max<int64_t>(grid, 1),
                                        layout::kThreads, 0, &ra, where);
              !e.ok())
            return e;
          outScales = cursor;
          cursor += (o.scales.elements * 4 + 255) / 256 * 256;
        }
        return absl::OkStatus();
      };
      auto operandOf = [&](const LtOperand &o, bool scales) {
        const size_t base = o.isLhs ? li : ri;
        return fp8 || !scales ? addr[s.operands[base + (scales ? 1 : 0)]]
                              : CUdeviceptr{0};
      };
      if (absl::Status e =
              prepare(gp->a, operandOf(gp->a, false), operandOf(gp->a, true),
                      args.a, args.aScales);
          !e.ok())
        return e;
      if (absl::Status e =
              prepare(gp->b, operandOf(gp->b, false), operandOf(gp->b, true),
                      args.b, args.bScales);
          !e.ok())
        return e;
      args.d = addr[s.results[0]];
      if (s.op == "graph.linear" && s.operands.size() == 3)
        args.bias = addr[s.operands[2]];
      st = m.gemm->run(*gp, args, m.stream);
    } else if (s.op == "graph.attention" || s.op == "graph.attention_grad") {
      const bool grad = s.op == "graph.attention_grad";
      const size_t qi = grad ? 1 : 0;
      const std::vector<int64_t> &q = shape(qi), &k = shape(qi + 1);
      const DType dt = m.manifest.buffers[s.operands[qi]].dtype;
      if ((dt != DType::kBF16 && dt != DType::kF32) ||
          (q[2] != 64 && q[2] != 128))
        return absl::UnimplementedError(absl::StrCat(
            where, ": attention kernels exist for bf16/f32 and head "
                   "dims 64 and 128"));
      const std::string suffix =
          absl::StrCat(dt == DType::kBF16 ? "_bf16" : "_f32", "_d", q[2]);
      const artifact::AttrValue *scaleAttr = s.attr("scale");
      const artifact::AttrValue *causalAttr = s.attr("causal");
      const attn::Dims dims{
          reinterpret_cast<const i32 *>(addr[s.operands[qi + 3]]),
          q[0],
          q[1],
          k[1],
          shape(qi + 3)[0] - 1,
          std::holds_alternative<double>(*scaleAttr)
              ? static_cast<float>(std::get<double>(*scaleAttr))
              : static_cast<float>(std::get<int64_t>(*scaleAttr)),
          causalAttr && std::holds_alternative<bool>(*causalAttr) &&
                  std::get<bool>(*causalAttr)
              ? 1
              : 0};
      const int d = static_cast<int>(q[2]);
      const int64_t tiles = (q[0] + attn::kRows - 1) / attn::kRows;
      const int64_t elems = q[0] * q[1] * q[2];
      // Scratch (exec_plan.cc): [the recomputed output], lse, dsum.
      const CUdeviceptr out = grad ? scratch : addr[s.results[0]];
      const CUdeviceptr lse =
          grad ? scratch + (elems * dtypeSize(dt) + 255) / 256 * 256 : scratch;
      const CUdeviceptr dsum = lse + (q[0] * q[1] * 4 + 255) / 256 * 256;
      attn::FwdArgs fa{dims,
                       ptr(addr[s.operands[qi]]),
                       ptr(addr[s.operands[qi + 1]]),
                       ptr(addr[s.operands[qi + 2]]),
                       ptr(out),
                       reinterpret_cast<float *>(lse)};
      absl::StatusOr<CUfunction> fwd =
          m.lib("infir2_attn_fwd" + suffix, attn::fwd_smem(d));
      if (!fwd.ok())
        return fwd.status();
      st = m.launch(*fwd, tiles * q[1], attn::kRows, attn::fwd_smem(d), &fa,
                    where);
      if (grad && st.ok()) {
        attn::BwdArgs ba{dims,
                         fa.q,
                         fa.k,
                         fa.v,
                         ptr(out),
                         ptr(addr[s.operands[0]]),
                         reinterpret_cast<const float *>(lse),
                         reinterpret_cast<float *>(dsum),
                         ptr(addr[s.results[0]]),
                         ptr(addr[s.results[1]]),
                         ptr(addr[s.results[2]])};
        absl::StatusOr<CUfunction> dq =
            m.lib("infir2_attn_dq" + suffix, attn::dq_smem(d));
        if (!dq.ok())
          return dq.status();
        absl::StatusOr<CUfunction> dkv =
            m.lib("infir2_attn_dkv" + suffix, attn::dkv_smem(d));
        if (!dkv.ok())
          return dkv.status();
        st = m.launch(*dq, tiles * q[1], attn::kRows, attn::dq_smem(d), &ba,
                      where);
        if (st.ok())
          st = m.launch(*dkv, tiles * k[1], attn::kRows, attn::dkv_smem(d), &ba,
                        where);
      }
    } else if (s.op == "graph.embedding" || s.op == "graph.embedding_grad") {
      const bool grad = s.op == "graph.embedding_grad";
      const DType dt = m.manifest.buffers[s.operands[0]].dtype;
      const std::vector<int64_t> &src = shape(0);
      embed::Args ea{ptr(addr[s.operands[0]]),
                     reinterpret_cast<const i32 *>(addr[s.operands[1]]),
                     ptr(addr[s.results[0]]),
                     reinterpret_cast<i64 *>(m.errors),
                     shape(1)[0],
                     grad ? plan.buffers[s.results[0]].shape[0] : src[0],
                     src[1]};
      absl::StatusOr<CUfunction> f = m.lib(
          absl::StrCat(grad ? "infir2_embedding_grad" : "infir2_embedding",
                       dt == DType::kBF16 ? "_bf16" : "_f32"),
          0);
      if (!f.ok())
        return f.status();
      const int64_t grid =
          grad ? (src[1] + embed::kCols - 1) / embed::kCols
               : std::min<int64_t>(std::max<int64_t>(shape(1)[0], 1), 65535);
      st = m.launch(*f, grid, embed::kThreads, 0, &ea, where);
    } else {
      return absl::UnimplementedError(
          absl::StrCat(where, ": the CUDA backend does not run this op"));
    }
    if (!st.ok())
      return absl::Status(st.code(), absl::StrCat(where, ": ", st.message()));
  }
  if (timing)
    m.api->cuEventRecord(stop, m.stream);
  if (absl::Status s = m.check(m.api->cuStreamSynchronize(m.stream),
                               "running the entry point");
      !s.ok())
    return s;
  int64_t header[8] = {};
  m.api->cuMemcpyDtoH(header, m.errors, sizeof(header));
  if (header[0] != 0)
    return absl::OutOfRangeError(
        absl::StrCat("token id ", header[2], " at position ", header[1],
                     " is outside the embedding table"));
  if (timing) {
    float ms = 0;
    m.api->cuEventElapsedTime(&ms, start, stop);
    timing->ms = ms;
    timing->arenaBytes = plan.arenaBytes;
    m.api->cuEventDestroy(start);
    m.api->cuEventDestroy(stop);
  }
  std::map<std::string, HostTensor> outputs;
  for (const artifact::Binding &o : m.ep->outputs) {
    const PlannedBuffer &b = plan.buffers[o.buffer];
    HostTensor t{b.dtype, b.shape, std::vector<uint8_t>(b.bytes)};
    if (absl::Status s = m.check(
            m.api->cuMemcpyDtoH(t.bytes.data(), addr[o.buffer], b.bytes),
            absl::StrCat("downloading output ", o.name));
        !s.ok())
      return s;
    outputs[o.name] = std::move(t);
  }
  return outputs;
}
} // namespace infir2::cuda
