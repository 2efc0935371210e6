"""Shared book fixtures: the repository root and one strict, clean build of the book per session.

The build goes to a temporary folder outside the repository (Sphinx scans the source tree, so
an output folder inside it would be read as source) and uses the same command as CI:
``jupyter-book build <repo> --all -W -n --keep-going``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(session, config, items):
    """Run the "no chapter stubs left" check (tests/test_book.py, which defines a stub) last, so
    `pytest -x` still runs every other book and browser check while placeholder chapters are in place."""
    items.sort(key=lambda item: item.name == "test_no_chapter_stubs_left")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def _vendored(root: Path) -> bool:
    vendor = root / "_static" / "vendor"
    return (vendor / "mathjax" / "tex-mml-chtml.js").is_file() and (
        vendor / "nanum-gothic" / "400.css"
    ).is_file()


def _tail(text: str, n: int = 80) -> str:
    return "\n".join(text.splitlines()[-n:])


@pytest.fixture(scope="session")
def built_book(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the book once (strict, from scratch) and return the HTML folder."""
    if not _vendored(repo_root):
        proc = subprocess.run(
            ["bash", str(repo_root / "tools" / "vendor_assets.sh")],
            cwd=repo_root, capture_output=True, text=True,
        )
        assert proc.returncode == 0, f"tools/vendor_assets.sh failed:\n{proc.stdout}\n{proc.stderr}"

    jb = Path(sys.executable).parent / "jupyter-book"
    assert jb.exists(), f"jupyter-book not found next to {sys.executable}"
    out = tmp_path_factory.mktemp("book")
    cmd = [str(jb), "build", str(repo_root), "--all", "-W", "-n", "--keep-going", "--path-output", str(out)]
    env = dict(os.environ)
    # the kernel must use this interpreter's environment
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - start

    html = out / "_build" / "html"
    if proc.returncode != 0:
        logs = []
        for log in sorted((html / "reports").glob("**/*.err.log")):
            logs.append(f"----- {log.relative_to(html)} -----\n{log.read_text(errors='replace')}")
        pytest.fail(
            f"book build failed (rc={proc.returncode}, {elapsed:.0f}s): {' '.join(cmd)}\n"
            f"----- stdout (tail) -----\n{_tail(proc.stdout)}\n"
            f"----- stderr (tail) -----\n{_tail(proc.stderr, 40)}\n" + "\n".join(logs),
            pytrace=False,
        )
    assert (html / "index.html").is_file(), f"no index.html in {html}"
    print(f"\n[built_book] {elapsed:.1f}s -> {html}")
    return html
