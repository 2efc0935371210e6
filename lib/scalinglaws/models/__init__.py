"""Model families behind one small registry: build, parameter counts, FLOPs per token.

A run's model is a ``ModelShape``; its ``family`` names an entry of ``FAMILIES``. Everything the
rest of the library needs from a model goes through the functions below, so adding a family
(an LSTM, a weight-shared Transformer) is one new module that calls ``register``:

* ``build_model(shape, dropout)``: the ``nn.Module``; ``model(input_ids=...)`` returns an object
  with ``.logits`` of shape ``(B, T, V)``;
* ``count_params(shape, model)``: ``{non_embedding, embedding, total}``, counted from the modules;
* ``formula_params(shape)``: the same counts by formula, without building anything;
* ``flops_per_token(shape, non_embedding)``: training FLOPs per token under every accounting the
  records keep (``kaplan_6N``, ``with_head``, ``with_head_attn``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..paper import published


def from_dict(cls, d: dict, what: str):
    """Build dataclass ``cls`` from a dict, refusing unknown fields with a clear message."""
    if not isinstance(d, dict):
        raise ValueError(f"a {what} must be a mapping, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {what} fields {sorted(unknown)}; known: {sorted(names)}")
    return cls(**d)


@dataclass(frozen=True)
class Family:
    """What the library needs to know about one kind of model."""

    name: str
    build: Callable            # (shape, dropout) -> nn.Module
    count_params: Callable     # (shape, model) -> {non_embedding, embedding, total}
    formula_params: Callable   # (shape) -> {non_embedding, embedding, total}
    flops_per_token: Callable  # (shape, non_embedding) -> {kaplan_6N, with_head, with_head_attn}
    check: Callable = lambda shape: []   # (shape) -> list of problems


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.name] = family
    return family


@dataclass(frozen=True)
class ModelShape:
    """A model's shape. For the ``gpt`` family ``n_head`` must divide ``d_model``."""

    n_layer: int
    d_model: int
    n_head: int = 1
    n_ctx: int = 128
    vocab_size: int = 4096
    family: str = "gpt"

    def __post_init__(self):
        problems = []
        for name in ("n_layer", "d_model", "n_head", "n_ctx", "vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if self.family not in FAMILIES:
            problems.append(f"unknown model family {self.family!r} (known: {', '.join(sorted(FAMILIES))})")
        elif not problems:
            problems += FAMILIES[self.family].check(self)
        if problems:
            raise ValueError("impossible model shape: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, d: dict) -> "ModelShape":
        return from_dict(cls, d, "model shape")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @property
    def label(self) -> str:
        """``L2-d64`` for the GPT family (the run ids of the first grids), ``lstm-L2-d64`` for others."""
        base = f"L{self.n_layer}-d{self.d_model}"
        return base if self.family == "gpt" else f"{self.family}-{base}"


def family(shape: ModelShape) -> Family:
    return FAMILIES[shape.family]


def build_model(shape: ModelShape, dropout: float = 0.0) -> nn.Module:
    return family(shape).build(shape, dropout)


def count_params(shape: ModelShape, model: nn.Module) -> dict:
    return family(shape).count_params(shape, model)


def formula_params(shape: ModelShape) -> dict:
    return family(shape).formula_params(shape)


def flops_per_token(shape: ModelShape, non_embedding: int) -> dict:
    return family(shape).flops_per_token(shape, non_embedding)


def formula_accounting(shape: ModelShape) -> dict:
    """``accounting`` by formula, without building the model (for grids, tables and failure records)."""
    params = formula_params(shape)
    return {"params": params, "flops_per_token": flops_per_token(shape, params["non_embedding"])}


def accounting(shape: ModelShape, model: nn.Module | None = None) -> dict:
    """``{"params": {...}, "flops_per_token": {...}}``, counted from a built model (one is built if not given)."""
    model = model if model is not None else build_model(shape)
    params = count_params(shape, model)
    return {"params": params, "flops_per_token": flops_per_token(shape, params["non_embedding"])}


def lm_loss(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats) of a batch of token windows ``(B, T+1)``."""
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = model(input_ids=inputs).logits
    return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))


def kaplan_params(shape: ModelShape) -> int:
    """Kaplan's Eq 2.1 approximation N ≈ 12 n_layer d_model² (no biases, no LayerNorms)."""
    return 12 * shape.n_layer * shape.d_model ** 2


def kaplan_lr(non_embedding: int) -> float:
    """Kaplan's learning-rate rule of thumb (App D.6, Eq D.1), natural logarithm; constants from ``paper``."""
    return published("lr_intercept").value - published("lr_slope").value * math.log(non_embedding)


from . import gpt  # noqa: E402,F401  (registers the GPT family)
