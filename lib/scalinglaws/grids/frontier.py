"""Grids of the compute-frontier chapter (paper §5–6, App B; Fig 1 left, 2, 3, 4 right, 11–15).

``frontier``: the ten sizes of the L(N) grid (2 and 4 layers × widths 8 … 128; N = 1.8e3 … 7.9e5, 2.65
decades), each trained twice on the same 1e7 tokens (1.5 epochs of the training split), so that the
two ways of reading "the loss at compute C" come from the same models, data and learning rate:

* ``<size>_kaplan``: the paper's reading. One run per size, every size with the same length and the same
  cosine horizon (the paper's runs were all 2.5e5 steps); the loss at compute C is the learning curve's
  point at C, read while the cosine has not yet annealed, and the frontier is the envelope of the curves
  (Fig 2).
* ``<size>_cooldown``: the loss a run of exactly that budget reaches. One constant-LR run per size with
  cooldown branches at budgets a factor 2 apart (1.6e5 … 1e7 tokens): each branch decays the LR linearly
  to 0 over the last 20% of its budget (Hägele et al. 2024: this matches a cosine of that length), at
  about 60% of the cost of a separate run per budget.

Both runs of a size share everything but the schedule: our calibrated LR*(N) (not Eq D.1, which the
calibration chapter finds 4–17× too low at these sizes) and one warmup (``protocol.budget_warmup``: the
``tuned`` warmup of the smallest budget the size is read at, at least N_total/8 tokens, so that every budget
spends at most a tenth of itself warming up, as ``tuned`` runs do). The budgets a size is read at start
where that warmup fits: all seven for widths 8 and 16, fewer for the wider models (the largest, L4-d128,
from 2.5e6 tokens), whose small budgets are far from any compute-optimal allocation. The paper's own warmup
(3000 of 2.5e5 steps) is not used: Porian et al. (2024) identify a warmup long for small budgets as one of
the causes of Kaplan's exponent, a different question from the reading this grid isolates.

The ``lnn`` grid's runs use a third reading (a cosine matched to each run, two budgets per size); at
width 32 its main runs share this grid's 1e7 tokens, LR and warmup, so the chapter compares the cooldown
branch with them directly (Hägele et al.'s claim on our data) but does not mix them into the frontier.

``frontier-quick``: the six smallest sizes on 1.5e6 tokens, both readings, lighter evaluation, for
readers who re-execute the chapter.
"""
from __future__ import annotations

from .. import protocol
from ..config import TrainConfig
from . import Grid, RunSpec, register
from .ln import DEPTHS, WIDTHS, shape

TOKENS = 10_000_000
N_BUDGETS = 7                                               # TOKENS / 2^6 … TOKENS
KAPLAN_RUN = {"eval_points": 60, "eval_tokens": 32_768}     # dense in compute: the envelope is read off it
COOLDOWN_RUN = {"eval_points": 30, "eval_tokens": 32_768}

QUICK_WIDTHS = WIDTHS[:3]
QUICK_TOKENS = 1_500_000
QUICK_BUDGETS = 5
QUICK_EVAL = {"eval_tokens": 16_384, "final_eval_tokens": 65_536, "ood_eval_tokens": 16_384}


def budgets(tokens: int, n: int) -> list:
    """``tokens / 2^(n-1)`` … ``tokens``: the cooldown budgets, a factor 2 apart."""
    return [tokens // 2 ** k for k in reversed(range(n))]


def kaplan_run(n_layer: int, d_model: int, tokens: int, n_budgets: int, rule, **overrides) -> RunSpec:
    """The Kaplan reading: one cosine over the grid's shared length, with the same LR and warmup as the size's
    cooldown run, so that the two runs differ only in their schedule, that is, in how a budget is read."""
    model = shape(n_layer, d_model)
    twin = protocol.cooldown(model, budgets=budgets(tokens, n_budgets), rule=rule)
    config = protocol.kaplan(model, tokens=tokens, horizon_tokens=tokens, lr=twin["lr"], batch_tokens=twin["batch_tokens"],
                             **{**KAPLAN_RUN, "warmup_tokens": twin["warmup_tokens"], **overrides})
    return RunSpec(f"L{n_layer}-d{d_model}_kaplan", TrainConfig.from_dict(config).to_dict())


def cooldown_run(n_layer: int, d_model: int, tokens: int, n_budgets: int, rule, **overrides) -> RunSpec:
    config = protocol.cooldown(shape(n_layer, d_model), budgets=budgets(tokens, n_budgets), rule=rule,
                               **{**COOLDOWN_RUN, **overrides})
    return RunSpec(f"L{n_layer}-d{d_model}_cooldown", TrainConfig.from_dict(config).to_dict())


def frontier_runs(rule) -> tuple:
    return tuple(run for d in WIDTHS for n_layer in DEPTHS for run in (
        kaplan_run(n_layer, d, TOKENS, N_BUDGETS, rule), cooldown_run(n_layer, d, TOKENS, N_BUDGETS, rule)))


def quick_runs(rule) -> tuple:
    return tuple(run for d in QUICK_WIDTHS for n_layer in DEPTHS for run in (
        kaplan_run(n_layer, d, QUICK_TOKENS, QUICK_BUDGETS, rule, eval_points=40, **QUICK_EVAL),
        cooldown_run(n_layer, d, QUICK_TOKENS, QUICK_BUDGETS, rule, eval_points=16, **QUICK_EVAL)))


def _register() -> None:
    try:
        rule = protocol.load_rule()
    except FileNotFoundError:
        return
    register(
        Grid("frontier", f"Compute frontier: the 10 sizes of lnn (N = 1.8e3 … 7.9e5) on {TOKENS:,} tokens each, "
             "read two ways: one cosine per size with a horizon shared by the grid (the paper's envelope, "
             f"`_kaplan`) and one constant-LR run per size with cooldown branches at {N_BUDGETS} budgets a factor 2 "
             "apart (the loss of a run of each budget, `_cooldown`). Several CPU-hours; trained over more than one "
             "sitting.", frontier_runs(rule), chapter="book/compute_frontier"),
        Grid("frontier-quick", f"Compute frontier, quick: the 6 smallest sizes on {QUICK_TOKENS:,} tokens, both "
             f"readings ({QUICK_BUDGETS} cooldown budgets).", quick_runs(rule), chapter="book/compute_frontier"))


_register()
