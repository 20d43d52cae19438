#!/usr/bin/env python3
"""Golden data for infir2's optimizer and LR schedules (test/unit/runtime/train_test.cc).

adamw.safetensors - torch.optim.AdamW (foreach=False, fp32) for 4 steps on
    four parameters shaped like a transformer's (a 2-D weight and an
    embedding, which decay; a bias and a norm weight, which do not, as in
    Megatron's parameter groups), with torch.nn.utils.clip_grad_norm_(1.0)
    before each step; the gradients of steps 1 and 3 are large so the clip
    acts. Tensors:
      init.<p>                  the parameters before step 1
      grad.<k>.<p>              the raw gradient of step k (1-based)
      lr                        [4] the learning rate of each step (f64)
      grad_norm                 [4] clip_grad_norm_'s total norm (f64)
      param.<k>.<p>, exp_avg.<k>.<p>, exp_avg_sq.<k>.<p>   after step k
    metadata: beta1, beta2, eps, weight_decay, clip.
schedules.json - megatron.core.optimizer_param_scheduler's
    OptimizerParamScheduler: for each configuration, the learning rate of
    optimizer step n = 0..decay+5 (the value it sets before step n runs).

Regenerate (PyPI packages; CPU is enough):
  python3 -m pip install torch safetensors
  python3 -m pip install --no-deps megatron-core
  python3 test/golden/optim/make_golden.py
"""

import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = {
    "model.embed_tokens.weight": (40, 24),
    "model.layers.0.mlp.up_proj.weight": (32, 24),
    "model.layers.0.self_attn.q_proj.bias": (32,),
    "model.norm.weight": (24,),
}
BETA1, BETA2, EPS, WD, CLIP = 0.9, 0.95, 1e-8, 0.1, 1.0
LRS = [0.0, 1e-3, 2e-3, 1.5e-3]
GRAD_SCALE = [0.01, 3.0, 0.02, 5.0]


def decays(name, p):
    return p.dim() > 1 and not name.endswith(".bias")


def adamw():
    gen = torch.Generator().manual_seed(7)
    params = {n: torch.nn.Parameter(torch.randn(s, generator=gen) * 0.1)
              for n, s in SHAPES.items()}
    out = {f"init.{n}": p.detach().clone() for n, p in params.items()}
    opt = torch.optim.AdamW(
        [{"params": [p for n, p in params.items() if decays(n, p)],
          "weight_decay": WD},
         {"params": [p for n, p in params.items() if not decays(n, p)],
          "weight_decay": 0.0}],
        lr=LRS[0], betas=(BETA1, BETA2), eps=EPS, foreach=False)
    norms = []
    for k, (lr, scale) in enumerate(zip(LRS, GRAD_SCALE), start=1):
        for n, p in params.items():
            p.grad = torch.randn(p.shape, generator=gen) * scale
            out[f"grad.{k}.{n}"] = p.grad.clone()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), CLIP)
        norms.append(float(norm))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        for n, p in params.items():
            st = opt.state[p]
            out[f"param.{k}.{n}"] = p.detach().clone()
            out[f"exp_avg.{k}.{n}"] = st["exp_avg"].clone()
            out[f"exp_avg_sq.{k}.{n}"] = st["exp_avg_sq"].clone()
    out["lr"] = torch.tensor(LRS, dtype=torch.float64)
    out["grad_norm"] = torch.tensor(norms, dtype=torch.float64)
    save_file({k: v.contiguous() for k, v in out.items()},
              os.path.join(HERE, "adamw.safetensors"),
              metadata={"generator": "test/golden/optim/make_golden.py",
                        "torch": torch.__version__, "beta1": str(BETA1),
                        "beta2": str(BETA2), "eps": str(EPS),
                        "weight_decay": str(WD), "clip": str(CLIP)})
    print("grad norms:", norms)


class _Optimizer:  # what OptimizerParamScheduler touches
    def __init__(self):
        self.param_groups = [{}]


SCHEDULES = [
    dict(name="cosine_sft", style="cosine", max_lr=2e-5, min_lr=2e-6,
         warmup=5, decay=100),
    # --lr-warmup-fraction 0.05 over 124 steps: W = 6.2 (the tiny recipe).
    dict(name="cosine_warmup_fraction", style="cosine", max_lr=3e-3,
         min_lr=3e-4, warmup=0.05 * 124, decay=124),
    dict(name="cosine_no_warmup", style="cosine", max_lr=5e-5, min_lr=5e-6,
         warmup=0, decay=40),
    dict(name="linear", style="linear", max_lr=1e-3, min_lr=0.0, warmup=4,
         decay=30),
    dict(name="constant_rl", style="constant", max_lr=1e-6, min_lr=0.0,
         warmup=0, decay=20),
    dict(name="constant_warmup", style="constant", max_lr=1e-6, min_lr=0.0,
         warmup=3, decay=20),
] + [dict(name=f"wsd_{s}", style="WSD", max_lr=1e-4, min_lr=1e-5, warmup=10,
          decay=80, wsd=20, wsd_style=s)
     for s in ("cosine", "linear", "exponential", "minus_sqrt")]


def schedules():
    from megatron.core import optimizer_param_scheduler as mps
    out = []
    for s in SCHEDULES:
        sched = mps.OptimizerParamScheduler(
            _Optimizer(), init_lr=0.0, max_lr=s["max_lr"], min_lr=s["min_lr"],
            lr_warmup_steps=s["warmup"], lr_decay_steps=s["decay"],
            lr_decay_style=s["style"], start_wd=0.0, end_wd=0.0,
            wd_incr_steps=1, wd_incr_style="constant",
            wsd_decay_steps=s.get("wsd"),
            lr_wsd_decay_style=s.get("wsd_style"))
        lrs = []
        for n in range(s["decay"] + 6):
            lrs.append(sched.optimizer.param_groups[0]["lr"])
            sched.step(1)
        out.append(dict(s, lr=lrs))
    with open(os.path.join(HERE, "schedules.json"), "w") as f:
        json.dump({"generator": "test/golden/optim/make_golden.py",
                   "source": "megatron.core.optimizer_param_scheduler",
                   "schedules": out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    adamw()
    schedules()
