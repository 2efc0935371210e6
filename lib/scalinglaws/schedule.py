"""Learning-rate schedules: pure functions of the step, used by training and by the figures.

``lr_at`` is the whole schedule: a linear warmup to the peak, then cosine decay to a floor (its
horizon either matched to the run or fixed in tokens, Kaplan's way, which handicaps short runs:
Hoffmann et al. 2022 App B, Porian et al. 2024), or a constant. Nothing here touches an optimizer.
"""
from __future__ import annotations

import math

KINDS = ("cosine", "constant")


def warmup_steps(warmup_tokens: int, batch_tokens: int) -> int:
    return math.ceil(warmup_tokens / batch_tokens)


def lr_at(step: int, *, peak: float, warmup: int, horizon: int, kind: str = "cosine", floor_ratio: float = 0.0) -> float:
    """Learning rate of optimizer step ``step`` (0-based).

    ``warmup``: steps of linear warmup (step 0 gets ``peak / warmup``); ``horizon``: the step at
    which the cosine reaches ``floor_ratio × peak`` (it stays there after).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown schedule {kind!r} ({', '.join(KINDS)})")
    if step < warmup:
        return peak * (step + 1) / warmup
    if kind == "constant":
        return peak
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    floor = floor_ratio * peak
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))
