"""The committed reference runs the book is built from are complete, consistent and small, and the
``tuned`` protocol's LR rule is what the committed calibration records give."""
import hashlib
import json
import subprocess

import pytest

from scalinglaws.grids import get_grid
from scalinglaws.paths import repo_root
from scalinglaws.runner import run_state
from scalinglaws.data.prepare import manifest_identity
from scalinglaws.runs import grid_corpora, iter_run_dirs, read_record

REFERENCE = repo_root() / "runs" / "reference"
GRIDS = ("calibration", "lnn", "overfit", "batch", "frontier")


def committed_grids():
    return [name for name in GRIDS if (REFERENCE / name).is_dir()]


def committed_runs(name: str) -> list:
    """The run folders of a reference grid that git tracks: a grid still being trained has untracked folders
    (running, or finished and not yet committed) beside them. Outside a git checkout, every folder."""
    dirs = list(iter_run_dirs(REFERENCE / name)) if (REFERENCE / name).is_dir() else []
    listed = subprocess.run(["git", "-C", str(repo_root()), "ls-files", f"runs/reference/{name}"],
                            capture_output=True, text=True)
    if listed.returncode != 0:
        return dirs
    ids = {path.split("/")[3] for path in listed.stdout.split() if path.endswith("/run.json")}
    return [d for d in dirs if d.name in ids]


@pytest.mark.parametrize("name", GRIDS)
def test_reference_records_match_their_grid(name):
    grid, grid_dir = get_grid(name), REFERENCE / name
    folders = [d.name for d in committed_runs(name)]
    if not folders and name not in ("calibration", "lnn"):
        pytest.skip(f"the {name} grid has no committed records yet")
    assert folders, f"no committed records for {name}"
    assert set(folders) <= {r.run_id for r in grid.runs}, f"records of runs the grid does not define: {set(folders) - {r.run_id for r in grid.runs}}"
    for run_id in folders:
        spec = grid.get(run_id)
        assert run_state(grid_dir / run_id, spec) in ("complete", "diverged"), f"{name}/{run_id}: not finished or grid changed"
        prov = read_record(grid_dir / run_id)["provenance"]
        assert prov["commit"] and prov["machine"] and prov["finished"] and prov["notebook"] and prov["library_sha256"]
        assert (grid_dir / "_slices" / f"{run_id}.ipynb").exists()


def test_the_calibration_grid_is_complete():
    grid = get_grid("calibration")
    missing = sorted({r.run_id for r in grid.runs} - {d.name for d in iter_run_dirs(REFERENCE / "calibration")})
    assert not missing, missing


def test_the_lnn_grid_is_complete():
    grid = get_grid("lnn")
    missing = sorted({r.run_id for r in grid.runs} - {d.name for d in iter_run_dirs(REFERENCE / "lnn")})
    assert not missing, missing


@pytest.mark.parametrize("name", ["overfit", "batch", "frontier"])
def test_the_chapter_grids_are_finished(name):
    """Every planned run of the grid has a committed result: complete, or diverged (a result of its config)."""
    from scalinglaws.runs import require_finished
    require_finished(REFERENCE / name)
    grid = get_grid(name)
    missing = sorted({r.run_id for r in grid.runs} - {d.name for d in committed_runs(name)})
    assert not missing, missing


def test_the_tuned_rule_is_the_fit_of_the_committed_calibration():
    from scalinglaws.calibration import calibrate
    from scalinglaws.protocol import RULE_FILE
    rule, _ = calibrate(REFERENCE / "calibration")
    stored = json.loads(RULE_FILE.read_text())
    fresh = rule.to_dict()
    for key in ("lr_ref", "exponent", "n_ref", "batch_tokens", "tokens"):
        assert stored[key] == pytest.approx(fresh[key], rel=1e-9), key
    assert stored["n_range"] == list(fresh["n_range"]) and len(stored["points"]) == len(fresh["points"])


@pytest.mark.parametrize("name", GRIDS)
def test_corpus_manifest_copy_matches_the_records(name):
    grid_dir = REFERENCE / name
    if not committed_runs(name):
        pytest.skip(f"no committed records for {name}")
    (corpus, manifest), = grid_corpora(grid_dir).items()
    digest = hashlib.sha256((grid_dir / "_corpus" / f"{corpus}.json").read_bytes()).hexdigest()
    for run_dir in committed_runs(name):
        recorded = read_record(run_dir)["corpus"]
        if "manifest_identity" in recorded:     # trained on a preparation of the same corpus, perhaps on another machine
            assert recorded["manifest_identity"] == manifest_identity(manifest), run_dir.name
        else:                                   # older records: the byte-identical manifest
            assert recorded["manifest_sha256"] == digest, run_dir.name


def test_no_checkpoints_or_large_files_are_committed():
    tracked = subprocess.run(["git", "-C", str(repo_root()), "ls-files", "-s", "runs"], capture_output=True,
                             text=True).stdout.split("\n")
    paths = [line.split("\t", 1)[1] for line in tracked if "\t" in line]
    if not paths:
        pytest.skip("not a git checkout")
    assert not [p for p in paths if p.endswith(".pt")]
    sizes = {p: (repo_root() / p).stat().st_size for p in paths}
    assert max(sizes.values()) < 2_000_000, max(sizes.items(), key=lambda kv: kv[1])


def test_provenance_summary_of_a_reference_grid(capsys):
    from scalinglaws.cli import main
    assert main(["grid", "provenance", "calibration"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["complete"] >= 1 and summary["machines"] and summary["library_sha256"]
    assert 0 < summary["training_time_s"] <= summary["run_time_s_summed"]
