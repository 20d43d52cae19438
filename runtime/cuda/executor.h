//===- executor.h - Artifacts on the GPU ------------------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Runs an entry point of an artifact on the GPU: the artifact's generated
// kernels (kernels/kernels.cu) and the library kernels (attention,
// embedding, GEMM operand layouts) compiled by NVRTC through the cubin
// cache for the device's architecture; parameters uploaded once; per run,
// the execution plan (exec_plan.h) for the inputs' shapes, its arena
// allocated (and kept while large enough), kernel steps launched with
// launch.h's grid and argument block, GEMMs through cuBLASLt plans,
// reshape/split as views. One stream; `runs` can be captured into a CUDA
// graph and replayed when the shapes repeat.
//
// Status: compiled and linked on every build; not yet run on a GPU (no GPU
// has been lent to this work). docs/guide/gpu.md lists what is verified.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_EXECUTOR_H_
#define INFIR2_RUNTIME_CUDA_EXECUTOR_H_

#include <cuda.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/manifest.h"
#include "runtime/cuda/exec_plan.h"
#include "runtime/io/safetensors.h"

namespace infir2::cuda {
class LtGemmRunner;

/// Host data of one input or output: dtype, shape, bytes.
struct HostTensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

/// Milliseconds of one run, measured with events on the stream.
struct DeviceTiming {
  double ms = 0;
  int64_t arenaBytes = 0;
};

class DeviceProgram {
public:
  /// Compiles and loads the kernels of |entry| for device 0.
  static absl::StatusOr<std::unique_ptr<DeviceProgram>>
  create(const artifact::Manifest &manifest, const std::string &entry);
  ~DeviceProgram();

  /// Uploads every parameter from |checkpoint| (dtype and shape must match
  /// the artifact's).
  absl::Status bindParameters(const io::Checkpoint &checkpoint);

  /// Runs the entry point on |inputs| (by name) and returns its outputs.
  absl::StatusOr<std::map<std::string, HostTensor>>
  run(const std::map<std::string, HostTensor> &inputs,
      DeviceTiming *timing = nullptr);

private:
  struct Impl;
  explicit DeviceProgram(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_EXECUTOR_H_
