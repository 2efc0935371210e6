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


SHAPE = ["n_layer", "d_model"]


def split_budgets(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The grid's main runs (the longest budget of each model shape) and the shorter companion runs
    (``grids.ln``: the same model on half a decade fewer tokens), as two tables."""
    longest = runs.groupby(SHAPE)["config_tokens"].transform("max")
    main = runs["config_tokens"] == longest
    return runs[main].copy(), runs[~main].copy()


def with_convergence(runs: pd.DataFrame, loss: str = "loss_test") -> pd.DataFrame:
    """The main runs with the convergence verdict of each (``analysis.convergence``, against the
    companion of the same shape: the same seed where there is one, else the first seed's) and the loss
    the fits use (``loss``, measured with the weights the record kept: the best ones under early stopping).
    Columns ``conv_*`` hold the verdict, ``short_loss`` the companion's loss (NaN without one)."""
    main, short = split_budgets(runs)
    rows, short_loss = [], []
    for _, run in main.iterrows():
        mates = short[(short["n_layer"] == run["n_layer"]) & (short["d_model"] == run["d_model"])]
        mates = mates.sort_values("seed", key=lambda s: s != run["seed"])     # same seed first
        mate = mates.iloc[0] if len(mates) else None
        shorter = None if mate is None else (mate["tokens"], min(p["val_loss"] for p in mate["curve"]))
        rows.append(convergence(run["curve"], shorter))
        short_loss.append(np.nan if mate is None else mate[loss])
    checks = pd.DataFrame(rows, index=main.index)
    out = pd.concat([main, checks.add_prefix("conv_")], axis=1)
    out["loss"] = out[loss]
    out["short_loss"] = short_loss
    return out


def budgets(runs: pd.DataFrame, loss: str = "loss_test") -> pd.DataFrame:
    """One row per size and budget that both have records (seeds averaged): ``loss`` at the shorter
    budget and at the main one, so the chapter can fit α_N at each and see whether it moves with T."""
    main, short = split_budgets(runs)
    keys = SHAPE + ["N", "N_total"]
    long_ = main.groupby(keys, as_index=False).agg(tokens=("config_tokens", "first"), loss=(loss, "mean"))
    short_ = short.groupby(keys, as_index=False).agg(short_tokens=("config_tokens", "first"),
                                                    short_loss=(loss, "mean"))
    return long_.merge(short_, on=keys, how="inner").sort_values("N").reset_index(drop=True)


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
    from . import frontier, overfitting

    rows = [{"route": "L(N) direct fit (this chapter)", "alpha_N": direct.alpha,
             "ci": (direct.alpha_ci[0], direct.alpha_ci[1]), "source": "lnn"}]
    routes = (("L(N, D) fit, D → ∞", "overfit", "overfitting chapter", overfitting.route_to_alpha_n),
              ("L(N, S) fit, S → ∞", "frontier", "compute chapter", frontier.route_to_alpha_n))
    for route, grid, chapter, read in routes:
        folder = Path(reference) / grid
        if read is not None and folder.is_dir() and any(folder.glob("*/run.json")):
            try:
                found = read(folder)
                note = found.pop("note", "")
                rows.append({"route": route, **found, "source": f"{grid} ({note})" if note else grid})
            except ValueError as e:      # too few records for the fit yet
                rows.append({"route": route, "alpha_N": np.nan, "ci": None, "source": f"— ({grid}: {e})"})
        else:
            rows.append({"route": route, "alpha_N": np.nan, "ci": None, "source": f"— ({chapter}: not trained yet)"})
    return pd.DataFrame(rows)
