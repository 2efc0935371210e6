"""The ``calibration`` grids (appendix chapter ``book/calibration``; the paper's App D.6 and Fig 22).

Before any law is fitted, the protocol is tuned at our scale: the peak learning rate is swept a factor
2 apart at three sizes spanning the L(N) grid (smallest, middle, largest two-layer model), at two batch
sizes, all on one token budget. The smallest size also checks Adam's β2 (0.999 against our
0.99) and the warmup length (a few steps, and the fixed 250k tokens of the first grid, against the
``tuned`` warmup). ``scalinglaws calibrate`` then fits the optimum of each sweep and the rule
``LR*(N)`` the ``tuned`` protocol uses.

Every run uses the ``calibration`` protocol (``protocol.calibration``): ``tuned``'s warmup and cosine,
the LR given. Ladders are chosen so the optimum of a pilot probe (issue 6) lies well inside them, and a
larger batch's ladder is shifted up by one factor of 2 (larger batches take larger LRs).
``calibration-quick`` is the same design at smaller sizes and a fifth of the tokens.
"""
from __future__ import annotations

from .. import protocol
from ..config import TrainConfig
from . import Grid, RunSpec, gpt, register

TOKENS = 2_000_000
SMALLEST, MIDDLE, LARGEST = gpt(2, 8, 1), gpt(2, 32, 1), gpt(2, 128, 4)
BATCHES = {"small": 2048, "large": 8192}
EXTRA_BATCH = None            # a third, smaller batch at the smallest size (e.g. 1024); not trained in the reference
EVAL = {"eval_points": 16, "eval_tokens": 32_768}

# Peak LRs per size at the 2k-token batch; the 8k batch uses the same ladder × 2.
LADDERS = {"L2-d8": protocol.log_spaced(0.008, 0.256), "L2-d32": protocol.log_spaced(0.002, 0.064),
           "L2-d128": protocol.log_spaced(0.001, 0.016)}
CHECK_LRS = protocol.log_spaced(0.016, 0.064)      # the β2 and warmup checks at the smallest size, around its optimum
CHECK_WARMUPS = {"short": 8_192, "old": 250_000}     # 4 steps at 2k; the first grid's fixed warmup

QUICK_TOKENS = 400_000
QUICK_SIZES = (gpt(2, 8, 1), gpt(2, 32, 1), gpt(2, 64, 2))
QUICK_LADDERS = {"L2-d8": protocol.log_spaced(0.016, 0.256), "L2-d32": protocol.log_spaced(0.004, 0.064),
                 "L2-d64": protocol.log_spaced(0.002, 0.032)}
QUICK_CHECK_LRS = protocol.log_spaced(0.032, 0.064)
# At 4e5 tokens the default evaluations cost more than the training (1.4e6 tokens forward against 4e5 trained), so
# the quick grid reads fewer. The cost in precision is a few thousandths of a nat: over 35 quick runs, the last
# 32k-token curve point and the 262k-token final loss of the same weights differ by 0.004 nats (standard deviation).
QUICK_EVAL = {"eval_points": 12, "eval_tokens": 16_384, "final_eval_tokens": 65_536, "ood_eval_tokens": 16_384}


def label(model) -> str:
    return f"L{model['n_layer']}-d{model['d_model']}"


def _run(run_id: str, model, tokens: int, lr: float, evaluation: dict = EVAL, **overrides) -> RunSpec:
    config = protocol.calibration(model, tokens=tokens, lr=lr, **{**evaluation, **overrides})
    return RunSpec(run_id, TrainConfig.from_dict(config).to_dict())


def _lr_sweep(model, ladder: list, batch: int, tokens: int, evaluation: dict) -> list:
    return [_run(f"{label(model)}_b{batch}_lr{lr:g}", model, tokens, lr, evaluation, batch_tokens=batch)
            for lr in ladder]


def calibration_runs(sizes, ladders: dict, check_lrs: list, *, tokens: int = TOKENS,
                     extra_batch: int | None = EXTRA_BATCH, evaluation: dict = EVAL) -> tuple:
    """LR sweeps at every size and batch (the larger batch's ladder × 2), the smaller batch at the smallest
    size, and the β2 and warmup checks at the smallest size over ``check_lrs``."""
    runs = []
    for model in sizes:
        ladder = ladders[label(model)]
        runs += _lr_sweep(model, ladder, BATCHES["small"], tokens, evaluation)
        runs += _lr_sweep(model, [2 * lr for lr in ladder], BATCHES["large"], tokens, evaluation)
    smallest = sizes[0]
    if extra_batch:
        runs += _lr_sweep(smallest, [lr / 2 for lr in ladders[label(smallest)]], extra_batch, tokens, evaluation)
    name = label(smallest)
    for lr in check_lrs:
        runs.append(_run(f"{name}_b2048_lr{lr:g}_beta2-0.999", smallest, tokens, lr, evaluation, batch_tokens=2048,
                         betas=(0.9, 0.999)))
        for tag, warmup in CHECK_WARMUPS.items():
            runs.append(_run(f"{name}_b2048_lr{lr:g}_warmup-{tag}", smallest, tokens, lr, evaluation,
                             batch_tokens=2048, warmup_tokens=warmup))
    return tuple(runs)


CALIBRATION = Grid(
    "calibration",
    "Protocol calibration (App D.6): peak-LR sweeps a factor 2 apart at three sizes (L2-d8, L2-d32, "
    "L2-d128) and two batches (2k and 8k tokens), plus β2 and warmup checks at three LRs at the smallest "
    "size, each run 2e6 tokens. About 95 minutes on 2 CPU cores.",
    calibration_runs((SMALLEST, MIDDLE, LARGEST), LADDERS, CHECK_LRS), chapter="book/calibration")

CALIBRATION_QUICK = Grid(
    "calibration-quick",
    "Protocol calibration, quick: the same design at L2-d8, L2-d32 and L2-d64 with 5 LRs per sweep, two "
    "batches, β2 and warmup checks at two LRs, each run 4e5 tokens. About 15 minutes on 2 CPU cores; at a "
    "fifth of the tokens its optima lie higher than the full grid's.",
    calibration_runs(QUICK_SIZES, QUICK_LADDERS, QUICK_CHECK_LRS, tokens=QUICK_TOKENS, extra_batch=None,
                     evaluation=QUICK_EVAL),
    chapter="book/calibration")

register(CALIBRATION, CALIBRATION_QUICK)
