//===- recipe_config.cc - The data part of a recipe .toml -----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/recipe_config.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "runtime/data/toml_reader.h"

namespace infir2::data {
namespace {
namespace fs = std::filesystem;

std::string resolve(const std::string &base, const std::string &p) {
  if (p.empty() || fs::path(p).is_absolute())
    return p;
  return (fs::path(base).parent_path() / p).lexically_normal().string();
}
} // namespace

absl::StatusOr<DataRecipe> parseDataRecipe(const std::string &text,
                                           const std::string &path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error &e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.source().begin.line, ":", e.source().begin.column, ": ",
        std::string(e.description())));
  }
  TomlReader r(root, path);
  DataRecipe out;
  const toml::table *tok = r.table("tokenizer", true);
  r.get(tok, "tokenizer", "path", out.tokenizerDir, true);
  r.checkUnknown(tok, "tokenizer");

  const toml::table *data = r.table("data", true);
  DatasetConfig &d = out.dataset;
  std::string kind;
  r.get(data, "data", "kind", kind, true);
  r.get(data, "data", "path", d.path, true);
  r.get(data, "data", "messages_key", d.messagesKey);
  r.get(data, "data", "prompt_key", d.promptKey);
  r.get(data, "data", "label_key", d.labelKey);
  r.get(data, "data", "text_key", d.textKey);
  r.get(data, "data", "skip_bad_lines", d.skipBadLines);
  r.get(data, "data", "eod_token", d.eodToken);
  r.get(data, "data", "cache_dir", d.cacheDir);
  r.get(data, "data", "threads", d.threads);
  BatchConfig &b = out.batch;
  r.get(data, "data", "seed", b.seed);
  r.get(data, "data", "shuffle", b.shuffle);
  r.get(data, "data", "seq_length", b.seqLength);
  r.get(data, "data", "keep_document_boundaries", b.keepDocumentBoundaries);
  r.checkUnknown(data, "data");
  if (r.status().ok()) {
    if (kind == "sft")
      d.kind = DatasetKind::kSft;
    else if (kind == "rl")
      d.kind = DatasetKind::kRl;
    else if (kind == "cpt")
      d.kind = DatasetKind::kCpt;
    else
      r.fail((*data)["kind"].node()->source(),
             absl::StrCat("data.kind '", kind, "' is not sft, rl or cpt"));
  }

  const toml::table *batch = r.table("batch", true);
  r.get(batch, "batch", "global_batch_size", b.globalBatchSize, true);
  r.get(batch, "batch", "data_parallel", b.dataParallel);
  r.get(batch, "batch", "context_parallel", b.contextParallel);
  r.get(batch, "batch", "max_tokens_per_micro_batch", b.maxTokensPerMicroBatch,
        true);
  r.get(batch, "batch", "pad_multiple", b.padMultiple);
  r.checkUnknown(batch, "batch");
  if (!r.status().ok())
    return r.status();
  out.tokenizerDir = resolve(path, out.tokenizerDir);
  d.path = resolve(path, d.path);
  d.cacheDir = resolve(path, d.cacheDir);
  return out;
}

absl::StatusOr<DataRecipe> loadDataRecipe(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::ostringstream text;
  text << in.rdbuf();
  return parseDataRecipe(text.str(), path);
}
} // namespace infir2::data
