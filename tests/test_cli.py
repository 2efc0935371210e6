"""The command line: listing grids, showing one, preparing the (cached) default corpus, clear errors;
and the installed ``scalinglaws`` console script run the way a user runs it (a process of its own)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglaws.cli import main

# pip puts the console script of ``[project.scripts]`` next to the interpreter (.venv/bin/scalinglaws)
SCRIPT = Path(sys.executable).parent / "scalinglaws"


def test_grid_list_and_show(capsys):
    assert main(["grid", "list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert {"smoke", "calibration", "lnn", "lnn-quick"} <= set(listed), listed
    for name in listed:       # every grid it lists, it can show
        assert main(["grid", "show", name]) == 0, name
        assert capsys.readouterr().out.startswith(f"{name}: ")
    assert main(["grid", "show", "lnn"]) == 0
    out = capsys.readouterr().out
    assert "L4-d128" in out and "793,344" in out


def test_data_prepare_prints_the_split_table(capsys):
    assert main(["data", "prepare"]) == 0
    path, *table = capsys.readouterr().out.splitlines()
    assert Path(path).is_dir() and Path(path).name.endswith("v4096-s1234"), path   # the prepared corpus
    assert table and "tokens" in table[0].split(), table
    splits = {line.split()[0] for line in table[1:] if line.strip()}
    assert {"train", "val", "test"} <= splits, splits


def test_bad_grid_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "runs": [{"run_id": "x", "config": {"model": {"n_layer": 2, "d_model": 10, "n_head": 3}}}]}))
    assert main(["grid", "run", str(bad), "--runs-dir", str(tmp_path)]) == 2
    assert "impossible model shape" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["grid", "show", str(broken)]) == 2
    assert "grid file" in capsys.readouterr().err


# ---------------------------------------------------------------- the installed console script

def run_script(args, cwd, exe=SCRIPT):
    """Run the console script as its own process, from a folder outside the repository."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def script():
    assert SCRIPT.is_file() and os.access(SCRIPT, os.X_OK), (
        f"console script {SCRIPT} is not installed; `pip install -e .` creates it from [project.scripts]")
    assert "scalinglaws.cli" in SCRIPT.read_text(errors="replace"), f"{SCRIPT} is not the scalinglaws.cli entry point"
    return SCRIPT


def test_console_script_lists_and_shows_grids(script, tmp_path):
    proc = run_script(["grid", "list"], tmp_path, script)
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stderr}"
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert {"smoke", "calibration", "lnn"} <= set(listed), f"`scalinglaws grid list` printed {listed}"
    shown = run_script(["grid", "show", "lnn"], tmp_path, script)
    assert shown.returncode == 0, f"rc={shown.returncode}\n{shown.stderr}"
    assert shown.stdout.startswith("lnn: ") and "L4-d128" in shown.stdout and "793,344" in shown.stdout, (
        shown.stdout)


@pytest.mark.parametrize("command", [["grid", "show", "no-such-grid"],
                                     ["grid", "run", "no-such-grid", "--runs-dir", "{tmp}"]],
                         ids=["show", "run"])
def test_console_script_unknown_grid_exits_2(script, tmp_path, command):
    runs_dir = tmp_path / "runs"
    proc = run_script([c.replace("{tmp}", str(runs_dir)) for c in command], tmp_path, script)
    assert proc.returncode == 2, f"expected exit code 2, got {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    err = proc.stderr.strip()
    assert err.startswith("scalinglaws: error: unknown grid 'no-such-grid'"), err
    assert "lnn" in err and "calibration" in err, f"the error should name the known grids: {err}"
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not runs_dir.exists(), "an unknown grid must not create a runs folder"


def test_console_script_usage_errors_exit_2(script, tmp_path):
    proc = run_script([], tmp_path, script)
    assert proc.returncode == 2 and "usage: scalinglaws" in proc.stderr, (proc.returncode, proc.stderr)
    proc = run_script(["--help"], tmp_path, script)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: scalinglaws"), (proc.returncode, proc.stdout[:200])
