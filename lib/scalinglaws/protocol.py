"""Training protocols: the presets a grid picks from, and the learning-rate rule behind ``tuned``.

A protocol decides what the paper calls the optimization hyperparameters: the peak learning rate,
the warmup, the schedule's horizon. At our scale they move the loss as much as the model size does
(the L(N) chapter shows by how much), so every grid names the protocol its runs use and every record
keeps it (``TrainConfig.protocol``).

* ``kaplan``: the paper's protocol (§2.2, App D.6) carried over unchanged in form: the peak LR from
  Eq D.1, ``LR(N) ≈ a − b ln N``; a warmup that is the paper's fraction of its schedule (3000 of 2.5e5
  steps); one cosine horizon shared by the whole grid, so short runs are cut off before their schedule
  ends (as in the paper; Hoffmann et al. 2022 App B and Porian et al. 2024 show what that costs).
* ``tuned``: ours. The peak LR from the rule ``LR*(N)`` fitted to the ``calibration`` grid
  (``RULE_FILE``, written by ``scalinglaws calibrate``); a warmup of about the model's total parameter
  count in tokens (Porian et al. 2024), at least ``WARMUP_FLOOR`` tokens and at most a tenth of the
  run; the cosine matched to each run's length.
* ``calibration``: ``tuned``'s warmup and schedule with the LR given by hand: the sweep the rule is
  fitted to.
* ``batch-scan``: for the critical-batch scans. ``tuned``'s LR*(N) carried to the run's batch by the
  square-root rule for Adam, ``LR*(N) · (B / B_rule)^½`` (Malladi et al. 2022), times a factor the grid
  may vary to check it; ``tuned``'s warmup; a constant LR after the warmup, so the steps a run needs to
  reach a loss do not depend on how long it was planned to be.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .models import ModelShape, formula_params
from .paper import published

PRESETS = ("kaplan", "tuned")
WARMUP_FLOOR = 32_768          # tokens: 16 steps at 2k-token batches, whatever the model's size
WARMUP_MAX_FRACTION = 0.1      # a short run is not mostly warmup
RULE_FILE = Path(__file__).parent / "grids" / "tuned_lr.json"


def _shape(model) -> ModelShape:
    return model if isinstance(model, ModelShape) else ModelShape.from_dict(dict(model))


def tuned_warmup_tokens(model, tokens: int) -> int:
    """Warmup of the ``tuned`` protocol: the model's total parameter count in tokens, clamped."""
    total = formula_params(_shape(model))["total"]
    return int(max(WARMUP_FLOOR, min(total, WARMUP_MAX_FRACTION * tokens)))


def kaplan_warmup_tokens(horizon_tokens: int) -> int:
    """The paper's warmup as a fraction of its schedule: 3000 of 2.5e5 steps (§2.2), of our horizon."""
    return int(round(horizon_tokens * published("warmup_steps").value / published("steps").value))


@dataclass(frozen=True)
class LRRule:
    """``LR*(N) = lr_ref · (N / n_ref)^(−exponent)``, fitted to the calibration sweep's optima."""

    lr_ref: float                  # peak LR at N = n_ref
    exponent: float                # d ln LR* / d ln N, negated
    n_ref: float                   # non-embedding parameters where lr_ref is read
    batch_tokens: int              # the batch the rule was calibrated at (the grids' default batch)
    n_range: tuple                 # non-embedding parameters of the sizes it was fitted to
    tokens: int                    # the calibration runs' token budget
    exponent_se: float = float("nan")
    points: list = field(default_factory=list)   # [{N, lr, loss}] the optima it was fitted to
    source: str = ""               # where the records were, their library hash

    def __call__(self, non_embedding: float) -> float:
        return self.lr_ref * (non_embedding / self.n_ref) ** (-self.exponent)

    def extrapolates(self, non_embedding: float) -> bool:
        """Whether ``N`` lies outside the sizes the rule was fitted to."""
        return not self.n_range[0] <= non_embedding <= self.n_range[1]

    def to_dict(self) -> dict:
        return {"lr_ref": self.lr_ref, "exponent": self.exponent, "n_ref": self.n_ref,
                "batch_tokens": self.batch_tokens, "n_range": list(self.n_range), "tokens": self.tokens,
                "exponent_se": self.exponent_se, "points": self.points, "source": self.source}

    @classmethod
    def from_dict(cls, d: dict) -> "LRRule":
        return cls(**{**d, "n_range": tuple(d["n_range"])})


def load_rule(path: Path | None = None) -> LRRule:
    """The ``tuned`` protocol's LR rule (``RULE_FILE``), with a clear error when it has not been fitted."""
    path = Path(path) if path else RULE_FILE
    try:
        return LRRule.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise FileNotFoundError(f"no LR rule at {path}: train the calibration grid and run "
                                "`scalinglaws calibrate` to fit it") from None
    except (json.JSONDecodeError, TypeError, KeyError) as e:
        raise ValueError(f"LR rule {path} is unreadable ({type(e).__name__}: {e}); refit it with "
                         "`scalinglaws calibrate`") from None


def kaplan(model, *, tokens: int, horizon_tokens: int, **overrides) -> dict:
    """A config under the paper's protocol; ``horizon_tokens`` is the cosine length shared by the grid."""
    if horizon_tokens < tokens:
        raise ValueError(f"the kaplan protocol's horizon ({horizon_tokens}) must cover the run ({tokens} tokens)")
    shape = _shape(model)
    return {"model": shape.to_dict(), "protocol": "kaplan", "tokens": tokens, "lr": None, "schedule": "cosine",
            "horizon_tokens": horizon_tokens, "warmup_tokens": kaplan_warmup_tokens(horizon_tokens),
            "min_lr_ratio": 0.0, **overrides}


def calibration(model, *, tokens: int, lr: float, **overrides) -> dict:
    """A calibration run: ``tuned``'s warmup and schedule at a given peak LR."""
    shape = _shape(model)
    return {"model": shape.to_dict(), "protocol": "calibration", "tokens": tokens, "lr": lr,
            "schedule": "cosine", "horizon_tokens": None, "warmup_tokens": tuned_warmup_tokens(shape, tokens),
            "min_lr_ratio": 0.0, **overrides}


def tuned(model, *, tokens: int, rule: LRRule | None = None, **overrides) -> dict:
    """A config under our calibrated protocol: LR*(N) from ``rule`` (default: ``load_rule()``), at the
    rule's batch unless ``batch_tokens`` is given."""
    rule = rule or load_rule()
    shape = _shape(model)
    lr = float(f"{rule(formula_params(shape)['non_embedding']):.4g}")
    config = calibration(shape, tokens=tokens, lr=lr, batch_tokens=rule.batch_tokens)
    return {**config, "protocol": "tuned", **overrides}


BATCH_LR_EXPONENT = 0.5      # the square-root rule: LR ∝ B^½ (Adam; Malladi et al. 2022)


def batch_scan_lr(rule: "LRRule", non_embedding: float, batch_tokens: int, factor: float = 1.0) -> float:
    """The ``batch-scan`` peak LR: LR*(N) at the rule's batch, carried to ``batch_tokens`` by the square-root rule."""
    return float(f"{factor * rule(non_embedding) * (batch_tokens / rule.batch_tokens) ** BATCH_LR_EXPONENT:.4g}")


def batch_scan(model, *, tokens: int, batch_tokens: int, rule: LRRule | None = None, lr_factor: float = 1.0,
               **overrides) -> dict:
    """A critical-batch scan run: ``batch_scan_lr`` at ``batch_tokens``, ``tuned``'s warmup, constant LR after it."""
    rule = rule or load_rule()
    shape = _shape(model)
    lr = batch_scan_lr(rule, formula_params(shape)["non_embedding"], batch_tokens, lr_factor)
    config = calibration(shape, tokens=tokens, lr=lr, batch_tokens=batch_tokens)
    return {**config, "protocol": "batch-scan", "schedule": "constant", **overrides}


COOLDOWN_FRACTION = 0.2     # the cooldown's share of a budget (Hägele et al. 2024 use 10–20%)
BUDGET_WARMUP_MIN_SHARE = 1 / 8   # of N_total: the shortest warmup a budget's run may get (see budget_warmup)


def budget_warmup(model, budgets, batch_tokens: int) -> tuple[int, list]:
    """One warmup for runs read at several token budgets, and the budgets it serves.

    ``tuned`` gives a run of B tokens a warmup of min(N_total, B/10) tokens (at least ``WARMUP_FLOOR``). Runs
    read at many budgets share one warmup, so it is the ``tuned`` warmup of the smallest budget kept, and a
    budget is kept when a tenth of it is at least ``BUDGET_WARMUP_MIN_SHARE`` of N_total: every kept budget
    then spends at most 10% of its tokens warming up (more only where the floor binds, as under ``tuned``),
    and no model warms up for fewer than N_total/8 tokens. Budgets are rounded to whole batches."""
    shape = _shape(model)
    total = formula_params(shape)["total"]
    budgets = sorted({max(1, round(b / batch_tokens)) * batch_tokens for b in budgets})
    kept = [b for b in budgets if WARMUP_MAX_FRACTION * b >= BUDGET_WARMUP_MIN_SHARE * total]
    if not kept:
        raise ValueError(f"no budget of {shape.label} is long enough for its warmup: the largest, {budgets[-1]:,} "
                         f"tokens, is below {BUDGET_WARMUP_MIN_SHARE * total / WARMUP_MAX_FRACTION:,.0f}")
    return tuned_warmup_tokens(shape, kept[0]), kept


def cooldown(model, *, budgets, rule: LRRule | None = None, fraction: float = COOLDOWN_FRACTION,
             batch_tokens: int | None = None, **overrides) -> dict:
    """A constant-LR run with a cooldown branch ending at each of ``budgets`` (tokens).

    LR*(N) is ``tuned``'s; the warmup and the budgets kept are ``budget_warmup``'s. The run reads
    ``(1 − fraction)`` of the largest budget, where the last branch starts. ``overrides`` may not set
    what this function derives (the warmup, the budgets, the tokens).
    """
    clash = {"warmup_tokens", "cooldown_budgets", "cooldown_fraction", "tokens", "schedule"} & set(overrides)
    if clash:
        raise ValueError(f"protocol.cooldown derives {sorted(clash)}; pass budgets, fraction or batch_tokens instead")
    rule = rule or load_rule()
    shape = _shape(model)
    batch = batch_tokens or rule.batch_tokens
    warmup, kept = budget_warmup(shape, budgets, batch)
    stable = round((1 - fraction) * (kept[-1] // batch)) * batch
    config = tuned(shape, tokens=stable, rule=rule, batch_tokens=batch)
    return {**config, "protocol": "cooldown", "schedule": "constant", "warmup_tokens": warmup,
            "cooldown_budgets": kept, "cooldown_fraction": fraction, **overrides}


def preset(name: str, model, **kwargs) -> dict:
    """``kaplan`` or ``tuned`` by name."""
    if name not in PRESETS:
        raise ValueError(f"unknown protocol preset {name!r}; presets: {', '.join(PRESETS)}")
    return {"kaplan": kaplan, "tuned": tuned}[name](model, **kwargs)


def describe(config: dict) -> str:
    """One line on what a config's protocol did, for tables."""
    warm = config.get("warmup_tokens")
    horizon = config.get("horizon_tokens") or config.get("tokens")
    lr = config.get("lr")
    return (f"{config.get('protocol', 'custom')}: peak LR {'Kaplan' if lr is None else f'{lr:.3g}'}, "
            + (f"warmup {warm:,} tokens, constant after it" if config.get("schedule") == "constant"
               else f"warmup {warm:,} tokens, cosine over {horizon:,} tokens"))


def log_spaced(lo: float, hi: float, factor: float = 2.0) -> list:
    """``lo, lo·factor, …`` up to ``hi`` (inclusive), rounded to 4 significant digits: an LR ladder."""
    n = int(round(math.log(hi / lo) / math.log(factor)))
    return [float(f"{lo * factor ** k:.4g}") for k in range(n + 1)]
