//===- model_command.h - What `logits` and `grads` share --------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_TOOLS_INFIR2_MODEL_COMMAND_H_
#define INFIR2_TOOLS_INFIR2_MODEL_COMMAND_H_

#include <memory>
#include <string>
#include <vector>

#include "runtime/cpu/executor.h"
#include "runtime/lm/logits.h"
#include "tools/infir2/jit.h"

namespace infir2::runner {
/// --model DIR --input TOKENS.jsonl --output OUT [--precision P]
/// [--fusion on|off] [--artifact ART] [--profile].
struct ModelCommandArgs {
  ArtifactRequest request;
  std::string input, output;
  bool profile = false;
  bool help = false;
};

/// Parses |argv|. Errors mean exit code 2: InvalidArgument for a malformed
/// command line (print the usage too), OutOfRange for a bad value.
absl::StatusOr<ModelCommandArgs> parseModelCommandArgs(int argc, char **argv,
                                                       bool allowProfile);

/// A prepared entry point bound to its checkpoint, and the input sequences.
struct LoadedModel {
  std::unique_ptr<cpu::Program> program;
  std::vector<lm::Sequence> sequences;
};

/// Reads the input, opens the checkpoint, finds or compiles the artifact
/// (reporting which on stderr as |command|) and prepares |entry|.
absl::StatusOr<LoadedModel> loadModel(const ModelCommandArgs &args,
                                      const std::string &entry,
                                      const char *command);
} // namespace infir2::runner

#endif // INFIR2_TOOLS_INFIR2_MODEL_COMMAND_H_
