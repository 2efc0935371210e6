"""Checkpoints: everything a run needs to continue exactly where it stopped, and nothing pickled.

A checkpoint holds tensors and plain Python values only (model and optimizer state, the best
weights when early stopping keeps them, the sampler's position, every RNG state, the loop's
state), so it loads with ``torch.load(..., weights_only=True)``: opening one never runs code.
It is written to a temporary file and renamed, so a kill during the write leaves the previous one.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

CHECKPOINT_NAME = "checkpoint.pt"
FIELDS = {"config", "device_type", "precision", "model", "optimizer", "sampler", "state", "best_weights", "rng"}


def rng_states() -> dict:
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"].cpu())
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states["cuda"]])


def save(path: Path, payload: dict) -> None:
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    torch.save({**payload, "rng": rng_states()}, tmp)
    os.replace(tmp, path)


def load(path: Path) -> dict:
    """Load on the CPU (the trainer moves each piece to its device); ``weights_only=True``."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)
