//===- driver.h - The CUDA driver API, loaded at run time -------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 never links libcuda: binaries and tests must start on machines
// without an NVIDIA driver (CI, the CPU backend). The driver is dlopen'ed on
// first use and every entry point is resolved into one table, under the
// versioned name cuda.h maps it to (cuMemAlloc -> cuMemAlloc_v2), so the
// table calls exactly the ABI the headers were written for.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_DRIVER_H_
#define INFIR2_RUNTIME_CUDA_DRIVER_H_

#include <cuda.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace infir2::cuda {
/// Every driver entry point the CUDA backend calls; X(name) per function.
#define INFIR2_CUDA_DRIVER_FUNCTIONS(X)                                        \
  X(cuInit)                                                                    \
  X(cuDriverGetVersion)                                                        \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGetName)                                                           \
  X(cuDeviceGetAttribute)                                                      \
  X(cuDeviceTotalMem)                                                          \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuDevicePrimaryCtxRelease)                                                 \
  X(cuCtxSetCurrent)                                                           \
  X(cuCtxSynchronize)                                                          \
  X(cuModuleLoadData)                                                          \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncSetAttribute)                                                        \
  X(cuFuncGetAttribute)                                                        \
  X(cuLaunchKernel)                                                            \
  X(cuMemAlloc)                                                                \
  X(cuMemFree)                                                                 \
  X(cuMemGetInfo)                                                              \
  X(cuMemcpyHtoD)                                                              \
  X(cuMemcpyDtoH)                                                              \
  X(cuMemcpyHtoDAsync)                                                         \
  X(cuMemcpyDtoHAsync)                                                         \
  X(cuMemsetD8Async)                                                           \
  X(cuStreamCreate)                                                            \
  X(cuStreamDestroy)                                                           \
  X(cuStreamSynchronize)                                                       \
  X(cuEventCreate)                                                             \
  X(cuEventDestroy)                                                            \
  X(cuEventRecord)                                                             \
  X(cuEventSynchronize)                                                        \
  X(cuEventElapsedTime)                                                        \
  X(cuStreamBeginCapture)                                                      \
  X(cuStreamEndCapture)                                                        \
  X(cuGraphInstantiate)                                                        \
  X(cuGraphLaunch)                                                             \
  X(cuGraphExecDestroy)                                                        \
  X(cuGraphDestroy)

/// The resolved entry points. Member names go through cuda.h's macros like
/// any call would, so `api.cuMemAlloc(...)` is cuMemAlloc_v2.
struct DriverApi {
#define INFIR2_CUDA_MEMBER(name) decltype(&::name) name = nullptr;
  INFIR2_CUDA_DRIVER_FUNCTIONS(INFIR2_CUDA_MEMBER)
#undef INFIR2_CUDA_MEMBER
  std::string library; ///< the path dlopen was given
  int version = 0;     ///< cuDriverGetVersion, e.g. 13000
};

/// The exported symbol names the table resolves, in table order (what
/// cuda.h maps each function to).
const char *const *driverSymbolNames(int *count);

/// Opens |library| (a path or soname) and resolves every entry point,
/// without calling cuInit. Fails naming the library and the first missing
/// symbol. Each call opens the library again; use driver() normally.
absl::StatusOr<DriverApi> loadDriverApi(const std::string &library);

/// The process's driver: $INFIR2_LIBCUDA or libcuda.so.1, loaded and
/// cuInit'ed once. The error says that the CUDA backend needs an NVIDIA
/// driver and that the CPU backend does not.
absl::StatusOr<const DriverApi *> driver();

/// OK, or an error naming |what| and the driver's error name and text.
absl::Status checkCu(const DriverApi &api, CUresult result,
                     const std::string &what);

/// What a device is.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int major = 0, minor = 0; ///< compute capability
  int multiprocessors = 0;
  int64_t totalMemory = 0;
  int64_t maxSharedPerBlockOptin = 0;
  int driverVersion = 0;
  /// "sm_90a" for Hopper (the arch-specific features wgmma and the FP8
  /// block-scaled GEMMs need), else "sm_XY".
  std::string arch() const;
};

/// Device |ordinal|'s properties; fails when there is no such device.
absl::StatusOr<DeviceInfo> deviceInfo(int ordinal = 0);
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_DRIVER_H_
