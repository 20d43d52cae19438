#===- Infir2Blas.cmake - OpenBLAS for the CPU backend ----------------------===#
#
# Defines infir2::blas, the CBLAS the CPU backend's GEMMs call. Debian ships
# OpenBLAS under per-threading-model directories (libopenblas-dev pulls in
# the pthread flavour); tools/test.sh installs it.
#
#   INFIR2_OPENBLAS_STATIC  link libopenblas.a (for runners carried to
#                           machines without OpenBLAS, e.g. the GPU hosts)
#
#===------------------------------------------------------------------------===#

option(INFIR2_OPENBLAS_STATIC "Link OpenBLAS statically" OFF)

set(_infir2_blas_arch ${CMAKE_LIBRARY_ARCHITECTURE})
set(_infir2_blas_hints)
foreach(flavour openblas-pthread openblas-openmp openblas-serial)
  list(APPEND _infir2_blas_hints /usr/lib/${_infir2_blas_arch}/${flavour})
endforeach()
if(INFIR2_OPENBLAS_STATIC)
  set(_infir2_blas_names libopenblas.a)
else()
  set(_infir2_blas_names openblas)
endif()
find_library(INFIR2_OPENBLAS_LIBRARY NAMES ${_infir2_blas_names}
  HINTS ${_infir2_blas_hints})
find_path(INFIR2_OPENBLAS_INCLUDE_DIR cblas.h
  HINTS /usr/include/${_infir2_blas_arch}/openblas-pthread
        /usr/include/${_infir2_blas_arch}/openblas-openmp
        /usr/include/${_infir2_blas_arch}/openblas-serial
        /usr/include/openblas)
if(NOT INFIR2_OPENBLAS_LIBRARY OR NOT INFIR2_OPENBLAS_INCLUDE_DIR)
  message(FATAL_ERROR
    "infir2: OpenBLAS not found (the CPU backend's GEMMs need it). Install "
    "it with: apt-get install libopenblas-dev (tools/test.sh does this), or "
    "point INFIR2_OPENBLAS_LIBRARY and INFIR2_OPENBLAS_INCLUDE_DIR at it.")
endif()
message(STATUS "infir2: OpenBLAS: ${INFIR2_OPENBLAS_LIBRARY}")

add_library(infir2_blas INTERFACE)
add_library(infir2::blas ALIAS infir2_blas)
target_include_directories(infir2_blas SYSTEM INTERFACE
  ${INFIR2_OPENBLAS_INCLUDE_DIR})
target_link_libraries(infir2_blas INTERFACE ${INFIR2_OPENBLAS_LIBRARY}
  Threads::Threads)
if(INFIR2_OPENBLAS_STATIC)
  # OpenBLAS's LAPACK half is Fortran; a static link needs its runtime.
  target_link_libraries(infir2_blas INTERFACE gfortran m)
endif()
