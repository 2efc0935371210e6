"""Accounting: parameter and FLOP counts from the modules agree with Kaplan's formulas."""
import math

import pytest
import torch

from scalinglaws.models import (ModelShape, accounting, build_model, flops_per_token, formula_params,
                               kaplan_lr, kaplan_params, lm_loss)

SHAPES = [ModelShape(1, 8, 1, 64, 512), ModelShape(2, 32, 1, 128, 4096), ModelShape(3, 96, 3, 128, 4096),
          ModelShape(4, 128, 4, 256, 1000)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.label)
def test_params_from_modules_match_formula(shape):
    acct = accounting(shape)
    assert acct["params"] == formula_params(shape)
    assert acct["params"]["total"] == acct["params"]["non_embedding"] + acct["params"]["embedding"]
    assert acct["params"]["embedding"] == (shape.vocab_size + shape.n_ctx) * shape.d_model


def test_non_embedding_approaches_kaplan_12_L_d2():
    # Biases and LayerNorms are O(L d); their share falls as 1/d.
    for d in (64, 256, 1024):
        shape = ModelShape(2, d, 1)
        ratio = formula_params(shape)["non_embedding"] / kaplan_params(shape)
        assert 1 < ratio < 1 + 2 / d


def test_flops_per_token_accountings():
    shape = ModelShape(2, 64, 2, 128, 4096)
    n = formula_params(shape)["non_embedding"]
    f = flops_per_token(shape, n)
    assert f["kaplan_6N"] == 6 * n
    assert f["with_head"] - f["kaplan_6N"] == 6 * 64 * 4096            # de-embedding, Kaplan Table 1
    assert f["with_head_attn"] - f["with_head"] == 6 * 2 * 128 * 64     # 3 x (2 n_layer n_ctx d_model)
    # At our scale the head costs more than all the non-embedding compute.
    assert f["with_head"] > 2 * f["kaplan_6N"]


def test_tied_head_and_sdpa():
    model = build_model(ModelShape(2, 16, 2, 32, 300))
    assert model.lm_head.weight is model.transformer.wte.weight
    assert model.config._attn_implementation == "sdpa"
    assert model.config.n_inner == 4 * 16


def test_initial_loss_is_uniform_over_vocab():
    torch.manual_seed(0)
    shape = ModelShape(2, 32, 1, 64, 4096)
    loss = lm_loss(build_model(shape), torch.randint(0, 4096, (8, 65))).item()
    assert abs(loss - math.log(4096)) < 0.2


@pytest.mark.parametrize("bad", [dict(n_layer=0, d_model=8), dict(n_layer=2, d_model=10, n_head=3),
                                 dict(n_layer=2, d_model=8, family="rnn"), dict(n_layer=2.5, d_model=8)])
def test_impossible_shapes_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="impossible model shape"):
        ModelShape(**bad)


def test_kaplan_lr_rule_uses_natural_log():
    assert kaplan_lr(1e3) == pytest.approx(2.28e-3, abs=1e-5)
    assert kaplan_lr(1e6) == pytest.approx(1.31e-3, abs=1e-5)


def test_published_constants_are_typed_once():
    """Kaplan's constants live in ``paper`` only: no other library module or chapter types them."""
    from pathlib import Path

    import scalinglaws
    from scalinglaws.paper import PUBLISHED

    root = Path(scalinglaws.__file__).parent
    texts = {p: p.read_text() for p in root.rglob("*.py") if p.name != "paper.py"}
    texts.update({p: p.read_text() for p in (root.parents[1] / "book").rglob("*.md")})
    for symbol in ("lr_intercept", "lr_slope", "alpha_N", "alpha_D", "N_c", "D_c", "B_star"):   # distinctive values
        value = PUBLISHED[symbol].value
        typed = [str(p.name) for p, text in texts.items() if repr(value) in text or f"{value:g}" in text]
        assert not typed, f"{symbol} = {value} typed in {typed}; read it from scalinglaws.paper"


@pytest.mark.parametrize("d", [8, 64, 128])
def test_cpu_head_gives_the_gradients_of_a_plain_linear_head(d):
    """The tied head's faster CPU backward (models/gpt.py) changes float rounding only."""
    import torch
    from scalinglaws.models import build_model, lm_loss
    shape = ModelShape(2, d, 2 if d >= 64 else 1, 32, 256)
    torch.manual_seed(0)
    fast = build_model(shape)
    assert fast.lm_head.weight is fast.transformer.wte.weight
    torch.manual_seed(0)
    plain = build_model(shape)
    plain.lm_head.__class__ = torch.nn.Linear
    x = torch.randint(0, 256, (4, 33))
    lm_loss(fast, x).backward()
    lm_loss(plain, x).backward()
    for (name, a), b in zip(fast.named_parameters(), plain.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-5, atol=1e-7), name
