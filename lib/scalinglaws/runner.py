"""The runner: cut a grid into slices and train them, in local processes or as submitit jobs.

``run_grid`` skips runs whose record is already complete with the same config, cuts the rest into
*slices* (lists of runs, the most expensive first) and executes the papermill template
(``paths.slice_template()``) once per slice, handing it the slice's *resolved* configs and the
device. The template calls ``run_slice``, the plain function that trains a list of runs; nothing
downstream looks a grid up by name again. The executed notebook of every slice is kept beside the
records in ``runs/<grid>/_slices/``. A slice that crashes is recorded (its unfinished runs get
status ``failed`` with the error) and the others keep going.

On a CPU, workers run one thread each (two 1-thread processes beat one 2-thread process on the
project's 2-core machines) and, where Debian's ``libtcmalloc-minimal4`` is installed, with
tcmalloc preloaded: glibc's allocator costs 20–70% there (README, "Speed").
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .data.prepare import manifest_identity
from .grids import Grid, RunSpec, get_grid
from .models import ModelShape, formula_accounting
from .paths import repo_root, runs_root, slice_template
from .provenance import now
from .runs import DIVERGED, RecordError, fail_record, is_diverged, new_record, read_record, write_json_atomic, write_record

TCMALLOC_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
                       "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
                       "/usr/lib/libtcmalloc_minimal.so.4")
GLIBC_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "68719476736",
                    "MALLOC_TOP_PAD_": "268435456"}


def run_slice(runs: list, grid_dir, *, grid: str, device: str = "cpu", threads: int | None = None,
              progress: bool = False, command: str | None = None, notebook: str | None = None, log=print) -> list:
    """Train each run of a slice (``[{"run_id", "config"}]``, configs resolved) and return the records.

    The papermill template calls this; so can anyone, without a notebook.
    """
    from .train import train_run

    grid_dir = Path(grid_dir)
    command = command or f"scalinglaws grid run {grid} (slice {', '.join(r['run_id'] for r in runs)})"
    records = []
    for run in runs:
        record = train_run(run["config"], grid_dir / run["run_id"], grid=grid, run_id=run["run_id"], device=device,
                           threads=threads, progress=progress, command=command, notebook=notebook)
        final = record.get("final")
        log(f"{run['run_id']}: {record['status']}",
            f"val loss {final['val_loss']:.4f}" if final else record.get("reason", ""))
        records.append(record)
    return records


def run_state(run_dir: Path, spec: RunSpec) -> str:
    """``complete`` (same config), ``stale`` (complete, other config), ``diverged`` (failed by the divergence
    guard with the same config: a result, as deterministic as a complete run, so not retrained),
    ``failed``, ``running`` or ``missing``."""
    try:
        record = read_record(run_dir)
    except RecordError:
        return "missing"
    try:
        same = spec.train_config.same_run(record["config"])
    except (ValueError, TypeError):
        same = False
    if record["status"] == "complete":
        return "complete" if same else "stale"
    if same and is_diverged(record):
        return "diverged"
    return record["status"]


def make_slices(runs, slice_size: int = 1) -> list[list[RunSpec]]:
    """Cut runs into slices of ``slice_size``, the most expensive first (longest-job-first)."""
    ordered = sorted(runs, key=lambda r: r.cost, reverse=True)
    if slice_size <= 1:
        return [[r] for r in ordered]
    n = -(-len(ordered) // slice_size)
    slices = [[] for _ in range(n)]
    for i, run in enumerate(ordered):   # deal round-robin so slices have similar cost
        slices[i % n].append(run)
    return slices


def worker_env(threads: int) -> dict:
    """Environment for a training process: thread count and the allocator fix."""
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    tcmalloc = next((p for p in TCMALLOC_CANDIDATES if Path(p).exists()), None)
    if tcmalloc and "LD_PRELOAD" not in os.environ:
        env["LD_PRELOAD"] = tcmalloc
    elif not tcmalloc:
        env.update(GLIBC_MALLOC_ENV)
    return env


def execute_slice(runs: list, grid: str, grid_dir: str, *, template: str | None = None, device: str = "cpu",
                  threads: int = 1, slice_id: str | None = None, timeout_s: float | None = None) -> dict:
    """Train one slice by executing the papermill template; never raises for a failed slice.

    ``runs`` are ``[{"run_id", "config"}]`` with resolved configs. Returns ``{"slice", "run_ids",
    "ok", "error", "notebook", "wall_s"}``. When the notebook fails, every run of the slice that is
    not complete gets status ``failed`` with the error as reason.
    """
    import jupytext
    import nbformat
    import papermill as pm

    grid_dir = Path(grid_dir)
    run_ids = [r["run_id"] for r in runs]
    slice_id = slice_id or "+".join(run_ids)
    out_dir = grid_dir / "_slices"
    out_dir.mkdir(parents=True, exist_ok=True)
    source = Path(template) if template else slice_template()
    template_nb = out_dir / f".{slice_id}.template.ipynb"
    nbformat.write(jupytext.read(source), template_nb)
    notebook = out_dir / f"{slice_id}.ipynb"
    os.environ.update(worker_env(threads))
    t0 = time.monotonic()
    result = {"slice": slice_id, "run_ids": run_ids, "ok": True, "error": None, "notebook": str(notebook)}
    try:
        pm.execute_notebook(str(template_nb), str(notebook), kernel_name="python3", progress_bar=False,
                            cwd=str(repo_root()), execution_timeout=timeout_s,
                            parameters={"grid": grid, "runs": list(runs), "grid_dir": str(grid_dir),
                                        "device": device, "threads": threads, "notebook": str(notebook)})
    except Exception as e:   # PapermillExecutionError, a dead kernel, a timeout...
        ename = getattr(e, "ename", type(e).__name__)
        evalue = getattr(e, "evalue", str(e))
        result.update(ok=False, error=f"{ename}: {evalue}".strip())
        mark_failed(grid, grid_dir, runs, f"slice {slice_id} crashed: {result['error']} (notebook {notebook})")
    finally:
        template_nb.unlink(missing_ok=True)
    result["wall_s"] = round(time.monotonic() - t0, 1)
    write_json_atomic(out_dir / f"{slice_id}.json", result)
    return result


def mark_failed(grid: str, grid_dir: Path, runs: list, reason: str) -> None:
    """Record a crash in every unfinished run of a slice (runs that never started get a record too)."""
    for run in runs:
        run_dir = Path(grid_dir) / run["run_id"]
        try:
            record = read_record(run_dir)
            if record["status"] in ("complete", "failed"):   # a failed run recorded its own, more precise, reason
                continue
        except RecordError:
            record = new_record(grid=grid, run_id=run["run_id"], config=run["config"],
                                accounting=formula_accounting(ModelShape.from_dict(run["config"]["model"])),
                                provenance={"command": "scalinglaws grid run"})
        write_record(run_dir, fail_record(record, reason, now()))


@dataclass
class GridSummary:
    grid: Grid
    grid_dir: Path
    skipped: list = field(default_factory=list)     # complete before this call
    slices: list = field(default_factory=list)      # execute_slice results
    wall_s: float = 0.0

    @property
    def failed_slices(self) -> list:
        return [s for s in self.slices if not s["ok"]]

    def table(self) -> str:
        lines = [f"grid {self.grid.name}: {len(self.grid.runs)} runs in {self.grid_dir} ({self.wall_s:.0f} s)",
                 f"{'run':<16} {'status':<10} {'N':>9} {'val loss':>9} {'tokens':>10} {'epochs':>7} {'wall s':>8} "
                 f"{'tok/s':>8}"]
        for spec in self.grid.runs:
            try:
                r = read_record(self.grid_dir / spec.run_id)
            except RecordError as e:
                lines.append(f"{spec.run_id:<16} {'missing':<10} {str(e)[-60:]}")
                continue
            f = r.get("final", {})
            val = f"{f['val_loss']:.4f}" if f else "-"
            epochs = f"{f['epochs']:.2f}" if f.get("epochs") is not None else "-"
            lines.append(f"{spec.run_id:<16} {r['status']:<10} {r['params']['non_embedding']:>9} {val:>9} "
                         f"{f.get('tokens', '-'):>10} {epochs:>7} {f.get('wall_s', '-'):>8} {f.get('tokens_per_s', '-'):>8}")
            if r["status"] == "failed":
                kind = "diverged (a result, not retrained)" if is_diverged(r) else "reason"
                lines.append(f"{'':<16} {kind}: {r['reason']}")
        for s in self.failed_slices:
            lines.append(f"slice {s['slice']} FAILED: {s['error']} (see {s['notebook']})")
        return "\n".join(lines)


ENGINES = ("local", "submitit")


def run_grid(grid: str | Grid, runs_dir: Path | None = None, *, workers: int = 2, threads: int = 1,
             engine: str = "local", cluster: str | None = None, device: str = "cpu", slice_size: int = 1, only=None,
             retrain_stale: bool = False, timeout_s: float | None = None, template: str | None = None,
             progress: bool = False, log=print) -> GridSummary:
    """Train every missing run of a grid (a ``Grid``, a registered name or a grid file); see the module docstring."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    from .train import resolve_device
    resolve_device(device, here=engine == "local")   # an impossible device is an error before anything starts
    grid = grid if isinstance(grid, Grid) else get_grid(grid)
    if only:
        unknown = set(only) - {r.run_id for r in grid.runs}
        if unknown:
            raise KeyError(f"grid {grid.name!r} has no runs {sorted(unknown)}")
    runs_dir = Path(runs_dir) if runs_dir else runs_root()
    grid_dir = runs_dir / grid.name
    summary = GridSummary(grid, grid_dir)
    todo = []
    for spec in grid.runs:
        if only and spec.run_id not in only:
            continue
        state = run_state(grid_dir / spec.run_id, spec)
        if state in ("complete", "diverged") or (state == "stale" and not retrain_stale):
            if state == "stale":
                log(f"note: {spec.run_id} is complete with another config; pass --retrain-stale to retrain it")
            summary.skipped.append(spec.run_id)
        else:
            todo.append(spec)
    slices = make_slices(todo, slice_size)
    log(f"grid {grid.name}: {len(summary.skipped)} runs complete, {len(todo)} to train in {len(slices)} slices "
        f"({engine}, {workers} workers x {threads} threads, {device})")
    if slices:
        # The corpus is prepared once, before the workers start, so they don't race to build it.
        # A corpus that cannot be prepared fails its own slices, not the whole grid.
        from .data import prepare_corpus
        corpora = {(r.config["corpus"], r.config["model"]["vocab_size"], r.config["data_seed"]) for r in todo}
        for spec, vocab, seed in sorted(corpora, key=str):
            try:
                copy_manifest(prepare_corpus(spec, vocab_size=vocab, seed=seed), grid_dir)
            except Exception as e:
                log(f"corpus {spec!r} (vocab {vocab}) could not be prepared: {type(e).__name__}: {e}")
    t0 = time.monotonic()
    jobs = [dict(runs=[{"run_id": r.run_id, "config": r.config} for r in s], grid=grid.name,
                 grid_dir=str(grid_dir), template=str(template) if template else None, device=device,
                 threads=threads, timeout_s=timeout_s) for s in slices]
    if engine == "local" and jobs:
        from tqdm.auto import tqdm
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool, \
                tqdm(total=len(jobs), desc=f"grid {grid.name}", unit="slice", disable=not progress) as bar:
            futures = [pool.submit(_execute, job) for job in jobs]
            for fut in as_completed(futures):
                result = fut.result()
                summary.slices.append(result)
                bar.update(1)
                log(f"slice {result['slice']}: {'ok' if result['ok'] else 'FAILED ' + result['error']} "
                    f"({result['wall_s']} s)")
    elif engine == "submitit" and jobs:
        summary.slices.extend(submit_slices(jobs, grid_dir, cluster, threads, log, gpus=0 if device == "cpu" else 1))
    summary.wall_s = time.monotonic() - t0
    return summary


def _execute(job: dict) -> dict:
    return execute_slice(**job)


def copy_manifest(corpus, grid_dir: Path) -> Path:
    """Keep the corpus manifest beside the records (the book describes the data from it). A copy of the same corpus
    prepared elsewhere (``manifest_identity`` equal: only its timestamps differ) is kept as it is, so that a grid
    finished on another machine leaves the committed copy unchanged."""
    source = Path(corpus.path) / "manifest.json"
    target = grid_dir / "_corpus" / f"{Path(corpus.path).name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        try:
            if manifest_identity(json.loads(target.read_text())) == manifest_identity(json.loads(source.read_text())):
                return target
        except ValueError:      # an unreadable copy is replaced
            pass
    target.write_bytes(source.read_bytes())
    return target


def submit_slices(jobs: list, grid_dir: Path, cluster: str | None, threads: int, log, gpus: int = 0) -> list:
    """Run slices as submitit jobs: a SLURM array on a cluster, local processes elsewhere.

    ``gpus``: GPUs each job asks for (one when the grid trains on ``cuda`` or ``auto``).
    """
    import submitit

    executor = submitit.AutoExecutor(folder=str(grid_dir / "_submitit" / "%j"), cluster=cluster)
    executor.update_parameters(timeout_min=24 * 60, cpus_per_task=threads, name=f"scalinglaws-{grid_dir.name}")
    if gpus and executor.cluster == "slurm":
        executor.update_parameters(gpus_per_node=gpus)
    if executor.cluster == "slurm":
        executor.update_parameters(slurm_array_parallelism=64)
    submitted = executor.map_array(_execute, jobs)
    log(f"submitted {len(submitted)} slices to submitit ({executor.cluster})")
    results = []
    for job, spec in zip(submitted, jobs):
        try:
            results.append(job.result())
        except Exception as e:   # the job itself died (pre-emption, node failure...)
            error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
            mark_failed(spec["grid"], Path(spec["grid_dir"]), spec["runs"], f"submitit job {job.job_id} failed: {error}")
            results.append({"slice": "+".join(r["run_id"] for r in spec["runs"]),
                            "run_ids": [r["run_id"] for r in spec["runs"]], "ok": False, "error": error,
                            "notebook": None, "wall_s": None})
        log(f"slice {results[-1]['slice']}: {'ok' if results[-1]['ok'] else 'FAILED ' + results[-1]['error']}")
    return results
