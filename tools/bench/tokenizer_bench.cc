//===- tokenizer_bench.cc - Tokenizer encode throughput -------------------===//
//
// Part of infir2.
//
// infir2-bench-tokenizer --tokenizer DIR --corpus FILE [--threads N,...]
//                        [--repeats R]
// FILE holds one JSON string per line (the documents). Prints, per thread
// count, the best of R encodeBatch runs in MB/s of UTF-8 input and tokens/s.
// tools/bench/bench_tokenizer.py runs it next to Hugging Face tokenizers.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "runtime/tokenizer/tokenizer.h"

int main(int argc, char **argv) {
  std::string dir, corpus, threadsArg;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--tokenizer")
      dir = argv[i + 1];
    else if (a == "--corpus")
      corpus = argv[i + 1];
    else if (a == "--threads")
      threadsArg = argv[i + 1];
    else if (a == "--repeats")
      repeats = std::atoi(argv[i + 1]);
  }
  if (dir.empty() || corpus.empty()) {
    std::fprintf(stderr, "usage: infir2-bench-tokenizer --tokenizer DIR "
                         "--corpus FILE [--threads 1,2] [--repeats 3]\n");
    return 2;
  }
  auto tok = infir2::text::Tokenizer::load(dir);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tok.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> docs;
  size_t bytes = 0;
  std::ifstream in(corpus);
  std::string line;
  while (std::getline(in, line)) {
    docs.push_back(nlohmann::json::parse(line).get<std::string>());
    bytes += docs.back().size();
  }
  std::vector<int> threads;
  if (threadsArg.empty()) {
    threads = {1, static_cast<int>(std::thread::hardware_concurrency())};
  } else {
    for (size_t at = 0; at < threadsArg.size();) {
      size_t comma = threadsArg.find(',', at);
      threads.push_back(std::atoi(threadsArg.substr(at, comma - at).c_str()));
      at = comma == std::string::npos ? threadsArg.size() : comma + 1;
    }
  }
  std::printf("{\"documents\": %zu, \"bytes\": %zu, \"results\": [",
              docs.size(), bytes);
  for (size_t t = 0; t < threads.size(); ++t) {
    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < repeats; ++r) {
      auto start = std::chrono::steady_clock::now();
      auto ids = (*tok)->encodeBatch(docs, {}, threads[t]);
      double s = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - start)
                     .count();
      if (!ids.ok()) {
        std::fprintf(stderr, "%s\n",
                     std::string(ids.status().message()).c_str());
        return 1;
      }
      tokens = 0;
      for (const auto &v : *ids)
        tokens += v.size();
      best = std::min(best, s);
    }
    std::printf("%s{\"threads\": %d, \"seconds\": %.4f, \"mb_per_s\": %.2f, "
                "\"tokens\": %zu}",
                t ? ", " : "", threads[t], best, bytes / 1e6 / best, tokens);
  }
  std::printf("]}\n");
  return 0;
}
