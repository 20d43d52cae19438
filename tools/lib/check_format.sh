#!/usr/bin/env bash
# clang-format-22 check of the C++ files a change touches: the files that
# differ from the merge base with origin/main (when that is not HEAD itself),
# otherwise the files of the HEAD commit, plus uncommitted and untracked ones.
# Every C++ file is checked when INFIR2_FORMAT_ALL=1, when HEAD has no parent
# (a shallow or first-commit clone) or outside a git checkout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

format=clang-format-22
command -v "$format" >/dev/null || {
  echo "check_format: $format not found (apt-get install clang-format-22)" >&2
  exit 1
}

cxx='\.(cpp|cc|h|hpp|cu|cuh)$'
all_files() { git ls-files 2>/dev/null | grep -E "$cxx" || find . -path ./build\* -prune -o -type f -print | grep -E "$cxx"; }

if [[ ${INFIR2_FORMAT_ALL:-0} == 1 ]] || ! git rev-parse --git-dir >/dev/null 2>&1 ||
   ! git rev-parse -q --verify HEAD~1 >/dev/null; then
  scope="all C++ files"
  files=$(all_files)
else
  base=$(git merge-base HEAD origin/main 2>/dev/null || true)
  if [[ -z $base || $base == $(git rev-parse HEAD) ]]; then
    base=HEAD~1
  fi
  scope="C++ files changed since $(git rev-parse --short "$base")"
  files=$( { git diff --name-only --diff-filter=d "$base"; \
             git ls-files --others --exclude-standard; } | sort -u | grep -E "$cxx" || true)
fi

if [[ -z $files ]]; then
  echo "check_format: no $scope"
  exit 0
fi
count=$(wc -l <<<"$files")
if xargs "$format" --dry-run -Werror <<<"$files"; then
  echo "check_format: $count files ($scope) are clang-format-22 clean"
else
  echo "check_format: run: $format -i <file> (style: .clang-format)" >&2
  exit 1
fi
