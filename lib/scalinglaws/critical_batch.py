"""The critical-batch chapter's analysis (paper §5.1, Fig 10, 18, 19; McCandlish et al. 2018).

Input: the run table of a ``batch`` grid (``runs.load_grid``), whose records keep a dense trace (block means
of the training loss with the tokens and steps of each block) and the per-micro-batch gradient norms.

* ``smoothed_trace``: a run's training loss, smoothed by a centred running mean over a fixed number of
  blocks (no lag, unlike the EMA the trainer prints).
* ``steps_to_targets``: the steps S and tokens E at which each run's smoothed training loss first reaches
  each target loss. Every run reads each token once, so the training loss estimates the held-out loss.
* ``tradeoffs``: for each size and target, the hyperbola ``(S/S_min − 1)(E/E_min − 1) = 1`` through the
  runs at different batches (``fit.fit_tradeoff``), giving ``B_crit = E_min/S_min`` with intervals.
* ``critical_batch_law``: ``B_crit(L) = B* / L^(1/α_B)`` (Eq 5.3) fitted to the ``tradeoffs``.
* ``noise_scale_curves``: the simple noise scale B_simple along each run (``analysis.noise_scale``), with
  the smoothed loss at the same steps.
* ``lr_check``: at the batches trained at several LRs, the steps each LR needed to reach each target.
* ``steps_min`` and ``compute_min``: Eq 5.4 and 5.5, what the compute chapter uses.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import first_reach, noise_scale
from .display import sig
from .fit import TradeoffFit, fit_power_law, fit_tradeoff

GRIDS = ("batch", "batch-quick")       # the chapter reads the first of these that has records
SMOOTH_BLOCKS = 9                      # centred running mean over this many trace blocks
TARGET_SPACING = 0.15                   # nats between the rungs of the one target ladder every size shares
MIN_POINTS = 4                          # batches that must cross a target after their warmup for it to be fitted
LR_READING = "fastest"                  # each batch at its fastest LR tried; "rule" reads the square-root rule's LR only


def smoothed_trace(trace: dict, blocks: int = SMOOTH_BLOCKS) -> pd.DataFrame:
    """``step``, ``tokens`` and ``loss`` (the block means of the training loss, centred running mean over
    ``blocks`` blocks; the ends use the blocks there are)."""
    t = pd.DataFrame({k: trace[k] for k in ("step", "tokens", "train_loss")})
    t["loss"] = t["train_loss"].rolling(blocks, center=True, min_periods=1).mean()
    return t[["step", "tokens", "loss"]]


def lr_factor(run_id: str) -> float:
    """The LR multiple of a scan run (``_lrx0.5`` → 0.5; 1 for the rule's own LR)."""
    return float(run_id.rsplit("_lrx", 1)[1]) if "_lrx" in run_id else 1.0


def steps_to_targets(runs: pd.DataFrame, targets, blocks: int = SMOOTH_BLOCKS) -> pd.DataFrame:
    """One row per (run, target): ``S`` steps and ``E`` tokens to first reach the target, with the run's N,
    batch, LR and LR multiple, and its warmup in tokens and steps (``E_warmup``, ``S_warmup``). NaN when the run never reaches the target, and when it was already below it at
    the end of its warmup (``warmup_end_loss``): there the warmup, not the batch, set the steps. ``targets``
    is a list for every run, or a dict {N: list} (``common_targets``)."""
    rows = []
    for _, run in runs.iterrows():
        trace = smoothed_trace(run["trace"], blocks)
        warm = warmup_end_loss(run, blocks)
        wanted = targets.get(run["N"], []) if isinstance(targets, dict) else targets
        warmup_tokens = float(run.get("warmup_tokens", np.nan)) if hasattr(run, "get") else np.nan
        for target in np.atleast_1d(wanted):
            in_warmup = np.isfinite(warm) and float(target) >= warm
            rows.append({"run_id": run["run_id"], "N": run["N"], "batch_tokens": run["batch_tokens"],
                         "lr": run["lr"], "lr_factor": lr_factor(run["run_id"]), "target": float(target),
                         "S": np.nan if in_warmup else first_reach(trace, "step", "loss", target),
                         "E": np.nan if in_warmup else first_reach(trace, "tokens", "loss", target),
                         "E_warmup": warmup_tokens, "S_warmup": warmup_tokens / run["batch_tokens"]})
    return pd.DataFrame(rows)


def warmup_end_loss(run, blocks: int = SMOOTH_BLOCKS) -> float:
    """A run's smoothed training loss where its warmup ends (the first trace block at or past
    ``warmup_tokens``); NaN when the run has no warmup column or never gets there."""
    warmup = run.get("warmup_tokens") if hasattr(run, "get") else None
    if warmup is None or not np.isfinite(float(warmup)):
        return np.nan
    trace = smoothed_trace(run["trace"], blocks)
    after = trace[trace["tokens"] >= float(warmup)]
    return float(after["loss"].iloc[0]) if len(after) else np.nan


def common_targets(runs: pd.DataFrame, spacing: float = TARGET_SPACING, min_points: int = MIN_POINTS,
                   blocks: int = SMOOTH_BLOCKS) -> dict:
    """Target losses for each size: the rungs of one ladder (the multiples of ``spacing`` nats, the same at
    every size, so that a target is read at several N for Fig 19 and the B_crit comparisons of Fig 10) that
    at least ``min_points`` of the size's batches cross after their warmup, at some LR tried: below the run's
    loss at the end of warmup, above its lowest loss. A run gives no point to a rung it crossed during warmup
    or never reached (``steps_to_targets``), so a rung is read from the batches that span it."""
    out = {}
    for n, group in runs.groupby("N"):
        spans = {}
        for _, run in group.iterrows():
            loss = smoothed_trace(run["trace"], blocks)["loss"]
            warm = warmup_end_loss(run, blocks)
            spans.setdefault(run["batch_tokens"], []).append(
                (float(loss.min()), warm if np.isfinite(warm) else float(loss.max())))
        every = [span for batch in spans.values() for span in batch]
        lo, hi = min(a for a, _ in every), max(b for _, b in every)
        rungs = spacing * np.arange(np.ceil(lo / spacing - 1e-9), np.floor(hi / spacing + 1e-9) + 1)
        crossing = lambda r: sum(any(a <= r < b for a, b in batch) for batch in spans.values())
        out[n] = np.round(np.array([r for r in rungs if crossing(r) >= min_points]), 6)
    return out


def fastest_lr(reached: pd.DataFrame) -> pd.DataFrame:
    """One row per (N, batch, target): the LR multiple that reached the target in the fewest steps, the rule's
    own (×1) when no other was tried or none reached it. Each batch at the best rate tried, as McCandlish et
    al. tuned the rate per batch; only the batches of the LR check have a choice."""
    ordered = reached.assign(_S=reached["S"].fillna(np.inf), _other=reached["lr_factor"] != 1.0)
    best = ordered.sort_values(["_S", "_other"]).drop_duplicates(["N", "batch_tokens", "target"])
    return best.drop(columns=["_S", "_other"]).sort_values(["N", "batch_tokens", "target"]).reset_index(drop=True)


def tradeoffs(reached: pd.DataFrame, n_boot: int = 1000, min_points: int = MIN_POINTS,
              lr: str = LR_READING, warmup: str = "counted") -> pd.DataFrame:
    """One row per (N, target) with at least ``min_points`` batches that reached it: the fitted
    ``S_min``, ``E_min``, ``B_crit`` and their 95% intervals, the smallest and largest batch that reached the
    target (``B_lo``, ``B_hi``), how many batches were read at a rate other than the rule's (``other_lr``),
    and whether B_crit lies between them (``inside_scan``; outside, it is an
    extrapolation of the hyperbola). ``lr="fastest"`` (the default, ``LR_READING``) reads each batch at
    its fastest LR tried (``fastest_lr``), as McCandlish et al. tuned the rate per batch: in the ``batch``
    grid the square-root rule's LR overshot at the largest batches, so reading them at the rule's rate would
    inflate their steps and measure the rule, not the batch. ``lr="rule"`` (or 1) reads the rule's LR only,
    and another number the runs at that multiple of it (``0.5``: the grid's second full scan).
    ``warmup="counted"`` counts the steps and tokens from the start of training; ``"excluded"`` from the end
    of the warmup (a sensitivity: the warmup is fixed in tokens, so counting it adds the same tokens to E at
    every batch and raises E_min, while leaving it out credits no batch with what it learnt during it)."""
    if lr == "rule":
        lr = 1.0
    if lr != "fastest" and not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be 'fastest', 'rule' or an LR multiple of the scan, not {lr!r}")
    if warmup not in ("counted", "excluded"):
        raise ValueError(f"warmup must be 'counted' or 'excluded', not {warmup!r}")
    rows = []
    pool = fastest_lr(reached) if lr == "fastest" else reached[np.isclose(reached["lr_factor"], float(lr))]
    if warmup == "excluded":
        pool = pool.assign(S=pool["S"] - pool["S_warmup"], E=pool["E"] - pool["E_warmup"])
        pool = pool.assign(S=pool["S"].where(pool["S"] > 0), E=pool["E"].where(pool["E"] > 0))
    scans = pool[pool["S"].notna()]
    for (n, target), group in scans.groupby(["N", "target"]):
        if len(group) < min_points:
            continue
        fit: TradeoffFit = fit_tradeoff(group["S"], group["E"], n_boot=n_boot)
        b_lo, b_hi = float(group["batch_tokens"].min()), float(group["batch_tokens"].max())
        rows.append({"N": n, "target": target, "points": fit.n, "S_min": fit.S_min, "E_min": fit.E_min,
                     "B_crit": fit.B_crit, "S_min_ci": fit.S_min_ci, "E_min_ci": fit.E_min_ci,
                     "B_crit_ci": fit.B_crit_ci, "rms_log_residual": fit.rms_log_residual,
                     "B_lo": b_lo, "B_hi": b_hi, "inside_scan": bool(b_lo <= fit.B_crit <= b_hi),
                     "other_lr": int((group["lr_factor"] != 1.0).sum()), "lr_reading": lr, "fit": fit})
    return pd.DataFrame(rows)


def critical_batch_law(fits: pd.DataFrame, n_boot: int = 1000):
    """``B_crit(L) = B* / L^(1/α_B)`` (Eq 5.3) over the (N, target) fits whose B_crit lies inside the batches
    that reached the target (``inside_scan``; outside, B_crit extrapolates the hyperbola and is not a
    measurement): a power law of B_crit in L with exponent 1/α_B. Returns ``(alpha_B, alpha_B_ci, B_star,
    power_law_fit)``; ``ValueError`` when fewer than 3 fits are inside."""
    if "inside_scan" in fits:
        fits = fits[fits["inside_scan"].astype(bool)]
    if len(fits) < 3:
        raise ValueError(f"{len(fits)} B_crit values inside the scanned batches: too few for the B_crit(L) law")
    law = fit_power_law(fits["target"], fits["B_crit"], n_boot=n_boot)
    # fit_power_law fits y = (x_c/x)^α, so B_crit = (L_c/L)^a with a = 1/α_B and B* = L_c^a
    a, (a_lo, a_hi) = law.alpha, law.alpha_ci
    return 1 / a, (1 / a_hi, 1 / a_lo), law.x_c ** a, law


READINGS = {     # name: (tradeoffs keywords, Korean label, English label)
    "fastest": ({}, "배치마다 가장 빠른 학습률 (주 읽기)", "each batch at its fastest rate (main)"),
    "rule": ({"lr": 1.0}, "규칙의 학습률만 (×1)", "the rule's rate only (×1)"),
    "half": ({"lr": 0.5}, "규칙의 절반만 (×0.5)", "half the rule's rate only (×0.5)"),
    "after_warmup": ({"warmup": "excluded"}, "워밍업 뒤부터 센 단계와 토큰", "steps and tokens counted after the warmup"),
}


def reading_sensitivity(reached: pd.DataFrame, n_boot: int = 200) -> pd.DataFrame:
    """The law under each of ``READINGS`` (how the steps to a target are read): per reading, the B_crit
    values inside the scan, α_B with its interval (NaN under 3 values), and against the main reading the
    median relative change of B_crit over the (size, target) pairs inside the scan in both."""
    main = None
    rows = []
    for name, (kwargs, ko, en) in READINGS.items():
        fits = tradeoffs(reached, n_boot=n_boot, **kwargs)
        inside = fits[fits["inside_scan"]] if len(fits) else fits
        try:
            alpha, ci, _, _ = critical_batch_law(inside, n_boot=n_boot)
        except ValueError:
            alpha, ci = np.nan, (np.nan, np.nan)
        if main is None:
            main = inside
        both = main.merge(inside, on=["N", "target"], suffixes=("", "_other")) if len(inside) else inside
        shift = float(np.median(both["B_crit_other"] / both["B_crit"] - 1)) if len(both) else np.nan
        rows.append({"reading": name, "label_ko": ko, "label_en": en, "inside": len(inside), "alpha_B": alpha,
                     "alpha_B_ci": ci, "common": len(both), "B_crit_shift": shift})
    return pd.DataFrame(rows)


def noise_scale_curves(runs: pd.DataFrame, window: int = 20, blocks: int = SMOOTH_BLOCKS) -> pd.DataFrame:
    """B_simple along every run at the rule's LR (numerator and denominator smoothed separately over
    ``window`` trace rows with statistics), beside the smoothed training loss at the same step."""
    parts = []
    for _, run in runs[[lr_factor(r) == 1.0 for r in runs["run_id"]]].iterrows():
        ns = noise_scale(run["trace"], window=window)
        if ns.empty:
            continue
        loss = smoothed_trace(run["trace"], blocks).set_index("step")["loss"]
        ns = ns.assign(loss=loss.reindex(ns["step"]).to_numpy(), run_id=run["run_id"], N=run["N"],
                       batch_tokens=run["batch_tokens"])
        parts.append(ns[["run_id", "N", "batch_tokens", "step", "tokens", "loss", "G2", "trace_sigma", "B_simple"]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def noise_to_critical(noise: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """B_simple where the runs of a size reach each target loss (the median over its batches of the value at
    the first step whose smoothed loss is at or below the target), beside that target's fitted B_crit."""
    rows = []
    for _, fit in fits.iterrows():
        values = []
        for _, run in noise[noise["N"] == fit["N"]].groupby("run_id"):
            below = run[(run["loss"] <= fit["target"]) & (run["B_simple"] > 0)]
            if len(below):
                values.append(float(below["B_simple"].iloc[0]))
        b_simple = float(np.median(values)) if values else np.nan
        rows.append({"N": fit["N"], "target": fit["target"], "B_crit": fit["B_crit"], "B_simple": b_simple,
                     "ratio": b_simple / fit["B_crit"], "runs": len(values)})
    return pd.DataFrame(rows)


def noise_tracking(ratio: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> dict:
    """How well B_simple tracks B_crit (``noise_to_critical`` rows): the median ratio B_simple/B_crit and the
    slope of log B_simple against log B_crit, each with a 95% interval from resampling the (size, target)
    rows. "Tracks up to a constant factor" (McCandlish et al.) is the criterion: the slope's interval holds 1
    and excludes 0. Rows of one size share runs, so the intervals are if anything too narrow."""
    r = ratio[(ratio["B_simple"] > 0) & np.isfinite(ratio["B_simple"]) & (ratio["B_crit"] > 0)]
    x, y = np.log(r["B_crit"].to_numpy(float)), np.log(r["B_simple"].to_numpy(float))
    out = {"rows": len(r), "median": float(np.median(np.exp(y - x))) if len(r) else np.nan}
    if len(r) < 3 or np.ptp(x) == 0:
        out.update(median_ci=(np.nan, np.nan), slope=np.nan, slope_ci=(np.nan, np.nan), tracks=False,
                   verdict_ko="비교할 (크기, 목표 손실) 조합이 너무 적어 판단할 수 없습니다.",
                   verdict_en="Too few (size, target) pairs to decide.")
        return out
    rng = np.random.default_rng(seed)
    medians, slopes = [], []
    for _ in range(n_boot):
        i = rng.integers(0, len(r), len(r))
        medians.append(np.median(np.exp(y[i] - x[i])))
        if np.ptp(x[i]) > 0:
            slopes.append(np.polyfit(x[i], y[i], 1)[0])
    slope = float(np.polyfit(x, y, 1)[0])
    lo, hi = (float(v) for v in np.percentile(slopes, [2.5, 97.5]))
    tracks = bool(lo <= 1 <= hi and lo > 0)
    out.update(median_ci=tuple(float(v) for v in np.percentile(medians, [2.5, 97.5])), slope=slope,
               slope_ci=(lo, hi), tracks=tracks)
    if tracks:
        ko = (f"$\\log B_\\text{{simple}}$을 $\\log B_\\text{{crit}}$에 회귀한 기울기는 {slope:.2f} [{lo:.2f}, {hi:.2f}]로, "
              "구간이 1을 포함하고 0은 포함하지 않습니다. 이 기준으로 $B_\\text{simple}$는 상수 배 차이로 "
              "$B_\\text{crit}$을 따라갑니다.")
        en = (f"The slope of $\\log B_\\text{{simple}}$ on $\\log B_\\text{{crit}}$ is {slope:.2f} [{lo:.2f}, {hi:.2f}]: "
              "its interval holds 1 and excludes 0, so by this criterion $B_\\text{simple}$ tracks $B_\\text{crit}$ up "
              "to a constant factor.")
    else:
        ko = (f"$\\log B_\\text{{simple}}$을 $\\log B_\\text{{crit}}$에 회귀한 기울기는 {slope:.2f} [{lo:.2f}, {hi:.2f}]로, "
              "구간이 1을 포함하지 않거나 0을 포함합니다. 이 기준으로는 이 규모에서 $B_\\text{simple}$가 상수 배 차이로 "
              "$B_\\text{crit}$을 따라간다고 말할 수 없습니다.")
        en = (f"The slope of $\\log B_\\text{{simple}}$ on $\\log B_\\text{{crit}}$ is {slope:.2f} [{lo:.2f}, {hi:.2f}]: "
              "its interval misses 1 or holds 0, so by this criterion $B_\\text{simple}$ does not track "
              "$B_\\text{crit}$ up to a constant factor at this scale.")
    out.update(verdict_ko=ko, verdict_en=en)
    return out


def collapse_test(fits: pd.DataFrame) -> dict:
    """Does B_crit depend on the loss alone (Kaplan) or on the tokens trained (Zhang et al. 2024; Bergsma et
    al. 2025)? For each variable (the target loss; E_min, the fewest tokens that reach it) one line of log
    B_crit against its log over every size; ``loss`` and ``tokens`` are the RMS log residuals (≈ relative
    scatter about the line), ``noise`` the median half-width of the B_crit intervals in log units. A
    variable collapses the sizes when its scatter is within that noise and under half the other's."""
    logb = np.log(fits["B_crit"].to_numpy(float))
    out = {}
    for name, column in (("loss", "target"), ("tokens", "E_min")):
        x = np.log(fits[column].to_numpy(float))
        slope, intercept = np.polyfit(x, logb, 1)
        out[name] = float(np.sqrt(np.mean((logb - (slope * x + intercept)) ** 2)))
    out["noise"] = float(np.median([(np.log(hi) - np.log(lo)) / 2 for lo, hi in fits["B_crit_ci"]]))
    out["sizes"] = int(fits["N"].nunique())
    names = {"loss": ("손실", "the loss"), "tokens": ("학습 토큰", "the tokens trained")}
    wins = [k for k, other in (("loss", "tokens"), ("tokens", "loss"))
            if out[k] <= out["noise"] and out[k] < out[other] / 2]
    if out["sizes"] < 2:
        ko, en = "모델 크기가 하나뿐이라 두 가설을 가릴 수 없습니다.", "With one size the question cannot be decided."
    elif wins:
        k = wins[0]
        other = "tokens" if k == "loss" else "loss"
        ko = (f"{names[k][0]}에 대해 그리면 모든 크기가 한 곡선 위에 모입니다. 흩어짐이 $B_\\text{{crit}}$ 95% 구간 "
              f"반폭의 중앙값 이내이고, {names[other][0]}에 대해 그렸을 때의 절반보다 작습니다.")
        en = (f"Against {names[k][1]} the sizes collapse onto one curve: the scatter is within the median half-width "
              f"of the 95% $B_\\text{{crit}}$ intervals and under half of that against {names[other][1]}.")
    else:
        ko = ("어느 변수도 기준을 통과하지 못합니다. 흩어짐이 $B_\\text{crit}$ 95% 구간 반폭의 중앙값보다 크거나, "
              "두 변수의 흩어짐이 두 배 넘게 차이 나지 않습니다. 이 규모에서 우리가 쓴 모델 크기들로는 두 가설 가운데 하나를 "
              "가릴 만큼 강한 증거가 나오지 않습니다.")
        en = ("Neither variable passes: the scatter exceeds the median half-width of the $B_\\text{crit}$ intervals, "
              "or the two differ by less than a factor of 2. Our sizes, at this scale, do not give evidence strong enough to decide.")
    out.update(verdict_ko=ko, verdict_en=en)
    return out


def lr_check(reached: pd.DataFrame) -> pd.DataFrame:
    """At each (N, batch) trained at several LRs: for each target, the steps at each LR multiple, the best
    multiple, and how many more steps the rule's LR (×1) needed than the best (``excess``: 0 when ×1 won,
    inf when ×1 never reached a target another multiple reached; NaN when none did)."""
    rows = []
    for (n, batch, target), group in reached.groupby(["N", "batch_tokens", "target"]):
        if group["lr_factor"].nunique() < 2:
            continue
        steps = group.set_index("lr_factor")["S"]
        reached_any = steps.notna().any()
        rule = steps.get(1.0, np.nan)
        excess = (np.inf if np.isnan(rule) else rule / steps.min() - 1) if reached_any else np.nan
        rows.append({"N": n, "batch_tokens": batch, "target": target, **{f"S_x{f:g}": s for f, s in steps.items()},
                     "best_factor": steps.idxmin() if reached_any else np.nan, "excess": excess})
    return pd.DataFrame(rows)


def lr_check_summary(check: pd.DataFrame) -> pd.DataFrame:
    """The LR check per (N, batch) (``lr_check`` rows): over the targets some rate reached, the multiple
    that was fastest most often (``best_factor``; ties go to the smaller multiple), how often (``wins``, of
    ``targets``), and the rule's median extra steps over the fastest (``rule_excess``; a target the rule
    never reached counts as infinitely many)."""
    columns = ["N", "batch_tokens", "targets", "best_factor", "wins", "rule_excess"]
    if check.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (n, batch), group in check[check["best_factor"].notna()].groupby(["N", "batch_tokens"]):
        counts = group["best_factor"].value_counts().sort_index()
        rows.append({"N": n, "batch_tokens": batch, "targets": len(group), "best_factor": float(counts.idxmax()),
                     "wins": int(counts.max()), "rule_excess": float(np.median(group["excess"]))})
    return pd.DataFrame(rows, columns=columns)


def lower_rate_counts(summary: pd.DataFrame, split: float) -> dict:
    """How often a rate below the rule's (a multiple < 1) was fastest to most targets (``lr_check_summary``
    rows), among the (size, batch) cells with a batch above ``split`` tokens and among those at or below it:
    ``{"above": (cells it won, cells), "below": (...)}``. With ``split`` at the critical batch this tests
    McCandlish et al.'s prediction that the best rate stops growing with the batch above the noise scale."""
    lower = summary["best_factor"] < 1
    above = summary["batch_tokens"] > split
    return {"above": (int((lower & above).sum()), int(above.sum())),
            "below": (int((lower & ~above).sum()), int((~above).sum()))}


def lower_rate_verdict(summary: pd.DataFrame, split: float) -> dict:
    """``lower_rate_counts`` worded (``verdict_ko``/``verdict_en``; empty where a side has no cell), with
    McCandlish et al.'s ε_opt(B) named when lower rates win more often above ``split`` than at or below it."""
    counts = lower_rate_counts(summary, split) if len(summary) and np.isfinite(split) else None
    if not (counts and counts["above"][1] and counts["below"][1]):
        return {"counts": counts, "verdict_ko": "", "verdict_en": ""}
    (ka, na), (kb, nb) = counts["above"], counts["below"]
    ko = (f"규칙보다 낮은 학습률이 대부분의 목표 손실에서 가장 빨랐던 (크기, 배치) 칸은, 스캔 안 $B_\\text{{crit}}$의 중앙값"
          f"({split:,.0f} 토큰)보다 큰 배치에서 {na}칸 가운데 {ka}칸, 그 이하의 배치에서 {nb}칸 가운데 {kb}칸입니다.")
    en = (f"A rate below the rule's was the fastest to most targets in {ka} of the {na} (size, batch) cells with a batch "
          f"above the median $B_\\text{{crit}}$ inside the scan ({split:,.0f} tokens), and in {kb} of the {nb} at or below it.")
    if ka / na > kb / nb:
        ko += (" McCandlish 등이 SGD에 대해 유도한 모형에서 최적 학습률은 $\\epsilon_\\text{opt}(B) = "
               "\\epsilon_\\text{max}/(1 + B_\\text{noise}/B)$로, 배치가 잡음 척도를 넘어서면 더 이상 커지지 않습니다. 반면 "
               "제곱근 규칙은 학습률을 계속 키우므로, 큰 배치에서 규칙의 학습률이 지나치게 높은 것은 이 모형의 예측과 맞습니다.")
        en += (" In the model McCandlish et al. derived for SGD, the best rate, $\\epsilon_\\text{opt}(B) = "
               "\\epsilon_\\text{max}/(1 + B_\\text{noise}/B)$, stops growing once the batch exceeds the noise scale, while "
               "the square-root rule keeps raising it: a rule too high at large batches is what that model predicts.")
    return {"counts": counts, "verdict_ko": ko, "verdict_en": en}


def diverged_verdict(diverged: pd.DataFrame, runs: pd.DataFrame) -> dict:
    """The runs the divergence guard stopped (``runs.diverged_table``), each with its warmup and peak LR and
    the runs its (size, batch) is read from instead, worded (``verdict_ko``/``verdict_en``)."""
    parts_ko, parts_en = [], []
    for _, r in diverged.iterrows():
        other = runs[(runs["N"] == r["N"]) & (runs["batch_tokens"] == r["batch_tokens"])]["run_id"].tolist()
        listed = ", ".join(f"`{o}`" for o in other)
        parts_ko.append(f"`{r['run_id']}`(워밍업 {r['warmup_steps']:.0f}단계, 최대 학습률 {sig(r['lr'])}"
                        + (f"; 이 배치는 {listed} 실행에서 읽습니다)" if other else "; 이 배치는 빠집니다)"))
        parts_en.append(f"`{r['run_id']}` ({r['warmup_steps']:.0f} warmup steps, peak LR {sig(r['lr'])}; "
                        + (f"the batch is read from {listed})" if other else "the batch is left out)"))
    if not len(diverged):
        return {"verdict_ko": "발산한 실행은 없습니다.", "verdict_en": "No run diverged."}
    return {"verdict_ko": f"실행 {len(diverged)}개가 발산 감지에 걸려 중단되었습니다: {', '.join(parts_ko)}. 발산도 그 설정이 "
                          "낳은 결과이므로 다시 학습하지 않습니다.",
            "verdict_en": f"{len(diverged)} run(s) were stopped by the divergence guard: {'; '.join(parts_en)}. A divergence "
                          "is a result of its configuration, so it is not retrained."}


TURN_UP = 2.0    # B_crit at a size's highest target this many times its smallest: "turns up again"


def turn_up_verdict(fits: pd.DataFrame, factor: float = TURN_UP) -> dict:
    """Where the warmup weighs most (a size's highest targets): the sizes (with at least 3 targets) whose
    B_crit at the highest target is at least ``factor`` times their smallest, worded (empty when none)."""
    turn = {n: float(g.sort_values("target")["B_crit"].iloc[-1] / g["B_crit"].min())
            for n, g in fits.groupby("N") if len(g) >= 3}
    turned = {n: r for n, r in turn.items() if r >= factor}
    if not turned:
        return {"turned": turned, "verdict_ko": "", "verdict_en": ""}
    return {"turned": turned,
            "verdict_ko": f"실제로 {', '.join(f'N = {n:,.0f}' for n in turned)}에서는 가장 높은 목표 손실의 $B_\\text{{crit}}$이 "
                          f"그 크기의 최솟값보다 {min(turned.values()):.1f}배 이상 크며, 그림 10에서 높은 손실 쪽의 "
                          "$B_\\text{crit}$이 다시 올라갑니다.",
            "verdict_en": f"Indeed at {' and '.join(f'N = {n:,.0f}' for n in turned)} the $B_\\text{{crit}}$ of the highest target "
                          f"is at least {min(turned.values()):.1f}× the size's smallest, and in Fig 10 $B_\\text{{crit}}$ turns up "
                          "again at high losses."}


def sensitivity_verdict(sens: pd.DataFrame) -> dict:
    """Whether the LR check explains the rule-only reading (``reading_sensitivity`` indexed by reading):
    said only when the ×0.5 scan agrees with the main reading (its interval holds the main α_B) and the
    rule's reading is flatter (its interval lies below the main α_B)."""
    main, rule, half = (sens.loc[k] for k in ("fastest", "rule", "half"))
    agree = bool(half["alpha_B_ci"][0] <= main["alpha_B"] <= half["alpha_B_ci"][1])
    flatter = bool(rule["alpha_B_ci"][1] < main["alpha_B_ci"][0] or rule["alpha_B_ci"][1] < main["alpha_B"])
    if agree and flatter:
        ko = ("×0.5 스캔만 읽어도 주 읽기와 비슷한 $\\alpha_B$가 나오지만, 규칙의 학습률(×1)만 읽으면 $\\alpha_B$가 눈에 띄게 "
              "작아집니다. 학습률 점검에서 보았듯 규칙의 학습률은 큰 배치에서 너무 높아 그 배치의 단계 수를 부풀립니다. 그러면 "
              "$S_\\text{min}$이 커지고 $B_\\text{crit}$이 작게 추정되는데, 큰 배치가 쌍곡선을 정하는 낮은 손실에서 이 효과가 "
              "가장 커서 $B_\\text{crit}(L)$의 기울기가 완만해집니다.")
        en = ("Reading the ×0.5 scan alone gives an $\\alpha_B$ close to the main reading's, while the rule's rate alone (×1) "
              "gives a clearly smaller one. As the LR check showed, the rule's rate is too high at large batches and inflates "
              "their steps; that raises $S_\\text{min}$ and lowers $B_\\text{crit}$, most at the low losses where the large "
              "batches set the hyperbola, and so flattens $B_\\text{crit}(L)$.")
    else:
        ko = ("세 학습률 읽기의 $\\alpha_B$는 위 표와 같습니다. 이 기록에서는 읽는 방식의 차이를 한 가지 원인으로 설명할 만큼 "
              "뚜렷한 양상이 보이지 않습니다.")
        en = ("The three LR readings give the $\\alpha_B$ of the table above; in these records the differences show no pattern "
              "clear enough to trace to one cause.")
    return {"agree": agree, "flatter": flatter, "verdict_ko": ko, "verdict_en": en}


def lr_check_verdict(check: pd.DataFrame) -> dict:
    """What the LR check found, counted and worded (Korean, English): comparisons, how often the rule's LR
    was the fastest, the most extra steps it needed where it was not, and targets it never reached."""
    if check.empty:
        ko = ("이 그리드에는 다른 학습률로 학습한 실행이 없어 여기서는 규칙을 점검하지 않습니다(빠른 그리드에는 이 "
              "점검이 빠져 있습니다).")
        en = "This grid has no runs at other learning rates, so the rule is not checked here (the quick grid leaves it out)."
        return {"n": 0, "rule_best": 0, "excess_max": np.nan, "rule_missed": 0, "verdict_ko": ko, "verdict_en": en}
    n = len(check)
    rule_best = int((check["best_factor"] == 1.0).sum())
    excess = check["excess"].to_numpy(float)
    missed = int(np.isinf(excess).sum())
    others = excess[np.isfinite(excess) & (excess > 0)]
    worst = 100 * float(others.max()) if len(others) else np.nan
    ko = f"비교한 (크기, 배치, 목표 손실) {n}건 가운데 규칙의 학습률이 가장 빨랐던 경우는 {rule_best}건입니다."
    en = f"Of {n} (size, batch, target) comparisons, the rule's rate was the fastest in {rule_best}."
    if len(others):
        ko += f" 그렇지 않은 경우에는 규칙의 학습률이 가장 빠른 학습률보다 단계 수가 최대 {worst:.0f}% 더 필요했습니다."
        en += f" Where it was not, it needed at most {worst:.0f}% more steps than the fastest."
    if missed:
        ko += f" {missed}건에서는 다른 학습률이 도달한 목표 손실에 규칙의 학습률이 끝내 도달하지 못했습니다."
        en += f" In {missed}, the rule's rate never reached a target that another rate reached."
    return {"n": n, "rule_best": rule_best, "excess_max": worst, "rule_missed": missed, "verdict_ko": ko,
            "verdict_en": en}


def steps_min(steps, batch, b_crit):
    """Eq 5.4: the fewest steps that reach the same loss, S_min = S / (1 + B_crit/B), of S steps at batch B."""
    return np.asarray(steps, float) / (1 + np.asarray(b_crit, float) / np.asarray(batch, float))


def compute_min(compute, batch, b_crit):
    """Eq 5.5: the least compute that reaches the same loss, C_min = C / (1 + B/B_crit), of C at batch B."""
    return np.asarray(compute, float) / (1 + np.asarray(batch, float) / np.asarray(b_crit, float))


def measured_law(reference, n_boot: int = 1000) -> dict:
    """The critical-batch law of this book's batch grid, for other chapters: the first of ``GRIDS`` under
    ``reference`` that has records is read as the critical-batch chapter reads it, once every run of it has a
    result (``ValueError`` while it trains). Returns ``alpha_B``, its interval, ``B_star``, ``grid`` and
    ``b_crit`` (a function of the loss, tokens)."""
    from .runs import find_grid, load_grid, require_finished
    folder = find_grid(reference, GRIDS)
    try:
        require_finished(folder)
    except ValueError as e:
        raise ValueError(f"{folder.name}: {e}") from None
    runs = load_grid(folder, report=False)
    fits = tradeoffs(steps_to_targets(runs, common_targets(runs)), n_boot=n_boot)
    try:
        alpha_b, ci, b_star, _ = critical_batch_law(fits, n_boot=n_boot)
    except ValueError as e:
        raise ValueError(f"{folder.name}: {e}") from None
    return {"alpha_B": alpha_b, "alpha_B_ci": ci, "B_star": b_star, "grid": folder.name,
            "loss_range": (float(fits["target"].min()), float(fits["target"].max())),
            "b_crit": lambda loss: b_star / np.asarray(loss, float) ** (1 / alpha_b)}
