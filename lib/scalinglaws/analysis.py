"""Operations on run tables that the chapters share: reading curves at fixed compute or loss,
envelopes (frontiers), late-training loss drops, and the gradient noise scale from a trace.

Inputs are the tables of ``runs``: ``load_grid`` (one row per run), ``curves`` (long learning
curves with ``compute_6N`` / ``compute_head`` / ``compute_head_attn`` per point) and ``traces``
(dense per-step statistics). The law fits themselves are in ``fit``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PF_DAY = 1e15 * 24 * 3600   # FLOPs in a petaflop/s-day (Kaplan's unit of compute)


def interpolate_at(curve: pd.DataFrame, x: str, y: str, at, log: bool = True) -> np.ndarray:
    """``y`` of one learning curve read at the values ``at`` of ``x`` (linear in log–log space by
    default); NaN outside the range the curve covers (never extrapolated)."""
    c = curve[[x, y]].dropna().sort_values(x)
    xs, ys = c[x].to_numpy(float), c[y].to_numpy(float)
    at = np.atleast_1d(np.asarray(at, float))
    if len(xs) == 0:
        return np.full(at.shape, np.nan)
    if log:
        out = np.exp(np.interp(np.log(at), np.log(xs), np.log(ys)))
    else:
        out = np.interp(at, xs, ys)
    out[(at < xs[0]) | (at > xs[-1])] = np.nan
    return out


def first_reach(curve: pd.DataFrame, x: str, y: str, target: float) -> float:
    """The smallest ``x`` at which ``y`` first falls to ``target`` (linear in log–log space between
    points, like ``interpolate_at``); NaN if it never does."""
    c = curve[[x, y]].dropna().sort_values(x)
    xs, ys = c[x].to_numpy(float), c[y].to_numpy(float)
    below = np.nonzero(ys <= target)[0]
    if not len(below):
        return float("nan")
    i = below[0]
    if i == 0:
        return float(xs[0])
    # interpolate between the last point above and the first point at or below the target
    frac = (np.log(ys[i - 1]) - np.log(target)) / (np.log(ys[i - 1]) - np.log(ys[i]))
    return float(np.exp(np.log(xs[i - 1]) + frac * (np.log(xs[i]) - np.log(xs[i - 1]))))


def envelope(long: pd.DataFrame, x: str = "compute_6N", y: str = "val_loss", points: int = 40,
             by: str = "run_id") -> pd.DataFrame:
    """The lower envelope of many learning curves: at ``points`` log-spaced values of ``x``, the
    lowest ``y`` any run reaches there and which run it is (Kaplan's L(C) frontier, Fig 2).

    ``on_edge`` is True where the best run is the smallest or largest of the grid (by its
    ``N``), so a frontier point that the grid's range may have cut off can be flagged, not fitted.
    """
    lo, hi = long[x][long[x] > 0].min(), long[x].max()
    grid = np.geomspace(lo, hi, points)
    table = {run: interpolate_at(part, x, y, grid) for run, part in long.groupby(by)}
    values = pd.DataFrame(table, index=grid)
    has = values.notna().any(axis=1)
    values = values[has]
    best = values.idxmin(axis=1)
    out = pd.DataFrame({x: values.index, y: values.min(axis=1).to_numpy(), by: best.to_numpy()})
    if "N" in long:
        sizes = long.groupby(by)["N"].first()
        out["N"] = sizes.reindex(out[by]).to_numpy()
        out["on_edge"] = out["N"].isin([sizes.min(), sizes.max()])
    return out.reset_index(drop=True)


def loss_drop_after(curve: list, fraction: float = 0.5, key: str = "val_loss") -> float:
    """How much ``key`` fell after the last curve point within the first ``fraction`` of the tokens."""
    c = pd.DataFrame(curve)
    before = c[c["tokens"] <= c["tokens"].iloc[-1] * fraction]
    start = before[key].iloc[-1] if not before.empty else c[key].iloc[0]
    return float(start - c[key].iloc[-1])


def noise_scale(trace: dict | pd.DataFrame, window: int = 1) -> pd.DataFrame:
    """The simple gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018, App A.1), in tokens.

    From the two-batch estimator: with |G_b|² measured on micro-batches of b tokens and |G_B|² on
    the full batch of B tokens,

        |G|²  ≈ (B |G_B|² − b |G_b|²) / (B − b),      tr(Σ) ≈ (|G_b|² − |G_B|²) / (1/b − 1/B).

    Numerator and denominator are averaged separately over ``window`` trace rows (a rolling mean),
    never the ratio of noisy estimates. Rows without micro-batch statistics are dropped.
    """
    t = pd.DataFrame({k: v for k, v in trace.items() if isinstance(v, list)}) if isinstance(trace, dict) else trace
    batch = trace["batch_tokens"] if isinstance(trace, dict) else t["batch_tokens"]
    t = t.dropna(subset=["grad_sq_micro", "grad_sq_pair_full"]).copy()
    b, B = t["micro_tokens"].astype(float), np.asarray(batch, float)
    g2 = (B * t["grad_sq_pair_full"] - b * t["grad_sq_micro"]) / (B - b)
    tr = (t["grad_sq_micro"] - t["grad_sq_pair_full"]) / (1 / b - 1 / B)
    t["G2"] = g2.rolling(window, min_periods=1).mean()
    t["trace_sigma"] = tr.rolling(window, min_periods=1).mean()
    t["B_simple"] = t["trace_sigma"] / t["G2"]
    return t


CONVERGED_CHANGE = 0.02      # a size is converged when its loss fell by less than 2% ...
CONVERGED_DECADES = 0.5      # ... over its last half-decade of tokens


def convergence(curve: list | pd.DataFrame, shorter: tuple | None = None, *, key: str = "val_loss",
                tolerance: float = CONVERGED_CHANGE, decades: float = CONVERGED_DECADES) -> dict:
    """Whether a run is converged, by the criterion the L(N) chapter states:

    * ``minimum``: its validation loss reached a minimum before the run ended (the best curve point
      is not the last one: more training on this schedule did not help; early stopping keeps it), or
    * ``flat``: a run of the same model and protocol on ``decades`` fewer decades of tokens ended
      within ``tolerance`` (relative) of this run's loss. ``shorter`` is that run's ``(tokens, loss)``.
      Two runs are compared, not two points of one curve: under a cosine schedule every run ends
      with the annealing drop, so the curve read ``decades`` before its end overstates how much a
      run of that length would have lost, and the within-run change fails runs that are flat.
      When the shorter run's budget is not exactly ``decades`` fewer, its change is rescaled to
      ``decades`` as if the loss were linear in log tokens between the two.
    * ``falling``: neither; ``unchecked``: no minimum and no shorter run to compare with.

    Returns ``{"converged", "reason", "change", "best_tokens", "end_tokens", "shorter_tokens"}``;
    ``change`` is the relative loss fall from the shorter run to this one's best point (NaN without one).
    """
    c = pd.DataFrame(curve, columns=["tokens", key]).dropna().sort_values("tokens")
    if c.empty:
        raise ValueError("a convergence check needs a curve with at least one point")
    best = c.loc[c[key].idxmin()]
    end_tokens = float(c["tokens"].iloc[-1])
    change, shorter_tokens = float("nan"), float("nan")
    if shorter is not None:
        shorter_tokens, shorter_loss = (float(v) for v in shorter)
        span = np.log10(end_tokens / shorter_tokens)
        if not span > 0:
            raise ValueError(f"the shorter run ({shorter_tokens:,.0f} tokens) is not shorter than this one "
                             f"({end_tokens:,.0f})")
        change = float((shorter_loss - best[key]) / best[key] * decades / span)
    if float(best["tokens"]) < end_tokens:
        reason = "minimum"
    elif shorter is None:
        reason = "unchecked"
    elif change < tolerance:
        reason = "flat"
    else:
        reason = "falling"
    return {"converged": reason in ("minimum", "flat"), "reason": reason, "change": change,
            "best_tokens": float(best["tokens"]), "end_tokens": end_tokens, "shorter_tokens": shorter_tokens}
