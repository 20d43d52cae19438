#!/usr/bin/env python3
"""Proves that the runtime half of infir2 never includes an LLVM or MLIR header.

Reads the header dependencies Ninja recorded for every object it compiled
(`ninja -t deps`) and the compile commands (compile_commands.json) of a build
directory. For each runtime object (runtime/, frontends/hf/,
tools/infir2/, test/unit/runtime/; every object with --all) it fails if

  * any recorded header lies in an llvm/, llvm-c/, mlir/ or mlir-c/ include
    directory or under an llvm-<N> installation, or
  * its compile command carries LLVM's -fno-exceptions / -fno-rtti or an
    LLVM/MLIR include directory.

With --all it also fails if any link command names an LLVM or MLIR library
(the INFIR2_BUILD_COMPILER=OFF build must not link them at all).

usage: check_runtime_isolation.py BUILD_DIR [--all]
"""

import json
import re
import subprocess
import sys

RUNTIME_PREFIXES = ("runtime/", "frontends/hf/", "tools/infir2/",
                    "test/unit/runtime/")
LLVM_PATH = re.compile(r"(^|/)(llvm|llvm-c|mlir|mlir-c)/|/llvm-\d+(/|$)")
LLVM_FLAGS = ("-fno-exceptions", "-fno-rtti")
LLVM_LIBS = re.compile(r"(libLLVM|libMLIR|-lLLVM|-lMLIR)")


def ninja(build_dir, *args):
    return subprocess.run(["ninja", "-C", build_dir, "-t", *args], check=True,
                          capture_output=True, text=True).stdout


def parse_deps(text):
    """Maps each object to the header paths Ninja recorded for it."""
    deps, current = {}, None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            current = line.split(":", 1)[0]
            deps[current] = []
        elif current is not None:
            deps[current].append(line.strip())
    return deps


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--all"):
        print(__doc__, file=sys.stderr)
        return 2
    build_dir, check_all = sys.argv[1], len(sys.argv) == 3
    selected = lambda obj: check_all or obj.startswith(RUNTIME_PREFIXES)
    problems = []

    deps = {o: d for o, d in parse_deps(ninja(build_dir, "deps")).items()
            if selected(o) and o.endswith(".o")}
    if not deps:
        print(f"check_runtime_isolation: error: no objects with recorded "
              f"dependencies in {build_dir}; build it first", file=sys.stderr)
        return 2
    headers = 0
    for obj, paths in sorted(deps.items()):
        headers += len(paths)
        bad = [p for p in paths if LLVM_PATH.search(p)]
        if bad:
            problems.append(f"{obj} includes {bad[0]}"
                            + (f" and {len(bad) - 1} more LLVM/MLIR headers" if len(bad) > 1 else ""))

    with open(f"{build_dir}/compile_commands.json") as f:
        commands = json.load(f)
    checked_commands = 0
    for entry in commands:
        args = entry.get("command", "").split()
        # The object is the -o argument (CMake < 3.26 has no "output" key).
        obj = args[args.index("-o") + 1] if "-o" in args else None
        if obj is None or not selected(obj):
            continue
        checked_commands += 1
        for flag in LLVM_FLAGS:
            if flag in args:
                problems.append(f"{obj} is compiled with LLVM's {flag}")
        for i, arg in enumerate(args):
            inc = arg[2:] if arg.startswith("-I") else (
                args[i + 1] if arg in ("-I", "-isystem") and i + 1 < len(args) else None)
            if inc and LLVM_PATH.search(inc + "/"):
                problems.append(f"{obj} has the LLVM/MLIR include directory {inc}")
                break

    if check_all:
        for line in ninja(build_dir, "commands").splitlines():
            lib = LLVM_LIBS.search(line)
            if lib and " -o " in line:
                out = line.split(" -o ", 1)[1].split()[0]
                problems.append(f"{out} links an LLVM/MLIR library ({lib.group(0)}...)")

    for p in problems:
        print(f"check_runtime_isolation: {p}", file=sys.stderr)
    print(f"check_runtime_isolation: {build_dir}: {len(deps)} objects, {headers} "
          f"header dependencies, {checked_commands} compile commands checked; "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    # Exit codes: 0 clean, 1 LLVM/MLIR found, 2 the check itself failed (bad
    # arguments, missing build directory, ninja error), so a broken check can
    # never pass for a detection.
    try:
        sys.exit(main())
    except Exception as e:  # pylint: disable=broad-except
        print(f"check_runtime_isolation: error: {e}", file=sys.stderr)
        sys.exit(2)
