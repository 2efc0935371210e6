"""The ``calibration`` grid (appendix chapter ``book/calibration``; the paper's App D.6 and Fig 22).

Before any law is fitted, the protocol is tuned at our scale: the peak learning rate is swept a factor
2 apart at three sizes spanning the L(N) grid (smallest, middle, largest two-layer model), at two or
three batch sizes, all on one token budget. The smallest size also checks Adam's β2 (0.999 against our
0.99) and the warmup length (a few steps, and the fixed 250k tokens of the first grid, against the
``tuned`` warmup). ``scalinglaws calibrate`` then fits the optimum of each sweep and the rule
``LR*(N)`` the ``tuned`` protocol uses.

Every run uses the ``calibration`` protocol (``protocol.calibration``): ``tuned``'s warmup and cosine,
the LR given. Ladders are chosen so the optimum of a pilot probe (issue 6) lies well inside them, and a
larger batch's ladder is shifted up by one factor of 2 (larger batches take larger LRs).
"""
from __future__ import annotations

from .. import protocol
from ..config import TrainConfig
from . import Grid, RunSpec, gpt, register

TOKENS = 2_000_000
SMALLEST, MIDDLE, LARGEST = gpt(2, 8, 1), gpt(2, 32, 1), gpt(2, 128, 4)
BATCHES = {"small": 2048, "large": 8192}
EXTRA_BATCH = 1024            # the smallest size also tries a smaller batch
EVAL = {"eval_points": 16, "eval_tokens": 32_768}

# Peak LRs per size at the 2k-token batch; the 8k batch uses the same ladder × 2.
LADDERS = {"L2-d8": protocol.log_spaced(0.008, 0.256), "L2-d32": protocol.log_spaced(0.002, 0.064),
           "L2-d128": protocol.log_spaced(0.001, 0.016)}
CHECK_LRS = protocol.log_spaced(0.016, 0.128)      # the β2 and warmup checks at the smallest size
CHECK_WARMUPS = {"short": 8_192, "old": 250_000}     # 4 steps at 2k; the first grid's fixed warmup


def _base(model, lr: float, **overrides) -> dict:
    return protocol.calibration(model, tokens=TOKENS, lr=lr, **EVAL, **overrides)


def _lr_sweep(model, ladder: list, batch: int) -> list:
    return [RunSpec(f"{label(model)}_b{batch}_lr{lr:g}", _config(_base(model, lr, batch_tokens=batch)))
            for lr in ladder]


def label(model) -> str:
    return f"L{model['n_layer']}-d{model['d_model']}"


def _config(config: dict) -> dict:
    return TrainConfig.from_dict(config).to_dict()


def _runs() -> tuple:
    runs = []
    for model in (SMALLEST, MIDDLE, LARGEST):
        ladder = LADDERS[label(model)]
        runs += _lr_sweep(model, ladder, BATCHES["small"])
        runs += _lr_sweep(model, [2 * lr for lr in ladder], BATCHES["large"])
    runs += _lr_sweep(SMALLEST, [lr / 2 for lr in LADDERS["L2-d8"]], EXTRA_BATCH)
    name = label(SMALLEST)
    for lr in CHECK_LRS:
        runs.append(RunSpec(f"{name}_b2048_lr{lr:g}_beta2-0.999",
                            _config(_base(SMALLEST, lr, batch_tokens=2048, betas=(0.9, 0.999)))))
        for tag, warmup in CHECK_WARMUPS.items():
            runs.append(RunSpec(f"{name}_b2048_lr{lr:g}_warmup-{tag}",
                                _config(_base(SMALLEST, lr, batch_tokens=2048, warmup_tokens=warmup))))
    return tuple(runs)


CALIBRATION = Grid(
    "calibration",
    "Protocol calibration (App D.6): peak-LR sweeps a factor 2 apart at three sizes (L2-d8, L2-d32, "
    "L2-d128) and two batches (2k and 8k tokens; 1k too at the smallest), plus β2 and warmup checks at the "
    "smallest size, each run 2e6 tokens. About 70 minutes on 2 CPU cores.",
    _runs(), chapter="book/calibration")

register(CALIBRATION)
