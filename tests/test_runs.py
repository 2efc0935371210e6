"""Run records: schema, atomic writes, and a loader that skips what is not complete."""
import json
import os
import warnings

import pytest

from scalinglaws.runs import (RecordError, complete_record, curves, fail_record, load_grid, new_record, read_grid,
                              read_record, traces, validate, write_json_atomic, write_record)


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
                      "weights": "last", "eval_step": 1, "epochs": 0.01, "eval": {"val": loss, "test": loss + 0.1}}
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
    assert read_record(tmp_path / "r")["schema"] == 2


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
    # compute per curve point under every accounting
    small = long[long["run_id"] == "small"].iloc[0]
    assert small["lr"] == 1e-3                      # the point's learning rate, not the run's configured peak
    assert small["compute_6N"] == 4096 * 6 * 1000 and small["compute_head"] == 4096 * 20 * 1000
    assert small["compute_head_attn"] == 4096 * 21 * 1000


def test_missing_grid_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no grid folder"):
        load_grid(tmp_path / "nope")
    assert read_grid(tmp_path / "nope") == ([], [])


def test_loader_flattens_every_scalar_config_field(tmp_path):
    r = record()
    r["config"].update(tokens=99_999, dropout=0.1, betas=[0.9, 0.99])
    r["trace"] = {"every": 2, "batch_tokens": 4096, "step": [2, 4], "train_loss": [6.0, 5.5],
                  "grad_sq_micro": [1.0, None]}
    write_record(tmp_path / "g" / "r1", r)
    row = load_grid(tmp_path / "g").iloc[0]
    assert row["d_model"] == 8 and row["vocab_size"] == 512 and row["dropout"] == 0.1
    assert row["betas"] == (0.9, 0.99) and row["config_tokens"] == 99_999 and row["tokens"] == 4096
    assert row["sampling"] == "random"             # a field the record lacks: the value its run used
    long = traces(load_grid(tmp_path / "g"))
    assert list(long["step"]) == [2, 4] and set(long["every"]) == {2} and long["run_id"].iloc[0] == "r1"


def test_record_builder_is_the_one_way_to_make_records(tmp_path):
    acct = {"params": {"non_embedding": 10, "embedding": 5, "total": 15},
            "flops_per_token": {"kaplan_6N": 60, "with_head": 90, "with_head_attn": 99}}
    config = record()["config"]
    r = new_record(grid="g", run_id="x", config=config, accounting=acct, provenance={"command": "c"})
    assert r["status"] == "running" and r["schema"] == 2 and r["provenance"]["started"] is None
    write_record(tmp_path / "x", r)
    final = record()["final"]
    done = complete_record(dict(r), final, "2026-01-01")
    assert done["status"] == "complete" and done["provenance"]["finished"] == "2026-01-01"
    with pytest.raises(RecordError, match="final lacks weights"):
        complete_record(dict(r), {k: v for k, v in final.items() if k != "weights"}, "t")
    with pytest.raises(RecordError, match="not a valid training config"):
        validate({**r, "config": {"a": 1}})
    with pytest.raises(RecordError, match="reason"):
        fail_record(dict(r), "", None)
    assert fail_record(dict(r), "boom", "t")["reason"] == "boom"


def test_loss_drop_after():
    from scalinglaws.analysis import loss_drop_after
    curve = [{"tokens": t, "val_loss": v} for t, v in ((10, 8.0), (40, 6.0), (60, 5.5), (100, 5.0))]
    assert loss_drop_after(curve, 0.5) == pytest.approx(1.0)
    assert loss_drop_after(curve, 0.05) == pytest.approx(3.0)


def test_find_grid_prefers_the_full_grid_and_falls_back_to_quick(tmp_path):
    import pandas as pd
    from scalinglaws.runs import find_grid, training_time
    with pytest.raises(FileNotFoundError, match="lnn-quick"):
        find_grid(tmp_path, ("lnn", "lnn-quick"))
    (tmp_path / "lnn-quick" / "a").mkdir(parents=True)
    (tmp_path / "lnn-quick" / "a" / "run.json").write_text("{}")
    (tmp_path / "lnn").mkdir()                      # a full grid folder without records does not count
    assert find_grid(tmp_path, ("lnn", "lnn-quick")).name == "lnn-quick"
    (tmp_path / "lnn" / "b").mkdir()
    (tmp_path / "lnn" / "b" / "run.json").write_text("{}")
    assert find_grid(tmp_path, ("lnn", "lnn-quick")).name == "lnn"
    # training time is the union of the runs' intervals: overlaps count once, a pause not at all
    df = pd.DataFrame({"started": ["2026-01-01T00:00:00", "2026-01-01T00:05:00", "2026-01-02T00:00:00"],
                       "finished": ["2026-01-01T00:10:00", "2026-01-01T00:20:00", "2026-01-02T00:01:00"]})
    assert training_time(df) == 21 * 60


def test_a_grid_is_finished_when_every_planned_run_is_complete_or_diverged(tmp_path):
    from scalinglaws.grids import get_grid
    from scalinglaws.runs import require_finished
    grid = tmp_path / "smoke"                       # a registered grid: its plan says how many runs it has
    first, second = [r.run_id for r in get_grid("smoke").runs]
    with pytest.raises(ValueError, match="0 of 2 runs trained"):
        require_finished(grid)
    write_record(grid / first, record(first))
    write_record(grid / second, record(second, status="running"))
    with pytest.raises(ValueError, match="1 of 2 runs trained"):
        require_finished(grid)
    write_record(grid / second, {**record(second, status="failed"), "reason": "crashed: out of memory"})
    with pytest.raises(ValueError, match="1 of 2"):  # an accident is not a result: it will be retrained
        require_finished(grid)
    write_record(grid / second, record(second, status="failed"))   # diverged: a result of its config
    require_finished(grid)
    mine = tmp_path / "mine"                         # not a registered grid: one complete run is enough
    write_record(mine / "a", record("a"))
    require_finished(mine)


def test_the_diverged_runs_of_a_grid_are_tabled_and_accidents_are_not(tmp_path):
    from scalinglaws.runs import diverged_table
    assert diverged_table(tmp_path).empty and "warmup_steps" in diverged_table(tmp_path)
    write_record(tmp_path / "ok", record("ok"))
    bad = record("bad", status="failed", n=2000)
    bad["config"].update(warmup_tokens=40_960, lr=0.02)
    bad["reason"] = "diverged: training loss 10.9 > ln(V) + 1.0 at step 5"
    write_record(tmp_path / "bad", bad)
    write_record(tmp_path / "crash", {**record("crash", status="failed"), "reason": "crashed: out of memory"})
    table = diverged_table(tmp_path)
    assert list(table["run_id"]) == ["bad"]
    row = table.iloc[0]
    assert row["N"] == 2000 and row["batch_tokens"] == 4096 and row["warmup_steps"] == 10 and row["lr"] == 0.02
    assert row["reason"].startswith("diverged")
