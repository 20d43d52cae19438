//===- infir2c.cpp - The infir2 ahead-of-time compiler --------------------===//
//
// Part of infir2.
//
// infir2c --model DIR [--emit graph|autodiff|fp8|fused|cuda|artifact]
//         [-o OUT] [--precision fp32|bf16|fp8] [--target cpu|cuda:sm_90a]
//         [--fusion=true|false] [--gradients] [--report]
//   --emit graph     prints the model's forward graph (graph dialect) to OUT
//                    (default: stdout); autodiff / fp8 / fused: the IR after
//                    graph-autodiff / fp8-lower / kernel-fuse; cuda: the
//                    generated kernels' CUDA C++;
//   --emit artifact  writes the executable artifact directory OUT (with
//                    --target cuda:<arch>, NVRTC compiles its kernels);
//   --gradients      adds the training entry point forward_grad (implies
//                    --logits=false); --optimizer adds grad_norm and
//                    optimizer_step (AdamW);
//   --report         prints every GEMM and every generated kernel.
// MLIR's standard options apply, e.g. --mlir-print-ir-after-all.
//
//===----------------------------------------------------------------------===//

#include <fstream>

#include "compiler/driver/Compile.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string> modelDir("model", cl::Required,
                                     cl::desc("Hugging Face model directory"),
                                     cl::value_desc("dir"));
static cl::opt<std::string>
    emit("emit", cl::init("artifact"),
         cl::desc("What to produce: graph | autodiff | fp8 | fused (the IR "
                  "after that stage) | cuda (the kernels' CUDA C++) | "
                  "artifact"));
static cl::opt<bool> report("report", cl::init(false),
                            cl::desc("Print every GEMM of the compiled "
                                     "functions (name, forward/dgrad/wgrad, "
                                     "M x N x K, precision, tiles)"));
static cl::opt<std::string> output("o", cl::init("-"),
                                   cl::desc("Output file (graph) or directory "
                                            "(artifact)"),
                                   cl::value_desc("path"));
static cl::opt<std::string>
    precision("precision", cl::init("fp32"),
              cl::desc("fp32 | bf16 | fp8 (bf16 with the "
                       "FP8 recipe on the decoder linears)"));
static cl::opt<std::string>
    target("target", cl::init("cpu"),
           cl::desc("Execution target: cpu | cuda:<arch> (e.g. cuda:sm_90a)"));
static cl::opt<std::string> fusion(
    "fusion", cl::init("auto"),
    cl::desc("Generate fused kernels for everything but GEMMs, attention "
             "and embeddings: on | off | auto (on for cuda targets, off for "
             "cpu, where the reference kernels are faster)"));
static cl::opt<bool> logits("logits", cl::init(true),
                            cl::desc("Return the logits besides the loss "
                                     "(--logits=false: loss only)"));
static cl::opt<bool> gradients(
    "gradients", cl::init(false),
    cl::desc("Add the gradient entry point forward_grad (graph-autodiff); "
             "implies --logits=false"));

static cl::opt<bool> optimizer(
    "optimizer", cl::init(false),
    cl::desc("With --gradients, add the entry points grad_norm and "
             "optimizer_step: the AdamW update compiled like the model"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "infir2 ahead-of-time compiler\n");

  auto p = infir2::parsePrecision(precision);
  if (!p.ok()) {
    llvm::errs() << "infir2c: " << std::string(p.status().message()) << "\n";
    return 2;
  }
  infir2::CompileOptions options;
  options.modelDir = modelDir;
  options.precision = *p;
  options.target = target;
  if (fusion == "on" || fusion == "true")
    options.fusion = true;
  else if (fusion == "off" || fusion == "false")
    options.fusion = false;
  else if (fusion != "auto") {
    llvm::errs() << "infir2c: --fusion " << fusion
                 << " is not on, off or auto\n";
    return 2;
  }
  options.withLogits = logits && !gradients;
  options.withGradients = gradients;
  options.withOptimizer = optimizer;
  if (optimizer && !gradients) {
    llvm::errs() << "infir2c: --optimizer needs --gradients\n";
    return 2;
  }
  options.usePassManagerCLOptions = true;
  if (report) {
    auto text = infir2::gemmReport(options);
    if (!text.ok()) {
      llvm::errs() << "infir2c: " << std::string(text.status().message())
                   << "\n";
      return 1;
    }
    llvm::outs() << *text;
    return 0;
  }
  if (emit == "graph" || emit == "autodiff" || emit == "fp8" ||
      emit == "fused" || emit == "cuda") {
    auto text = infir2::emitStage(options, emit);
    if (!text.ok()) {
      llvm::errs() << "infir2c: " << std::string(text.status().message())
                   << "\n";
      return 1;
    }
    if (output == "-") {
      llvm::outs() << *text;
      return 0;
    }
    std::ofstream out(output);
    out << *text;
    out.close();
    if (!out) {
      llvm::errs() << "infir2c: cannot write " << output << "\n";
      return 1;
    }
    return 0;
  }
  if (emit != "artifact") {
    llvm::errs() << "infir2c: --emit " << emit
                 << " is not one of: graph, autodiff, fp8, fused, cuda, "
                    "artifact\n";
    return 2;
  }
  if (output == "-") {
    llvm::errs() << "infir2c: --emit artifact needs -o <directory>\n";
    return 2;
  }
  if (absl::Status s = infir2::compileArtifact(options, output); !s.ok()) {
    llvm::errs() << "infir2c: " << std::string(s.message()) << "\n";
    return 1;
  }
  llvm::outs() << "infir2c: wrote " << output << "\n";
  return 0;
}
