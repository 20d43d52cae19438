//===- commands.h - The runner's commands -----------------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Each command takes the arguments after its name and returns the exit
// code: 0 success, 1 failure, 2 bad usage.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_TOOLS_INFIR2_COMMANDS_H_
#define INFIR2_TOOLS_INFIR2_COMMANDS_H_

namespace infir2::runner {
int runLogits(int argc, char **argv);
int runGrads(int argc, char **argv);
int runTrain(int argc, char **argv);
int runTokenize(int argc, char **argv);
int runDetokenize(int argc, char **argv);
int runPack(int argc, char **argv);
int runConvert(int argc, char **argv);
int runInspect(int argc, char **argv);
int runPlan(int argc, char **argv); ///< with INFIR2_RUNNER_HAS_NVRTC
} // namespace infir2::runner

#endif // INFIR2_TOOLS_INFIR2_COMMANDS_H_
