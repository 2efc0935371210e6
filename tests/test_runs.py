"""Run records: schema, atomic writes, and a loader that skips what is not complete."""
import json
import os
import warnings

import pytest

from scalinglaws.runs import (RecordError, curves, load_grid, read_grid, read_record, validate, write_json_atomic,
                              write_record)


def record(run_id="r1", status="complete", n=1000, loss=5.0):
    r = {"status": status, "grid": "g", "run_id": run_id,
         "config": {"model": {"n_layer": 2, "d_model": 8, "n_head": 1, "n_ctx": 64, "vocab_size": 512},
                    "batch_tokens": 4096, "lr": None, "seed": 0},
         "params": {"non_embedding": n, "embedding": 10 * n, "total": 11 * n},
         "flops_per_token": {"kaplan_6N": 6 * n, "with_head": 20 * n, "with_head_attn": 21 * n},
         "curve": [{"step": 1, "tokens": 4096, "train_loss": 6.0, "val_loss": 6.1, "lr": 1e-3, "wall_s": 0.1}],
         "provenance": {"command": "test", "commit": None, "machine": "m", "torch": "t",
                        "started": "s", "finished": "f"}}
    if status == "complete":
        r["final"] = {"val_loss": loss, "best_val_loss": loss, "tokens": 4096, "steps": 1, "wall_s": 0.1,
                      "eval": {"val": loss, "test": loss + 0.1}}
    if status == "failed":
        r["reason"] = "diverged"
    return r


def test_schema_requires_fields():
    validate(record())
    for key in ("status", "params", "curve", "provenance"):
        bad = record()
        del bad[key]
        with pytest.raises(RecordError):
            validate(bad)
    bad = record()
    del bad["final"]
    with pytest.raises(RecordError, match="final"):
        validate(bad)
    with pytest.raises(RecordError, match="reason"):
        validate({**record(status="failed"), "reason": ""})
    with pytest.raises(RecordError, match="status"):
        validate({**record(), "status": "done"})


def test_atomic_write_never_leaves_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "run" / "run.json"
    write_json_atomic(path, {"a": 1})
    # A write that dies midway (here: a value JSON cannot encode) leaves the old file intact
    # and no temporary file behind.
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(path.parent) == ["run.json"]


def test_atomic_write_uses_rename(tmp_path, monkeypatch):
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append((a, b)), real(a, b)))
    write_record(tmp_path / "r", record())
    assert len(calls) == 1 and str(calls[0][1]).endswith("run.json")
    assert read_record(tmp_path / "r")["schema"] == 1


def test_loader_skips_and_reports_incomplete_and_corrupt(tmp_path):
    grid = tmp_path / "g"
    write_record(grid / "small", record("small", n=1000, loss=6.0))
    write_record(grid / "big", record("big", n=10000, loss=5.0))
    write_record(grid / "busy", record("busy", status="running"))
    write_record(grid / "bad", record("bad", status="failed"))
    (grid / "corrupt").mkdir()
    (grid / "corrupt" / "run.json").write_text('{"status": "complete", "grid": ')   # truncated
    (grid / "empty").mkdir()
    (grid / "_slices").mkdir()   # slice notebooks live here, not runs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = load_grid(grid)
    assert list(df["run_id"]) == ["small", "big"]          # sorted by N
    assert list(df["loss_test"]) == [6.1, 5.1]
    skipped = dict(df.attrs["skipped"])
    assert set(skipped) == {"busy", "bad", "corrupt", "empty"}
    assert "not valid JSON" in skipped["corrupt"] and "diverged" in skipped["bad"]
    assert len(caught) == 4
    long = curves(df)
    assert len(long) == 2 and set(long.columns) >= {"step", "tokens", "val_loss", "N"}


def test_missing_grid_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no grid folder"):
        load_grid(tmp_path / "nope")
    assert read_grid(tmp_path / "nope") == ([], [])


def test_loss_drop_after():
    from scalinglaws.runs import loss_drop_after
    curve = [{"tokens": t, "val_loss": v} for t, v in ((10, 8.0), (40, 6.0), (60, 5.5), (100, 5.0))]
    assert loss_drop_after(curve, 0.5) == pytest.approx(1.0)
    assert loss_drop_after(curve, 0.05) == pytest.approx(3.0)
