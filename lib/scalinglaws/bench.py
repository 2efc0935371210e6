"""Training-throughput benchmark: prints tokens/s per shape and thread count.

Speed targets are measured here, never asserted in tests. Each measurement times full training
steps (forward, backward, clip, AdamW) of the same model the grids train, on random tokens, after
three warm-up steps, for at least ``--seconds``. Run it under the allocator you will train with;
``scalinglaws grid run`` preloads tcmalloc when it is installed, and this benchmark does the same
by re-executing itself when ``LD_PRELOAD`` is unset.
"""
from __future__ import annotations

import os
import sys
import time

import torch

from .model import ModelShape, build_model, formula_params, lm_loss


def measure(shape: ModelShape, threads: int, seconds: float, batch_tokens: int, micro_tokens: int,
            bf16: bool = False) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(shape)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    micro = max(1, micro_tokens // shape.n_ctx)
    accumulation = max(1, batch_tokens // (micro * shape.n_ctx))
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else (lambda: torch.enable_grad())

    def step():
        for _ in range(accumulation):
            x = torch.randint(0, shape.vocab_size, (micro, shape.n_ctx + 1))
            with autocast():
                loss = lm_loss(model, x)
            (loss / accumulation).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and n >= 3:
            break
    return n * accumulation * micro * shape.n_ctx / elapsed


def main(args) -> int:
    from .grid import worker_env
    env = worker_env(1)
    if "LD_PRELOAD" in env and not os.environ.get("LD_PRELOAD"):
        os.environ.update({k: v for k, v in env.items() if k in ("LD_PRELOAD",)})
        os.execv(sys.executable, [sys.executable, "-m", "scalinglaws.cli", *sys.argv[1:]])
    print(f"allocator: {os.environ.get('LD_PRELOAD') or 'glibc'}; torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs; ctx {args.ctx}; {args.batch_tokens} tokens/step in micro-batches of "
          f"{args.micro_batch_tokens}{'; bf16' if args.bf16 else ''}")
    print(f"{'shape':<10} {'N':>10} {'total':>10} " + " ".join(f"{f'{t} thr tok/s':>14}" for t in args.threads))
    for spec in args.shapes:
        n_layer, d_model = (int(v) for v in spec.lower().split("x"))
        shape = ModelShape(n_layer, d_model, max(1, d_model // 32) if d_model % 32 == 0 else 1, args.ctx)
        p = formula_params(shape)
        rates = [measure(shape, t, args.seconds, args.batch_tokens, args.micro_batch_tokens, args.bf16)
                 for t in args.threads]
        print(f"{shape.label:<10} {p['non_embedding']:>10,} {p['total']:>10,} "
              + " ".join(f"{r:>14,.0f}" for r in rates), flush=True)
    return 0
