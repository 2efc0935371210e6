"""Power-law fits with lmfit, in log space, with bootstrap 95% intervals.

Kaplan's single-factor laws have the form ``y = (x_c / x) ** alpha`` (Eq 1.1–1.3), a straight
line in log–log coordinates: ``log y = alpha (log x_c − log x)``. We fit that line with lmfit
(least squares on log y, so every point weighs by its *relative* error, as on the paper's
log–log plots), then resample the points with replacement and refit to get percentile
intervals. The report always says how many decades of x the fit spans: an exponent fitted over
two decades is a local slope, not a law.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class PowerLawFit:
    """``y = (x_c / x) ** alpha`` fitted to ``n`` points spanning ``decades`` of x."""

    alpha: float
    x_c: float
    alpha_ci: tuple          # bootstrap 95% interval
    x_c_ci: tuple
    alpha_stderr: float      # lmfit's asymptotic standard error
    n: int
    x_min: float
    x_max: float
    decades: float
    rms_log_residual: float  # in natural-log units (≈ relative error)
    n_boot: int
    seed: int

    def predict(self, x):
        return (self.x_c / np.asarray(x, dtype=float)) ** self.alpha

    def to_dict(self) -> dict:
        d = asdict(self)
        d["alpha_ci"], d["x_c_ci"] = list(self.alpha_ci), list(self.x_c_ci)
        return d


def _line_model():
    import lmfit

    def log_power_law(logx, alpha, log_xc):
        return alpha * (log_xc - logx)

    return lmfit.Model(log_power_law, independent_vars=["logx"])


def _fit_line(model, logx, logy, alpha0, log_xc0):
    params = model.make_params(alpha=alpha0, log_xc=log_xc0)
    return model.fit(logy, params, logx=logx)


def fit_power_law(x, y, n_boot: int = 1000, seed: int = 0) -> PowerLawFit:
    """Fit ``y = (x_c/x)**alpha`` to positive data; see the module docstring."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length")
    if len(x) < 3:
        raise ValueError(f"a power-law fit needs at least 3 points, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0) and np.all(y > 0)):
        raise ValueError("a power-law fit needs finite, positive x and y")
    if np.ptp(np.log(x)) == 0:
        raise ValueError("all x are equal: nothing to fit")
    logx, logy = np.log(x), np.log(y)
    # Start from the ordinary least-squares line; lmfit then refines and reports errors.
    slope, intercept = np.polyfit(logx, logy, 1)
    alpha0 = -slope
    log_xc0 = intercept / alpha0 if alpha0 != 0 else float(np.mean(logx))
    model = _line_model()
    best = _fit_line(model, logx, logy, alpha0, log_xc0)
    alpha, log_xc = best.params["alpha"].value, best.params["log_xc"].value

    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        if np.ptp(logx[idx]) == 0:
            continue   # a resample of one distinct x has no slope
        r = _fit_line(model, logx[idx], logy[idx], alpha, log_xc)
        boots.append((r.params["alpha"].value, r.params["log_xc"].value))
    boots = np.array(boots) if boots else np.array([[alpha, log_xc]])
    a_lo, a_hi = np.percentile(boots[:, 0], [2.5, 97.5])
    c_lo, c_hi = np.exp(np.percentile(boots[:, 1], [2.5, 97.5]))
    resid = logy - alpha * (log_xc - logx)
    return PowerLawFit(
        alpha=float(alpha), x_c=float(np.exp(log_xc)), alpha_ci=(float(a_lo), float(a_hi)),
        x_c_ci=(float(c_lo), float(c_hi)), alpha_stderr=float(best.params["alpha"].stderr or np.nan),
        n=len(x), x_min=float(x.min()), x_max=float(x.max()), decades=float(np.log10(x.max() / x.min())),
        rms_log_residual=float(np.sqrt(np.mean(resid ** 2))), n_boot=len(boots), seed=seed)


def local_exponents(x, y) -> np.ndarray:
    """Slopes −Δlog y / Δlog x between neighbouring points (sorted by x): how a power law bends."""
    order = np.argsort(np.asarray(x, dtype=float))
    logx, logy = np.log(np.asarray(x, float)[order]), np.log(np.asarray(y, float)[order])
    return -np.diff(logy) / np.diff(logx)


def fit_power_law_csv(path, x_col: str, y_col: str, n_boot: int = 1000, seed: int = 0) -> PowerLawFit:
    """The command-line fit: read two columns of a CSV file and fit them."""
    import pandas as pd

    df = pd.read_csv(path)
    missing = [c for c in (x_col, y_col) if c not in df.columns]
    if missing:
        raise KeyError(f"{path}: no column(s) {missing}; columns are {list(df.columns)}")
    data = df[[x_col, y_col]].apply(pd.to_numeric, errors="coerce").dropna()
    return fit_power_law(data[x_col].to_numpy(), data[y_col].to_numpy(), n_boot=n_boot, seed=seed)
