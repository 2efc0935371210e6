"""The overfitting chapter's figures (paper §4; Fig 4 left, Fig 9, Fig 16)."""
from __future__ import annotations

import numpy as np

from ..display import sci
from .style import (COLORS, N_LABEL, D_LABEL, _new_axes, _loss_ticks, _finish_loss_axes, _size_colors)


def _marked(ax, x, y, stopped, color):
    """Points filled where the validation minimum came before the run's end (early stopping), open where not."""
    stopped = np.asarray(stopped, bool)
    x, y = np.asarray(x, float), np.asarray(y, float)
    ax.scatter(x[stopped], y[stopped], s=30, color=color, zorder=3)
    ax.scatter(x[~stopped], y[~stopped], s=30, facecolors="white", edgecolors=color, zorder=3)


def _marked_legend(ax, entries, extra=()):
    """One legend entry per colour, then what filled and open points mean (one entry each, not one per colour)."""
    from matplotlib.lines import Line2D

    dot = dict(marker="o", ls="none", markersize=5.5)
    handles = [Line2D([], [], color=c, label=label, **dot) for label, c in entries]
    handles += list(extra)
    handles += [Line2D([], [], color="0.35", label="최솟값이 끝보다 앞 / minimum before the end", **dot),
                Line2D([], [], color="0.35", markerfacecolor="white", label="상한에서 아직 감소 / still falling at cap",
                       **dot)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


def plot_loss_vs_data(table, law, *, ax=None):
    """L against D for each N with the Eq 1.5 curves (Fig 4, left). Filled points: early-stopped runs."""
    fig, ax = _new_axes(ax, figsize=(7, 4.6))
    colors = _size_colors(table["N"].unique())
    grid = np.geomspace(table["D"].min() / 1.3, table["D"].max() * 1.3, 200)
    for n, part in table.groupby("N"):
        _marked(ax, part["D"], part["loss"], part["minimum_inside"], colors[n])
        ax.plot(grid, law.predict(n, grid), color=colors[n], lw=1.1)
    _finish_loss_axes(ax, D_LABEL, "손실 / test loss (nats)")
    _marked_legend(ax, [(f"N = {n:,.0f}", colors[n]) for n in sorted(colors)])
    return fig, ax


def plot_loss_vs_size_by_data(table, law, *, ax=None):
    """L against N for each D with the Eq 1.5 curves and the D → ∞ limit (Fig 9, left)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, ax = _new_axes(ax, figsize=(7, 4.6))
    norm = LogNorm(table["D"].min(), table["D"].max() * 1.0001)
    cmap = plt.get_cmap("viridis")
    grid = np.geomspace(table["N"].min() / 1.3, table["N"].max() * 1.3, 200)
    entries = []
    for d, part in table.groupby("D"):
        color = cmap(norm(d) * 0.9)
        _marked(ax, part["N"], part["loss"], part["minimum_inside"], color)
        ax.plot(grid, law.predict(grid, d), color=color, lw=1.1)
        entries.append((f"D = {sci(d)}", color))
    limit, = ax.plot(grid, law.predict_infinite_data(grid), color="black", lw=1.2, ls="--", label="D → ∞ (식/Eq 1.5)")
    _finish_loss_axes(ax, N_LABEL, "손실 / test loss (nats)")
    _marked_legend(ax, entries, extra=[limit])
    return fig, ax


def plot_penalty_collapse(penalty, law, *, ax=None):
    """The overfitting penalty δL = L(N, D)/L(N, ∞) − 1 against N^(α_N/α_D)/D, with the fitted curve
    (Fig 9, right): if Eq 1.5 holds, every run lies on that one curve whatever its N and D."""
    fig, ax = _new_axes(ax, figsize=(6.4, 4.2))
    colors = _size_colors(penalty["N"].unique())
    for n, part in penalty.groupby("N"):
        ax.scatter(part["x"], part["delta"], s=28, color=colors[n], zorder=3, label=f"N = {n:,.0f}")
    xs = np.geomspace(penalty["x"].min() / 1.5, penalty["x"].max() * 1.5, 200)
    # along the curve, N^(α_N/α_D)/D = x: evaluate at N = 1, D = 1/x
    curve = (1 + law.D_c / law.N_c ** law.ratio * xs) ** law.alpha_D - 1
    ax.plot(xs, curve, color=COLORS["fit"], lw=1.5,
            label=f"(1 + x·D_c/N_c^(α_N/α_D))^α_D − 1, α_N/α_D = {law.ratio:.2f}")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel(f"N^{law.ratio:.2f} / D")
    ax.set_ylabel("δL = L(N, D) / L(N, ∞) − 1")
    ax.legend(fontsize=8)
    return fig, ax


def plot_early_stopping(bound, *, source_label, ax=None):
    """The step of the lowest validation loss (as S_min where the table has it) against the lower bound of
    Eq 5.7 (Fig 16, left)."""
    fig, ax = _new_axes(ax, figsize=(5.6, 4.2))
    colors = _size_colors(bound["N"].unique())
    for n, part in bound.groupby("N"):
        ax.scatter(part["bound"], part["best_S_min"], s=28, color=colors[n], zorder=3, label=f"N = {n:,.0f}")
    lo = min(bound["bound"].min(), bound["best_S_min"].min()) / 2
    hi = max(bound["bound"].max(), bound["best_S_min"].max()) * 2
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="S_stop = 경계 / bound")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    for axis in (ax.xaxis, ax.yaxis):       # steps as plain numbers at 1-2-5, no crowded minor labels
        axis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"S_c / (L(N, D) − L(N, ∞))^(1/α_S)  [{source_label}]")
    ax.set_ylabel("조기 종료 단계 S_min / early-stopping step S_min")
    ax.legend(fontsize=8)
    return fig, ax


def plot_train_vs_test(runs, *, ax=None, x="epoch"):
    """Training and validation curves of a few runs on small subsets (Fig 16, right): solid = validation,
    dotted = training loss, one colour per model size; ``x`` is ``epoch`` (data-constrained view) or ``tokens``."""
    fig, ax = _new_axes(ax, figsize=(6.4, 4.2))
    colors = _size_colors(runs["N"].unique())
    for _, run in runs.iterrows():
        c = [p for p in run["curve"] if p.get("train_loss_ema") is not None]
        xs = [p[x] for p in c]
        color = colors[run["N"]]
        ax.plot(xs, [p["val_loss"] for p in c], color=color, lw=1.4, label=f"{run['run_id']}: 검증 / validation")
        ax.plot(xs, [p["train_loss_ema"] for p in c], color=color, lw=1.1, ls=":", label=f"{run['run_id']}: 학습 / train")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _loss_ticks(ax)
    ax.set_xlabel("에폭 / epochs" if x == "epoch" else "학습 토큰 / tokens processed")
    ax.set_ylabel("손실 / loss (nats)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig, ax
