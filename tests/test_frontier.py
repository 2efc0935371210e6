"""The compute frontier: loss points of both readings, optimal sizes, the allocation exponent, L(N, S),
Appendix B and the paper's intersection point."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fakes import FRONTIER_LAW, frontier_records, law_loss
from scalinglaws import frontier
from scalinglaws.config import TrainConfig
from scalinglaws.grids import get_grid
from scalinglaws.paper import intersection, published
from scalinglaws.runs import load_grid


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frontier")
    frontier_records(folder, "frontier")
    return load_grid(folder, report=False)


def test_the_grid_reads_each_size_twice_on_the_same_tokens():
    grid = get_grid("frontier")
    assert len(grid.runs) == 20
    for spec in grid.runs:
        cfg = TrainConfig.from_dict(spec.config)
        if spec.run_id.endswith("_kaplan"):
            assert cfg.protocol == "kaplan" and cfg.horizon_tokens == cfg.tokens == 10_000_000
        else:
            assert cfg.protocol == "cooldown" and cfg.schedule == "constant"
            assert cfg.cooldown_budgets[-1] == 10_000_384 and len(cfg.cooldown_budgets) >= 3
        twin = grid.get(spec.run_id.rsplit("_", 1)[0] + "_kaplan").config
        assert cfg.lr == twin["lr"] and cfg.model == twin["model"] and cfg.warmup_tokens == twin["warmup_tokens"]


def test_loss_points_of_both_readings(runs):
    kaplan = frontier.loss_points(runs, "kaplan")
    cool = frontier.loss_points(runs, "cooldown", "total")
    assert kaplan["size"].nunique() == cool["size"].nunique() == 10
    warmup = kaplan["run_id"].map(runs.set_index("run_id")["warmup_tokens"])
    assert (kaplan["tokens"] > warmup).all()                          # no point inside the warmup
    assert (cool["N"] > kaplan["N"].min()).all()                       # total N under the total accounting
    with pytest.raises(ValueError, match="unknown reading"):
        frontier.loss_points(runs, "cosine")


@pytest.mark.parametrize("method", ["parabola", "akima"])
def test_the_allocation_exponent_is_recovered_and_edges_are_flagged(method):
    # every size on a fine budget ladder; the law's a = β/(α+β) = 0.5
    sizes = np.geomspace(1e3, 1e7, 13)
    rows = [{"run_id": f"s{i}_cooldown", "size": f"s{i}", "N": n, "C": 6 * n * d, "tokens": d, "steps": d / 2048,
             "batch_tokens": 2048.0, "loss": law_loss(n, d)} for i, n in enumerate(sizes)
            for d in np.geomspace(1e4, 1e9, 41)]
    points = pd.DataFrame(rows)
    optima = frontier.optimal_sizes(frontier.losses_at(points, frontier.budget_grid(points)), noise=0.002, n_boot=100,
                                    method=method)
    assert optima["on_edge"].any() and (~optima["on_edge"]).sum() >= 5
    fit = frontier.allocation_exponent(optima)
    law = FRONTIER_LAW
    assert fit.a == pytest.approx(law["beta"] / (law["alpha"] + law["beta"]), abs=0.03)
    assert fit.a_ci[0] < fit.a < fit.a_ci[1]
    g = (law["alpha"] * law["A"] / (law["beta"] * law["B"])) ** (1 / (law["alpha"] + law["beta"]))
    inside = optima[~optima["on_edge"]]
    assert np.allclose(np.log(inside["N_opt"]), np.log(g * (inside["C"] / 6) ** 0.5), atol=0.25)


def test_four_ways_from_synthetic_records(runs):
    table = frontier.four_ways(runs, noise=0.005, n_boot=50)
    assert set(zip(table["reading"], table["accounting"])) == {(r, a) for r in frontier.READINGS
                                                               for a in frontier.ACCOUNTINGS}
    cool = table[(table["reading"] == "cooldown") & (table["accounting"] == "kaplan")].iloc[0]
    assert cool["fitted"] >= 3 and cool["a"] == pytest.approx(0.5, abs=0.1)
    assert (table["at_curve_end"] <= table["budgets"] - table["on_edge"]).all()


def test_an_optimum_where_its_size_curve_ends_is_flagged():
    points = pd.DataFrame({"N": [1e3] * 3 + [1e4] * 3, "C": [1e9, 1e10, 1e11, 1e10, 1e11, 1e12]})
    optima = pd.DataFrame({"C": [1e10, 8e10, 1e11, 9e11], "N_opt_raw": [1.2e3, 1.1e3, 9e3, 2e4]})
    assert frontier.near_curve_end(points, optima).tolist() == [False, True, False, True]


def test_the_learning_curve_law_is_recovered(tmp_path):
    rng = np.random.default_rng(0)
    N = np.repeat(np.geomspace(1e3, 1e6, 8), 15)
    S = np.tile(np.geomspace(100, 1e5, 15), 8)
    true = dict(alpha_N=0.08, alpha_S=0.7, N_c=5e13, S_c=2e3)
    y = (true["N_c"] / N) ** true["alpha_N"] + (true["S_c"] / S) ** true["alpha_S"]
    y = y * np.exp(rng.normal(0, 0.003, len(y)))
    fit = frontier.fit_learning_curve(N, S, y, groups=np.repeat(np.arange(8), 15), n_boot=40)
    assert fit.alpha_N == pytest.approx(0.08, rel=0.1) and fit.alpha_S == pytest.approx(0.7, rel=0.1)
    assert fit.alpha_N_ci[0] <= fit.alpha_N <= fit.alpha_N_ci[1] and fit.groups == 8
    path = tmp_path / "curves.csv"
    pd.DataFrame({"n": N, "s": S, "loss": y}).to_csv(path, index=False)
    out = subprocess.run([sys.executable, "-m", "scalinglaws.cli", "fit", "learning-curve", "--csv", str(path),
                          "--n", "n", "--steps", "s", "--y", "loss", "--boot", "20"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("alpha_N", "alpha_S", "N_c", "S_c"):
        assert key in result and len(result[f"{key}_ci"]) == 2
    assert result["alpha_S"] == pytest.approx(0.7, rel=0.1)
    with pytest.raises(ValueError, match="at least 5 points"):
        frontier.fit_learning_curve(N[:3], S[:3], y[:3])


def test_appendix_b_and_the_paper_intersection():
    steps, compute = frontier.excess([0.6, 1.0, 2.2], published("alpha_N").value, published("alpha_S").value)
    assert steps[1] == pytest.approx(1) and compute[1] == pytest.approx(1)
    assert steps[2] == pytest.approx(0.55, abs=0.01) and compute[2] == pytest.approx(1.2, abs=0.01)   # §6.1: 45%, 20%
    assert compute[0] == pytest.approx(1.16, abs=0.02)
    point = intersection()
    paper = point["paper_eq_6_8"]
    for key, ours in (("C_star", point["C_star_pf_days"]), ("N_star", point["N_star"]), ("D_star", point["D_star"])):
        assert abs(np.log10(ours / paper[key])) < 0.6, key          # the paper gives orders of magnitude
    assert point["L_star"] == pytest.approx(paper["L_star"], abs=0.1)
    out = subprocess.run([sys.executable, "-m", "scalinglaws.cli", "paper", "intersection"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["C_star_pf_days"] == pytest.approx(point["C_star_pf_days"])


def test_batch_adjustment_of_loss_points(runs):
    points = frontier.with_min_adjustment(frontier.loss_points(runs, "cooldown"), lambda loss: 2048 * np.ones_like(loss))
    assert np.allclose(points["C_min"], points["C"] / 2) and np.allclose(points["S_min"], points["steps"] / 2)


def test_the_chapter_figures_draw(runs, tmp_path):
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalinglaws import figures
    from scalinglaws.analysis import envelope
    from scalinglaws.fit import fit_power_law
    kap, cool = frontier.loss_points(runs, "kaplan"), frontier.loss_points(runs, "cooldown")
    env = envelope(kap, x="C", y="loss", by="size")
    table, optima = frontier.frontier_of(cool, 0.005, n_boot=20)
    fit = frontier.allocation_exponent(optima)
    law = frontier.fit_learning_curve(kap["N"], kap["steps"], kap["loss"], groups=kap["run_id"], n_boot=5)
    ratio = np.geomspace(0.5, 3, 20)
    steps, compute = frontier.excess(ratio, 0.076, 0.76)
    point = intersection()
    grid = np.geomspace(1e-9, 1e6, 50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = {"readings": figures.plot_readings(runs, ["L2-d8", "L4-d128"]),
                 "curves": figures.plot_frontier_curves(kap, env, fit_power_law(env["C"], env["loss"], n_boot=10)),
                 "isoflop": figures.plot_isoflop(table, optima),
                 "optimal": figures.plot_optimal_sizes({"cooldown": (optima, fit)}, reference=(0.73, "paper")),
                 "laws": figures.plot_compute_laws({"C": env.rename(columns={"C": "x"})}, {}, lump=1e-5),
                 "lns": figures.plot_learning_curve_fit(kap.assign(S_min=kap["steps"]), law),
                 "fixed": figures.plot_fixed_compute_and_steps(kap, law.predict, compute_levels=[1e11, 1e12],
                                                               step_levels=[500, 2000], batch=2048),
                 "excess": figures.plot_excess({"ours": (ratio, steps, compute)}),
                 "allocation": figures.plot_allocation(frontier.allocation(optima, lambda l: 3000 + 0 * l, 2048),
                                                       paper_exponents={"N_opt": 0.73}),
                 "cross": figures.plot_intersection({"paper": (grid, grid ** -0.05, grid ** -0.03, point)},
                                                    measured=(1e-9, 1e-7))}
        for name, (fig, _) in drawn.items():
            fig.savefig(tmp_path / f"{name}.png")
        plt.close("all")
    assert not [w for w in caught if "Glyph" in str(w.message)]


def test_other_chapters_fall_back_to_the_paper_until_the_grids_exist(tmp_path):
    constants = frontier.learning_curve_constants(tmp_path)
    assert not constants["ours"] and constants["S_c"] == published("S_c").value
    with pytest.raises(ValueError, match="runs trained"):
        (tmp_path / "frontier" / "L2-d8_kaplan").mkdir(parents=True)
        (tmp_path / "frontier" / "L2-d8_kaplan" / "run.json").write_text("{}")
        frontier.route_to_alpha_n(tmp_path / "frontier")


def test_the_kaplan_reading_lies_above_the_cooldown_reading_before_the_end(runs):
    gaps = frontier.reading_gaps(frontier.loss_points(runs, "kaplan"), frontier.loss_points(runs, "cooldown"), 1e7)
    assert len(gaps) and (gaps.loc[gaps["fraction"] < 0.3, "gap"] > 0).all()
    assert gaps.loc[gaps["fraction"] > 0.9, "gap"].abs().max() < 0.01


def test_interior_law_fits_interior_points_and_declines_too_few():
    c = np.geomspace(1e12, 1e15, 6)
    loss = (1e8 / c) ** 0.05
    edge = np.array([True, False, False, False, False, True])
    law = frontier.interior_law(c, loss, edge, n_boot=50)
    assert law.n == 4 and law.alpha == pytest.approx(0.05, rel=1e-6)
    assert frontier.interior_law(c, loss, ~np.array([True, True, False, False, False, False]), n_boot=50) is None


def _ways(values):
    """A four-way table as ``frontier.four_ways`` returns it: (reading, accounting) -> (a, lo, hi)."""
    return pd.DataFrame([{"reading": r, "accounting": acc, "a": a, "a_lo": lo, "a_hi": hi}
                         for (r, acc), (a, lo, hi) in values.items()])


def test_four_ways_verdict_names_the_factor_whose_intervals_part():
    ways = _ways({("kaplan", "kaplan"): (0.80, 0.75, 0.85), ("kaplan", "total"): (0.78, 0.72, 0.84),
                  ("cooldown", "kaplan"): (0.55, 0.50, 0.60), ("cooldown", "total"): (0.52, 0.47, 0.58)})
    v = frontier.four_ways_verdict(ways)
    assert v["shift"] == pytest.approx(-0.28)
    moved = {(c["changed"], c["from"]): c["moves"] for c in v["comparisons"]}
    assert moved[("reading", ("kaplan", "kaplan"))] and moved[("reading", ("kaplan", "total"))]
    assert not moved[("accounting", ("kaplan", "kaplan"))] and not moved[("accounting", ("cooldown", "kaplan"))]
    assert "the reading moves it in both comparisons" in v["verdict_en"] and "the accounting does not move it" in v["verdict_en"]
    assert "읽기는 비교한 두 경우 모두에서 $a$를 움직입니다." in v["verdict_ko"] and "계산 방식은 $a$를 움직이지 않고" in v["verdict_ko"]


def test_four_ways_verdict_says_where_a_factor_moves_a_only_in_one_comparison():
    ways = _ways({("kaplan", "kaplan"): (0.77, 0.48, 1.07), ("kaplan", "total"): (0.56, 0.40, 0.71),
                  ("cooldown", "kaplan"): (0.80, 0.66, 0.95), ("cooldown", "total"): (0.52, 0.47, 0.56)})
    v = frontier.four_ways_verdict(ways)
    assert "the accounting moves it only at the cooldown reading; the reading does not move it." in v["verdict_en"]
    assert "계산 방식은 쿨다운 읽기에서만 $a$를 움직이고, 읽기는 $a$를 움직이지 않습니다." in v["verdict_ko"]
    assert v["shift"] == pytest.approx(-0.25)


def test_four_ways_verdict_with_missing_ways_says_so():
    ways = _ways({("kaplan", "kaplan"): (np.nan, np.nan, np.nan), ("kaplan", "total"): (0.5, 0.4, 0.6),
                  ("cooldown", "kaplan"): (np.nan, np.nan, np.nan), ("cooldown", "total"): (np.nan, np.nan, np.nan)})
    v = frontier.four_ways_verdict(ways)
    assert np.isnan(v["shift"]) and not v["comparisons"] and "at least two" in v["verdict_en"]


def test_derived_vs_fitted_checks_the_derived_values_against_the_fitted_intervals():
    from types import SimpleNamespace
    alpha_fit = SimpleNamespace(alpha=0.05, alpha_ci=(0.04, 0.06))
    a_fit = SimpleNamespace(a=0.7, a_ci=(0.6, 0.8))
    v = frontier.derived_vs_fitted({"alpha_C_min": 0.05}, alpha_fit, 0.07, a_fit)
    assert v["alpha_inside"] and v["a_inside"] and "consistent" in v["verdict_en"]
    v = frontier.derived_vs_fitted({"alpha_C_min": 0.05}, alpha_fit, 0.05, a_fit)    # a = 1.0: outside
    assert v["alpha_inside"] and v["a_inside"] is False and "not" in v["verdict_en"]
    v = frontier.derived_vs_fitted({"alpha_C_min": 0.08}, alpha_fit, 0.07, None)
    assert not v["alpha_inside"] and v["a_inside"] is None and "not compared" in v["verdict_en"]


def test_an_optimum_at_the_edge_is_flagged_even_one_size_in():
    # two sizes of nearly equal N (a 2- and a 4-layer model under the total accounting): the least loss is the
    # second, but the parabola's vertex lies at or below the first, so the optimum is at the grid's edge
    ns = np.array([3.55e4, 3.73e4, 7.4e4, 8.1e4, 1.6e5, 1.9e5])
    losses = np.array([5.60, 5.58, 5.70, 5.72, 5.95, 6.00])
    n_opt, _, edge = frontier._argmin_log(ns, losses)
    assert edge and n_opt == pytest.approx(ns[0])
    inside = np.array([6.0, 5.8, 5.6, 5.55, 5.7, 5.9])
    assert not frontier._argmin_log(ns, inside)[2]
    # a budget measured by fewer than MIN_SIZES sizes is shown, not fitted, wherever its least loss lies
    assert frontier._argmin_log(ns[:3], np.array([5.7, 5.5, 5.6]))[2]


def test_the_allocation_interval_carries_the_scatter_of_the_optima():
    rng = np.random.default_rng(1)
    c = np.geomspace(1e-9, 1e-8, 5)
    n_opt = 1e9 * c ** 0.6 * np.exp(rng.normal(0, 0.2, 5))      # scattered about the line
    optima = pd.DataFrame({"C": c * frontier.PF_DAY, "C_pf_days": c, "N_opt": n_opt, "on_edge": False,
                           "interior_share": 1.0, "draws": [np.array([])] * 5})
    plain = frontier.allocation_exponent(optima)
    ref = frontier.slope_fit(c, n_opt)
    assert plain.a == pytest.approx(ref["b"])
    width = plain.a_ci[1] - plain.a_ci[0]
    assert width == pytest.approx(ref["ci"][1] - ref["ci"][0], rel=0.35) and width > 0.1
    # seed-noise draws that all agree with the median add nothing to the interval; scattered optima still widen it
    optima["draws"] = [np.full(400, v) for v in n_opt]
    assert frontier.allocation_exponent(optima).a_ci[1] - frontier.allocation_exponent(optima).a_ci[0] > 0.1


def test_the_crossing_is_read_ahead_or_behind_the_measured_range():
    ahead = {"C_star_pf_days": 1e4, "L_star": 1.7, "slope_L_C": 0.05, "slope_L_D_of_C": 0.026}
    v = frontier.crossing_verdict(ahead, 1e-7)
    assert v["ahead"] and "11.0 decades above" in v["verdict_en"] and "11.0 자릿수" in v["verdict_ko"]
    apart = {"C_star_pf_days": 6e-39, "L_star": 86.0, "slope_L_C": 0.042, "slope_L_D_of_C": 0.048}
    v = frontier.crossing_verdict(apart, 1e-7)
    assert not v["ahead"] and "do not meet above" in v["verdict_en"] and "-0.048" in v["verdict_en"]
    inside = {"C_star_pf_days": 1e-9, "L_star": 5.0, "slope_L_C": 0.05, "slope_L_D_of_C": 0.02}
    v = frontier.crossing_verdict(inside, 1e-7)
    assert not v["ahead"] and "already disagree" in v["verdict_en"]


def test_the_literature_exponents_are_related_values():
    from scalinglaws import paper
    assert set(paper.A_EXPONENTS) <= set(paper.RELATED)
    assert all(0.4 < paper.related(s).value < 0.9 for s in paper.A_EXPONENTS)


def test_the_law_is_checked_against_the_points_read_at_fixed_compute_and_steps():
    batch = 512.0
    law = lambda n, s: (1e4 / np.asarray(n, float)) ** 0.1 + (2e3 / np.asarray(s, float)) ** 0.5   # noqa: E731
    rows = [{"N": n, "steps": s, "C": 6 * n * s * batch, "loss": float(law(n, s))}
            for n in np.geomspace(1e3, 1e6, 7) for s in np.geomspace(10, 1e4, 40)]
    points = pd.DataFrame(rows)
    levels = [6 * 1e4 * 300 * batch, 6 * 1e5 * 300 * batch]
    read = frontier.losses_at_levels(points, "C", levels)
    assert set(read["level"]) == set(levels) and (read.groupby("level").size() >= 3).all()
    exact = frontier.prediction_check(points, law, "C", levels, batch)
    assert (exact["rms_log"] < 1e-3).all() and (exact["best_measured"] == exact["best_predicted"]).all()
    off = frontier.prediction_check(points, lambda n, s: 1.1 * law(n, s), "steps", [100, 1000], batch)
    assert off["rms_log"].to_numpy() == pytest.approx(np.log(1.1), rel=1e-2)


def test_the_four_way_table_sets_ours_above_the_published_values():
    from scalinglaws import paper
    ways = _ways({("kaplan", "kaplan"): (0.77, 0.48, 1.07), ("kaplan", "total"): (np.nan, np.nan, np.nan),
                  ("cooldown", "kaplan"): (0.80, 0.66, 0.95), ("cooldown", "total"): (0.52, 0.47, 0.56)})
    ways["fitted"], ways["budgets"] = [4, 0, 5, 6], [16, 13, 13, 10]
    table = frontier.four_ways_table(ways)
    assert len(table) == 4 + 2 + len(paper.A_EXPONENTS)
    ours = table[table["출처 / source"] == "이 책 / this book"]
    assert ours["95% 구간 / interval"].tolist() == ["[0.48, 1.07]", "—", "[0.66, 0.95]", "[0.47, 0.56]"]
    assert ours["적합에 쓴 예산 / budgets fitted"].iloc[0] == "4 / 16"
    assert paper.related("chinchilla_a_isoflop").value in table["a"].tolist()
    assert frontier.with_interval(0.5, 0.4, 0.6) == "0.50 [0.40, 0.60]" and frontier.with_interval(np.nan, 0, 1) == "—"


def test_the_worded_checks_follow_the_records():
    gaps = pd.DataFrame({"fraction": [0.1, 0.2, 0.95, 1.0], "gap": [0.02, 0.04, 0.001, -0.005]})
    v = frontier.gap_verdict(gaps)
    assert v["expected"] and "median of 3.0% (at most 4.0%)" in v["verdict_en"] and "중앙값 3.0%" in v["verdict_ko"]
    flat = frontier.gap_verdict(gaps.assign(gap=[-0.01, -0.02, 0.03, 0.03]))
    assert not flat["expected"] and "do not show" in flat["verdict_en"]
    c = frontier.cosine_check_verdict([0.073, -0.048], noise=0.006)
    assert not c["matches"] and "at most 0.073 nats" in c["verdict_en"] and "0.008 nats" in c["verdict_en"]
    assert frontier.cosine_check_verdict([0.01, 0.005], noise=0.006)["matches"]


def test_the_top_budgets_on_the_small_edge_are_explained():
    table = pd.DataFrame({1e3: [5.0, 4.8, np.nan, np.nan], 1e4: [5.2, 4.7, 4.5, np.nan], 1e5: [5.5, 4.9, 4.6, 4.3],
                          1e6: [5.9, 5.2, 4.7, 4.4]}, index=[1e10, 1e11, 1e12, 1e13])
    optima = pd.DataFrame({"C": table.index, "N_opt_raw": [1e3, 1e4, 1e4, 1e5], "on_edge": [True, False, True, True]})
    assert frontier.edge_sides(table, optima).tolist() == ["small", "", "small", "small"]
    v = frontier.edge_top_verdict(table, optima, 10_000_000)
    assert (v["above"], v["small"]) == (2, 2) and "All 2 budgets" in v["verdict_en"] and "10,000,000" in v["verdict_ko"]
    assert frontier.edge_top_verdict(table, optima.assign(on_edge=False), 10_000_000)["verdict_en"] == ""


def test_the_learning_curve_constants_are_set_against_the_paper():
    from types import SimpleNamespace
    law = SimpleNamespace(alpha_N=0.1, alpha_S=0.12, N_c=1e6, S_c=3.6e7, alpha_N_ci=(0.06, 0.5),
                          alpha_S_ci=(0.08, 0.14), N_c_ci=(5e2, 8e9), S_c_ci=(7e5, 5e10))
    points = pd.DataFrame({"N": [1e3, 1e5], "S_min": [100.0, 2000.0]})
    v = frontier.learning_curve_vs_paper(law, points)
    assert v["outside"] == ["alpha_S", "N_c", "S_c"] and v["step_share"] == 100.0
    assert "$\\alpha_S$" in v["verdict_en"] and "$\\alpha_S$" in v["verdict_ko"]
