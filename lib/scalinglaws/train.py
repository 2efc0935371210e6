"""Train one model and write its run record.

The loop is deliberately plain (nanoGPT-style): sample random windows of the training tokens,
accumulate gradients over micro-batches, clip, AdamW step. Around it sit the things a scaling
study needs:

* a learning-rate schedule with linear warmup and cosine decay, whose horizon is either matched
  to the run or fixed in tokens (Kaplan's way, which handicaps short runs: Chinchilla §2,
  Porian et al. 2024); the peak LR defaults to Kaplan's LR(N) rule (App D.6);
* validation loss at log-spaced steps (the learning curve), with the mean training loss of the
  same window beside it, and the best validation loss kept (early stopping for later chapters);
* checkpoints at curve points, so an interrupted run resumes exactly where it stopped
  (same data order, same dropout masks, same final loss);
* a run that produces NaN or diverges stops with status ``failed`` and a reason.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import platform
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .model import ModelShape, accounting, build_model, from_dict, kaplan_lr, lm_loss
from .paths import repo_root
from .runs import config_hash, read_record, RecordError, write_record

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class TrainConfig:
    """Everything that determines a run. Stored verbatim in the run record."""

    model: dict                                # ModelShape fields
    corpus: str = "default"                    # see data.prepare_corpus
    data_seed: int = 1234                      # the document split
    tokens: int = 5_000_000                    # training tokens processed
    train_subset_tokens: int | None = None     # train on the first D tokens only (repeats epochs); None = all
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
    early_stopping_patience: int | None = None # curve points without improvement; None = off
    divergence_margin: float = 1.0             # fail when train loss > ln(V) + margin after warmup
    bf16: bool = False                         # CPU/GPU bf16 autocast (≈1.6× faster on CPU for N ≥ 1e6)
    checkpoint_interval_s: float = 60.0        # at most one checkpoint per interval (0 = every point)

    def __post_init__(self):
        self.betas = tuple(self.betas)
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
        if self.schedule not in ("cosine", "constant"):
            problems.append(f"unknown schedule {self.schedule!r} (cosine, constant)")
        if self.train_subset_tokens is not None and self.train_subset_tokens <= self.shape.n_ctx + 1:
            problems.append(f"train_subset_tokens={self.train_subset_tokens} is shorter than one window")
        if self.eval_points < 1:
            problems.append("eval_points must be at least 1")
        if problems:
            raise ValueError("impossible training config: " + "; ".join(problems))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    def same_run(self, other: "TrainConfig | dict") -> bool:
        """Whether two configs describe the same run (a stored config lacking fields added since
        then gets their defaults, so records stay valid when the config grows)."""
        other = TrainConfig.from_dict(other) if isinstance(other, dict) else other
        return self.to_dict() == other.to_dict()

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return from_dict(cls, d, "training config")

    # Derived quantities -------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return math.ceil(self.tokens / self.batch_tokens)

    @property
    def batch_seqs(self) -> int:
        return self.batch_tokens // self.shape.n_ctx

    @property
    def micro_seqs(self) -> int:
        """Largest divisor of the batch (in sequences) that fits the micro-batch budget."""
        cap = max(1, self.micro_batch_tokens // self.shape.n_ctx)
        return max(d for d in range(1, min(cap, self.batch_seqs) + 1) if self.batch_seqs % d == 0)

    def lr_at(self, step: int, non_embedding: int) -> float:
        """Learning rate for optimizer step ``step`` (0-based)."""
        peak = self.lr if self.lr is not None else kaplan_lr(non_embedding)
        warmup = math.ceil(self.warmup_tokens / self.batch_tokens)
        if step < warmup:
            return peak * (step + 1) / warmup
        if self.schedule == "constant":
            return peak
        horizon = math.ceil((self.horizon_tokens or self.tokens) / self.batch_tokens)
        progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
        floor = self.min_lr_ratio * peak
        return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    def eval_steps(self) -> list[int]:
        """Log-spaced steps (1-based, after the update) where the curve is recorded."""
        points = np.geomspace(1, self.steps, self.eval_points)
        return sorted({int(round(s)) for s in points} | {self.steps})


class TrainingFailed(RuntimeError):
    pass


# Data ---------------------------------------------------------------------------------------

def sample_windows(tokens: np.ndarray, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` random windows of ``length`` tokens (inputs plus the shifted target)."""
    starts = torch.randint(0, len(tokens) - length, (n,), generator=generator).numpy()
    return torch.from_numpy(np.stack([tokens[s:s + length] for s in starts]).astype(np.int64))


def fixed_windows(tokens: np.ndarray, n_tokens: int, length: int) -> torch.Tensor:
    """Evenly spaced, non-random windows covering about ``n_tokens`` of a held-out split."""
    n = max(1, min(n_tokens // (length - 1), (len(tokens) - 1) // length))
    starts = np.linspace(0, len(tokens) - length, n).astype(np.int64)
    return torch.from_numpy(np.stack([tokens[s:s + length] for s in starts]).astype(np.int64))


@torch.no_grad()
def evaluate(model, windows: torch.Tensor, batch: int, autocast) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        chunk = windows[i:i + batch]
        with autocast():
            total += lm_loss(model, chunk).item() * len(chunk)
        count += len(chunk)
    model.train()
    return total / count


# Provenance ---------------------------------------------------------------------------------

def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs{gpu}"


def git_commit() -> str | None:
    try:
        root = repo_root()
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) if sha else None
    except (OSError, subprocess.SubprocessError):
        return None


def file_sha256(path: Path) -> str | None:
    import hashlib
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# The run ------------------------------------------------------------------------------------

def train_run(config: TrainConfig | dict, run_dir: Path, *, grid: str = "adhoc", run_id: str | None = None,
              corpus=None, device: str = "cpu", threads: int | None = None, progress: bool = True,
              command: str | None = None, notebook: str | None = None, stop_after_steps: int | None = None) -> dict:
    """Train (or resume, or skip) one run and return its record.

    A complete record with the same config is returned as it is. A checkpoint with the same config
    is resumed. ``stop_after_steps`` ends the process's work early without finishing the run (the
    record stays ``running``), as an interruption would; it exists for tests and time-boxed jobs.
    """
    config = TrainConfig.from_dict(config) if isinstance(config, dict) else config
    run_dir = Path(run_dir)
    run_id = run_id or run_dir.name
    chash = config_hash(config.to_dict())
    try:
        existing = read_record(run_dir)
        if existing["status"] == "complete" and config.same_run(existing["config"]):
            return existing
    except (RecordError, ValueError):
        pass
    if threads:
        torch.set_num_threads(threads)

    from .data import prepare_corpus
    if corpus is None:
        corpus = prepare_corpus(config.corpus, vocab_size=config.shape.vocab_size,
                                seed=config.data_seed, progress=progress)
    if corpus.vocab_size != config.shape.vocab_size:
        raise ValueError(f"model vocab_size {config.shape.vocab_size} != corpus vocab_size {corpus.vocab_size}")
    train_tokens = corpus.tokens("train")
    if config.train_subset_tokens is not None:
        if config.train_subset_tokens > len(train_tokens):
            raise ValueError(f"train_subset_tokens={config.train_subset_tokens} exceeds the corpus's "
                             f"{len(train_tokens)} training tokens")
        train_tokens = train_tokens[:config.train_subset_tokens]
    length = config.shape.n_ctx + 1
    val_windows = fixed_windows(corpus.tokens("val"), config.eval_tokens, length)

    torch.manual_seed(config.seed)
    model = build_model(config.shape, dropout=config.dropout).to(device)
    acct = accounting(config.shape, model)
    n_params = acct["params"]["non_embedding"]
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=config.lr_at(0, n_params), betas=config.betas)
    generator = torch.Generator().manual_seed(config.seed + 1)
    autocast = (lambda: torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)) \
        if config.bf16 else nullcontext

    state = {"step": 0, "curve": [], "best_val": math.inf, "best_step": None, "wall_s": 0.0,
             "train_s": 0.0, "since_best": 0, "started": now()}
    ckpt_path = run_dir / CHECKPOINT_NAME
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        try:
            same = config.same_run(ckpt.get("config") or {})
        except (TypeError, ValueError):
            same = False
        if same:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            generator.set_state(ckpt["generator"])
            torch.set_rng_state(ckpt["torch_rng"])
            state = ckpt["state"]
        else:
            ckpt_path.unlink()

    record = {
        "status": "running", "grid": grid, "run_id": run_id, "config": config.to_dict(), "config_hash": chash,
        **acct, "curve": state["curve"],
        "corpus": {"spec": config.corpus, "vocab_size": corpus.vocab_size, "path": str(corpus.path),
                   "manifest_sha256": file_sha256(Path(corpus.path) / "manifest.json"),
                   "train_tokens": int(len(train_tokens))},
        "provenance": {"command": command or " ".join(sys.argv), "commit": git_commit(),
                       "machine": machine_description(), "torch": torch.__version__,
                       "python": platform.python_version(), "scalinglaws": __version__,
                       "threads": torch.get_num_threads(), "device": device,
                       "allocator": os.environ.get("LD_PRELOAD") or "glibc",
                       "started": state["started"], "finished": None, "notebook": notebook},
    }
    write_record(run_dir, record)

    def fail(reason: str) -> dict:
        record.update(status="failed", reason=reason)
        record["provenance"]["finished"] = now()
        write_record(run_dir, record)
        return record

    eval_steps = [s for s in config.eval_steps() if s > state["step"]]
    micro, accumulation = config.micro_seqs, config.batch_seqs // config.micro_seqs
    tokens_per_step = config.batch_seqs * config.shape.n_ctx
    window_losses, last_ckpt = [], time.monotonic()
    resumed_wall = state["wall_s"]
    t0 = time.monotonic()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=config.steps, initial=state["step"], desc=f"{run_id}", unit="step", leave=False)
    model.train()
    while state["step"] < config.steps:
        if stop_after_steps is not None and state["step"] >= stop_after_steps:
            return record
        step = state["step"]
        lr = config.lr_at(step, n_params)
        for group in optimizer.param_groups:
            group["lr"] = lr
        t_step = time.monotonic()
        step_loss = 0.0
        for _ in range(accumulation):
            batch = sample_windows(train_tokens, micro, length, generator).to(device)
            with autocast():
                loss = lm_loss(model, batch)
            (loss / accumulation).backward()
            step_loss += loss.item() / accumulation
        if not math.isfinite(step_loss):
            return fail(f"non-finite training loss ({step_loss}) at step {step + 1}")
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state["train_s"] += time.monotonic() - t_step
        state["step"] = step = step + 1
        window_losses.append(step_loss)
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}")
        warmup_done = step * config.batch_tokens > config.warmup_tokens
        if warmup_done and step_loss > math.log(config.shape.vocab_size) + config.divergence_margin:
            return fail(f"diverged: training loss {step_loss:.3f} > ln(V) + {config.divergence_margin} "
                        f"at step {step} (try a lower lr)")
        if eval_steps and step == eval_steps[0]:
            eval_steps.pop(0)
            val = evaluate(model, val_windows, micro * 4, autocast)
            if not math.isfinite(val):
                return fail(f"non-finite validation loss at step {step}")
            state["wall_s"] = resumed_wall + time.monotonic() - t0
            state["curve"].append({"step": step, "tokens": step * tokens_per_step,
                                   "train_loss": float(np.mean(window_losses[-10:])), "val_loss": val,
                                   "lr": lr, "wall_s": round(state["wall_s"], 3)})
            window_losses = []
            if val < state["best_val"]:
                state.update(best_val=val, best_step=step, since_best=0)
            else:
                state["since_best"] += 1
            record["curve"] = state["curve"]
            write_record(run_dir, record)
            if time.monotonic() - last_ckpt >= config.checkpoint_interval_s and step < config.steps:
                save_checkpoint(ckpt_path, model, optimizer, generator, state, config)
                last_ckpt = time.monotonic()
            patience = config.early_stopping_patience
            if patience is not None and state["since_best"] > patience:
                break
    if bar:
        bar.close()

    final_eval = {"val": evaluate(model, fixed_windows(corpus.tokens("val"), config.final_eval_tokens, length),
                                  micro * 4, autocast)}
    for split in corpus.splits:
        if split in ("train", "val"):
            continue
        budget = config.final_eval_tokens if split == "test" else config.ood_eval_tokens
        final_eval[split] = evaluate(model, fixed_windows(corpus.tokens(split), budget, length), micro * 4, autocast)
    state["wall_s"] = resumed_wall + time.monotonic() - t0
    record["final"] = {
        "val_loss": final_eval["val"], "best_val_loss": state["best_val"], "best_step": state["best_step"],
        "tokens": state["step"] * tokens_per_step, "steps": state["step"],
        "stopped_early": state["step"] < config.steps,
        "wall_s": round(state["wall_s"], 3), "train_s": round(state["train_s"], 3),
        "tokens_per_s": round(state["step"] * tokens_per_step / max(state["train_s"], 1e-9), 1),
        "eval": final_eval,
    }
    record["status"] = "complete"
    record["provenance"]["finished"] = now()
    write_record(run_dir, record)
    ckpt_path.unlink(missing_ok=True)
    return record


def save_checkpoint(path: Path, model, optimizer, generator, state, config: TrainConfig) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
                "state": state, "config": config.to_dict()}, tmp)
    os.replace(tmp, path)
