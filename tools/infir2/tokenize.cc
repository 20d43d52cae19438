//===- tokenize.cc - `infir2 tokenize` and `infir2 detokenize` ------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 tokenize --tokenizer DIR --input FILE [--output FILE]
//                 [--chat [--generation-prompt] [--loss-mask]]
//                 [--split-special-tokens] [--threads N]
// infir2 detokenize --tokenizer DIR --input FILE [--output FILE]
//                   [--skip-special-tokens]
// (docs/guide/infir2-tokenize.md). Lines are JSON; output is one JSON
// value per input line, in order; a bad line is an error naming file:line.
//
//===----------------------------------------------------------------------===//

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"
#include "runtime/numerics/parallel.h"
#include "runtime/tokenizer/chat_template.h"
#include "runtime/tokenizer/tokenizer.h"
#include "tools/infir2/commands.h"

namespace infir2::runner {
namespace {
using nlohmann::json;

constexpr const char *kTokenizeUsage =
    "usage: infir2 tokenize --tokenizer DIR --input FILE [--output FILE]\n"
    "                       [--chat [--generation-prompt] [--loss-mask]]\n"
    "                       [--split-special-tokens] [--threads N]\n"
    "\n"
    "  plain: each input line is a JSON string; each output line a JSON "
    "array of ids\n"
    "  --chat: each input line is a JSON array of messages {role, content\n"
    "          [, step_loss_mask]}, rendered with the tokenizer's chat "
    "template;\n"
    "          output {\"ids\": [...]} (+ \"loss_mask\": [...] with "
    "--loss-mask)\n"
    "  --generation-prompt    append <|im_start|>assistant\\n (with --chat)\n"
    "  --split-special-tokens tokenize special-token text as ordinary text\n";

constexpr const char *kDetokenizeUsage =
    "usage: infir2 detokenize --tokenizer DIR --input FILE [--output FILE]\n"
    "                         [--skip-special-tokens]\n"
    "\n"
    "  each input line is a JSON array of ids; each output line a JSON "
    "string\n";

struct Args {
  std::string tokenizer, input, output = "-";
  bool chat = false, generationPrompt = false, lossMask = false;
  bool splitSpecial = false, skipSpecial = false;
  int threads = 0;
};

int fail(const char *command, const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 %s: %s\n", command, message.c_str());
  return code;
}

/// Parses the flags of |command|; returns -1 to go on, else an exit code.
int parseArgs(const char *command, const char *usage, bool tokenize, int argc,
              char **argv, Args &a) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (tokenize && arg == "--chat") {
      a.chat = true;
    } else if (tokenize && arg == "--generation-prompt") {
      a.generationPrompt = true;
    } else if (tokenize && arg == "--loss-mask") {
      a.lossMask = true;
    } else if (tokenize && arg == "--split-special-tokens") {
      a.splitSpecial = true;
    } else if (!tokenize && arg == "--skip-special-tokens") {
      a.skipSpecial = true;
    } else if (arg == "--tokenizer" || arg == "--input" || arg == "--output" ||
               (tokenize && arg == "--threads")) {
      if (i + 1 >= argc)
        return fail(command, absl::StrCat("'", arg, "' needs a value"), 2);
      std::string v = argv[++i];
      if (arg == "--tokenizer")
        a.tokenizer = v;
      else if (arg == "--input")
        a.input = v;
      else if (arg == "--output")
        a.output = v;
      else
        a.threads = std::atoi(v.c_str());
    } else {
      return fail(command, absl::StrCat("unknown option '", arg, "'\n", usage),
                  2);
    }
  }
  if (a.tokenizer.empty() || a.input.empty())
    return fail(command,
                absl::StrCat("--tokenizer and --input are required\n", usage),
                2);
  if ((a.generationPrompt || a.lossMask) && !a.chat)
    return fail(command, "--generation-prompt and --loss-mask need --chat", 2);
  if (a.generationPrompt && a.lossMask)
    return fail(command,
                "--loss-mask describes training conversations; it does not "
                "go with --generation-prompt",
                2);
  return -1;
}

/// The input's lines (numbered from 1), blank lines dropped.
bool readLines(const std::string &path,
               std::vector<std::pair<int64_t, std::string>> &lines,
               std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = absl::StrCat(path, ": cannot open");
    return false;
  }
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n)
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      lines.emplace_back(n, std::move(line));
  return true;
}

/// Writes |text| to |path| ("-": stdout) through a temporary file.
bool writeOutput(const std::string &path, const std::string &text,
                 std::string &error) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) {
      error = absl::StrCat("cannot write ", tmp);
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = absl::StrCat("cannot rename ", tmp, " to ", path);
    return false;
  }
  return true;
}

std::string idsJson(const std::vector<int32_t> &ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    absl::StrAppend(&s, i ? "," : "", ids[i]);
  return s + "]";
}
} // namespace

int runTokenize(int argc, char **argv) {
  Args a;
  if (int rc = parseArgs("tokenize", kTokenizeUsage, true, argc, argv, a);
      rc >= 0)
    return rc;
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tok =
      text::Tokenizer::load(a.tokenizer);
  if (!tok.ok())
    return fail("tokenize", std::string(tok.status().message()));
  std::unique_ptr<text::ChatTemplate> chat;
  if (a.chat) {
    absl::StatusOr<std::unique_ptr<text::ChatTemplate>> t =
        text::ChatTemplate::fromTokenizer(**tok);
    if (!t.ok())
      return fail("tokenize", std::string(t.status().message()));
    chat = std::move(*t);
  }
  std::vector<std::pair<int64_t, std::string>> lines;
  std::string error;
  if (!readLines(a.input, lines, error))
    return fail("tokenize", error);
  if (a.threads > 0)
    numerics::setNumThreads(a.threads);

  text::EncodeOptions options;
  options.matchSpecialTokens = !a.splitSpecial;
  std::vector<std::string> out(lines.size());
  std::vector<std::string> errors(lines.size());
  numerics::parallelFor(
      static_cast<int64_t>(lines.size()), 8, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const auto &[lineNo, line] = lines[i];
          auto where = [&, lineNo = lineNo] {
            return absl::StrCat(a.input, ":", lineNo, ": ");
          };
          std::string parseError;
          json j = parseJson(line, parseError);
          if (j.is_discarded()) {
            errors[i] = absl::StrCat(where(), "not valid JSON: ", parseError);
            continue;
          }
          if (!a.chat) {
            if (!j.is_string()) {
              errors[i] = absl::StrCat(where(), "expected a JSON string");
              continue;
            }
            absl::StatusOr<std::vector<int32_t>> ids =
                (*tok)->encode(j.get<std::string>(), options);
            if (!ids.ok())
              errors[i] = absl::StrCat(where(), ids.status().message());
            else
              out[i] = idsJson(*ids);
            continue;
          }
          absl::StatusOr<std::vector<text::Message>> messages =
              text::parseMessages(j);
          if (!messages.ok()) {
            errors[i] = absl::StrCat(where(), messages.status().message());
            continue;
          }
          absl::StatusOr<text::TokenizedConversation> conv =
              a.lossMask
                  ? chat->tokenizeWithLossMask(*messages, options)
                  : chat->tokenize(*messages, a.generationPrompt, options);
          if (!conv.ok()) {
            errors[i] = absl::StrCat(where(), conv.status().message());
            continue;
          }
          std::string s = absl::StrCat("{\"ids\":", idsJson(conv->ids));
          if (a.lossMask) {
            s += ",\"loss_mask\":[";
            for (size_t k = 0; k < conv->lossMask.size(); ++k)
              absl::StrAppend(&s, k ? "," : "", int(conv->lossMask[k]));
            s += "]";
          }
          out[i] = s + "}";
        }
      });
  for (const std::string &e : errors)
    if (!e.empty())
      return fail("tokenize", e);
  std::string text;
  for (const std::string &s : out)
    absl::StrAppend(&text, s, "\n");
  if (!writeOutput(a.output, text, error))
    return fail("tokenize", error);
  return 0;
}

int runDetokenize(int argc, char **argv) {
  Args a;
  if (int rc = parseArgs("detokenize", kDetokenizeUsage, false, argc, argv, a);
      rc >= 0)
    return rc;
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tok =
      text::Tokenizer::load(a.tokenizer);
  if (!tok.ok())
    return fail("detokenize", std::string(tok.status().message()));
  std::vector<std::pair<int64_t, std::string>> lines;
  std::string error;
  if (!readLines(a.input, lines, error))
    return fail("detokenize", error);
  std::string text;
  for (const auto &[lineNo, line] : lines) {
    const std::string where = absl::StrCat(a.input, ":", lineNo, ": ");
    std::string parseError;
    json j = parseJson(line, parseError);
    if (j.is_discarded())
      return fail("detokenize",
                  absl::StrCat(where, "not valid JSON: ", parseError));
    std::vector<int32_t> ids;
    bool ok = j.is_array();
    for (size_t k = 0; ok && k < j.size(); ++k) {
      const json &v = j[k];
      ok = v.is_number_unsigned()
               ? v.get<uint64_t>() <= static_cast<uint64_t>(INT32_MAX)
               : v.is_number_integer() && v.get<int64_t>() >= INT32_MIN &&
                     v.get<int64_t>() <= INT32_MAX;
      if (ok)
        ids.push_back(v.get<int32_t>());
    }
    if (!ok)
      return fail("detokenize",
                  absl::StrCat(where, "expected a JSON array of token ids "
                                      "(32-bit integers)"));
    absl::StatusOr<std::string> s = (*tok)->decode(ids, a.skipSpecial);
    if (!s.ok())
      return fail("detokenize", absl::StrCat(where, s.status().message()));
    absl::StrAppend(&text, json(*s).dump(), "\n");
  }
  if (!writeOutput(a.output, text, error))
    return fail("detokenize", error);
  return 0;
}
} // namespace infir2::runner
