//===- json_text.h - JSON values in error messages --------------*- C++ -*-===//
//
// Part of infir2. Header only; no dependencies beyond nlohmann-json.
//
// nlohmann's dump() recurses once per nesting level, so dumping untrusted
// input (a safetensors header, a config.json) into a message could overflow
// the stack on `[[[[...]]]]`. briefJson renders at most a few levels and
// elements and elides the rest.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_BASE_JSON_TEXT_H_
#define INFIR2_RUNTIME_BASE_JSON_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "nlohmann/json.hpp"

namespace infir2 {
template <typename Json>
std::string briefJson(const Json &v, int depth = 0) {
  constexpr int kMaxDepth = 3;
  constexpr size_t kMaxElements = 8;
  if (!v.is_structured())
    return v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (depth >= kMaxDepth)
    return v.is_array() ? "[...]" : "{...}";
  std::string out = v.is_array() ? "[" : "{";
  size_t i = 0;
  for (auto it = v.begin(); it != v.end(); ++it, ++i) {
    if (i == kMaxElements) {
      out += ", ...";
      break;
    }
    if (i > 0)
      out += ", ";
    if (v.is_object())
      out +=
          Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace) +
          ": ";
    out += briefJson(*it, depth + 1);
  }
  return out + (v.is_array() ? "]" : "}");
}
/// Parses |text|; on failure returns a discarded value and sets |error| to
/// nlohmann's description (position and reason) without its exception tag.
/// For callers built with exceptions (the runtime half).
inline nlohmann::json parseJson(std::string_view text, std::string &error) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    error = e.what();
    if (size_t tag = error.find("] ");
        error.rfind("[json.", 0) == 0 && tag != std::string::npos)
      error = error.substr(tag + 2);
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

/// obj[key] as T (std::string, bool, int64_t or double) when present with
/// T's JSON type, |def| when obj is not an object or has no |key|, and
/// nullopt when the key holds another type. nlohmann's value() would throw
/// on a config.json that has, e.g., "num_bits": "4".
template <typename T, typename Json>
std::optional<T> jsonField(const Json &obj, const char *key, T def) {
  if (!obj.is_object() || !obj.contains(key))
    return def;
  const Json &v = obj[key];
  bool ok;
  if constexpr (std::is_same_v<T, std::string>)
    ok = v.is_string();
  else if constexpr (std::is_same_v<T, bool>)
    ok = v.is_boolean();
  else if constexpr (std::is_same_v<T, int64_t>)
    ok = v.is_number_integer() &&
         !(v.is_number_unsigned() &&
           v.template get<uint64_t>() > static_cast<uint64_t>(INT64_MAX));
  else
    ok = v.is_number();
  if (!ok)
    return std::nullopt;
  return v.template get<T>();
}
} // namespace infir2

#endif // INFIR2_RUNTIME_BASE_JSON_TEXT_H_
