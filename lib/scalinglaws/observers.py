"""Observers: what happens after each training step, one class per concern.

``train.train_run`` calls ``on_start(run)`` of each observer before the loop (after a resume too),
``on_step(run, stats)`` after every optimizer step (``stats`` is ``train.StepStats``) and
``on_end(run)`` when the loop ends; an ``on_step`` that
returns True ends training early, one that raises ``TrainingFailed`` ends the run as ``failed``.
``run`` is a ``RunContext``: the trainer, the record being written and its folder. Everything an
observer must remember across a restart lives in ``run.trainer.state``, which checkpoints hold.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path

from . import checkpoint
from .config import TrainConfig
from .runs import write_record


class TrainingFailed(RuntimeError):
    """The run cannot go on (non-finite or diverging loss); its record ends ``failed`` with this reason."""


@dataclass
class RunContext:
    """What observers act on: the trainer, the record being written and where it lives."""

    trainer: "Trainer"  # noqa: F821  (train.Trainer)
    record: dict
    run_dir: Path

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / checkpoint.CHECKPOINT_NAME

    def save_record(self) -> None:
        self.record["curve"] = self.trainer.state["curve"]
        self.record["trace"] = self.trainer.state["trace"]
        if "cooldowns" in self.trainer.state:
            self.record["cooldowns"] = self.trainer.state["cooldowns"]
        write_record(self.run_dir, self.record)

    def curve_point_now(self, stats) -> bool:
        curve = self.trainer.state["curve"]
        return bool(curve) and curve[-1]["step"] == stats.step


class Observer:
    """Called after every step; ``on_step`` returns True to end training early."""

    def on_start(self, run: RunContext) -> None:
        return None

    def on_step(self, run: RunContext, stats) -> bool | None:
        return None

    def on_end(self, run: RunContext) -> None:
        return None


class DivergenceGuard(Observer):
    def on_step(self, run, stats):
        cfg = run.trainer.config
        limit = math.log(cfg.shape.vocab_size) + cfg.divergence_margin
        if stats.tokens > cfg.warmup_tokens and stats.loss > limit:
            raise TrainingFailed(f"diverged: training loss {stats.loss:.3f} > ln(V) + {cfg.divergence_margin} "
                                 f"at step {stats.step} (try a lower lr)")


TRACE_COLUMNS = ("step", "tokens", "epoch", "train_loss", "train_loss_ema", "lr", "grad_sq_full",
                 "grad_sq_micro", "grad_sq_pair_full", "micro_tokens", "grad_steps")


class Trace(Observer):
    """The dense trace: every step, averaged in blocks of ``TrainConfig.trace_every()`` steps.

    Per block: mean training loss, the smoothed loss at its last step, the mean |G_B|² of all its
    steps, and, over the steps that had two or more micro-batches, the mean |G_b|² (micro) and
    |G_B|² (full, same steps) with the micro-batch size: the two-batch noise-scale estimator takes
    these means (numerator and denominator smoothed separately).
    """

    def on_step(self, run, stats):
        state = run.trainer.state
        if state["trace"] is None:
            state["trace"] = {"every": run.trainer.config.trace_every(), "batch_tokens": stats.batch_tokens,
                              **{c: [] for c in TRACE_COLUMNS}}
        b = state["trace_block"] or {"n": 0, "loss": 0.0, "sq_full": 0.0, "n_grad": 0, "sq_micro": 0.0,
                                     "sq_pair": 0.0, "micro_tokens": 0}
        b["n"] += 1
        b["loss"] += stats.loss
        b["sq_full"] += stats.grad_sq_full
        if stats.grad_sq_micro is not None:
            b["n_grad"] += 1
            b["sq_micro"] += stats.grad_sq_micro
            b["sq_pair"] += stats.grad_sq_full
            b["micro_tokens"] += stats.micro_tokens
        state["trace_block"] = b
        self.last_stats = stats
        if stats.step % state["trace"]["every"] == 0 or stats.step == run.trainer.config.steps:
            self.flush(run, stats)

    def flush(self, run, stats) -> None:
        state = run.trainer.state
        b, t = state["trace_block"], state["trace"]
        if not b or not b["n"]:
            return
        g = b["n_grad"]
        row = {"step": stats.step, "tokens": stats.tokens, "epoch": round(stats.epochs, 6),
               "train_loss": b["loss"] / b["n"], "train_loss_ema": stats.loss_ema, "lr": stats.lr,
               "grad_sq_full": b["sq_full"] / b["n"], "grad_sq_micro": b["sq_micro"] / g if g else None,
               "grad_sq_pair_full": b["sq_pair"] / g if g else None,
               "micro_tokens": b["micro_tokens"] / g if g else None, "grad_steps": g}
        for c in TRACE_COLUMNS:
            t[c].append(row[c])
        state["trace_block"] = None

    def on_end(self, run):
        if run.trainer.state["trace_block"] and getattr(self, "last_stats", None):
            self.flush(run, self.last_stats)


class Curve(Observer):
    """Validation loss at the log-spaced steps of ``TrainConfig.eval_steps()``, written to the record."""

    def __init__(self, config: TrainConfig, wall_start: float, wall_before: float):
        self.eval_steps = set(config.eval_steps())
        self.wall_start, self.wall_before = wall_start, wall_before

    def on_step(self, run, stats):
        trainer, state = run.trainer, run.trainer.state
        window = state.setdefault("curve_window", [])   # in the state, so a resume between points is exact
        window.append(stats.loss)
        del window[:-10]
        if stats.step not in self.eval_steps:
            return
        val = trainer.evaluate(trainer.val_windows)
        if not math.isfinite(val):
            raise TrainingFailed(f"non-finite validation loss at step {stats.step}")
        state["wall_s"] = self.wall_before + time.monotonic() - self.wall_start
        state["curve"].append({"step": stats.step, "tokens": stats.tokens, "epoch": round(stats.epochs, 6),
                               "train_loss": sum(window) / len(window),
                               "train_loss_ema": stats.loss_ema, "val_loss": val, "lr": stats.lr,
                               "wall_s": round(state["wall_s"], 3)})
        window.clear()
        if val < state["best_val"]:
            state.update(best_val=val, best_step=stats.step, since_best=0)
            if trainer.keeps_best:
                trainer.remember_best()
        else:
            state["since_best"] += 1
        run.save_record()


class Checkpointing(Observer):
    """A checkpoint at a curve point, at most once per ``interval_s`` (0: at every curve point)."""

    def __init__(self, interval_s: float):
        self.interval_s, self.last = interval_s, time.monotonic()

    def on_step(self, run, stats):
        if run.curve_point_now(stats) and stats.step < run.trainer.config.steps \
                and time.monotonic() - self.last >= self.interval_s:
            checkpoint.save(run.checkpoint_path, run.trainer.state_dict())
            self.last = time.monotonic()


class EarlyStopping(Observer):
    """Stop after ``patience`` curve points without a new best validation loss, never before ``min_epochs``."""

    def __init__(self, patience: int, min_epochs: float = 0.0):
        self.patience, self.min_epochs = patience, min_epochs

    def on_step(self, run, stats):
        return run.curve_point_now(stats) and run.trainer.state["since_best"] > self.patience \
            and stats.epochs >= self.min_epochs


class Cooldowns(Observer):
    """Cooldown branches (``TrainConfig.cooldown_budgets``): the loss a run of each budget would reach.

    After step ``branch`` of the constant-LR run the trainer's whole state (weights, optimizer, sampler,
    RNG, loop state) is copied and written as a checkpoint; the copy then takes ``steps`` more optimizer
    steps with the LR falling linearly from the peak towards 0 (the last at peak/steps), reading the data
    the run would read next, so the branch is the run that a schedule of exactly that budget (constant,
    then the cooldown) would have been. Its validation loss is read on the final evaluation windows, the
    run's state is put back as it was (its validation loss is also read on the learning curve's windows,
    ``curve_val_loss``, to compare with curve points), and the result is kept in ``state["cooldowns"]`` and a second
    checkpoint. A kill during a branch resumes at its branch point and redoes it; a finished branch is
    never repeated.
    """

    def __init__(self, config: TrainConfig):
        self.plan = {branch: (budget, steps) for budget, branch, steps in config.cooldown_plan()}
        self.windows = None

    def on_start(self, run):
        run.trainer.state.setdefault("cooldowns", [])
        self.branch_if_due(run, run.trainer.state["step"])   # a branch a kill interrupted

    def on_step(self, run, stats):
        self.branch_if_due(run, stats.step)

    def branch_if_due(self, run, step: int) -> None:
        trainer = run.trainer
        if step not in self.plan or any(c["branch_step"] == step for c in trainer.state["cooldowns"]):
            return
        budget, steps = self.plan[step]
        saved = copy.deepcopy(trainer.state_dict())
        saved["rng"] = checkpoint.rng_states()
        checkpoint.save(run.checkpoint_path, trainer.state_dict())
        started = time.monotonic()
        peak = trainer.config.peak_lr(trainer.n_params)
        for k in range(steps):
            stats = trainer.step(lr=peak * (steps - k) / steps)
        if self.windows is None:
            from .sampling import fixed_windows
            self.windows = fixed_windows(trainer.corpus.tokens("val"), trainer.config.final_eval_tokens,
                                         trainer.length)
        val = trainer.evaluate(self.windows)
        curve_val = trainer.evaluate(trainer.val_windows)   # the curve's windows: comparable with curve points
        if not math.isfinite(val):
            raise TrainingFailed(f"non-finite validation loss after the cooldown to {budget:,} tokens")
        result = {"budget": budget, "branch_step": step, "cooldown_steps": steps, "steps": stats.step,
                  "tokens": stats.tokens, "epoch": round(stats.epochs, 6), "val_loss": val, "curve_val_loss": curve_val,
                  "train_loss_ema": stats.loss_ema, "lr_peak": peak, "wall_s": round(time.monotonic() - started, 3)}
        trainer.load_state_dict(saved)
        trainer.state["cooldowns"].append(result)
        run.save_record()
        checkpoint.save(run.checkpoint_path, trainer.state_dict())


class Progress(Observer):
    def __init__(self, config: TrainConfig, initial: int, desc: str):
        from tqdm.auto import tqdm
        self.bar = tqdm(total=config.steps, initial=initial, desc=desc, unit="step", leave=False)

    def on_step(self, run, stats):
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{stats.loss_ema:.3f}")

    def on_end(self, run):
        self.bar.close()
