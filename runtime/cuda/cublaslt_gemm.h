//===- cublaslt_gemm.h - GEMM plans run by cuBLASLt -------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Runs an LtPlan (gemm_plan.h) with cublasLtMatmul: BF16 with f32 compute,
// or E4M3/E5M2 with VEC128 / BLK128x128 f32 scales, bf16 or f32 output.
// The descriptors and the heuristic's algorithm are made once per plan and
// cached. Operands arrive prepared: transposed copies made and scales
// repacked as the plan says (the backend's library kernels do that on the
// device; repackScales is their reference).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_CUBLASLT_GEMM_H_
#define INFIR2_RUNTIME_CUDA_CUBLASLT_GEMM_H_

#include <cuda.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/cuda/gemm_plan.h"

namespace infir2::cuda {
/// Device pointers of one GEMM (scales are null for BF16/F32 operands).
/// |bias| (optional): a vector of D's type with one value per output
/// feature (D's column-major rows), added by the BIAS epilogue in f32.
struct LtGemmArgs {
  CUdeviceptr a = 0, aScales = 0, b = 0, bScales = 0, d = 0, bias = 0;
};

class LtGemmRunner {
public:
  /// A handle and a |workspaceBytes| device workspace (cuBLAS recommends
  /// 32 MiB on Hopper).
  static absl::StatusOr<std::unique_ptr<LtGemmRunner>>
  create(CUdeviceptr workspace, size_t workspaceBytes);
  ~LtGemmRunner();

  /// Enqueues D = op(A) * op(B) on |stream|. The first call for a plan and
  /// pointer alignment asks the heuristic for an algorithm (views into the
  /// arena can be less than 256-byte aligned); an error names the plan.
  absl::Status run(const LtPlan &plan, const LtGemmArgs &args, CUstream stream);

  /// Algorithms chosen so far (one per distinct plan).
  size_t cachedPlans() const { return cache_.size(); }

private:
  struct Prepared;
  LtGemmRunner() = default;
  absl::StatusOr<Prepared *> prepare(const LtPlan &plan,
                                     const LtGemmArgs &args);
  void *handle_ = nullptr;
  CUdeviceptr workspace_ = 0;
  size_t workspaceBytes_ = 0;
  std::map<std::string, std::unique_ptr<Prepared>> cache_;
};
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_CUBLASLT_GEMM_H_
