//===- host_module.h - An artifact's kernels built for the host -*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The CPU target runs the same generated CUDA C++ as the GPU (DESIGN.md
// decision 3): the host C++ compiler builds kernels/kernels.cu with the
// prelude into one shared object (OpenMP over thread blocks), cached by a
// hash of everything that goes into it, and dlopen'd once per process.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_KERNELS_HOST_MODULE_H_
#define INFIR2_RUNTIME_KERNELS_HOST_MODULE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/artifact/manifest.h"

namespace infir2::kernels {
/// A kernel's host entry: runs |grid| blocks with |smem| bytes of shared
/// memory each on the argument block |args| (launch.h).
using HostKernelFn = void (*)(const void *args, int64_t grid, int64_t smem);

class HostModule {
public:
  /// The module of |manifest|'s kernels: compiled on first use (seconds),
  /// then loaded from the cache ($INFIR2_CACHE_DIR/kernels). Fails with the
  /// compiler's messages when the source does not build.
  static absl::StatusOr<std::shared_ptr<const HostModule>>
  load(const artifact::Manifest &manifest);
  ~HostModule();

  /// The entry of kernel |name|, or null when the module has none.
  HostKernelFn find(const std::string &name) const;
  /// Where the shared object lies.
  const std::string &path() const { return path_; }

private:
  HostModule() = default;
  void *handle_ = nullptr;
  std::string path_;
};

/// The cache directory of built kernel modules.
std::string hostKernelCacheDir();
} // namespace infir2::kernels

#endif // INFIR2_RUNTIME_KERNELS_HOST_MODULE_H_
