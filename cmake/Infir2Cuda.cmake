#===- Infir2Cuda.cmake - find the CUDA Toolkit ------------------------------===#
#
# The toolkit is found automatically (CUDAToolkit_ROOT, nvcc on PATH, or
# /usr/local/cuda). INFIR2_ENABLE_CUDA defaults to ON when it is found; when it
# is absent the CUDA parts are skipped with one message.
#
#===------------------------------------------------------------------------===#

if(NOT DEFINED CUDAToolkit_ROOT AND NOT DEFINED ENV{CUDAToolkit_ROOT} AND
   EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
find_package(CUDAToolkit QUIET)

option(INFIR2_ENABLE_CUDA "Build the CUDA parts (NVRTC, CUDA backend)"
       ${CUDAToolkit_FOUND})

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
