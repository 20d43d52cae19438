//===- infir2-translate.cpp - mlir-translate for infir2 -------------------===//
//
// Part of infir2.
//
// Translations out of MLIR: --kernel-to-cuda prints the CUDA C++ that the
// code generator makes of every kernel.fused region (the lit tests of the
// code generator run it).
//
//===----------------------------------------------------------------------===//

#include "compiler/InitAll.h"
#include "compiler/codegen/CudaCodegen.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

int main(int argc, char **argv) {
  mlir::TranslateFromMLIRRegistration kernelToCuda(
      "kernel-to-cuda", "CUDA C++ of every kernel.fused region",
      [](mlir::Operation *op, llvm::raw_ostream &os) {
        auto module = llvm::dyn_cast<mlir::ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module"), mlir::failure();
        return mlir::infir2::codegen::translateToCuda(module, os);
      },
      [](mlir::DialectRegistry &registry) {
        mlir::infir2::registerAllDialects(registry);
      });
  return mlir::failed(
             mlir::mlirTranslateMain(argc, argv, "infir2 translation driver\n"))
             ? 1
             : 0;
}
