"""``scalinglaws bench``: the real step against the plain loop, written as JSON. Behaviour only; speed is
measured by the benchmark itself, never asserted here."""
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

import torch

from scalinglaws.bench import PlainLoop, bench_config, measure_processes, parse_shape, random_corpus
from scalinglaws.train import Trainer

SCRIPT = Path(sys.executable).parent / "scalinglaws"


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_bench_writes_json_with_real_and_plain_rates(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([str(SCRIPT), "bench", "--shapes", "1x16", "--threads", "1", "--seconds", "0.2",
                           "--min-pairs", "3", "--ctx", "16", "--batch-tokens", "64", "--micro-batch-tokens", "32",
                           "--note", "test", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "real/plain" in proc.stdout and str(out) in proc.stdout
    doc = json.loads(out.read_text())
    for key in ("machine", "torch", "allocator", "date", "load_before", "load_after", "note", "settings"):
        assert key in doc
    assert doc["note"] == "test" and doc["settings"]["shapes"] == ["1x16"] and doc["settings"]["threads"] == [1]
    peak = doc["matmul_peak_flop_s"]["1"]
    assert _positive(peak["best"]) and len(peak["samples"]) == 3   # before, after the row, at the end
    assert all(set(sample) == {"512", "1024"} for sample in peak["samples"])
    [row] = doc["rows"]
    assert row["label"] == "L1-d16" and row["threads"] == 1 and row["n_micro"] == 2
    for key in ("real_tok_s", "plain_tok_s", "real_best_tok_s", "plain_best_tok_s", "ratio"):
        assert _positive(row[key]), key
    assert math.isclose(row["ratio_of_medians"], row["real_tok_s"] / row["plain_tok_s"])
    assert row["real_best_tok_s"] >= row["real_tok_s"] and row["plain_best_tok_s"] >= row["plain_tok_s"]
    assert len(row["pair_ratios"]) >= 3 and all(_positive(r) for r in row["pair_ratios"])
    assert math.isclose(row["ratio"], statistics.median(row["pair_ratios"]))
    for accounting in ("kaplan_6N", "with_head", "with_head_attn"):
        for key in ("achieved_flop_s", "achieved_best_flop_s", "fraction_of_peak", "fraction_of_peak_best"):
            assert _positive(row[key][accounting]), (key, accounting)
    steps = row["step_seconds"]
    assert len(steps["real"]) == len(steps["plain"]) == len(row["pair_ratios"])
    assert all(_positive(t) for side in steps.values() for t in side)
    assert doc["processes"] == []


def test_two_one_thread_processes_each_report_a_rate():
    config = bench_config(parse_shape("1x16", ctx=16), batch_tokens=64, micro_tokens=32, bf16=False)
    rates = measure_processes(config, processes=2, seconds=0.05)
    assert len(rates) == 2 and all(_positive(r) for r in rates)


def test_plain_loop_trains_the_same_model_from_the_same_weights():
    config = bench_config(parse_shape("1x16", ctx=16), batch_tokens=64, micro_tokens=32, bf16=False)
    corpus = random_corpus(n_tokens=10_000)
    trainer, plain = Trainer(config, corpus), PlainLoop(config, corpus.tokens("train"))
    real_state, plain_state = trainer.model.state_dict(), plain.model.state_dict()
    assert real_state.keys() == plain_state.keys()
    assert all(torch.equal(real_state[k], plain_state[k]) for k in real_state)
    assert [len(g["params"]) for g in plain.optimizer.param_groups] == \
        [len(g["params"]) for g in trainer.optimizer.param_groups]
    assert [g["weight_decay"] for g in plain.optimizer.param_groups] == \
        [g["weight_decay"] for g in trainer.optimizer.param_groups]
    before = {k: v.clone() for k, v in plain_state.items()}
    plain.step()
    assert any(not torch.equal(before[k], v) for k, v in plain.model.state_dict().items())
    assert all(p.grad is None for p in plain.params)


def test_shapes_follow_the_grids_heads():
    assert parse_shape("2x64", ctx=128).n_head == 2
    assert parse_shape("2x48", ctx=128).n_head == 1
    assert parse_shape("3x96x1", ctx=64).n_head == 1
