"""``TrainConfig``: everything that determines a run, validated, stored verbatim in its record.

Two configs describe the same run when their dicts are equal. A record written before a field
existed is read with that field's *legacy* value (``LEGACY``), the behaviour the code had then,
so old records are never mistaken for runs of the current engine.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from . import schedule
from .models import ModelShape, from_dict, kaplan_lr

SAMPLERS = ("epochs", "random")
SUBSET_ORDERS = ("stratified", "prefix")   # data.subsets
# Which protocol set a run's LR, warmup and schedule (``protocol`` module): a preset, the calibration
# sweep (a preset's warmup and schedule with the LR swept by hand), or anything set by hand.
PROTOCOLS = ("kaplan", "tuned", "calibration", "batch-scan", "cooldown", "custom")

# Fields added after the first records were written, and the behaviour those records had.
LEGACY = {"sampling": "random", "grad_stats_every": 0, "trace_points": 1000, "loss_ema": 0.9, "protocol": "custom",
          "train_subset_order": "prefix"}


@dataclass
class TrainConfig:
    """Everything that determines a run. Stored verbatim in the run record."""

    model: dict                                # ModelShape fields
    protocol: str = "custom"                   # the preset that set lr, warmup and schedule (PROTOCOLS)
    corpus: str = "default"                    # see data.prepare_corpus
    data_seed: int = 1234                      # the split
    tokens: int = 5_000_000                    # training tokens processed
    train_subset_tokens: int | None = None     # train on D tokens only (repeats epochs); None = all
    train_subset_order: str = "stratified"     # which D tokens: "stratified" (nested, every source in proportion;
                                               # data.subsets) or "prefix" (the first D as stored: one source)
    sampling: str = "epochs"                   # "epochs": shuffled epochs over non-overlapping windows;
                                               # "random": windows drawn with replacement (the first grids)
    batch_tokens: int = 8192                   # tokens per optimizer step
    micro_batch_tokens: int = 2048             # per forward/backward (≤ 2048 at V=4096: see README)
    lr: float | None = None                    # peak LR; None = Kaplan's LR(N)
    schedule: str = "cosine"                   # "cosine" or "constant" after the warmup
    warmup_tokens: int = 250_000
    horizon_tokens: int | None = None          # cosine length; None = matched to ``tokens``
    min_lr_ratio: float = 0.0                  # cosine floor as a fraction of the peak (Kaplan: 0)
    weight_decay: float = 0.1
    betas: tuple = (0.9, 0.99)
    grad_clip: float = 1.0
    dropout: float = 0.0
    seed: int = 0                              # init, data order, dropout
    eval_points: int = 30                      # log-spaced curve points
    eval_tokens: int = 65_536                  # validation tokens per curve point
    final_eval_tokens: int = 262_144           # validation / test tokens at the end
    ood_eval_tokens: int = 131_072             # tokens of each other distribution at the end
    early_stopping_patience: int | None = None # curve points without improvement; None = off. When on, the
                                               # final evaluation uses the best weights (the paper's early stopping)
    early_stopping_min_epochs: float = 0.0     # no early stop before this many epochs of the training data: until
                                               # data repeats, a rising validation loss is noise, not overfitting
    divergence_margin: float = 1.0             # fail when train loss > ln(V) + margin after warmup
    bf16: bool = False                         # bf16 autocast (≈1.6× faster on CPU for N ≥ 1e6; always on CUDA)
    checkpoint_interval_s: float = 60.0        # at most one checkpoint per interval (0 = every curve point)
    trace_points: int = 1000                   # rows of the dense per-step trace (steps are averaged in blocks)
    loss_ema: float = 0.9                      # smoothing of the per-step training loss (EMA coefficient)
    grad_stats_every: int = 10                 # a step that is one micro-batch is split in two every k steps, so
                                               # the gradient-noise estimator has two batch sizes (0 = never);
                                               # steps of several micro-batches measure it every step for free
    cooldown_budgets: tuple | None = None      # token budgets B_i: after (1 − f)·B_i tokens of the constant-LR run a copy
                                               # branches off, decays the LR linearly to 0 over f·B_i tokens and is
                                               # evaluated: the loss a run of exactly B_i tokens would reach (Hägele
                                               # et al. 2024). The run itself goes on at constant LR. None = none
    cooldown_fraction: float = 0.2             # f: the cooldown's share of each budget

    def __post_init__(self):
        self.betas = tuple(self.betas)
        if self.cooldown_budgets is not None:
            self.cooldown_budgets = tuple(int(b) for b in self.cooldown_budgets)
        self.shape = ModelShape.from_dict(dict(self.model))   # validates the shape
        problems = []
        if self.tokens < 1 or self.batch_tokens < 1 or self.micro_batch_tokens < 1:
            problems.append("tokens, batch_tokens and micro_batch_tokens must be positive")
        elif self.batch_tokens % self.shape.n_ctx:
            problems.append(f"batch_tokens={self.batch_tokens} is not a multiple of n_ctx={self.shape.n_ctx}")
        elif self.tokens < self.batch_tokens:
            problems.append(f"tokens={self.tokens} is less than one batch ({self.batch_tokens})")
        if self.lr is not None and not self.lr > 0:
            problems.append(f"lr must be positive, got {self.lr}")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if self.schedule not in schedule.KINDS:
            problems.append(f"unknown schedule {self.schedule!r} ({', '.join(schedule.KINDS)})")
        if self.protocol not in PROTOCOLS:
            problems.append(f"unknown protocol {self.protocol!r} ({', '.join(PROTOCOLS)})")
        if self.sampling not in SAMPLERS:
            problems.append(f"unknown sampling {self.sampling!r} ({', '.join(SAMPLERS)})")
        if self.train_subset_order not in SUBSET_ORDERS:
            problems.append(f"unknown train_subset_order {self.train_subset_order!r} ({', '.join(SUBSET_ORDERS)})")
        if self.train_subset_tokens is not None and self.train_subset_tokens <= self.shape.n_ctx + 1:
            problems.append(f"train_subset_tokens={self.train_subset_tokens} is shorter than one window")
        if self.eval_points < 1 or self.trace_points < 1:
            problems.append("eval_points and trace_points must be at least 1")
        if not 0 <= self.loss_ema < 1:
            problems.append(f"loss_ema must be in [0, 1), got {self.loss_ema}")
        if self.early_stopping_min_epochs < 0:
            problems.append("early_stopping_min_epochs must be ≥ 0")
        if self.grad_stats_every < 0:
            problems.append("grad_stats_every must be ≥ 0")
        if self.cooldown_budgets is not None and not problems:
            problems += self._cooldown_problems()
        if problems:
            raise ValueError("impossible training config: " + "; ".join(problems))

    def _cooldown_problems(self) -> list[str]:
        budgets, f = self.cooldown_budgets, self.cooldown_fraction
        if not 0 < f < 1:
            return [f"cooldown_fraction must be in (0, 1), got {f}"]
        if self.schedule != "constant":
            return [f"cooldowns branch from a constant learning rate; schedule is {self.schedule!r}"]
        if self.early_stopping_patience is not None:
            return ["cooldowns and early stopping exclude each other (a branch needs the run's own weights)"]
        if not budgets or list(budgets) != sorted(set(budgets)):
            return [f"cooldown_budgets must be increasing and distinct, got {list(budgets)}"]
        problems = []
        branches = [branch for _, branch, _ in self.cooldown_plan()]
        if len(set(branches)) < len(branches):
            problems.append(f"cooldown budgets {list(budgets)} share branch steps at batch {self.batch_tokens:,}")
        for budget, branch, steps in self.cooldown_plan():
            if steps < 1:
                problems.append(f"cooldown budget {budget:,} leaves no cooldown step at batch {self.batch_tokens:,}")
            elif branch > self.steps:
                problems.append(f"cooldown budget {budget:,} branches at step {branch:,}, after the run's last "
                                f"({self.steps:,}); raise tokens to at least {(1 - f) * budget:,.0f}")
            elif branch * self.batch_tokens < self.warmup_tokens:
                problems.append(f"cooldown budget {budget:,} branches at {branch * self.batch_tokens:,} tokens, "
                                f"inside the warmup ({self.warmup_tokens:,})")
        return problems

    def cooldown_plan(self) -> list[tuple[int, int, int]]:
        """(budget in tokens, branch step, cooldown steps) for every cooldown: the branch copies the run
        after step ``branch`` (1-based) and takes ``cooldown steps`` more, ending at ``budget`` tokens."""
        plan = []
        for budget in self.cooldown_budgets or ():
            total = max(1, round(budget / self.batch_tokens))
            branch = round((1 - self.cooldown_fraction) * total)
            plan.append((budget, branch, total - branch))
        return plan

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        if self.cooldown_budgets is not None:
            d["cooldown_budgets"] = list(self.cooldown_budgets)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """A config from a grid or the command line: absent fields take today's defaults."""
        return from_dict(cls, d, "training config")

    @classmethod
    def from_record(cls, d: dict) -> "TrainConfig":
        """A config stored in a run record: absent fields take the behaviour the code had (``LEGACY``)."""
        legacy = dict(LEGACY)
        if d.get("train_subset_tokens") is None:   # no subset: the order never mattered
            legacy.pop("train_subset_order")
        return from_dict(cls, {**legacy, **d}, "training config")

    def same_run(self, stored: "TrainConfig | dict") -> bool:
        """Whether ``stored`` (a record's config) describes this run."""
        stored = TrainConfig.from_record(stored) if isinstance(stored, dict) else stored
        return self.to_dict() == stored.to_dict()

    # Derived quantities -------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return math.ceil(self.tokens / self.batch_tokens)

    @property
    def tokens_processed(self) -> int:
        """Tokens the run trains on, its cooldown branches included."""
        return self.steps * self.batch_tokens + sum(s for _, _, s in self.cooldown_plan()) * self.batch_tokens

    @property
    def batch_seqs(self) -> int:
        return self.batch_tokens // self.shape.n_ctx

    @property
    def micro_seqs(self) -> int:
        """Largest divisor of the batch (in sequences) that fits the micro-batch budget."""
        cap = max(1, self.micro_batch_tokens // self.shape.n_ctx)
        return max(d for d in range(1, min(cap, self.batch_seqs) + 1) if self.batch_seqs % d == 0)

    @property
    def warmup_steps(self) -> int:
        return schedule.warmup_steps(self.warmup_tokens, self.batch_tokens)

    @property
    def horizon_steps(self) -> int:
        return math.ceil((self.horizon_tokens or self.tokens) / self.batch_tokens)

    def peak_lr(self, non_embedding: int) -> float:
        return self.lr if self.lr is not None else kaplan_lr(non_embedding)

    def lr_at(self, step: int, non_embedding: int) -> float:
        """Learning rate for optimizer step ``step`` (0-based)."""
        return schedule.lr_at(step, peak=self.peak_lr(non_embedding), warmup=self.warmup_steps,
                              horizon=self.horizon_steps, kind=self.schedule, floor_ratio=self.min_lr_ratio)

    def eval_steps(self) -> list[int]:
        """Log-spaced steps (1-based, after the update) where the curve is recorded."""
        points = np.geomspace(1, self.steps, self.eval_points)
        return sorted({int(round(s)) for s in points} | {self.steps})

    def trace_every(self) -> int:
        """Steps averaged into one row of the dense trace."""
        return max(1, math.ceil(self.steps / self.trace_points))


def flat_config(config: dict) -> dict:
    """A config's scalar fields in one level: the model's (``n_layer``, ``d_model``...) then the rest."""
    return {**config.get("model", {}), **{k: v for k, v in config.items() if k != "model"}}
