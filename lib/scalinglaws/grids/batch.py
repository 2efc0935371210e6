"""Grids of the critical-batch chapter (paper §5.1, Fig 10, 18, 19; McCandlish et al. 2018).

``batch``: batch-size scans at three sizes (2 layers, widths 16, 32, 64; N = 6.6e3 … 1.0e5), eight batch
sizes a factor 2 apart from 256 to 32,768 tokens (2 … 256 sequences of 128 tokens, 2.1 decades). A probe
of the gradient noise scale put B_simple at 1e3–4e3 tokens at our losses, so the critical batch should
lie inside the scan.

* Protocol ``batch-scan`` (``protocol.batch_scan``): the calibrated LR*(N), carried from the calibration's
  batch to each batch by the square-root rule for Adam, and a constant LR after ``tuned``'s warmup, so the
  steps a run needs to reach a loss do not depend on how long it was planned to be. The rule is checked,
  not assumed: at the smallest and the largest batch of the smallest and the largest size, runs at half
  and twice the rule's LR (ids ending ``_lrx0.5``, ``_lrx2``); the chapter counts how often the rule's LR
  needs the fewest steps to each target loss, and how many more it needs where it does not. The first
  records showed the rule overshooting at the large batches (at 32,768 tokens half the rule's LR beat it at
  the largest size, L2-d32 diverged at 16,384 tokens, where the warmup in tokens is only 10 steps, and at
  L2-d64 8,192 tokens needed more steps than 4,096 to every target), so every size also has half the rule's
  LR at the three largest batches. Those runs then showed half the rule's LR faster nearly everywhere at
  large batches (as McCandlish et al.'s ε_opt(B) = ε_max/(1 + B_noise/B) predicts: the best rate stops
  growing above the noise scale, while the rule keeps growing it), and also at the lowest targets of the
  smallest batch, so every (size, batch) has half the rule's LR: two complete scans, and the chapter reads
  each batch at the faster of its rates (``critical_batch.fastest_lr``).
* Length: ``run_tokens(B)`` grows with the batch, as the tokens needed to reach a loss do above the
  critical batch (E = E_min (1 + B/B_crit)), and is capped at one epoch of the training split, so every
  token is read once and the training loss is an unbiased estimate of the held-out loss.
* Records: the dense trace (block means of the training loss, tokens and steps) for the steps and tokens
  to each target loss, and the per-micro-batch gradient norms (every step when a batch is several
  micro-batches; every ``grad_stats_every``-th step, split in two, when it is one) for B_simple.

``batch-quick``: widths 8 and 16, six batches from 256 to 8,192 tokens, shorter runs, no LR checks; for
readers who re-execute the chapter.
"""
from __future__ import annotations

from .. import protocol
from ..config import TrainConfig
from ..models import ModelShape, formula_params
from . import Grid, RunSpec, register
from .ln import shape
from .overfit import FULL_SPLIT

N_LAYER = 2
WIDTHS = (16, 32, 64)
BATCHES = tuple(256 * 2 ** k for k in range(8))            # 256 … 32,768 tokens
BASE_TOKENS, KNEE = 2_000_000, 4_096                        # run_tokens(B) = BASE · (1 + B / KNEE), ≤ one epoch
LR_FACTORS = (0.5, 2.0)                                     # the rule's check, at the scan's corner batches
HALF_LR_BATCHES = BATCHES                                   # ×0.5 at every size and batch: a second full scan
RUN = {"eval_points": 24, "eval_tokens": 32_768, "trace_points": 2_000}

QUICK_WIDTHS = (8, 16)
QUICK_BATCHES = tuple(256 * 2 ** k for k in range(6))      # 256 … 8,192
QUICK_BASE_TOKENS, QUICK_CAP = 400_000, 1_500_000
QUICK_EVAL = {"eval_points": 12, "eval_tokens": 16_384, "final_eval_tokens": 65_536, "ood_eval_tokens": 16_384,
              "trace_points": 1_000}


def run_tokens(batch_tokens: int, base: int = BASE_TOKENS, cap: int = FULL_SPLIT) -> int:
    """Tokens a scan run reads: ``base · (1 + B/KNEE)``, in whole batches, at most ``cap`` (one epoch)."""
    tokens = min(base * (1 + batch_tokens / KNEE), cap)
    return max(1, int(tokens // batch_tokens)) * batch_tokens


def _run(d_model: int, batch: int, tokens: int, rule, lr_factor: float = 1.0, **overrides) -> RunSpec:
    suffix = "" if lr_factor == 1.0 else f"_lrx{lr_factor:g}"
    config = protocol.batch_scan(shape(N_LAYER, d_model), tokens=tokens, batch_tokens=batch, rule=rule,
                                 lr_factor=lr_factor, **{**RUN, **overrides})
    return RunSpec(f"L{N_LAYER}-d{d_model}_b{batch}{suffix}", TrainConfig.from_dict(config).to_dict())


def batch_runs(rule) -> tuple:
    runs = [_run(d, b, run_tokens(b), rule) for d in WIDTHS for b in BATCHES]
    for d in (WIDTHS[0], WIDTHS[-1]):
        for b in (BATCHES[0], BATCHES[-1]):
            runs += [_run(d, b, run_tokens(b), rule, f) for f in LR_FACTORS]
    have = {r.run_id for r in runs}
    for d in WIDTHS:                     # half the rule's LR at every batch of every size (see the docstring)
        for b in HALF_LR_BATCHES:
            extra = _run(d, b, run_tokens(b), rule, 0.5)
            if extra.run_id not in have:
                runs.append(extra)
    return tuple(runs)


def quick_runs(rule) -> tuple:
    return tuple(_run(d, b, run_tokens(b, QUICK_BASE_TOKENS, QUICK_CAP), rule, **QUICK_EVAL)
                 for d in QUICK_WIDTHS for b in QUICK_BATCHES)


def _register() -> None:
    try:
        rule = protocol.load_rule()
    except FileNotFoundError:
        return
    n = [formula_params(ModelShape.from_dict(shape(N_LAYER, d)))["non_embedding"] for d in WIDTHS]
    register(
        Grid("batch", f"Critical batch: batch scans of {len(BATCHES)} sizes a factor 2 apart ({BATCHES[0]:,} … "
             f"{BATCHES[-1]:,} tokens) at {len(WIDTHS)} sizes (2 layers, widths {', '.join(map(str, WIDTHS))}; "
             f"N = {n[0]:,} … {n[-1]:,}), constant LR from the square-root rule with ×0.5 and ×2 checks at the corner "
             "batches, at most one epoch per run.", batch_runs(rule), chapter="book/critical_batch"),
        Grid("batch-quick", f"Critical batch, quick: widths {', '.join(map(str, QUICK_WIDTHS))} × "
             f"{len(QUICK_BATCHES)} batches ({QUICK_BATCHES[0]:,} … {QUICK_BATCHES[-1]:,} tokens), at most "
             f"{QUICK_CAP:,} tokens per run.", quick_runs(rule), chapter="book/critical_batch"))


_register()
