"""The calibration appendix's figures: LR sweeps, the LR rule, schedules, the protocol checks."""
from __future__ import annotations

import numpy as np

from ..display import sci
from .style import (COLORS, DEPTH_COLORS, setup_style, _new_axes, _decade_ticks, _size_colors)


def plot_lr_schedules(runs, *, ax=None):
    """Each run's learning-rate schedule from its config (lines) and as recorded on its curve (dots)."""
    from ..config import TrainConfig

    fig, ax = _new_axes(ax)
    for _, run in runs.iterrows():
        cfg = TrainConfig.from_record(run["config"])
        steps = np.arange(cfg.steps)
        line, = ax.plot(steps + 1, [cfg.lr_at(i, int(run["N"])) for i in steps], lw=1.4,
                        label=f"{run['run_id']} (N={sci(run['N'])})")
        ax.plot([c["step"] for c in run["curve"]], [c["lr"] for c in run["curve"]], "o", ms=3, color=line.get_color())
    ax.set_xlabel("최적화 단계 / optimizer step")
    ax.set_ylabel("학습률 / learning rate")
    ax.legend()
    return fig, ax


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
