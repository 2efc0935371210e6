"""Training: schedule, epoch sampling, the step's gradient statistics, observers, checkpoints and resume."""
import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import scalinglaws.train as train_module
from fakes import FakeCorpus
from scalinglaws import checkpoint
from scalinglaws.config import TrainConfig
from scalinglaws.grids import gpt
from scalinglaws.models import build_model, kaplan_lr, lm_loss
from scalinglaws.paper import published
from scalinglaws.runs import read_record
from scalinglaws.sampling import EpochWindows
from scalinglaws.train import Trainer, resolve_device, train_run

# L2-d16 at n_ctx 32 on a 256-token vocabulary: 16 sequences per step in two micro-batches of 8.
TINY = TrainConfig(model=gpt(2, 16, 2, n_ctx=32, vocab_size=256), tokens=30 * 512, batch_tokens=512,
                   micro_batch_tokens=256, lr=0.01, warmup_tokens=1024, eval_points=8, eval_tokens=2048,
                   final_eval_tokens=4096, ood_eval_tokens=2048, checkpoint_interval_s=0).to_dict()


@pytest.fixture(scope="module")
def corpus():
    return FakeCorpus()


def test_schedule_warmup_then_cosine_to_floor():
    cfg = TrainConfig(**{**TINY, "tokens": 100 * 512, "warmup_tokens": 10 * 512, "lr": 1e-3, "min_lr_ratio": 0.1})
    lrs = [cfg.lr_at(s, 1000) for s in range(cfg.steps)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))            # monotone decay after warmup
    assert lrs[-1] == pytest.approx(1e-4, rel=0.05)
    fixed = TrainConfig(**{**cfg.to_dict(), "horizon_tokens": 400 * 512})   # Kaplan: horizon longer than run
    assert fixed.lr_at(99, 1000) > 0.8e-3
    const = TrainConfig(**{**cfg.to_dict(), "schedule": "constant"})
    assert const.lr_at(99, 1000) == 1e-3
    default = TrainConfig(**{**TINY, "lr": None})                     # lr=None: Kaplan's LR(N), constants from paper
    expected = published("lr_intercept").value - published("lr_slope").value * math.log(1000)
    assert default.lr_at(default.warmup_steps, 1000) == pytest.approx(expected, rel=1e-12) == kaplan_lr(1000)


def test_eval_steps_are_log_spaced_and_end_at_last_step():
    cfg = TrainConfig(**{**TINY, "tokens": 1000 * 512, "eval_points": 20})
    steps = cfg.eval_steps()
    assert steps[0] == 1 and steps[-1] == 1000 and steps == sorted(set(steps))
    assert max(b / a for a, b in zip(steps[5:], steps[6:])) < 1.6


@pytest.mark.parametrize("change,msg", [({"batch_tokens": 1000}, "multiple of n_ctx"),
                                        ({"tokens": 100}, "less than one batch"),
                                        ({"schedule": "wsd"}, "unknown schedule"),
                                        ({"sampling": "shuffle"}, "unknown sampling"),
                                        ({"dropout": 1.5}, "dropout"),
                                        ({"nonsense": 1}, "unknown training config fields"),
                                        ({"model": {"n_layer": 2, "d_model": 9, "n_head": 2}}, "impossible model shape")])
def test_impossible_configs_are_refused(change, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig.from_dict({**TINY, **change})


def test_stored_configs_read_with_the_behaviour_they_had():
    old = {k: v for k, v in TINY.items() if k not in ("sampling", "grad_stats_every")}   # a record from before
    assert TrainConfig.from_record(old).sampling == "random"
    assert not TrainConfig.from_dict(TINY).same_run(old)
    assert TrainConfig.from_dict({**TINY, "sampling": "random", "grad_stats_every": 0}).same_run(old)


# -- sampling ---------------------------------------------------------------------------------

def test_epoch_sampler_reads_every_window_once_per_epoch_and_resumes_mid_epoch():
    tokens = np.arange(1001, dtype=np.int64)
    s = EpochWindows(tokens, n_ctx=10, seed=3)
    assert s.n_windows == 100
    first = s.indices(250)
    for epoch in (0, 1):
        assert sorted(first[epoch * 100:(epoch + 1) * 100]) == list(range(100))
    assert len(set(first[200:250])) == 50 and s.epochs == 2.5
    assert list(first[:100]) != list(first[100:200])                 # a new order each epoch
    resumed = EpochWindows(tokens, n_ctx=10, seed=3)
    resumed.load_state_dict({"position": 137})
    assert list(resumed.indices(113)) == list(first[137:250])
    again = EpochWindows(tokens, n_ctx=10, seed=3)
    windows = again.next(3).numpy()
    assert windows.shape == (3, 11)
    for row, i in zip(windows, first[:3]):
        assert list(row) == list(range(i * 10, i * 10 + 11))        # non-overlapping inputs, shifted targets
    assert list(EpochWindows(tokens, 10, seed=4).indices(100)) != list(first[:100])


def test_run_records_epochs(corpus, tmp_path):
    cfg = {**TINY, "train_subset_tokens": 4096}                       # 127 windows: 480 windows read = 3.78 epochs
    record = train_run(cfg, tmp_path / "r", corpus=corpus, progress=False)
    windows = record["corpus"]["windows"]
    assert windows == (4096 - 1) // 32
    assert record["final"]["epochs"] == pytest.approx(30 * 16 / windows, rel=1e-6)
    assert record["curve"][-1]["epoch"] == pytest.approx(record["final"]["epochs"])


# -- the step -----------------------------------------------------------------------------------

def test_gradient_statistics_match_brute_force(corpus):
    cfg = TrainConfig.from_dict(TINY)
    trainer = Trainer(cfg, corpus)
    start = copy.deepcopy(trainer.model.state_dict())
    peek = EpochWindows(trainer.train_tokens, cfg.shape.n_ctx, cfg.seed)
    windows = peek.next(cfg.batch_seqs)
    stats = trainer.step()
    assert stats.n_micro == 2 and stats.micro_tokens == 256 and stats.batch_tokens == 512

    model = build_model(cfg.shape)
    model.load_state_dict(start)
    grads, losses = [], []
    for chunk in windows.split(cfg.micro_seqs):
        model.zero_grad()
        loss = lm_loss(model, chunk)
        loss.backward()
        losses.append(loss.item())
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    micro_sq = [float(g.pow(2).sum()) for g in grads]
    full = torch.stack(grads).mean(0)
    assert stats.loss == pytest.approx(np.mean(losses), rel=1e-5)
    assert stats.grad_sq_micros == pytest.approx(micro_sq, rel=1e-4)
    assert stats.grad_sq_micro == pytest.approx(np.mean(micro_sq), rel=1e-4)
    assert stats.grad_sq_full == pytest.approx(float(full.pow(2).sum()), rel=1e-4)
    assert stats.grad_sq_micro > stats.grad_sq_full            # smaller batches are noisier


def test_single_micro_batch_steps_are_split_on_schedule(corpus):
    cfg = TrainConfig.from_dict({**TINY, "micro_batch_tokens": 512, "grad_stats_every": 3})
    trainer = Trainer(cfg, corpus)
    plans = [trainer.micro_plan(s) for s in range(6)]
    assert plans == [(2, 8), (1, 16), (1, 16), (2, 8), (1, 16), (1, 16)]
    stats = [trainer.step() for _ in range(2)]
    assert stats[0].grad_sq_micro is not None and stats[1].grad_sq_micro is None
    assert len(stats[0].grad_sq_micros) == 2 and stats[1].grad_sq_micros == []
    off = Trainer(TrainConfig.from_dict({**TINY, "micro_batch_tokens": 512, "grad_stats_every": 0}), corpus)
    assert off.micro_plan(0) == (1, 16)


def test_trace_is_dense_and_blocked(corpus, tmp_path):
    record = train_run({**TINY, "trace_points": 7}, tmp_path / "r", corpus=corpus, progress=False)
    trace = record["trace"]
    assert trace["every"] == 5 and trace["step"] == [5, 10, 15, 20, 25, 30]
    lengths = {len(v) for k, v in trace.items() if isinstance(v, list)}
    assert lengths == {6}
    assert all(g == 5 for g in trace["grad_steps"]) and all(m == 256 for m in trace["micro_tokens"])
    assert trace["train_loss"][-1] < trace["train_loss"][0]


# -- device ---------------------------------------------------------------------------------------

def test_device_option(corpus, tmp_path):
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        assert resolve_device("auto") == "cpu"
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    record = train_run({**TINY, "tokens": 4 * 512}, tmp_path / "r", corpus=corpus, device="auto", progress=False)
    assert record["status"] == "complete"
    assert record["provenance"]["device"] == resolve_device("auto")
    assert record["provenance"]["precision"] == ("bf16" if torch.cuda.is_available() else "fp32")


# -- failures, skipping, early stopping ------------------------------------------------------------

def test_divergence_stops_run_as_failed(corpus, tmp_path):
    record = train_run({**TINY, "lr": 50.0, "warmup_tokens": 512}, tmp_path / "run", corpus=corpus, progress=False)
    assert record["status"] == "failed"
    assert "diverged" in record["reason"] or "non-finite" in record["reason"]
    assert read_record(tmp_path / "run")["status"] == "failed"


def test_complete_run_is_not_retrained(corpus, tmp_path):
    first = train_run(TINY, tmp_path / "run", corpus=corpus, progress=False)
    again = train_run(TINY, tmp_path / "run", corpus=corpus, progress=False)
    assert first["status"] == "complete" and again == first
    assert not (tmp_path / "run" / "checkpoint.pt").exists()   # removed once complete
    curve = first["curve"]
    assert [c["step"] for c in curve] == sorted({c["step"] for c in curve})
    assert curve[-1]["val_loss"] < curve[0]["val_loss"] - 0.3  # it learns
    assert set(first["final"]["eval"]) == {"val", "test"} and first["final"]["weights"] == "last"
    prov = first["provenance"]
    assert len(prov["library_sha256"]) == 16 and prov["device"] == "cpu"


def test_early_stopping_evaluates_the_best_weights(corpus, tmp_path, monkeypatch):
    config = TrainConfig.from_dict({**TINY, "early_stopping_patience": 1})
    fake = iter([5.0, 4.0, 4.5, 4.6, 4.7] + [4.8] * 50)
    real_evaluate = Trainer.evaluate

    def evaluate(self, windows):   # the curve's validation losses are scripted; every other evaluation is real
        return next(fake) if windows is self.val_windows else real_evaluate(self, windows)

    kept, at_finalise = {}, {}
    real_remember, real_finalise = Trainer.remember_best, train_module.finalise

    def remember(self):
        real_remember(self)
        kept.update(step=self.state["step"], weights=copy.deepcopy(self.best_weights))

    def finalise(trainer, wall_s):
        final = real_finalise(trainer, wall_s)
        at_finalise.update(copy.deepcopy(trainer.model.state_dict()))
        return final

    monkeypatch.setattr(Trainer, "evaluate", evaluate)
    monkeypatch.setattr(Trainer, "remember_best", remember)
    monkeypatch.setattr(train_module, "finalise", finalise)
    record = train_run(config, tmp_path / "run", corpus=corpus, progress=False)
    steps = config.eval_steps()
    final = record["final"]
    assert record["status"] == "complete" and final["stopped_early"]
    assert final["best_val_loss"] == 4.0 and final["best_step"] == steps[1] == kept["step"]
    assert final["steps"] == steps[3] < config.steps
    assert final["weights"] == "best" and final["eval_step"] == steps[1]
    for name, tensor in kept["weights"].items():          # the held-out losses come from the best weights
        assert torch.equal(at_finalise[name], tensor)


@pytest.mark.parametrize("min_epochs, stops", [(0.0, True), (1.0, False)])
def test_no_early_stop_before_the_data_repeats(corpus, tmp_path, monkeypatch, min_epochs, stops):
    # 15,360 tokens on a 20,000-token subset: less than one epoch, so a rising validation loss is not overfitting
    config = TrainConfig.from_dict({**TINY, "early_stopping_patience": 1, "early_stopping_min_epochs": min_epochs,
                                    "train_subset_tokens": 20_000})
    fake = iter([5.0, 4.0, 4.5, 4.6, 4.7] + [4.8] * 50)
    real_evaluate = Trainer.evaluate
    monkeypatch.setattr(Trainer, "evaluate", lambda self, windows: next(fake) if windows is self.val_windows
                        else real_evaluate(self, windows))
    record = train_run(config, tmp_path / "run", corpus=corpus, progress=False)
    assert record["final"]["epochs"] < 1 and record["final"]["stopped_early"] is stops
    assert record["final"]["best_val_loss"] == 4.0


def test_bf16_and_data_subset(corpus, tmp_path):
    record = train_run({**TINY, "bf16": True, "train_subset_tokens": 20_000}, tmp_path / "run", corpus=corpus,
                       progress=False)
    assert record["status"] == "complete" and math.isfinite(record["final"]["val_loss"])
    assert record["provenance"]["precision"] == "bf16"
    with pytest.raises(ValueError, match="exceeds the corpus"):
        train_run({**TINY, "train_subset_tokens": 10**10}, tmp_path / "too-big", corpus=corpus, progress=False)


# -- checkpoints and resume ---------------------------------------------------------------------

class Pickled:
    pass


def test_checkpoints_hold_no_pickled_objects(corpus, tmp_path):
    record = train_run({**TINY, "early_stopping_patience": 100}, tmp_path / "r", corpus=corpus, progress=False,
                       stop_after_steps=10)
    assert record["status"] == "running"
    path = tmp_path / "r" / checkpoint.CHECKPOINT_NAME
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["state"]["step"] <= 10 and payload["best_weights"] and "torch" in payload["rng"]
    torch.save({"evil": Pickled()}, tmp_path / "bad.pt")
    with pytest.raises(Exception, match="[Ww]eights only|weights_only|Unsupported global"):
        checkpoint.load(tmp_path / "bad.pt")


RESUME_SCRIPT = """
import json, os, signal, sys
sys.path.insert(0, {tests!r})
from fakes import FakeCorpus
from scalinglaws.observers import Observer
from scalinglaws.train import train_run
kill_at = int(sys.argv[3])
class KillAt(Observer):
    def on_step(self, run, stats):
        if stats.step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
train_run(json.loads(sys.argv[1]), sys.argv[2], corpus=FakeCorpus(), threads=1, progress=False,
          observers=[KillAt()] if kill_at else [])
"""


def _run(config, run_dir, kill_at=0):
    code = RESUME_SCRIPT.format(tests=str(Path(__file__).parent))
    return subprocess.run([sys.executable, "-c", code, json.dumps(config), str(run_dir), str(kill_at)],
                          capture_output=True, text=True, timeout=600)


def test_killed_run_resumes_exactly_mid_epoch(tmp_path):
    # 127 windows in the subset, 16 per step: epochs end inside steps 8, 16, 24; curve points at
    # steps 1 2 3 4 6 9 14 20 30 (checkpointed at each); the kill at step 18 loses steps 15-18, in the
    # middle of a trace block of 8 steps, with best weights kept and every third step split in two.
    config = {**TINY, "train_subset_tokens": 4096, "eval_points": 10, "dropout": 0.1, "trace_points": 4,
              "early_stopping_patience": 100, "micro_batch_tokens": 512, "grad_stats_every": 3}
    whole = _run(config, tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-2000:]
    killed = _run(config, tmp_path / "killed", kill_at=18)
    assert killed.returncode == -9, killed.stderr[-2000:]
    interrupted = read_record(tmp_path / "killed")
    assert interrupted["status"] == "running"                      # a killed run never looks finished
    assert interrupted["curve"][-1]["step"] == 14
    assert (tmp_path / "killed" / checkpoint.CHECKPOINT_NAME).exists()
    resumed = _run(config, tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = read_record(tmp_path / "whole"), read_record(tmp_path / "killed")
    assert b["status"] == "complete" and b["final"]["epochs"] > 3
    assert b["final"]["eval"] == a["final"]["eval"]
    strip = lambda curve: [{k: v for k, v in c.items() if k != "wall_s"} for c in curve]   # noqa: E731
    assert strip(b["curve"]) == strip(a["curve"])
    assert b["trace"] == a["trace"] and b["trace"]["every"] == 8
    assert b["final"]["weights"] == "best"
    assert b["provenance"]["started"] == interrupted["provenance"]["started"]


def test_checkpoint_from_another_precision_is_refused_not_lost(corpus, tmp_path, monkeypatch):
    train_run(TINY, tmp_path / "r", corpus=corpus, progress=False, stop_after_steps=10)
    path = tmp_path / "r" / checkpoint.CHECKPOINT_NAME
    real_init = Trainer.__init__

    def as_on_cuda(self, *a, **k):   # a trainer that would run in bf16, as it does on CUDA
        real_init(self, *a, **k)
        self.precision = "bf16"

    monkeypatch.setattr(Trainer, "__init__", as_on_cuda)
    with pytest.raises(ValueError, match="written on cpu in fp32"):
        train_run(TINY, tmp_path / "r", corpus=corpus, progress=False)
    assert path.exists()                                        # the checkpoint is kept


def test_old_format_checkpoint_is_discarded(corpus, tmp_path):
    train_run(TINY, tmp_path / "r", corpus=corpus, progress=False, stop_after_steps=10)
    path = tmp_path / "r" / checkpoint.CHECKPOINT_NAME
    payload = torch.load(path, weights_only=True)
    old = {k: v for k, v in payload.items() if k not in ("sampler", "device_type", "precision")}
    torch.save(old, path)
    record = train_run(TINY, tmp_path / "r", corpus=corpus, progress=False)
    assert record["status"] == "complete" and record["final"]["steps"] == 30
