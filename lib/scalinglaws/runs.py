"""Run records: one folder per trained model, ``runs/<grid>/<run_id>/run.json``.

A record is written atomically (a temporary file in the same folder, then ``os.replace``), so a
reader sees either the previous version or the new one, never half a file. While a model trains
its record says ``"status": "running"``; only the last write says ``complete`` (or ``failed``,
with a reason). Loaders skip and report everything that is not complete, so a half-finished or
crashed run never looks finished.

Schema (``SCHEMA_VERSION`` 1; the README documents every field):

    status        "running" | "complete" | "failed"
    reason        why a run failed (absent otherwise)
    grid, run_id  where the record belongs
    config        the full training configuration (``train.TrainConfig`` as a dict)
    config_hash   short hash of ``config``; a changed config means a different run
    params        {non_embedding, embedding, total}
    flops_per_token {kaplan_6N, with_head, with_head_attn}
    curve         [{step, tokens, train_loss, val_loss, lr, wall_s}, ...] at log-spaced steps
    final         {val_loss, best_val_loss, best_step, tokens, steps, wall_s, tokens_per_s, eval: {split: loss}}
    corpus        {spec, vocab_size, path, manifest_sha256, train_tokens}
    provenance    {command, commit, machine, torch, python, started, finished, notebook}
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1
RECORD_NAME = "run.json"
STATUSES = ("running", "complete", "failed")
REQUIRED = ("status", "grid", "run_id", "config", "params", "flops_per_token", "curve", "provenance")
REQUIRED_COMPLETE = ("final",)


class RecordError(ValueError):
    """A run record that cannot be used: unreadable, not JSON, or missing fields."""


def config_hash(config: dict) -> str:
    blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON so that readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)   # mkstemp makes 0600; a record is an ordinary readable file
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_record(run_dir: Path, record: dict) -> None:
    """Validate and write a record atomically (``schema`` is added to it in place)."""
    record.setdefault("schema", SCHEMA_VERSION)
    validate(record)
    write_json_atomic(Path(run_dir) / RECORD_NAME, record)


def validate(record: dict) -> dict:
    """Raise ``RecordError`` unless ``record`` follows the schema."""
    if not isinstance(record, dict):
        raise RecordError("a run record must be a JSON object")
    missing = [k for k in REQUIRED if k not in record]
    if record.get("status") not in STATUSES:
        raise RecordError(f"status must be one of {STATUSES}, got {record.get('status')!r}")
    if record["status"] == "complete":
        missing += [k for k in REQUIRED_COMPLETE if k not in record]
    if record["status"] == "failed" and not record.get("reason"):
        missing.append("reason")
    if missing:
        raise RecordError(f"missing fields: {', '.join(missing)}")
    for key, fields in (("params", ("non_embedding", "embedding", "total")),
                        ("flops_per_token", ("kaplan_6N", "with_head", "with_head_attn"))):
        absent = [f for f in fields if f not in record[key]]
        if absent:
            raise RecordError(f"{key} lacks {', '.join(absent)}")
    return record


def read_record(run_dir: Path) -> dict:
    """Read and validate one record; ``RecordError`` says what is wrong with it."""
    path = Path(run_dir) / RECORD_NAME
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise RecordError(f"{path}: no run record") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RecordError(f"{path}: not valid JSON ({e})") from None
    try:
        return validate(record)
    except RecordError as e:
        raise RecordError(f"{path}: {e}") from None


def iter_run_dirs(grid_dir: Path):
    """Run folders of a grid (folders starting with ``_`` or ``.`` hold slices and logs)."""
    grid_dir = Path(grid_dir)
    if not grid_dir.is_dir():
        return
    for d in sorted(grid_dir.iterdir()):
        if d.is_dir() and not d.name.startswith(("_", ".")):
            yield d


def read_grid(grid_dir: Path) -> tuple[list[dict], list[tuple[str, str]]]:
    """All complete records of a grid, and ``(run_id, problem)`` for every other folder."""
    complete, skipped = [], []
    for d in iter_run_dirs(grid_dir):
        try:
            record = read_record(d)
        except RecordError as e:
            skipped.append((d.name, str(e)))
            continue
        if record["status"] != "complete":
            skipped.append((d.name, f"status {record['status']}" + (f": {record['reason']}" if record.get("reason") else "")))
        else:
            complete.append(record)
    return complete, skipped


def load_grid(grid_dir: Path, report: bool = True) -> pd.DataFrame:
    """One row per complete run of a grid, sorted by N.

    Incomplete, failed and corrupt records are skipped; with ``report`` each one is named in a
    warning so a reader knows what the table leaves out.
    """
    grid_dir = Path(grid_dir)
    if not grid_dir.is_dir():
        raise FileNotFoundError(f"no grid folder {grid_dir}")
    records, skipped = read_grid(grid_dir)
    if report:
        for run_id, problem in skipped:
            warnings.warn(f"skipped run {grid_dir.name}/{run_id}: {problem}", stacklevel=2)
    rows = [flatten(r) for r in records]
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.sort_values("N").reset_index(drop=True)
    df.attrs["skipped"] = skipped
    return df


def flatten(record: dict) -> dict:
    """The scalar fields of a record as one table row (the curve stays a list)."""
    cfg, final, model = record["config"], record.get("final", {}), record["config"].get("model", {})
    row = {
        "grid": record["grid"], "run_id": record["run_id"], "status": record["status"],
        "n_layer": model.get("n_layer"), "d_model": model.get("d_model"), "n_head": model.get("n_head"),
        "n_ctx": model.get("n_ctx"), "vocab_size": model.get("vocab_size"),
        "N": record["params"]["non_embedding"], "N_embedding": record["params"]["embedding"],
        "N_total": record["params"]["total"],
        "flops_6N": record["flops_per_token"]["kaplan_6N"],
        "flops_head": record["flops_per_token"]["with_head"],
        "flops_head_attn": record["flops_per_token"]["with_head_attn"],
        "batch_tokens": cfg.get("batch_tokens"), "lr": cfg.get("lr"), "seed": cfg.get("seed"),
    }
    for key in ("val_loss", "best_val_loss", "best_step", "tokens", "steps", "wall_s", "tokens_per_s"):
        row[key] = final.get(key)
    for split, loss in final.get("eval", {}).items():
        row[f"loss_{split}"] = loss
    row["curve"] = record["curve"]
    row["config"] = cfg
    for key in ("machine", "started", "finished"):
        row[key] = record["provenance"].get(key)
    return row


def grid_corpora(grid_dir: Path) -> dict:
    """Manifests of the corpora a grid was trained on, kept in ``<grid>/_corpus/`` by the runner."""
    folder = Path(grid_dir) / "_corpus"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def loss_drop_after(curve: list, fraction: float = 0.5, key: str = "val_loss") -> float:
    """How much ``key`` fell after the last curve point within the first ``fraction`` of the tokens."""
    c = pd.DataFrame(curve)
    before = c[c["tokens"] <= c["tokens"].iloc[-1] * fraction]
    start = before[key].iloc[-1] if not before.empty else c[key].iloc[0]
    return float(start - c[key].iloc[-1])


def curves(df: pd.DataFrame) -> pd.DataFrame:
    """Learning curves of a grid table in long form: one row per (run, curve point)."""
    parts = []
    for _, run in df.iterrows():
        c = pd.DataFrame(run["curve"])
        for key in ("run_id", "N", "N_total", "n_layer", "flops_6N", "flops_head", "flops_head_attn"):
            c[key] = run[key]
        parts.append(c)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
