//===- logits.cc - Packed next-token logits of a language model -----------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/lm/logits.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"

namespace infir2::lm {
absl::StatusOr<PackedBatch>
packSequences(const std::vector<Sequence> &sequences) {
  if (sequences.empty())
    return absl::InvalidArgumentError("no sequences to pack");
  int64_t total = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    if (sequences[i].empty())
      return absl::InvalidArgumentError(
          absl::StrCat("sequence ", i, " is empty"));
    total += static_cast<int64_t>(sequences[i].size());
  }
  if (total > std::numeric_limits<int32_t>::max())
    return absl::InvalidArgumentError(
        absl::StrCat(total, " tokens do not fit one micro-batch (cu_seqlens "
                            "is i32)"));
  const int64_t s = static_cast<int64_t>(sequences.size());
  PackedBatch b;
  b.tokenIds = cpu::Tensor::empty(DType::kI32, {total});
  b.positionIds = cpu::Tensor::empty(DType::kI32, {total});
  b.cuSeqlens = cpu::Tensor::empty(DType::kI32, {s + 1});
  b.labels = cpu::Tensor::empty(DType::kI32, {total});
  b.lossMask = cpu::Tensor::empty(DType::kF32, {total});
  int32_t *ids = b.tokenIds.data<int32_t>(),
          *pos = b.positionIds.data<int32_t>(),
          *cu = b.cuSeqlens.data<int32_t>(), *labels = b.labels.data<int32_t>();
  float *mask = b.lossMask.data<float>();
  int64_t t = 0;
  cu[0] = 0;
  for (int64_t i = 0; i < s; ++i) {
    const Sequence &seq = sequences[i];
    const int64_t len = static_cast<int64_t>(seq.size());
    b.offsets.push_back(t);
    for (int64_t j = 0; j < len; ++j, ++t) {
      ids[t] = seq[j];
      pos[t] = static_cast<int32_t>(j);
      // The last token of a sequence predicts nothing: its label is a
      // placeholder that the zero mask hides.
      labels[t] = j + 1 < len ? seq[j + 1] : 0;
      mask[t] = j + 1 < len ? 1.0f : 0.0f;
    }
    cu[i + 1] = static_cast<int32_t>(t);
  }
  return b;
}

absl::StatusOr<std::vector<Sequence>> readTokenFile(const std::string &path) {
  std::error_code ec;
  std::ifstream in(path);
  if (!in || !std::filesystem::is_regular_file(path, ec))
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open (not a readable file)"));
  std::vector<Sequence> out;
  std::string line;
  for (int64_t lineNo = 1; std::getline(in, line); ++lineNo) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto where = [&] { return absl::StrCat(path, ":", lineNo, ": "); };
    std::string parseError;
    nlohmann::json j = parseJson(line, parseError);
    if (j.is_discarded())
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "not valid JSON: ", parseError));
    if (!j.is_array())
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "expected a JSON array of token ids, e.g. [151644, 872]"));
    if (j.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "the sequence is empty"));
    Sequence seq;
    for (size_t k = 0; k < j.size(); ++k) {
      const nlohmann::json &v = j[k];
      if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
          v.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "element ", k, " (", briefJson(v),
                         ") is not a token id (a non-negative integer)"));
      seq.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    out.push_back(std::move(seq));
  }
  if (out.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no sequences (one JSON array per line)"));
  return out;
}

absl::Status checkVocabulary(const cpu::Program &program,
                             const std::vector<Sequence> &sequences) {
  // Name the offending sequence, not a position in the packed batch.
  for (const artifact::Parameter &p : program.entryPoint().parameters) {
    if (p.name != "model.embed_tokens.weight" || p.shape.size() != 2)
      continue;
    for (size_t i = 0; i < sequences.size(); ++i)
      for (size_t j = 0; j < sequences[i].size(); ++j)
        if (sequences[i][j] >= p.shape[0])
          return absl::OutOfRangeError(absl::StrCat(
              "sequence ", i, ", token ", j, ": id ", sequences[i][j],
              " is outside the model's vocabulary [0, ", p.shape[0], ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EvaluateResult> evaluate(const cpu::Program &program,
                                        const std::vector<Sequence> &sequences,
                                        cpu::RunProfile *profile) {
  absl::StatusOr<PackedBatch> batch = packSequences(sequences);
  if (!batch.ok())
    return batch.status();
  if (absl::Status s = checkVocabulary(program, sequences); !s.ok())
    return s;
  absl::StatusOr<std::map<std::string, cpu::Tensor>> outputs =
      program.run({{"token_ids", batch->tokenIds},
                   {"position_ids", batch->positionIds},
                   {"cu_seqlens", batch->cuSeqlens},
                   {"labels", batch->labels},
                   {"loss_mask", batch->lossMask}},
                  profile);
  if (!outputs.ok())
    return outputs.status();
  // The entry point's outputs, checked against the batch before any copy.
  const int64_t total = batch->tokenIds.numel();
  auto output = [&](const char *name, std::vector<int64_t> shape,
                    const cpu::Tensor *&out) -> absl::Status {
    auto it = outputs->find(name);
    if (it == outputs->end() || it->second.dtype() != DType::kF32 ||
        !it->second.defined() || it->second.rank() != (int64_t)shape.size() ||
        (shape.size() > 0 && it->second.dim(0) != shape[0]))
      return absl::InvalidArgumentError(
          absl::StrCat("the entry point '", program.entryPoint().name,
                       "' has no f32 ", formatShape(shape), " output '", name,
                       "' (-1: any); is it a language-model forward?"));
    out = &it->second;
    return absl::OkStatus();
  };
  const cpu::Tensor *logitsOut, *nllOut, *sumOut, *countOut;
  for (absl::Status s :
       {output("logits", {total, -1}, logitsOut),
        output("token_nll", {total}, nllOut), output("nll_sum", {}, sumOut),
        output("token_count", {}, countOut)})
    if (!s.ok())
      return s;
  const cpu::Tensor &logits = *logitsOut, &nll = *nllOut;
  EvaluateResult result;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const int64_t off = batch->offsets[i];
    const int64_t len = static_cast<int64_t>(sequences[i].size());
    SequenceOutput o;
    // Views of the packed outputs: no copy of the [T, V] logits.
    o.logits = logits.rows(off, len);
    o.nll = nll.rows(off, len - 1);
    result.sequences.push_back(std::move(o));
  }
  result.nllSum = sumOut->data<float>()[0];
  result.tokenCount = countOut->data<float>()[0];
  return result;
}
} // namespace infir2::lm
