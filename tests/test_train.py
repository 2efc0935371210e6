"""Training: schedule, failure on divergence, and exact resume after a killed process."""
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from scalinglaws.grid import get_grid
from scalinglaws.runs import read_record
from scalinglaws.train import TrainConfig, train_run

TINY = get_grid("smoke").runs[0].config   # L2-d8, n_ctx 64, 20 steps


def test_schedule_warmup_then_cosine_to_floor():
    cfg = TrainConfig(model=TINY["model"], tokens=100 * 4096, batch_tokens=4096, warmup_tokens=10 * 4096,
                      lr=1e-3, min_lr_ratio=0.1)
    lrs = [cfg.lr_at(s, 1000) for s in range(cfg.steps)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))            # monotone decay after warmup
    assert lrs[-1] == pytest.approx(1e-4, rel=0.05)
    fixed = TrainConfig(**{**cfg.to_dict(), "horizon_tokens": 400 * 4096})   # Kaplan: horizon longer than run
    assert fixed.lr_at(99, 1000) > 0.8e-3
    const = TrainConfig(**{**cfg.to_dict(), "schedule": "constant"})
    assert const.lr_at(99, 1000) == 1e-3
    default = TrainConfig(model=TINY["model"])                        # lr=None: Kaplan's LR(N)
    peak_step = math.ceil(default.warmup_tokens / default.batch_tokens)
    assert default.lr_at(peak_step, 1000) == pytest.approx(0.003239 - 0.0001395 * math.log(1000), rel=1e-6)


def test_eval_steps_are_log_spaced_and_end_at_last_step():
    cfg = TrainConfig(model=TINY["model"], tokens=1000 * 4096, batch_tokens=4096, eval_points=20)
    steps = cfg.eval_steps()
    assert steps[0] == 1 and steps[-1] == 1000 and steps == sorted(set(steps))
    gaps = [b / a for a, b in zip(steps[5:], steps[6:])]
    assert max(gaps) < 1.6


@pytest.mark.parametrize("change,msg", [({"batch_tokens": 1000}, "multiple of n_ctx"),
                                        ({"tokens": 100}, "less than one batch"),
                                        ({"schedule": "wsd"}, "unknown schedule"),
                                        ({"dropout": 1.5}, "dropout"),
                                        ({"model": {"n_layer": 2, "d_model": 9, "n_head": 2}}, "impossible model shape")])
def test_impossible_configs_are_refused(change, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**{**TINY, **change})


def test_divergence_stops_run_as_failed(tmp_path):
    record = train_run({**TINY, "lr": 50.0, "warmup_tokens": 4096}, tmp_path / "run", progress=False)
    assert record["status"] == "failed"
    assert "diverged" in record["reason"] or "non-finite" in record["reason"]
    assert read_record(tmp_path / "run")["status"] == "failed"


def test_complete_run_is_not_retrained(tmp_path):
    first = train_run(TINY, tmp_path / "run", progress=False)
    again = train_run(TINY, tmp_path / "run", progress=False)
    assert first["status"] == "complete" and again == first
    assert not (tmp_path / "run" / "checkpoint.pt").exists()   # removed once complete
    curve = first["curve"]
    assert [c["step"] for c in curve] == sorted({c["step"] for c in curve})
    assert curve[-1]["val_loss"] < curve[0]["val_loss"]           # it learns
    assert set(first["final"]["eval"]) == {"val", "test", "ood_folio", "ood_python"}


def _train_in_subprocess(config, run_dir):
    code = ("import json,sys; from scalinglaws.train import train_run; "
            "train_run(json.loads(sys.argv[1]), sys.argv[2], threads=1, progress=False)")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config), str(run_dir)])


def test_killed_run_resumes_to_the_same_loss(tmp_path):
    config = {**TINY, "tokens": 60 * 4096, "eval_points": 12}
    reference = _train_in_subprocess(config, tmp_path / "whole")
    assert reference.wait(timeout=300) == 0

    proc = _train_in_subprocess(config, tmp_path / "killed")
    ckpt = tmp_path / "killed" / "checkpoint.pt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists():
            rec = read_record(tmp_path / "killed")
            if len(rec["curve"]) >= 4:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted = read_record(tmp_path / "killed")
    assert interrupted["status"] == "running"                      # a killed run never looks finished
    assert ckpt.exists()

    resumed = _train_in_subprocess(config, tmp_path / "killed")
    assert resumed.wait(timeout=300) == 0
    whole, done = read_record(tmp_path / "whole"), read_record(tmp_path / "killed")
    assert done["status"] == "complete"
    assert done["final"]["val_loss"] == whole["final"]["val_loss"]
    assert [c["val_loss"] for c in done["curve"]] == [c["val_loss"] for c in whole["curve"]]
    assert done["provenance"]["started"] == interrupted["provenance"]["started"]


def test_early_stopping_keeps_best(tmp_path, monkeypatch):
    import scalinglaws.train as train_module
    losses = iter([5.0, 4.0, 4.5, 4.6, 4.7] + [4.8] * 50)
    monkeypatch.setattr(train_module, "evaluate", lambda *a, **k: next(losses))
    config = TrainConfig(**{**TINY, "early_stopping_patience": 1})
    record = train_run(config, tmp_path / "run", progress=False)
    steps = config.eval_steps()
    assert record["status"] == "complete" and record["final"]["stopped_early"]
    assert record["final"]["best_val_loss"] == 4.0 and record["final"]["best_step"] == steps[1]
    assert record["final"]["steps"] == steps[3] < config.steps


def test_bf16_and_data_subset(tmp_path):
    record = train_run({**TINY, "bf16": True, "train_subset_tokens": 20_000}, tmp_path / "run", progress=False)
    assert record["status"] == "complete" and math.isfinite(record["final"]["val_loss"])
    with pytest.raises(ValueError, match="exceeds the corpus"):
        train_run({**TINY, "train_subset_tokens": 10**10}, tmp_path / "too-big", progress=False)
