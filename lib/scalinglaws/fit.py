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

from dataclasses import asdict, dataclass, field

import numpy as np

EXPONENT_BOUND = 5.0  # the largest exponent a fit may take: an interval that reaches it is not pinned down by the data


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
        # a flat law (α near 0) has x_c beyond float range (0 or inf): its prediction is then inf or nan, not a warning
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
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


def intervals_overlap(*intervals) -> bool:
    """Whether intervals ``(lo, hi)`` all share a point: the book's criterion for two estimates agreeing."""
    return bool(max(lo for lo, _ in intervals) <= min(hi for _, hi in intervals))


def residual_resamples(fitted_log, resid, k: int, n_boot: int, seed: int):
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
    # The model is a straight line in log-log, so each resample's least-squares fit is the closed-form line
    # (what lmfit converges to): all resamples are fitted at once, not one lmfit call each.
    samples = np.array(list(residual_resamples(fitted, resid, 2, n_boot, seed)))
    if len(samples):
        slopes, intercepts = np.polyfit(logx, samples.T, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            boots = np.column_stack([-slopes, intercepts / -slopes])
    else:
        boots = np.array([[alpha, log_xc]])
    a_lo, a_hi = np.percentile(boots[:, 0], [2.5, 97.5])
    with np.errstate(over="ignore", invalid="ignore"):      # x_c of a flat law (α near 0) lies beyond float range
        c_lo, c_hi = np.exp(np.percentile(boots[:, 1], [2.5, 97.5]))
        x_c = np.exp(log_xc)
    return PowerLawFit(
        alpha=float(alpha), x_c=float(x_c), alpha_ci=(float(a_lo), float(a_hi)),
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
        alpha0 = float(np.clip(-slope, 1e-3, EXPONENT_BOUND))
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
    for sample in residual_resamples(fitted, resid, 3, n_boot, seed):
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
    data = _read_columns(path, (x_col, y_col))
    fit = fit_offset_power_law if offset else fit_power_law
    return fit(data[x_col].to_numpy(), data[y_col].to_numpy(), n_boot=n_boot, seed=seed)


# -- L(N, D): Kaplan's Eq 1.5 ------------------------------------------------------------------------

@dataclass
class OverfitFit:
    """``L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D`` (Kaplan Eq 1.5 / 4.1) fitted to ``n`` runs.

    Intervals resample the runs (a pairs bootstrap): with a grid of many (N, D) points, a resample
    still holds most sizes and most subsets, and each run's early-stopped loss is one draw of its noise.
    """

    alpha_N: float
    alpha_D: float
    N_c: float
    D_c: float
    alpha_N_ci: tuple
    alpha_D_ci: tuple
    N_c_ci: tuple
    D_c_ci: tuple
    n: int
    N_range: tuple
    D_range: tuple
    rms_log_residual: float
    n_boot: int
    seed: int
    method: str = "pairs bootstrap (runs resampled)"
    samples: np.ndarray | None = field(default=None, repr=False)   # bootstrap (α_N, α_D, ln N_c, ln D_c) rows

    @property
    def ratio_ci(self) -> tuple:
        """95% interval of α_N/α_D over the bootstrap resamples."""
        r = self.samples[:, 0] / self.samples[:, 1]
        return tuple(float(v) for v in np.percentile(r, [2.5, 97.5]))

    def data_coefficient_ci(self, delta: float) -> tuple:
        """95% interval of ``data_coefficient(delta)`` over the bootstrap resamples."""
        a_n, a_d, log_nc, log_dc = self.samples.T
        k = np.exp(log_dc - a_n / a_d * log_nc) / ((1 + delta) ** (1 / a_d) - 1)
        return tuple(float(v) for v in np.percentile(k, [2.5, 97.5]))

    @property
    def ratio(self) -> float:
        """α_N/α_D: the power of N that D must grow with to hold the overfitting penalty fixed (Eq 4.3)."""
        return self.alpha_N / self.alpha_D

    def predict(self, N, D):
        N, D = np.asarray(N, float), np.asarray(D, float)
        return ((self.N_c / N) ** self.ratio + self.D_c / D) ** self.alpha_D

    def predict_infinite_data(self, N):
        """L(N, ∞) = (N_c/N)^α_N: the D → ∞ limit, route 2 to α_N."""
        return (self.N_c / np.asarray(N, float)) ** self.alpha_N

    def penalty(self, N, D):
        """δL = L(N, D)/L(N, ∞) − 1 (Eq 4.2), which depends on N and D only through N^(α_N/α_D)/D."""
        return self.predict(N, D) / self.predict_infinite_data(N) - 1

    def data_needed(self, N, delta: float):
        """The D at which the penalty δL equals ``delta`` (Eq 4.4 with δ = seed noise): ``k · N^(α_N/α_D)``."""
        return self.data_coefficient(delta) * np.asarray(N, float) ** self.ratio

    def data_coefficient(self, delta: float) -> float:
        """k of ``D ≳ k · N^(α_N/α_D)``, the paper's 5e3 in Eq 4.4 (for δ = 0.02)."""
        return self.D_c / self.N_c ** self.ratio / ((1 + delta) ** (1 / self.alpha_D) - 1)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "samples"}
        for key in ("alpha_N_ci", "alpha_D_ci", "N_c_ci", "D_c_ci", "N_range", "D_range"):
            d[key] = list(d[key])
        if self.samples is not None:
            d["ratio_ci"] = list(self.ratio_ci)
        return d


def _overfit_model():
    import lmfit

    def log_lnd(logN, logD, alpha_N, alpha_D, log_Nc, log_Dc):
        return alpha_D * np.logaddexp(alpha_N / alpha_D * (log_Nc - logN), log_Dc - logD)

    return lmfit.Model(log_lnd, independent_vars=["logN", "logD"])


def _fit_lnd(model, logN, logD, logy, start):
    params = model.make_params(alpha_N=dict(value=start[0], min=1e-3, max=EXPONENT_BOUND),
                               alpha_D=dict(value=start[1], min=1e-3, max=EXPONENT_BOUND),
                               log_Nc=dict(value=start[2]), log_Dc=dict(value=start[3]))
    return model.fit(logy, params, logN=logN, logD=logD)


def _lnd_starts(logN, logD, logy):
    """Starting points over a small grid of exponents; N_c and D_c from the loosest single-term bound."""
    for a_n in (0.03, 0.08, 0.2, 0.5):
        for a_d in (0.05, 0.1, 0.2, 0.5):
            yield (a_n, a_d, float(np.median(logy / a_n + logN)), float(np.median(logy / a_d + logD)))


def fit_overfit(N, D, y, n_boot: int = 1000, seed: int = 0) -> OverfitFit:
    """Fit Eq 1.5 to losses ``y`` of runs with ``N`` non-embedding parameters trained (early-stopped)
    on ``D`` tokens: least squares on log y, best of a grid of starting points; see ``OverfitFit``."""
    N, D, y = (np.asarray(v, dtype=float) for v in (N, D, y))
    if not (N.shape == D.shape == y.shape and N.ndim == 1):
        raise ValueError("N, D and y must be 1-D arrays of the same length")
    if len(y) < 5:
        raise ValueError(f"a fit of 4 parameters needs at least 5 points, got {len(y)}")
    if not all(np.all(np.isfinite(v)) and np.all(v > 0) for v in (N, D, y)):
        raise ValueError("the L(N, D) fit needs finite, positive N, D and y")
    if len(np.unique(N)) < 2 or len(np.unique(D)) < 2:
        raise ValueError("the L(N, D) fit needs at least two model sizes and two dataset sizes")
    logN, logD, logy = np.log(N), np.log(D), np.log(y)
    model = _overfit_model()

    def best_of(starts, idx):
        best = None
        for start in starts:
            try:
                r = _fit_lnd(model, logN[idx], logD[idx], logy[idx], start)
            except (ValueError, FloatingPointError):
                continue
            if np.isfinite(r.chisqr) and (best is None or r.chisqr < best.chisqr):
                best = r
        return best

    everything = np.arange(len(y))
    best = best_of(list(_lnd_starts(logN, logD, logy)), everything)
    if best is None:
        raise ValueError("Eq 1.5 could not be fitted to these points")
    keys = ("alpha_N", "alpha_D", "log_Nc", "log_Dc")
    p = tuple(best.params[k].value for k in keys)
    resid = logy - best.best_fit
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(N[idx])) < 2 or len(np.unique(D[idx])) < 2:
            continue
        r = best_of([p], idx)
        if r is not None:
            boots.append([r.params[k].value for k in keys])
    boots = np.array(boots) if boots else np.array([p])
    ci = lambda col, f=float: tuple(f(v) for v in np.percentile(boots[:, col], [2.5, 97.5]))   # noqa: E731
    exp = lambda v: float(np.exp(v))                                                             # noqa: E731
    return OverfitFit(
        alpha_N=float(p[0]), alpha_D=float(p[1]), N_c=exp(p[2]), D_c=exp(p[3]),
        alpha_N_ci=ci(0), alpha_D_ci=ci(1), N_c_ci=ci(2, exp), D_c_ci=ci(3, exp), n=len(y),
        N_range=(float(N.min()), float(N.max())), D_range=(float(D.min()), float(D.max())),
        rms_log_residual=float(np.sqrt(np.mean(resid ** 2))), n_boot=len(boots), seed=seed, samples=boots)


def _read_columns(path, columns):
    import pandas as pd

    df = pd.read_csv(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{path}: no column(s) {missing}; columns are {list(df.columns)}")
    return df[list(columns)].apply(pd.to_numeric, errors="coerce").dropna()


def fit_overfit_csv(path, n_col: str, d_col: str, y_col: str, n_boot: int = 1000, seed: int = 0) -> OverfitFit:
    """The command-line L(N, D) fit: three columns of a CSV file."""
    data = _read_columns(path, (n_col, d_col, y_col))
    return fit_overfit(data[n_col], data[d_col], data[y_col], n_boot=n_boot, seed=seed)


# -- the steps–examples trade-off (McCandlish et al. 2018; Kaplan §5.1, Fig 18) -----------------------

@dataclass
class TradeoffFit:
    """``(S/S_min − 1)(E/E_min − 1) = 1`` fitted to the steps S and examples E (tokens) that runs at
    different batch sizes needed to reach one target loss; ``B_crit = E_min/S_min``.

    Written per batch size B = E/S, the hyperbola is ``S = S_min (1 + B_crit/B)`` (and
    ``E = E_min (1 + B/B_crit)``); it is fitted by least squares on log S, with residual-bootstrap
    intervals like the power laws of this module.
    """

    S_min: float
    E_min: float
    B_crit: float
    S_min_ci: tuple
    E_min_ci: tuple
    B_crit_ci: tuple
    n: int
    B_range: tuple
    rms_log_residual: float
    n_boot: int
    seed: int
    method: str = "residual bootstrap"

    def steps(self, batch):
        return self.S_min * (1 + self.B_crit / np.asarray(batch, float))

    def examples(self, batch):
        return self.E_min * (1 + np.asarray(batch, float) / self.B_crit)

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("S_min_ci", "E_min_ci", "B_crit_ci", "B_range"):
            d[key] = list(d[key])
        return d


def _tradeoff_model():
    import lmfit

    def log_steps(logB, log_smin, log_bcrit):
        return log_smin + np.log1p(np.exp(log_bcrit - logB))

    return lmfit.Model(log_steps, independent_vars=["logB"])


def _tradeoff_profile(samples: np.ndarray, logB: np.ndarray, margin: float = 6.0, points: int = 1201) -> np.ndarray:
    """Least-squares fits of ``log S = log S_min + log(1 + B_crit/B)`` to many log-step vectors at once (the
    bootstrap's): for a given log B_crit the best log S_min is the mean residual, so the fit is a 1-D search
    over log B_crit, done on a grid ``margin`` e-folds past the batches (beyond, the hyperbola is a pure
    1/B or a constant and B_crit is unidentified) and refined by a parabola through the grid's minimum.
    Returns rows ``(log_smin, log_bcrit)``. The same minimum lmfit finds, without a solver per sample."""
    grid = np.linspace(logB.min() - margin, logB.max() + margin, points)
    shape = np.log1p(np.exp(grid[:, None] - logB[None, :]))                      # grid × batches
    fc = shape - shape.mean(axis=1, keepdims=True)
    yc = samples - samples.mean(axis=1, keepdims=True)
    sse = (yc ** 2).sum(axis=1)[:, None] - 2 * yc @ fc.T + (fc ** 2).sum(axis=1)[None, :]
    j = np.clip(np.argmin(sse, axis=1), 1, points - 2)
    rows = np.arange(len(samples))
    left, mid, right = sse[rows, j - 1], sse[rows, j], sse[rows, j + 1]
    curve = left - 2 * mid + right
    step = np.where(curve > 0, 0.5 * (left - right) / np.where(curve > 0, curve, 1), 0.0)
    log_bcrit = grid[j] + np.clip(step, -1, 1) * (grid[1] - grid[0])
    log_smin = (samples - np.log1p(np.exp(log_bcrit[:, None] - logB[None, :]))).mean(axis=1)
    return np.column_stack([log_smin, log_bcrit])


def fit_tradeoff(steps, examples, n_boot: int = 1000, seed: int = 0) -> TradeoffFit:
    """Fit the steps–examples hyperbola of one target loss; see ``TradeoffFit``."""
    S, E = np.asarray(steps, float), np.asarray(examples, float)
    if S.shape != E.shape or S.ndim != 1:
        raise ValueError("steps and examples must be 1-D arrays of the same length")
    if len(S) < 3:
        raise ValueError(f"the trade-off fit (2 parameters) needs at least 3 batch sizes, got {len(S)}")
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(E)) and np.all(S > 0) and np.all(E > 0)):
        raise ValueError("the trade-off fit needs finite, positive steps and examples")
    B = E / S
    if np.ptp(np.log(B)) == 0:
        raise ValueError("all runs have the same batch size: nothing to fit")
    logB, logS = np.log(B), np.log(S)
    model = _tradeoff_model()

    def one(logs, start):
        params = model.make_params(log_smin=dict(value=start[0]), log_bcrit=dict(value=start[1]))
        return model.fit(logs, params, logB=logB)

    best = None
    for log_bcrit in np.linspace(logB.min() - 1, logB.max() + 1, 7):
        r = one(logS, (float(np.min(logS)), float(log_bcrit)))
        if best is None or r.chisqr < best.chisqr:
            best = r
    p = (best.params["log_smin"].value, best.params["log_bcrit"].value)
    resid = logS - best.best_fit
    samples = np.array(list(residual_resamples(best.best_fit, resid, 2, n_boot, seed)))
    boots = _tradeoff_profile(samples, logB) if len(samples) else np.array([p])
    s_min, b_crit = np.exp(boots[:, 0]), np.exp(boots[:, 1])
    ci = lambda v: tuple(float(x) for x in np.percentile(v, [2.5, 97.5]))   # noqa: E731
    return TradeoffFit(
        S_min=float(np.exp(p[0])), E_min=float(np.exp(p[0] + p[1])), B_crit=float(np.exp(p[1])),
        S_min_ci=ci(s_min), E_min_ci=ci(s_min * b_crit), B_crit_ci=ci(b_crit), n=len(S),
        B_range=(float(B.min()), float(B.max())), rms_log_residual=float(np.sqrt(np.mean(resid ** 2))),
        n_boot=len(boots), seed=seed)


def fit_tradeoff_csv(path, steps_col: str, examples_col: str, n_boot: int = 1000, seed: int = 0) -> TradeoffFit:
    """The command-line trade-off fit: two columns of a CSV file, one row per batch size."""
    data = _read_columns(path, (steps_col, examples_col))
    return fit_tradeoff(data[steps_col], data[examples_col], n_boot=n_boot, seed=seed)
