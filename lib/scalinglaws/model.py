"""GPT-2-style decoders in Kaplan's shape, and the accounting every run record stores.

Kaplan et al. (2020, §2.1) use d_attn = d_model and d_ff = 4 d_model, so a model is fixed by
(n_layer, d_model, n_head, n_ctx) and the vocabulary. We build it from `transformers`' GPT-2
(pre-LayerNorm blocks, learned positions, the LM head tied to the token embedding) with
PyTorch's fused scaled-dot-product attention.

Accounting (Kaplan Table 1, counted from the modules and checked against the formulas in the
tests):

* ``non_embedding`` N: every parameter except the token and position embeddings. Kaplan drops
  biases and LayerNorms to get N ≈ 12 n_layer d_model²; the modules hold exactly
  12 L d² + 13 L d + 2 d.
* ``embedding``: (n_vocab + n_ctx) d_model. The tied head adds no parameters...
* ...but it does cost compute: the de-embedding is 2 d_model n_vocab forward FLOPs per token, which
  Kaplan's C = 6N leaves out. At our scale it rivals or exceeds 6N (Porian et al. 2024).
* FLOPs per training token (forward + backward = 3 × forward):
  ``kaplan_6N`` = 6N; ``with_head`` = 6N + 6 d V; ``with_head_attn`` adds the attention
  mask's 6 n_layer n_ctx d_model (Kaplan Eq 2.2's context term, forward 2 n_layer n_ctx d).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn

KAPLAN_LR_INTERCEPT = 0.003239   # Kaplan App D.6, Eq D.1: LR(N) ≈ 0.003239 − 0.0001395 ln N
KAPLAN_LR_SLOPE = 0.0001395


def from_dict(cls, d: dict, what: str):
    """Build dataclass ``cls`` from a dict, refusing unknown fields with a clear message."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {what} fields {sorted(unknown)}; known: {sorted(names)}")
    return cls(**d)


@dataclass(frozen=True)
class ModelShape:
    """A decoder's shape. ``n_head`` must divide ``d_model``."""

    n_layer: int
    d_model: int
    n_head: int = 1
    n_ctx: int = 128
    vocab_size: int = 4096
    family: str = "gpt"   # room for "lstm" and weight-shared transformers (roadmap)

    def __post_init__(self):
        problems = []
        for name in ("n_layer", "d_model", "n_head", "n_ctx", "vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if not problems and self.d_model % self.n_head:
            problems.append(f"n_head={self.n_head} does not divide d_model={self.d_model}")
        if self.family != "gpt":
            problems.append(f"unknown model family {self.family!r} (known: 'gpt')")
        if problems:
            raise ValueError("impossible model shape: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, d: dict) -> "ModelShape":
        return from_dict(cls, d, "model shape")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @property
    def label(self) -> str:
        return f"L{self.n_layer}-d{self.d_model}"


def build_model(shape: ModelShape, dropout: float = 0.0) -> nn.Module:
    """A GPT-2 decoder (``GPT2LMHeadModel``) with sdpa attention, initialised by transformers."""
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()   # silences the harmless loss_type / token-id notices
    config = GPT2Config(
        vocab_size=shape.vocab_size, n_positions=shape.n_ctx, n_embd=shape.d_model,
        n_layer=shape.n_layer, n_head=shape.n_head, n_inner=4 * shape.d_model,
        activation_function="gelu_new", resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
        bos_token_id=0, eos_token_id=0, use_cache=False, tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel._from_config(config, attn_implementation="sdpa")
    assert model.config._attn_implementation == "sdpa"
    return model


def lm_loss(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats) of a batch of token windows ``(B, T+1)``."""
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = model(input_ids=inputs).logits
    return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))


def count_params(model: nn.Module) -> dict:
    """Parameter counts from the modules (tied weights counted once)."""
    embedding_ids = {id(model.transformer.wte.weight), id(model.transformer.wpe.weight)}
    unique = {id(p): p for p in model.parameters()}
    embedding = sum(p.numel() for i, p in unique.items() if i in embedding_ids)
    total = sum(p.numel() for p in unique.values())
    return {"non_embedding": total - embedding, "embedding": embedding, "total": total}


def flops_per_token(shape: ModelShape, non_embedding: int) -> dict:
    """Training FLOPs per token under three accountings (see the module docstring)."""
    six_n = 6 * non_embedding
    head = 6 * shape.d_model * shape.vocab_size
    attention = 6 * shape.n_layer * shape.n_ctx * shape.d_model
    return {"kaplan_6N": six_n, "with_head": six_n + head, "with_head_attn": six_n + head + attention}


def accounting(shape: ModelShape, model: nn.Module | None = None) -> dict:
    """``{"params": {...}, "flops_per_token": {...}}`` for a shape, counted from a built model."""
    model = model if model is not None else build_model(shape)
    params = count_params(model)
    return {"params": params, "flops_per_token": flops_per_token(shape, params["non_embedding"])}


def formula_params(shape: ModelShape) -> dict:
    """The exact counts of our GPT-2 blocks, by formula (tied head, biases and LayerNorms kept).

    Per block: QKV 3d² + 3d, projection d² + d, MLP 8d² + 5d, two LayerNorms 4d: 12d² + 13d;
    plus the final LayerNorm's 2d. Embeddings: (V + n_ctx) d.
    """
    L, d = shape.n_layer, shape.d_model
    non_embedding = 12 * L * d * d + 13 * L * d + 2 * d
    embedding = (shape.vocab_size + shape.n_ctx) * d
    return {"non_embedding": non_embedding, "embedding": embedding, "total": non_embedding + embedding}


def kaplan_params(shape: ModelShape) -> int:
    """Kaplan's Eq 2.1 approximation N ≈ 12 n_layer d_model² (no biases, no LayerNorms)."""
    return 12 * shape.n_layer * shape.d_model ** 2


def kaplan_lr(non_embedding: int) -> float:
    """Kaplan's learning-rate rule of thumb (App D.6, Eq D.1), natural logarithm."""
    return KAPLAN_LR_INTERCEPT - KAPLAN_LR_SLOPE * math.log(non_embedding)
