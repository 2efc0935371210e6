"""Train one model and write its run record.

The work is cut the way nanoGPT keeps a loop readable and d2l keeps its seams:

* **setup** (``Trainer.__init__``): model, optimizer (AdamW, decay on matrices only), the
  training sampler (``sampling``), the evaluation windows, the loop state;
* **step** (``Trainer.step``): one optimizer step over ``n_micro`` micro-batches, returning
  ``StepStats``: the loss, its running average, the learning rate, and the squared gradient norms
  of every micro-batch and of the full batch (McCandlish et al. 2018's two-batch estimator of the
  gradient noise scale needs both; the micro-batch norms cost two passes over the gradients);
* **observers**, called after every step (``observers`` module): the dense trace, the learning
  curve at log-spaced steps, checkpoints, early stopping, the divergence guard, a progress bar;
* **finalisation** (``finalise``): held-out evaluation (with the best weights when early
  stopping is on, as the paper reports early-stopped losses) and the record's ``final`` block.

``train_run`` ties them together, resumes from a checkpoint when one exists (same data order,
dropout masks and loss as an uninterrupted run), and writes the record through ``runs``.
On CUDA it autocasts to bf16, uses fused AdamW and reads values back to the host once per step.
"""
from __future__ import annotations

import math
import os
import platform
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch

from . import __version__, checkpoint
from .config import TrainConfig
from .data.prepare import folder_manifest_identity
from .data.subsets import nested_subset
from .models import accounting, build_model, lm_loss
from .observers import (Checkpointing, Cooldowns, Curve, DivergenceGuard, EarlyStopping, Observer, Progress,
                        RunContext, Trace, TrainingFailed)
from .provenance import file_sha256, git_commit, library_sha256, machine_description, now
from .runs import RecordError, complete_record, fail_record, new_record, read_record, write_record
from .sampling import fixed_windows, make_sampler

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(device: str = "cpu", *, here: bool = True) -> str:
    """``cpu``, ``cuda`` / ``cuda:N``, or ``auto`` (CUDA when available).

    With ``here=False`` only the name is checked (a job submitted to another machine decides there).
    """
    kind = device.split(":")[0]
    if device != "auto" and kind not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; use one of {', '.join(DEVICES)} (or cuda:N)")
    if not here:
        return device
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch {torch.__version__} sees no CUDA device")
    return device


@dataclass
class StepStats:
    """What one optimizer step measured (``step`` is 1-based, after the update)."""

    step: int
    tokens: int                    # processed so far
    loss: float                    # mean training loss of the batch
    loss_ema: float                # bias-corrected exponential average of ``loss`` (TrainConfig.loss_ema)
    lr: float
    grad_sq_full: float            # |G_B|²: squared norm of the full batch's mean gradient, before clipping
    grad_sq_micro: float | None    # mean over micro-batches of |G_b|² (None when the step was one micro-batch)
    grad_sq_micros: list           # |G_b|² of each micro-batch, in order (empty when the step was one micro-batch)
    n_micro: int
    micro_tokens: int
    batch_tokens: int
    seconds: float
    epochs: float                  # training windows read / windows available


class Trainer:
    """Setup and the step. Everything that must survive a restart lives in ``state`` or ``state_dict``."""

    def __init__(self, config: TrainConfig, corpus, device: str = "cpu"):
        self.config = config
        self.device = resolve_device(device)
        self.device_type = self.device.split(":")[0]
        self.precision = "bf16" if config.bf16 or self.device_type == "cuda" else "fp32"
        shape = config.shape
        if corpus.vocab_size != shape.vocab_size:
            raise ValueError(f"model vocab_size {shape.vocab_size} != corpus vocab_size {corpus.vocab_size}")
        train_tokens = corpus.tokens("train")
        if config.train_subset_tokens is not None:
            if config.train_subset_tokens > len(train_tokens):
                raise ValueError(f"train_subset_tokens={config.train_subset_tokens} exceeds the corpus's "
                                 f"{len(train_tokens)} training tokens")
            train_tokens = nested_subset(train_tokens, config.train_subset_tokens, getattr(corpus, "eot_id", None),
                                         config.train_subset_order)
        self.corpus, self.train_tokens = corpus, train_tokens
        self.length = shape.n_ctx + 1
        self.sampler = make_sampler(config.sampling, train_tokens, shape.n_ctx, config.seed)
        self.val_windows = fixed_windows(corpus.tokens("val"), config.eval_tokens, self.length)

        torch.manual_seed(config.seed)
        self.model = build_model(shape, dropout=config.dropout).to(self.device)
        self.accounting = accounting(shape, self.model)
        self.n_params = self.accounting["params"]["non_embedding"]
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        decay = [p for p in self.params if p.dim() >= 2]
        no_decay = [p for p in self.params if p.dim() < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=config.lr_at(0, self.n_params), betas=config.betas, fused=self.device_type == "cuda")
        self.state = {"step": 0, "curve": [], "trace": None, "trace_block": None, "loss_ema_raw": 0.0,
                      "best_val": math.inf, "best_step": None, "since_best": 0, "wall_s": 0.0, "train_s": 0.0,
                      "started": now()}
        self.best_weights: dict | None = None
        self._prev_grads: list | None = None
        self.model.train()

    # -- pieces ----------------------------------------------------------------------------
    def autocast(self):
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device_type, dtype=torch.bfloat16)
        return nullcontext()

    @property
    def keeps_best(self) -> bool:
        return self.config.early_stopping_patience is not None

    def micro_plan(self, step: int) -> tuple[int, int]:
        """(micro-batches, sequences per micro-batch) for optimizer step ``step`` (0-based)."""
        cfg = self.config
        n_micro, micro = cfg.batch_seqs // cfg.micro_seqs, cfg.micro_seqs
        if n_micro == 1 and cfg.grad_stats_every and step % cfg.grad_stats_every == 0 and micro % 2 == 0:
            return 2, micro // 2   # split so the noise estimator sees two batch sizes
        return n_micro, micro

    def _micro_grad_sq(self, i: int, n_micro: int) -> torch.Tensor:
        """|g_i|² of micro-batch ``i``'s own mean gradient, read from the accumulated ``.grad``.

        After micro-batch i the gradients hold (g_0 + … + g_i) / n_micro, so
        g_i = n_micro · (grad_i − grad_{i−1}). Costs one subtraction and one norm over the parameters.
        """
        grads = [p.grad for p in self.params]
        if i == 0:
            if self._prev_grads is None:
                self._prev_grads = [torch.empty_like(g) for g in grads]
            norms = torch._foreach_norm(grads)
        else:
            norms = torch._foreach_norm(torch._foreach_sub(grads, self._prev_grads))
        if i < n_micro - 1:
            torch._foreach_copy_(self._prev_grads, grads)
        return torch.stack(norms).float().pow(2).sum() * n_micro ** 2

    # -- the step --------------------------------------------------------------------------
    def step(self, lr: float | None = None) -> StepStats:
        """One optimizer step at the schedule's learning rate, or at ``lr`` when given (a cooldown branch)."""
        cfg, state = self.config, self.state
        step = state["step"]
        lr = cfg.lr_at(step, self.n_params) if lr is None else lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        n_micro, micro = self.micro_plan(step)
        t0 = time.perf_counter()
        windows = self.sampler.next(n_micro * micro)
        losses, micro_sq = [], []
        for i in range(n_micro):
            batch = windows[i * micro:(i + 1) * micro].to(self.device, non_blocking=True)
            with self.autocast():
                loss = lm_loss(self.model, batch)
            (loss / n_micro).backward()
            losses.append(loss.detach().float())
            if n_micro > 1:
                micro_sq.append(self._micro_grad_sq(i, n_micro))
        full_norm = torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
        values = torch.stack([*losses, full_norm.float(), *micro_sq]).tolist()   # the one host sync of a step
        step_loss = sum(values[:n_micro]) / n_micro
        if not math.isfinite(step_loss):
            raise TrainingFailed(f"non-finite training loss ({step_loss}) at step {step + 1}")
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - t0
        state["train_s"] += seconds
        state["step"] = step + 1
        beta = cfg.loss_ema
        state["loss_ema_raw"] = beta * state["loss_ema_raw"] + (1 - beta) * step_loss
        return StepStats(step=step + 1, tokens=(step + 1) * cfg.batch_tokens, loss=step_loss,
                         loss_ema=state["loss_ema_raw"] / (1 - beta ** (step + 1)), lr=lr,
                         grad_sq_full=values[n_micro] ** 2,
                         grad_sq_micro=sum(values[n_micro + 1:]) / n_micro if n_micro > 1 else None,
                         grad_sq_micros=values[n_micro + 1:],
                         n_micro=n_micro, micro_tokens=micro * cfg.shape.n_ctx, batch_tokens=cfg.batch_tokens,
                         seconds=seconds, epochs=self.sampler.epochs)

    @torch.no_grad()
    def evaluate(self, windows: torch.Tensor) -> float:
        self.model.eval()
        total, count, batch = 0.0, 0, self.config.micro_seqs * 4
        for i in range(0, len(windows), batch):
            chunk = windows[i:i + batch].to(self.device, non_blocking=True)
            with self.autocast():
                total += lm_loss(self.model, chunk).item() * len(chunk)
            count += len(chunk)
        self.model.train()
        return total / count

    def remember_best(self) -> None:
        self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"config": self.config.to_dict(), "device_type": self.device_type, "precision": self.precision,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "sampler": self.sampler.state_dict(),
                "state": self.state, "best_weights": self.best_weights}

    def load_state_dict(self, payload: dict) -> None:
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.sampler.load_state_dict(payload["sampler"])
        self.state = payload["state"]
        best = payload.get("best_weights")
        self.best_weights = {k: v.to(self.device) for k, v in best.items()} if best else None
        checkpoint.set_rng_states(payload["rng"])


def default_observers(trainer: Trainer, progress: bool, desc: str) -> list[Observer]:
    cfg = trainer.config
    observers = [DivergenceGuard(), Trace(), Curve(cfg, time.monotonic(), trainer.state["wall_s"]),
                 Checkpointing(cfg.checkpoint_interval_s)]
    if cfg.early_stopping_patience is not None:
        observers.append(EarlyStopping(cfg.early_stopping_patience, cfg.early_stopping_min_epochs))
    if cfg.cooldown_budgets:
        observers.append(Cooldowns(cfg))
    if progress:
        observers.append(Progress(cfg, trainer.state["step"], desc))
    return observers


# -- finalisation ---------------------------------------------------------------------------

def finalise(trainer: Trainer, wall_s: float) -> dict:
    """Evaluate on every held-out split and build the record's ``final`` block.

    With early stopping on, the evaluation uses the weights of the best curve point (``weights``:
    ``best``, ``eval_step``: its step), as the paper reports early-stopped test loss.
    """
    cfg, state = trainer.config, trainer.state
    weights, eval_step = "last", state["step"]
    if trainer.keeps_best and trainer.best_weights is not None:
        trainer.model.load_state_dict(trainer.best_weights)
        weights, eval_step = "best", state["best_step"]
    corpus = trainer.corpus
    final_eval = {"val": trainer.evaluate(fixed_windows(corpus.tokens("val"), cfg.final_eval_tokens, trainer.length))}
    for split in corpus.splits:
        if split in ("train", "val"):
            continue
        budget = cfg.final_eval_tokens if split == "test" else cfg.ood_eval_tokens
        final_eval[split] = trainer.evaluate(fixed_windows(corpus.tokens(split), budget, trainer.length))
    tokens = state["step"] * cfg.batch_tokens
    return {"val_loss": final_eval["val"], "best_val_loss": state["best_val"], "best_step": state["best_step"],
            "weights": weights, "eval_step": eval_step, "tokens": tokens, "steps": state["step"],
            "epochs": round(trainer.sampler.epochs, 6), "stopped_early": state["step"] < cfg.steps,
            "wall_s": round(wall_s, 3), "train_s": round(state["train_s"], 3),
            "tokens_per_s": round(tokens / max(state["train_s"], 1e-9), 1), "eval": final_eval}


# -- the run --------------------------------------------------------------------------------

def train_run(config: TrainConfig | dict, run_dir: Path, *, grid: str = "adhoc", run_id: str | None = None,
              corpus=None, device: str = "cpu", threads: int | None = None, progress: bool = True,
              command: str | None = None, notebook: str | None = None, stop_after_steps: int | None = None,
              observers: list | tuple = ()) -> dict:
    """Train (or resume, or skip) one run and return its record.

    A complete record with the same config is returned as it is. A checkpoint with the same config
    is resumed. ``stop_after_steps`` ends this process's work early without finishing the run (the
    record stays ``running``), as an interruption would. ``observers`` are added after the default
    ones (tests use this to interrupt a run at a known step).
    """
    config = TrainConfig.from_dict(config) if isinstance(config, dict) else config
    run_dir = Path(run_dir)
    run_id = run_id or run_dir.name
    try:
        existing = read_record(run_dir)
        if existing["status"] == "complete" and config.same_run(existing["config"]):
            return existing
    except (RecordError, ValueError, TypeError):
        pass
    if threads:
        torch.set_num_threads(threads)
    if corpus is None:
        from .data import prepare_corpus
        corpus = prepare_corpus(config.corpus, vocab_size=config.shape.vocab_size, seed=config.data_seed,
                                progress=progress)
    trainer = Trainer(config, corpus, device)
    ckpt_path = run_dir / checkpoint.CHECKPOINT_NAME
    if ckpt_path.exists():
        payload = checkpoint.load(ckpt_path)
        try:
            same = config.same_run(payload.get("config") or {}) and checkpoint.FIELDS <= set(payload)
        except (TypeError, ValueError):
            same = False
        if not same:     # another run's, or an older format's: it cannot be continued
            ckpt_path.unlink()
        elif (payload["device_type"], payload["precision"]) != (trainer.device_type, trainer.precision):
            raise ValueError(f"{ckpt_path} was written on {payload['device_type']} in {payload['precision']}; "
                             f"continuing it on {trainer.device_type} in {trainer.precision} would change the run. "
                             f"Resume with --device {payload['device_type']}, or delete the checkpoint to start over.")
        else:
            trainer.load_state_dict(payload)

    record = new_record(
        grid=grid, run_id=run_id, config=config.to_dict(), accounting=trainer.accounting,
        corpus={"spec": config.corpus, "vocab_size": corpus.vocab_size, "path": str(corpus.path),
                "manifest_sha256": file_sha256(Path(corpus.path) / "manifest.json"),
                "manifest_identity": folder_manifest_identity(corpus.path),
                "train_tokens": int(len(trainer.train_tokens)), "windows": int(trainer.sampler.n_windows)},
        provenance={"command": command or " ".join(sys.argv), "commit": git_commit(),
                    "library_sha256": library_sha256(), "scalinglaws": __version__,
                    "machine": machine_description(), "device": trainer.device, "precision": trainer.precision,
                    "torch": torch.__version__, "python": platform.python_version(),
                    "threads": torch.get_num_threads(), "allocator": os.environ.get("LD_PRELOAD") or "glibc",
                    "started": trainer.state["started"], "notebook": notebook})
    run = RunContext(trainer, record, run_dir)
    run.save_record()
    wall_start, wall_before = time.monotonic(), trainer.state["wall_s"]
    active = default_observers(trainer, progress, run_id) + list(observers)
    try:
        for observer in active:
            observer.on_start(run)
        while trainer.state["step"] < config.steps:
            if stop_after_steps is not None and trainer.state["step"] >= stop_after_steps:
                for observer in active:
                    if isinstance(observer, Progress):
                        observer.on_end(run)
                return record
            stats = trainer.step()
            stop = False
            for observer in active:
                stop = bool(observer.on_step(run, stats)) or stop
            if stop:
                break
        for observer in active:
            observer.on_end(run)
        final = finalise(trainer, wall_before + time.monotonic() - wall_start)
    except TrainingFailed as e:
        fail_record(record, str(e), now())
        run.save_record()
        return record
    record["curve"], record["trace"] = trainer.state["curve"], trainer.state["trace"]
    if config.cooldown_budgets:
        record["cooldowns"] = trainer.state.get("cooldowns", [])
    complete_record(record, final, now())
    write_record(run_dir, record)
    ckpt_path.unlink(missing_ok=True)
    return record
