"""Figures: the Korean font is registered from the installed package and Hangul draws without warnings."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from scalinglaws import figures  # noqa: E402
from scalinglaws.fit import fit_power_law  # noqa: E402


def test_korean_font_ships_with_a_package():
    paths = figures.korean_font_files()
    assert paths and all(p.exists() for p in paths)
    figures.setup_style()
    assert "NanumGothic" in {f.name for f in font_manager.fontManager.ttflist}
    assert matplotlib.rcParams["font.family"][:2] == ["DejaVu Sans", "NanumGothic"]


def test_hangul_renders_without_glyph_warnings(tmp_path):
    x = np.geomspace(1e3, 1e6, 6)
    y = (1e9 / x) ** 0.08
    runs = pd.DataFrame({"N": x, "N_total": x * 10, "n_layer": [2, 2, 2, 3, 4, 4], "val_loss": y,
                         "curve": [[{"tokens": t, "val_loss": v} for t, v in ((1e3, 8.0), (1e6, yi))] for yi in y]})
    curves = pd.DataFrame([{**c, "N": n} for n, cs in zip(x, runs["curve"]) for c in cs])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, _ = figures.plot_power_law(x, y, fit_power_law(x, y, n_boot=20), xlabel="비임베딩 매개변수 N",
                                        reference_slope=0.076, point_labels=[f"m{i}" for i in range(6)])
        fig.savefig(tmp_path / "a.png")
        fig, _ = figures.plot_loss_by_depth(runs, x="N_total", xlabel="전체 매개변수")
        fig.savefig(tmp_path / "b.png")
        fig, _ = figures.plot_learning_curves(curves)
        fig.savefig(tmp_path / "c.png")
        plt.close("all")
    glyph = [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]
    assert not glyph, glyph
    assert all((tmp_path / f).stat().st_size > 10_000 for f in ("a.png", "b.png", "c.png"))


def test_methods_figures_from_reference_runs(tmp_path):
    from scalinglaws.paths import repo_root
    from scalinglaws.runs import load_grid

    runs = load_grid(repo_root() / "runs" / "reference" / "lnn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = figures.plot_accounting_shares(runs)
        fig.savefig(tmp_path / "shares.png")
        fig, ax = figures.plot_lr_schedules(runs.iloc[[0, -1]])
        fig.savefig(tmp_path / "lr.png")
        plt.close("all")
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert len(ax.get_lines()) == 4   # a schedule line and the recorded points per run


def test_calibration_and_size_law_figures(tmp_path):
    from scalinglaws import size_law
    from scalinglaws.calibration import calibrate, main_run_ids, read_calibration
    from scalinglaws.grids import get_grid
    from scalinglaws.models import kaplan_lr
    from scalinglaws.paths import repo_root
    from scalinglaws.runs import load_grid

    reference = repo_root() / "runs" / "reference"
    rule, optima = calibrate(reference / "calibration")
    runs = read_calibration(reference / "calibration")
    main = runs[runs["run_id"].isin(main_run_ids(get_grid("calibration")))]
    sizes = size_law.per_size(size_law.with_convergence(load_grid(reference / "lnn")))
    fits = size_law.fit_forms(sizes, n_boot=20) if len(sizes) >= 4 else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, axes = figures.plot_lr_sweeps(main, optima)
        fig.savefig(tmp_path / "sweeps.png")
        fig, ax = figures.plot_lr_rule(optima, rule, kaplan_lr, extra_sizes=[793_344])
        fig.savefig(tmp_path / "rule.png")
        if fits:
            shorter = sizes.assign(short_loss=sizes["loss"] * 1.03)      # companions half a decade shorter
            fig, ax = figures.plot_size_law(sizes, fits["pure"], fits["offset"], shorter=shorter, baselines={"bigram": 4.6})
            fig.savefig(tmp_path / "ln.png")
            assert len(ax.get_lines()) >= len(sizes)    # one join per size, plus fits and baselines
        plt.close("all")
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert len(axes) == len(set(main["batch_tokens"]))
