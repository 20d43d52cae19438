#!/usr/bin/env python3
"""Benchmark: infir2's tokenizer against Hugging Face tokenizers (Rust).

Builds a mixed corpus once under --workdir (Python standard library sources
for code, its docstrings for English prose, the tokenizer golden corpus for
CJK/emoji/math/whitespace/..., and seeded random CJK and Cyrillic text), one
JSON string per document, then encodes it with
  infir2      build/bin/infir2-bench-tokenizer (encodeBatch, 1 thread and
              all cores),
  tokenizers  Tokenizer.encode_batch (add_special_tokens=False), on one
              thread (RAYON_NUM_THREADS=1) and on all cores, in a child
              process per setting,
checks that both give the same ids, and prints a table of MB/s (of UTF-8
input) and tokens/s, best of --repeats. A developer tool (PyPI
tokenizers); not run by tools/test.sh.

usage: bench_tokenizer.py [--bench build/bin/infir2-bench-tokenizer]
                          [--tokenizer test/data/qwen2.5-tokenizer]
                          [--workdir /tmp/infir2-bench-tok] [--mb 16]
"""

import argparse
import glob
import inspect
import json
import os
import platform
import random
import subprocess
import sys

HF_CHILD = r"""
import json, sys, time
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
docs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
repeats, out = int(sys.argv[3]), sys.argv[4]
best = float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    enc = tok.encode_batch(docs, add_special_tokens=False)
    best = min(best, time.perf_counter() - start)
n = sum(len(e.ids) for e in enc)
if out:
    with open(out, "w") as f:
        for e in enc:
            f.write(json.dumps(e.ids) + "\n")
print(json.dumps({"seconds": best, "tokens": n}))
"""


def build_corpus(path, megabytes, golden):
    rng = random.Random(7)
    docs = []
    lib = os.path.dirname(os.__file__)
    for f in sorted(glob.glob(os.path.join(lib, "**", "*.py"), recursive=True)):
        if "/test" in f or "site-packages" in f:
            continue
        text = open(f, encoding="utf-8", errors="replace").read()
        docs.extend(text[i:i + 4000] for i in range(0, len(text), 4000))
    code = docs
    prose = []
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in ("antigravity", "this"):
            continue
        try:
            mod = __import__(name)
        except Exception:
            continue
        for _, obj in inspect.getmembers(mod):
            doc = inspect.getdoc(obj) if callable(obj) else None
            if doc and len(doc) > 200:
                prose.append(doc)
    other = [json.loads(l)["text"] for l in open(golden, encoding="utf-8")]
    cjk = ["".join(chr(rng.randint(0x4E00, 0x9FFF)) if rng.random() < 0.9 else "，"
               for _ in range(rng.randint(200, 1500))) for _ in range(800)]
    cyr = [" ".join("".join(chr(rng.randint(0x430, 0x44F)) for _ in range(rng.randint(2, 10)))
                    for _ in range(rng.randint(50, 400))) for _ in range(800)]
    pools = [(code, 0.45), (prose, 0.25), (other, 0.1), (cjk, 0.1), (cyr, 0.1)]
    target = megabytes * 1_000_000
    out, size = [], 0
    for pool, share in pools:
        budget, i = target * share, 0
        picks = rng.sample(pool, len(pool))
        while budget > 0 and picks:
            d = picks[i % len(picks)]
            out.append(d)
            budget -= len(d.encode())
            size += len(d.encode())
            i += 1
    rng.shuffle(out)
    with open(path, "w", encoding="utf-8") as f:
        for d in out:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return len(out), size


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default="build/bin/infir2-bench-tokenizer")
    p.add_argument("--tokenizer", default="test/data/qwen2.5-tokenizer")
    p.add_argument("--golden", default="test/golden/tokenizer/corpus.jsonl")
    p.add_argument("--workdir", default="/tmp/infir2-bench-tok")
    p.add_argument("--mb", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    corpus = os.path.join(args.workdir, f"corpus-{args.mb}mb.jsonl")
    if not os.path.exists(corpus):
        build_corpus(corpus, args.mb, args.golden)
    nbytes = sum(len(json.loads(l).encode()) for l in open(corpus, encoding="utf-8"))
    cores = os.cpu_count()

    ours = json.loads(subprocess.run(
        [args.bench, "--tokenizer", args.tokenizer, "--corpus", corpus,
         "--threads", f"1,{cores}", "--repeats", str(args.repeats)],
        check=True, capture_output=True, text=True).stdout)
    rows = [(f"infir2, {r['threads']} thread{'s' if r['threads'] > 1 else ''}",
             r["seconds"], r["tokens"]) for r in ours["results"]]
    ref_ids = os.path.join(args.workdir, "hf-ids.jsonl")
    for threads in (1, cores):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads),
                   TOKENIZERS_PARALLELISM="true")
        res = json.loads(subprocess.run(
            [sys.executable, "-c", HF_CHILD, args.tokenizer, corpus, str(args.repeats),
             ref_ids if threads == 1 else ""],
            check=True, capture_output=True, text=True, env=env).stdout)
        rows.append((f"tokenizers {__import__('tokenizers').__version__}, {threads} "
                     f"thread{'s' if threads > 1 else ''}", res["seconds"], res["tokens"]))
    # Same ids: infir2 tokenize on the corpus against the reference run.
    infir2 = os.path.join(os.path.dirname(args.bench), "infir2")
    ours_ids = os.path.join(args.workdir, "infir2-ids.jsonl")
    subprocess.run([infir2, "tokenize", "--tokenizer", args.tokenizer, "--input", corpus,
                    "--output", ours_ids], check=True)
    same = open(ours_ids).read().split() == [json.dumps(json.loads(l), separators=(",", ":"))
                                             for l in open(ref_ids)]
    print(f"# corpus: {nbytes / 1e6:.1f} MB in {ours['documents']} documents "
          f"(code, prose, CJK, Cyrillic, golden mix); {cores} cores, "
          f"{platform.machine()}; best of {args.repeats}; identical ids: {same}")
    print("| implementation | seconds | MB/s | tokens/s |")
    print("| --- | ---: | ---: | ---: |")
    for name, s, tokens in rows:
        print(f"| {name} | {s:.3f} | {nbytes / 1e6 / s:.2f} | {tokens / s:,.0f} |")
    if not same:
        sys.exit("the two tokenizers disagree on the benchmark corpus")


if __name__ == "__main__":
    main()
