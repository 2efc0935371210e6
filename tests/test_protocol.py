"""Protocols: the kaplan and tuned presets, the calibration's LR-rule fit (edge optima flagged), the
batch choice, the convergence criterion, and the L(N) grids built on the tuned protocol."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from fakes import FakeCorpus
from scalinglaws import protocol
from scalinglaws.analysis import convergence
from scalinglaws.calibration import choose_batch, fit_rule, sweep_optimum
from scalinglaws.config import TrainConfig
from scalinglaws.grids import gpt
from scalinglaws.models import ModelShape, formula_params, kaplan_lr
from scalinglaws.paper import published
from scalinglaws.protocol import LRRule

RULE = LRRule(lr_ref=0.01, exponent=0.3, n_ref=1e5, batch_tokens=2048, n_range=(1_760, 396_800), tokens=2_000_000)


def test_kaplan_preset_is_the_papers_protocol_on_a_shared_horizon():
    cfg = TrainConfig.from_dict(protocol.kaplan(gpt(2, 64, 2), tokens=1_000_000, horizon_tokens=4_000_000))
    assert cfg.protocol == "kaplan" and cfg.lr is None and cfg.horizon_tokens == 4_000_000
    n = formula_params(cfg.shape)["non_embedding"]
    assert cfg.peak_lr(n) == kaplan_lr(n)
    fraction = published("warmup_steps").value / published("steps").value      # 3000 of 2.5e5 steps
    assert cfg.warmup_tokens == round(4_000_000 * fraction)
    # the cosine does not end with the run: the paper's fixed horizon
    assert cfg.lr_at(cfg.steps - 1, n) > 0.5 * cfg.peak_lr(n)
    with pytest.raises(ValueError, match="horizon"):
        protocol.kaplan(gpt(2, 64, 2), tokens=2_000_000, horizon_tokens=1_000_000)


def test_tuned_preset_reads_the_rule_and_warms_up_for_about_n_total_tokens():
    model = gpt(2, 32, 1)
    cfg = TrainConfig.from_dict(protocol.tuned(model, tokens=10_000_000, rule=RULE))
    n = formula_params(cfg.shape)
    assert cfg.protocol == "tuned" and cfg.batch_tokens == RULE.batch_tokens and cfg.horizon_tokens is None
    assert cfg.lr == pytest.approx(0.01 * (n["non_embedding"] / 1e5) ** -0.3, rel=1e-3)
    assert cfg.warmup_tokens == n["total"]
    assert cfg.lr_at(cfg.steps - 1, n["non_embedding"]) < 0.01 * cfg.lr           # cosine matched to the run
    # a floor for tiny models, at most a tenth of a short run
    assert protocol.tuned_warmup_tokens(gpt(1, 8, 1, vocab_size=256), 10_000_000) == protocol.WARMUP_FLOOR
    assert protocol.tuned_warmup_tokens(gpt(4, 128, 4), 2_000_000) == 200_000
    assert TrainConfig.from_dict(protocol.tuned(model, tokens=10_000_000, rule=RULE, batch_tokens=8192)).batch_tokens == 8192
    assert RULE.extrapolates(793_344) and not RULE.extrapolates(25_472)
    with pytest.raises(ValueError, match="unknown protocol preset"):
        protocol.preset("chinchilla", model, tokens=1)


def test_protocol_is_validated_and_old_records_read_as_custom():
    with pytest.raises(ValueError, match="unknown protocol"):
        TrainConfig.from_dict({"model": gpt(2, 16, 1), "protocol": "magic"})
    old = {"model": gpt(2, 16, 1), "tokens": 5_000_000}
    assert TrainConfig.from_record(old).protocol == "custom"


def test_the_record_names_its_protocol(tmp_path):
    from scalinglaws.train import train_run
    config = protocol.tuned(gpt(2, 16, 2, n_ctx=32, vocab_size=256), tokens=20 * 512, rule=RULE, batch_tokens=512,
                            micro_batch_tokens=256, eval_points=4, eval_tokens=1024, final_eval_tokens=2048,
                            ood_eval_tokens=1024)
    record = train_run(config, tmp_path / "run", corpus=FakeCorpus(), progress=False)
    assert record["status"] == "complete" and record["config"]["protocol"] == "tuned"


def test_missing_or_broken_rule_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="scalinglaws calibrate"):
        protocol.load_rule(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="unreadable"):
        protocol.load_rule(tmp_path / "bad.json")
    (tmp_path / "ok.json").write_text(json.dumps(RULE.to_dict()))
    loaded = protocol.load_rule(tmp_path / "ok.json")
    assert (loaded.lr_ref, loaded.exponent, loaded.n_range) == (RULE.lr_ref, RULE.exponent, RULE.n_range)


# -- the calibration fit -------------------------------------------------------------------------

def parabola_sweep(lr_star, lrs, curvature=0.05, floor=4.0):
    return [floor + curvature * math.log(lr / lr_star) ** 2 for lr in lrs]


def test_sweep_optimum_finds_an_interior_vertex():
    lrs = protocol.log_spaced(0.001, 0.032)
    opt = sweep_optimum(lrs, parabola_sweep(0.0057, lrs))
    assert opt.on_edge is None and opt.lr == pytest.approx(0.0057, rel=1e-6) and opt.loss == pytest.approx(4.0)
    assert opt.best_lr == 0.008 and opt.n == 6
    # unsorted input, and a diverged run at the top
    losses = parabola_sweep(0.0057, lrs)
    losses[-1] = math.inf
    opt = sweep_optimum(lrs[::-1], losses[::-1])
    assert opt.lr == pytest.approx(0.0057, rel=1e-6) and opt.diverged == 1


@pytest.mark.parametrize("lr_star,edge", [(0.0004, "low"), (0.1, "high")])
def test_sweep_optimum_on_the_edge_is_flagged_not_used(lr_star, edge):
    lrs = protocol.log_spaced(0.001, 0.032)
    opt = sweep_optimum(lrs, parabola_sweep(lr_star, lrs))
    assert opt.on_edge == edge and opt.lr is None and opt.loss is None


def test_sweep_optimum_refuses_too_little():
    with pytest.raises(ValueError, match="at least 3"):
        sweep_optimum([0.001, 0.002], [4, 5])
    with pytest.raises(ValueError, match="diverged"):
        sweep_optimum([0.001, 0.002, 0.004], [math.inf] * 3)


def synthetic_optima(rng, noise=0.02):
    rows = []
    for n in (1_760, 25_472, 396_800):
        for batch, shift in ((2048, 1.0), (8192, 1.8)):
            lr_star = shift * 0.01 * (n / 1e5) ** -0.3 * math.exp(rng.normal(0, noise))
            lrs = protocol.log_spaced(lr_star / 6, lr_star * 5)
            opt = sweep_optimum(lrs, parabola_sweep(lr_star, lrs, floor=5 - 0.1 * math.log10(n) + (batch == 8192) * 0.1))
            rows.append({"N": n, "batch_tokens": batch, **opt.to_dict()})
    return pd.DataFrame(rows)


def test_rule_fit_recovers_a_known_exponent_and_leaves_out_edges():
    optima = synthetic_optima(np.random.default_rng(0))
    rule = fit_rule(optima[optima["batch_tokens"] == 2048], batch_tokens=2048, tokens=2_000_000)
    assert rule.exponent == pytest.approx(0.3, abs=0.03) and rule.lr_ref == pytest.approx(0.01, rel=0.1)
    assert rule.n_range == (1_760, 396_800) and len(rule.points) == 3
    # an edge optimum is not used: the rule stands on the other two sizes
    edged = optima[optima["batch_tokens"] == 2048].copy()
    edged.loc[edged["N"] == 396_800, ["lr", "loss", "on_edge"]] = [None, None, "high"]
    rule2 = fit_rule(edged, batch_tokens=2048, tokens=2_000_000)
    assert rule2.n_range == (1_760, 25_472) and len(rule2.points) == 2
    edged.loc[edged["N"] == 25_472, ["lr", "loss", "on_edge"]] = [None, None, "low"]
    with pytest.raises(ValueError, match="2 or more sizes"):
        fit_rule(edged, batch_tokens=2048, tokens=2_000_000)


def test_choose_batch_prefers_lower_loss_then_the_larger_batch():
    optima = synthetic_optima(np.random.default_rng(1))
    assert choose_batch(optima) == 2048                      # 8k is 0.1 nats worse everywhere
    tied = optima.copy()
    tied.loc[tied["batch_tokens"] == 8192, "best_loss"] = tied.loc[tied["batch_tokens"] == 2048, "best_loss"].to_numpy() + 0.01
    # within 0.02 nats: a tie goes to the larger batch
    assert choose_batch(tied) == 8192


# -- convergence -----------------------------------------------------------------------------------

def curve(tokens, losses):
    return [{"tokens": t, "val_loss": v} for t, v in zip(tokens, losses)]


def test_convergence_criterion_compares_a_run_with_its_shorter_companion():
    t = np.geomspace(1e4, 1e7, 30)
    law = lambda tok: 3 + 10 * tok ** -0.2                   # noqa: E731  (still falling 4%/half-decade at 1e7)
    short = (1e7 / 10 ** 0.5, law(1e7 / 10 ** 0.5))
    falling = convergence(curve(t, law(t)), short)
    assert not falling["converged"] and falling["reason"] == "falling" and falling["change"] > 0.02
    assert falling["change"] == pytest.approx((short[1] - law(1e7)) / law(1e7))
    flat = lambda tok: 3 + 1e3 * tok ** -0.8                 # noqa: E731
    ok = convergence(curve(t, flat(t)), (1e7 / 10 ** 0.5, flat(1e7 / 10 ** 0.5)))
    assert ok["converged"] and ok["reason"] == "flat" and ok["change"] < 0.02
    # a companion a whole decade shorter: its change is rescaled to half a decade
    decade = convergence(curve(t, law(t)), (1e6, law(1e6)))
    assert decade["change"] == pytest.approx((law(1e6) - law(1e7)) / law(1e7) / 2)
    # a cosine run's curve falls steeply at its end; only the companion decides
    annealed = law(t) - 0.3 * (t / 1e7) ** 4
    flat_between_runs = convergence(curve(t, annealed), (1e7 / 10 ** 0.5, annealed[-1] * 1.01))
    assert flat_between_runs["reason"] == "flat"


def test_convergence_minimum_unchecked_and_bad_companions():
    t = np.geomspace(1e4, 1e7, 30)
    overfit = 3 + 10 * t ** -0.3 + 1e-8 * t                    # a minimum, then the loss rises
    m = convergence(curve(t, overfit))
    assert m["converged"] and m["reason"] == "minimum" and m["best_tokens"] < m["end_tokens"]
    alone = convergence(curve(t, 3 + 10 * t ** -0.2))
    assert not alone["converged"] and alone["reason"] == "unchecked" and np.isnan(alone["change"])
    with pytest.raises(ValueError, match="not shorter"):
        convergence(curve(t, 3 + 10 * t ** -0.2), (2e7, 3.5))
    with pytest.raises(ValueError, match="at least one point"):
        convergence([])


def test_size_law_pairs_each_run_with_its_companion():
    from scalinglaws import size_law

    def run(run_id, d, tokens, seed, loss):
        return {"run_id": run_id, "n_layer": 2, "d_model": d, "N": d * 100, "N_total": d * 300, "seed": seed,
                "config_tokens": tokens, "tokens": tokens, "loss_test": loss,
                "curve": curve([tokens / 10, tokens], [loss + 1, loss])}
    runs = pd.DataFrame([run("a", 8, 8e6, 0, 5.0), run("a_s1", 8, 8e6, 1, 5.02), run("a_short", 8, 2.53e6, 0, 5.05),
                         run("b", 16, 8e6, 0, 4.5), run("b_short", 16, 2.53e6, 0, 4.8)])
    main, short = size_law.split_budgets(runs)
    assert list(main["run_id"]) == ["a", "a_s1", "b"] and list(short["run_id"]) == ["a_short", "b_short"]
    checked = size_law.with_convergence(runs).set_index("run_id")
    assert checked.loc["a", "conv_reason"] == "flat" and checked.loc["b", "conv_reason"] == "falling"
    assert checked.loc["a_s1", "short_loss"] == 5.05           # the second seed is held against seed 0's companion
    both = size_law.budgets(runs)
    assert list(both["loss"]) == [pytest.approx(5.01), 4.5] and list(both["short_loss"]) == [5.05, 4.8]


# -- the L(N) grids ----------------------------------------------------------------------------------

def test_lnn_grid_separates_depth_from_width_and_spans_the_range():
    from scalinglaws.grids.ln import lnn_runs, quick_runs
    runs = lnn_runs(RULE)
    shapes = {(r.shape.n_layer, r.shape.d_model) for r in runs}
    n = sorted({r.params["non_embedding"] for r in runs})
    assert len(n) >= 9 and math.log10(n[-1] / n[0]) >= 2.5
    widths = {}
    for depth, width in shapes:
        widths.setdefault(depth, set()).add(width)
    assert sum(len(w) >= 3 for w in widths.values()) >= 2
    seeds = {}
    for r in runs:
        seeds.setdefault((r.shape.n_layer, r.shape.d_model), set()).add(r.config["seed"])
    assert sum(len(s) >= 2 for s in seeds.values()) >= 3
    assert all(r.config["protocol"] == "tuned" and r.config["early_stopping_patience"] for r in runs)
    # every shape has a companion on half a decade fewer tokens, same seed and protocol
    for grid in (runs, quick_runs(RULE)):
        by_id = {r.run_id: r for r in grid}
        mains = [r for r in grid if not r.run_id.endswith("_short") and "_s" not in r.run_id]
        for r in mains:
            mate = by_id[r.run_id + "_short"]
            assert mate.config["seed"] == r.config["seed"] and mate.config["lr"] == r.config["lr"]
            assert math.log10(r.config["tokens"] / mate.config["tokens"]) == pytest.approx(0.5, abs=1e-3)
            assert mate.config["tokens"] % RULE.batch_tokens == 0
    quick = quick_runs(RULE)
    assert all(r.config["protocol"] == "tuned" for r in quick)
    assert sum(r.cost for r in quick) < sum(r.cost for r in runs) / 20
