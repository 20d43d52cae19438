#!/usr/bin/env bash
# Builds the runtime half for a GPU machine that has the CUDA driver and
# toolkit but none of the Debian -dev packages (the device tool's image,
# docs/guide/gpu.md): INFIR2_BUILD_COMPILER=OFF in build-gpu/, the
# third-party shared libraries the binaries need copied next to them, and a
# script that runs every GPU check there.
#
#   bash tools/gpu/bundle.sh            # build build-gpu/ and check it here
#   (on the GPU machine) bash build-gpu/gpu-checks.sh
#
# What is not copied: glibc, libstdc++/libgcc (the image's are newer), and
# the CUDA libraries (NVRTC, cuBLASLt: the image's toolkit; libcuda: its
# driver). The bundle must stay under the device tool's 64 MiB carry limit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$INFIR2_ROOT"
infir2_install_packages
dir=build-gpu
# OpenBLAS shared: one 35 MB copy in ext/ instead of one per binary.
cmake -G Ninja -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release \
  -DINFIR2_BUILD_COMPILER=OFF -DINFIR2_OPENBLAS_STATIC=OFF \
  -UINFIR2_OPENBLAS_LIBRARY >/dev/null
targets=(infir2 cuda_backend_test library_kernels_test exec_plan_check)
cmake --build "$dir" --target "${targets[@]}"

# Fused training artifacts of the golden models for exec_plan_check (the
# GPU image has no compiler): from the full build's infir2c.
rm -rf "$dir/artifacts" && mkdir -p "$dir/artifacts"
if [[ -x build/bin/infir2c ]]; then
  for cfg in tied_hd64_r7 untied_hd128_r6; do
    for precision in bf16 fp8; do
      build/bin/infir2c --model "test/golden/qwen2/$cfg" --precision "$precision" \
        --gradients --fusion on --emit artifact \
        -o "$dir/artifacts/$cfg.$precision.art" >/dev/null
    done
  done
else
  echo "bundle: no build/bin/infir2c (run tools/test.sh first): no artifacts for exec_plan_check" >&2
fi

rm -rf "$dir/ext" && mkdir -p "$dir/ext"
for t in "${targets[@]}"; do
  ldd "$dir/bin/$t" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case $(basename "$lib") in
  libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | ld-linux* | \
    libstdc++.so* | libgcc_s.so* | libcuda.so* | libnvrtc* | libcublas* | \
    libcudart*) ;;
  *) cp -L "$lib" "$dir/ext/" ;;
  esac
done

cat >"$dir/gpu-checks.sh" <<'SH'
#!/usr/bin/env bash
# Runs the CUDA backend's checks on a GPU machine from the carried build-gpu/.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LD_LIBRARY_PATH="$here/ext:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export INFIR2_CACHE_DIR=${INFIR2_CACHE_DIR:-$here/cache}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$here/bin/infir2" info || exit 1
failed=0
for t in cuda_backend_test library_kernels_test; do
  "$here/bin/$t" --gtest_brief=1 || failed=1
done
# The CUDA executor against the CPU executor on the golden models' fused
# training steps (run from the repository root, where test/golden is).
for art in "$here"/artifacts/*.art; do
  [[ -d $art ]] || continue
  cfg=$(basename "$art" | cut -d. -f1)
  "$here/bin/exec_plan_check" "$art" "test/golden/qwen2/$cfg" 96 48 || failed=1
done
echo "gpu-checks: $([[ $failed == 0 ]] && echo PASS || echo FAIL)"
exit $failed
SH
chmod +x "$dir/gpu-checks.sh"
size=$(du -sbL "$dir/bin/infir2" "$dir/bin/cuda_backend_test" \
  "$dir/bin/library_kernels_test" "$dir/bin/exec_plan_check" "$dir/ext" \
  "$dir/artifacts" "$dir/gpu-checks.sh" |
  awk '{s += $1} END {print s}')
echo "bundle: $(ls "$dir/ext" | wc -l) libraries in $dir/ext, $((size / 1048576)) MiB with the binaries"
((size < 64 * 1048576)) || {
  echo "bundle: over the 64 MiB carry limit" >&2
  exit 1
}
# The same checks here: the GPU tests must skip, visibly.
env -u LD_LIBRARY_PATH bash "$dir/gpu-checks.sh"
