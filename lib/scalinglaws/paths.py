"""Where things live: the repository root, the corpus cache and the run records.

Every location can be overridden by an environment variable, so a reader can point the
book at their own runs (``SCALINGLAWS_RUNS``) or keep corpora on a bigger disk
(``SCALINGLAWS_DATA``).
"""
from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this library was installed from (``pip install -e .``), else the cwd.

    Found by walking up from this file, then from the working directory, to the folder
    holding the book's ``_config.yml``.
    """
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "_config.yml").is_file() and (folder / "lib" / "scalinglaws").is_dir():
                return folder
    return Path.cwd().resolve()


def data_root() -> Path:
    """Prepared corpora (token arrays, tokenizers, manifests); never committed."""
    env = os.environ.get("SCALINGLAWS_DATA")
    return Path(env).resolve() if env else repo_root() / "data"


def runs_root() -> Path:
    """Run records written by training: ``runs/<grid>/<run_id>/run.json``."""
    env = os.environ.get("SCALINGLAWS_RUNS")
    return Path(env).resolve() if env else repo_root() / "runs"


def reference_runs() -> Path:
    """Committed results of real grids; the book is built from these."""
    env = os.environ.get("SCALINGLAWS_REFERENCE")
    return Path(env).resolve() if env else repo_root() / "runs" / "reference"


def slice_template() -> Path:
    """The papermill notebook the runner executes once per slice (``book/train/train_slice.md``).

    This is the one place the library names a file of the book; ``SCALINGLAWS_TEMPLATE`` overrides it.
    """
    env = os.environ.get("SCALINGLAWS_TEMPLATE")
    return Path(env).resolve() if env else repo_root() / "book" / "train" / "train_slice.md"
