#!/usr/bin/env bash
# Builds the runtime half for a GPU machine that has the CUDA driver and
# toolkit but none of the Debian -dev packages (the device tool's image,
# docs/guide/gpu.md), packed into one archive the device tool can carry:
#
#   bash tools/gpu/bundle.sh     # writes build-gpu/bundle.tar.xz, checks it here
#   (on the GPU machine, from the repository root)
#   tar -xJf build-gpu/bundle.tar.xz -C build-gpu && bash build-gpu/bundle/gpu-checks.sh
#
# The archive holds the binaries (INFIR2_BUILD_COMPILER=OFF), the shared
# libraries they need other than glibc, libstdc++/libgcc and the CUDA
# libraries (the image has newer ones, and its toolkit and driver), and the
# golden models' fused training artifacts compiled here with the full
# build's infir2c. The device tool carries at most 64 MiB including the
# tracked files; the script checks that.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$INFIR2_ROOT"
infir2_install_packages
dir=build-gpu
out=$dir/bundle
# OpenBLAS shared: one copy in ext/ instead of one per binary.
cmake -G Ninja -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release \
  -DINFIR2_BUILD_COMPILER=OFF -DINFIR2_OPENBLAS_STATIC=OFF \
  -UINFIR2_OPENBLAS_LIBRARY >/dev/null
grep -q '^INFIR2_ENABLE_CUDA:STRING=\(AUTO\|ON\)' "$dir/CMakeCache.txt" &&
  [[ -d /usr/local/cuda ]] || {
  echo "bundle: needs the CUDA Toolkit (/usr/local/cuda) to build the CUDA backend" >&2
  exit 1
}
targets=(infir2 cuda_backend_test library_kernels_test exec_plan_check)
cmake --build "$dir" --target "${targets[@]}"
rm -rf "$out" && mkdir -p "$out/bin" "$out/ext" "$out/artifacts"
for t in "${targets[@]}"; do
  cp "$dir/bin/$t" "$out/bin/"
done

# Fused training artifacts of the golden models for exec_plan_check (the
# GPU image has no compiler), from the full build's infir2c, rebuilt first.
if [[ ! -f build/build.ninja ]]; then
  echo "bundle: no full build in build/ (run tools/test.sh first): it compiles the artifacts" >&2
  exit 1
fi
cmake --build build --target infir2c
for cfg in tied_hd64_r7 untied_hd128_r6; do
  for precision in bf16 fp8; do
    build/bin/infir2c --model "test/golden/qwen2/$cfg" --precision "$precision" \
      --gradients --fusion on --emit artifact \
      -o "$out/artifacts/$cfg.$precision.art" >/dev/null
  done
done

for t in "${targets[@]}"; do
  ldd "$out/bin/$t" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case $(basename "$lib") in
  libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | ld-linux* | \
    libstdc++.so* | libgcc_s.so* | libcuda.so* | libnvrtc* | libcublas* | \
    libcudart*) ;;
  *) cp -L "$lib" "$out/ext/" ;;
  esac
done

cat >"$out/gpu-checks.sh" <<'SH'
#!/usr/bin/env bash
# Runs the CUDA backend's checks from the unpacked bundle. Where a GPU is
# present, a skipped GPU test is a failure: the point is to run them.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd) # the repository: test/golden is there
export LD_LIBRARY_PATH="$here/ext:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export INFIR2_CACHE_DIR=${INFIR2_CACHE_DIR:-$here/cache}
gpu=0
if nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; then
  gpu=1
fi
"$here/bin/infir2" info || exit 1
failed=0
log=$(mktemp)
for t in cuda_backend_test library_kernels_test; do
  "$here/bin/$t" --gtest_brief=1 2>&1 | tee -a "$log"
  [[ ${PIPESTATUS[0]} == 0 ]] || failed=1
done
arts=0
for art in "$here"/artifacts/*.art; do
  [[ -d $art ]] || continue
  arts=$((arts + 1))
  cfg=$(basename "$art" | cut -d. -f1)
  "$here/bin/exec_plan_check" "$art" "$root/test/golden/qwen2/$cfg" 96 48 2>&1 | tee -a "$log"
  [[ ${PIPESTATUS[0]} == 0 ]] || failed=1
done
if ((arts == 0)); then
  echo "gpu-checks: no artifacts in $here/artifacts" >&2
  failed=1
fi
if ((gpu)) && grep -Eq 'SKIPPED|GPU run skipped' "$log"; then
  echo "gpu-checks: a GPU is present but GPU tests were skipped" >&2
  failed=1
fi
rm -f "$log"
echo "gpu-checks: $([[ $failed == 0 ]] && echo PASS || echo FAIL)"
exit $failed
SH
chmod +x "$out/gpu-checks.sh"
tar -cJf "$dir/bundle.tar.xz" -C "$dir" bundle
archive=$(stat -c %s "$dir/bundle.tar.xz")
tracked=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s}')
echo "bundle: $(ls "$out/ext" | wc -l) libraries; $dir/bundle.tar.xz is $((archive / 1048576)) MiB, the tracked files $((tracked / 1048576)) MiB"
((archive + tracked < 64 * 1048576)) || {
  echo "bundle: over the device tool's 64 MiB carry limit" >&2
  exit 1
}
# The same checks here, from the archive: the GPU tests must skip, visibly.
rm -rf "$out" && tar -xJf "$dir/bundle.tar.xz" -C "$dir"
env -u LD_LIBRARY_PATH bash "$out/gpu-checks.sh"
