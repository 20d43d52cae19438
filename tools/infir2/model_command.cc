//===- model_command.cc - What `logits` and `grads` share -----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "tools/infir2/model_command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "runtime/io/safetensors.h"

namespace infir2::runner {
absl::StatusOr<ModelCommandArgs> parseModelCommandArgs(int argc, char **argv,
                                                       bool allowProfile) {
  ModelCommandArgs out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      return out;
    }
    if (allowProfile && arg == "--profile") {
      out.profile = true;
      continue;
    }
    if (i + 1 >= argc)
      return absl::InvalidArgumentError(
          absl::StrCat("'", arg, "' needs a value"));
    std::string value = argv[++i];
    if (arg == "--model")
      out.request.modelDir = value;
    else if (arg == "--input")
      out.input = value;
    else if (arg == "--output")
      out.output = value;
    else if (arg == "--precision")
      out.request.precision = value;
    else if (arg == "--artifact")
      out.request.artifactDir = value;
    else if (arg == "--fusion") {
      if (value != "on" && value != "off")
        return absl::OutOfRangeError(
            absl::StrCat("--fusion '", value, "' is not on or off"));
      out.request.fusion = value == "on";
    } else
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", arg, "'"));
  }
  if (out.request.modelDir.empty() || out.input.empty() || out.output.empty())
    return absl::InvalidArgumentError(
        "--model, --input and --output are required");
  if (out.request.precision != "fp32" && out.request.precision != "bf16" &&
      out.request.precision != "fp8" && out.request.precision != "fp8-fp32")
    return absl::OutOfRangeError(absl::StrCat(
        "--precision '", out.request.precision, "' is not fp32, bf16 or fp8"));
  return out;
}

absl::StatusOr<LoadedModel> loadModel(const ModelCommandArgs &args,
                                      const std::string &entry,
                                      const char *command) {
  LoadedModel out;
  absl::StatusOr<std::vector<lm::Sequence>> sequences =
      lm::readTokenFile(args.input);
  if (!sequences.ok())
    return sequences.status();
  out.sequences = std::move(*sequences);
  absl::StatusOr<std::unique_ptr<io::Checkpoint>> checkpoint =
      io::Checkpoint::open(args.request.modelDir);
  if (!checkpoint.ok())
    return checkpoint.status();
  absl::StatusOr<ResolvedArtifact> art = resolveArtifact(args.request);
  if (!art.ok())
    return art.status();
  if (art->compiled)
    std::fprintf(stderr, "infir2 %s: compiled artifact %s in %.3f s\n", command,
                 art->dir.c_str(), art->compileSeconds);
  else
    std::fprintf(stderr, "infir2 %s: using artifact %s\n", command,
                 art->dir.c_str());
  absl::StatusOr<std::unique_ptr<cpu::Program>> program =
      cpu::Program::create(art->manifest, entry);
  if (!program.ok())
    return program.status();
  if (absl::Status s = (*program)->bindParameters(
          std::shared_ptr<const io::Checkpoint>(std::move(*checkpoint)));
      !s.ok())
    return s;
  if (!(*program)->unusedTensors().empty())
    std::fprintf(stderr,
                 "infir2 %s: warning: %zu checkpoint tensors are not used by "
                 "the model (first: %s)\n",
                 command, (*program)->unusedTensors().size(),
                 (*program)->unusedTensors().front().c_str());
  if (absl::Status s = lm::checkVocabulary(**program, out.sequences); !s.ok())
    return s;
  out.program = std::move(*program);
  return out;
}
} // namespace infir2::runner
