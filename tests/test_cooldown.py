"""Cooldown branches: the loss a run of each budget would reach, read off one constant-LR run."""
import copy

import pytest

from fakes import FakeCorpus
from scalinglaws.config import TrainConfig
from scalinglaws.grids import gpt
from scalinglaws.runs import cooldown_points, load_grid, read_record
from scalinglaws.sampling import fixed_windows
from scalinglaws.train import Trainer, train_run

# 24 constant-LR steps of 512 tokens; cooldowns to 10, 20 and 30 steps branch after steps 8, 16 and 24.
BASE = TrainConfig(model=gpt(2, 16, 2, n_ctx=32, vocab_size=256), tokens=24 * 512, batch_tokens=512,
                   micro_batch_tokens=256, lr=0.01, warmup_tokens=1024, schedule="constant", eval_points=6,
                   eval_tokens=2048, final_eval_tokens=4096, ood_eval_tokens=2048, checkpoint_interval_s=0,
                   dropout=0.1, grad_stats_every=3).to_dict()
COOL = {**BASE, "protocol": "cooldown", "cooldown_budgets": [5120, 10240, 15360]}


@pytest.fixture(scope="module")
def corpus():
    return FakeCorpus()


def test_plan_and_impossible_cooldowns():
    assert TrainConfig.from_dict(COOL).cooldown_plan() == [(5120, 8, 2), (10240, 16, 4), (15360, 24, 6)]
    for change, msg in [({"cooldown_budgets": [15360, 5120]}, "increasing"),
                        ({"cooldown_budgets": [20480]}, "after the run's last"),
                        ({"warmup_tokens": 8192}, "inside the warmup"),
                        ({"schedule": "cosine"}, "constant learning rate"),
                        ({"early_stopping_patience": 3}, "exclude each other"),
                        ({"cooldown_fraction": 1.0}, "cooldown_fraction")]:
        with pytest.raises(ValueError, match=msg):
            TrainConfig.from_dict({**COOL, **change})


def test_branches_leave_the_run_untouched_and_are_runs_of_their_budget(corpus, tmp_path):
    plain = train_run(BASE, tmp_path / "plain", corpus=corpus, progress=False)
    cooled = train_run(COOL, tmp_path / "cooled", corpus=corpus, progress=False)
    # the constant-LR run is the same run with or without branches (state, data order, RNG, dropout restored)
    strip = lambda curve: [{k: v for k, v in c.items() if k != "wall_s"} for c in curve]   # noqa: E731
    assert strip(cooled["curve"]) == strip(plain["curve"])
    assert cooled["final"]["eval"] == plain["final"]["eval"]
    assert [c["budget"] for c in cooled["cooldowns"]] == [5120, 10240, 15360]
    assert [c["tokens"] for c in cooled["cooldowns"]] == [5120, 10240, 15360]
    # a branch is what a run of that budget gives: constant LR, then the linear cooldown, trained by hand
    config = TrainConfig.from_dict(COOL)
    trainer = Trainer(config, corpus)
    for _ in range(16):
        trainer.step()
    for k in range(4):
        trainer.step(lr=0.01 * (4 - k) / 4)
    loss = trainer.evaluate(fixed_windows(corpus.tokens("val"), config.final_eval_tokens, trainer.length))
    assert cooled["cooldowns"][1]["val_loss"] == pytest.approx(loss, abs=1e-6)
    table = cooldown_points(load_grid(tmp_path, report=False))
    assert len(table) == 3 and (table["compute_6N"] == table["tokens"] * cooled["flops_per_token"]["kaplan_6N"]).all()


@pytest.fixture(scope="module")
def whole(corpus, tmp_path_factory):
    return train_run(COOL, tmp_path_factory.mktemp("whole"), corpus=corpus, progress=False)


@pytest.mark.parametrize("kill_at,done", [(18, 1), (26, 2)])   # inside the second branch; inside the last, at the end
def test_a_kill_inside_a_branch_resumes_at_its_branch_point(corpus, tmp_path, monkeypatch, whole, kill_at, done):
    real_step = Trainer.step

    def dies_in_a_branch(self, lr=None):
        if lr is not None and self.state["step"] == kill_at:
            raise KeyboardInterrupt(f"killed inside a cooldown at step {kill_at}")
        return real_step(self, lr)

    monkeypatch.setattr(Trainer, "step", dies_in_a_branch)
    with pytest.raises(KeyboardInterrupt):
        train_run(COOL, tmp_path / "killed", corpus=corpus, progress=False)
    monkeypatch.setattr(Trainer, "step", real_step)
    interrupted = read_record(tmp_path / "killed")
    assert interrupted["status"] == "running" and len(interrupted["cooldowns"]) == done
    resumed = train_run(COOL, tmp_path / "killed", corpus=corpus, progress=False)
    drop = lambda rows: [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]   # noqa: E731
    assert drop(resumed["cooldowns"]) == drop(whole["cooldowns"])
    assert resumed["final"]["eval"] == whole["final"]["eval"]
    assert drop(resumed["curve"]) == drop(whole["curve"])
    assert resumed["trace"] == whole["trace"]


def test_the_cooldown_protocol_keeps_the_budgets_its_warmup_fits():
    from scalinglaws import protocol
    from scalinglaws.grids.ln import shape
    from scalinglaws.models import ModelShape, formula_params
    budgets = [10_000_000 // 2 ** k for k in range(7)]
    for width, layers in ((8, 2), (32, 2), (128, 4)):
        model = shape(layers, width)
        config = protocol.cooldown(model, budgets=budgets)
        total = formula_params(ModelShape.from_dict(model))["total"]
        kept = config["cooldown_budgets"]
        assert config["warmup_tokens"] >= min(total / 8, protocol.WARMUP_FLOOR)
        assert all(config["warmup_tokens"] <= max(0.1 * b, protocol.WARMUP_FLOOR) for b in kept)
        assert kept[-1] == 10_000_384 and len(kept) == {8: 7, 32: 6, 128: 3}[width]
        TrainConfig.from_dict(config)   # valid
    with pytest.raises(ValueError, match="derives"):
        protocol.cooldown(shape(2, 8), budgets=budgets, warmup_tokens=1000)
