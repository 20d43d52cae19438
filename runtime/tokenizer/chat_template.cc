//===- chat_template.cc - The Qwen2.5 chat template and loss masks --------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/chat_template.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "runtime/tokenizer/unicode.h"

namespace infir2::text {
namespace {
#include "runtime/tokenizer/qwen25_chat_template.inc"

constexpr const char *kImStart = "<|im_start|>";
constexpr const char *kImEnd = "<|im_end|>";

/// The value of a single-quoted Jinja string literal's body: Python's
/// string escapes (Jinja decodes literals with "unicode-escape"); an
/// unknown escape keeps its backslash.
std::string jinjaUnescape(const std::string &s) {
  std::string out;
  auto hex = [&](size_t at, size_t n, uint32_t &cp) {
    if (at + n > s.size())
      return false;
    cp = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[at + k];
      int v = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (v < 0)
        return false;
      cp = cp * 16 + static_cast<uint32_t>(v);
    }
    return true;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char c = s[++i];
    uint32_t cp;
    switch (c) {
    case 'n':
      out.push_back('\n');
      break;
    case 't':
      out.push_back('\t');
      break;
    case 'r':
      out.push_back('\r');
      break;
    case 'b':
      out.push_back('\b');
      break;
    case 'f':
      out.push_back('\f');
      break;
    case 'v':
      out.push_back('\v');
      break;
    case 'a':
      out.push_back('\a');
      break;
    case '\\':
    case '\'':
    case '"':
      out.push_back(c);
      break;
    case '\n':
      break; // a line continuation
    case 'x':
    case 'u':
    case 'U': {
      const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
      if (hex(i + 1, n, cp) && cp <= 0x10FFFF) {
        text::appendUtf8(out, cp);
        i += n;
      } else {
        out.push_back('\\');
        out.push_back(c);
      }
      break;
    }
    default:
      if (c >= '0' && c <= '7') { // octal, up to three digits
        cp = 0;
        size_t k = 0;
        while (k < 3 && i + k < s.size() && s[i + k] >= '0' && s[i + k] <= '7')
          cp = cp * 8 + static_cast<uint32_t>(s[i + k++] - '0');
        text::appendUtf8(out, cp);
        i += k - 1;
      } else {
        out.push_back('\\');
        out.push_back(c);
      }
    }
  }
  return out;
}

std::string block(const std::string &role, const std::string &content) {
  return absl::StrCat(kImStart, role, "\n", content, kImEnd, "\n");
}
} // namespace

absl::StatusOr<std::vector<Message>> parseMessages(const nlohmann::json &j) {
  if (!j.is_array() || j.empty())
    return absl::InvalidArgumentError(
        "expected a non-empty JSON array of messages {\"role\", \"content\"}");
  std::vector<Message> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json &m = j[i];
    const std::string where = absl::StrCat("message ", i, ": ");
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return absl::InvalidArgumentError(
          absl::StrCat(where, "needs a string \"role\""));
    Message msg;
    msg.role = m["role"].get<std::string>();
    if (msg.role == "tool" ||
        (m.contains("tool_calls") && !m["tool_calls"].is_null() &&
         !(m["tool_calls"].is_array() && m["tool_calls"].empty())))
      return absl::UnimplementedError(absl::StrCat(
          where, "tool calls and tool messages are not supported by infir2's "
                 "chat template renderer"));
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
      return absl::InvalidArgumentError(
          absl::StrCat(where, "role '", msg.role,
                       "' is not system, user or assistant (the Qwen2.5 "
                       "template would drop it silently)"));
    if (!m.contains("content") || !m["content"].is_string())
      return absl::InvalidArgumentError(
          absl::StrCat(where, "needs a string \"content\""));
    msg.content = m["content"].get<std::string>();
    if (m.contains("step_loss_mask")) {
      // As slime's `message.get("step_loss_mask", 1) != 1`: true is 1,
      // null and false mask the message.
      const nlohmann::json &v = m["step_loss_mask"];
      if (v.is_number())
        msg.stepLossMask = v.get<double>();
      else if (v.is_boolean())
        msg.stepLossMask = v.get<bool>() ? 1 : 0;
      else if (v.is_null())
        msg.stepLossMask = 0;
      else
        return absl::InvalidArgumentError(
            absl::StrCat(where, "step_loss_mask is not a number"));
    }
    out.push_back(std::move(msg));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ChatTemplate>>
ChatTemplate::fromTokenizer(const Tokenizer &tokenizer) {
  if (tokenizer.chatTemplate().empty())
    return absl::NotFoundError(
        "the tokenizer has no chat_template (tokenizer_config.json or "
        "chat_template.jinja); use an Instruct model's tokenizer");
  return fromText(tokenizer.chatTemplate(), tokenizer);
}

absl::StatusOr<std::unique_ptr<ChatTemplate>>
ChatTemplate::fromText(const std::string &text, const Tokenizer &tokenizer) {
  // The default system prompt sits in the non-tool branch:
  //   {{- '<|im_start|>system\n<default><|im_end|>\n' }}
  // (the literal ends at its first unescaped quote).
  const std::string open = "{{- '<|im_start|>system\\n";
  const std::string suffix = "<|im_end|>\\n";
  std::string literal;
  for (size_t at = text.find(open); at != std::string::npos && literal.empty();
       at = text.find(open, at + 1)) {
    size_t i = at + open.size();
    while (i < text.size() && text[i] != '\'')
      i += text[i] == '\\' ? 2 : 1;
    const std::string body =
        text.substr(at + open.size(), i - at - open.size());
    if (body.size() > suffix.size() &&
        body.compare(body.size() - suffix.size(), suffix.size(), suffix) == 0)
      literal = body.substr(0, body.size() - suffix.size());
  }
  if (literal.empty() ||
      text != absl::StrReplaceAll(kQwen25Template, {{"@SYSTEM@", literal}}))
    return absl::UnimplementedError(
        "the tokenizer's chat_template is not the Qwen2.5 template; infir2 "
        "renders that template only (no general Jinja engine) and refuses "
        "others rather than render them wrongly");
  std::unique_ptr<ChatTemplate> t(new ChatTemplate(tokenizer));
  t->defaultSystem_ = jinjaUnescape(literal);
  for (const char *token : {kImStart, kImEnd})
    if (!tokenizer.tokenToId(token))
      return absl::InvalidArgumentError(
          absl::StrCat("the chat template needs the token ", token,
                       ", which the tokenizer does not have"));
  absl::StatusOr<std::vector<int32_t>> sys =
      tokenizer.encode(block("system", t->defaultSystem_));
  absl::StatusOr<std::vector<int32_t>> gen =
      tokenizer.encode(absl::StrCat(kImStart, "assistant\n"));
  if (!sys.ok() || !gen.ok())
    return absl::InvalidArgumentError("the default system prompt is not UTF-8");
  t->systemBlockLength_ = static_cast<int>(sys->size());
  t->generationPrefixLength_ = static_cast<int>(gen->size());
  return t;
}

absl::StatusOr<std::string>
ChatTemplate::render(const std::vector<Message> &messages,
                     bool addGenerationPrompt) const {
  if (messages.empty())
    return absl::InvalidArgumentError("no messages to render");
  std::string out;
  size_t first = 0;
  if (messages[0].role == "system") {
    out = block("system", messages[0].content);
    first = 1;
  } else {
    out = block("system", defaultSystem_);
  }
  for (size_t i = first; i < messages.size(); ++i)
    absl::StrAppend(&out, block(messages[i].role, messages[i].content));
  if (addGenerationPrompt)
    absl::StrAppend(&out, kImStart, "assistant\n");
  return out;
}

absl::StatusOr<TokenizedConversation>
ChatTemplate::tokenize(const std::vector<Message> &messages,
                       bool addGenerationPrompt,
                       const EncodeOptions &options) const {
  absl::StatusOr<std::string> text = render(messages, addGenerationPrompt);
  if (!text.ok())
    return text.status();
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer_.encode(*text, options);
  if (!ids.ok())
    return ids.status();
  return TokenizedConversation{std::move(*ids), {}};
}

absl::StatusOr<TokenizedConversation>
ChatTemplate::tokenizeWithLossMask(const std::vector<Message> &messages,
                                   const EncodeOptions &options) const {
  if (messages.empty())
    return absl::InvalidArgumentError("no messages to tokenize");
  // S and G under the same options as the messages (with special tokens
  // split they are longer).
  size_t systemBlock = static_cast<size_t>(systemBlockLength_);
  size_t generationPrefix = static_cast<size_t>(generationPrefixLength_);
  if (!options.matchSpecialTokens) {
    systemBlock =
        tokenizer_.encode(block("system", defaultSystem_), options)->size();
    generationPrefix =
        tokenizer_.encode(absl::StrCat(kImStart, "assistant\n"), options)
            ->size();
  }
  TokenizedConversation out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message &m = messages[i];
    absl::StatusOr<TokenizedConversation> one =
        tokenize({m}, /*addGenerationPrompt=*/false, options);
    if (!one.ok())
      return absl::Status(
          one.status().code(),
          absl::StrCat("message ", i, ": ", one.status().message()));
    std::vector<int32_t> &ids = one->ids;
    // Rendered alone, a non-system message carries the default system
    // block; only the first message keeps it.
    if (i > 0 && m.role != "system") {
      const size_t drop = std::min(ids.size(), systemBlock);
      ids.erase(ids.begin(), ids.begin() + drop);
    }
    const size_t prefix = std::min(ids.size(), generationPrefix);
    for (size_t k = 0; k < ids.size(); ++k)
      out.lossMask.push_back(
          m.role == "assistant" && m.stepLossMask == 1 && k >= prefix ? 1 : 0);
    out.ids.insert(out.ids.end(), ids.begin(), ids.end());
  }
  return out;
}
} // namespace infir2::text
