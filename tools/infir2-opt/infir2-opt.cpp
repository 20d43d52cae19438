//===- infir2-opt.cpp - mlir-opt for infir2 -------------------------------===//
//
// Part of infir2.
//
// Parses, verifies, transforms and prints IR of infir2's dialects; the driver
// of the lit tests.
//
//===----------------------------------------------------------------------===//

#include "compiler/InitAll.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::infir2::registerAllDialects(registry);
  mlir::infir2::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "infir2 optimizer driver\n", registry));
}
