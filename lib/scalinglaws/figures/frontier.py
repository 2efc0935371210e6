"""The compute-frontier chapter's figures (paper §5–6; Fig 2, 3, 4 right, 11–15)."""
from __future__ import annotations

import numpy as np

from ..display import sci
from ..frontier import READING_TITLES
from .style import (COLORS, N_LABEL, PF_DAYS_LABEL, CMIN_LABEL, setup_style, _new_axes, _decade_ticks,
                    _finish_loss_axes, _size_colors)


READING_STYLE = {"kaplan": dict(color="#7b4ea3", marker="s", label=READING_TITLES["kaplan"]),
                 "cooldown": dict(color="#1f5fa8", marker="o", label=READING_TITLES["cooldown"])}


def _legend(ax, **kwargs):
    """A legend where the axes has labelled artists (a grid with too few sizes may draw none)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def plot_frontier_curves(points, envelope=None, fit=None, *, axes=None, pf_day=8.64e19):
    """Fig 2: every size's learning curve against tokens (left) and compute (right, PF-days), with the lower
    envelope and its L(C) fit on the right."""
    import matplotlib.pyplot as plt

    setup_style()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    else:
        fig = axes[0].figure
    colors = _size_colors(points["N"].unique())
    for n, part in points.groupby("N"):
        axes[0].plot(part["tokens"], part["loss"], color=colors[n], lw=1.2, label=f"N = {n:,.0f}")
        axes[1].plot(part["C"] / pf_day, part["loss"], color=colors[n], lw=1.2)
    if envelope is not None:
        axes[1].plot(envelope["C"] / pf_day, envelope["loss"], color="black", lw=2.2, alpha=0.35,
                     label="포락선 / envelope")
    if fit is not None:
        grid = np.geomspace(fit.x_min, fit.x_max, 50)
        axes[1].plot(grid / pf_day, fit.predict(grid), color=COLORS["fit"], lw=1.4, ls="--",
                     label=f"L(C) fit: α_C = {fit.alpha:.3f} [{fit.alpha_ci[0]:.3f}, {fit.alpha_ci[1]:.3f}]")
    _finish_loss_axes(axes[0], "학습 토큰 / tokens processed", "검증 손실 / validation loss (nats)")
    _finish_loss_axes(axes[1], PF_DAYS_LABEL, "")
    _legend(axes[0], fontsize=7.5, ncol=2)
    _legend(axes[1], fontsize=8)
    return fig, axes


def plot_isoflop(table, optima, *, ax=None, every: int = 2):
    """IsoFLOP profiles: loss against N at fixed budgets (every ``every``-th budget), the optimum of each
    (star; open when on the grid's edge)."""
    import matplotlib.pyplot as plt

    fig, ax = _new_axes(ax, figsize=(6.8, 4.4))
    cmap = plt.get_cmap("viridis")
    rows = list(range(0, len(table), every))
    for k, i in enumerate(rows):
        c = table.index[i]
        row = table.iloc[i].dropna()
        color = cmap(0.9 * k / max(1, len(rows) - 1))
        ax.plot(row.index, row.to_numpy(), "o-", color=color, ms=3.5, lw=1, label=f"C = {sci(c)} FLOPs")
        match = optima[np.isclose(optima["C"], c)]
        if match.empty:                     # a budget without an optimum (every size's loss missing there)
            continue
        opt = match.iloc[0]
        ax.scatter([opt["N_opt"]], [opt["L_opt"]], marker="*", s=110, zorder=4,
                   facecolors="none" if opt["on_edge"] else color, edgecolors=color)
    ax.set_xscale("log")
    _decade_ticks(ax)
    ax.set_xlabel(N_LABEL)
    ax.set_ylabel("검증 손실 / validation loss (nats)")
    _legend(ax, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig, ax


def plot_compute_laws(envelopes: dict, fits: dict, *, lump=None, ax=None, pf_day=8.64e19):
    """Fig 13: the frontier against C (fixed batch) and against C_min, each with its fit; ``lump`` marks the
    compute where the paper's frontier had its 1→2-layer lump (PF-days)."""
    fig, ax = _new_axes(ax, figsize=(6.6, 4.3))
    styles = {"C": ("#7b4ea3", "C (고정 배치 / fixed batch)"), "C_min": ("#1f5fa8", "C_min (식 5.5 / Eq 5.5)")}
    for key, env in envelopes.items():
        color, label = styles[key]
        ax.scatter(env["x"] / pf_day, env["loss"], s=14, color=color, alpha=0.7, label=label)
        fit = fits.get(key)
        if fit is not None:
            grid = np.geomspace(fit.x_min, fit.x_max, 50)
            ax.plot(grid / pf_day, fit.predict(grid), color=color, lw=1.4,
                    label=f"α = {fit.alpha:.3f} [{fit.alpha_ci[0]:.3f}, {fit.alpha_ci[1]:.3f}]")
    if lump is not None:
        ax.axvline(lump, color=COLORS["paper"], ls=":", lw=1.2)
        ax.annotate("논문의 1→2층 '혹' / paper's 1→2-layer lump", (lump, ax.get_ylim()[1]), rotation=90, va="top",
                    ha="right", fontsize=7.5, color="#555555")
    _finish_loss_axes(ax, PF_DAYS_LABEL, "검증 손실 / validation loss (nats)")
    _legend(ax, fontsize=8)
    return fig, ax


def plot_optimal_sizes(rows: dict, *, reference=None, ax=None, pf_day=8.64e19, xlabel=PF_DAYS_LABEL,
                       ylabel="최적 크기 N_opt / compute-optimal size N_opt"):
    """Fig 14 left: N_opt against compute for each reading, with 95% intervals (edge budgets hollow, not
    fitted) and each fit; ``reference`` = (slope, label) draws a slope through our points."""
    fig, ax = _new_axes(ax, figsize=(6.6, 4.4))
    every_x, every_y = [], []
    for reading, (optima, fit) in rows.items():
        style = READING_STYLE[reading]
        x = optima["C"].to_numpy(float) / pf_day
        y = optima["N_opt"].to_numpy(float)
        lo = y - np.array([c[0] for c in optima["N_opt_ci"]])
        hi = np.array([c[1] for c in optima["N_opt_ci"]]) - y
        edge = optima["on_edge"].to_numpy(bool)
        ax.errorbar(x[~edge], y[~edge], yerr=[np.nan_to_num(lo[~edge]), np.nan_to_num(hi[~edge])], fmt=style["marker"],
                    ms=5, color=style["color"], capsize=2, label=style["label"])
        ax.scatter(x[edge], y[edge], marker=style["marker"], s=26, facecolors="none", edgecolors=style["color"],
                   label=f"{style['label']}: 경계 / on the edge")
        if fit is not None:
            grid = np.geomspace(fit.C_min, fit.C_max, 40) / pf_day
            ax.plot(grid, fit.N_e * grid ** fit.a, color=style["color"], lw=1.3,
                    label=f"a = {fit.a:.2f} [{fit.a_ci[0]:.2f}, {fit.a_ci[1]:.2f}]")
        every_x += list(x[~edge])
        every_y += list(y[~edge])
    if reference is not None and every_x:
        slope, label = reference
        x0, y0 = np.exp(np.mean(np.log(every_x))), np.exp(np.mean(np.log(every_y)))
        grid = np.geomspace(min(every_x), max(every_x), 20)
        ax.plot(grid, y0 * (grid / x0) ** slope, color=COLORS["paper"], ls="--", lw=1.2, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _legend(ax, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig, ax


def plot_learning_curve_fit(points, law, *, ax=None, x="S_min"):
    """Fig 4 right: loss against S_min for every size, with L(N, S) drawn for each."""
    fig, ax = _new_axes(ax, figsize=(6.6, 4.3))
    colors = _size_colors(points["N"].unique())
    for n, part in points.groupby("N"):
        part = part.sort_values(x)
        ax.plot(part[x], part["loss"], "o", ms=2.5, color=colors[n], alpha=0.6)
        grid = np.geomspace(part[x].min(), part[x].max(), 60)
        ax.plot(grid, law.predict(n, grid), color=colors[n], lw=1.2, label=f"N = {n:,.0f}")
    _finish_loss_axes(ax, "최소 단계 S_min / minimum steps S_min", "검증 손실 / validation loss (nats)")
    _legend(ax, fontsize=7.5, ncol=2)
    return fig, ax


def plot_fixed_compute_and_steps(points, predict, *, compute_levels, step_levels, batch, axes=None, pf_day=8.64e19):
    """Fig 11: loss against N at fixed compute (left) and at fixed steps (right): measured points (read off
    the curves) and the L(N, S) prediction ``predict(N, steps)`` (lines)."""
    import matplotlib.pyplot as plt

    from ..frontier import losses_at_levels

    setup_style()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    else:
        fig = axes[0].figure
    cmap = plt.get_cmap("viridis")
    sizes = sorted(points["N"].unique())
    grid = np.geomspace(min(sizes), max(sizes), 60)
    for panel, levels, column in ((0, compute_levels, "C"), (1, step_levels, "steps")):
        read = losses_at_levels(points, column, levels)
        for k, level in enumerate(levels):
            color = cmap(0.9 * k / max(1, len(levels) - 1))
            measured = read[read["level"] == float(level)]
            if len(measured):
                axes[panel].plot(measured["N"], measured["loss"], "o", ms=4, color=color)
            steps = level / (6 * grid * batch) if column == "C" else np.full_like(grid, level)
            label = f"C = {level / pf_day:.1g} PF-days" if column == "C" else f"S = {level:,.0f}"
            axes[panel].plot(grid, predict(grid, steps), color=color, lw=1.1, label=label)
    for ax in axes:
        ax.set_xscale("log")
        _decade_ticks(ax)
        ax.set_xlabel(N_LABEL)
        _legend(ax, fontsize=7.5)
    axes[0].set_ylabel("검증 손실 / validation loss (nats)")
    return fig, axes


def plot_excess(curves: dict, *, axes=None):
    """Fig 12: extra compute (left) and the steps (right) of a model N/N_eff times the efficient size, per
    set of exponents (``curves``: label -> (ratio, steps, compute))."""
    import matplotlib.pyplot as plt

    setup_style()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    else:
        fig = axes[0].figure
    for (label, (ratio, steps, compute)), color in zip(curves.items(), (COLORS["ours"], COLORS["paper"], COLORS["alt"])):
        ls = "--" if "paper" in label or "논문" in label else "-"
        axes[0].plot(ratio, compute - 1, color=color, ls=ls, label=label)
        axes[1].plot(ratio, steps, color=color, ls=ls, label=label)
    axes[0].set_ylabel("추가 계산량 C/C_eff − 1 / excess compute")
    axes[1].set_ylabel("단계 비 S/S_eff / steps ratio")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("N / N_eff")
        ax.axvline(1, color="#999999", lw=0.8)
        _legend(ax, fontsize=8)
    return fig, axes


def plot_intersection(lines: dict, *, measured=None, ax=None):
    """Fig 15: L(C_min) and L(D(C_min)) extrapolated (``lines``: label -> (C grid in PF-days, L_C, L_D, point)),
    with the crossing of each pair and the range our runs measured (shaded)."""
    fig, ax = _new_axes(ax, figsize=(7.0, 4.4))
    for (label, (grid, l_c, l_d, point)), color in zip(lines.items(), (COLORS["ours"], COLORS["paper"])):
        ls = "--" if "paper" in label or "논문" in label else "-"
        ax.plot(grid, l_c, color=color, ls=ls, lw=1.5, label=f"{label}: L(C_min)")
        ax.plot(grid, l_d, color=color, ls=ls, lw=1.0, alpha=0.6, label=f"{label}: L(D(C_min))")
        if point is not None:
            ax.scatter([point["C_star_pf_days"]], [point["L_star"]], s=60, marker="X", color=color, zorder=4)
    if measured is not None:
        ax.axvspan(*measured, color=COLORS["ours"], alpha=0.12, label="측정 범위 / our measured range")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(CMIN_LABEL)
    ax.set_ylabel("손실 / loss (nats)")
    _legend(ax, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig, ax


def plot_readings(runs, sizes, *, axes=None):
    """Two readings of one size: the Kaplan run's curve (its cosine ends at the grid's horizon), the constant-LR
    run's own curve, and the cooldown branches (the loss of a run of each budget), one panel per size."""
    import matplotlib.pyplot as plt

    setup_style()
    if axes is None:
        fig, axes = plt.subplots(1, len(sizes), figsize=(3.8 * len(sizes), 3.8), sharey=True)
    else:
        fig = axes[0].figure
    axes = np.atleast_1d(axes)
    for ax, size in zip(axes, sizes):
        kap = runs[runs["run_id"] == f"{size}_kaplan"]
        cool = runs[runs["run_id"] == f"{size}_cooldown"]
        if len(kap):
            c = kap.iloc[0]["curve"]
            ax.plot([p["tokens"] for p in c], [p["val_loss"] for p in c], color=READING_STYLE["kaplan"]["color"],
                    lw=1.4, label="코사인, 공통 수평선 / cosine, shared horizon")
        if len(cool):
            c = cool.iloc[0]["curve"]
            ax.plot([p["tokens"] for p in c], [p["val_loss"] for p in c], color="#999999", lw=1.0, ls="--",
                    label="고정 학습률 / constant LR")
            branches = cool.iloc[0]["cooldowns"] or []
            ax.plot([b["tokens"] for b in branches], [b["val_loss"] for b in branches], "o",
                    color=READING_STYLE["cooldown"]["color"], ms=5, label="쿨다운 끝 / cooldown ends")
        ax.set_title(size)
        _finish_loss_axes(ax, "학습 토큰 / tokens processed", "")
        ax.set_xlim(left=1e5)
    axes[0].set_ylabel("검증 손실 / validation loss (nats)")
    _legend(axes[0], fontsize=7.5)
    return fig, axes


def plot_allocation(alloc, *, paper_exponents=None, ax=None, pf_day=8.64e19):
    """Fig 3 and Fig 14 right: how the compute-efficient model's size, critical batch and minimum steps grow
    with C_min, each as a multiple of its value at the smallest interior budget; ``paper_exponents`` =
    {quantity: exponent} draws the paper's growth (dashed) from the same start."""
    fig, ax = _new_axes(ax, figsize=(6.6, 4.3))
    use = alloc[~alloc["on_edge"]].sort_values("C_min")
    if use.empty:
        return fig, ax
    x = use["C_min"].to_numpy(float) / use["C_min"].iloc[0]
    styles = {"N_opt": ("#1f5fa8", "모델 크기 / model size N_opt"), "B_crit": ("#2a9d3f", "배치 / batch B_crit"),
              "S_min": ("#c0392b", "직렬 단계 / serial steps S_min")}
    for column, (color, label) in styles.items():
        y = use[column].to_numpy(float) / use[column].iloc[0]
        ax.plot(x, y, "o-", color=color, ms=4, label=label)
        if paper_exponents and column in paper_exponents:
            ax.plot(x, x ** paper_exponents[column], color=color, ls="--", lw=1,
                    label=f"논문 / paper: C_min^{paper_exponents[column]:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("최소 계산량의 배수 / multiple of the smallest C_min")
    ax.set_ylabel("처음 값의 배수 / multiple of its first value")
    _legend(ax, fontsize=7.5)
    return fig, ax
