#!/usr/bin/env python3
"""Golden micro-batch partitions for infir2's packing (recipe.md §4.4).

slime balances each rank's samples over its micro-batches with the
Karmarkar-Karp largest-differencing partition of verl
(verl/utils/seqlen_balancing.py: get_seqlen_balanced_partitions, which
slime copies). This script runs verl's own function on seeded random
length lists (ties included) and writes, one JSON object per line,
  {"lengths": [...], "k": k, "equal_size": bool, "partitions": [[...], ...]}
to karmarkar_karp.jsonl next to it.

verl's module imports torch and verl.utils.device; the latter (and verl's
package __init__, which needs setuptools) is stubbed, the algorithm itself
is verl's code, unmodified.

Regenerate (PyPI; CPU is enough):
  python3 -m pip install torch && python3 -m pip install --no-deps verl==0.4.0
  python3 test/golden/packing/make_golden.py
"""

import importlib.util
import json
import os
import random
import sys
import types


def verl_module():
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("verl is not installed: pip install --no-deps verl==0.4.0")
    root = spec.submodule_search_locations[0]
    # Stubs: verl/__init__ (pkg_resources) and verl.utils.device are not
    # needed by the balancing algorithm.
    for name in ("verl", "verl.utils"):
        mod = types.ModuleType(name)
        mod.__path__ = [os.path.join(root, *name.split(".")[1:])]
        sys.modules[name] = mod
    device = types.ModuleType("verl.utils.device")
    device.get_device_name = lambda: "cpu"
    sys.modules["verl.utils.device"] = device
    path = os.path.join(root, "utils", "seqlen_balancing.py")
    s = importlib.util.spec_from_file_location("verl.utils.seqlen_balancing", path)
    m = importlib.util.module_from_spec(s)
    s.loader.exec_module(m)
    return m


def main():
    balancing = verl_module()
    rng = random.Random(4242)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "karmarkar_karp.jsonl")
    cases = 0
    with open(out, "w") as f:
        for i in range(400):
            n = rng.randint(1, 64)
            r = rng.random()
            if r < 0.3:  # many ties
                lengths = [rng.choice([128, 256, 512, 1024]) for _ in range(n)]
            elif r < 0.6:
                lengths = [rng.randint(1, 32768) for _ in range(n)]
            else:  # SFT-like: mostly short, a few long
                lengths = [int(rng.lognormvariate(7, 1.2)) + 1 for _ in range(n)]
            equal = rng.random() < 0.2
            if equal:
                divisors = [d for d in range(1, n + 1) if n % d == 0]
                k = rng.choice(divisors)
            else:
                k = rng.randint(1, n)
            parts = balancing.get_seqlen_balanced_partitions(lengths, k, equal)
            f.write(json.dumps({"lengths": lengths, "k": k, "equal_size": equal,
                                "partitions": parts}) + "\n")
            cases += 1
    print(f"wrote {out}: {cases} cases")


if __name__ == "__main__":
    main()
