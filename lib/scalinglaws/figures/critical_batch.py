"""The critical-batch chapter's figures (paper §5.1; Fig 10, 18, 19)."""
from __future__ import annotations

import numpy as np

from .style import (COLORS, N_LABEL, BCRIT_LABEL, setup_style, _new_axes, _size_colors)


def plot_tradeoff(reached, fits, n, *, ax=None):
    """Steps S against tokens E to reach each target loss at one size, one point per batch, with the fitted
    hyperbolas (S/S_min − 1)(E/E_min − 1) = 1 (Fig 18). The points are those the fits read (each batch at its
    fastest rate when ``fits`` were read so); open markers: batches read at a rate other than the rule's."""
    import matplotlib.pyplot as plt

    from ..critical_batch import fastest_lr

    fig, ax = _new_axes(ax, figsize=(6.4, 4.4))
    fastest = "lr_reading" in fits and (fits["lr_reading"] == "fastest").any()
    pool = fastest_lr(reached) if fastest else reached[reached["lr_factor"] == 1.0]
    rows = pool[pool["N"] == n].dropna(subset=["S"])
    targets = sorted(rows["target"].unique(), reverse=True)
    cmap = plt.get_cmap("viridis")
    for i, target in enumerate(targets):
        color = cmap(0.85 * i / max(1, len(targets) - 1))
        part = rows[rows["target"] == target]
        rule = part["lr_factor"] == 1.0
        ax.scatter(part["E"][rule], part["S"][rule], s=26, color=color, zorder=3, label=f"L = {target:.2f}")
        ax.scatter(part["E"][~rule], part["S"][~rule], s=30, facecolors="white", edgecolors=[color], zorder=3)
        fit = fits[(fits["N"] == n) & (fits["target"] == target)]
        if len(fit):
            f = fit["fit"].iloc[0]
            b = np.geomspace(part["batch_tokens"].min() / 4, part["batch_tokens"].max() * 4, 200)
            ax.plot(f.examples(b), f.steps(b), color=color, lw=1.1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("처리한 토큰 E / tokens processed E")
    ax.set_ylabel("최적화 단계 S / optimizer steps S")
    ax.set_title(f"N = {n:,.0f}")
    ax.legend(fontsize=8)
    return fig, ax


def plot_critical_batch(fits, law=None, *, noise=None, paper=None, ax=None):
    """B_crit against the target loss for every size with 95% intervals, the fitted B*/L^(1/α_B) (Fig 10),
    the simple noise scale along the runs (thin lines), and the paper's law (dashed; its tokens and nats
    are GPT-2's, so only its slope is comparable)."""
    fig, ax = _new_axes(ax, figsize=(6.6, 4.4))
    colors = _size_colors(fits["N"].unique())
    for n, part in fits.groupby("N"):
        lo = part["B_crit"] - [c[0] for c in part["B_crit_ci"]]
        hi = [c[1] for c in part["B_crit_ci"]] - part["B_crit"]
        ax.errorbar(part["target"], part["B_crit"], yerr=[lo, hi], fmt="o", ms=5, color=colors[n], capsize=2,
                    zorder=3, label=f"B_crit, N = {n:,.0f}")
        if noise is not None and len(noise):
            # along the runs, over the targets' range (early in training B_simple is noise spikes)
            lo_l, hi_l = fits["target"].min() - 0.3, fits["target"].max() + 0.3
            for _, run in noise[noise["N"] == n].groupby("run_id"):
                ok = (run["B_simple"] > 0) & run["loss"].between(lo_l, hi_l)
                ax.plot(run["loss"][ok], run["B_simple"][ok], color=colors[n], lw=0.6, alpha=0.35)
    if noise is not None and len(noise):
        ax.plot([], [], color="black", lw=0.6, alpha=0.5, label="B_simple (학습 중 / during training)")
    grid = np.linspace(fits["target"].min() * 0.97, fits["target"].max() * 1.03, 100)
    if law is not None:
        alpha_b, _, b_star, _ = law
        ax.plot(grid, b_star / grid ** (1 / alpha_b), color=COLORS["fit"], lw=1.5,
                label=f"B*/L^(1/α_B), α_B = {alpha_b:.3f}")
    if paper is not None:
        alpha_p, b_star_p = paper
        ax.plot(grid, b_star_p / grid ** (1 / alpha_p), color=COLORS["paper"], lw=1.2, ls="--",
                label=f"논문 / paper: α_B = {alpha_p}")
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    ax.set_yscale("log")
    ax.set_xscale("log")
    lo_t, hi_t = float(fits["target"].min()), float(fits["target"].max())
    ax.set_xticks(np.arange(np.floor(lo_t * 2) / 2, np.ceil(hi_t * 2) / 2 + 0.01, 0.5))   # every half nat
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("목표 손실 L (nats) / target loss L (nats)")
    ax.set_ylabel(BCRIT_LABEL)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig, ax


def plot_critical_batch_vs_tokens(fits, *, ax=None):
    """B_crit against the tokens a size needs to reach the target (E_min): if B_crit is set by how far
    training has gone (Zhang et al. 2024; Bergsma et al. 2025), the sizes fall on one curve here rather
    than against the loss."""
    fig, ax = _new_axes(ax, figsize=(6.0, 4.2))
    colors = _size_colors(fits["N"].unique())
    for n, part in fits.groupby("N"):
        ax.scatter(part["E_min"], part["B_crit"], s=30, color=colors[n], zorder=3, label=f"N = {n:,.0f}")
        ax.plot(part["E_min"], part["B_crit"], color=colors[n], lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("목표까지의 최소 토큰 E_min / fewest tokens to the target E_min")
    ax.set_ylabel(BCRIT_LABEL)
    ax.legend(fontsize=8)
    return fig, ax


def plot_minimum_steps_and_tokens(fits, *, axes=None):
    """S_min and E_min against N for each target loss (Fig 19)."""
    import matplotlib.pyplot as plt

    setup_style()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    else:
        fig = axes[0].figure
    targets = sorted(fits["target"].unique(), reverse=True)
    cmap = plt.get_cmap("viridis")
    for i, target in enumerate(targets):
        part = fits[fits["target"] == target].sort_values("N")
        color = cmap(0.85 * i / max(1, len(targets) - 1))
        axes[0].plot(part["N"], part["S_min"], "o-", color=color, ms=4, label=f"L = {target:.2f}")
        axes[1].plot(part["N"], part["E_min"], "o-", color=color, ms=4, label=f"L = {target:.2f}")
    for ax, label in zip(axes, ("최소 단계 S_min / minimum steps S_min", "최소 토큰 E_min / minimum tokens E_min")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(N_LABEL)
        ax.set_ylabel(label)
    axes[1].legend(fontsize=8)
    return fig, axes
