"""Grids of the L(N) chapter (paper §3, Fig 1 right, Fig 6).

``lnn``: ten sizes over 2.65 decades of non-embedding N (1.8e3 … 7.9e5), two depths (2 and 4 layers) at
five widths each, so depth and width are separated (Fig 6). Every run uses the ``tuned`` protocol
(LR*(N) from the calibration grid, its batch, a warmup of about N_total tokens, cosine matched to the
run) and is trained towards convergence: a token budget that grows with width and repeats epochs of the
training split where it has to, early stopping on the validation loss with the best weights kept. The
chapter checks every run against the convergence criterion (``analysis.convergence``) and marks those
that miss it. Three sizes are trained with a second seed.

The criterion compares two runs, not two points of one curve: under a cosine schedule the end of every
run holds the annealing drop, so a curve read half a decade before its end is not the loss a run of that
length would reach. Every size therefore has a companion run, ``<model>_short``, with the same model,
seed and protocol on half a decade fewer tokens (T/√10, its own cosine fully annealed); the loss change
between the two is the "change over the last half-decade of tokens". The companions cost about a third
more compute and are the L(N, T) points at a second budget.

``lnn-quick``: the six smallest sizes on 1.5e6 tokens each, with their companions, for readers who
re-execute the chapter (about 10 minutes on 2 cores); the same code and protocol, not converged for the
larger of them.
"""
from __future__ import annotations

from .. import protocol
from ..analysis import CONVERGED_DECADES
from ..config import TrainConfig
from . import Grid, RunSpec, gpt, register

DEPTHS = (2, 4)
WIDTHS = (8, 16, 32, 64, 128)
# Training tokens per width (the training split is 6.66e6 tokens, so the wider models repeat it).
TOKENS = {8: 8_000_000, 16: 8_000_000, 32: 10_000_000, 64: 14_000_000, 128: 20_000_000}
SEEDS = {(2, 8): (1,), (2, 32): (1,), (2, 64): (1,)}      # second seeds: small, middle, large
RUN = {"eval_points": 40, "eval_tokens": 32_768, "early_stopping_patience": 4}
QUICK_TOKENS = 1_500_000


def shape(n_layer: int, d_model: int) -> dict:
    return gpt(n_layer, d_model, max(1, d_model // 32))    # heads of 32 dimensions, as in every grid


def _run(run_id: str, n_layer: int, d_model: int, tokens: int, rule, **overrides) -> RunSpec:
    config = protocol.tuned(shape(n_layer, d_model), tokens=tokens, rule=rule, **{**RUN, **overrides})
    return RunSpec(run_id, TrainConfig.from_dict(config).to_dict())


def shorter_tokens(tokens: int, batch_tokens: int) -> int:
    """The companion run's budget: the convergence criterion's span (``CONVERGED_DECADES``) fewer
    decades of tokens, in whole batches."""
    return int(round(tokens / 10 ** CONVERGED_DECADES / batch_tokens)) * batch_tokens


def lnn_runs(rule) -> tuple:
    runs = []
    for d in WIDTHS:
        for n_layer in DEPTHS:
            runs.append(_run(f"L{n_layer}-d{d}", n_layer, d, TOKENS[d], rule))
            for seed in SEEDS.get((n_layer, d), ()):
                runs.append(_run(f"L{n_layer}-d{d}_s{seed}", n_layer, d, TOKENS[d], rule, seed=seed))
            runs.append(_run(f"L{n_layer}-d{d}_short", n_layer, d, shorter_tokens(TOKENS[d], rule.batch_tokens), rule))
    return tuple(runs)


def quick_runs(rule) -> tuple:
    short = shorter_tokens(QUICK_TOKENS, rule.batch_tokens)
    return tuple(run for d in WIDTHS[:3] for n_layer in DEPTHS for run in (
        _run(f"L{n_layer}-d{d}", n_layer, d, QUICK_TOKENS, rule, eval_points=24),
        _run(f"L{n_layer}-d{d}_short", n_layer, d, short, rule, eval_points=24)))


def _register() -> None:
    try:
        rule = protocol.load_rule()
    except FileNotFoundError:
        return   # before the calibration is fitted there is no tuned protocol, so no L(N) grid
    register(
        Grid("lnn", "L(N): 10 sizes (2 and 4 layers × widths 8 … 128; N = 1.8e3 … 7.9e5) under the tuned protocol, "
             "trained towards convergence (8e6 … 2e7 tokens, early stopping), 3 sizes with a second seed, every size "
             "with a companion on half a decade fewer tokens (the convergence check). About 3.3 hours on 2 CPU cores "
             "(6.2 core-hours).", lnn_runs(rule), chapter="book/loss_vs_params"),
        Grid("lnn-quick", "L(N), quick: the 6 smallest sizes of lnn on 1.5e6 tokens each, with their companions on "
             "half a decade fewer (tuned protocol); about 10 minutes on 2 CPU cores. Not converged at the larger sizes: the chapter says which.",
             quick_runs(rule), chapter="book/loss_vs_params"))


_register()

