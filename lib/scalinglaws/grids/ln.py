"""Grids of the L(N) chapter (paper §3, Fig 1 right, Fig 6).

``cpu-default`` is the first reference grid, kept as it was trained (before the engine issue):
windows drawn with replacement (``sampling="random"``), no split steps for the noise estimator,
Kaplan's LR(N) at 8k-token batches. Its records in ``runs/reference/cpu-default`` were trained
on the first preparation of the corpus; retraining it today would use the current one.
"""
from ..config import LEGACY
from . import Grid, gpt, register, sweep

SIZES = [gpt(2, 8, 1), gpt(2, 16, 1), gpt(2, 32, 1), gpt(2, 48, 1), gpt(2, 64, 2), gpt(3, 96, 3), gpt(4, 128, 4)]

CPU_DEFAULT = Grid(
    "cpu-default",
    "L(N): 7 sizes from 1.8e3 to 7.9e5 non-embedding parameters, all with ≥ 2 layers, each on 5e6 "
    "tokens with full learning curves; about 30 minutes on 2 CPU cores. The first protocol (random "
    "windows, Kaplan's LR(N)), kept until the calibrated protocol replaces it.",
    sweep({**LEGACY, "tokens": 5_000_000}, model=SIZES),   # every field as it was when the records were made
    chapter="book/loss_vs_params")

register(CPU_DEFAULT)
