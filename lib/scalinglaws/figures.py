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


def _size_colors(sizes):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    sizes = sorted(sizes)
    norm = LogNorm(min(sizes), max(sizes) * 1.0001)
    cmap = plt.get_cmap("plasma")
    return {n: cmap(norm(n) * 0.85) for n in sizes}


def plot_lr_sweeps(runs, optima, *, batches=None, axes=None, size_label=None):
    """Final validation loss against peak LR (the paper's Fig 22 format): one panel per batch, one line
    per size; a star at each sweep's fitted optimum, an open circle on the best point of a sweep whose
    optimum is on its edge, an × (at the top of the panel) for a run that diverged."""
    import matplotlib.pyplot as plt

    setup_style()
    batches = batches or sorted(runs["batch_tokens"].unique())
    if axes is None:
        fig, axes = plt.subplots(1, len(batches), figsize=(4.3 * len(batches), 4), sharey=True, squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    colors = _size_colors(runs["N"].unique())
    finite = runs.loc[np.isfinite(runs["val_loss"]), "val_loss"]
    top = float(finite.max()) + 0.05 * float(finite.max() - finite.min())
    for ax, batch in zip(axes, batches):
        for n, part in runs[runs["batch_tokens"] == batch].groupby("N"):
            part = part.sort_values("lr")
            ok = np.isfinite(part["val_loss"])
            label = size_label(part.iloc[0]) if size_label else f"N = {n:,}"
            ax.plot(part.loc[ok, "lr"], part.loc[ok, "val_loss"], "o-", color=colors[n], ms=4, lw=1.3, label=label)
            ax.plot(part.loc[~ok, "lr"], [top] * int((~ok).sum()), "x", color=colors[n], ms=7)
            opt = optima[(optima["N"] == n) & (optima["batch_tokens"] == batch)]
            for o in opt.itertuples():
                if o.on_edge is None or (isinstance(o.on_edge, float) and np.isnan(o.on_edge)):
                    ax.plot([o.lr], [o.loss], "*", color=colors[n], ms=13, mec="black", mew=0.6, zorder=4)
                else:
                    ax.plot([o.best_lr], [o.best_loss], "o", ms=11, mfc="none", mec=colors[n], mew=1.6, zorder=4)
        ax.set_xscale("log")
        ax.set_title(f"배치 / batch {batch:,} tokens")
        ax.set_xlabel("최대 학습률 / peak learning rate")
    axes[0].set_ylabel("최종 검증 손실 / final validation loss (nats)")
    axes[-1].legend(loc="upper left", fontsize=8)
    return fig, axes


def plot_lr_rule(optima, rule, kaplan_lr, *, ax=None, extra_sizes=()):
    """The fitted optima per batch, the rule LR*(N) through those of the rule's batch, and Kaplan's LR(N)
    (App D.6) as a labelled reference; ``extra_sizes`` (e.g. the L(N) grid's) are marked where the rule
    is read outside the calibrated range."""
    fig, ax = _new_axes(ax)
    markers = {b: m for b, m in zip(sorted(optima["batch_tokens"].unique()), "os^Dv")}
    for batch, part in optima.groupby("batch_tokens"):
        inside = part[part["lr"].notna()]
        ax.plot(inside["N"], inside["lr"], markers[batch], ms=7, color=COLORS["ours"] if batch == rule.batch_tokens else COLORS["alt"],
                label=f"최적 학습률 / fitted optimum, batch {batch:,}")
    lo = min([rule.n_range[0], *extra_sizes]) / 1.5
    hi = max([rule.n_range[1], *extra_sizes]) * 1.5
    grid = np.geomspace(lo, hi, 100)
    ax.plot(grid, rule(grid), color=COLORS["fit"], lw=1.6,
            label=f"LR*(N) = {rule.lr_ref:.3g}·(N/{rule.n_ref:.0e})^−{rule.exponent:.2f} (batch {rule.batch_tokens:,})")
    ax.plot(grid, [kaplan_lr(n) for n in grid], color=COLORS["paper"], lw=1.3, ls="--",
            label="Kaplan et al. LR(N), App D.6 Eq D.1")
    outside = [n for n in extra_sizes if rule.extrapolates(n)]
    if outside:
        ax.plot(outside, rule(np.asarray(outside, float)), "o", ms=7, mfc="white", mec=COLORS["fit"],
                label="규칙을 외삽해 쓰는 크기 / sizes that extrapolate the rule")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _decade_ticks(ax)
    ax.set_xlabel("비임베딩 매개변수 N / non-embedding parameters N")
    ax.set_ylabel("최대 학습률 / peak learning rate")
    ax.legend(loc="lower left", fontsize=8)
    return fig, ax


def plot_protocol_checks(runs, variants, *, ax=None):
    """Loss against peak LR for protocol variants at one size: ``variants`` maps a label to a table of runs."""
    fig, ax = _new_axes(ax)
    for (label, part), color in zip(variants.items(), DEPTH_COLORS):
        part = part.sort_values("lr")
        ok = np.isfinite(part["val_loss"])
        ax.plot(part.loc[ok, "lr"], part.loc[ok, "val_loss"], "o-", color=color, ms=4, lw=1.3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("최대 학습률 / peak learning rate")
    ax.set_ylabel("최종 검증 손실 / final validation loss (nats)")
    ax.legend(fontsize=8)
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


# -- L(N, D): the overfitting chapter -----------------------------------------------------------------

N_LABEL = "비임베딩 매개변수 N / non-embedding parameters N"
D_LABEL = "데이터셋 크기 D (토큰) / dataset size D (tokens)"


def _marked(ax, x, y, stopped, color, label):
    """Points filled where the validation minimum came before the run's end (early stopping), open where not."""
    stopped = np.asarray(stopped, bool)
    x, y = np.asarray(x, float), np.asarray(y, float)
    ax.scatter(x[stopped], y[stopped], s=30, color=color, zorder=3, label=label)
    ax.scatter(x[~stopped], y[~stopped], s=30, facecolors="white", edgecolors=color, zorder=3,
               label=None if stopped.any() else label)


def plot_loss_vs_data(table, law, *, ax=None):
    """L against D for each N with the Eq 1.5 curves (Fig 4, left). Filled points: early-stopped runs."""
    fig, ax = _new_axes(ax, figsize=(7, 4.6))
    colors = _size_colors(table["N"].unique())
    grid = np.geomspace(table["D"].min() / 1.3, table["D"].max() * 1.3, 200)
    for n, part in table.groupby("N"):
        _marked(ax, part["D"], part["loss"], part["minimum_inside"], colors[n], f"N = {n:,.0f}")
        ax.plot(grid, law.predict(n, grid), color=colors[n], lw=1.1)
    _finish_loss_axes(ax, D_LABEL, "손실 / test loss (nats)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig, ax


def plot_loss_vs_size_by_data(table, law, *, ax=None):
    """L against N for each D with the Eq 1.5 curves and the D → ∞ limit (Fig 9, left)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, ax = _new_axes(ax, figsize=(7, 4.6))
    norm = LogNorm(table["D"].min(), table["D"].max() * 1.0001)
    cmap = plt.get_cmap("viridis")
    grid = np.geomspace(table["N"].min() / 1.3, table["N"].max() * 1.3, 200)
    for d, part in table.groupby("D"):
        color = cmap(norm(d) * 0.9)
        _marked(ax, part["N"], part["loss"], part["minimum_inside"], color, f"D = {d:.2g}")
        ax.plot(grid, law.predict(grid, d), color=color, lw=1.1)
    ax.plot(grid, law.predict_infinite_data(grid), color="black", lw=1.2, ls="--", label="D → ∞ (식/Eq 1.5)")
    _finish_loss_axes(ax, N_LABEL, "손실 / test loss (nats)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
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
    """The step of the lowest validation loss against the lower bound of Eq 5.7 (Fig 16, left)."""
    fig, ax = _new_axes(ax, figsize=(5.6, 4.2))
    colors = _size_colors(bound["N"].unique())
    for n, part in bound.groupby("N"):
        ax.scatter(part["bound"], part["best_step"], s=28, color=colors[n], zorder=3, label=f"N = {n:,.0f}")
    lo = min(bound["bound"].min(), bound["best_step"].min()) / 2
    hi = max(bound["bound"].max(), bound["best_step"].max()) * 2
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="S_stop = 경계 / bound")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"S_c / (L(N, D) − L(N, ∞))^(1/α_S)  [{source_label}]")
    ax.set_ylabel("조기 종료 단계 / early-stopping step")
    ax.legend(fontsize=8)
    return fig, ax


def plot_train_vs_test(runs, *, ax=None, x="epoch"):
    """Training and validation curves of a few runs on small subsets (Fig 16, right): solid = validation,
    dotted = training loss; ``x`` is ``epoch`` (data-constrained view) or ``tokens``."""
    fig, ax = _new_axes(ax, figsize=(6.4, 4.2))
    colors = _size_colors(runs["D"].unique())
    for _, run in runs.iterrows():
        c = [p for p in run["curve"] if p.get("train_loss_ema") is not None]
        xs = [p[x] for p in c]
        color = colors[run["D"]]
        ax.plot(xs, [p["val_loss"] for p in c], color=color, lw=1.4, label=f"{run['run_id']}: 검증 / validation")
        ax.plot(xs, [p["train_loss_ema"] for p in c], color=color, lw=1.1, ls=":", label=f"{run['run_id']}: 학습 / train")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _loss_ticks(ax)
    ax.set_xlabel("에폭 / epochs" if x == "epoch" else "학습 토큰 / tokens processed")
    ax.set_ylabel("손실 / loss (nats)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig, ax


# -- the critical batch (paper §5.1) ----------------------------------------------------------------

B_LABEL = "배치 크기 B (토큰) / batch size B (tokens)"
BCRIT_LABEL = "임계 배치 B_crit (토큰) / critical batch B_crit (tokens)"


def plot_tradeoff(reached, fits, n, *, ax=None):
    """Steps S against tokens E to reach each target loss at one size, one point per batch, with the fitted
    hyperbolas (S/S_min − 1)(E/E_min − 1) = 1 (Fig 18)."""
    import matplotlib.pyplot as plt

    fig, ax = _new_axes(ax, figsize=(6.4, 4.4))
    rows = reached[(reached["N"] == n) & (reached["lr_factor"] == 1.0)].dropna(subset=["S"])
    targets = sorted(rows["target"].unique(), reverse=True)
    cmap = plt.get_cmap("viridis")
    for i, target in enumerate(targets):
        color = cmap(0.85 * i / max(1, len(targets) - 1))
        part = rows[rows["target"] == target]
        ax.scatter(part["E"], part["S"], s=26, color=color, zorder=3, label=f"L = {target:.2f}")
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
            for _, run in noise[noise["N"] == n].groupby("run_id"):
                ok = run["B_simple"] > 0
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
    ax.set_xticks(sorted(set(np.round(fits["target"].to_numpy(float), 2))))
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


# -- the compute frontier (paper §5–6) -----------------------------------------------------------

PF_DAYS_LABEL = "연산량 C (PF-일) / compute C (PF-days)"
CMIN_LABEL = "최소 연산량 C_min (PF-일) / minimum compute C_min (PF-days)"
READING_STYLE = {"kaplan": dict(color="#7b4ea3", marker="s", label="Kaplan 읽기 / Kaplan reading"),
                 "cooldown": dict(color="#1f5fa8", marker="o", label="쿨다운 읽기 / cooldown reading")}


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
    axes[0].legend(fontsize=7.5, ncol=2)
    axes[1].legend(fontsize=8)
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
        ax.plot(row.index, row.to_numpy(), "o-", color=color, ms=3.5, lw=1, label=f"C = {c:.2g} FLOPs")
        opt = optima.iloc[i]
        ax.scatter([opt["N_opt"]], [opt["L_opt"]], marker="*", s=110, zorder=4,
                   facecolors="none" if opt["on_edge"] else color, edgecolors=color)
    ax.set_xscale("log")
    _decade_ticks(ax)
    ax.set_xlabel(N_LABEL)
    ax.set_ylabel("검증 손실 / validation loss (nats)")
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
    ax.legend(fontsize=8)
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
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
    ax.legend(fontsize=7.5, ncol=2)
    return fig, ax


def plot_fixed_compute_and_steps(points, predict, *, compute_levels, step_levels, batch, axes=None, pf_day=8.64e19):
    """Fig 11: loss against N at fixed compute (left) and at fixed steps (right): measured points (read off
    the curves) and the L(N, S) prediction ``predict(N, steps)`` (lines)."""
    import matplotlib.pyplot as plt

    from .analysis import interpolate_at

    setup_style()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    else:
        fig = axes[0].figure
    cmap = plt.get_cmap("viridis")
    sizes = sorted(points["N"].unique())
    grid = np.geomspace(min(sizes), max(sizes), 60)
    for panel, levels, column in ((0, compute_levels, "C"), (1, step_levels, "steps")):
        for k, level in enumerate(levels):
            color = cmap(0.9 * k / max(1, len(levels) - 1))
            measured = [(n, interpolate_at(points[points["N"] == n], column, "loss", [level])[0]) for n in sizes]
            measured = [(n, v) for n, v in measured if np.isfinite(v)]
            if measured:
                axes[panel].plot(*zip(*measured), "o", ms=4, color=color)
            steps = level / (6 * grid * batch) if column == "C" else np.full_like(grid, level)
            label = f"C = {level / pf_day:.1g} PF-days" if column == "C" else f"S = {level:,.0f}"
            axes[panel].plot(grid, predict(grid, steps), color=color, lw=1.1, label=label)
    for ax in axes:
        ax.set_xscale("log")
        _decade_ticks(ax)
        ax.set_xlabel(N_LABEL)
        ax.legend(fontsize=7.5)
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
    axes[0].set_ylabel("추가 연산 C/C_eff − 1 / excess compute")
    axes[1].set_ylabel("단계 비 S/S_eff / steps ratio")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("N / N_eff")
        ax.axvline(1, color="#999999", lw=0.8)
        ax.legend(fontsize=8)
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
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
    axes[0].legend(fontsize=7.5)
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
    ax.set_xlabel("최소 연산량의 배수 / multiple of the smallest C_min")
    ax.set_ylabel("처음 값의 배수 / multiple of its first value")
    ax.legend(fontsize=7.5)
    return fig, ax
