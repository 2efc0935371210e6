"""Plot helpers with one style for every chapter, and Hangul that renders.

Korean labels use NanumGothic, shipped as a TTF inside the PyPI package ``koreanize-matplotlib``.
We locate the file without importing the package (its import restyles matplotlib and fails on
Python ≥ 3.12) and register it with ``font_manager.addfont``; DejaVu Sans stays first in the
family list so Latin text, digits and the minus sign keep their usual look, and matplotlib falls
back to NanumGothic glyph by glyph for Hangul.

Axis labels are bilingual ("손실 / loss"): one figure serves both language tabs.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
import numpy as np

KOREAN_FONT = "NanumGothic"
COLORS = {"ours": "#1f5fa8", "fit": "#c0392b", "paper": "#7f7f7f", "alt": "#e08e0b"}
DEPTH_COLORS = ["#1f5fa8", "#e08e0b", "#2a9d3f", "#c0392b", "#7b4ea3", "#8c564b", "#17a2b8"]   # one per depth


def korean_font_files() -> list[Path]:
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("koreanize-matplotlib is not installed: pip install koreanize-matplotlib==0.1.1")
    fonts = Path(list(spec.submodule_search_locations)[0]) / "fonts"
    return [fonts / name for name in ("NanumGothic.ttf", "NanumGothicBold.ttf") if (fonts / name).exists()]


def setup_style() -> None:
    """Register the Korean font and apply the book's style (idempotent)."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in korean_font_files():
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams.update({
        "font.family": ["DejaVu Sans", KOREAN_FONT],
        "figure.figsize": (6.4, 4.2), "figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
        "axes.grid": True, "grid.alpha": 0.3, "axes.grid.which": "major", "axes.spines.top": False,
        "axes.spines.right": False, "legend.frameon": False, "legend.fontsize": 8.5,
        "axes.titlesize": 11, "axes.labelsize": 10,
    })


def _new_axes(ax=None, figsize=None):
    import matplotlib.pyplot as plt

    setup_style()
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _decade_ticks(ax):
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _loss_ticks(ax):
    """Plain numbers (5, 6, 7 …) on a logarithmic loss axis, no 10^0 labels."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    ax.yaxis.set_major_locator(LogLocator(base=10, subs=np.arange(1, 10)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(1, 10, 0.5)))
    ax.yaxis.set_minor_formatter(NullFormatter())


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
        x0, y0 = np.exp(np.mean(np.log(x))), np.exp(np.mean(np.log(y)))
        ax.plot(grid, y0 * (grid / x0) ** (-reference_slope), color=COLORS["paper"], lw=1.2, ls="--",
                label=reference_label or f"slope α = {reference_slope} (reference)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _decade_ticks(ax)
    _loss_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
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


def plot_lr_schedules(runs, *, ax=None):
    """Each run's learning-rate schedule from its config (lines) and as recorded on its curve (dots)."""
    from .config import TrainConfig

    fig, ax = _new_axes(ax)
    for _, run in runs.iterrows():
        cfg = TrainConfig.from_record(run["config"])
        steps = np.arange(cfg.steps)
        line, = ax.plot(steps + 1, [cfg.lr_at(i, int(run["N"])) for i in steps], lw=1.4,
                        label=f"{run['run_id']} (N={run['N']:.2g})")
        ax.plot([c["step"] for c in run["curve"]], [c["lr"] for c in run["curve"]], "o", ms=3, color=line.get_color())
    ax.set_xlabel("최적화 단계 / optimizer step")
    ax.set_ylabel("학습률 / learning rate")
    ax.legend()
    return fig, ax
