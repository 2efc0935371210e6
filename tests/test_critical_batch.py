"""The critical-batch analysis on synthetic scans whose steps–examples trade-off is known exactly."""
import numpy as np
import pandas as pd
import pytest

from scalinglaws import critical_batch as cb

ALPHA_B, B_STAR = 0.21, 2e8          # B_crit(L) = B*/L^(1/α_B): 2e8/5^(1/0.21) ≈ 9.4e4 … so scale it down
SCALE = 1e-2


def b_crit(loss):
    return SCALE * B_STAR / np.asarray(loss, float) ** (1 / ALPHA_B)


def s_min(loss):
    return 40 * (np.asarray(loss, float) - 3.0) ** -2.0


def trace(batch: int, steps: int = 4000, every: int = 2, warmup_tokens: float = 0.0) -> dict:
    """Block means of a training loss whose steps to every loss L are S_min(L)(1 + B_crit(L)/B), plus
    ``warmup_tokens``/B steps of a warmup that teaches nothing."""
    grid = np.linspace(7.5, 3.6, 4000)
    s_of_l = s_min(grid) * (1 + b_crit(grid) / batch) + warmup_tokens / batch   # increasing as the loss falls
    step = np.arange(every, steps + 1, every)
    loss = np.interp(step, s_of_l, grid, left=grid[0], right=grid[-1])
    return {"every": every, "batch_tokens": batch, "step": step.tolist(), "tokens": (step * batch).tolist(),
            "train_loss": loss.tolist()}


def scan(batches=(128, 256, 512, 1024, 2048, 4096, 8192, 16384), n=1e4, suffix=""):
    return pd.DataFrame([{"run_id": f"L2-d16_b{b}{suffix}", "N": n, "batch_tokens": b, "lr": 0.01,
                          "trace": trace(b)} for b in batches])


def test_the_tradeoff_and_the_critical_batch_law_are_recovered():
    runs = scan()
    targets = [5.0, 4.6, 4.3, 4.1]
    reached = cb.steps_to_targets(runs, targets, blocks=1)
    assert reached["S"].notna().all()
    fits = cb.tradeoffs(reached, n_boot=40)
    assert len(fits) == len(targets)
    for _, row in fits.iterrows():
        assert row["B_crit"] == pytest.approx(float(b_crit(row["target"])), rel=0.05)
        assert row["S_min"] == pytest.approx(float(s_min(row["target"])), rel=0.05)
        assert row["B_crit_ci"][0] <= row["B_crit"] <= row["B_crit_ci"][1]
        assert row["inside_scan"] == (row["B_lo"] <= row["B_crit"] <= row["B_hi"]) and row["B_lo"] == 128
    alpha_b, ci, b_star, _ = cb.critical_batch_law(fits, n_boot=40)
    assert alpha_b == pytest.approx(ALPHA_B, rel=0.05) and ci[0] <= alpha_b <= ci[1]
    assert b_star == pytest.approx(SCALE * B_STAR, rel=0.2)


def test_targets_are_rungs_crossed_by_enough_batches():
    runs = pd.concat([scan(), scan((256,), suffix="_lrx2")])
    targets = cb.common_targets(runs, spacing=0.2)
    assert list(targets) == [1e4] and len(targets[1e4]) >= 3
    assert np.allclose(targets[1e4] / 0.2, np.round(targets[1e4] / 0.2))          # multiples of the spacing
    reached = cb.steps_to_targets(runs, targets, blocks=1)
    crossed = reached[reached["lr_factor"] == 1.0].groupby("target")["S"].count()
    assert (crossed >= cb.MIN_POINTS).all()


def test_a_batch_crosses_a_rung_at_any_rate_and_counts_once():
    four = scan((256, 512, 1024, 2048))
    short = four.assign(trace=[trace(b, steps=300) for b in four["batch_tokens"]])   # stop at higher losses
    low = cb.common_targets(four, spacing=0.2)[1e4]
    high = cb.common_targets(short, spacing=0.2)[1e4]
    deep = sorted(set(low) - set(high))
    assert deep                                          # rungs only the long runs reach
    # the fourth batch reaches the deep rungs only at another rate: they count (4 batches)
    mixed = pd.concat([short.iloc[:3].assign(trace=list(four["trace"][:3])), short.iloc[3:],
                       four.iloc[3:].assign(run_id=lambda d: d["run_id"] + "_lrx0.5")])
    assert set(deep) <= set(cb.common_targets(mixed, spacing=0.2)[1e4])
    # one batch at two rates is still one batch: three batches do not make a rung
    three = pd.concat([four.iloc[:3], four.iloc[2:3].assign(run_id=lambda d: d["run_id"] + "_lrx0.5")])
    assert len(cb.common_targets(three, spacing=0.2)[1e4]) == 0


def test_targets_are_shared_across_sizes_and_read_after_warmup():
    small = scan(batches=(256, 512, 1024, 2048, 4096), n=1e4).assign(
        trace=[trace(b, steps=300) for b in (256, 512, 1024, 2048, 4096)])
    large = scan(batches=(256, 512, 1024, 2048, 4096), n=4e4)        # trained longer: reaches lower losses
    targets = cb.common_targets(pd.concat([small, large]), spacing=0.2)
    assert len(targets[4e4]) > len(targets[1e4]) > 0
    assert set(np.round(targets[1e4], 6)) <= set(np.round(targets[4e4], 6))   # one ladder: same losses at both N
    # a warmup fixed in tokens: the small batches end it after many steps, already below the upper rungs
    warm = large.assign(warmup_tokens=400_000)
    ends = {run["batch_tokens"]: cb.warmup_end_loss(run, blocks=1) for _, run in warm.iterrows()}
    assert ends[256] < ends[4096]                                      # the small batch got further in warmup
    reached = cb.steps_to_targets(warm, targets[4e4], blocks=1)
    for _, row in reached.iterrows():                                  # no point from a rung crossed in warmup
        if row["target"] >= ends[row["batch_tokens"]]:
            assert np.isnan(row["S"]) and np.isnan(row["E"])
    capped = cb.common_targets(pd.concat([small, warm]), spacing=0.2)
    assert capped[4e4].max() < max(ends.values()) and list(capped[1e4]) == list(targets[1e4])


def test_the_law_reads_only_critical_batches_inside_the_scan():
    fits = pd.DataFrame({"target": [5.0, 4.6, 4.3, 6.0], "B_crit": [float(b_crit(x)) for x in (5.0, 4.6, 4.3)] + [1e-9],
                         "inside_scan": [True, True, True, False]})
    alpha_b, _, _, _ = cb.critical_batch_law(fits, n_boot=0)
    assert alpha_b == pytest.approx(ALPHA_B, rel=1e-3)                # the extrapolated 1e-9 left out
    with pytest.raises(ValueError, match="inside"):
        cb.critical_batch_law(fits.assign(inside_scan=[True, False, False, False]), n_boot=0)


def test_smoothing_has_no_lag_and_targets_never_reached_are_nan():
    t = trace(1024)
    smooth = cb.smoothed_trace(t, blocks=9)
    raw = np.asarray(t["train_loss"])
    assert np.abs(smooth["loss"].to_numpy()[20:-20] - raw[20:-20]).max() < 0.01     # centred: a line stays put
    reached = cb.steps_to_targets(scan((1024,)), [2.0])
    assert reached["S"].isna().all()


def test_the_lr_check_reads_each_multiple():
    runs = pd.concat([scan((256,)), scan((256,), suffix="_lrx0.5"), scan((256,), suffix="_lrx2")])
    runs.loc[runs["run_id"].str.endswith("_lrx2"), "trace"] = [trace(512)]   # twice the LR acts like a larger batch
    reached = cb.steps_to_targets(runs, [4.5])
    check = cb.lr_check(reached)
    assert len(check) == 1 and check["best_factor"].iloc[0] == 2.0 and check["excess"].iloc[0] > 0
    assert set(check.columns) >= {"S_x0.5", "S_x1", "S_x2"}
    verdict = cb.lr_check_verdict(check)
    assert verdict["n"] == 1 and verdict["rule_best"] == 0 and verdict["excess_max"] > 0
    assert "at most" in verdict["verdict_en"] and "최대" in verdict["verdict_ko"]


def test_the_lr_check_counts_a_rule_that_never_reaches_and_a_grid_without_checks():
    runs = pd.concat([scan((256,)), scan((256,), suffix="_lrx2")])
    runs.loc[runs["run_id"] == "L2-d16_b256", "trace"] = [trace(256, steps=40)]   # ×1 stops far above the target
    check = cb.lr_check(cb.steps_to_targets(runs, [4.5]))
    assert np.isinf(check["excess"].iloc[0]) and check["best_factor"].iloc[0] == 2.0
    verdict = cb.lr_check_verdict(check)
    assert verdict["rule_missed"] == 1 and "never reached" in verdict["verdict_en"]
    empty = cb.lr_check_verdict(cb.lr_check(cb.steps_to_targets(scan((256, 1024)), [4.5])))
    assert empty["n"] == 0 and "not checked" in empty["verdict_en"]


def test_minimum_steps_and_compute():
    assert cb.steps_min(300, 1000, 2000) == pytest.approx(100)
    assert cb.compute_min(300, 4000, 2000) == pytest.approx(100)
    assert cb.lr_factor("L2-d16_b256_lrx0.5") == 0.5 and cb.lr_factor("L2-d16_b256") == 1.0


def test_the_noise_scale_along_a_run():
    t = trace(2048)
    n = len(t["step"])
    b, big = 1024.0, 2048.0
    t.update(grad_sq_micro=[1 + 1000 / b] * n, grad_sq_pair_full=[1 + 1000 / big] * n, micro_tokens=[b] * n)
    runs = pd.DataFrame([{"run_id": "L2-d16_b2048", "N": 1e4, "batch_tokens": 2048, "lr": 0.01, "trace": t},
                         {"run_id": "L2-d16_b2048_lrx2", "N": 1e4, "batch_tokens": 2048, "lr": 0.02, "trace": t}])
    curves = cb.noise_scale_curves(runs, window=5)
    assert set(curves["run_id"]) == {"L2-d16_b2048"}                       # the rule's LR only
    assert curves["B_simple"].to_numpy() == pytest.approx(1000.0)
    assert curves["loss"].notna().all()


def test_the_chapter_figures_draw(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from scalinglaws import figures

    runs = pd.concat([scan(), scan(n=4e4).assign(trace=[trace(b, steps=6000) for b in scan()["batch_tokens"]])])
    reached = cb.steps_to_targets(runs, [5.0, 4.6, 4.3], blocks=1)
    fits = cb.tradeoffs(reached, n_boot=20)
    law = cb.critical_batch_law(fits, n_boot=20)
    for fig, _ in (figures.plot_tradeoff(reached, fits, 1e4),
                   figures.plot_critical_batch(fits, law, paper=(0.21, 2e8)),
                   figures.plot_critical_batch_vs_tokens(fits),
                   figures.plot_minimum_steps_and_tokens(fits)):
        fig.savefig(tmp_path / "f.png")


def test_the_collapse_test_tells_loss_from_tokens():
    rows = []
    for n, tokens_scale in ((1e4, 1.0), (1e5, 0.2)):          # the larger model reaches each loss on fewer tokens
        for target in (5.0, 4.7, 4.4, 4.1):
            rows.append({"N": n, "target": target, "B_crit": float(b_crit(target)),
                         "E_min": tokens_scale * 1e6 * (target - 3.0) ** -3, "B_crit_ci": (0.9 * float(b_crit(target)),
                                                                                  1.1 * float(b_crit(target)))})
    fits = pd.DataFrame(rows)
    out = cb.collapse_test(fits)
    assert out["loss"] < 1e-6 < out["tokens"] and "Against the loss" in out["verdict_en"]
    swapped = fits.assign(target=fits["target"] + np.where(fits["N"] > 5e4, 0.3, 0.0))   # B_crit no longer a function of L
    assert "Against the loss" not in cb.collapse_test(swapped)["verdict_en"]


def test_the_noise_scale_is_read_where_each_target_is_reached():
    noise = pd.DataFrame({"run_id": ["a"] * 4, "N": [1e4] * 4, "loss": [6.0, 5.0, 4.5, 4.0],
                          "B_simple": [100.0, 200.0, 400.0, 800.0]})
    fits = pd.DataFrame([{"N": 1e4, "target": 4.6, "B_crit": 800.0}])
    out = cb.noise_to_critical(noise, fits)
    assert out["B_simple"].iloc[0] == 400.0 and out["ratio"].iloc[0] == 0.5


def test_noise_tracking_tells_a_constant_factor_from_no_relation():
    rng = np.random.default_rng(1)
    b = np.geomspace(1e3, 3e4, 12)
    tracked = pd.DataFrame({"B_crit": b, "B_simple": 0.4 * b * np.exp(rng.normal(0, 0.05, len(b)))})
    out = cb.noise_tracking(tracked, n_boot=200)
    assert out["tracks"] and out["median"] == pytest.approx(0.4, rel=0.1)
    assert out["median_ci"][0] <= out["median"] <= out["median_ci"][1] and "tracks" in out["verdict_en"]
    assert 0.36 < out["median_ci"][0] and out["median_ci"][1] < 0.44
    flat = tracked.assign(B_simple=2e3 * np.exp(rng.normal(0, 0.05, len(b))))   # no relation to B_crit
    assert not cb.noise_tracking(flat, n_boot=200)["tracks"]
    assert "Too few" in cb.noise_tracking(tracked.head(2))["verdict_en"]


def test_other_chapters_wait_for_the_whole_batch_grid(tmp_path):
    (tmp_path / "batch" / "L2-d32_B2k").mkdir(parents=True)
    (tmp_path / "batch" / "L2-d32_B2k" / "run.json").write_text("{}")       # a run still starting
    with pytest.raises(ValueError, match=r"batch: 0 of \d+ runs trained"):
        cb.measured_law(tmp_path)
    with pytest.raises(FileNotFoundError):
        cb.measured_law(tmp_path / "nothing")


def test_each_batch_at_its_fastest_rate():
    reached = pd.DataFrame({
        "N": 1e4, "batch_tokens": [256, 256, 256, 512, 1024, 1024], "target": 5.0,
        "lr_factor": [1.0, 0.5, 2.0, 1.0, 1.0, 0.5], "S": [100.0, 80.0, np.nan, 60.0, np.nan, 45.0]})
    reached["E"] = reached["S"] * reached["batch_tokens"]
    best = cb.fastest_lr(reached)
    assert list(best["batch_tokens"]) == [256, 512, 1024]
    assert list(best["lr_factor"]) == [0.5, 1.0, 0.5] and list(best["S"]) == [80.0, 60.0, 45.0]
    # a tie keeps the rule's own rate; a batch no rate reached keeps the rule's row (S = NaN)
    tie = reached.assign(S=[80.0, 80.0, np.nan, 60.0, np.nan, np.nan])
    assert list(cb.fastest_lr(tie)["lr_factor"]) == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="rule"):
        cb.tradeoffs(reached, lr="best")


def test_a_warmup_in_tokens_raises_e_min_and_can_be_left_out():
    w = 2e5                                               # a warmup of 200k tokens at every batch, learning nothing
    runs = scan().assign(trace=[trace(b, steps=8000, warmup_tokens=w) for b in scan()["batch_tokens"]],
                         warmup_tokens=w)
    targets = [5.0, 4.6, 4.3]
    reached = cb.steps_to_targets(runs, targets, blocks=1)
    assert (reached["E_warmup"] == w).all() and np.allclose(reached["S_warmup"], w / reached["batch_tokens"])
    counted = cb.tradeoffs(reached, n_boot=20)
    excluded = cb.tradeoffs(reached, n_boot=20, warmup="excluded")
    for (_, c), (_, e) in zip(counted.iterrows(), excluded.iterrows()):
        assert e["B_crit"] == pytest.approx(float(b_crit(e["target"])), rel=0.05)      # the law without the warmup
        assert c["E_min"] > e["E_min"] and c["B_crit"] > e["B_crit"]                  # counting it biases B_crit up
    with pytest.raises(ValueError, match="counted"):
        cb.tradeoffs(reached, warmup="skip")


def test_the_lr_check_summary_names_the_usual_winner_per_batch():
    check = pd.DataFrame({"N": 1e4, "batch_tokens": [256] * 3 + [512] * 2, "target": [5.0, 4.8, 4.6, 5.0, 4.8],
                          "best_factor": [0.5, 1.0, 0.5, 1.0, np.nan], "excess": [0.2, 0.0, np.inf, 0.0, np.nan]})
    summary = cb.lr_check_summary(check)
    assert list(summary["batch_tokens"]) == [256, 512]
    first = summary.iloc[0]
    assert first["best_factor"] == 0.5 and first["wins"] == 2 and first["targets"] == 3 and first["rule_excess"] == 0.2
    assert summary.iloc[1]["targets"] == 1 and summary.iloc[1]["rule_excess"] == 0.0
    assert cb.lr_check_summary(check.iloc[:0]).empty and cb.lr_check_summary(pd.DataFrame()).empty


def test_where_a_lower_rate_wins():
    summary = pd.DataFrame({"N": [1e4] * 4 + [4e4] * 4, "batch_tokens": [256, 1024, 4096, 16384] * 2,
                            "best_factor": [0.5, 1.0, 0.5, 0.5, 1.0, 1.0, 1.0, 0.5]})
    assert cb.lower_rate_counts(summary, 2048) == {"above": (3, 4), "below": (1, 4)}
    assert cb.lower_rate_counts(summary, 1e6) == {"above": (0, 0), "below": (4, 8)}


def test_each_scan_can_be_read_alone():
    runs = pd.concat([scan(), scan(suffix="_lrx0.5")])
    reached = cb.steps_to_targets(runs, [5.0, 4.6], blocks=1)
    assert len(cb.tradeoffs(reached, n_boot=10, lr=0.5)) == 2 == len(cb.tradeoffs(reached, n_boot=10, lr="rule"))
    assert cb.tradeoffs(reached, n_boot=10, lr=0.25).empty
    with pytest.raises(ValueError, match="multiple"):
        cb.tradeoffs(reached, lr=-1)


def test_the_law_under_each_reading():
    runs = pd.concat([scan(), scan(suffix="_lrx0.5")]).assign(warmup_tokens=0.0)
    reached = cb.steps_to_targets(runs, [5.0, 4.6, 4.3, 4.1], blocks=1)
    table = cb.reading_sensitivity(reached, n_boot=20)
    assert list(table["reading"]) == list(cb.READINGS)
    main = table.iloc[0]
    assert main["B_crit_shift"] == 0 and main["common"] == main["inside"] == 4
    assert main["alpha_B"] == pytest.approx(ALPHA_B, rel=0.05)
    # the same synthetic trade-off at both rates and no warmup: every reading agrees
    assert np.allclose(table["alpha_B"], main["alpha_B"], rtol=1e-6) and np.allclose(table["B_crit_shift"], 0, atol=1e-6)


def test_the_chapter_verdicts_are_worded_from_the_numbers():
    summary = pd.DataFrame({"batch_tokens": [512, 1024, 8192, 16384], "best_factor": [1.0, 1.0, 0.5, 0.5]})
    lower = cb.lower_rate_verdict(summary, 2000.0)
    assert lower["counts"] == {"above": (2, 2), "below": (0, 2)} and "McCandlish" in lower["verdict_en"]
    assert cb.lower_rate_verdict(summary, 1e6)["verdict_en"] == ""          # no cell above: nothing to say

    fits = pd.DataFrame({"N": [1e4] * 3 + [2e4] * 3, "target": [5.0, 5.5, 6.0] * 2,
                         "B_crit": [1000, 800, 2500, 1000, 900, 1100]})
    turn = cb.turn_up_verdict(fits)
    assert list(turn["turned"]) == [1e4] and "N = 10,000" in turn["verdict_en"]

    runs = pd.DataFrame({"run_id": ["a_x1", "a_x05"], "N": [1e4, 1e4], "batch_tokens": [4096, 4096]})
    diverged = pd.DataFrame({"run_id": ["a_x2"], "N": [1e4], "batch_tokens": [4096], "warmup_steps": [3], "lr": [0.02]})
    text = cb.diverged_verdict(diverged, runs)["verdict_en"]
    assert "`a_x2`" in text and "read from `a_x1`, `a_x05`" in text
    assert cb.diverged_verdict(diverged.iloc[:0], runs)["verdict_en"] == "No run diverged."

    sens = pd.DataFrame({"alpha_B": [0.22, 0.10, 0.21], "alpha_B_ci": [(0.15, 0.5), (0.09, 0.13), (0.15, 0.35)]},
                        index=["fastest", "rule", "half"])
    assert "clearly smaller" in cb.sensitivity_verdict(sens)["verdict_en"]
    sens.at["rule", "alpha_B_ci"] = (0.1, 0.4)
    assert "no pattern" in cb.sensitivity_verdict(sens)["verdict_en"]
