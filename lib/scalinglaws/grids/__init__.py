"""Grids: named lists of runs, built with ``sweep`` and defined one module per chapter.

A *run* is an id plus a full ``TrainConfig`` (as a dict). ``sweep(base, **axes)`` takes the
product of the axes and names each run by the axes that vary (``L2-d64`` for a size sweep,
``L2-d64_lr0.003`` when the learning rate varies too), so ids say what differs and never collide:
a grid refuses duplicate ids when it is built. Each chapter's grids live in their own module
(``grids/ln.py`` for L(N), ...) and are registered here; ``scalinglaws grid show NAME`` prints
one as a table.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import TrainConfig, flat_config
from ..models import ModelShape, formula_accounting

# Short names of the axes in run ids; an axis not listed uses its field name.
ID_NAMES = {"lr": "lr", "batch_tokens": "b", "tokens": "t", "train_subset_tokens": "D", "seed": "s",
            "dropout": "p", "warmup_tokens": "w", "betas": "beta", "schedule": "", "micro_batch_tokens": "mb"}


@dataclass(frozen=True)
class RunSpec:
    run_id: str
    config: dict

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.config)

    @property
    def shape(self) -> ModelShape:
        return ModelShape.from_dict(self.config["model"])

    @property
    def accounting(self) -> dict:
        return formula_accounting(self.shape)

    @property
    def params(self) -> dict:
        return self.accounting["params"]

    @property
    def cost(self) -> float:
        """Training FLOPs (with head and attention), for balancing slices and printing tables."""
        return self.accounting["flops_per_token"]["with_head_attn"] * self.train_config.tokens_processed


@dataclass(frozen=True)
class Grid:
    name: str
    description: str
    runs: tuple
    chapter: str = ""

    def __post_init__(self):
        ids = [r.run_id for r in self.runs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"grid {self.name!r}: duplicate run ids {dupes}")
        if not self.runs:
            raise ValueError(f"grid {self.name!r} has no runs")
        for run in self.runs:
            if not run.run_id or "/" in run.run_id or run.run_id.startswith(("_", ".")):
                raise ValueError(f"grid {self.name!r}: bad run id {run.run_id!r} (no '/', not starting with _ or .)")

    def get(self, run_id: str) -> RunSpec:
        for run in self.runs:
            if run.run_id == run_id:
                return run
        raise KeyError(f"grid {self.name!r} has no run {run_id!r}; runs: {', '.join(r.run_id for r in self.runs)}")

    def table(self):
        """One row per run: its id, the config fields that vary across the grid, N and the cost."""
        import pandas as pd

        flat = [flat_config(r.config) for r in self.runs]
        keys = [k for k in flat[0] if len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1]
        rows = [{"run_id": r.run_id, **{k: f.get(k) for k in keys}, "N": r.params["non_embedding"],
                 "N_total": r.params["total"], "tokens": r.config["tokens"], "PFLOP": r.cost / 1e15}
                for r, f in zip(self.runs, flat)]
        return pd.DataFrame(rows).set_index("run_id")


def gpt(n_layer: int, d_model: int, n_head: int = 1, n_ctx: int = 128, vocab_size: int = 4096) -> dict:
    """A GPT shape as the dict a config holds."""
    return ModelShape(n_layer, d_model, n_head, n_ctx, vocab_size).to_dict()


def _id_value(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int):   # exact: 32768 stays 32768, 5000000 becomes 5e6
        mantissa, exponent = value, 0
        while mantissa and mantissa % 10 == 0:
            mantissa, exponent = mantissa // 10, exponent + 1
        return f"{mantissa}e{exponent}" if exponent >= 3 else str(value)
    if isinstance(value, float):
        return f"{value:.4g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    if isinstance(value, (list, tuple)):
        return "-".join(_id_value(v) for v in value)
    return str(value)


SHAPE_ID_NAMES = {"n_head": "h", "n_ctx": "ctx", "vocab_size": "V"}


def _model_ids(shapes: list) -> list:
    """Run-id parts for the values of a ``model`` axis: the shape label (``L2-d64``), plus the other
    shape fields that tell apart shapes sharing a label (``L2-d64-h1``, ``L2-d64-h2``)."""
    shapes = [ModelShape.from_dict(v) for v in shapes]
    labels = [s.label for s in shapes]
    out = []
    for shape, label in zip(shapes, labels):
        twins = [s for s, other in zip(shapes, labels) if other == label]
        extra = [f"{short}{getattr(shape, f)}" for f, short in SHAPE_ID_NAMES.items()
                 if len({getattr(t, f) for t in twins}) > 1]
        out.append("-".join([label, *extra]))
    return out


def _id_part(axis: str, value) -> str:
    return f"{ID_NAMES.get(axis, axis)}{_id_value(value)}"


def sweep(base: dict | None = None, **axes) -> tuple:
    """The runs of the product of ``axes`` over ``base``; ids from the axes with more than one value.

    ``sweep({"tokens": 5_000_000}, model=[gpt(2, 32), gpt(2, 64)], lr=[1e-3, 2e-3])`` gives four runs,
    ``L2-d32_lr0.001`` … ``L2-d64_lr0.002``; every config is validated and stored in full. Shapes that share
    a label get the fields that tell them apart (``L2-d64-h1``, ``L2-d64-h2``).
    """
    base = dict(base or {})
    for axis, values in axes.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"sweep axis {axis!r} needs a non-empty list of values")
    axes = {axis: [v.to_dict() if isinstance(v, ModelShape) else v for v in values] for axis, values in axes.items()}
    varying = [axis for axis, values in axes.items() if len(values) > 1]
    names = {axis: (_model_ids(values) if axis == "model" else [_id_part(axis, v) for v in values])
             for axis, values in axes.items()}
    runs = []
    for combo in itertools.product(*(range(len(values)) for values in axes.values())):
        picks = dict(zip(axes, combo))
        overrides = {axis: axes[axis][i] for axis, i in picks.items()}
        config = TrainConfig.from_dict({**base, **overrides}).to_dict()
        run_id = "_".join(names[axis][picks[axis]] for axis in varying) or "run"
        runs.append(RunSpec(run_id, config))
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"sweep gives duplicate run ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return tuple(runs)


GRIDS: dict[str, Grid] = {}


def register(*grids: Grid) -> None:
    for grid in grids:
        if grid.name in GRIDS:
            raise ValueError(f"grid {grid.name!r} is defined twice")
        GRIDS[grid.name] = grid


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


from . import batch, calibration, frontier, ln, overfit, smoke  # noqa: E402,F401  (each module registers its grids)
