"""The compute-efficient frontier (paper §5–6, App B): the loss at fixed compute, the best size per
budget, and the laws read off them.

Two *readings* of "the loss a model reaches with compute C" (``grids.frontier``):

* ``kaplan``: a point of a learning curve whose cosine runs to the grid's shared horizon (the paper's
  envelope, Fig 2). Before the horizon the LR has not annealed, so a point at C is worse than a run of
  budget C would be, by more for the points far from the end.
* ``cooldown``: the loss a run of exactly budget C reaches (a cooldown branch of a constant-LR run).

and two *accountings* (Porian et al. 2024's first factor, Pearce & Song 2024's thesis):

* ``kaplan``: non-embedding N and C = 6N per token;
* ``total``: every parameter and the FLOPs of the LM head and of attention too.

``losses_at`` reads every size's loss at common budgets (log–log interpolation inside the size's own
range, never extrapolated); ``optimal_sizes`` finds the size with the least loss per budget (a parabola in
log N through the sizes around the minimum, Hoffmann et al.'s Approach 2; Porian et al.'s Akima as an
option), flags budgets whose best size is the grid's
smallest or largest available there (``on_edge``: not fitted), and bootstraps the seed noise into an
interval; ``allocation_exponent`` fits N_opt ∝ C^a over interior budgets. ``fit_learning_curve`` is
Eq 1.6, L(N, S) = (N_c/N)^α_N + (S_c/S_min)^α_S; ``excess`` is Eqs B.15–B.17; ``intersection`` is §6.3 (``paper.intersection`` with the published constants).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .analysis import PF_DAY, interpolate_at
from .critical_batch import compute_min, steps_min
from .display import sci
from .fit import intervals_overlap
from .runs import cooldown_points, curves

READINGS = ("kaplan", "cooldown")
ACCOUNTINGS = {"kaplan": ("N", "compute_6N"), "total": ("N_total", "compute_head_attn")}
ACCOUNTING_LABELS = {"kaplan": "non-embedding N, C = 6N", "total": "total N, C with head and attention"}
ACCOUNTINGS_KO = {"kaplan": "비임베딩 계산", "total": "전체 계산"}
READINGS_KO = {"kaplan": "Kaplan 읽기", "cooldown": "쿨다운 읽기"}
READINGS_EN = {"kaplan": "Kaplan reading", "cooldown": "cooldown reading"}
READING_LABELS = {k: f"the {v}" for k, v in READINGS_EN.items()}                        # in English sentences
READING_TITLES = {k: f"{READINGS_KO[k]} / {READINGS_EN[k]}" for k in READINGS}          # table cells, legends
ACCOUNTING_TITLES = {"kaplan": "비임베딩 N, 6N / non-embedding N, 6N",
                     "total": "전체 N, 헤드·어텐션 포함 / total N, head and attention"}


def reading_of(run_id: str) -> str:
    """``kaplan`` or ``cooldown``, from a frontier run id (``L2-d8_kaplan``)."""
    for name in READINGS:
        if run_id.endswith(f"_{name}"):
            return name
    raise ValueError(f"{run_id!r} is not a frontier run (ids end in _kaplan or _cooldown)")


def loss_points(runs: pd.DataFrame, reading: str, accounting: str = "kaplan") -> pd.DataFrame:
    """Every (size, compute, loss) point of one reading: ``size`` (the model's label), ``N`` under the
    accounting, ``C`` (FLOPs), ``tokens``, ``steps``, ``loss`` (validation) and ``curve_loss`` (the validation
    loss on the learning curve's windows: a cooldown's ``loss`` is read on the larger final windows, so the two
    readings are compared point for point on ``curve_loss``). Kaplan's curves lose their points inside the
    warmup (the paper fits every step after it)."""
    if reading not in READINGS:
        raise ValueError(f"unknown reading {reading!r} ({', '.join(READINGS)})")
    if accounting not in ACCOUNTINGS:
        raise ValueError(f"unknown accounting {accounting!r} ({', '.join(ACCOUNTINGS)})")
    n_col, c_col = ACCOUNTINGS[accounting]
    mine = runs[runs["run_id"].map(reading_of) == reading]
    if mine.empty:
        return pd.DataFrame(columns=["run_id", "size", "n_layer", "N", "C", "tokens", "steps", "batch_tokens", "loss",
                                     "curve_loss"])
    long = curves(mine) if reading == "kaplan" else cooldown_points(mine)
    if reading == "kaplan":
        warm = mine.set_index("run_id")["warmup_tokens"]
        long = long[long["tokens"] > long["run_id"].map(warm)].rename(columns={"step": "steps"})
    sizes = mine.set_index("run_id")
    out = pd.DataFrame({"run_id": long["run_id"], "size": long["run_id"].str.rsplit("_", n=1).str[0],
                        "n_layer": long["run_id"].map(sizes["n_layer"]),
                        "N": long["run_id"].map(sizes[n_col]).astype(float), "C": long[c_col].astype(float),
                        "tokens": long["tokens"].astype(float), "steps": long["steps"].astype(float),
                        "batch_tokens": long["run_id"].map(sizes["batch_tokens"]).astype(float),
                        "loss": long["val_loss"].astype(float),
                        "curve_loss": (long["curve_val_loss"] if "curve_val_loss" in long else long["val_loss"]).astype(float)})
    return out.sort_values(["N", "C"]).reset_index(drop=True)


def reading_gaps(kaplan: pd.DataFrame, cooldown: pd.DataFrame, tokens_max: float) -> pd.DataFrame:
    """How far the Kaplan reading lies above the cooldown reading at each cooldown budget of each size, both read
    on the learning curve's windows: ``gap`` = L_kaplan / L_cooldown − 1, ``fraction`` = the budget's share of the run."""
    rows = []
    for size, part in cooldown.groupby("size"):
        curve = kaplan[kaplan["size"] == size]
        k = interpolate_at(curve, "tokens", "loss", part["tokens"]) if len(curve) else np.full(len(part), np.nan)
        for (_, p), kl in zip(part.iterrows(), k):
            if np.isfinite(kl):
                rows.append({"size": size, "N": p["N"], "tokens": p["tokens"], "fraction": p["tokens"] / tokens_max,
                             "kaplan": kl, "cooldown": p["curve_loss"], "gap": kl / p["curve_loss"] - 1})
    return pd.DataFrame(rows, columns=["size", "N", "tokens", "fraction", "kaplan", "cooldown", "gap"])


def gap_verdict(gaps: pd.DataFrame, early: float = 0.3, late: float = 0.9) -> dict:
    """What ``reading_gaps`` shows, in words: the gap (%) at budgets up to ``early`` of the run and beyond ``late``,
    and whether it has the schedule's pattern (the Kaplan curve above early, the two meeting at the end: a late
    median gap smaller than the early one). Returns ``expected`` and ``verdict_ko``/``verdict_en``."""
    first, last = gaps[gaps["fraction"] <= early], gaps[gaps["fraction"] > late]
    em, ex, nm, nx = (100 * float(v) for v in (first["gap"].median(), first["gap"].max(), last["gap"].median(),
                                                last["gap"].abs().max()))
    cut = f"{100 * early:.0f}%"
    expected = bool(em > 0 and abs(nm) < em)
    if expected:
        ko = (f"학습 길이의 {cut} 이하인 예산에서는 Kaplan 곡선의 손실이 같은 예산의 쿨다운보다 중앙값 {em:.1f}%(최대 {ex:.1f}%) "
              "높습니다. 이 구간에서는 코사인 스케줄의 학습률이 아직 거의 감쇠하지 않았기 때문입니다. 학습이 끝날 무렵에는 두 "
              f"읽기의 차이가 중앙값 {nm:.1f}%(어느 방향으로든 최대 {nx:.1f}%) 이내로 좁혀집니다.")
        en = (f"At budgets up to {cut} of the run, the Kaplan curve lies above the cooldown of the same budget by a median of "
              f"{em:.1f}% (at most {ex:.1f}%): there the cosine has barely decayed. At the end of training the two readings meet "
              f"within a median of {nm:.1f}% (at most {nx:.1f}% either way).")
    else:
        ko = (f"학습 길이의 {cut} 이하인 예산에서 Kaplan 곡선과 쿨다운의 차이는 중앙값 {em:+.1f}%(최대 {ex:.1f}%), 학습이 끝날 "
              f"무렵에는 중앙값 {nm:+.1f}%(어느 방향으로든 최대 {nx:.1f}%)입니다. 이 기록에서는 코사인이 덜 감쇠한 초반에 Kaplan "
              "곡선이 더 높고 끝에서 두 읽기가 만난다는, 스케줄에서 예상되는 양상이 나타나지 않습니다.")
        en = (f"At budgets up to {cut} of the run the Kaplan curve differs from the cooldown by a median of {em:+.1f}% (at most "
              f"{ex:.1f}%), at the end of training by {nm:+.1f}% (at most {nx:.1f}% either way). These records do not show what "
              "the schedule predicts, a Kaplan curve above the cooldown early and the two meeting at the end.")
    return {"expected": expected, "verdict_ko": ko, "verdict_en": en}


def cosine_check_verdict(differences, noise: float) -> dict:
    """The cooldown against a cosine matched to its length (``differences``: cooldown − cosine loss per model,
    nats), by the criterion that the largest lies within twice the s.d. of a two-run difference (√2 · ``noise``, the
    seed-to-seed s.d.). Returns ``matches`` and ``verdict_ko``/``verdict_en``."""
    d = np.abs(np.asarray(differences, float))
    worst, pair_sd = float(d.max()), float(np.sqrt(2) * noise)
    head_ko = f"비교한 모델 {len(d)}개에서 두 손실의 차이는 최대 {worst:.3f} nats입니다. "
    head_en = f"Over the {len(d)} models compared, the two losses differ by at most {worst:.3f} nats. "
    matches = worst <= 2 * pair_sd
    if matches:
        ko = (f"이는 시드만 다른 두 실행의 차이가 갖는 표준편차({pair_sd:.3f} nats)의 2배 이내이므로, 이 기준으로 쿨다운은 "
              "길이에 맞춘 코사인과 일치합니다.")
        en = (f"That is within twice the s.d. of the difference between two runs that differ only by their seed "
              f"({pair_sd:.3f} nats): by this criterion the cooldown matches the cosine.")
    else:
        ko = (f"이는 시드만 다른 두 실행의 차이가 갖는 표준편차({pair_sd:.3f} nats)의 2배를 넘으므로, 우리 데이터에서 "
              "쿨다운은 길이에 맞춘 코사인과 시드 잡음 안에서 일치하지 않습니다. 두 실행은 워밍업도 다르므로(표), 그 차이가 "
              "이 간격의 일부를 설명할 수 있습니다.")
        en = (f"That is more than twice the s.d. of the difference between two runs that differ only by their seed "
              f"({pair_sd:.3f} nats): on our data the cooldown does not match a cosine of its length within seed noise. "
              "The two runs also differ in their warmup (table), which may account for part of the gap.")
    return {"matches": matches, "verdict_ko": head_ko + ko, "verdict_en": head_en + en}


def budget_grid(points: pd.DataFrame, per_decade: int = 4, min_sizes: int = 3, x: str = "C") -> np.ndarray:
    """Log-spaced budgets of ``x`` (``C`` or ``C_min``), ``per_decade`` to a decade, between the ``min_sizes``-th
    smallest start and the ``min_sizes``-th largest end of the sizes' ranges (a budget inside may still have
    fewer sizes; ``optimal_sizes`` flags it on the edge)."""
    lo = points.groupby("size")[x].min().sort_values()
    hi = points.groupby("size")[x].max().sort_values()
    if len(lo) < min_sizes:
        raise ValueError(f"a frontier needs at least {min_sizes} sizes, got {len(lo)}")
    start, stop = lo.iloc[min_sizes - 1], hi.iloc[-min_sizes]
    if not stop > start:
        raise ValueError("no budget is covered by enough sizes")
    k = np.arange(np.ceil(np.log10(start) * per_decade), np.floor(np.log10(stop) * per_decade) + 1)
    return 10 ** (k / per_decade)


def losses_at(points: pd.DataFrame, budgets, x: str = "C") -> pd.DataFrame:
    """Each size's loss at each budget of ``x`` (rows: budgets; columns: sizes' N), NaN where a size does
    not cover the budget."""
    table = {}
    for size, part in points.groupby("size"):
        n = float(part["N"].iloc[0])
        if n in table:
            raise ValueError(f"two sizes share N = {n:,.0f} ({size}): one loss per size and budget is needed")
        table[n] = interpolate_at(part, x, "loss", budgets)
    out = pd.DataFrame(table, index=pd.Index(np.asarray(budgets, float), name="C"))
    return out[sorted(out.columns)]


MIN_LAW_POINTS = 3   # a two-parameter power law is fitted to no fewer points
WINDOW = 5      # sizes around the least measured loss that the parabola of a budget is fitted to
MIN_SIZES = 4   # a budget measured by fewer sizes is not fitted: a parabola (3 parameters) would pass through them all


def _argmin_log(ns: np.ndarray, losses: np.ndarray, method: str = "parabola", fine: int = 200):
    """N at the least loss, that loss, and on_edge, for one set of losses (1-D) or many (2-D: sizes × draws).

    ``parabola`` (default; Hoffmann et al. 2022's Approach 2): a parabola in log N through log L of the
    ``WINDOW`` sizes around the least measured loss, its vertex the optimum (clipped to those sizes). It
    smooths over what one size does differently from its neighbours (a 4-layer model beside a 2-layer one of
    nearly the same total N). ``akima`` (Porian et al. 2024): Akima interpolation through every size, the
    least value on a fine grid. ``on_edge`` when the least measured loss is at the smallest or the largest
    size present, or when the optimum found lies there (a parabola's vertex clipped to it), or when fewer than
    ``MIN_SIZES`` sizes measure the budget: "shown, not fitted"."""
    losses = np.asarray(losses, float)
    single = losses.ndim == 1
    ok = np.isfinite(losses if single else losses[:, 0])
    ns, y = ns[ok], (losses[ok] if single else losses[ok, :])
    y2 = np.log(y[:, None] if single else y)
    idx = np.argmin(y2, axis=0)
    edge = (idx == 0) | (idx == len(ns) - 1)
    cols = np.arange(y2.shape[1])
    x = np.log(ns)
    if len(ns) < 3:
        n_opt, l_opt = ns[idx], np.exp(y2[idx, cols])
        edge = np.ones_like(edge)
    elif method == "parabola":
        centre = int(np.argmin(y2.mean(axis=1)))
        lo = max(0, min(centre - WINDOW // 2, len(ns) - WINDOW))
        sel = slice(lo, lo + WINDOW)
        xs, ys = x[sel], y2[sel]
        a, b, c = np.polyfit(xs, ys, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = np.where(a > 0, -b / (2 * a), np.where(ys[0] < ys[-1], xs[0], xs[-1]))
        vertex = np.clip(vertex, xs[0], xs[-1])
        # a vertex clipped to the smallest or largest size present is an optimum at the grid's edge too, even
        # where the least measured loss is one size in (two sizes of nearly equal N under the total accounting)
        edge = edge | np.isclose(vertex, x[0]) | np.isclose(vertex, x[-1])
        n_opt, l_opt = np.exp(vertex), np.exp(a * vertex ** 2 + b * vertex + c)
    elif method == "akima":
        from scipy.interpolate import Akima1DInterpolator
        grid = np.linspace(x[0], x[-1], fine)
        curves = Akima1DInterpolator(x, y2, axis=0)(grid)
        j = np.nanargmin(curves, axis=0)
        edge = edge | (j == 0) | (j == fine - 1)
        n_opt, l_opt = np.exp(grid[j]), np.exp(curves[j, cols])
    else:
        raise ValueError(f"unknown method {method!r} (parabola, akima)")
    if len(ns) < MIN_SIZES:
        edge = np.ones_like(edge)
    if single:
        return float(np.ravel(n_opt)[0]), float(np.ravel(l_opt)[0]), bool(edge[0])
    return n_opt, l_opt, edge


def optimal_sizes(table: pd.DataFrame, noise: float = 0.0, n_boot: int = 500, seed: int = 0,
                  method: str = "parabola") -> pd.DataFrame:
    """Per budget: the best size ``N_opt``, its loss ``L_opt``, ``sizes`` present, ``on_edge``, and with
    ``noise`` (the seed-to-seed s.d. of the loss, nats) a bootstrap interval ``N_opt_ci`` from ``n_boot``
    draws of Gaussian noise, one per size (shared by its budgets). With noise, ``N_opt`` is the median of
    the draws' optima (Porian et al. 2024; it smooths the step from one size to the next) and ``N_opt_raw``
    the optimum of the measured losses; ``interior_share`` is the share of draws whose optimum is not on
    the edge (Porian et al. drop a budget below one half)."""
    rng = np.random.default_rng(seed)
    ns = table.columns.to_numpy(float)
    # one draw per size, shared by every budget: seed noise moves a run's whole curve, not each point alone
    shifts = rng.normal(0, noise, (len(ns), n_boot)) if noise > 0 and n_boot > 0 else None
    rows = []
    for c, row in table.iterrows():
        losses = row.to_numpy(float)
        if not np.isfinite(losses).any():
            continue
        n_opt, l_opt, edge = _argmin_log(ns, losses, method)
        draws, interior = np.array([]), np.array([])
        if shifts is not None:
            noisy = losses[:, None] + shifts
            draws, _, e_b = _argmin_log(ns, noisy, method)
            interior = ~e_b
        ci = tuple(np.exp(np.percentile(np.log(draws), [2.5, 97.5]))) if len(draws) else (np.nan, np.nan)
        median = float(np.exp(np.median(np.log(draws)))) if len(draws) else n_opt
        rows.append({"C": float(c), "C_pf_days": float(c) / PF_DAY, "N_opt": median, "N_opt_raw": n_opt, "L_opt": l_opt,
                     "sizes": int(np.isfinite(losses).sum()), "on_edge": edge, "N_opt_ci": ci,
                     "interior_share": float(np.mean(interior)) if len(interior) else float(not edge),
                     "draws": np.asarray(draws)})
    # typed even when empty (no budget covered by enough sizes): a boolean mask of an empty object column would
    # select columns, not rows
    return pd.DataFrame(rows, columns=OPTIMA_COLUMNS).astype(
        {"C": float, "C_pf_days": float, "N_opt": float, "N_opt_raw": float, "L_opt": float, "sizes": int,
         "on_edge": bool, "interior_share": float})


OPTIMA_COLUMNS = ["C", "C_pf_days", "N_opt", "N_opt_raw", "L_opt", "sizes", "on_edge", "N_opt_ci", "interior_share", "draws"]


@dataclass
class AllocationFit:
    """``N_opt = N_e · C^a`` (C in PF-days) over ``n`` interior budgets, with a bootstrap interval on a."""

    a: float
    a_ci: tuple
    N_e: float
    n: int
    C_min: float
    C_max: float
    decades: float
    n_boot: int

    def predict(self, C):
        return self.N_e * (np.asarray(C, float) / PF_DAY) ** self.a

    def to_dict(self) -> dict:
        d = asdict(self)
        d["a_ci"] = list(self.a_ci)
        return d


def allocation_exponent(optima: pd.DataFrame, min_interior: float = 0.5, n_boot: int = 1000,
                        seed: int = 0) -> AllocationFit:
    """Fit log N_opt = log N_e + a·log C over the budgets that are interior (not ``on_edge``) and whose
    bootstrap draws are interior at least ``min_interior`` of the time.

    The interval carries both sources of uncertainty: the seed noise (each bootstrap draw of
    ``optimal_sizes`` gives its own optima) and the scatter of the optima about the line, which a fit to a few
    budgets cannot average away (each draw's line gets its residuals resampled, ``fit.residual_resamples``).
    Without draws (no noise) it is the residual bootstrap alone, ``n_boot`` resamples."""
    from .fit import residual_resamples
    use = optima[(~optima["on_edge"]) & (optima["interior_share"] >= min_interior)]
    if len(use) < MIN_LAW_POINTS:
        raise ValueError(f"an allocation exponent needs at least {MIN_LAW_POINTS} interior budgets, got {len(use)} "
                         f"of {len(optima)} (the rest have their best size at the grid's edge)")
    x = np.log(use["C_pf_days"].to_numpy(float))
    y = np.log(use["N_opt"].to_numpy(float))
    slope, intercept = np.polyfit(x, y, 1)
    draws = list(use["draws"])
    if all(len(d) for d in draws):
        lines = np.log(np.array([d[:min(len(d) for d in draws)] for d in draws]))     # budgets × draws
    else:
        lines = np.repeat(y[:, None], n_boot, axis=1)
    rng = np.random.default_rng(seed)
    boots = []
    for k in range(lines.shape[1]):
        s, i = np.polyfit(x, lines[:, k], 1)
        fitted = s * x + i
        sample = next(residual_resamples(fitted, lines[:, k] - fitted, 2, 1, int(rng.integers(2 ** 32))))
        boots.append(np.polyfit(x, sample, 1)[0])
    ci = np.percentile(boots, [2.5, 97.5])
    c = use["C"].to_numpy(float)
    return AllocationFit(a=float(slope), a_ci=(float(ci[0]), float(ci[1])), N_e=float(np.exp(intercept)),
                         n=len(use), C_min=float(c.min()), C_max=float(c.max()),
                         decades=float(np.log10(c.max() / c.min())), n_boot=len(boots))


def frontier_of(points: pd.DataFrame, noise: float, n_boot: int = 500, per_decade: int = 4, x: str = "C"):
    """(losses at common budgets of ``x``, the optimal size per budget) of one reading's loss points."""
    table = losses_at(points, budget_grid(points, per_decade, x=x), x=x)
    return table, optimal_sizes(table, noise, n_boot)


def interior_law(x, y, on_edge, n_boot: int = 1000):
    """``y = (x_c/x)^α`` (``fit.fit_power_law``) over the points not ``on_edge``, or ``None`` where fewer than
    ``MIN_LAW_POINTS`` are interior (a small grid whose every optimum is its smallest or largest size)."""
    from .fit import fit_power_law
    keep = ~np.asarray(on_edge, bool)
    x, y = np.asarray(x, float)[keep], np.asarray(y, float)[keep]
    return fit_power_law(x, y, n_boot=n_boot) if len(x) >= MIN_LAW_POINTS else None


CURVE_END_FACTOR = 1.5   # an optimum whose size ends its curve within this factor above the budget is "at a curve end"


def near_curve_end(points: pd.DataFrame, optima: pd.DataFrame, factor: float = CURVE_END_FACTOR,
                   x: str = "C") -> np.ndarray:
    """Per budget of ``optima``: whether the measured size nearest its optimum (in log N) ends its curve within
    ``factor`` above the budget. Under the Kaplan reading that is where a cosine has annealed, so such an
    optimum may be set by where the curves end (every size trains the same tokens, so the ends lie on
    C ∝ N, slope 1) rather than by the law."""
    ends = points.groupby("N")[x].max()
    ns = ends.index.to_numpy(float)
    out = []
    for _, opt in optima.iterrows():
        nearest = ns[np.argmin(np.abs(np.log(ns) - np.log(opt["N_opt_raw"])))]
        out.append(bool(opt["C"] <= ends[nearest] <= factor * opt["C"]))
    return np.asarray(out, bool)


def slope_fit(x, y, n_boot: int = 1000) -> dict:
    """The exponent b of y ∝ x^b with a residual-bootstrap interval (``fit.fit_power_law`` with its sign
    turned: that fits y = (x_c/x)^α, so b = −α)."""
    from .fit import fit_power_law
    f = fit_power_law(x, y, n_boot=n_boot)
    return {"b": -f.alpha, "ci": (-f.alpha_ci[1], -f.alpha_ci[0]), "n": f.n, "decades": f.decades,
            "coef": f.x_c ** f.alpha, "fit": f}


def allocation(optima: pd.DataFrame, b_crit, batch: float) -> pd.DataFrame:
    """What the compute-efficient model of each budget does (Table 6, Fig 14): budgets are C_min (FLOPs);
    at the optimum's loss, B_crit(L), the fixed-batch compute C = C_min (1 + B/B_crit), its steps
    S = C/(6 N_opt B), S_min (Eq 5.4), the tokens D = S·B it reads at our batch, and ``D_crit`` = 2 C_min/(6 N_opt),
    the tokens it would read at B_crit (the paper's Table 6 D)."""
    out = optima[["C", "C_pf_days", "N_opt", "L_opt", "on_edge", "interior_share"]].rename(
        columns={"C": "C_min", "C_pf_days": "C_min_pf_days"}).copy()
    bc = np.asarray(b_crit(out["L_opt"].to_numpy(float)), float)
    out["B_crit"] = bc
    out["C"] = out["C_min"] * (1 + batch / bc)
    out["S"] = out["C"] / (6 * out["N_opt"] * batch)
    out["S_min"] = steps_min(out["S"], batch, bc)
    out["D"] = out["S"] * batch
    out["D_crit"] = 2 * out["C_min"] / (6 * out["N_opt"])
    return out


def predict_at_steps(law: "LearningCurveFit", N, steps, batch: float, b_crit, iterations: int = 30):
    """L(N, S_min) at ``steps`` raw steps of batch ``batch``: S_min = S/(1 + B_crit(L)/B) depends on the loss
    it predicts, so the two are solved together by fixed-point iteration."""
    N, steps = np.broadcast_arrays(np.asarray(N, float), np.asarray(steps, float))
    loss = law.predict(N, steps)
    for _ in range(iterations):
        loss = law.predict(N, steps_min(steps, batch, b_crit(loss)))
    return loss


def losses_at_levels(points: pd.DataFrame, column: str, levels) -> pd.DataFrame:
    """Each size's loss read off its curve at each level of ``column`` (``C`` or ``steps``), Fig 11's points:
    rows (level, N, loss); a size whose curve does not reach a level is left out there."""
    rows = []
    for n, part in points.groupby("N"):
        for level, loss in zip(levels, interpolate_at(part, column, "loss", list(levels))):
            if np.isfinite(loss):
                rows.append({"level": float(level), "N": float(n), "loss": float(loss)})
    return pd.DataFrame(rows, columns=["level", "N", "loss"])


def prediction_check(points: pd.DataFrame, predict, column: str, levels, batch: float) -> pd.DataFrame:
    """How L(N, S) (``predict(N, steps)``) meets Fig 11's points at each level of ``column``: the sizes read, the RMS
    of log(measured/predicted) and the best measured size beside the size the law ranks best among them."""
    read = losses_at_levels(points, column, levels)
    rows = []
    for level, part in read.groupby("level"):
        n = part["N"].to_numpy(float)
        steps = level / (6 * n * batch) if column == "C" else np.full_like(n, level)
        predicted = np.asarray(predict(n, steps), float)
        rows.append({"level": level, "sizes": len(n),
                     "rms_log": float(np.sqrt(np.mean(np.log(part["loss"].to_numpy(float) / predicted) ** 2))),
                     "best_measured": float(n[np.argmin(part["loss"].to_numpy(float))]),
                     "best_predicted": float(n[np.argmin(predicted)])})
    return pd.DataFrame(rows, columns=["level", "sizes", "rms_log", "best_measured", "best_predicted"])


def four_ways(runs: pd.DataFrame, noise: float, n_boot: int = 500, per_decade: int = 4) -> pd.DataFrame:
    """The allocation exponent a from the same runs, {kaplan, cooldown} readings × {kaplan, total}
    accountings: one row each with a, its interval, the budgets fitted and those on the edge."""
    rows = []
    for reading in READINGS:
        for accounting in ACCOUNTINGS:
            points = loss_points(runs, reading, accounting)
            if points.empty:
                continue
            _, optima = frontier_of(points, noise, n_boot, per_decade)
            row = {"reading": reading, "accounting": accounting, "budgets": len(optima),
                   "on_edge": int(optima["on_edge"].sum()),
                   "at_curve_end": int((near_curve_end(points, optima) & ~optima["on_edge"].to_numpy(bool)).sum())}
            try:
                fit = allocation_exponent(optima)
                row.update(a=fit.a, a_lo=fit.a_ci[0], a_hi=fit.a_ci[1], fitted=fit.n, decades=fit.decades, fit=fit)
            except ValueError as e:
                row.update(a=np.nan, a_lo=np.nan, a_hi=np.nan, fitted=0, decades=0.0, fit=None, problem=str(e))
            row["optima"] = optima
            rows.append(row)
    return pd.DataFrame(rows)


def with_interval(a: float, lo: float, hi: float) -> str:
    """``0.43 [0.37, 0.51]``, or a dash where too few budgets were interior to fit."""
    return f"{a:.2f} [{lo:.2f}, {hi:.2f}]" if np.isfinite(a) else "—"


def four_ways_table(ways: pd.DataFrame) -> pd.DataFrame:
    """The chapter's headline table: our four ways (``four_ways``: a, its interval, the budgets fitted) and below
    them the published values of a, each with where it is printed (``paper``), bilingual headers."""
    from . import paper
    rows = [{"출처 / source": "이 책 / this book", "읽기 / reading": READING_TITLES[w["reading"]],
             "계산 방식 / accounting": ACCOUNTING_TITLES[w["accounting"]], "a": w["a"],
             "95% 구간 / interval": f"[{w['a_lo']:.2f}, {w['a_hi']:.2f}]" if np.isfinite(w["a"]) else "—",
             "적합에 쓴 예산 / budgets fitted": f"{w['fitted']} / {w['budgets']}"} for _, w in ways.iterrows()]
    published = [(paper.published("N_opt_exponent"), "Kaplan et al. 2020, ", "C_min 보정 / adjusted to C_min"),
                 (paper.published("N_opt_exponent_unadjusted"), "Kaplan et al. 2020, ", "고정 배치 / fixed batch")] + \
                [(paper.related(s), "", "") for s in paper.A_EXPONENTS]
    for ref, source, note in published:
        rows.append({"출처 / source": source + ref.where, "읽기 / reading": ref.meaning + (f"; {note}" if note else ""),
                     "계산 방식 / accounting": "", "a": ref.value, "95% 구간 / interval": "",
                     "적합에 쓴 예산 / budgets fitted": ""})
    return pd.DataFrame(rows)


def four_ways_verdict(ways: pd.DataFrame) -> dict:
    """What the four-way table says, by one criterion: a change of reading or of accounting *moves* a when the
    95% intervals of the two ways do not overlap. Returns the paper's way (kaplan × kaplan) against the
    corrected one (cooldown × total) as ``shift`` (a_corrected − a_kaplan, NaN where either is missing),
    the four one-factor comparisons, and ``verdict_ko``/``verdict_en``."""
    def row(reading, accounting):
        r = ways[(ways["reading"] == reading) & (ways["accounting"] == accounting)]
        return r.iloc[0] if len(r) and np.isfinite(r.iloc[0]["a"]) else None

    comparisons = []
    for fixed, pairs in (("accounting", [(("kaplan", acc), ("cooldown", acc)) for acc in ACCOUNTINGS]),
                         ("reading", [((rd, "kaplan"), (rd, "total")) for rd in READINGS])):
        for first, second in pairs:
            a, b = row(*first), row(*second)
            if a is None or b is None:
                continue
            comparisons.append({"changed": "reading" if fixed == "accounting" else "accounting", "from": first, "to": second,
                                "delta": float(b["a"] - a["a"]),
                                "moves": not intervals_overlap((a["a_lo"], a["a_hi"]), (b["a_lo"], b["a_hi"]))})
    paper_way, corrected = row("kaplan", "kaplan"), row("cooldown", "total")
    shift = float(corrected["a"] - paper_way["a"]) if paper_way is not None and corrected is not None else np.nan
    if not comparisons:
        ko = ("두 가지 이상의 방식에서 $a$를 적합할 수 있어야 비교할 수 있는데, 이 기록에서는 그렇지 못합니다"
              "(최적 크기가 그리드 가장자리가 아닌 예산이 부족합니다).")
        en = ("Comparing ways needs $a$ fitted in at least two of them, and these records do not allow it (too few budgets "
              "have their best size off the grid's edge).")
        return {"shift": shift, "comparisons": comparisons, "verdict_ko": ko, "verdict_en": en}
    held_names = {"reading": (ACCOUNTINGS_KO, ACCOUNTING_LABELS), "accounting": (READINGS_KO, READING_LABELS)}
    change_names = {"reading": ("Kaplan → 쿨다운 읽기", "Kaplan → cooldown reading"),
                    "accounting": ("비임베딩 → 전체 계산", "non-embedding → total accounting")}
    parts_ko, parts_en = [], []
    for c in comparisons:
        held = c["from"][1] if c["changed"] == "reading" else c["from"][0]
        names_ko, names_en = held_names[c["changed"]]
        change_ko, change_en = change_names[c["changed"]]
        parts_ko.append(f"{names_ko[held]}에서 {change_ko}: {c['delta']:+.2f}" + ("(구간이 겹치지 않음)" if c["moves"] else "(구간이 겹침)"))
        parts_en.append(f"{change_en} at {names_en[held]}: {c['delta']:+.2f}"
                        + (" (intervals apart)" if c["moves"] else " (intervals overlap)"))
    said_ko, said_en = [], []
    for factor, subject_ko, subject_en in (("accounting", "계산 방식은", "the accounting"), ("reading", "읽기는", "the reading")):
        mine = [c for c in comparisons if c["changed"] == factor]
        moved = [c for c in mine if c["moves"]]
        names_ko, names_en = held_names[factor]
        if not mine:
            continue
        if not moved:
            said_ko.append((f"{subject_ko} $a$를 움직이지 않", "고", "습니다"))
            said_en.append(f"{subject_en} does not move it")
        elif len(moved) == len(mine):
            both = len(mine) > 1
            said_ko.append((f"{subject_ko} " + ("비교한 두 경우 모두에서 " if both else "") + "$a$를 움직", "이고", "입니다"))
            said_en.append(f"{subject_en} moves it" + (" in both comparisons" if both else ""))
        else:
            held = [c["from"][1] if factor == "reading" else c["from"][0] for c in moved]
            said_ko.append((f"{subject_ko} " + ", ".join(names_ko[h] for h in held) + "에서만 $a$를 움직", "이고", "입니다"))
            said_en.append(f"{subject_en} moves it only at " + ", ".join(names_en[h] for h in held))
    ko = ("한 요인만 바꿨을 때 $a$의 변화는 " + "; ".join(parts_ko) + "입니다. 95% 구간이 겹치지 않는 변화를 '$a$를 움직인다'고 "
          "보면, " + ", ".join(stem + (end if i == len(said_ko) - 1 else link) for i, (stem, link, end) in enumerate(said_ko))
          + ".")
    en = ("Changing one factor at a time moves $a$ by: " + "; ".join(parts_en) + ". Taking intervals that do not overlap as "
          "the criterion for a factor moving $a$, " + "; ".join(said_en) + ".")
    return {"shift": shift, "comparisons": comparisons, "verdict_ko": ko, "verdict_en": en}


def edge_sides(table: pd.DataFrame, optima: pd.DataFrame) -> pd.Series:
    """Per budget of ``optima`` (indexed like it): ``"small"`` where the budget is on the edge at the smallest size
    that measures it (its least measured loss or its optimum there), ``"large"`` at the largest, ``"few"`` for an
    edge of neither kind (fewer than ``MIN_SIZES`` sizes), ``""`` off the edge. ``table``: ``losses_at``'s."""
    out = []
    for _, opt in optima.iterrows():
        row = table.loc[opt["C"]]
        present = row[np.isfinite(row.to_numpy(float))]
        least = float(present.idxmin())
        if not opt["on_edge"]:
            out.append("")
        elif least == present.index.min() or np.isclose(opt["N_opt_raw"], present.index.min()):
            out.append("small")
        elif least == present.index.max() or np.isclose(opt["N_opt_raw"], present.index.max()):
            out.append("large")
        else:
            out.append("few")
    return pd.Series(out, index=optima.index, dtype=object)


def edge_top_verdict(table: pd.DataFrame, optima: pd.DataFrame, tokens: int) -> dict:
    """Why the budgets above every interior one are on the edge, where ``edge_sides`` finds their best at the
    smallest size measured: the smaller sizes stop at ``tokens`` and never reach that compute. Empty verdicts where
    no such budget exists. Returns ``above``, ``small`` (counts) and ``verdict_ko``/``verdict_en``."""
    sides = edge_sides(table, optima)
    interior_C = optima.loc[~optima["on_edge"], "C"]
    top = optima["C"] > (interior_C.max() if len(interior_C) else np.inf)
    above, small = int(top.sum()), int((top & (sides == "small")).sum())
    if not small:
        return {"above": above, "small": 0, "verdict_ko": "", "verdict_en": ""}
    ko = (f"최적 크기가 그리드 안쪽에 있는 예산 중 가장 큰 것보다도 큰 예산 {above}개 가운데 {small}개는" if small < above
          else f"최적 크기가 그리드 안쪽에 있는 예산 중 가장 큰 것보다도 큰 예산 {above}개는 모두")
    ko += (" 그 예산에서 측정한 크기 중 가장 작은 크기의 손실이 가장 낮습니다. "
           f"더 작은 크기는 모두 {tokens:,} 토큰에서 학습을 멈추므로 그 계산량에 도달하지 못합니다. 따라서 이런 예산의 최적 "
           "크기는 이 그리드의 어느 크기보다도 많은 토큰을 학습해야 하는 더 작은 모델일 수 있습니다.")
    en = (f"Of the {above} budgets above the largest interior one, {small}" if small < above
          else f"All {above} budgets above the largest interior one")
    en += (f" have their best at the smallest size that measures them: the smaller sizes all stop at {tokens:,} tokens "
           "and never reach that compute, so the optimum there may be a smaller model that needs more tokens than this "
           "grid gives any size.")
    return {"above": above, "small": small, "verdict_ko": ko, "verdict_en": en}


def literature_verdict(ways: pd.DataFrame, kaplan: list, chinchilla: float) -> dict:
    """Whether the paper's way (Kaplan reading, non-embedding accounting) and the way with both factors changed
    (cooldown reading, total accounting) reproduce the two published ends of the gap, by the criterion that a
    published value lies inside our 95% interval. ``kaplan``: Kaplan's values as ``(a, label_ko, label_en)``;
    ``chinchilla``: Chinchilla's a. Returns ``reproduced`` (True; False; None where a way is not fitted) and
    ``verdict_ko``/``verdict_en``."""
    values = [(v, f"{ko} Kaplan {v:g}", f"Kaplan's {v:g} ({en})", "kaplan") for v, ko, en in kaplan] + \
             [(chinchilla, f"Chinchilla {chinchilla:g}", f"Chinchilla's {chinchilla:g}", "chinchilla")]
    sentences_ko, sentences_en, found = [], [], {}
    for (reading, accounting), name_ko, name_en in (
            (("kaplan", "kaplan"), "논문의 방식(Kaplan 읽기, 비임베딩 계산)", "the paper's way (Kaplan reading, non-embedding accounting)"),
            (("cooldown", "total"), "두 요인을 모두 바꾼 방식(쿨다운 읽기, 전체 계산)",
             "the way with both factors changed (cooldown reading, total accounting)")):
        r = ways[(ways["reading"] == reading) & (ways["accounting"] == accounting)]
        if not len(r) or not np.isfinite(r.iloc[0]["a"]):
            sentences_ko.append(f"{name_ko}으로는 $a$를 적합하지 못했습니다.")
            sentences_en.append(f"{name_en[0].upper() + name_en[1:]} gave no fitted $a$.")
            continue
        w = r.iloc[0]
        inside = [v for v in values if w["a_lo"] <= v[0] <= w["a_hi"]]
        outside = [v for v in values if v not in inside]
        found[(reading, accounting)] = {v[3] for v in inside}
        span = f"[{w['a_lo']:.2f}, {w['a_hi']:.2f}]"
        listed_ko = lambda vs: f"값 {len(vs)}개(" + ", ".join(v[1] for v in vs) + ")"    # noqa: E731
        listed_en = lambda vs: " and ".join([", ".join(v[2] for v in vs[:-1]), vs[-1][2]] if len(vs) > 1 else [vs[0][2]])  # noqa: E731
        ko = f"{name_ko}으로 구한 $a$의 95% 구간 {span}은 발표된 "
        en = f"The 95% interval of {name_en}, {span}, "
        if inside and outside:
            ko += f"{listed_ko(inside)}를 포함하고, {listed_ko(outside)}는 포함하지 않습니다."
            en += f"contains {listed_en(inside)} and excludes {listed_en(outside)}."
        elif inside:
            ko += f"{listed_ko(inside)}를 모두 포함합니다."
            en += f"contains all of {listed_en(inside)}."
        else:
            ko += f"{listed_ko(outside)}를 하나도 포함하지 않습니다."
            en += f"contains none of {listed_en(outside)}."
        sentences_ko.append(ko)
        sentences_en.append(en)
    paper_way, corrected = found.get(("kaplan", "kaplan")), found.get(("cooldown", "total"))
    if paper_way is None or corrected is None:
        reproduced, end_ko, end_en = None, "", ""
    elif paper_way == {"kaplan"} and corrected == {"chinchilla"}:
        reproduced = True
        end_ko = "이 기준으로 우리 실행은 두 값의 차이를 재현합니다."
        end_en = "By this criterion our runs reproduce the gap."
    elif corrected == {"chinchilla"} and "kaplan" in paper_way:
        reproduced = False
        end_ko = ("두 요인을 모두 바꾼 방식은 Chinchilla의 값과 일치하고 Kaplan의 값을 모두 배제합니다. 논문의 방식으로 구한 구간에는 "
                  "Kaplan의 값이 들어가지만, 구간이 넓어 Chinchilla의 값도 배제하지 못합니다. 따라서 이 기준으로 우리 실행은 두 값의 "
                  "차이 가운데 한쪽 끝만 재현합니다.")
        end_en = ("The way with both factors changed agrees with Chinchilla and rules out Kaplan; the paper's way's interval holds "
                  "Kaplan's value but is too wide to rule out Chinchilla's. By this criterion our runs reproduce one end of the "
                  "gap, not both.")
    else:
        reproduced = False
        end_ko = "이 기준으로 우리 실행은 두 값의 차이를 재현하지 못합니다."
        end_en = "By this criterion our runs do not reproduce the gap."
    return {"reproduced": reproduced, "verdict_ko": " ".join(sentences_ko + [end_ko]).strip(),
            "verdict_en": " ".join(sentences_en + [end_en]).strip()}


# -- batch adjustment (Eqs 5.4, 5.5) ----------------------------------------------------------

def with_min_adjustment(points: pd.DataFrame, b_crit) -> pd.DataFrame:
    """Add ``S_min`` and ``C_min`` to loss points, with ``b_crit(L)`` (tokens) from the critical-batch law."""
    out = points.copy()
    bc = np.asarray(b_crit(out["loss"].to_numpy(float)), float)
    out["B_crit"] = bc
    out["S_min"] = steps_min(out["steps"], out["batch_tokens"], bc)
    out["C_min"] = compute_min(out["C"], out["batch_tokens"], bc)
    return out


# -- L(N, S), Eq 1.6 / 5.6 ----------------------------------------------------------------------

@dataclass
class LearningCurveFit:
    """``L(N, S) = (N_c/N)^α_N + (S_c/S)^α_S`` (S = S_min when the batch is adjusted)."""

    alpha_N: float
    alpha_S: float
    N_c: float
    S_c: float
    alpha_N_ci: tuple
    alpha_S_ci: tuple
    N_c_ci: tuple
    S_c_ci: tuple
    n: int
    groups: int
    N_range: tuple
    S_range: tuple
    rms_log_residual: float
    n_boot: int
    method: str = "bootstrap over points"

    def predict(self, N, S):
        return (self.N_c / np.asarray(N, float)) ** self.alpha_N + (self.S_c / np.asarray(S, float)) ** self.alpha_S

    def to_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d


def _lns_fit(logN, logS, logy, start):
    import lmfit

    def log_lns(logN, logS, alpha_N, alpha_S, log_Nc, log_Sc):
        return np.log(np.exp(alpha_N * (log_Nc - logN)) + np.exp(alpha_S * (log_Sc - logS)))

    model = lmfit.Model(log_lns, independent_vars=["logN", "logS"])
    params = model.make_params(**start)
    params["alpha_N"].set(min=1e-4, max=2)
    params["alpha_S"].set(min=1e-3, max=5)
    return model.fit(logy, params, logN=logN, logS=logS)


def _lns_starts(logN, logS, logy):
    for aN in (0.05, 0.1, 0.3):
        for aS in (0.3, 0.8, 1.5):
            yield {"alpha_N": aN, "alpha_S": aS, "log_Nc": float(np.max(logN) + np.min(logy) / aN),
                   "log_Sc": float(np.median(logS))}


def fit_learning_curve(N, S, y, groups=None, n_boot: int = 200, seed: int = 0) -> LearningCurveFit:
    """Fit Eq 1.6 by least squares on log L from several starts; the interval resamples ``groups`` (one
    per run: a curve's points are not independent) with replacement, or the points when none are given."""
    N, S, y = (np.asarray(v, float) for v in (N, S, y))
    if not (N.shape == S.shape == y.shape) or N.ndim != 1:
        raise ValueError("N, S and y must be 1-D and of one length")
    if len(N) < 5:
        raise ValueError(f"L(N, S) has 4 parameters: it needs at least 5 points, got {len(N)}")
    if not (np.all(np.isfinite(N + S + y)) and np.all(N > 0) and np.all(S > 0) and np.all(y > 0)):
        raise ValueError("L(N, S) needs finite, positive N, S and loss")
    if np.ptp(np.log(N)) == 0 or np.ptp(np.log(S)) == 0:
        raise ValueError("L(N, S) needs more than one N and more than one S")
    groups = np.arange(len(N)) if groups is None else np.asarray(groups)
    logN, logS, logy = np.log(N), np.log(S), np.log(y)

    def best(idx, starts):
        fits = []
        for start in starts:
            try:
                fits.append(_lns_fit(logN[idx], logS[idx], logy[idx], start))
            except (ValueError, FloatingPointError):
                continue
        return min(fits, key=lambda r: r.chisqr) if fits else None

    everything = np.arange(len(N))
    main = best(everything, list(_lns_starts(logN, logS, logy)))
    if main is None:
        raise ValueError("the L(N, S) fit did not converge from any start")
    p = {k: v.value for k, v in main.params.items()}
    rng = np.random.default_rng(seed)
    labels = np.unique(groups)
    boots = []
    for _ in range(n_boot):
        pick = rng.choice(labels, size=len(labels), replace=True)
        idx = np.concatenate([np.nonzero(groups == g)[0] for g in pick])
        if np.ptp(logN[idx]) == 0:
            continue
        r = best(idx, [p])
        if r is not None:
            boots.append([r.params[k].value for k in ("alpha_N", "alpha_S", "log_Nc", "log_Sc")])
    boots = np.array(boots) if boots else np.array([[p["alpha_N"], p["alpha_S"], p["log_Nc"], p["log_Sc"]]])
    lo, hi = np.percentile(boots, [2.5, 97.5], axis=0)
    resid = logy - main.best_fit
    return LearningCurveFit(
        alpha_N=p["alpha_N"], alpha_S=p["alpha_S"], N_c=float(np.exp(p["log_Nc"])), S_c=float(np.exp(p["log_Sc"])),
        alpha_N_ci=(float(lo[0]), float(hi[0])), alpha_S_ci=(float(lo[1]), float(hi[1])),
        N_c_ci=(float(np.exp(lo[2])), float(np.exp(hi[2]))), S_c_ci=(float(np.exp(lo[3])), float(np.exp(hi[3]))),
        n=len(N), groups=len(labels), N_range=(float(N.min()), float(N.max())), S_range=(float(S.min()), float(S.max())),
        rms_log_residual=float(np.sqrt(np.mean(resid ** 2))), n_boot=len(boots),
        method="bootstrap over runs (whole curves resampled)" if len(labels) < len(N) else "bootstrap over points")


def fit_learning_curve_csv(path, n_col: str, steps_col: str, y_col: str, n_boot: int = 200,
                           seed: int = 0) -> LearningCurveFit:
    """``fit_learning_curve`` on three columns of a CSV file (each row one point; no grouping)."""
    from .fit import _read_columns
    data = _read_columns(path, (n_col, steps_col, y_col))
    N, S, y = (data[c].to_numpy(float) for c in (n_col, steps_col, y_col))
    return fit_learning_curve(N, S, y, n_boot=n_boot, seed=seed)


# -- Appendix B: sizes off the optimum, the optimum itself --------------------------------------

LNS_PAPER = {"alpha_N": "alpha_N_LNS", "alpha_S": "alpha_S", "N_c": "N_c_LNS", "S_c": "S_c"}   # our constant -> paper's
LNS_TEX = {"alpha_N": r"\alpha_N", "alpha_S": r"\alpha_S", "N_c": "N_c", "S_c": "S_c"}


def learning_curve_vs_paper(law: "LearningCurveFit", points: pd.DataFrame) -> dict:
    """How well the L(N, S) fit pins its constants down, against the paper's Table 3: ``step_share`` (%), the share
    of ``points`` (with ``N``, ``S_min``) where the step term is the larger of the two, and ``outside``, the
    constants whose published value lies outside our 95% interval, with ``verdict_ko``/``verdict_en`` naming them."""
    from . import paper
    n_term = (law.N_c / points["N"]) ** law.alpha_N
    s_term = (law.S_c / points["S_min"]) ** law.alpha_S
    outside = [k for k, ref in LNS_PAPER.items()
               if not getattr(law, f"{k}_ci")[0] <= paper.published(ref).value <= getattr(law, f"{k}_ci")[1]]
    named = ", ".join(f"${LNS_TEX[k]}$" for k in outside)
    return {"step_share": 100 * float((s_term > n_term).mean()), "outside": outside,
            "verdict_ko": f"논문의 값이 우리 95% 구간 밖에 있는 상수는 {named}입니다." if outside
            else "논문의 네 상수는 모두 우리 95% 구간 안에 있습니다.",
            "verdict_en": f"The paper's value lies outside our 95% interval for {named}." if outside
            else "All four of the paper's constants lie inside our 95% intervals."}


def excess(ratio, alpha_N: float, alpha_S: float) -> tuple[np.ndarray, np.ndarray]:
    """Eqs B.15–B.17: a model ``ratio`` = N/N_eff times the compute-efficient size, trained to the same
    loss at the critical batch, needs ``S/S_eff`` = [1 + (α_S/α_N)(1 − (N_eff/N)^α_N)]^(−1/α_S) of the
    steps and ``C/C_eff`` = ratio · S/S_eff of the compute. NaN where the loss is out of that model's reach."""
    r = np.asarray(ratio, float)
    base = 1 + (alpha_S / alpha_N) * (1 - r ** (-alpha_N))
    steps = np.where(base > 0, np.abs(base) ** (-1 / alpha_S), np.nan)
    return steps, r * steps


def efficient_law(alpha_N: float, alpha_S: float, N_c: float, S_c: float, alpha_B: float, B_star: float) -> dict:
    """Eqs B.5–B.10: the compute-efficient frontier implied by L(N, S) and B_crit(L): α_C^min, C_c (FLOPs),
    and functions N(C_min), S_min(C_min), L(C_min) (C_min in FLOPs)."""
    a_c = 1 / (1 / alpha_S + 1 / alpha_B + 1 / alpha_N)
    r = alpha_N / alpha_S
    c_c = 6 * N_c * B_star * S_c * (1 + r) ** (1 / alpha_S + 1 / alpha_N) * (1 / r) ** (1 / alpha_S)
    n_of = lambda c: N_c * (np.asarray(c, float) / c_c) ** (a_c / alpha_N) * (1 + r) ** (1 / alpha_N)   # noqa: E731
    s_of = lambda c: c_c / (6 * N_c * B_star) * (1 + r) ** (-1 / alpha_N) * (np.asarray(c, float) / c_c) ** (a_c / alpha_S)   # noqa: E731
    l_of = lambda c: (1 + r) * (N_c / n_of(c)) ** alpha_N   # noqa: E731
    return {"alpha_C_min": a_c, "C_c": c_c, "N": n_of, "S_min": s_of, "L": l_of}


def derived_vs_fitted(implied: dict, alpha_fit, alpha_N: float, a_fit: "AllocationFit | None") -> dict:
    """Appendix B's check: whether α_C^min and a = α_C^min/α_N derived from L(N, S) and B_crit(L)
    (``efficient_law``) lie inside the 95% intervals of the values fitted to the frontier directly
    (``alpha_fit``: a ``PowerLawFit`` of L(C_min); ``a_fit``: the Kaplan reading's ``AllocationFit`` or None).
    Returns ``alpha_inside``, ``a_inside`` (None where not fitted) and ``verdict_ko``/``verdict_en``."""
    derived_a = implied["alpha_C_min"] / alpha_N
    alpha_inside = bool(alpha_fit.alpha_ci[0] <= implied["alpha_C_min"] <= alpha_fit.alpha_ci[1])
    a_inside = None if a_fit is None else bool(a_fit.a_ci[0] <= derived_a <= a_fit.a_ci[1])
    inside_ko = {True: "안에 있습니다", False: "밖에 있습니다"}
    inside_en = {True: "inside", False: "outside"}
    ko = f"기준은 유도한 값이 직접 적합한 값의 95% 구간 안에 있는지입니다. 유도한 $\\alpha_C^\\text{{min}}$은 그 구간 {inside_ko[alpha_inside]}"
    en = (f"The criterion is whether a derived value lies inside the 95% interval of the value fitted directly. The derived "
          f"$\\alpha_C^\\text{{min}}$ lies {inside_en[alpha_inside]} it")
    if a_inside is None:
        ko += ". 직접 적합한 $a$가 없어 $a$는 비교하지 않습니다."
        en += " ($a$ is not compared: the frontier gave no fitted $a$)."
    else:
        ko += f". 유도한 $a$는 그 구간 {inside_ko[a_inside]}."
        en += f"; the derived $a$ lies {inside_en[a_inside]} its interval."
    if alpha_inside and a_inside is not False:
        ko += " 이 기준으로는 세 법칙이 서로 일관됩니다."
        en += " By this criterion the three laws are consistent."
    else:
        ko += " 이 기준으로는 세 법칙이 일관되지 않습니다. 적어도 하나는 이 규모의 경계 근처를 제대로 기술하지 못합니다."
        en += (" By this criterion the three laws are not consistent: at least one of them misdescribes the region near the "
               "frontier at this scale.")
    return {"derived_a": derived_a, "alpha_inside": alpha_inside, "a_inside": a_inside, "verdict_ko": ko, "verdict_en": en}


def data_of_compute(N_e: float, a: float, batch_factor: float = 2.0) -> tuple[float, float]:
    """(k, b) of D(C_min) = k · C_min^b (C_min in PF-days): the tokens compute-efficient training reads,
    D = batch_factor · C_min / (6 N(C_min)) with N(C_min) = N_e · C_min^a (Eq 6.7's definition; training at
    B_crit costs twice the minimum compute, Eq 5.5, hence the factor 2)."""
    return batch_factor * PF_DAY / (6 * N_e), 1 - a


def intersection(L_C: tuple, L_D: tuple, D_of_C: tuple, N_of_C: tuple | None = None) -> dict:
    """§6.3, Fig 15: where L(C_min) = (C_c/C_min)^α_C meets L(D) = (D_c/D)^α_D along D(C_min) = k·C_min^b.

    ``L_C = (C_c in PF-days, α_C)``, ``L_D = (D_c in tokens, α_D)``, ``D_of_C = (k, b)`` (``data_of_compute``),
    ``N_of_C = (N_e, a)`` to report N*. All are straight lines in log–log, so the crossing is closed-form.
    """
    (c_c, a_c), (d_c, a_d), (k, b) = L_C, L_D, D_of_C
    slope_d = a_d * b                                  # L(D(C)) ∝ C^(−α_D b)
    if np.isclose(a_c, slope_d):
        raise ValueError("the two laws are parallel: they never cross")
    log_c = (a_c * np.log(c_c) - a_d * np.log(d_c / k)) / (a_c - slope_d)
    c = float(np.exp(log_c))
    out = {"C_star_pf_days": c, "C_star_flops": c * PF_DAY, "N_star": None, "D_star": float(k * c ** b),
           "L_star": float((c_c / c) ** a_c), "slope_L_C": a_c, "slope_L_D_of_C": slope_d}
    if N_of_C is not None:
        out["N_star"] = float(N_of_C[0] * c ** N_of_C[1])
    return out


def crossing_verdict(point: dict, measured_max: float) -> dict:
    """Where our own L(C_min) and L(D(C_min)) meet (``intersection``'s ``point``), against the largest C_min
    measured (PF-days). The crossing the paper describes (§6.3) lies *ahead*: L(C_min) falls faster than
    L(D(C_min)) (``slope_L_C`` > ``slope_L_D_of_C``) and the two meet above the measured range. Returns
    ``ahead`` and ``verdict_ko``/``verdict_en``."""
    c, sc, sd = point["C_star_pf_days"], point["slope_L_C"], point["slope_L_D_of_C"]
    star = f"C* = {sci(c)} PF-"
    if sc > sd and c > measured_max:
        decades = np.log10(c / measured_max)
        ko = (f"우리 적합으로 같은 계산을 하면 {star}일, L* = {point['L_star']:.2f} nats입니다. 이는 우리가 측정한 가장 큰 계산량보다 "
              f"{decades:.1f} 자릿수 큰 값으로, 이 책의 어떤 실험으로도 검증할 수 없는 외삽입니다. 예측이 아니라 계산 방법을 보이기 "
              "위해 제시한 값입니다.")
        en = (f"The same computation from our fits gives {star}days and L* = {point['L_star']:.2f} nats, {decades:.1f} decades "
              "above the largest compute we measured: an extrapolation no experiment here can test, shown for the method, not "
              "as a prediction.")
        return {"ahead": True, "verdict_ko": ko, "verdict_en": en}
    law_d = f"$L(D(C_\\text{{min}})) \\propto C_\\text{{min}}^{{-{sd:.3f}}}$"
    law_c = f"$L(C_\\text{{min}}) \\propto C_\\text{{min}}^{{-{sc:.3f}}}$"
    slopes_ko, slopes_en = f"{law_d}, {law_c}", f"{law_d} and {law_c}"
    if sc <= sd:
        ko = (f"우리 적합에서는 두 직선이 측정 범위보다 큰 계산량에서 만나지 않습니다. 두 법칙은 {slopes_ko}입니다. 데이터 쪽 법칙이 "
              "더 빨리 떨어지므로 계산량이 늘수록 두 직선은 멀어집니다. 거꾸로 연장하면 측정 범위보다 훨씬 작은 계산량에서 만나지만, "
              "그곳은 두 법칙 모두 측정된 적이 없는 곳이라 그 교점은 의미가 없습니다. 따라서 우리 적합은 계산 효율적인 학습이 데이터 "
              "한계에 부딪히는 지점을 예측하지 않습니다. 이는 우리 규모에서 측정한 지수의 결과일 뿐이며, 논문의 지수로는 두 직선이 "
              "측정 범위 너머에서 만납니다.")
        en = (f"With our fits the two lines do not meet above the range we measured: {slopes_en}, so the data law falls faster "
              "and the lines draw apart as compute grows. Extended backwards they would meet far below our range, where neither "
              "law was measured and the crossing means nothing. Our fits therefore predict no point where compute-efficient "
              "training runs into the data; that follows from exponents measured at our scale, and with the paper's the lines "
              "do meet ahead.")
    else:
        ko = (f"우리 적합에서는 두 직선이 측정 범위 안이나 그 아래({star}일)에서 만납니다({slopes_ko}). 측정한 범위에서 이미 두 "
              "법칙이 어긋난다는 뜻이므로, 이 교점은 외삽이 아니라 두 적합 가운데 하나가 이 범위를 잘못 기술한다는 신호입니다.")
        en = (f"With our fits the two lines meet inside or below the range we measured ({star}days; {slopes_en}): the two laws "
              "already disagree where they were measured, so the crossing is a sign that one of the fits misdescribes this "
              "range, not an extrapolation.")
    return {"ahead": False, "verdict_ko": ko, "verdict_en": en}


# -- what other chapters read -----------------------------------------------------------------

GRIDS = ("frontier", "frontier-quick")       # the chapter reads the first of these that has records


def learning_curve_law(runs: pd.DataFrame, b_crit, n_boot: int = 200) -> tuple[LearningCurveFit, pd.DataFrame]:
    """Eq 1.6 fitted to every point of the Kaplan reading's curves after the warmup, against S_min (Eq 5.4,
    with ``b_crit(L)`` from the critical-batch chapter); the interval resamples whole runs."""
    points = with_min_adjustment(loss_points(runs, "kaplan"), b_crit)
    law = fit_learning_curve(points["N"], points["S_min"], points["loss"], groups=points["run_id"], n_boot=n_boot)
    return law, points


def route_to_alpha_n(folder, n_boot: int = 200) -> dict:
    """Route 3 of the L(N) chapter's "three routes" table: α_N of L(N, S) (S → ∞), once the frontier grid of
    ``folder`` is complete and the critical-batch grid has records; otherwise a ``ValueError`` says why."""
    from pathlib import Path

    from .critical_batch import measured_law
    from .runs import load_grid, require_finished
    folder = Path(folder)
    require_finished(folder)
    runs = load_grid(folder, report=False)
    try:
        batch = measured_law(folder.parent, n_boot=200)
    except FileNotFoundError:
        raise ValueError("S_min needs B_crit(L): the critical-batch grid is not trained yet") from None
    law, points = learning_curve_law(runs, batch["b_crit"], n_boot=n_boot)
    return {"alpha_N": law.alpha_N, "ci": tuple(law.alpha_N_ci),
            "note": f"{law.groups} curves, N = {law.N_range[0]:,.0f} … {law.N_range[1]:,.0f}, B_crit from {batch['grid']}"}


def learning_curve_constants(reference, n_boot: int = 100) -> dict:
    """S_c and α_S for Eq 5.7 in the overfitting chapter: this book's L(N, S) fit when the frontier grid is
    complete and the critical-batch grid has records, else the paper's (Table 3). ``ours`` says which."""
    from pathlib import Path

    from .paper import published
    from .runs import find_grid, load_grid, require_finished
    try:
        folder = find_grid(reference, GRIDS)
        from .critical_batch import measured_law
        require_finished(folder)
        runs = load_grid(folder, report=False)
        law, _ = learning_curve_law(runs, measured_law(Path(reference), n_boot=200)["b_crit"], n_boot=n_boot)
        return {"S_c": law.S_c, "alpha_S": law.alpha_S, "ours": True, "where": f"{folder.name}, L(N, S) fit"}
    except (FileNotFoundError, ValueError, KeyError) as e:
        return {"S_c": published("S_c").value, "alpha_S": published("alpha_S").value, "ours": False,
                "where": published("S_c").where, "why": str(e)}
