//===- logits.h - Packed next-token logits of a language model --*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// What `infir2 logits` does, as a library: pack token sequences into one
// micro-batch (positions restart per sequence; cu_seqlens keeps attention
// within each sequence), run a compiled forward entry point, and cut the
// packed outputs back into per-sequence logits and next-token NLLs.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_LM_LOGITS_H_
#define INFIR2_RUNTIME_LM_LOGITS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/cpu/executor.h"
#include "runtime/cpu/tensor.h"

namespace infir2::lm {
using Sequence = std::vector<int32_t>;

/// One packed micro-batch: the inputs of a Qwen2 forward entry point.
struct PackedBatch {
  cpu::Tensor tokenIds;    ///< I32 [T]
  cpu::Tensor positionIds; ///< I32 [T], 0-based within each sequence
  cpu::Tensor cuSeqlens;   ///< I32 [S + 1]
  cpu::Tensor labels;      ///< I32 [T]: the next token (0 at a sequence end)
  cpu::Tensor lossMask;    ///< F32 [T]: 0 at the last token of a sequence
  std::vector<int64_t> offsets; ///< start of each sequence in the batch
};

/// Packs |sequences| back to back. Fails on an empty list, an empty
/// sequence or a batch past 2^31 tokens.
absl::StatusOr<PackedBatch>
packSequences(const std::vector<Sequence> &sequences);

/// Reads a JSON-lines file with one JSON array of token ids per line (blank
/// lines are skipped). Errors name the file and line.
absl::StatusOr<std::vector<Sequence>> readTokenFile(const std::string &path);

/// Fails, naming the sequence and token, on an id outside the vocabulary of
/// |program|'s model.embed_tokens.weight.
absl::Status checkVocabulary(const cpu::Program &program,
                             const std::vector<Sequence> &sequences);

struct SequenceOutput {
  cpu::Tensor logits; ///< F32 [len, V]
  cpu::Tensor nll;    ///< F32 [len - 1]: -log p(token[t+1] | tokens <= t)
};

struct EvaluateResult {
  std::vector<SequenceOutput> sequences;
  double nllSum = 0;     ///< over every predicted token
  double tokenCount = 0; ///< predicted tokens (sum of len - 1)
};

/// Runs |program| (a forward entry point with inputs token_ids,
/// position_ids, cu_seqlens, labels, loss_mask and outputs logits,
/// token_nll, nll_sum, token_count) on all |sequences| packed together.
absl::StatusOr<EvaluateResult> evaluate(const cpu::Program &program,
                                        const std::vector<Sequence> &sequences,
                                        cpu::RunProfile *profile = nullptr);
} // namespace infir2::lm

#endif // INFIR2_RUNTIME_LM_LOGITS_H_
