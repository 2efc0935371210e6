"""The L(N) chapter's figures (paper §3; Fig 1 right, Fig 6)."""
from __future__ import annotations

import numpy as np

from .style import (COLORS, DEPTH_COLORS, _new_axes, _decade_ticks, _loss_ticks, _reference_slope, _finish_loss_axes,
                    draw_baselines)


def plot_power_law(x, y, fit=None, *, ax=None, xlabel="", ylabel="손실 / test loss (nats)", label="ours",
                   color=None, fit_label=None, reference_slope=None, reference_label=None, point_labels=None):
    """Points, our fitted line, and optionally a labelled reference *slope* (e.g. a paper exponent).

    The reference line only shows a slope: it passes through the geometric mean of our points,
    because the paper's scale constants belong to another tokenizer and corpus.
    """
    fig, ax = _new_axes(ax)
    x, y = np.asarray(x, float), np.asarray(y, float)
    color = color or COLORS["ours"]
    ax.scatter(x, y, s=36, color=color, zorder=3, label=label)
    if point_labels is not None:
        for xi, yi, text in zip(x, y, point_labels):
            ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(4, 5), fontsize=7, color="#555555")
    grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 100)
    if fit is not None:
        ax.plot(grid, fit.predict(grid), color=COLORS["fit"], lw=1.6,
                label=fit_label or f"fit: α = {fit.alpha:.3f} [{fit.alpha_ci[0]:.3f}, {fit.alpha_ci[1]:.3f}]")
    if reference_slope is not None:
        _reference_slope(ax, x, y, grid, reference_slope, reference_label)
    _finish_loss_axes(ax, xlabel, ylabel)
    ax.legend(loc="upper right")
    return fig, ax


def plot_loss_by_depth(df, *, x="N_total", ax=None, xlabel="", ylabel="손실 / test loss (nats)"):
    """Fig 6 style: loss against a parameter count, one colour per depth."""
    fig, ax = _new_axes(ax)
    depths = sorted(df["n_layer"].unique())
    for i, depth in enumerate(depths):
        part = df[df["n_layer"] == depth].sort_values(x)
        ax.plot(part[x], part["val_loss"], "o-", color=DEPTH_COLORS[i % len(DEPTH_COLORS)], ms=6, lw=1,
                label=f"{depth}층 / {depth} layer{'s' if depth > 1 else ''}")
    ax.set_xscale("log")
    _decade_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right")
    return fig, ax


def plot_learning_curves(curves, *, x="tokens", y="val_loss", ax=None, xlabel="학습 토큰 / tokens processed",
                         ylabel="검증 손실 / validation loss (nats)"):
    """Learning curves of a size sweep, coloured by N on a log scale (Fig 2 style)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, ax = _new_axes(ax)
    norm = LogNorm(curves["N"].min(), curves["N"].max())
    cmap = plt.get_cmap("plasma")
    for _, part in curves.groupby("N"):
        ax.plot(part[x], part[y], color=cmap(norm(part["N"].iloc[0]) * 0.85), lw=1.4)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="N (비임베딩 / non-embedding)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _loss_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def plot_accounting_shares(runs, *, ax=None):
    """What C = 6N leaves out: the embedding share of parameters, the head and attention shares of compute."""
    fig, ax = _new_axes(ax)
    total = runs["flops_head_attn"]
    ax.plot(runs["N"], runs["N_embedding"] / runs["N_total"], "o-", label="매개변수 중 임베딩 비율 / embedding share of parameters")
    ax.plot(runs["N"], (runs["flops_head"] - runs["flops_6N"]) / total, "s-",
            label="계산량 중 출력층 비율 / head share of compute")
    ax.plot(runs["N"], (total - runs["flops_head"]) / total, "^-", label="계산량 중 어텐션 비율 / attention share of compute")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("비임베딩 매개변수 N / non-embedding parameters N")
    ax.set_ylabel("비율 / share")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return fig, ax


def plot_size_law(sizes, pure, offset, *, shorter=None, baselines=None, reference_slope=None, reference_label=None,
                  ax=None, xlabel="비임베딩 매개변수 N / non-embedding parameters N", ylabel="손실 / test loss (nats)"):
    """L(N) (Fig 1, right): one point per size (filled when converged, open when not; colour = depth), the
    pure and the offset power law, the n-gram baselines as horizontal reference lines, and optionally a
    reference slope through the geometric mean of the points. ``shorter`` (columns ``N``, ``short_loss``;
    ``size_law.budgets``) adds each size's loss on half a decade fewer tokens as grey crosses, joined to
    its main point: the length of each join is how far that size still fell."""
    fig, ax = _new_axes(ax, figsize=(7, 4.6))
    x, y = sizes["N"].to_numpy(float), sizes["loss"].to_numpy(float)
    depths = sorted(sizes["n_layer"].unique())
    for i, depth in enumerate(depths):
        part = sizes[sizes["n_layer"] == depth]
        color = DEPTH_COLORS[i % len(DEPTH_COLORS)]
        conv = part["converged"].to_numpy(bool)
        if conv.any():
            ax.scatter(part["N"][conv], part["loss"][conv], s=40, color=color, zorder=3,
                       label=f"{depth}층 / {depth} layers")
        if (~conv).any():
            ax.scatter(part["N"][~conv], part["loss"][~conv], s=40, facecolors="white", edgecolors=color, zorder=3,
                       label=f"{depth}층, 미수렴 / {depth} layers, not converged")
    if shorter is not None and len(shorter):
        ax.scatter(shorter["N"], shorter["short_loss"], marker="x", s=28, color=COLORS["shorter"], zorder=2,
                   label="토큰 반 자릿수 적게 / half a decade fewer tokens")
        for _, row in shorter.iterrows():
            ax.plot([row["N"]] * 2, [row["short_loss"], row["loss"]], color=COLORS["shorter"], lw=0.8, zorder=1)
    grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 200)
    ax.plot(grid, pure.predict(grid), color=COLORS["fit"], lw=1.5,
            label=f"(N_c/N)^α: α = {pure.alpha:.3f} [{pure.alpha_ci[0]:.3f}, {pure.alpha_ci[1]:.3f}]")
    ax.plot(grid, offset.predict(grid), color=COLORS["fit"], lw=1.5, ls=":",
            label=f"E + (N_c/N)^α: α = {offset.alpha:.3f} [{offset.alpha_ci[0]:.3f}, {offset.alpha_ci[1]:.3f}], "
                  f"E = {offset.E:.2f}")
    if reference_slope is not None:
        _reference_slope(ax, x, y, grid, reference_slope, reference_label)
    if baselines is not None:
        draw_baselines(ax, baselines, label_x=grid[-1])
    _finish_loss_axes(ax, xlabel, ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig, ax


def plot_residuals(x, residuals: dict, *, ax=None, xlabel="비임베딩 매개변수 N / non-embedding parameters N"):
    """Log-residuals (≈ relative error, in %) of fitted forms against x."""
    fig, ax = _new_axes(ax, figsize=(6.4, 3.2))
    for (label, r), marker, color in zip(residuals.items(), "os^", (COLORS["fit"], COLORS["alt"], COLORS["ours"])):
        ax.plot(x, 100 * np.asarray(r), marker + "-", color=color, lw=1, ms=5, label=label)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xscale("log")
    _decade_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("잔차 / residual (%)")
    ax.legend(fontsize=8)
    return fig, ax
