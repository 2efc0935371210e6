"""The fits (power laws, L(N, D), the steps–examples trade-off) recover known constants from noisy data,
and the CLI prints them as JSON.
(The installed console script itself is tested in test_cli.py.)"""
import json

import numpy as np
import pytest

from scalinglaws.fit import fit_power_law
from scalinglaws.cli import main


def write_csv(path, **columns):
    """A CSV file with one column per keyword, as a user of `scalinglaws fit` would hand it over."""
    path.write_text(",".join(columns) + "\n" + "\n".join(",".join(str(v) for v in row) for row in zip(*columns.values())))

def synthetic(alpha=0.076, n_c=8.8e13, n=9, noise=0.01, seed=1):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e3, 1e7, n)
    y = (n_c / x) ** alpha * np.exp(rng.normal(0, noise, n))
    return x, y


def test_recovers_known_exponent_within_interval():
    x, y = synthetic()
    fit = fit_power_law(x, y, n_boot=300, seed=0)
    assert fit.alpha_ci[0] < 0.076 < fit.alpha_ci[1]
    assert fit.alpha == pytest.approx(0.076, abs=0.01)
    assert fit.decades == pytest.approx(4.0)
    assert fit.n == 9 and fit.n_boot == 300


def test_interval_covers_truth_in_most_trials():
    hits = 0
    for seed in range(20):
        x, y = synthetic(alpha=0.3, n_c=1e4, noise=0.03, seed=seed)
        fit = fit_power_law(x, y, n_boot=200, seed=seed)
        hits += fit.alpha_ci[0] <= 0.3 <= fit.alpha_ci[1]
    assert hits >= 15   # percentile bootstrap of 9 points under-covers a little


def test_exact_data_fits_exactly():
    x = np.geomspace(10, 1e5, 6)
    fit = fit_power_law(x, (1e3 / x) ** 0.5, n_boot=50)
    assert fit.alpha == pytest.approx(0.5, rel=1e-6)
    assert fit.x_c == pytest.approx(1e3, rel=1e-5)
    assert fit.predict([1e3])[0] == pytest.approx(1.0)


def test_bootstrap_matches_one_lmfit_fit_per_resample():
    """The bootstrap fits every resample in closed form at once; each must equal lmfit's fit of that resample."""
    from scalinglaws.fit import _fit_line, _line_model, residual_resamples
    x, y = synthetic(alpha=0.3, n_c=1e4, noise=0.03, seed=3)
    fit = fit_power_law(x, y, n_boot=40, seed=5)
    logx = np.log(x)
    fitted = fit.alpha * (np.log(fit.x_c) - logx)
    model = _line_model()
    alphas = [_fit_line(model, logx, s, fit.alpha, np.log(fit.x_c)).params["alpha"].value
              for s in residual_resamples(fitted, np.log(y) - fitted, 2, 40, 5)]
    assert fit.alpha_ci == pytest.approx(tuple(np.percentile(alphas, [2.5, 97.5])), rel=1e-6)


@pytest.mark.parametrize("x,y,msg", [([1, 2], [1, 2], "at least 3"), ([1, 2, -3], [1, 1, 1], "positive"),
                                     ([2, 2, 2], [1, 2, 3], "all x are equal")])
def test_bad_input_is_refused(x, y, msg):
    with pytest.raises(ValueError, match=msg):
        fit_power_law(x, y)


def test_cli_fit_power_prints_json(tmp_path, capsys):
    x, y = synthetic()
    csv = tmp_path / "points.csv"
    write_csv(csv, N=x, loss=y)
    assert main(["fit", "power", "--csv", str(csv), "--x", "N", "--y", "loss", "--boot", "100"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alpha_ci"][0] < 0.076 < out["alpha_ci"][1]
    assert set(out) >= {"alpha", "x_c", "alpha_ci", "x_c_ci", "decades", "n"}
    # a missing column is a clear error, not a traceback
    assert main(["fit", "power", "--csv", str(csv), "--x", "N", "--y", "nope"]) == 2
    assert "no column" in capsys.readouterr().err


def test_local_exponents_show_bending():
    from scalinglaws.fit import local_exponents
    y4 = (1e8 / 1e4) ** 0.1
    x = np.array([1e5, 1e3, 1e4])                       # unsorted on purpose
    y = np.array([y4 * 10 ** -0.05, (1e8 / 1e3) ** 0.1, y4])   # slope 0.1, then 0.05
    assert local_exponents(x, y) == pytest.approx([0.1, 0.05])


def offset_data(E=2.0, alpha=0.35, x_c=3e4, n=10, noise=0.004, seed=0):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1.8e3, 7.9e5, n)
    return x, (E + (x_c / x) ** alpha) * np.exp(rng.normal(0, noise, n))


def test_offset_fit_recovers_known_E_and_alpha():
    from scalinglaws.fit import fit_offset_power_law
    x, y = offset_data()
    fit = fit_offset_power_law(x, y, n_boot=200, seed=0)
    assert fit.E_ci[0] < 2.0 < fit.E_ci[1] and fit.alpha_ci[0] < 0.35 < fit.alpha_ci[1]
    assert fit.E == pytest.approx(2.0, abs=0.1) and fit.alpha == pytest.approx(0.35, abs=0.05)
    assert fit.predict([3e4])[0] == pytest.approx(3.0, rel=0.02)
    assert not fit.E_at_bound and fit.method == "residual bootstrap"


def test_the_criterion_tells_the_two_forms_apart():
    from scalinglaws.fit import compare_forms, fit_offset_power_law
    x, y = offset_data()
    assert compare_forms(fit_power_law(x, y, n_boot=50), fit_offset_power_law(x, y, n_boot=50))["preferred"] == "offset"
    x, y = synthetic(n=10, noise=0.005)   # a pure power law: the extra parameter buys nothing
    verdict = compare_forms(fit_power_law(x, y, n_boot=50), fit_offset_power_law(x, y, n_boot=50))
    assert verdict["preferred"] == "pure", verdict


def test_cli_fit_power_offset_prints_E(tmp_path, capsys):
    x, y = offset_data()
    csv = tmp_path / "points.csv"
    write_csv(csv, N=x, loss=y)
    assert main(["fit", "power", "--offset", "--csv", str(csv), "--x", "N", "--y", "loss", "--boot", "100"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"E", "alpha", "x_c", "E_ci", "alpha_ci", "x_c_ci", "aicc", "law"}
    assert out["law"].startswith("loss = E + ") and out["E_ci"][0] < 2.0 < out["E_ci"][1]


# -- L(N, D), Eq 1.5 ---------------------------------------------------------------------------------

LND_TRUE = {"alpha_N": 0.08, "alpha_D": 0.12, "N_c": 1e9, "D_c": 5e7}


def lnd_data(noise=0.005, seed=1):
    """A 6 × 7 grid of sizes and subsets like the overfit grid's, losses from Eq 1.5 with log-normal noise."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(2e3, 8e5, 6), 7)
    D = np.tile(np.geomspace(1e5, 6.6e6, 7), 6)
    t = LND_TRUE
    L = ((t["N_c"] / N) ** (t["alpha_N"] / t["alpha_D"]) + t["D_c"] / D) ** t["alpha_D"]
    return N, D, L * np.exp(rng.normal(0, noise, len(L)))


def test_the_lnd_fit_recovers_known_constants():
    from scalinglaws.fit import fit_overfit
    N, D, y = lnd_data()
    fit = fit_overfit(N, D, y, n_boot=40)
    for name in ("alpha_N", "alpha_D"):
        lo, hi = getattr(fit, f"{name}_ci")
        assert getattr(fit, name) == pytest.approx(LND_TRUE[name], rel=0.1) and lo < LND_TRUE[name] * 1.1 and hi > LND_TRUE[name] * 0.9
    assert fit.N_c == pytest.approx(LND_TRUE["N_c"], rel=0.3)
    assert fit.n == 42 and fit.N_range == (pytest.approx(2e3), pytest.approx(8e5)) and fit.rms_log_residual < 0.01
    # the derived quantities follow the paper's definitions (Eqs 4.2–4.4)
    assert fit.penalty(1e5, 1e12) == pytest.approx(0, abs=1e-3)
    d = fit.data_needed(1e5, 0.02)
    assert fit.penalty(1e5, d) == pytest.approx(0.02, rel=1e-6)
    assert fit.predict(1e5, 1e15) == pytest.approx(fit.predict_infinite_data(1e5), rel=1e-4)
    lo, hi = fit.ratio_ci
    assert lo < LND_TRUE["alpha_N"] / LND_TRUE["alpha_D"] < hi
    k_lo, k_hi = fit.data_coefficient_ci(0.02)
    assert k_lo <= fit.data_coefficient(0.02) <= k_hi


def test_the_papers_constants_give_its_data_rule():
    from scalinglaws.fit import OverfitFit
    from scalinglaws.paper import published
    nan2 = (np.nan, np.nan)
    table2 = {k: published(f"{k}_LND").value for k in ("alpha_N", "alpha_D", "N_c", "D_c")}
    paper = OverfitFit(**table2, alpha_N_ci=nan2, alpha_D_ci=nan2, N_c_ci=nan2, D_c_ci=nan2, n=0, N_range=nan2,
                       D_range=nan2, rms_log_residual=np.nan, n_boot=0, seed=0)
    # Eq 4.4: D ≳ 5e3 · N^0.74 for a penalty at the seed noise (0.02)
    assert paper.ratio == pytest.approx(published("data_rule_exponent").value, abs=0.005)
    assert paper.data_coefficient(published("seed_noise").value) == pytest.approx(published("data_rule_k").value, rel=0.15)


def test_the_lnd_fit_rejects_bad_input():
    from scalinglaws.fit import fit_overfit
    N, D, y = lnd_data()
    with pytest.raises(ValueError, match="two model sizes"):
        fit_overfit(np.full(10, 1e4), D[:10], y[:10], n_boot=0)
    with pytest.raises(ValueError, match="at least 5"):
        fit_overfit(N[:3], D[:3], y[:3])
    with pytest.raises(ValueError, match="positive"):
        fit_overfit(N, D, -y)


def test_cli_fit_overfit_prints_json(tmp_path, capsys):
    N, D, y = lnd_data()
    csv = tmp_path / "lnd.csv"
    write_csv(csv, N=N, D=D, loss=y)
    assert main(["fit", "overfit", "--csv", str(csv), "--n", "N", "--d", "D", "--y", "loss", "--boot", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"alpha_N", "alpha_D", "N_c", "D_c", "alpha_N_ci", "alpha_D_ci", "N_c_ci", "D_c_ci", "n",
                        "N_range", "D_range", "law"}
    assert out["n"] == 42 and out["D_range"] == [pytest.approx(1e5), pytest.approx(6.6e6)]
    assert main(["fit", "overfit", "--csv", str(csv), "--n", "N", "--d", "tokens", "--y", "loss"]) == 2
    assert "no column" in capsys.readouterr().err


# -- the steps–examples trade-off ----------------------------------------------------------------------

def tradeoff_data(S_min=2e3, B_crit=4e3, noise=0.02, seed=3):
    rng = np.random.default_rng(seed)
    B = np.geomspace(128, 32_768, 8)                       # the batch scan: 128 to 32k tokens
    S = S_min * (1 + B_crit / B) * np.exp(rng.normal(0, noise, len(B)))
    return S, S * B


def test_the_tradeoff_fit_recovers_known_constants():
    from scalinglaws.fit import fit_tradeoff
    S, E = tradeoff_data()
    fit = fit_tradeoff(S, E, n_boot=200)
    assert fit.B_crit == pytest.approx(4e3, rel=0.15) and fit.S_min == pytest.approx(2e3, rel=0.1)
    assert fit.B_crit_ci[0] < 4e3 < fit.B_crit_ci[1] and fit.S_min_ci[0] < 2e3 < fit.S_min_ci[1]
    assert fit.E_min == pytest.approx(fit.S_min * fit.B_crit)
    # the hyperbola: (S/S_min − 1)(E/E_min − 1) = 1 on the fitted curve
    b = np.geomspace(100, 1e5, 5)
    assert (fit.steps(b) / fit.S_min - 1) * (fit.examples(b) / fit.E_min - 1) == pytest.approx(np.ones(5))
    with pytest.raises(ValueError, match="same batch size"):
        fit_tradeoff([100, 200, 300], [1e5, 2e5, 3e5])
    with pytest.raises(ValueError, match="at least 3"):
        fit_tradeoff([100, 200], [1e5, 3e5])


def test_the_bootstrap_refits_are_the_least_squares_minimum():
    from scalinglaws.fit import _tradeoff_model, _tradeoff_profile
    model = _tradeoff_model()
    rng = np.random.default_rng(0)
    for noise, n in ((0.02, 8), (0.15, 5)):
        S, E = tradeoff_data(noise=noise, seed=n)
        S, E = S[:n], E[:n]
        logB = np.log(E / S)
        samples = np.log(S)[None, :] + rng.normal(0, noise, (20, n))
        fast = _tradeoff_profile(samples, logB)
        for y, (log_smin, log_bcrit) in zip(samples, fast):
            best = min((model.fit(y, model.make_params(log_smin=dict(value=y.min()), log_bcrit=dict(value=start)),
                                  logB=logB) for start in np.linspace(logB.min() - 1, logB.max() + 1, 7)),
                       key=lambda r: r.chisqr)
            if abs(best.params["log_bcrit"].value - log_bcrit) > 1e-3:      # same minimum, or a flatter-than-grid one
                assert np.sum((y - model.eval(logB=logB, log_smin=log_smin, log_bcrit=log_bcrit)) ** 2) <= \
                    best.chisqr * (1 + 1e-6) + 1e-12
            else:
                assert log_smin == pytest.approx(best.params["log_smin"].value, abs=1e-3)


def test_cli_fit_tradeoff_prints_json(tmp_path, capsys):
    S, E = tradeoff_data()
    csv = tmp_path / "target.csv"
    write_csv(csv, steps=S, tokens=E)
    assert main(["fit", "tradeoff", "--csv", str(csv), "--steps", "steps", "--examples", "tokens", "--boot", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"S_min", "E_min", "B_crit", "S_min_ci", "E_min_ci", "B_crit_ci", "n", "law"} and out["n"] == 8


def test_intervals_overlap_when_all_share_a_point():
    from scalinglaws.fit import intervals_overlap
    assert intervals_overlap((0.1, 0.3), (0.25, 0.5))
    assert intervals_overlap((0.1, 0.3), (0.3, 0.5))                 # a shared end is a shared point
    assert not intervals_overlap((0.1, 0.3), (0.31, 0.5))
    assert intervals_overlap((0.0, 1.0), (0.2, 0.6), (0.5, 0.9))
    assert not intervals_overlap((0.0, 1.0), (0.2, 0.4), (0.5, 0.9))  # pairwise overlap is not enough
