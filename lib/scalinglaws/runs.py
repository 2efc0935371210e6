"""Run records: one folder per trained model, ``runs/<grid>/<run_id>/run.json``.

A record is written atomically (a temporary file in the same folder, then ``os.replace``), so a
reader sees either the previous version or the new one, never half a file. While a model trains
its record says ``"status": "running"``; only the last write says ``complete`` (or ``failed``,
with a reason). Loaders skip and report everything that is not complete, so a half-finished or
crashed run never looks finished.

One place builds records: ``new_record`` (status ``running``), then ``complete_record`` or
``fail_record``; every write goes through ``write_record``, which validates. The README documents
every field of the schema (``SCHEMA_VERSION``):

    status        "running" | "complete" | "failed"
    reason        why a run failed (absent otherwise)
    grid, run_id  where the record belongs
    config        the full training configuration (``config.TrainConfig`` as a dict)
    config_hash   short hash of ``config``; a changed config means a different run
    params        {non_embedding, embedding, total}
    flops_per_token {kaplan_6N, with_head, with_head_attn}
    curve         [{step, tokens, epoch, train_loss, val_loss, lr, wall_s}, ...] at log-spaced steps
    trace         dense per-step statistics in blocks of ``every`` steps (columns of equal length)
    cooldowns     [{budget, branch_step, cooldown_steps, steps, tokens, epoch, val_loss, curve_val_loss,
                  train_loss_ema, lr_peak, wall_s}, ...]: the cooldown branches of a constant-LR run (only runs with ``cooldown_budgets``)
    final         {val_loss, best_val_loss, best_step, weights, eval_step, tokens, steps, epochs, ..., eval}
    corpus        {spec, vocab_size, path, manifest_sha256, train_tokens, windows}
    provenance    {command, commit, library_sha256, machine, device, precision, torch, python, started, ...}

Loading: ``load_grid`` gives one row per complete run with every scalar config field as a column;
``curves`` gives the learning curves in long form with the compute of every point under each
accounting, ``cooldown_points`` the same for the cooldown branches; ``traces`` gives the dense per-step statistics in long form.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from .config import LEGACY, TrainConfig, flat_config

SCHEMA_VERSION = 2
RECORD_NAME = "run.json"
STATUSES = ("running", "complete", "failed")
REQUIRED = ("status", "grid", "run_id", "config", "params", "flops_per_token", "curve", "provenance")
REQUIRED_COMPLETE = ("final",)
FINAL_FIELDS = ("val_loss", "tokens", "steps", "eval")
FINAL_FIELDS_2 = ("weights", "eval_step", "epochs")   # schema 2 on
ACCOUNTINGS = {"6N": "kaplan_6N", "head": "with_head", "head_attn": "with_head_attn"}   # column suffix -> key


DIVERGED = ("diverged", "non-finite")   # failure reasons that are results of the config, not accidents


def is_diverged(record: dict) -> bool:
    """A run the divergence guard stopped: a result of its config (an LR too high), not an accident, so
    it fails neither its slice nor the grid, and is not retrained."""
    return record.get("status") == "failed" and str(record.get("reason", "")).startswith(DIVERGED)


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


def new_record(*, grid: str, run_id: str, config: dict, accounting: dict, corpus: dict | None = None,
               provenance: dict | None = None) -> dict:
    """A record of a run that has started (status ``running``); the only place records are created."""
    return {"schema": SCHEMA_VERSION, "status": "running", "grid": grid, "run_id": run_id, "config": config,
            "config_hash": config_hash(config), "params": dict(accounting["params"]),
            "flops_per_token": dict(accounting["flops_per_token"]), "curve": [], "trace": None,
            "corpus": corpus or {}, "provenance": {"started": None, "finished": None, **(provenance or {})}}


def complete_record(record: dict, final: dict, finished: str) -> dict:
    record.update(status="complete", final=final)
    record.pop("reason", None)
    record["provenance"]["finished"] = finished
    return validate(record)


def fail_record(record: dict, reason: str, finished: str | None) -> dict:
    record.update(status="failed", reason=reason)
    record["provenance"]["finished"] = finished
    return validate(record)


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
    try:
        TrainConfig.from_record(record["config"])
    except (ValueError, TypeError) as e:
        raise RecordError(f"config is not a valid training config: {e}") from None
    if record["status"] == "complete":
        needed = FINAL_FIELDS + (FINAL_FIELDS_2 if record.get("schema", 1) >= 2 else ())
        absent = [f for f in needed if f not in record["final"]]
        if absent:
            raise RecordError(f"final lacks {', '.join(absent)}")
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
    """The scalar fields of a record as one table row (the curve and trace stay lists).

    Every scalar config field becomes a column under its own name (``model`` fields too:
    ``n_layer``, ``d_model``...), except where a result has the same name: the config's planned
    ``tokens`` is ``config_tokens`` (``tokens`` is what the run processed). Fields an older record
    lacks get the value its run used (``config.LEGACY``), so old and new records share columns.
    """
    cfg, final = record["config"], record.get("final", {})
    row = {"grid": record["grid"], "run_id": record["run_id"], "status": record["status"],
           "N": record["params"]["non_embedding"], "N_embedding": record["params"]["embedding"],
           "N_total": record["params"]["total"]}
    for suffix, key in ACCOUNTINGS.items():
        row[f"flops_{suffix}"] = record["flops_per_token"][key]
    results = {"val_loss", "best_val_loss", "best_step", "weights", "eval_step", "tokens", "steps", "epochs",
               "stopped_early", "wall_s", "train_s", "tokens_per_s"}
    scalars = flat_config({**LEGACY, **cfg})   # an older record's missing fields: what its run did (LEGACY)
    for key, value in scalars.items():
        if isinstance(value, (list, tuple)):
            value = tuple(value)
        row[f"config_{key}" if key in results or key in row else key] = value
    for key in sorted(results):
        row[key] = final.get(key)
    for split, loss in final.get("eval", {}).items():
        row[f"loss_{split}"] = loss
    # D: the tokens of training data the run could draw from (its subset, else the whole training split)
    row["D"] = cfg.get("train_subset_tokens") or record.get("corpus", {}).get("train_tokens")
    row["curve"] = record["curve"]
    row["trace"] = record.get("trace")
    row["cooldowns"] = record.get("cooldowns")
    row["config"] = cfg
    prov = record["provenance"]
    for key in ("machine", "device", "started", "finished", "commit", "library_sha256"):
        row[key] = prov.get(key)
    return row


def grid_corpora(grid_dir: Path) -> dict:
    """Manifests of the corpora a grid was trained on, kept in ``<grid>/_corpus/`` by the runner."""
    folder = Path(grid_dir) / "_corpus"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


RUN_COLUMNS = ("run_id", "N", "N_embedding", "N_total", "n_layer", "d_model", "batch_tokens", "lr", "seed")


def curves(df: pd.DataFrame, columns=RUN_COLUMNS, field: str = "curve") -> pd.DataFrame:
    """Learning curves of a grid table in long form: one row per (run, curve point).

    Each point carries its training compute under every accounting, in FLOPs:
    ``compute_6N`` = tokens × 6N, ``compute_head`` adds the LM head, ``compute_head_attn`` also attention.
    ``field="cooldowns"`` gives the cooldown branches the same way (``cooldown_points``).
    """
    parts = []
    for _, run in df.iterrows():
        if not run.get(field):
            continue
        c = pd.DataFrame(run[field])
        for key in columns:   # a point's own value (its lr) wins over the run's (the configured peak)
            if key in run and key not in c:
                c[key] = run[key]
        for suffix in ACCOUNTINGS:
            c[f"flops_{suffix}"] = run[f"flops_{suffix}"]
            c[f"compute_{suffix}"] = c["tokens"].astype(float) * float(run[f"flops_{suffix}"])
        parts.append(c)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def cooldown_points(df: pd.DataFrame, columns=RUN_COLUMNS) -> pd.DataFrame:
    """The cooldown branches of a grid table in long form: one row per (run, budget), with compute columns."""
    return curves(df, columns, field="cooldowns")


def traces(df: pd.DataFrame, columns=RUN_COLUMNS) -> pd.DataFrame:
    """Dense per-step statistics of a grid table in long form: one row per (run, trace block)."""
    parts = []
    for _, run in df.iterrows():
        trace = run.get("trace")
        if not trace:
            continue
        c = pd.DataFrame({k: v for k, v in trace.items() if isinstance(v, list)})
        c["every"] = trace["every"]
        for key in columns:
            if key in run and key not in c:
                c[key] = run[key]
        parts.append(c)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def find_grid(reference: Path, names) -> Path:
    """The first of the grid folders ``names`` under ``reference`` that holds records (a chapter reads its
    full grid when it is there, else the quick variant a reader trained)."""
    for name in names:
        folder = Path(reference) / name
        if folder.is_dir() and any(folder.glob("*/run.json")):
            return folder
    raise FileNotFoundError(f"no records under {reference} for any of {', '.join(names)}; train one with "
                            f"`scalinglaws grid run {names[-1]}`")


def diverged_records(folder: Path) -> list[dict]:
    """The records of a grid's runs that the divergence guard stopped (``is_diverged``)."""
    out = []
    for d in iter_run_dirs(folder):
        try:
            record = read_record(d)
        except RecordError:
            continue
        if is_diverged(record):
            out.append(record)
    return out


def diverged_table(folder: Path) -> pd.DataFrame:
    """One row per diverged run of a grid (``diverged_records``), for the chapters' sentences: ``run_id``, ``N``
    (non-embedding), ``batch_tokens``, ``train_subset_tokens`` (None for the whole split), ``warmup_steps``
    (the warmup in steps of its batch), the peak ``lr`` and the guard's ``reason``."""
    rows = []
    for r in diverged_records(folder):
        cfg = r["config"]
        rows.append({"run_id": r["run_id"], "N": r["params"]["non_embedding"], "batch_tokens": cfg["batch_tokens"],
                     "train_subset_tokens": cfg.get("train_subset_tokens"),
                     "warmup_steps": cfg["warmup_tokens"] / cfg["batch_tokens"], "lr": cfg["lr"],
                     "reason": r["reason"]})
    columns = ["run_id", "N", "batch_tokens", "train_subset_tokens", "warmup_steps", "lr", "reason"]
    return pd.DataFrame(rows, columns=columns).sort_values("run_id").reset_index(drop=True)


def require_finished(folder: Path) -> None:
    """``ValueError`` (saying how far it is) unless every planned run of the named grid in ``folder`` has a
    result: a complete record, or a diverged one (a result of its config, never retrained). A folder whose
    name is not a registered grid is finished once it holds one complete run."""
    from .grids import get_grid
    folder = Path(folder)
    records, _ = read_grid(folder)
    diverged = len(diverged_records(folder))
    try:
        planned = len(get_grid(folder.name).runs)
    except KeyError:
        planned = 0
    if not records or len(records) + diverged < planned:
        raise ValueError(f"{len(records) + diverged} of {planned} runs trained" if planned else "no complete runs yet")


def training_time(df: pd.DataFrame) -> float:
    """Seconds during which at least one run of a table was training: the union of the runs' start-to-finish
    intervals over all workers, so a pause between two sessions of training does not count."""
    spans = sorted(zip(pd.to_datetime(df["started"]), pd.to_datetime(df["finished"])))
    if not spans:
        return 0.0
    total, (lo, hi) = 0.0, spans[0]
    for start, end in spans[1:]:
        if start > hi:
            total, lo = total + (hi - lo).total_seconds(), start
        hi = max(hi, end)
    return total + (hi - lo).total_seconds()


def provenance_summary(grid_dir: Path) -> dict:
    """What a grid's records say about how they were made: counts, commits, library hashes, machines, times."""
    df = load_grid(grid_dir, report=False)
    skipped = df.attrs["skipped"]
    return {"grid": Path(grid_dir).name, "complete": len(df), "other": [f"{r}: {p}" for r, p in skipped],
            "commits": sorted(set(df["commit"].dropna())) if len(df) else [],
            "library_sha256": sorted(set(df["library_sha256"].dropna())) if len(df) else [],
            "machines": sorted(set(df["machine"].dropna())) if len(df) else [],
            "first_started": str(df["started"].min()) if len(df) else None,
            "last_finished": str(df["finished"].max()) if len(df) else None,
            "training_time_s": round(training_time(df), 1) if len(df) else 0.0,
            "run_time_s_summed": round(float(df["wall_s"].sum()), 1) if len(df) else 0.0,
            "tokens": int(df["tokens"].sum()) if len(df) else 0}
