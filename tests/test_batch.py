"""The critical-batch chapter's grids and protocol."""
import math

import pytest

from scalinglaws import protocol
from scalinglaws.config import TrainConfig
from scalinglaws.grids.batch import BATCHES, FULL_SPLIT, batch_runs, quick_runs, run_tokens
from scalinglaws.protocol import LRRule

RULE = LRRule(lr_ref=0.01, exponent=0.3, n_ref=1e5, batch_tokens=2048, n_range=(1_760, 396_800), tokens=2_000_000)


def test_the_batch_scan_lr_follows_the_square_root_rule():
    model = {"n_layer": 2, "d_model": 64, "n_head": 2, "n_ctx": 128, "vocab_size": 4096}
    at_rule = protocol.batch_scan(model, tokens=1 << 20, batch_tokens=2048, rule=RULE)
    quad = protocol.batch_scan(model, tokens=1 << 20, batch_tokens=8192, rule=RULE)
    assert quad["lr"] == pytest.approx(2 * at_rule["lr"], rel=1e-3)
    assert at_rule["lr"] == pytest.approx(float(f"{RULE(100_096):.4g}"))
    assert quad["schedule"] == "constant" and quad["protocol"] == "batch-scan" and quad["batch_tokens"] == 8192
    assert "constant after it" in protocol.describe(quad)
    TrainConfig.from_dict(quad)     # a valid config


def test_the_batch_grid_scans_enough_batches_within_one_epoch():
    runs = batch_runs(RULE)
    scans = [r for r in runs if "_lrx" not in r.run_id]
    sizes = {r.config["model"]["d_model"] for r in scans}
    batches = sorted({r.config["batch_tokens"] for r in scans})
    assert len(sizes) >= 2 and len(batches) >= 6 and math.log10(batches[-1] / batches[0]) >= 2
    assert batches[0] <= 256 and batches[-1] >= 32_768           # B_simple (1e3–4e3 tokens) lies well inside
    for r in runs:
        c = r.config
        assert c["tokens"] <= FULL_SPLIT and c["tokens"] % c["batch_tokens"] == 0     # at most one epoch, whole steps
        assert c["schedule"] == "constant" and c["protocol"] == "batch-scan" and c["grad_stats_every"] > 0
    tokens = [run_tokens(b) for b in BATCHES]
    assert tokens == sorted(tokens)                                # larger batches get more tokens
    # the LR rule is checked at half and twice its value at the corner batches
    checks = {r.run_id for r in runs if "_lrx" in r.run_id}
    assert {"L2-d16_b256_lrx0.5", "L2-d16_b256_lrx2", "L2-d64_b32768_lrx0.5", "L2-d64_b32768_lrx2"} <= checks
    # and every size has half the rule's LR at the three largest batches, where the rule overshot
    assert {f"L2-d{d}_b{b}_lrx0.5" for d in (16, 32, 64) for b in BATCHES} <= checks      # a second full scan at ×0.5
    assert len({r.run_id for r in runs}) == len(runs)
    by_id = {r.run_id: r for r in runs}
    assert by_id["L2-d16_b256_lrx2"].config["lr"] == pytest.approx(2 * by_id["L2-d16_b256"].config["lr"], rel=1e-3)
    quick = quick_runs(RULE)
    assert len(quick) <= 12 and all(r.config["tokens"] <= 1_500_000 for r in quick)
    assert len({r.config["batch_tokens"] for r in quick}) >= 6
