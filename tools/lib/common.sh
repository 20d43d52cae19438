# Shared set-up of tools/test.sh and tools/demo.sh. Source it; do not run it.
#
#   infir2_install_packages      apt-get installs what is missing (as root)
#   infir2_configure DIR ARGS... configures DIR with CMake + Ninja if needed
#   infir2_log MESSAGE           prints a step header

INFIR2_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build and the tests need. LLVM/MLIR 22.1 come from
# Debian (bookworm-security carries 1:22.1.8); the CUDA Toolkit is expected
# under /usr/local/cuda and is optional.
INFIR2_PACKAGES=(
  cmake ninja-build g++ git python3
  libabsl-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev libopenblas-dev
  libpcre2-dev libutf8proc-dev libtomlplusplus-dev
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-format-22
)

infir2_log() { printf '\n==> %s\n' "$*"; }

infir2_install_packages() {
  local missing=() pkg
  for pkg in "${INFIR2_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
        grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "infir2: missing Debian packages: ${missing[*]}" >&2
    echo "infir2: install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  infir2_log "Installing missing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

# infir2_configure <build dir> [cmake args...]: configures once; later calls
# reuse the cache (CMake re-runs itself when a CMakeLists.txt changes).
infir2_configure() {
  local dir=$1
  shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    infir2_log "Configuring $dir"
    cmake -G Ninja -S "$INFIR2_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@"
  fi
}
