//===- driver.cc - The CUDA driver API, loaded at run time ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace infir2::cuda {
namespace {
// Two levels so that the argument is macro-expanded first: the name cuda.h
// maps the function to, e.g. "cuMemAlloc_v2".
#define INFIR2_CUDA_STR2(x) #x
#define INFIR2_CUDA_STR(x) INFIR2_CUDA_STR2(x)
#define INFIR2_CUDA_NAME(name) INFIR2_CUDA_STR(name),
const char *const kSymbols[] = {INFIR2_CUDA_DRIVER_FUNCTIONS(INFIR2_CUDA_NAME)};
#undef INFIR2_CUDA_NAME

std::string errorText(const DriverApi &api, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (api.cuGetErrorName)
    api.cuGetErrorName(result, &name);
  if (api.cuGetErrorString)
    api.cuGetErrorString(result, &text);
  return absl::StrCat(name ? name : "CUresult", " (", static_cast<int>(result),
                      ")", text ? absl::StrCat(": ", text) : "");
}
} // namespace

const char *const *driverSymbolNames(int *count) {
  *count = static_cast<int>(sizeof(kSymbols) / sizeof(kSymbols[0]));
  return kSymbols;
}

absl::StatusOr<DriverApi> loadDriverApi(const std::string &library) {
  // Never closed: the driver stays loaded for the life of the process.
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *err = dlerror();
    return absl::UnavailableError(
        absl::StrCat("no CUDA driver: cannot load ", library, " (",
                     err ? err : "unknown error",
                     "); the CUDA backend needs an NVIDIA driver, the CPU "
                     "backend does not"));
  }
  DriverApi api;
  api.library = library;
  int i = 0;
#define INFIR2_CUDA_RESOLVE(name)                                              \
  {                                                                            \
    void *sym = dlsym(handle, kSymbols[i]);                                    \
    if (!sym)                                                                  \
      return absl::FailedPreconditionError(absl::StrCat(                       \
          library, " has no ", kSymbols[i],                                    \
          "; infir2 was built against CUDA ", CUDA_VERSION / 1000, ".",        \
          CUDA_VERSION % 1000 / 10, " and needs a driver at least that new")); \
    api.name = reinterpret_cast<decltype(api.name)>(sym);                      \
    ++i;                                                                       \
  }
  INFIR2_CUDA_DRIVER_FUNCTIONS(INFIR2_CUDA_RESOLVE)
#undef INFIR2_CUDA_RESOLVE
  return api;
}

absl::Status checkCu(const DriverApi &api, CUresult result,
                     const std::string &what) {
  if (result == CUDA_SUCCESS)
    return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(what, " failed: ", errorText(api, result)));
}

absl::StatusOr<const DriverApi *> driver() {
  static absl::StatusOr<DriverApi> *loaded = [] {
    const char *env = std::getenv("INFIR2_LIBCUDA");
    auto *api = new absl::StatusOr<DriverApi>(
        loadDriverApi(env && *env ? env : "libcuda.so.1"));
    if (!api->ok())
      return api;
    DriverApi &a = **api;
    if (CUresult r = a.cuInit(0); r != CUDA_SUCCESS) {
      *api = absl::UnavailableError(absl::StrCat(
          "no usable CUDA driver: cuInit failed with ", errorText(a, r),
          r == CUDA_ERROR_STUB_LIBRARY
              ? absl::StrCat("; ", a.library,
                             " is the toolkit's stub, not a driver")
              : "",
          "; the CUDA backend needs an NVIDIA GPU and driver, the CPU "
          "backend does not"));
      return api;
    }
    a.cuDriverGetVersion(&a.version);
    // Minor-version compatibility: any driver of the same major runs our
    // cubins.
    if (a.version / 1000 < CUDA_VERSION / 1000)
      *api = absl::FailedPreconditionError(
          absl::StrCat("the NVIDIA driver supports CUDA ", a.version / 1000,
                       ".", a.version % 1000 / 10,
                       "; infir2 was built against CUDA ", CUDA_VERSION / 1000,
                       ".", CUDA_VERSION % 1000 / 10, " (update the driver)"));
    return api;
  }();
  if (!loaded->ok())
    return loaded->status();
  return &**loaded;
}

std::string DeviceInfo::arch() const {
  return absl::StrCat("sm_", major, minor, major == 9 ? "a" : "");
}

absl::StatusOr<DeviceInfo> deviceInfo(int ordinal) {
  absl::StatusOr<const DriverApi *> api = driver();
  if (!api.ok())
    return api.status();
  const DriverApi &a = **api;
  int count = 0;
  if (absl::Status s =
          checkCu(a, a.cuDeviceGetCount(&count), "cuDeviceGetCount");
      !s.ok())
    return s;
  if (ordinal < 0 || ordinal >= count)
    return absl::NotFoundError(absl::StrCat("no CUDA device ", ordinal,
                                            ": the driver sees ", count,
                                            " device", count == 1 ? "" : "s"));
  CUdevice dev;
  if (absl::Status s = checkCu(a, a.cuDeviceGet(&dev, ordinal), "cuDeviceGet");
      !s.ok())
    return s;
  DeviceInfo info;
  info.ordinal = ordinal;
  info.driverVersion = a.version;
  char name[256] = {};
  a.cuDeviceGetName(name, sizeof(name) - 1, dev);
  info.name = name;
  auto attr = [&](CUdevice_attribute which, int &out) {
    return checkCu(a, a.cuDeviceGetAttribute(&out, which, dev),
                   "cuDeviceGetAttribute");
  };
  int smem = 0;
  for (absl::Status s :
       {attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, info.major),
        attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, info.minor),
        attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, info.multiprocessors),
        attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, smem)})
    if (!s.ok())
      return s;
  info.maxSharedPerBlockOptin = smem;
  size_t bytes = 0;
  if (absl::Status s =
          checkCu(a, a.cuDeviceTotalMem(&bytes, dev), "cuDeviceTotalMem");
      !s.ok())
    return s;
  info.totalMemory = static_cast<int64_t>(bytes);
  return info;
}
} // namespace infir2::cuda
