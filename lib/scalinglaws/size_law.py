"""The L(N) chapter's analysis: which runs are converged, the two fitted forms, seed noise, whether
depths collapse onto one curve, and the "three routes to α_N" table.

Everything here reads run tables from ``runs.load_grid``; the chapter only calls these and draws.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import convergence
from .fit import compare_forms, fit_offset_power_law, fit_power_law, local_exponents
from .runs import find_grid, load_grid  # noqa: F401  (find_grid: the chapter's entry point)

GRIDS = ("lnn", "lnn-quick")     # the chapter reads the first of these that has records


def with_convergence(runs: pd.DataFrame, loss: str = "loss_test") -> pd.DataFrame:
    """The run table with the convergence verdict of each run (``analysis.convergence``) and the loss
    the fits use (``loss``, measured with the weights the record kept: the best ones under early stopping)."""
    checks = pd.DataFrame([convergence(c) for c in runs["curve"]], index=runs.index)
    out = pd.concat([runs, checks.add_prefix("conv_")], axis=1)
    out["loss"] = out[loss]
    return out


def per_size(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per size (seeds averaged): what the fits see, so a size with two seeds counts once."""
    keep = ["N", "N_total", "n_layer", "d_model"]
    agg = runs.groupby(keep, as_index=False).agg(loss=("loss", "mean"), seeds=("loss", "size"),
                                                 converged=("conv_converged", "all"))
    return agg.sort_values("N").reset_index(drop=True)


def seed_noise(runs: pd.DataFrame) -> pd.DataFrame:
    """Sizes trained with more than one seed: the losses, their spread (max − min) and its relative size."""
    rows = []
    for (n, layer, width), part in runs.groupby(["N", "n_layer", "d_model"]):
        if len(part) > 1:
            rows.append({"N": n, "n_layer": layer, "d_model": width, "seeds": len(part),
                         "losses": sorted(part["loss"].round(4)), "spread": float(np.ptp(part["loss"])),
                         "relative": float(np.ptp(part["loss"]) / part["loss"].mean())})
    return pd.DataFrame(rows)


def fit_forms(sizes: pd.DataFrame, x: str = "N", n_boot: int = 2000) -> dict:
    """The pure and offset power laws fitted to one loss per size, their comparison, the local exponents."""
    pure = fit_power_law(sizes[x], sizes["loss"], n_boot=n_boot, seed=0)
    offset = fit_offset_power_law(sizes[x], sizes["loss"], n_boot=n_boot, seed=0)
    order = np.argsort(sizes[x].to_numpy())
    xs = sizes[x].to_numpy(float)[order]
    return {"pure": pure, "offset": offset, "compare": compare_forms(pure, offset),
            "local": pd.DataFrame({"N_lo": xs[:-1], "N_hi": xs[1:],
                                   "alpha_local": local_exponents(sizes[x], sizes["loss"])}),
            "residual_pure": np.log(sizes["loss"].to_numpy()) - np.log(pure.predict(sizes[x])),
            "residual_offset": np.log(sizes["loss"].to_numpy()) - np.log(offset.predict(sizes[x]))}


def depth_offsets(sizes: pd.DataFrame, x: str) -> dict:
    """How far apart the depths lie against ``x``: fit one pure power law to all sizes, then average each
    depth's log-residual. ``gap`` is the largest difference between depths (relative loss)."""
    fit = fit_power_law(sizes[x], sizes["loss"], n_boot=0)
    resid = np.log(sizes["loss"].to_numpy()) - np.log(fit.predict(sizes[x]))
    by_depth = pd.Series(resid, index=sizes.index).groupby(sizes["n_layer"]).mean()
    return {"by_depth": by_depth.to_dict(), "gap": float(by_depth.max() - by_depth.min())}


def routes_to_alpha_n(reference: Path, direct) -> pd.DataFrame:
    """α_N by three routes: this chapter's direct fit, the L(N, D) fit of the overfitting chapter and the
    L(N, S) fit of the compute chapter. A route whose chapter has no records yet says so; each row is read
    from its own grid's records when they exist."""
    rows = [{"route": "L(N) direct fit (this chapter)", "alpha_N": direct.alpha,
             "ci": (direct.alpha_ci[0], direct.alpha_ci[1]), "source": "lnn"}]
    for route, grid, chapter in (("L(N, D) fit, D → ∞", "lnd", "overfitting chapter"),
                                 ("L(N, S) fit, S → ∞", "lns", "compute chapter")):
        folder = Path(reference) / grid
        if folder.is_dir() and any(folder.glob("*/run.json")):
            fitted = _route_from_records(folder)
            rows.append({"route": route, **fitted, "source": grid})
        else:
            rows.append({"route": route, "alpha_N": np.nan, "ci": None, "source": f"— ({chapter}: not trained yet)"})
    return pd.DataFrame(rows)


def _route_from_records(folder: Path) -> dict:
    """Filled in by the chapters that own these grids (issues 7 and 9)."""
    runs = load_grid(folder, report=False)
    return {"alpha_N": np.nan, "ci": None, "note": f"{len(runs)} records; fit not implemented yet"}
