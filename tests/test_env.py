"""Set-up files agree: environment.yml mirrors pyproject.toml's pins."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    out = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)\s*", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pins(project["dependencies"]) | pins(sum(project["optional-dependencies"].values(), []))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert conda_python, "environment.yml must pin python"
    mirrored = pins(pip_section)
    assert "torch" in wanted and len(wanted) == len(project["dependencies"]) + sum(
        map(len, project["optional-dependencies"].values())), f"pyproject pins not all read: {sorted(wanted)}"
    assert mirrored == wanted, (
        f"differ: only in pyproject {sorted(set(wanted.items()) - set(mirrored.items()))}, "
        f"only in environment.yml {sorted(set(mirrored.items()) - set(wanted.items()))}")


def test_every_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    assert deps, "pyproject.toml lists no dependencies"
    unpinned = [dep for dep in deps if "==" not in dep]
    assert not unpinned, f"unpinned dependencies: {unpinned}"
