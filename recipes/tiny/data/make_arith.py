#!/usr/bin/env python3
"""Writes the tiny recipes' synthetic, verifiable arithmetic datasets.

Word problems (addition, subtraction, multiplication, two-step) whose
assistant answers think inside <think>...</think> and end in \\boxed{N}: the
family of tasks the InfiR2 reward checks (recipe.md §5: `</think>` present,
boxed answer equals the label), small enough for a tiny model on a CPU.

  arith_sft.jsonl   {"messages": [system, user, assistant]}   (SFT; the
                    tiny SFT recipe holds out part of it for evaluation)
  arith_rl.jsonl    {"prompt": [system, user], "label": "N"}   (GRPO)

Deterministic (Python's random.Random(seed)); standard library only:
  python3 recipes/tiny/data/make_arith.py [--sft 2048] [--rl 512] [--seed 1]
"""

import argparse
import json
import os
import random

SYSTEM = "Solve the problem. Think first, then give the answer in \\boxed{}."
NAMES = ["Ana", "Ben", "Chen", "Dina", "Eli", "Fatima", "Goro", "Hana",
         "Ivan", "Jade", "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya"]
ITEMS = ["apples", "books", "coins", "marbles", "pencils", "stickers",
         "cards", "shells", "stamps", "buttons"]


def problem(rng):
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    kind = rng.randrange(4)
    if kind == 0:
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        ans = a + b
        q = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
        think = f"{name} starts with {a} {item}. {a} + {b} = {ans}."
        say = f"{name} has {a} + {b} = {ans} {item}."
    elif kind == 1:
        b, ans = rng.randint(2, 40), rng.randint(1, 50)
        a = ans + b
        q = f"{name} had {a} {item} and gave away {b}. How many {item} are left?"
        think = f"{name} gives away {b} of {a} {item}. {a} - {b} = {ans}."
        say = f"{name} has {a} - {b} = {ans} {item} left."
    elif kind == 2:
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        ans = a * b
        q = f"A box holds {a} {item}. How many {item} are in {b} boxes?"
        think = f"Each box holds {a} {item}, and there are {b} boxes. {a} * {b} = {ans}."
        say = f"There are {a} * {b} = {ans} {item}."
    else:
        a, b, c = rng.randint(1, 30), rng.randint(2, 6), rng.randint(2, 9)
        ans = a + b * c
        q = (f"{name} has {a} {item} and buys {b} packs with {c} {item} "
             f"each. How many {item} does {name} have now?")
        think = f"The packs hold {b} * {c} = {b * c} {item}. {a} + {b * c} = {ans}."
        say = f"{name} has {a} + {b * c} = {ans} {item}."
    answer = f"<think>\n{think}\n</think>\n\n{say} The answer is \\boxed{{{ans}}}."
    return q, answer, str(ans)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sft", type=int, default=2048)
    ap.add_argument("--rl", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(os.path.join(args.out, "arith_sft.jsonl"), "w") as f:
        for _ in range(args.sft):
            q, answer, _ = problem(rng)
            f.write(json.dumps({"messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": q},
                {"role": "assistant", "content": answer}]}) + "\n")
    with open(os.path.join(args.out, "arith_rl.jsonl"), "w") as f:
        for _ in range(args.rl):
            q, _, label = problem(rng)
            f.write(json.dumps({"prompt": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": q}], "label": label}) + "\n")


if __name__ == "__main__":
    main()
