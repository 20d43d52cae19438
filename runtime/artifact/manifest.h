//===- manifest.h - The executable artifact's manifest ----------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// An artifact is a directory written by the compiler (infir2c, or the
// runner's JIT): manifest.json plus ir/*.mlir dumps. The manifest is the
// whole contract between compiler and runtime; docs/artifact.md specifies
// it. This parser checks every field and names the field it rejects.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_ARTIFACT_MANIFEST_H_
#define INFIR2_RUNTIME_ARTIFACT_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/schema.h"
#include "runtime/io/dtype.h"

namespace infir2::artifact {
/// A buffer: one SSA value of the compiled program. -1 marks a dimension
/// known only at run time.
struct Buffer {
  int64_t id = 0;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
};

/// A step attribute value: number, bool, string, integer list or a splat.
struct Splat {
  double value = 0;
};
using AttrValue = std::variant<double, int64_t, bool, std::string,
                               std::vector<int64_t>, Splat>;

/// One step of an entry point: "op" runs the named graph-dialect op,
/// "kernel" launches a generated kernel (docs/artifact.md). This runtime
/// rejects kinds it does not know rather than skip them.
struct Step {
  std::string kind;    ///< "op" or "kernel"
  std::string op;      ///< e.g. "graph.linear" (op steps)
  int64_t kernel = -1; ///< index into Manifest::kernels (kernel steps)
  std::string name;    ///< where the op came from (e.g. an HF module path)
  std::vector<int64_t> operands, results;
  std::map<std::string, AttrValue> attrs;
  /// Buffers whose last reader is this step: their memory can be released.
  std::vector<int64_t> free;

  const AttrValue *attr(const std::string &key) const;
};

/// A dimension of a kernel result: |value|, or the kernel's row count T
/// divided by |rowsDiv| and rounded up when rowsDiv > 0.
struct KernelDim {
  int64_t value = 0;
  int64_t rowsDiv = 0;
};

/// What NVRTC's ptxas reported for a kernel on one architecture.
struct KernelResources {
  std::string arch;
  int64_t registers = 0, stackBytes = 0, spillStores = 0, spillLoads = 0;
  int64_t staticSmem = 0;
};

/// A generated kernel of kernels/kernels.cu and how to launch it.
/// Dynamic shared memory a kernel may ask for (a Hopper block's 227 KiB).
inline constexpr int64_t kMaxKernelSharedMemory = 227 * 1024;

struct Kernel {
  std::string name;     ///< the C symbol
  std::string label;    ///< the fused region's name ("add_rms_norm_quantize")
  std::string schedule; ///< "rows", "row_tiles" or "blocks"
  std::vector<std::string> ops;
  int64_t inputs = 0; ///< operands of its steps
  /// The element types its argument block's pointers have.
  std::vector<DType> inputDtypes, resultDtypes;
  int64_t blockThreads = 0; ///< GPU threads per block
  int64_t rowsPerBlock = 1; ///< 1 (rows) or 128
  int64_t colBlocks = 1;    ///< blocks: 128-column tiles per row tile
  int64_t staticRows = -1;  ///< the row count when static
  int64_t rowsInput = -1;   ///< else: the input ...
  int64_t rowsDim = 0;      ///< ... dimension holding it
  int64_t smemBytes = 0;    ///< dynamic shared memory per block
  bool workspace = false;   ///< needs the workspace (errors, column sums)
  int64_t workspacePerBlock = 0;
  std::vector<std::vector<KernelDim>> resultShapes;
  int64_t bytesPerRow = 0, staticBytes = 0;
  std::vector<KernelResources> resources;
};

struct Binding {
  std::string name;
  int64_t buffer = 0;
};

struct Parameter {
  std::string name; ///< the checkpoint tensor name (HF naming)
  int64_t buffer = 0;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
};

struct EntryPoint {
  std::string name;
  std::vector<Binding> inputs;
  std::vector<Parameter> parameters;
  std::vector<Binding> outputs;
  std::vector<Step> steps;
};

struct Manifest {
  int version = 0;
  std::string producer, target, precision;
  std::string modelFamily, modelConfig, modelKey;
  std::vector<Buffer> buffers; ///< indexed by id
  std::vector<EntryPoint> entryPoints;
  /// Generated kernels and their source (relative to the artifact).
  std::vector<Kernel> kernels;
  std::string kernelSource;
  /// The artifact directory (loadManifest), where kernelSource lies.
  std::string dir;

  const EntryPoint *entryPoint(const std::string &name) const;
};

/// Parses manifest text; |source| names it in errors. Checks the schema name
/// and version, every field's type, buffer ids (dense, in range), that each
/// buffer is defined once (an input, a parameter or a step result) before
/// it is read, and that outputs are defined.
absl::StatusOr<Manifest> parseManifest(const std::string &text,
                                       const std::string &source);

/// Reads <dir>/manifest.json.
absl::StatusOr<Manifest> loadManifest(const std::string &dir);
} // namespace infir2::artifact

#endif // INFIR2_RUNTIME_ARTIFACT_MANIFEST_H_
