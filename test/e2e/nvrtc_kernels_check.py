#!/usr/bin/env python3
"""Checks that NVRTC compiled every kernel of an artifact without spilling.

  nvrtc_kernels_check.py ARTIFACT_DIR ARCH

ARTIFACT_DIR was written by `infir2c --emit artifact --target cuda:ARCH`:
its kernels/ARCH.cubin must exist, and every kernel of the manifest must
carry ptxas's resources for ARCH with no stack frame (local memory) and no
spill stores or loads. Prints one line per kernel (registers, shared
memory) and a PASS line.
"""
import json
import os
import sys

art, arch = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(art, "manifest.json")))
cubin = os.path.join(art, "kernels", arch + ".cubin")
if not os.path.isfile(cubin) or os.path.getsize(cubin) == 0:
    print(f"nvrtc_kernels_check: no {cubin}: FAIL")
    sys.exit(1)
kernels = m.get("kernels", {}).get("list", [])
if not kernels:
    print("nvrtc_kernels_check: the artifact has no generated kernels: FAIL")
    sys.exit(1)
bad = []
regs = []
for k in kernels:
    r = k.get("resources", {}).get(arch)
    if r is None:
        bad.append(f"{k['name']}: no {arch} resources")
        continue
    regs.append(r["registers"])
    print(f"{k['name']:60s} {r['registers']:4d} registers, "
          f"{k['block_threads']:4d} threads, {k['smem_bytes']:6d} B shared, "
          f"stack {r['stack_bytes']}, spills {r['spill_stores']}+"
          f"{r['spill_loads']}")
    if r["stack_bytes"] or r["spill_stores"] or r["spill_loads"]:
        bad.append(f"{k['name']}: stack {r['stack_bytes']} B, spill stores "
                   f"{r['spill_stores']} B, spill loads {r['spill_loads']} B")
    if k["smem_bytes"] + r["static_smem"] > 227 * 1024:
        bad.append(f"{k['name']}: {k['smem_bytes']} B of shared memory is "
                   "more than a Hopper block gets (227 KiB)")
for b in bad:
    print("nvrtc_kernels_check:", b)
status = "FAIL" if bad else "PASS"
print(f"nvrtc_kernels_check: {len(kernels)} kernels for {arch}, registers "
      f"{min(regs) if regs else 0}-{max(regs) if regs else 0}, no local "
      f"memory: {status}")
sys.exit(1 if bad else 0)
