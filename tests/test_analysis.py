"""The analysis layer: curves read at fixed x, first crossings, envelopes, the gradient noise scale."""
import numpy as np
import pandas as pd
import pytest

from scalinglaws.analysis import envelope, first_reach, interpolate_at, noise_scale


def power_curve(a, n_points=20, lo=1e3, hi=1e6):
    x = np.geomspace(lo, hi, n_points)
    return pd.DataFrame({"compute_6N": x, "val_loss": 10 * x ** -a})


def test_interpolation_is_exact_on_power_laws_and_never_extrapolates():
    c = power_curve(0.1)
    at = [2e3, 5e4, 9e5, 1e2, 1e7]
    got = interpolate_at(c, "compute_6N", "val_loss", at)
    assert np.allclose(got[:3], 10 * np.array(at[:3]) ** -0.1)
    assert np.isnan(got[3:]).all()


def test_first_reach():
    c = power_curve(0.1)
    target = 10 * 3e4 ** -0.1
    assert first_reach(c, "compute_6N", "val_loss", target) == pytest.approx(3e4, rel=1e-9)
    assert np.isnan(first_reach(c, "compute_6N", "val_loss", 0.1))


def test_envelope_picks_the_lowest_curve_and_flags_edges():
    # three "runs": the middle one is best in the middle of the compute range
    parts = []
    for run, (n, shift, lo, hi) in enumerate([(1e3, 0.0, 1e3, 1e5), (1e4, -0.3, 1e4, 1e6), (1e5, 0.2, 1e5, 1e7)]):
        x = np.geomspace(lo, hi, 30)
        parts.append(pd.DataFrame({"compute_6N": x, "val_loss": 5 - 0.2 * np.log10(x / lo) + shift + 0.5 * (run == 2),
                                   "run_id": f"r{run}", "N": n}))
    env = envelope(pd.concat(parts), points=25)
    assert env["compute_6N"].is_monotonic_increasing
    assert env.loc[env["compute_6N"] < 1e4, "run_id"].eq("r0").all()
    assert env.loc[(env["compute_6N"] > 2e4) & (env["compute_6N"] < 1e6), "run_id"].eq("r1").all()
    assert env["on_edge"].eq(env["run_id"].isin(["r0", "r2"])).all()


def test_noise_scale_recovers_a_known_noise_scale():
    # |G_b|² = |G|² + tr(Σ)/b exactly: B_simple = tr(Σ)/|G|² = 2000 tokens
    G2, tr, b, B = 0.5, 1000.0, 512, 4096
    trace = {"every": 1, "batch_tokens": B, "step": [1, 2, 3], "micro_tokens": [b, b, None],
             "grad_sq_micro": [G2 + tr / b] * 2 + [None], "grad_sq_pair_full": [G2 + tr / B] * 2 + [None]}
    t = noise_scale(trace, window=2)
    assert len(t) == 2 and np.allclose(t["B_simple"], 2000) and np.allclose(t["G2"], G2)
