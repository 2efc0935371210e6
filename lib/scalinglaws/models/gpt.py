"""The GPT family: GPT-2-style decoders in Kaplan's shape.

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

import torch
from torch import nn

from . import Family, ModelShape, register


class _HeadMatmul(torch.autograd.Function):
    """``x @ weight.T`` with the weight gradient computed as ``(xᵀ g)ᵀ`` instead of ``gᵀ x``.

    Same result up to float rounding; on the CPU the usual form is a pathological GEMM for narrow models
    (at d_model = 8, ``gᵀ x`` takes about 9× as long as ``(xᵀ g)ᵀ`` with torch 2.13 on one thread, and it
    was most of a training step).
    """

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return x @ weight.t()

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        flat_g = grad.reshape(-1, grad.shape[-1])
        flat_x = x.reshape(-1, x.shape[-1])
        return (flat_g @ weight).reshape(x.shape), (flat_x.t() @ flat_g).t()


class CPUHead(nn.Linear):
    """The tied LM head; on the CPU in fp32 its backward uses ``_HeadMatmul`` (bias-free, as GPT-2's is)."""

    NARROW = 64   # d_model below which the transposed weight gradient is faster (measured: 8, 16, 32)

    def forward(self, x):
        if (x.device.type == "cpu" and self.bias is None and self.in_features < self.NARROW
                and not torch.is_autocast_enabled("cpu") and torch.is_grad_enabled()):
            return _HeadMatmul.apply(x, self.weight)
        return super().forward(x)


def build(shape: ModelShape, dropout: float = 0.0) -> nn.Module:
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
    model.lm_head.__class__ = CPUHead   # same module and tied weight, a faster backward on the CPU (no RNG used)
    return model


def count_params(shape: ModelShape, model: nn.Module) -> dict:
    """Parameter counts from the modules (tied weights counted once)."""
    embedding_ids = {id(model.transformer.wte.weight), id(model.transformer.wpe.weight)}
    unique = {id(p): p for p in model.parameters()}
    embedding = sum(p.numel() for i, p in unique.items() if i in embedding_ids)
    total = sum(p.numel() for p in unique.values())
    return {"non_embedding": total - embedding, "embedding": embedding, "total": total}


def formula_params(shape: ModelShape) -> dict:
    """Exact counts of our GPT-2 blocks, by formula (tied head, biases and LayerNorms kept).

    Per block: QKV 3d² + 3d, projection d² + d, MLP 8d² + 5d, two LayerNorms 4d: 12d² + 13d;
    plus the final LayerNorm's 2d. Embeddings: (V + n_ctx) d.
    """
    L, d = shape.n_layer, shape.d_model
    non_embedding = 12 * L * d * d + 13 * L * d + 2 * d
    embedding = (shape.vocab_size + shape.n_ctx) * d
    return {"non_embedding": non_embedding, "embedding": embedding, "total": non_embedding + embedding}


def flops_per_token(shape: ModelShape, non_embedding: int) -> dict:
    """Training FLOPs per token under three accountings (see the module docstring)."""
    six_n = 6 * non_embedding
    head = 6 * shape.d_model * shape.vocab_size
    attention = 6 * shape.n_layer * shape.n_ctx * shape.d_model
    return {"kaplan_6N": six_n, "with_head": six_n + head, "with_head_attn": six_n + head + attention}


def check(shape: ModelShape) -> list:
    return [f"n_head={shape.n_head} does not divide d_model={shape.d_model}"] if shape.d_model % shape.n_head else []


FAMILY = register(Family("gpt", build=build, count_params=count_params, formula_params=formula_params,
                         flops_per_token=flops_per_token, check=check))
