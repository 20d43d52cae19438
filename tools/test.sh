#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs every infir2 test:
#   - the full build in build/ (runtime + compiler), GoogleTest through ctest
#     and the .mlir tests through lit;
#   - the runtime-only build in build-rt/ (INFIR2_BUILD_COMPILER=OFF, LLVM and
#     MLIR hidden from CMake), its tests, and a check that no runtime object
#     includes an LLVM or MLIR header;
#   - clang-format-22 on the C++ files this change touches.
# Exits non-zero on any failure; the last line is "N passed, N failed".
#
# Environment: INFIR2_FORMAT_ALL=1 checks the format of every C++ file.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$INFIR2_ROOT"

start=$(date +%s)
passed=0
failed=0
failures=()
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# record <name> <exit code>: counts one check of this script.
record() {
  if [[ $2 -eq 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$1")
  fi
}

# count_junit <file> <label> <exit code of the runner>: adds the test cases
# of a JUnit XML file; a runner that failed without a failed test case to
# show for it (a crash, a test it could not start) counts as one failure.
count_junit() {
  local counts
  if ! counts=$(python3 tools/lib/junit_counts.py "$1"); then
    record "$2 (no results)" 1
    return
  fi
  local p f names
  read -r p f <<<"$(head -n1 <<<"$counts")"
  passed=$((passed + p))
  failed=$((failed + f))
  while IFS= read -r names; do
    [[ -n $names ]] && failures+=("$2: $names")
  done < <(tail -n +2 <<<"$counts")
  if [[ $3 -ne 0 && $f -eq 0 ]]; then
    record "$2 exited with status $3" 1
  fi
}

# Ends the run early with a summary line.
give_up() {
  echo "infir2: $1" >&2
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
}

infir2_install_packages || give_up "missing Debian packages (see above)"

infir2_log "Building build/ (runtime + compiler)"
infir2_configure build || give_up "configuring build/ failed"
cmake --build build || give_up "the build failed"

infir2_log "GoogleTest and CTest checks (build/), the exhaustive sweeps included"
(cd build && ctest --output-on-failure --output-junit "$results/ctest.xml")
count_junit "$results/ctest.xml" "ctest build/" $?

infir2_log "lit tests (build/test)"
lit=$(sed -n 's/^LLVM_EXTERNAL_LIT:[A-Z]*=//p' build/CMakeCache.txt)
"${lit:-/usr/lib/llvm-22/bin/lit}" -sv --xunit-xml-output "$results/lit.xml" \
  build/test
count_junit "$results/lit.xml" "lit" $?

infir2_log "Runtime-only build (build-rt/, INFIR2_BUILD_COMPILER=OFF)"
infir2_configure build-rt -DINFIR2_BUILD_COMPILER=OFF
cmake --build build-rt
rt_build=$?
record "runtime-only build (build-rt/)" $rt_build
if [[ $rt_build -eq 0 ]]; then
  # The exhaustive sweeps already ran in build/ on the same code.
  (cd build-rt && ctest --output-on-failure -LE exhaustive \
    --output-junit "$results/ctest-rt.xml")
  count_junit "$results/ctest-rt.xml" "ctest build-rt/" $?
  python3 tools/lib/check_runtime_isolation.py build-rt --all
  record "build-rt/ includes no LLVM/MLIR header and links no LLVM/MLIR library" $?
fi
# In the full build, the runtime targets must be just as clean.
python3 tools/lib/check_runtime_isolation.py build
record "build/ runtime objects include no LLVM/MLIR header, keep exceptions" $?
# Negative control: over all of build/ the same check must see the compiler's
# LLVM/MLIR includes (exit 1 and an "includes .../mlir/..." finding), or it
# proves nothing.
control=$(python3 tools/lib/check_runtime_isolation.py build --all 2>&1)
[[ $? -eq 1 ]] && grep -q 'includes /.*/\(mlir\|llvm\)/' <<<"$control"
record "isolation check detects the compiler's LLVM/MLIR includes" $?

infir2_log "clang-format-22 on changed C++ files"
bash tools/lib/check_format.sh
record "clang-format-22" $?

elapsed=$(($(date +%s) - start))
infir2_log "Summary (${elapsed}s)"
for f in "${failures[@]}"; do
  echo "FAILED: $f"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
