"""The command line: listing grids, showing one, preparing the (cached) default corpus, clear errors."""
import json

from scalinglaws.cli import main


def test_grid_list_and_show(capsys):
    assert main(["grid", "list"]) == 0
    out = capsys.readouterr().out
    assert "smoke" in out and "cpu-default" in out
    assert main(["grid", "show", "cpu-default"]) == 0
    out = capsys.readouterr().out
    assert "L4-d128" in out and "N=  793,344" in out


def test_data_prepare_prints_the_split_table(capsys):
    assert main(["data", "prepare"]) == 0
    out = capsys.readouterr().out
    assert "default-v4096-s1234" in out and "ood_folio" in out and "train" in out


def test_bad_grid_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "runs": [{"run_id": "x", "config": {"model": {"n_layer": 2, "d_model": 10, "n_head": 3}}}]}))
    assert main(["grid", "run", str(bad), "--runs-dir", str(tmp_path)]) == 2
    assert "impossible model shape" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["grid", "show", str(broken)]) == 2
    assert "grid file" in capsys.readouterr().err
