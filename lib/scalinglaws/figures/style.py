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
COLORS = {"ours": "#1f5fa8", "fit": "#c0392b", "paper": "#7f7f7f", "alt": "#e08e0b",
          "shorter": "#4d4d4d"}
DEPTH_COLORS = ["#1f5fa8", "#e08e0b", "#2a9d3f", "#c0392b", "#7b4ea3", "#8c564b", "#17a2b8"]   # one per depth
N_LABEL = "비임베딩 매개변수 N / non-embedding parameters N"
D_LABEL = "데이터셋 크기 D (토큰) / dataset size D (tokens)"
B_LABEL = "배치 크기 B (토큰) / batch size B (tokens)"
BCRIT_LABEL = "임계 배치 B_crit (토큰) / critical batch B_crit (tokens)"
PF_DAYS_LABEL = "계산량 C (PF-일) / compute C (PF-days)"
CMIN_LABEL = "최소 계산량 C_min (PF-일) / minimum compute C_min (PF-days)"


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


def _reference_slope(ax, x, y, grid, slope, label=None):
    """A labelled reference slope through the geometric mean of the points (the slope only, not the scale)."""
    x0, y0 = np.exp(np.mean(np.log(x))), np.exp(np.mean(np.log(y)))
    ax.plot(grid, y0 * (grid / x0) ** (-slope), color=COLORS["paper"], lw=1.2, ls="--",
            label=label or f"slope α = {slope} (reference)")


def _finish_loss_axes(ax, xlabel, ylabel):
    """Log–log axes with decade ticks on x and plain numbers on the loss axis."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    _decade_ticks(ax)
    _loss_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def draw_baselines(ax, baselines: dict, label_x=None):
    """Horizontal reference lines (e.g. the n-gram baselines), labelled at ``label_x`` when given."""
    for name, loss in baselines.items():
        ax.axhline(loss, color="#999999", lw=0.8, ls="-.")
        if label_x is not None:
            ax.annotate(name, (label_x, loss), textcoords="offset points", xytext=(-2, 3), ha="right", fontsize=7.5,
                        color="#666666")


def _size_colors(sizes):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    sizes = sorted(sizes)
    norm = LogNorm(min(sizes), max(sizes) * 1.0001)
    cmap = plt.get_cmap("plasma")
    return {n: cmap(norm(n) * 0.85) for n in sizes}
