"""Where and with what a run was trained: machine, code version, library content hash, times."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import platform
import subprocess
from pathlib import Path

from .paths import repo_root

LIBRARY_DIR = Path(__file__).resolve().parent


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def machine_description() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs{gpu}"


def git_commit() -> str | None:
    """HEAD of the checkout, with ``+dirty`` when tracked files differ from it."""
    try:
        root = repo_root()
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) if sha else None
    except (OSError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=1)
def library_sha256(folder: Path = LIBRARY_DIR) -> str:
    """A content hash of the library's Python sources (relative paths and bytes, in sorted order).

    Unlike ``git_commit`` it says exactly which code trained a run even when the tree had
    uncommitted edits: two records with the same hash ran the same library.
    """
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
