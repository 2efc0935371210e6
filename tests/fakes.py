"""A small in-memory corpus with learnable structure, so engine tests need no prepared corpus."""
from __future__ import annotations

import numpy as np

from scalinglaws.data import ArrayCorpus


class FakeCorpus(ArrayCorpus):
    """Token arrays from a seeded sparse Markov chain over ``vocab_size`` tokens."""

    def __init__(self, vocab_size: int = 256, train_tokens: int = 60_000, seed: int = 0, path: str = "/nonexistent"):
        rng = np.random.default_rng(seed)
        nxt = rng.integers(0, vocab_size, size=(vocab_size, 3))   # each token has three likely successors

        def stream(n, s):
            r = np.random.default_rng(s)
            out = np.empty(n, dtype=np.uint16)
            t = 0
            choice, noise = r.integers(0, 3, size=n), r.random(n) < 0.1
            rand = r.integers(0, vocab_size, size=n)
            for i in range(n):
                t = rand[i] if noise[i] else nxt[t, choice[i]]
                out[i] = t
            return out

        super().__init__({"train": stream(train_tokens, seed + 1), "val": stream(8_000, seed + 2),
                          "test": stream(8_000, seed + 3)}, vocab_size, path)


# -- synthetic frontier records ------------------------------------------------------------------

# L(N, D) = E + A/N^α + B/D^β (N non-embedding, D tokens): the compute-optimal size under C = 6ND is
# N_opt = G (C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)) (Hoffmann et al. 2022), so the allocation exponent is known.
FRONTIER_LAW = {"E": 1.5, "A": 20.0, "alpha": 0.3, "B": 60.0, "beta": 0.3, "unannealed": 0.15}


def law_loss(N, D, law=FRONTIER_LAW):
    return law["E"] + law["A"] / np.asarray(N, float) ** law["alpha"] + law["B"] / np.asarray(D, float) ** law["beta"]


def frontier_records(folder, grid_name: str = "frontier-quick", law=FRONTIER_LAW, noise: float = 0.0, seed: int = 0):
    """Complete records for every run of a frontier grid with losses from ``law``: a ``_cooldown`` run's
    branches reach L(N, budget); a ``_kaplan`` curve point at t tokens sits ``unannealed × lr(t)/peak`` above
    L(N, t) (the LR not yet annealed). Returns the grid."""
    from pathlib import Path

    from scalinglaws.config import TrainConfig
    from scalinglaws.grids import get_grid
    from scalinglaws.runs import complete_record, new_record, write_record

    rng = np.random.default_rng(seed)
    grid = get_grid(grid_name)
    for spec in grid.runs:
        cfg = TrainConfig.from_dict(spec.config)
        acct = spec.accounting
        N = acct["params"]["non_embedding"]
        record = new_record(grid=grid_name, run_id=spec.run_id, config=spec.config, accounting=acct,
                            provenance={"command": "synthetic", "machine": "none",
                                        "started": "2026-01-01T00:00:00+00:00"})
        curve = []
        for step in cfg.eval_steps():
            tokens = step * cfg.batch_tokens
            lr = cfg.lr_at(step - 1, N)
            bump = law["unannealed"] * lr / cfg.peak_lr(N) if cfg.protocol == "kaplan" else law["unannealed"]
            loss = float(law_loss(N, tokens, law) + bump + rng.normal(0, noise))
            curve.append({"step": step, "tokens": tokens, "epoch": tokens / 6.66e6, "train_loss": loss,
                          "train_loss_ema": loss, "val_loss": loss, "lr": lr, "wall_s": float(step)})
        record["curve"] = curve
        if cfg.cooldown_budgets:
            record["cooldowns"] = [{"budget": b, "branch_step": br, "cooldown_steps": s, "steps": br + s,
                                    "tokens": (br + s) * cfg.batch_tokens, "epoch": 0.0,
                                    "val_loss": float(law_loss(N, (br + s) * cfg.batch_tokens, law)
                                                      + rng.normal(0, noise)),
                                    "train_loss_ema": 0.0, "lr_peak": cfg.peak_lr(N), "wall_s": 1.0}
                                   for b, br, s in cfg.cooldown_plan()]
        last = curve[-1]
        final = {"val_loss": last["val_loss"], "best_val_loss": last["val_loss"], "best_step": last["step"],
                 "weights": "last", "eval_step": last["step"], "tokens": last["tokens"], "steps": last["step"],
                 "epochs": last["epoch"], "stopped_early": False, "wall_s": 10.0, "train_s": 9.0,
                 "tokens_per_s": 1e4, "eval": {"val": last["val_loss"], "test": last["val_loss"]}}
        complete_record(record, final, "2026-01-01T01:00:00+00:00")
        write_record(Path(folder) / spec.run_id, record)
    return grid
