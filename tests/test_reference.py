"""The committed reference runs the book is built from are complete, consistent and small."""
import hashlib
import subprocess

import pytest

from scalinglaws.grids import get_grid
from scalinglaws.paths import repo_root
from scalinglaws.runs import grid_corpora, iter_run_dirs, load_grid, read_record

GRID_DIR = repo_root() / "runs" / "reference" / "cpu-default"


def test_every_run_of_the_default_grid_is_complete_with_its_config():
    grid = get_grid("cpu-default")
    df = load_grid(GRID_DIR)
    assert sorted(df["run_id"]) == sorted(r.run_id for r in grid.runs)
    assert not df.attrs["skipped"]
    for spec in grid.runs:
        record = read_record(GRID_DIR / spec.run_id)
        assert spec.train_config.same_run(record["config"]), f"{spec.run_id}: grid definition changed since training"
        prov = record["provenance"]
        assert prov["commit"] and prov["machine"] and prov["finished"] and prov["notebook"]
        assert (GRID_DIR / "_slices" / f"{spec.run_id}.ipynb").exists()


def test_corpus_manifest_copy_matches_the_records():
    (name, manifest), = grid_corpora(GRID_DIR).items()
    digest = hashlib.sha256((GRID_DIR / "_corpus" / f"{name}.json").read_bytes()).hexdigest()
    for run_dir in iter_run_dirs(GRID_DIR):
        assert read_record(run_dir)["corpus"]["manifest_sha256"] == digest


def test_no_checkpoints_or_large_files_are_committed():
    tracked = subprocess.run(["git", "-C", str(repo_root()), "ls-files", "-s", "runs"], capture_output=True,
                             text=True).stdout.split("\n")
    paths = [line.split("\t", 1)[1] for line in tracked if "\t" in line]
    if not paths:
        pytest.skip("not a git checkout")
    assert not [p for p in paths if p.endswith(".pt")]
    sizes = {p: (repo_root() / p).stat().st_size for p in paths}
    assert max(sizes.values()) < 2_000_000, max(sizes.items(), key=lambda kv: kv[1])
