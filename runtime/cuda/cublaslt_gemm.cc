//===- cublaslt_gemm.cc - GEMM plans run by cuBLASLt ----------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/cublaslt_gemm.h"

#include <cublasLt.h>

#include "absl/strings/str_cat.h"

namespace infir2::cuda {
namespace {
absl::Status check(cublasStatus_t s, const std::string &what) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(what, " failed: ", cublasLtGetStatusString(s), " (",
                   static_cast<int>(s), ")"));
}

cudaDataType_t dataType(GemmType t) {
  switch (t) {
  case GemmType::kE4M3:
    return CUDA_R_8F_E4M3;
  case GemmType::kE5M2:
    return CUDA_R_8F_E5M2;
  case GemmType::kBF16:
    return CUDA_R_16BF;
  case GemmType::kF32:
    return CUDA_R_32F;
  }
  return CUDA_R_32F;
}

cublasLtMatmulMatrixScale_t scaleMode(LtScaleMode m) {
  return m == LtScaleMode::kVec128
             ? CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F
             : CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
}
} // namespace

struct LtGemmRunner::Prepared {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo;
  bool scaled = false;
  ~Prepared() {
    if (a)
      cublasLtMatrixLayoutDestroy(a);
    if (b)
      cublasLtMatrixLayoutDestroy(b);
    if (d)
      cublasLtMatrixLayoutDestroy(d);
    if (desc)
      cublasLtMatmulDescDestroy(desc);
  }
};

absl::StatusOr<std::unique_ptr<LtGemmRunner>>
LtGemmRunner::create(CUdeviceptr workspace, size_t workspaceBytes) {
  std::unique_ptr<LtGemmRunner> r(new LtGemmRunner());
  cublasLtHandle_t h = nullptr;
  if (absl::Status s = check(cublasLtCreate(&h), "cublasLtCreate"); !s.ok())
    return s;
  r->handle_ = h;
  r->workspace_ = workspace;
  r->workspaceBytes_ = workspaceBytes;
  return r;
}

LtGemmRunner::~LtGemmRunner() {
  cache_.clear();
  if (handle_)
    cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

namespace {
/// The largest power of two (up to 256) dividing a device address.
uint32_t alignmentOf(CUdeviceptr p) {
  if (p == 0)
    return 256;
  const uint64_t low = p & (~p + 1);
  return static_cast<uint32_t>(low > 256 ? 256 : low);
}
} // namespace

absl::StatusOr<LtGemmRunner::Prepared *>
LtGemmRunner::prepare(const LtPlan &plan, const LtGemmArgs &args) {
  const uint32_t alignA = alignmentOf(args.a), alignB = alignmentOf(args.b),
                 alignD = alignmentOf(args.d);
  const std::string key =
      absl::StrCat(plan.describe(), "; aligned ", alignA, "/", alignB, "/",
                   alignD, args.bias ? "; bias" : "");
  if (auto it = cache_.find(key); it != cache_.end())
    return it->second.get();
  auto p = std::make_unique<Prepared>();
  auto fail = [&](const absl::Status &s) {
    return absl::Status(s.code(), absl::StrCat(s.message(), " for GEMM ", key));
  };
  if (absl::Status s = check(
          cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
          "cublasLtMatmulDescCreate");
      !s.ok())
    return fail(s);
  const cublasOperation_t ta = plan.a.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = plan.b.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  auto setDesc = [&](cublasLtMatmulDescAttributes_t attr, const void *v,
                     size_t n) {
    return check(cublasLtMatmulDescSetAttribute(p->desc, attr, v, n),
                 absl::StrCat("cublasLtMatmulDescSetAttribute(", attr, ")"));
  };
  for (absl::Status s : {setDesc(CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)),
                         setDesc(CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb))})
    if (!s.ok())
      return fail(s);
  if (args.bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const cudaDataType_t biasType = dataType(plan.resultType);
    for (absl::Status s :
         {setDesc(CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)),
          setDesc(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &biasType,
                  sizeof(biasType))})
      if (!s.ok())
        return fail(s);
  }
  p->scaled = plan.a.scaleMode != LtScaleMode::kNone;
  if (p->scaled) {
    const cublasLtMatmulMatrixScale_t am = scaleMode(plan.a.scaleMode),
                                      bm = scaleMode(plan.b.scaleMode);
    for (absl::Status s :
         {setDesc(CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &am, sizeof(am)),
          setDesc(CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &bm, sizeof(bm))})
      if (!s.ok())
        return fail(s);
  }
  for (absl::Status s :
       {check(cublasLtMatrixLayoutCreate(&p->a, dataType(plan.a.type),
                                         plan.a.rows, plan.a.cols, plan.a.ld),
              "cublasLtMatrixLayoutCreate(A)"),
        check(cublasLtMatrixLayoutCreate(&p->b, dataType(plan.b.type),
                                         plan.b.rows, plan.b.cols, plan.b.ld),
              "cublasLtMatrixLayoutCreate(B)"),
        check(cublasLtMatrixLayoutCreate(&p->d, dataType(plan.resultType),
                                         plan.m, plan.n, plan.ldd),
              "cublasLtMatrixLayoutCreate(D)")})
    if (!s.ok())
      return fail(s);
  cublasLtMatmulPreference_t pref = nullptr;
  if (absl::Status s = check(cublasLtMatmulPreferenceCreate(&pref),
                             "cublasLtMatmulPreferenceCreate");
      !s.ok())
    return fail(s);
  const uint64_t ws = workspaceBytes_;
  auto setPref = [&](cublasLtMatmulPreferenceAttributes_t attr, const void *v,
                     size_t n) {
    return check(
        cublasLtMatmulPreferenceSetAttribute(pref, attr, v, n),
        absl::StrCat("cublasLtMatmulPreferenceSetAttribute(", attr, ")"));
  };
  for (absl::Status s :
       {setPref(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)),
        setPref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alignA,
                sizeof(alignA)),
        setPref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alignB,
                sizeof(alignB)),
        setPref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignD,
                sizeof(alignD)),
        setPref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignD,
                sizeof(alignD))})
    if (!s.ok()) {
      cublasLtMatmulPreferenceDestroy(pref);
      return fail(s);
    }
  // The scale pointers are part of the problem the heuristic sees (NVIDIA's
  // LtBlk128x128Fp8Matmul sample sets them first); run() updates them.
  if (p->scaled) {
    const void *as = reinterpret_cast<const void *>(args.aScales);
    const void *bs = reinterpret_cast<const void *>(args.bScales);
    cublasLtMatmulDescSetAttribute(
        p->desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &as, sizeof(as));
    cublasLtMatmulDescSetAttribute(
        p->desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &bs, sizeof(bs));
  }
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  // C is D (beta = 0), so it shares D's layout.
  const cublasStatus_t hs = cublasLtMatmulAlgoGetHeuristic(
      static_cast<cublasLtHandle_t>(handle_), p->desc, p->a, p->b, p->d, p->d,
      pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (absl::Status s = check(hs, "cublasLtMatmulAlgoGetHeuristic"); !s.ok())
    return fail(s);
  if (found == 0)
    return absl::UnimplementedError(absl::StrCat(
        "cuBLASLt has no algorithm for GEMM ", key,
        " on this GPU (block-scaled FP8 needs compute capability 9.0)"));
  p->algo = result.algo;
  Prepared *raw = p.get();
  cache_[key] = std::move(p);
  return raw;
}

absl::Status LtGemmRunner::run(const LtPlan &plan, const LtGemmArgs &args,
                               CUstream stream) {
  absl::StatusOr<Prepared *> p = prepare(plan, args);
  if (!p.ok())
    return p.status();
  Prepared &prep = **p;
  if (prep.scaled) {
    const void *as = reinterpret_cast<const void *>(args.aScales);
    const void *bs = reinterpret_cast<const void *>(args.bScales);
    for (absl::Status s :
         {check(cublasLtMatmulDescSetAttribute(
                    prep.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &as,
                    sizeof(as)),
                "A_SCALE_POINTER"),
          check(cublasLtMatmulDescSetAttribute(
                    prep.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &bs,
                    sizeof(bs)),
                "B_SCALE_POINTER")})
      if (!s.ok())
        return s;
  }
  if (args.bias) {
    const void *bias = reinterpret_cast<const void *>(args.bias);
    if (absl::Status s = check(cublasLtMatmulDescSetAttribute(
                                   prep.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                   &bias, sizeof(bias)),
                               "BIAS_POINTER");
        !s.ok())
      return s;
  }
  const float alpha = 1.0f, beta = 0.0f;
  void *d = reinterpret_cast<void *>(args.d);
  return check(cublasLtMatmul(static_cast<cublasLtHandle_t>(handle_), prep.desc,
                              &alpha, reinterpret_cast<const void *>(args.a),
                              prep.a, reinterpret_cast<const void *>(args.b),
                              prep.b, &beta, d, prep.d, d, prep.d, &prep.algo,
                              reinterpret_cast<void *>(workspace_),
                              workspaceBytes_,
                              reinterpret_cast<cudaStream_t>(stream)),
               absl::StrCat("cublasLtMatmul for GEMM ", plan.describe()));
}
} // namespace infir2::cuda
