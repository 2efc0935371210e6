"""Named grids of runs, split into slices, each slice trained by the papermill template.

A *grid* is a named list of runs (a run = an id plus a ``TrainConfig``). The runner skips runs
whose record is already complete with the same config, cuts the rest into *slices* (lists of
runs), and executes ``book/train/train_slice.md`` once per slice with papermill, either in local
worker processes or as jobs of a cluster engine (submitit: SLURM on a cluster, its local or
debug executor elsewhere). The executed notebook of every slice is kept beside the records in
``runs/<grid>/_slices/``. A slice that crashes is recorded (its unfinished runs get status
``failed`` with the error) and the others keep going.

On a CPU, workers run one thread each (two 1-thread processes beat one 2-thread process on the
project's 2-core machines) and, where Debian's ``libtcmalloc-minimal4`` is installed, with
tcmalloc preloaded: glibc's allocator costs 20–70% there (README, "Speed").
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .model import ModelShape, formula_params
from .paths import repo_root, runs_root
from .runs import RecordError, config_hash, read_record, write_json_atomic, write_record
from .train import TrainConfig

TEMPLATE = Path("book") / "train" / "train_slice.md"
TCMALLOC_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
                       "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
                       "/usr/lib/libtcmalloc_minimal.so.4")
GLIBC_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "68719476736",
                    "MALLOC_TOP_PAD_": "268435456"}


@dataclass(frozen=True)
class RunSpec:
    run_id: str
    config: dict

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.config)

    @property
    def cost(self) -> float:
        """Rough training FLOPs (with head and attention), for balancing slices."""
        shape = ModelShape.from_dict(self.config["model"])
        n = formula_params(shape)["non_embedding"]
        per_token = 6 * (n + shape.d_model * shape.vocab_size + shape.n_layer * shape.n_ctx * shape.d_model)
        return per_token * self.config.get("tokens", TrainConfig.tokens)


@dataclass(frozen=True)
class Grid:
    name: str
    description: str
    runs: tuple

    def get(self, run_id: str) -> RunSpec:
        for run in self.runs:
            if run.run_id == run_id:
                return run
        raise KeyError(f"grid {self.name!r} has no run {run_id!r}; runs: {', '.join(r.run_id for r in self.runs)}")


def size_sweep(shapes, n_ctx: int = 128, vocab_size: int = 4096, **train) -> tuple:
    """One run per (n_layer, d_model, n_head), all with the same training settings."""
    runs = []
    for n_layer, d_model, n_head in shapes:
        shape = ModelShape(n_layer, d_model, n_head, n_ctx, vocab_size)
        config = TrainConfig(model=dataclasses.asdict(shape), **train).to_dict()
        runs.append(RunSpec(shape.label, config))
    return tuple(runs)


# The grids ----------------------------------------------------------------------------------
# Every grid the book or the tests use is defined here, in one readable place.

GRIDS = {g.name: g for g in [
    Grid("smoke", "Two tiny models on 8e4 tokens each: seconds, for tests and a first try.",
         size_sweep([(2, 8, 1), (2, 16, 1)], n_ctx=64, tokens=81_920, batch_tokens=4096, lr=0.01,
                    micro_batch_tokens=2048, warmup_tokens=8192, eval_points=5, eval_tokens=4096,
                    final_eval_tokens=8192, ood_eval_tokens=4096, checkpoint_interval_s=0)),
    Grid("cpu-default",
         "L(N): 7 sizes from 1.8e3 to 7.9e5 non-embedding parameters, all with ≥ 2 layers, each on 5e6 "
         "tokens with full learning curves; about 30 minutes on 2 CPU cores.",
         size_sweep([(2, 8, 1), (2, 16, 1), (2, 32, 1), (2, 48, 1), (2, 64, 2), (3, 96, 3), (4, 128, 4)],
                    tokens=5_000_000)),
]}


def load_grid_file(path: Path) -> Grid:
    """A grid of your own, as JSON: ``{"name", "description", "runs": [{"run_id", "config"}]}``.

    Each ``config`` is a ``TrainConfig`` as a dict (fields left out take their defaults).
    """
    path = Path(path)
    try:
        spec = json.loads(path.read_text())
        runs = tuple(RunSpec(r["run_id"], TrainConfig.from_dict(r["config"]).to_dict()) for r in spec["runs"])
        return Grid(spec["name"], spec.get("description", f"grid file {path}"), runs)
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"grid file {path}: {type(e).__name__}: {e}") from None


def get_grid(name: str) -> Grid:
    """A named grid from ``GRIDS``, or a grid file (``*.json``) given by its path."""
    if name in GRIDS:
        return GRIDS[name]
    if name.endswith(".json") and Path(name).is_file():
        return load_grid_file(Path(name))
    raise KeyError(f"unknown grid {name!r}; known grids: {', '.join(sorted(GRIDS))} (or a path to a grid .json file)")


# Runner -------------------------------------------------------------------------------------

def run_state(run_dir: Path, spec: RunSpec) -> str:
    """``complete`` (same config), ``stale`` (complete, other config), ``failed``, ``running`` or ``missing``."""
    try:
        record = read_record(run_dir)
    except RecordError:
        return "missing"
    if record["status"] == "complete":
        try:
            same = spec.train_config.same_run(record["config"])
        except (ValueError, TypeError):
            same = False
        return "complete" if same else "stale"
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


def execute_slice(grid_name: str, run_ids: list, runs_dir: str, threads: int = 1, slice_id: str | None = None,
                  timeout_s: float | None = None) -> dict:
    """Train one slice by executing the papermill template; never raises for a failed slice.

    Returns ``{"slice", "run_ids", "ok", "error", "notebook", "wall_s"}``. When the notebook fails,
    every run of the slice that is not complete gets status ``failed`` with the error as reason.
    """
    import jupytext
    import nbformat
    import papermill as pm

    root = repo_root()
    grid = get_grid(grid_name)
    grid_dir = Path(runs_dir) / grid.name
    slice_id = slice_id or "+".join(run_ids)
    out_dir = grid_dir / "_slices"
    out_dir.mkdir(parents=True, exist_ok=True)
    template = out_dir / f".{slice_id}.template.ipynb"
    nbformat.write(jupytext.read(root / TEMPLATE), template)
    notebook = out_dir / f"{slice_id}.ipynb"
    os.environ.update(worker_env(threads))
    t0 = time.monotonic()
    result = {"slice": slice_id, "run_ids": list(run_ids), "ok": True, "error": None, "notebook": str(notebook)}
    try:
        pm.execute_notebook(str(template), str(notebook), kernel_name="python3", progress_bar=False,
                            cwd=str(root), execution_timeout=timeout_s,
                            parameters={"grid": grid_name, "run_ids": list(run_ids), "runs_dir": str(runs_dir),
                                        "threads": threads, "notebook": str(notebook)})
    except Exception as e:   # PapermillExecutionError, a dead kernel, a timeout...
        ename = getattr(e, "ename", type(e).__name__)
        evalue = getattr(e, "evalue", str(e))
        result.update(ok=False, error=f"{ename}: {evalue}".strip())
        mark_failed(grid, grid_dir, run_ids, f"slice {slice_id} crashed: {result['error']} (notebook {notebook})")
    finally:
        template.unlink(missing_ok=True)
    result["wall_s"] = round(time.monotonic() - t0, 1)
    write_json_atomic(out_dir / f"{slice_id}.json", result)
    return result


def mark_failed(grid: Grid, grid_dir: Path, run_ids, reason: str) -> None:
    """Record a crash in every unfinished run of a slice (runs that never started get a stub)."""
    for run_id in run_ids:
        run_dir = grid_dir / run_id
        try:
            record = read_record(run_dir)
            if record["status"] in ("complete", "failed"):   # a failed run recorded its own, more precise, reason
                continue
        except RecordError:
            from .model import accounting
            spec = grid.get(run_id)
            shape = ModelShape.from_dict(spec.config["model"])
            record = {"grid": grid.name, "run_id": run_id, "config": spec.config,
                      "config_hash": config_hash(spec.config), **accounting(shape), "curve": [],
                      "provenance": {"command": "scalinglaws grid run", "started": None, "finished": None}}
        record.update(status="failed", reason=reason)
        write_record(run_dir, record)


@dataclass
class GridSummary:
    grid: str
    grid_dir: Path
    grid_arg: str | None = None                     # the name or grid-file path it was run with
    skipped: list = field(default_factory=list)     # complete before this call
    slices: list = field(default_factory=list)      # execute_slice results
    wall_s: float = 0.0

    @property
    def failed_slices(self) -> list:
        return [s for s in self.slices if not s["ok"]]

    def table(self) -> str:
        grid = get_grid(self.grid_arg or self.grid)
        lines = [f"grid {self.grid}: {len(grid.runs)} runs in {self.grid_dir} ({self.wall_s:.0f} s)",
                 f"{'run':<12} {'status':<10} {'N':>9} {'val loss':>9} {'tokens':>10} {'wall s':>8} {'tok/s':>8}"]
        for spec in grid.runs:
            try:
                r = read_record(self.grid_dir / spec.run_id)
            except RecordError as e:
                lines.append(f"{spec.run_id:<12} {'missing':<10} {str(e)[-60:]}")
                continue
            f = r.get("final", {})
            val = f"{f['val_loss']:.4f}" if f else "-"
            lines.append(f"{spec.run_id:<12} {r['status']:<10} {r['params']['non_embedding']:>9} {val:>9} "
                         f"{f.get('tokens', '-'):>10} {f.get('wall_s', '-'):>8} {f.get('tokens_per_s', '-'):>8}")
            if r["status"] == "failed":
                lines.append(f"{'':<12} reason: {r['reason']}")
        for s in self.failed_slices:
            lines.append(f"slice {s['slice']} FAILED: {s['error']} (see {s['notebook']})")
        return "\n".join(lines)


def run_grid(name: str, runs_dir: Path | None = None, *, workers: int = 2, threads: int = 1,
             engine: str = "local", cluster: str | None = None, slice_size: int = 1, only=None,
             retrain_stale: bool = False, timeout_s: float | None = None, progress: bool = False,
             log=print) -> GridSummary:
    """Train every missing run of a grid; see the module docstring."""
    grid = get_grid(name)
    if engine not in ("local", "submitit"):
        raise ValueError(f"unknown engine {engine!r}; use 'local' or 'submitit'")
    runs_dir = Path(runs_dir) if runs_dir else runs_root()
    grid_dir = runs_dir / grid.name
    summary = GridSummary(grid.name, grid_dir, grid_arg=name)
    todo = []
    for spec in grid.runs:
        if only and spec.run_id not in only:
            continue
        state = run_state(grid_dir / spec.run_id, spec)
        if state == "complete" or (state == "stale" and not retrain_stale):
            if state == "stale":
                log(f"note: {spec.run_id} is complete with another config; pass --retrain-stale to retrain it")
            summary.skipped.append(spec.run_id)
        else:
            todo.append(spec)
    if only:
        unknown = set(only) - {r.run_id for r in grid.runs}
        if unknown:
            raise KeyError(f"grid {name!r} has no runs {sorted(unknown)}")
    slices = make_slices(todo, slice_size)
    log(f"grid {name}: {len(summary.skipped)} runs complete, {len(todo)} to train in {len(slices)} slices "
        f"({engine}, {workers} workers x {threads} threads)")
    if slices:
        # The corpus is prepared once, before the workers start, so they don't race to build it.
        # A corpus that cannot be prepared fails its own slices, not the whole grid.
        from .data import prepare_corpus
        corpora = {(r.config["corpus"], r.config["model"]["vocab_size"], r.config["data_seed"]) for r in todo}
        for spec, vocab, seed in sorted(corpora, key=str):
            try:
                pc = prepare_corpus(spec, vocab_size=vocab, seed=seed)
                copy_manifest(pc, grid_dir)
            except Exception as e:
                log(f"corpus {spec!r} (vocab {vocab}) could not be prepared: {type(e).__name__}: {e}")
    t0 = time.monotonic()
    grid_arg = name if name not in GRIDS else grid.name   # a grid file travels as its path
    args = [(grid_arg, [r.run_id for r in s], str(runs_dir), threads, None, timeout_s) for s in slices]
    if engine == "local" and slices:
        from tqdm.auto import tqdm
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool, \
                tqdm(total=len(args), desc=f"grid {grid.name}", unit="slice", disable=not progress) as bar:
            futures = [pool.submit(execute_slice, *a) for a in args]
            for fut in as_completed(futures):
                result = fut.result()
                summary.slices.append(result)
                bar.update(1)
                log(f"slice {result['slice']}: {'ok' if result['ok'] else 'FAILED ' + result['error']} "
                    f"({result['wall_s']} s)")
    elif engine == "submitit" and slices:
        summary.slices.extend(submit_slices(args, grid_dir, cluster, threads, log))
    summary.wall_s = time.monotonic() - t0
    return summary


def copy_manifest(corpus, grid_dir: Path) -> Path:
    """Keep the corpus manifest beside the records (the book describes the data from it)."""
    target = grid_dir / "_corpus" / f"{Path(corpus.path).name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((Path(corpus.path) / "manifest.json").read_bytes())
    return target


def submit_slices(args, grid_dir: Path, cluster: str | None, threads: int, log) -> list:
    """Run slices as submitit jobs: a SLURM array on a cluster, local processes elsewhere."""
    import submitit

    executor = submitit.AutoExecutor(folder=str(grid_dir / "_submitit" / "%j"), cluster=cluster)
    executor.update_parameters(timeout_min=24 * 60, cpus_per_task=threads, name=f"scalinglaws-{grid_dir.name}")
    if executor.cluster == "slurm":
        executor.update_parameters(slurm_array_parallelism=64)
    jobs = executor.map_array(execute_slice, *zip(*args))
    log(f"submitted {len(jobs)} slices to submitit ({executor.cluster})")
    results = []
    for job, a in zip(jobs, args):
        try:
            results.append(job.result())
        except Exception as e:   # the job itself died (pre-emption, node failure...)
            error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
            mark_failed(get_grid(a[0]), grid_dir, a[1], f"submitit job {job.job_id} failed: {error}")
            results.append({"slice": "+".join(a[1]), "run_ids": a[1], "ok": False, "error": error,
                            "notebook": None, "wall_s": None})
        log(f"slice {results[-1]['slice']}: {'ok' if results[-1]['ok'] else 'FAILED ' + results[-1]['error']}")
    return results
