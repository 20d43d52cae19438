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

/// One step of an entry point. Schema version 1 has one kind, "op": run the
/// named graph-dialect op. Later versions add kernel launches, library calls
/// and collectives (docs/artifact.md); this runtime rejects kinds it does
/// not know rather than skip them.
struct Step {
  std::string kind; ///< "op"
  std::string op;   ///< e.g. "graph.linear"
  std::string name; ///< where the op came from (e.g. an HF module path)
  std::vector<int64_t> operands, results;
  std::map<std::string, AttrValue> attrs;
  /// Buffers whose last reader is this step: their memory can be released.
  std::vector<int64_t> free;

  const AttrValue *attr(const std::string &key) const;
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
