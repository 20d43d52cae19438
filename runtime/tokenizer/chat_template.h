//===- chat_template.h - The Qwen2.5 chat template and loss masks -*- C++
//-*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// No Jinja engine: the tokenizer's chat_template must be the Qwen2.5
// template (ChatML; any default system prompt, so Qwen2.5-Math's too),
// recognized by comparing it, byte for byte, with the known text; anything
// else is refused with an error rather than rendered wrongly. Rendering
// (the template's non-tool path, recipe.md §1.5):
//   first message system: <|im_start|>system\n{content}<|im_end|>\n
//   otherwise the default: <|im_start|>system\n{default}<|im_end|>\n
//   every other message:   <|im_start|>{role}\n{content}<|im_end|>\n
//   generation prompt:     <|im_start|>assistant\n
// Tool calls and tool messages are refused (the recipe does not use them).
//
// The SFT loss mask is slime's "qwen" multi-turn mask (recipe.md §4.3).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TOKENIZER_CHAT_TEMPLATE_H_
#define INFIR2_RUNTIME_TOKENIZER_CHAT_TEMPLATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/tokenizer/tokenizer.h"

namespace infir2::text {
struct Message {
  std::string role; ///< system, user or assistant
  std::string content;
  /// slime's per-message step_loss_mask: anything but 1 masks the message.
  double stepLossMask = 1;
};

/// Messages from JSON: an array of {"role", "content"[, "step_loss_mask"]}.
/// Refuses other roles, non-string content and tool calls, naming the
/// message.
absl::StatusOr<std::vector<Message>> parseMessages(const nlohmann::json &j);

struct TokenizedConversation {
  std::vector<int32_t> ids;
  /// One per id (tokenizeWithLossMask only): 1 where the token is trained.
  std::vector<uint8_t> lossMask;
};

class ChatTemplate {
public:
  /// The template of |tokenizer| (tokenizer_config.json's chat_template or
  /// chat_template.jinja), which must be the Qwen2.5 template.
  static absl::StatusOr<std::unique_ptr<ChatTemplate>>
  fromTokenizer(const Tokenizer &tokenizer);
  /// The same from template text.
  static absl::StatusOr<std::unique_ptr<ChatTemplate>>
  fromText(const std::string &templateText, const Tokenizer &tokenizer);

  /// The template's rendering of |messages|.
  absl::StatusOr<std::string> render(const std::vector<Message> &messages,
                                     bool addGenerationPrompt) const;
  /// The ids of render() (no loss mask).
  absl::StatusOr<TokenizedConversation>
  tokenize(const std::vector<Message> &messages, bool addGenerationPrompt,
           const EncodeOptions &options = {}) const;
  /// slime's "qwen" loss mask (recipe.md §4.3): each message rendered and
  /// tokenized alone, the default system block (S tokens) dropped from
  /// every non-system message after the first; assistant messages trained
  /// after their first G tokens (`<|im_start|>assistant\n`), so content,
  /// `<|im_end|>` and the newline are trained; a message whose
  /// step_loss_mask is not 1 is not trained.
  absl::StatusOr<TokenizedConversation>
  tokenizeWithLossMask(const std::vector<Message> &messages,
                       const EncodeOptions &options = {}) const;

  const std::string &defaultSystemPrompt() const { return defaultSystem_; }
  /// S and G of the loss mask.
  int systemBlockLength() const { return systemBlockLength_; }
  int generationPrefixLength() const { return generationPrefixLength_; }

private:
  ChatTemplate(const Tokenizer &tokenizer) : tokenizer_(tokenizer) {}
  const Tokenizer &tokenizer_;
  std::string defaultSystem_;
  int systemBlockLength_ = 0, generationPrefixLength_ = 0;
};
} // namespace infir2::text

#endif // INFIR2_RUNTIME_TOKENIZER_CHAT_TEMPLATE_H_
