"""The overfitting chapter's analysis, L(N, D) (paper §4): the table the fits see, the Eq 1.5 fit, the
overfitting penalty and its collapse (Fig 9), L(D) at the largest size (Eq 1.2), the data rule of
Eq 4.4, and the early-stopping step against the bound of Eq 5.7 (Fig 16).

Everything reads run tables from ``runs.load_grid``; the fit itself is ``fit.fit_overfit``. The grid trains
some (N, D) cells at several token caps (``grids.overfit``); ``lnd_table`` keeps the best run of each cell.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .fit import OverfitFit, fit_overfit, fit_power_law
from .runs import load_grid, require_finished

GRIDS = ("overfit", "overfit-quick")     # the chapter reads the first of these that has records


def run_table(runs: pd.DataFrame, loss: str = "loss_test") -> pd.DataFrame:
    """One row per run: N, D, the loss of the weights the record kept (the best ones under early
    stopping), epochs, the cap in epochs, the early-stopping point and whether it came before the end."""
    out = runs[["run_id", "N", "N_total", "n_layer", "d_model", "D", "epochs", "tokens", "config_tokens",
                "best_step", "steps", "stopped_early", "batch_tokens"]].copy()
    out["loss"] = runs[loss].to_numpy(float)
    out["cap_epochs"] = out["config_tokens"] / out["D"]
    out["best_tokens"] = out["best_step"] * out["batch_tokens"]
    out["best_epochs"] = out["best_tokens"] / out["D"]
    out["minimum_inside"] = out["best_step"] < out["steps"]     # the validation minimum came before the end
    return out.sort_values(["N", "D", "config_tokens"]).reset_index(drop=True)


def lnd_table(runs: pd.DataFrame, loss: str = "loss_test") -> pd.DataFrame:
    """One row per (N, D), what the fits see: of the runs trained with different caps on the same model and
    subset (``grids.overfit``), the one with the lowest loss. ``caps`` counts them; ``longest_loss`` is the
    loss of the longest cap and ``cap_gain`` how much lower the chosen one is (0 when the longest won)."""
    table = run_table(runs, loss)
    rows = []
    for _, cell in table.groupby(["N", "D"], sort=True):
        best = cell.loc[cell["loss"].idxmin()].copy()
        longest = cell.loc[cell["config_tokens"].idxmax()]
        best["caps"] = len(cell)
        best["longest_loss"] = longest["loss"]
        best["cap_gain"] = longest["loss"] - best["loss"]
        rows.append(best)
    return pd.DataFrame(rows).reset_index(drop=True)


def fit(table: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> OverfitFit:
    """Eq 1.5 over every run of the table."""
    return fit_overfit(table["N"], table["D"], table["loss"], n_boot=n_boot, seed=seed)


def settled(table: pd.DataFrame) -> pd.Series:
    """Cells of ``lnd_table`` whose loss is not just where a cap cut a falling curve: the validation minimum
    came before the run's end, or a shorter cap beat a longer one (the longer run overfitted past it), or the
    subset is the whole split (the L(N, ∞) stand-in, budget-limited as in the L(N) chapter, not overfitting)."""
    return table["minimum_inside"] | (table["cap_gain"] > 0) | (table["D"] == table["D"].max())


def fit_settled(table: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> OverfitFit:
    """Eq 1.5 over the ``settled`` cells only: how much the cap-limited cells (upper bounds on an early-stopped
    loss) move the fit. ``ValueError`` when too few cells are left for four parameters."""
    rows = table[settled(table)]
    if len(rows) < 6 or rows["N"].nunique() < 2 or rows["D"].nunique() < 2:
        raise ValueError(f"{len(rows)} settled cells ({rows['N'].nunique()} sizes, {rows['D'].nunique()} datasets): "
                         "too few for Eq 1.5")
    return fit(rows, n_boot=n_boot, seed=seed)


def rising_with_size(table: pd.DataFrame, rel_noise: float) -> pd.DataFrame:
    """Datasets on which the largest model ends above a smaller one by more than ``rel_noise`` (a relative
    seed spread) of the loss: a loss rising with N at fixed D, which Eq 1.5 (falling in N at every D) cannot
    fit. One row per such D: the size with the lowest loss, the largest size, their losses and the excess."""
    rows = []
    for d, cell in table.groupby("D"):
        best, largest = cell.loc[cell["loss"].idxmin()], cell.loc[cell["N"].idxmax()]
        excess = float(largest["loss"] / best["loss"] - 1)
        if excess > rel_noise:
            rows.append(dict(D=d, N_best=best["N"], loss_best=best["loss"], N_max=largest["N"],
                             loss_max=largest["loss"], excess=excess))
    return pd.DataFrame(rows, columns=["D", "N_best", "loss_best", "N_max", "loss_max", "excess"])


def penalty(table: pd.DataFrame, law: OverfitFit) -> pd.DataFrame:
    """The measured overfitting penalty δL = L(N, D)/L(N, ∞) − 1 (Eq 4.2, L(N, ∞) from the fit) against
    the variable it should depend on alone, N^(α_N/α_D)/D (Fig 9, right), with the fitted curve's value."""
    out = table.copy()
    out["L_inf"] = law.predict_infinite_data(out["N"])
    out["delta"] = out["loss"] / out["L_inf"] - 1
    out["x"] = out["N"] ** law.ratio / out["D"]
    out["delta_fit"] = law.penalty(out["N"], out["D"])
    return out


def data_law(table: pd.DataFrame, sizes: int = 1, n_boot: int = 1000):
    """L(D) (Eq 1.2): a pure power law in D over the runs of the ``sizes`` largest models, the regime where
    the data, not the model, limits the loss. Returns the fit and the rows it used."""
    largest = sorted(table["N"].unique())[-sizes:]
    rows = table[table["N"].isin(largest)]
    return fit_power_law(rows["D"], rows["loss"], n_boot=n_boot, seed=0), rows


def early_stopping_bound(table: pd.DataFrame, law: OverfitFit, S_c: float, alpha_S: float,
                         b_crit=None) -> pd.DataFrame:
    """Eq 5.7: S_stop ≳ S_c / [L(N, D) − L(N, ∞)]^(1/α_S), beside the step at which each run's validation loss
    was lowest. The bound counts S_min, the steps at a batch far above B_crit (Eq 5.4), so with ``b_crit(L)``
    (tokens; the critical-batch law) the early-stopping step is turned into ``best_S_min`` = S / (1 + B_crit/B);
    without it ``best_S_min`` is the raw step, an upper bound on S_min. Only runs whose minimum came before
    their end, with L(N, D) above L(N, ∞), have a bound."""
    out = table.copy()
    gap = out["loss"] - law.predict_infinite_data(out["N"])
    out["gap"] = gap
    out["bound"] = np.where(gap > 0, S_c / np.maximum(gap, 1e-12) ** (1 / alpha_S), np.nan)
    if b_crit is None:
        out["best_S_min"] = out["best_step"].astype(float)
    else:
        bc = np.asarray(b_crit(out["loss"].to_numpy(float)), float)
        out["best_S_min"] = out["best_step"].astype(float) / (1 + bc / out["batch_tokens"].astype(float))
    return out[out["minimum_inside"] & np.isfinite(out["bound"])]


def route_to_alpha_n(folder: Path, n_boot: int = 500) -> dict:
    """Route 2 of the L(N) chapter's "three routes" table: α_N of the Eq 1.5 fit (D → ∞), once the grid
    of ``folder`` (a named grid) is complete; until then a ``ValueError`` says how far it is."""
    require_finished(folder)
    table = lnd_table(load_grid(folder, report=False))
    law = fit(table, n_boot=n_boot)
    return {"alpha_N": law.alpha_N, "ci": tuple(law.alpha_N_ci),
            "note": f"{law.n} (N, D) cells, N = {law.N_range[0]:,.0f} … {law.N_range[1]:,.0f}"}


def effective_data(unique, processed, r_star: float) -> np.ndarray:
    """Muennighoff et al. 2023's effective data D' = U + U·R*·(1 − exp(−R/R*)) of a run that processed
    ``processed`` tokens of ``unique`` distinct ones (R = processed/unique − 1 repetitions; a run that did not
    finish one epoch has D' = processed)."""
    u, t = np.asarray(unique, float), np.asarray(processed, float)
    r = np.maximum(t / u - 1, 0.0)
    return np.where(t <= u, t, u + u * r_star * (1 - np.exp(-r / r_star)))
