"""Grids and the runner: sweeps and ids, the smoke grid through papermill, failing slices, skipping, submitit."""
import json

import nbformat
import pytest

from scalinglaws.cli import main
from scalinglaws.grids import GRIDS, Grid, RunSpec, get_grid, gpt, sweep
from scalinglaws.runner import make_slices, run_grid, run_slice
from scalinglaws.runs import load_grid, read_record

SMOKE = get_grid("smoke")


def test_named_grids_are_well_formed():
    for grid in GRIDS.values():
        ids = [r.run_id for r in grid.runs]
        assert len(ids) == len(set(ids)) and grid.description
        for run in grid.runs:
            run.train_config   # validates
    lnn = get_grid("lnn")
    assert [r.run_id for r in lnn.runs][:2] == ["L2-d8", "L2-d8_s1"]
    assert all(r.config["protocol"] == "tuned" for r in lnn.runs)
    assert all(r.config["protocol"] == "calibration" for r in get_grid("calibration").runs)


def test_sweep_ids_come_from_the_axes_that_vary():
    runs = sweep({"tokens": 10_000, "batch_tokens": 1024}, model=[gpt(2, 16), gpt(2, 32)], lr=[1e-3, 2e-3],
                 seed=[0])
    assert [r.run_id for r in runs] == ["L2-d16_lr0.001", "L2-d16_lr0.002", "L2-d32_lr0.001", "L2-d32_lr0.002"]
    assert all(r.config["seed"] == 0 and r.config["tokens"] == 10_000 for r in runs)
    assert [r.run_id for r in sweep({"model": gpt(2, 16)}, batch_tokens=[1024, 32768])] == ["b1024", "b32768"]
    assert [r.run_id for r in sweep({"model": gpt(2, 16)})] == ["run"]
    heads = sweep({"tokens": 10_000}, model=[gpt(2, 64, 1), gpt(2, 64, 2), gpt(2, 32, 1, n_ctx=64)])
    assert [r.run_id for r in heads] == ["L2-d64-h1", "L2-d64-h2", "L2-d32"]
    with pytest.raises(ValueError, match="non-empty list"):
        sweep({"model": gpt(2, 16)}, lr=[])
    with pytest.raises(ValueError, match="unknown training config fields"):
        sweep({"model": gpt(2, 16)}, learning_rate=[1e-3, 2e-3])


def test_grids_refuse_duplicate_ids():
    run = RunSpec("a", SMOKE.runs[0].config)
    with pytest.raises(ValueError, match="duplicate run ids \\['a'\\]"):
        Grid("dup", "two runs with one id", (run, run))
    with pytest.raises(ValueError, match="duplicate run ids"):
        sweep({"model": gpt(2, 16)}, lr=[1e-3, 1.00001e-3])   # both print as lr0.001


def test_grid_table_shows_what_varies():
    table = get_grid("lnn").table()
    assert list(table.index[:4]) == ["L2-d8", "L2-d8_s1", "L2-d8_short", "L4-d8"]
    assert {"n_layer", "d_model", "N", "tokens", "lr", "seed"} <= set(table.columns)
    assert "vocab_size" not in table.columns and "protocol" not in table.columns   # the same for every run


def test_unknown_grid_is_a_clear_error(capsys):
    with pytest.raises(KeyError, match="known grids: .*calibration.*lnn"):
        get_grid("lnm")
    assert main(["grid", "run", "lnm"]) == 2
    assert "unknown grid 'lnm'" in capsys.readouterr().err


def test_impossible_device_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="unknown device"):
        run_grid("smoke", tmp_path, device="tpu", log=lambda *a: None)
    assert not (tmp_path / "smoke").exists()


def test_slices_put_expensive_runs_first():
    runs = get_grid("lnn").runs
    assert make_slices(runs)[0][0].run_id == max(runs, key=lambda r: r.cost).run_id
    two = make_slices(runs, slice_size=(len(runs) + 1) // 2)
    assert len(two) == 2 and sorted(r.run_id for s in two for r in s) == sorted(r.run_id for r in runs)


def test_run_slice_without_a_notebook(tmp_path):
    spec = SMOKE.runs[0]
    records = run_slice([{"run_id": "plain", "config": spec.config}], tmp_path, grid="mine", log=lambda *a: None)
    assert [r["status"] for r in records] == ["complete"]
    record = read_record(tmp_path / "plain")
    assert record["grid"] == "mine" and record["provenance"]["notebook"] is None


def test_smoke_grid_through_papermill(tmp_path, capsys):
    assert main(["grid", "run", "smoke", "--runs-dir", str(tmp_path), "--workers", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "2 to train" in out and "complete" in out
    df = load_grid(tmp_path / "smoke")
    assert sorted(df["run_id"]) == sorted(r.run_id for r in SMOKE.runs)
    for _, row in df.iterrows():
        assert row["val_loss"] < row["curve"][0]["val_loss"]      # finite and decreasing
    # the executed notebook is kept beside the records, with its parameters: resolved configs, the device
    nb = nbformat.read(tmp_path / "smoke" / "_slices" / "L2-d8.ipynb", as_version=4)
    params = nb.metadata.papermill.parameters
    assert [r["run_id"] for r in params["runs"]] == ["L2-d8"] and params["device"] == "cpu"
    assert params["runs"][0]["config"] == SMOKE.get("L2-d8").config
    record = read_record(tmp_path / "smoke" / "L2-d8")
    assert record["provenance"]["notebook"].endswith("L2-d8.ipynb")
    assert len(list((tmp_path / "smoke" / "_corpus").glob("default-*.json"))) == 1
    # a second call trains nothing
    assert main(["grid", "run", "smoke", "--runs-dir", str(tmp_path)]) == 0
    assert "2 runs complete, 0 to train" in capsys.readouterr().out


def test_failing_slices_do_not_stop_the_grid(tmp_path, capsys):
    base = SMOKE.runs[0].config
    grid_file = tmp_path / "mixed.json"
    grid_file.write_text(json.dumps({"name": "mixed", "runs": [
        {"run_id": "ok", "config": base},
        {"run_id": "diverges", "config": {**base, "lr": 50.0, "warmup_tokens": 4096}},
        {"run_id": "crashes", "config": {**base, "corpus": str(tmp_path / "no-such-corpus.txt")}},
    ]}))
    summary = run_grid(str(grid_file), tmp_path / "runs", workers=2, log=lambda *a: None)
    states = {r: read_record(tmp_path / "runs" / "mixed" / r) for r in ("ok", "diverges", "crashes")}
    assert states["ok"]["status"] == "complete"
    assert states["diverges"]["status"] == "failed"
    assert "diverged" in states["diverges"]["reason"] or "non-finite" in states["diverges"]["reason"]
    assert states["crashes"]["status"] == "failed" and "crashed" in states["crashes"]["reason"]
    assert [s["slice"] for s in summary.failed_slices] == ["crashes"]   # a divergence is a result, not a failure
    table = summary.table()
    assert "FAILED" in table and "reason:" in table and "diverged (a result, not retrained)" in table
    assert (tmp_path / "runs" / "mixed" / "_slices" / "crashes.ipynb").exists()
    # the CLI exits non-zero when a slice crashed; a crashed run is retried, a diverged one is a result and is not
    assert main(["grid", "run", str(grid_file), "--runs-dir", str(tmp_path / "runs"), "--only", "ok"]) == 0
    assert "1 runs complete, 0 to train" in capsys.readouterr().out
    assert main(["grid", "run", str(grid_file), "--runs-dir", str(tmp_path / "runs"), "--only", "diverges"]) == 0
    assert "1 runs complete, 0 to train" in capsys.readouterr().out
    assert main(["grid", "run", str(grid_file), "--runs-dir", str(tmp_path / "runs"), "--only", "crashes"]) == 1


def test_submitit_local_executor(tmp_path):
    summary = run_grid("smoke", tmp_path, engine="submitit", cluster="local", only=["L2-d16"], log=lambda *a: None)
    assert [s["ok"] for s in summary.slices] == [True]
    assert read_record(tmp_path / "smoke" / "L2-d16")["status"] == "complete"
    assert any((tmp_path / "smoke" / "_submitit").iterdir())


def test_a_manifest_copy_of_the_same_corpus_prepared_elsewhere_is_kept(tmp_path):
    """A grid finished on another machine prepares the corpus again: only the manifest's timestamps differ, and the
    committed copy (which the earlier records' digests name) must stay as it is."""
    import json
    from types import SimpleNamespace

    from scalinglaws.data.prepare import manifest_identity
    from scalinglaws.runner import copy_manifest
    data = tmp_path / "data" / "default-x"
    data.mkdir(parents=True)
    first = {"corpus": "default", "vocab_size": 4096, "created": "2026-11-29", "seconds": 50.1, "step_seconds": {"read": 3}}
    (data / "manifest.json").write_text(json.dumps(first))
    target = copy_manifest(SimpleNamespace(path=data), tmp_path / "grid")
    kept = target.read_bytes()
    again = {**first, "created": "2026-11-30", "seconds": 23.1, "step_seconds": {"read": 1}}
    assert manifest_identity(again) == manifest_identity(first)
    (data / "manifest.json").write_text(json.dumps(again))
    assert copy_manifest(SimpleNamespace(path=data), tmp_path / "grid").read_bytes() == kept
    changed = {**first, "vocab_size": 8192}
    assert manifest_identity(changed) != manifest_identity(first)
    (data / "manifest.json").write_text(json.dumps(changed))
    assert json.loads(copy_manifest(SimpleNamespace(path=data), tmp_path / "grid").read_text())["vocab_size"] == 8192
