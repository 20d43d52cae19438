//===- recipe_config.h - The data part of a recipe .toml --------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Reads the [tokenizer], [data] and [batch] tables of a recipe file
// (docs/guide/data.md lists every key). Keys are checked strictly: an
// unknown key in these tables or a value of the wrong type is an error
// naming file:line and the key; other tables belong to other parts of the
// recipe and are left alone. Relative paths are relative to the file.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_DATA_RECIPE_CONFIG_H_
#define INFIR2_RUNTIME_DATA_RECIPE_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "runtime/data/batching.h"
#include "runtime/data/dataset.h"

namespace infir2::data {
struct DataRecipe {
  std::string tokenizerDir;
  DatasetConfig dataset;
  BatchConfig batch;
};

absl::StatusOr<DataRecipe> loadDataRecipe(const std::string &path);
/// The same from text; |path| names it and anchors relative paths.
absl::StatusOr<DataRecipe> parseDataRecipe(const std::string &text,
                                           const std::string &path);
} // namespace infir2::data

#endif // INFIR2_RUNTIME_DATA_RECIPE_CONFIG_H_
