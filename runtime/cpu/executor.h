//===- executor.h - Run an artifact entry point on the CPU ------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// A Program is one entry point of an artifact, checked and prepared for the
// CPU: every step is resolved to a kernel (kernels.h) with its attributes
// read once, so a malformed artifact fails when it is loaded, not halfway
// through a run. Parameters are bound from a checkpoint by their HF names.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CPU_EXECUTOR_H_
#define INFIR2_RUNTIME_CPU_EXECUTOR_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/manifest.h"
#include "runtime/cpu/tensor.h"
#include "runtime/io/safetensors.h"
#include "runtime/kernels/host_module.h"

namespace infir2::cpu {
struct PreparedStep;

/// Where a run's time went: per op name, the steps run and their seconds.
struct RunProfile {
  struct Entry {
    int64_t steps = 0;
    double seconds = 0;
  };
  std::map<std::string, Entry> byOp;
  /// With |recordShapes|, every step result's shape by buffer id (the CUDA
  /// plan's tests compare their shape rules with it).
  bool recordShapes = false;
  std::map<int64_t, std::vector<int64_t>> shapes;
  /// A table, slowest op first.
  std::string format() const;
};

class Program {
public:
  /// Prepares entry point |entry| of |manifest| (target "cpu").
  static absl::StatusOr<std::unique_ptr<Program>>
  create(const artifact::Manifest &manifest, const std::string &entry);
  ~Program();

  /// Binds every parameter to the checkpoint tensor of the same name. The
  /// checkpoint's dtype may differ from the artifact's among F32/BF16/F16
  /// (converted, rounding to nearest even); shapes must be equal. A tensor
  /// whose dtype matches is used in place (zero copy).
  absl::Status bindParameters(std::shared_ptr<const io::Checkpoint> checkpoint);
  /// Binds every parameter to the tensor of the same name in |tensors|,
  /// which must have the artifact's dtype and shape (training binds its
  /// weights this way after each optimizer step). Extra tensors are
  /// ignored.
  absl::Status bindTensors(const std::map<std::string, Tensor> &tensors);
  /// Checkpoint tensors the artifact does not bind (after bindParameters).
  const std::vector<std::string> &unusedTensors() const { return unused_; }

  /// Runs the steps. |inputs| holds every entry-point input by name, with
  /// the buffer's dtype and rank and its static sizes.
  /// With |profile|, each step's wall time is added to it.
  absl::StatusOr<std::map<std::string, Tensor>>
  run(const std::map<std::string, Tensor> &inputs,
      RunProfile *profile = nullptr) const;

  const artifact::EntryPoint &entryPoint() const { return entry_; }

private:
  Program() = default;
  /// Converts the non-f32 GEMM weights once per bind.
  void cacheF32Weights();
  /// The step's results, in order.
  absl::StatusOr<std::vector<Tensor>>
  execute(const PreparedStep &step, const std::vector<Tensor> &values) const;
  /// Ops with a single result.
  absl::StatusOr<Tensor> run1(const PreparedStep &step,
                              const std::vector<Tensor> &values) const;
  /// A generated kernel (kernel steps).
  absl::StatusOr<std::vector<Tensor>>
  launch(const PreparedStep &step, const std::vector<Tensor> &values) const;

  std::vector<artifact::Buffer> buffers_;
  artifact::EntryPoint entry_;
  std::vector<PreparedStep> steps_;
  std::vector<artifact::Kernel> kernelInfo_;
  /// The artifact's kernels built for the host (kernel steps).
  std::shared_ptr<const kernels::HostModule> kernels_;
  std::vector<Tensor> params_; ///< by buffer id; undefined for non-params
  /// f32 copies of non-f32 parameters that are GEMM weights, by buffer id.
  std::map<int64_t, Tensor> f32Weights_;
  bool bound_ = false;
  std::vector<std::string> unused_;
};
} // namespace infir2::cpu

#endif // INFIR2_RUNTIME_CPU_EXECUTOR_H_
