//===- prelude_text.h - The kernel prelude as text --------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_KERNELS_PRELUDE_TEXT_H_
#define INFIR2_RUNTIME_KERNELS_PRELUDE_TEXT_H_

namespace infir2::kernels {
/// runtime/kernels/prelude.h, which generated kernels include as
/// "infir2_prelude.h".
const char *preludeText();
/// The name generated kernels include it by.
inline constexpr const char *kPreludeName = "infir2_prelude.h";
/// runtime/kernels/attention.h: the attention kernels (include the prelude
/// first).
const char *attentionText();
inline constexpr const char *kAttentionName = "infir2_attention.h";
/// runtime/kernels/layout.h: GEMM operand preparation (transposed FP8
/// copies, scale repacks).
const char *layoutText();
inline constexpr const char *kLayoutName = "infir2_layout.h";
/// runtime/kernels/embedding.h: embedding gather and its gradient.
const char *embeddingText();
inline constexpr const char *kEmbeddingName = "infir2_embedding.h";
} // namespace infir2::kernels

#endif // INFIR2_RUNTIME_KERNELS_PRELUDE_TEXT_H_
