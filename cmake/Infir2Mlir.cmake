#===- Infir2Mlir.cmake - MLIR/LLVM 22.1 for the compiler half ---------------===#
#
# Follows mlir/examples/standalone. Included from the top level *after* the
# runtime half has been added, because HandleLLVMOptions changes flags for the
# current directory and everything added below it.
#
#===------------------------------------------------------------------------===#

if(NOT DEFINED MLIR_DIR AND EXISTS /usr/lib/llvm-22/lib/cmake/mlir)
  set(MLIR_DIR /usr/lib/llvm-22/lib/cmake/mlir)
endif()
find_package(MLIR REQUIRED CONFIG)
if(NOT LLVM_PACKAGE_VERSION VERSION_GREATER_EQUAL 22.1 OR
   LLVM_PACKAGE_VERSION VERSION_GREATER_EQUAL 23)
  message(FATAL_ERROR "infir2: needs MLIR/LLVM 22.1, found ${LLVM_PACKAGE_VERSION} "
                      "at ${MLIR_DIR}; install libmlir-22-dev or set MLIR_DIR")
endif()
message(STATUS "infir2: MLIR ${LLVM_PACKAGE_VERSION} at ${MLIR_DIR}")

list(APPEND CMAKE_MODULE_PATH ${MLIR_CMAKE_DIR} ${LLVM_CMAKE_DIR})
set(LLVM_RUNTIME_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/bin)
set(LLVM_LIBRARY_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/lib)
set(MLIR_BINARY_DIR ${CMAKE_BINARY_DIR})

include(TableGen)
include(AddLLVM)
include(AddMLIR)
include(HandleLLVMOptions)

# LLVM's CMake caches an empty LLVM_EXTERNAL_LIT; fill it so the check
# targets and tools/test.sh (which reads the cache) run the packaged lit.
if(NOT LLVM_EXTERNAL_LIT)
  set(LLVM_EXTERNAL_LIT ${LLVM_TOOLS_BINARY_DIR}/lit CACHE STRING
      "lit used by the check targets and tools/test.sh" FORCE)
endif()
find_program(INFIR2_FILECHECK FileCheck HINTS ${LLVM_TOOLS_BINARY_DIR} REQUIRED)

include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
# Compiler sources include each other by path from the repository root
# ("dialects/fp8/IR/Fp8Ops.h"); generated .inc files sit at the same relative
# path in the build tree.
include_directories(${INFIR2_SOURCE_DIR} ${INFIR2_BINARY_DIR})
link_directories(${LLVM_BUILD_LIBRARY_DIR})
separate_arguments(_llvm_defs NATIVE_COMMAND ${LLVM_DEFINITIONS})
add_definitions(${_llvm_defs})

#===------------------------------------------------------------------------===#
# Dialect reference docs
#===------------------------------------------------------------------------===#

# infir2_add_dialect_doc(<Ops.td> <dialect>): generates
# ${INFIR2_BINARY_DIR}/docs/dialects/<dialect>.md with `-gen-dialect-doc` on
# every build. The committed copy in docs/dialects/ is checked by the
# `dialect_docs_fresh` test and refreshed by `--target infir2-update-docs`.
set_property(GLOBAL PROPERTY INFIR2_DIALECT_DOCS "")
function(infir2_add_dialect_doc td_file dialect)
  infir2_add_doc(${td_file} ${dialect} -gen-dialect-doc -dialect=${dialect})
endfunction()

# The same for a Passes.td: docs/dialects/<name>.md from -gen-pass-doc.
function(infir2_add_pass_doc td_file name)
  infir2_add_doc(${td_file} ${name} -gen-pass-doc)
endfunction()

function(infir2_add_doc td_file dialect)
  set(LLVM_TARGET_DEFINITIONS ${td_file})
  mlir_tablegen(${dialect}.raw.md ${ARGN})
  set(raw ${CMAKE_CURRENT_BINARY_DIR}/${dialect}.raw.md)
  set(out ${INFIR2_BINARY_DIR}/docs/dialects/${dialect}.md)
  file(RELATIVE_PATH td_rel ${INFIR2_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/${td_file})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${raw} -DOUT=${out} -DTD=${td_rel}
            -P ${INFIR2_SOURCE_DIR}/cmake/WriteDialectDoc.cmake
    DEPENDS ${raw} ${INFIR2_SOURCE_DIR}/cmake/WriteDialectDoc.cmake
    COMMENT "Generating docs/dialects/${dialect}.md")
  add_custom_target(infir2-doc-${dialect} ALL DEPENDS ${out})
  set_property(GLOBAL APPEND PROPERTY INFIR2_DIALECT_DOCS ${dialect})
endfunction()
