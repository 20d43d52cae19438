#===- Infir2Cuda.cmake - find the CUDA Toolkit ------------------------------===#
#
# The toolkit is found automatically (CUDAToolkit_ROOT, nvcc on PATH, or
# /usr/local/cuda). INFIR2_ENABLE_CUDA=AUTO (default) builds the CUDA parts
# when it is found; when it is absent they are skipped with one message.
#
#===------------------------------------------------------------------------===#

if(NOT DEFINED CUDAToolkit_ROOT AND NOT DEFINED ENV{CUDAToolkit_ROOT} AND
   EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
find_package(CUDAToolkit QUIET)

# AUTO (the default) follows the toolkit on every configure, so installing or
# removing it later is picked up; ON requires it, OFF skips it.
set(INFIR2_ENABLE_CUDA AUTO CACHE STRING
    "Build the CUDA parts (NVRTC, CUDA backend): AUTO, ON or OFF")
set_property(CACHE INFIR2_ENABLE_CUDA PROPERTY STRINGS AUTO ON OFF)
set(_infir2_cuda_request ${INFIR2_ENABLE_CUDA})
if(_infir2_cuda_request STREQUAL "AUTO")
  set(INFIR2_ENABLE_CUDA ${CUDAToolkit_FOUND})
endif()

if(INFIR2_ENABLE_CUDA AND NOT CUDAToolkit_FOUND)
  message(FATAL_ERROR
    "infir2: INFIR2_ENABLE_CUDA=ON but no CUDA Toolkit was found; set "
    "CUDAToolkit_ROOT to the toolkit (e.g. /usr/local/cuda) or configure with "
    "-DINFIR2_ENABLE_CUDA=OFF")
endif()

if(INFIR2_ENABLE_CUDA)
  message(STATUS "infir2: CUDA ${CUDAToolkit_VERSION} (${CUDAToolkit_BIN_DIR})")
elseif(CUDAToolkit_FOUND)
  message(STATUS "infir2: CUDA parts skipped (INFIR2_ENABLE_CUDA=OFF)")
else()
  message(STATUS "infir2: CUDA parts skipped: no CUDA Toolkit found (set "
                 "CUDAToolkit_ROOT to enable them)")
endif()
