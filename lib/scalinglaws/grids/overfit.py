"""Grids of the overfitting chapter, L(N, D) (paper §4, Fig 4 left, Fig 9, Fig 16, Table 2).

``overfit``: five 2-layer models (widths 8 … 128, N = 1.8e3 … 4.0e5, 2.35 decades) × six dataset sizes
D from 1e5 tokens to the whole training split (6.66e6, 1.8 decades). A subset is D tokens of the
training split in the stratified order of ``data.subsets``: every source in the split's proportions
(the split itself is stored source by source, so its first D tokens would be BBC news alone), and every
subset the start of every larger one (nested). Every run uses the ``tuned``
protocol with the paper's regularisation for these runs: 10% dropout (§4.2) and early stopping on the
validation loss (never before the first epoch ends: until data repeats, a rise in the validation loss is
noise, not overfitting), the record's test and held-out losses measured with the best weights. A run may
process at most ``EPOCH_CAP`` epochs of its subset and never more tokens than the L(N) grid gives its
size (``ln.TOKENS``); the cosine is matched to that cap, so early stopping, not the schedule, ends the
runs that overfit. The records give the epochs and the early-stopping step of each.

Where a subset is small enough that a model may overfit within a few epochs, a long cap leaves the
learning rate near its peak when the validation minimum comes, and the early-stopped loss would measure
the schedule as much as N and D. So each (N, D) is also trained with shorter caps, ``SHORT_CAPS``
epochs (ids ending ``_e2``, ``_e5``), wherever that is at most half the main run's tokens; the chapter
takes the lowest loss over the caps for each (N, D) (the step budget tuned per point, as the paper's
App D.6 tuned the learning rate) and shows how much the cap mattered.

The L(N) grid's runs cannot stand in for the full-D column: they train without dropout.

``overfit-quick``: three widths (8, 16, 32) × four subsets (1e5 … 3e6) with a lower cap, for readers who
re-execute the chapter (estimated at about 10 minutes on 2 cores; not yet timed).
"""
from __future__ import annotations

from .. import protocol
from ..config import TrainConfig
from ..paper import published
from . import Grid, RunSpec, register
from .ln import TOKENS, shape

N_LAYER = 2
WIDTHS = (8, 16, 32, 64, 128)
SUBSETS = (100_000, 230_000, 520_000, 1_200_000, 2_800_000, None)     # None: the whole training split
FULL_SPLIT = 6_660_199        # training tokens of the default corpus (``data prepare``), to size the caps
EPOCH_CAP = 20
SHORT_CAPS = (2, 5)           # shorter caps, in epochs of the subset, trained beside the main run
RUN = {"eval_points": 40, "eval_tokens": 32_768, "early_stopping_patience": 4, "early_stopping_min_epochs": 1.0,
       "dropout": published("dropout_LND").value}

QUICK_WIDTHS = (8, 16, 32)
QUICK_SUBSETS = (100_000, 300_000, 1_000_000, 3_000_000)
QUICK_CAP_EPOCHS, QUICK_MAX_TOKENS = 10, 1_000_000
# Fewer evaluation tokens than the full grid: at 1e6 tokens the default evaluations cost as much as the training
QUICK_EVAL = {"eval_points": 24, "eval_tokens": 16_384, "final_eval_tokens": 65_536, "ood_eval_tokens": 16_384}


def subset_label(subset: int | None) -> str:
    return "Dall" if subset is None else f"D{subset // 1000}k"


def run_tokens(d_model: int, subset: int | None, epoch_cap: int = EPOCH_CAP, max_tokens: int | None = None) -> int:
    """Tokens a run may process: ``epoch_cap`` epochs of its subset, at most the L(N) budget of its width."""
    cap = min(epoch_cap * (subset or FULL_SPLIT), max_tokens or TOKENS[d_model])
    return int(cap)


def _run(d_model: int, subset: int | None, tokens: int, rule, suffix: str = "", **overrides) -> RunSpec:
    config = protocol.tuned(shape(N_LAYER, d_model), tokens=tokens, rule=rule,
                            **{**RUN, "train_subset_tokens": subset, **overrides})
    return RunSpec(f"L{N_LAYER}-d{d_model}_{subset_label(subset)}{suffix}", TrainConfig.from_dict(config).to_dict())


def _cell(d_model: int, subset: int | None, rule, epoch_cap: int, max_tokens: int | None = None,
          short_caps=SHORT_CAPS, **overrides) -> list:
    """The runs of one (N, D): the main cap and the shorter ones that are at most half its tokens."""
    tokens = run_tokens(d_model, subset, epoch_cap, max_tokens)
    runs = [_run(d_model, subset, tokens, rule, **overrides)]
    for e in short_caps:
        short = e * (subset or FULL_SPLIT)
        if short <= tokens / 2:
            runs.append(_run(d_model, subset, int(short), rule, suffix=f"_e{e}", **overrides))
    return runs


def overfit_runs(rule) -> tuple:
    return tuple(r for d in WIDTHS for subset in SUBSETS for r in _cell(d, subset, rule, EPOCH_CAP))


def quick_runs(rule) -> tuple:
    return tuple(r for d in QUICK_WIDTHS for subset in QUICK_SUBSETS
                 for r in _cell(d, subset, rule, QUICK_CAP_EPOCHS, QUICK_MAX_TOKENS, short_caps=(2,), **QUICK_EVAL))


def _register() -> None:
    try:
        rule = protocol.load_rule()
    except FileNotFoundError:
        return   # no tuned protocol before the calibration is fitted
    register(
        Grid("overfit", "L(N, D): 5 sizes (2 layers, widths 8 … 128; N = 1.8e3 … 4.0e5) × 6 nested subsets "
             "(1e5 tokens … the whole training split), tuned protocol with 10% dropout and early stopping, at most "
             f"{EPOCH_CAP} epochs of a subset. Several CPU-hours; trained over more than one sitting.",
             overfit_runs(rule), chapter="book/overfitting"),
        Grid("overfit-quick", "L(N, D), quick: 3 sizes (widths 8, 16, 32) × 4 nested subsets (1e5 … 3e6 tokens), "
             f"at most {QUICK_CAP_EPOCHS} epochs or {QUICK_MAX_TOKENS:,} tokens; estimated at about 10 minutes on 2 CPU cores (not yet timed).",
             quick_runs(rule), chapter="book/overfitting"))


_register()
