"""Reading the calibration grid: the best LR of each sweep, the rule LR*(N), the default batch.

* ``sweep_optimum``: the optimum of one LR sweep, from a parabola in log LR through the best swept
  point and its two neighbours (the loss rises steeply and asymmetrically at high LR, so a parabola
  through the whole sweep would be pulled by the far points). A best point at either end of the sweep
  is *on the edge*: the optimum lies outside what was tried, and it is flagged and never used.
* ``sweeps``: every sweep of a calibration grid (one per size, batch, β2 and warmup), with its optimum.
* ``fit_rule``: ``LR*(N) = lr_ref (N / n_ref)^(−exponent)``, least squares in log–log through the
  interior optima of one batch size, the form of ``protocol.LRRule``.
* ``choose_batch``: the batch the grids use, by a stated criterion (``choose_batch``'s docstring).

A run that diverged (a ``failed`` record whose reason is the divergence guard) counts as a loss of
+inf: it tells the sweep that LR was too high.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import LEGACY, flat_config
from .protocol import LRRule
from .runs import DIVERGED
from .runs import RecordError, iter_run_dirs, read_record

KEYS = ("N", "n_layer", "d_model", "batch_tokens", "beta2", "warmup_tokens")   # one sweep per value of these
TIE_NATS = 0.02    # two optimum losses closer than this are a tie (the paper's seed-to-seed noise, §4.2)


@dataclass
class SweepOptimum:
    lr: float | None          # the parabola's vertex; None when the optimum is on the edge
    loss: float | None        # the parabola at its vertex
    best_lr: float            # the best swept LR
    best_loss: float
    on_edge: str | None       # "low" / "high" when the best point is the smallest / largest LR swept
    n: int                    # LRs swept
    diverged: int             # of which diverged

    def to_dict(self) -> dict:
        return asdict(self)


def sweep_optimum(lrs, losses) -> SweepOptimum:
    """The optimum of one sweep (see the module docstring); ``losses`` may hold ``inf`` for diverged runs."""
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    if lrs.shape != losses.shape or lrs.ndim != 1 or len(lrs) < 3:
        raise ValueError(f"a sweep needs at least 3 (lr, loss) pairs, got {len(lrs)}")
    if len(set(lrs)) != len(lrs) or not np.all(lrs > 0):
        raise ValueError("a sweep's learning rates must be positive and distinct")
    order = np.argsort(lrs)
    lrs, losses = lrs[order], losses[order]
    finite = np.isfinite(losses)
    if not finite.any():
        raise ValueError("every run of the sweep diverged")
    i = int(np.nanargmin(np.where(finite, losses, np.nan)))
    base = dict(best_lr=float(lrs[i]), best_loss=float(losses[i]), n=len(lrs), diverged=int((~finite).sum()))
    if i == 0 or i == len(lrs) - 1:
        return SweepOptimum(lr=None, loss=None, on_edge="low" if i == 0 else "high", **base)
    x = np.log(lrs[i - 1:i + 2])
    y = losses[i - 1:i + 2]
    if not np.all(np.isfinite(y)):   # a diverged neighbour: the best swept point is all we know
        return SweepOptimum(lr=float(lrs[i]), loss=float(losses[i]), on_edge=None, **base)
    a, b, c = np.polyfit(x, y, 2)
    if a <= 0:                        # flat (ties): no curvature to place a vertex
        return SweepOptimum(lr=float(lrs[i]), loss=float(losses[i]), on_edge=None, **base)
    xv = float(np.clip(-b / (2 * a), x[0], x[-1]))
    return SweepOptimum(lr=float(math.exp(xv)), loss=float(a * xv ** 2 + b * xv + c), on_edge=None, **base)


def read_calibration(grid_dir: Path) -> pd.DataFrame:
    """One row per finished run of a calibration grid (complete, or diverged with loss +inf)."""
    rows = []
    for d in iter_run_dirs(Path(grid_dir)):
        try:
            record = read_record(d)
        except RecordError:
            continue
        diverged = record["status"] == "failed" and str(record.get("reason", "")).startswith(DIVERGED)
        if record["status"] != "complete" and not diverged:
            continue
        cfg = flat_config({**LEGACY, **record["config"]})
        final = record.get("final", {})
        rows.append({"run_id": record["run_id"], "N": record["params"]["non_embedding"],
                     "N_total": record["params"]["total"], "n_layer": cfg["n_layer"], "d_model": cfg["d_model"],
                     "batch_tokens": cfg["batch_tokens"], "lr": cfg["lr"], "beta2": cfg["betas"][1],
                     "warmup_tokens": cfg["warmup_tokens"], "tokens": cfg["tokens"], "protocol": cfg["protocol"],
                     "val_loss": final.get("val_loss", math.inf), "diverged": diverged,
                     "curve": record["curve"], "wall_s": final.get("wall_s"),
                     "library_sha256": record["provenance"].get("library_sha256"),
                     "commit": record["provenance"].get("commit")})
    if not rows:
        raise FileNotFoundError(f"no finished calibration runs in {grid_dir}")
    return pd.DataFrame(rows).sort_values(["N", "batch_tokens", "lr"]).reset_index(drop=True)


def sweeps(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per sweep (size, batch, β2, warmup) with at least 3 LRs: its optimum and where it lies."""
    rows = []
    for key, group in runs.groupby(list(KEYS), sort=True):
        if len(group) < 3:
            continue
        opt = sweep_optimum(group["lr"], group["val_loss"])
        rows.append({**dict(zip(KEYS, key)), "lrs": sorted(group["lr"]), **opt.to_dict()})
    return pd.DataFrame(rows)


def fit_rule(optima: pd.DataFrame, *, batch_tokens: int, tokens: int, n_ref: float = 1e5, source: str = "") -> LRRule:
    """``LR*(N)`` through the interior optima of one batch size (edge optima are left out).

    ``optima`` needs columns ``N``, ``lr``, ``loss``, ``on_edge`` (``sweeps`` gives them).
    """
    use = optima[optima["on_edge"].isna() & optima["lr"].notna()]
    if use["N"].nunique() < 2:
        raise ValueError(f"an LR rule needs interior optima at 2 or more sizes; have {use['N'].nunique()} "
                         f"(edges: {optima.loc[optima['on_edge'].notna(), 'N'].tolist()})")
    x = np.log(use["N"].to_numpy(float) / n_ref)
    y = np.log(use["lr"].to_numpy(float))
    slope, intercept = np.polyfit(x, y, 1)
    dof = len(x) - 2
    resid = y - (slope * x + intercept)
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = float(np.sqrt(np.sum(resid ** 2) / dof / sxx)) if dof > 0 else float("nan")
    points = [{"N": int(r.N), "lr": float(r.lr), "loss": float(r.loss)} for r in use.itertuples()]
    return LRRule(lr_ref=float(math.exp(intercept)), exponent=float(-slope), n_ref=n_ref, batch_tokens=int(batch_tokens),
                  n_range=(int(use["N"].min()), int(use["N"].max())), tokens=int(tokens), exponent_se=se,
                  points=points, source=source)


def choose_batch(optima: pd.DataFrame) -> int:
    """The grids' batch: among the batches swept at every size, the one whose best measured loss is lowest
    at the most sizes; a batch within ``TIE_NATS`` of the best counts as best too, and among equals the
    larger batch wins (fewer optimizer steps for the same tokens, and closer to the paper's regime).
    Measured losses, not the parabolas' vertices: a vertex between a good point and a much worse one can
    dip below anything that was trained.
    """
    interior = optima[optima["on_edge"].isna()]
    sizes = sorted(interior["N"].unique())
    batches = [b for b in sorted(interior["batch_tokens"].unique())
               if set(interior.loc[interior["batch_tokens"] == b, "N"]) >= set(sizes)]
    if not batches:
        raise ValueError("no batch size has an interior optimum at every calibrated size")
    wins = {b: 0 for b in batches}
    for n in sizes:
        at = interior[(interior["N"] == n) & interior["batch_tokens"].isin(batches)].set_index("batch_tokens")["best_loss"]
        for b in batches:
            wins[b] += int(at[b] <= at.min() + TIE_NATS)
    return max(batches, key=lambda b: (wins[b], b))


def main_run_ids(grid) -> set:
    """Runs of the protocol itself (β2 0.99, the tuned warmup), as opposed to the β2 and warmup checks."""
    from .protocol import tuned_warmup_tokens
    return {run.run_id for run in grid.runs
            if run.config["betas"][1] == 0.99
            and run.config["warmup_tokens"] == tuned_warmup_tokens(run.config["model"], run.config["tokens"])}


def main_sweeps(runs: pd.DataFrame, grid) -> pd.DataFrame:
    """The optima of the protocol's own LR sweeps (one per size and batch), not the checks."""
    return sweeps(runs[runs["run_id"].isin(main_run_ids(grid))])


def calibrate(grid_dir: Path, grid=None) -> tuple[LRRule, pd.DataFrame]:
    """Every sweep of a calibration grid, the batch it chooses and the rule at that batch."""
    from .grids import get_grid
    from .provenance import library_sha256
    grid = grid or get_grid("calibration")
    runs = read_calibration(grid_dir)
    optima = main_sweeps(runs, grid)
    batch = choose_batch(optima)
    hashes = sorted(set(runs["library_sha256"].dropna()))
    source = f"{Path(grid_dir).name}: {len(runs)} runs; library {', '.join(h[:12] for h in hashes)}"
    rule = fit_rule(optima[optima["batch_tokens"] == batch], batch_tokens=batch, tokens=int(runs["tokens"].iloc[0]),
                    source=source)
    return rule, optima


def protocol_checks(runs: pd.DataFrame, grid) -> pd.DataFrame:
    """The β2 and warmup checks against the main sweep, at the size and batch they were run at, over the
    LRs they share: each variant's best loss and LR, and its loss minus the main protocol's best."""
    main = runs[runs["run_id"].isin(main_run_ids(grid))]
    checks = runs[~runs["run_id"].isin(main_run_ids(grid))]
    rows = []
    for (n, batch, beta2, warmup), part in checks.groupby(["N", "batch_tokens", "beta2", "warmup_tokens"]):
        ref = main[(main["N"] == n) & (main["batch_tokens"] == batch) & main["lr"].isin(set(part["lr"]))]
        best = part.loc[part["val_loss"].idxmin()]
        row = {"variant": f"β2 = {beta2}" if beta2 != 0.99 else f"warmup {int(warmup):,} tokens",
               "beta2": beta2, "warmup_tokens": int(warmup), "N": int(n), "batch_tokens": int(batch),
               "lrs": sorted(part["lr"]), "best_lr": float(best["lr"]), "best_loss": float(best["val_loss"])}
        if not ref.empty:
            top = ref.loc[ref["val_loss"].idxmin()]
            row.update(main_warmup=int(top["warmup_tokens"]), main_best_lr=float(top["lr"]),
                       main_best_loss=float(top["val_loss"]), difference=float(best["val_loss"] - top["val_loss"]))
        rows.append(row)
    return pd.DataFrame(rows)


def check_verdicts(checks: pd.DataFrame, margin: float = TIE_NATS) -> dict:
    """The checks sorted by what they show against ``tuned``: ``within`` the seed-noise margin, ``worse``
    or ``better`` by more than it (rows of ``protocol_checks``)."""
    diff = checks["difference"]
    return {"within": checks[diff.abs() <= margin], "worse": checks[diff > margin], "better": checks[diff < -margin]}
