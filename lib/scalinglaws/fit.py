"""Power-law fits with lmfit, in log space, with bootstrap 95% intervals.

Kaplan's single-factor laws have the form ``y = (x_c / x) ** alpha`` (Eq 1.1–1.3), a straight
line in log–log coordinates: ``log y = alpha (log x_c − log x)``. We fit that line with lmfit
(least squares on log y, so every point weighs by its *relative* error, as on the paper's
log–log plots). ``fit_offset_power_law`` fits the form with an irreducible term,
``y = E + (x_c / x) ** alpha`` (Hoffmann et al. 2022; Kaplan's Eq 1.5 at D → ∞ has none), the same way.

Intervals: a *residual* bootstrap. Each resample keeps every x and adds to the fitted curve the
fit's log-residuals drawn with replacement (scaled by √(n/(n−k)) for the k fitted parameters), then
refits; the 2.5 and 97.5 percentiles are the interval. Resampling the points themselves (a pairs
bootstrap) would leave a fit of ten sizes with about six distinct ones per resample and intervals
that understate the uncertainty. The report always says how many decades of x a fit spans (an
exponent fitted over two decades is a local slope, not a law) and the small-sample AIC (AICc) on the
log-residuals, which is how the two forms are compared (``compare_forms``).
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
    aicc: float = float("nan")   # small-sample AIC of the log-residuals (2 parameters)
    method: str = "residual bootstrap"

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


def _check_points(x, y, k: int):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length")
    if len(x) < k + 1:
        raise ValueError(f"a fit of {k} parameters needs at least {k + 1} points, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0) and np.all(y > 0)):
        raise ValueError("a power-law fit needs finite, positive x and y")
    if np.ptp(np.log(x)) == 0:
        raise ValueError("all x are equal: nothing to fit")
    return x, y


def aicc(log_residuals, k: int) -> float:
    """Small-sample Akaike criterion of a least-squares fit with ``k`` parameters (lower is better)."""
    r = np.asarray(log_residuals, float)
    n = len(r)
    rss = max(float(np.sum(r ** 2)), 1e-300)
    return float(n * np.log(rss / n) + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf))


def _residual_resamples(fitted_log, resid, k: int, n_boot: int, seed: int):
    """``n_boot`` synthetic log-y vectors: the fitted curve plus resampled, inflated residuals."""
    rng = np.random.default_rng(seed)
    n = len(resid)
    scaled = (resid - resid.mean()) * np.sqrt(n / max(n - k, 1))
    for _ in range(n_boot):
        yield fitted_log + rng.choice(scaled, size=n, replace=True)


def fit_power_law(x, y, n_boot: int = 1000, seed: int = 0) -> PowerLawFit:
    """Fit ``y = (x_c/x)**alpha`` to positive data; see the module docstring."""
    x, y = _check_points(x, y, 2)
    logx, logy = np.log(x), np.log(y)
    # Start from the ordinary least-squares line; lmfit then refines and reports errors.
    slope, intercept = np.polyfit(logx, logy, 1)
    alpha0 = -slope
    log_xc0 = intercept / alpha0 if alpha0 != 0 else float(np.mean(logx))
    model = _line_model()
    best = _fit_line(model, logx, logy, alpha0, log_xc0)
    alpha, log_xc = best.params["alpha"].value, best.params["log_xc"].value
    fitted = alpha * (log_xc - logx)
    resid = logy - fitted
    boots = []
    for sample in _residual_resamples(fitted, resid, 2, n_boot, seed):
        r = _fit_line(model, logx, sample, alpha, log_xc)
        boots.append((r.params["alpha"].value, r.params["log_xc"].value))
    boots = np.array(boots) if boots else np.array([[alpha, log_xc]])
    a_lo, a_hi = np.percentile(boots[:, 0], [2.5, 97.5])
    c_lo, c_hi = np.exp(np.percentile(boots[:, 1], [2.5, 97.5]))
    return PowerLawFit(
        alpha=float(alpha), x_c=float(np.exp(log_xc)), alpha_ci=(float(a_lo), float(a_hi)),
        x_c_ci=(float(c_lo), float(c_hi)), alpha_stderr=float(best.params["alpha"].stderr or np.nan),
        n=len(x), x_min=float(x.min()), x_max=float(x.max()), decades=float(np.log10(x.max() / x.min())),
        rms_log_residual=float(np.sqrt(np.mean(resid ** 2))), n_boot=len(boots), seed=seed, aicc=aicc(resid, 2))


@dataclass
class OffsetPowerLawFit:
    """``y = E + (x_c / x) ** alpha`` fitted to ``n`` points spanning ``decades`` of x."""

    E: float
    alpha: float
    x_c: float
    E_ci: tuple
    alpha_ci: tuple
    x_c_ci: tuple
    n: int
    x_min: float
    x_max: float
    decades: float
    rms_log_residual: float
    aicc: float
    n_boot: int
    seed: int
    E_at_bound: bool = False     # E pinned at 0: the data show no irreducible term
    method: str = "residual bootstrap"

    def predict(self, x):
        return self.E + (self.x_c / np.asarray(x, dtype=float)) ** self.alpha

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("E_ci", "alpha_ci", "x_c_ci"):
            d[key] = list(d[key])
        return d


def _offset_model():
    import lmfit

    def log_offset_power_law(logx, E, alpha, log_xc):
        return np.log(E + np.exp(alpha * (log_xc - logx)))

    return lmfit.Model(log_offset_power_law, independent_vars=["logx"])


def _fit_offset(model, logx, logy, start, y_min):
    params = model.make_params(E=dict(value=start[0], min=0.0, max=0.999 * y_min),
                               alpha=dict(value=start[1], min=1e-4, max=10.0), log_xc=dict(value=start[2]))
    return model.fit(logy, params, logx=logx)


def fit_offset_power_law(x, y, n_boot: int = 1000, seed: int = 0) -> OffsetPowerLawFit:
    """Fit ``y = E + (x_c/x)**alpha`` (least squares on log y, ``0 ≤ E < min y``); see the module docstring.

    Several starting values of E are tried (a third, two thirds and nine tenths of the smallest y) and
    the best fit kept, since the surface is flat along E–α for points that span few decades.
    """
    x, y = _check_points(x, y, 3)
    logx, logy = np.log(x), np.log(y)
    model = _offset_model()
    y_min = float(y.min())
    best = None
    for share in (0.0, 0.33, 0.67, 0.9):
        E0 = share * y_min
        slope, intercept = np.polyfit(logx, np.log(np.maximum(y - E0, 1e-12 * y_min)), 1)
        alpha0 = float(np.clip(-slope, 1e-3, 5.0))
        start = (E0, alpha0, intercept / alpha0)
        try:
            r = _fit_offset(model, logx, logy, start, y_min)
        except (ValueError, FloatingPointError):
            continue
        if best is None or r.chisqr < best.chisqr:
            best = r
    if best is None:
        raise ValueError("the offset power law could not be fitted to these points")
    p = {k: best.params[k].value for k in ("E", "alpha", "log_xc")}
    fitted = best.best_fit
    resid = logy - fitted
    boots = []
    for sample in _residual_resamples(fitted, resid, 3, n_boot, seed):
        try:
            r = _fit_offset(model, logx, sample, (p["E"], p["alpha"], p["log_xc"]), float(np.exp(sample).min()))
        except (ValueError, FloatingPointError):
            continue
        boots.append((r.params["E"].value, r.params["alpha"].value, r.params["log_xc"].value))
    boots = np.array(boots) if boots else np.array([[p["E"], p["alpha"], p["log_xc"]]])
    ci = lambda col: tuple(float(v) for v in np.percentile(boots[:, col], [2.5, 97.5]))
    xc_lo, xc_hi = np.exp(ci(2))
    return OffsetPowerLawFit(
        E=float(p["E"]), alpha=float(p["alpha"]), x_c=float(np.exp(p["log_xc"])), E_ci=ci(0), alpha_ci=ci(1),
        x_c_ci=(float(xc_lo), float(xc_hi)), n=len(x), x_min=float(x.min()), x_max=float(x.max()),
        decades=float(np.log10(x.max() / x.min())), rms_log_residual=float(np.sqrt(np.mean(resid ** 2))),
        aicc=aicc(resid, 3), n_boot=len(boots), seed=seed, E_at_bound=bool(p["E"] < 1e-6 * y_min))


AICC_MARGIN = 2.0   # the usual threshold: a difference under 2 is not evidence for either form


def compare_forms(pure: PowerLawFit, offset: OffsetPowerLawFit) -> dict:
    """Which form the data support, by AICc on the log-residuals: the offset form is preferred only when
    its AICc is lower by more than ``AICC_MARGIN``; otherwise the simpler pure power law stands."""
    delta = offset.aicc - pure.aicc
    preferred = "offset" if delta < -AICC_MARGIN else "pure"
    return {"aicc_pure": pure.aicc, "aicc_offset": offset.aicc, "delta_aicc": delta, "preferred": preferred,
            "margin": AICC_MARGIN}


def local_exponents(x, y) -> np.ndarray:
    """Slopes −Δlog y / Δlog x between neighbouring points (sorted by x): how a power law bends."""
    order = np.argsort(np.asarray(x, dtype=float))
    logx, logy = np.log(np.asarray(x, float)[order]), np.log(np.asarray(y, float)[order])
    return -np.diff(logy) / np.diff(logx)


def fit_power_law_csv(path, x_col: str, y_col: str, n_boot: int = 1000, seed: int = 0, offset: bool = False):
    """The command-line fit: read two columns of a CSV file and fit them (``offset``: with E)."""
    import pandas as pd

    df = pd.read_csv(path)
    missing = [c for c in (x_col, y_col) if c not in df.columns]
    if missing:
        raise KeyError(f"{path}: no column(s) {missing}; columns are {list(df.columns)}")
    data = df[[x_col, y_col]].apply(pd.to_numeric, errors="coerce").dropna()
    fit = fit_offset_power_law if offset else fit_power_law
    return fit(data[x_col].to_numpy(), data[y_col].to_numpy(), n_boot=n_boot, seed=seed)
