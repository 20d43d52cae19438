//===- toml_reader.h - Strict, typed reads of recipe tables -----*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Every recipe table is read through this: each key with the type the
// recipe needs, unknown keys refused (a misspelt key must not be silently
// ignored), errors naming file:line and the key. Tables other parts of the
// recipe own are left alone.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_DATA_TOML_READER_H_
#define INFIR2_RUNTIME_DATA_TOML_READER_H_

#include <map>
#include <set>
#include <string>
#include <type_traits>

// Header-only toml++ (Debian's libtomlplusplus-dev), so that no shared
// library has to travel with the runner.
#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#endif
// std::to_chars/from_chars for floats (GCC >= 11): shortest round-trip
// output (2e-05, not 2.0000000000000002e-05) in resolved recipes.
#ifndef TOML_FLOAT_CHARCONV
#define TOML_FLOAT_CHARCONV 1
#endif
#include <toml++/toml.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace infir2::data {
class TomlReader {
public:
  TomlReader(const toml::table &root, std::string path)
      : root_(root), path_(std::move(path)) {}

  absl::Status status() const { return status_; }
  const std::string &path() const { return path_; }

  /// The table |name| (null if absent; an error if |required|).
  const toml::table *table(const char *name, bool required) {
    const toml::table *t = root_[name].as_table();
    if (!t && required)
      fail(root_.source(), absl::StrCat("no [", name, "] table"));
    return t;
  }

  /// Reads |table|.|key| into |out| when present: std::string, bool, double
  /// (an integer is accepted), or an integer type (non-negative).
  template <typename T>
  void get(const toml::table *t, const char *table, const char *key, T &out,
           bool required = false) {
    if (!status_.ok())
      return;
    known_[table].insert(key);
    const toml::node *n = t ? t->get(key) : nullptr;
    if (!n) {
      if (required)
        fail(t ? t->source() : root_.source(),
             absl::StrCat("[", table, "] needs '", key, "'"));
      return;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = n->value<std::string>())
        out = *v;
      else
        fail(n->source(), absl::StrCat(table, ".", key, " is not a string"));
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value<bool>())
        out = *v;
      else
        fail(n->source(), absl::StrCat(table, ".", key, " is not true/false"));
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = n->value<double>())
        out = static_cast<T>(*v);
      else
        fail(n->source(), absl::StrCat(table, ".", key, " is not a number"));
    } else {
      auto v = n->value<int64_t>();
      if (v && *v >= 0)
        out = static_cast<T>(*v);
      else
        fail(n->source(),
             absl::StrCat(table, ".", key, " is not a non-negative integer"));
    }
  }

  /// Fails on keys of |table| that get() was never asked for.
  void checkUnknown(const toml::table *t, const char *table) {
    if (!t || !status_.ok())
      return;
    for (const auto &[k, v] : *t)
      if (!known_[table].count(std::string(k.str()))) {
        std::string keys;
        for (const std::string &s : known_[table])
          absl::StrAppend(&keys, keys.empty() ? "" : ", ", s);
        fail(v.source(),
             absl::StrCat("unknown key ", table, ".", std::string(k.str()),
                          " (known: ", keys, ")"));
        return;
      }
  }

  /// Fails with |what| at the node of |table|.|key| (or the table).
  void failAt(const toml::table *t, const char *key, const std::string &what) {
    const toml::node *n = t ? t->get(key) : nullptr;
    fail(n ? n->source() : (t ? t->source() : root_.source()), what);
  }

  void fail(const toml::source_region &where, const std::string &what) {
    // Nodes from --set overrides have no place in the file.
    if (status_.ok())
      status_ = absl::InvalidArgumentError(
          where.begin.line == 0
              ? absl::StrCat(path_, " (a --set override): ", what)
              : absl::StrCat(path_, ":", where.begin.line, ": ", what));
  }

private:
  const toml::table &root_;
  std::string path_;
  absl::Status status_;
  std::map<std::string, std::set<std::string>> known_;
};
} // namespace infir2::data

#endif // INFIR2_RUNTIME_DATA_TOML_READER_H_
