"""The power-law fit recovers a known exponent from noisy data, and the CLI prints it as JSON.
(The installed console script itself is tested in test_cli.py.)"""
import json

import numpy as np
import pytest

from scalinglaws.fit import fit_power_law
from scalinglaws.cli import main


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


@pytest.mark.parametrize("x,y,msg", [([1, 2], [1, 2], "at least 3"), ([1, 2, -3], [1, 1, 1], "positive"),
                                     ([2, 2, 2], [1, 2, 3], "all x are equal")])
def test_bad_input_is_refused(x, y, msg):
    with pytest.raises(ValueError, match=msg):
        fit_power_law(x, y)


def test_cli_fit_power_prints_json(tmp_path, capsys):
    x, y = synthetic()
    csv = tmp_path / "points.csv"
    csv.write_text("N,loss\n" + "\n".join(f"{a},{b}" for a, b in zip(x, y)))
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
    csv.write_text("N,loss\n" + "\n".join(f"{a},{b}" for a, b in zip(x, y)))
    assert main(["fit", "power", "--offset", "--csv", str(csv), "--x", "N", "--y", "loss", "--boot", "100"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"E", "alpha", "x_c", "E_ci", "alpha_ci", "x_c_ci", "aicc", "law"}
    assert out["law"].startswith("loss = E + ") and out["E_ci"][0] < 2.0 < out["E_ci"][1]
