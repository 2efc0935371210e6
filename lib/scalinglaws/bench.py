"""Training-throughput benchmark: the project's real step against a plain loop, in one process.

For every shape and thread count, ``scalinglaws bench`` times

* **real**: ``Trainer.step()`` itself (``train.py``): micro-batches with gradient accumulation,
  the per-micro-batch squared gradient norms, clipping, AdamW with decay on matrices only, the
  learning-rate schedule and the ``StepStats`` it returns;
* **plain**: a nanoGPT-style loop written here: the same model from ``build_model`` (same seed),
  the same micro-batch split and accumulation, ``torch.optim.AdamW`` with the same decay split,
  ``clip_grad_norm_``, ``zero_grad``; nothing else (no norms, no statistics, no host sync).

Both read windows of the same random tokens, run in the same process with the same threads and
allocator, and alternate single steps (real, plain, plain, real, ...): each side's rate is the batch
over its median step time, and the ratio real/plain is the median over pairs of adjacent steps, so
load from other work on a shared machine hits both sides alike and the ratio holds under load;
absolute tokens/s are lower bounds unless nothing else ran. Achieved FLOP/s use the records'
accountings (``with_head_attn`` and Kaplan's ``6N``) against the machine's fp32 matmul peak: square
matmuls (n = 512 and 1024) at each thread count, sampled before, between and after the rows, best kept.
``--processes 2`` also runs two 1-thread processes at once on the real step and compares their
summed tokens/s with one process.

Results are printed and written as JSON (machine, torch, allocator, date, load, settings, rows)
to ``benchmarks/bench-<date>.json`` or ``--out``. Speed is measured here, never asserted in tests.
The benchmark re-executes itself with tcmalloc preloaded (as ``scalinglaws grid run`` does) when
it is installed and ``LD_PRELOAD`` is unset.
"""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .data import ArrayCorpus
from .models import ModelShape, build_model, flops_per_token, formula_params, lm_loss

VOCAB = 4096
CORPUS_TOKENS = 2_000_000
PEAK_SIZES = (512, 1024)


def random_corpus(vocab_size: int = VOCAB, n_tokens: int = CORPUS_TOKENS, seed: int = 0) -> ArrayCorpus:
    """An in-memory stand-in for a prepared corpus: uniform random tokens, nothing on disk."""
    rng = np.random.default_rng(seed)
    return ArrayCorpus({"train": rng.integers(0, vocab_size, n_tokens, dtype=np.uint16),
                        "val": rng.integers(0, vocab_size, max(n_tokens // 20, 4096), dtype=np.uint16)},
                       vocab_size, path="<random tokens>")


def parse_shape(spec: str, ctx: int, vocab_size: int = VOCAB) -> ModelShape:
    """``2x64`` (layers x width; heads of 32 dims as in the grids, else one head) or ``2x64x2``."""
    parts = [int(v) for v in spec.lower().split("x")]
    if len(parts) == 2:
        n_layer, d_model = parts
        n_head = max(1, d_model // 32) if d_model % 32 == 0 else 1
    elif len(parts) == 3:
        n_layer, d_model, n_head = parts
    else:
        raise ValueError(f"shape {spec!r}: use LAYERSxWIDTH or LAYERSxWIDTHxHEADS")
    return ModelShape(n_layer, d_model, n_head, ctx, vocab_size)


def bench_config(shape: ModelShape, batch_tokens: int, micro_tokens: int, bf16: bool) -> TrainConfig:
    # a long horizon keeps the schedule near its peak; small held-out sets keep the setup quick
    return TrainConfig(model=shape.to_dict(), corpus="<random tokens>", tokens=10 ** 12, batch_tokens=batch_tokens,
                       micro_batch_tokens=micro_tokens, bf16=bf16, eval_tokens=4 * shape.n_ctx,
                       final_eval_tokens=4 * shape.n_ctx, ood_eval_tokens=4 * shape.n_ctx,
                       warmup_tokens=batch_tokens)


class PlainLoop:
    """The plain nanoGPT-style step on the same shape, batch split and tokens."""

    def __init__(self, config: TrainConfig, tokens: np.ndarray, seed: int = 0):
        cfg = self.config = config
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg.shape, dropout=cfg.dropout)
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        n_params = formula_params(cfg.shape)["non_embedding"]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                            {"params": no_decay, "weight_decay": 0.0}],
                                           lr=cfg.peak_lr(n_params), betas=cfg.betas)
        self.params = params
        self.tokens = tokens
        self.rng = np.random.default_rng(seed)
        self.n_micro, self.micro = cfg.batch_seqs // cfg.micro_seqs, cfg.micro_seqs
        self.autocast = ((lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if cfg.bf16
                         else (lambda: torch.enable_grad()))

    def get_batch(self) -> torch.Tensor:
        length = self.config.shape.n_ctx + 1
        ix = self.rng.integers(0, len(self.tokens) - length, self.micro)
        return torch.from_numpy(np.stack([self.tokens[i:i + length] for i in ix]).astype(np.int64))

    def step(self) -> None:
        for _ in range(self.n_micro):
            with self.autocast():
                loss = lm_loss(self.model, self.get_batch())
            (loss / self.n_micro).backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


def matmul_peak(threads: int, sizes=PEAK_SIZES, repeats: int = 5, seconds: float = 0.2) -> dict:
    """Best fp32 FLOP/s of square matmuls ``n x n @ n x n`` at ``threads`` threads, per ``n``."""
    torch.set_num_threads(threads)
    out = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        c = torch.empty(n, n)
        torch.mm(a, b, out=c)
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        reps = max(1, int(seconds / max(time.perf_counter() - t0, 1e-6)))
        best = 0.0
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - t0))
        out[str(n)] = best
    return out


def _timed(step) -> float:
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def measure_pair(config: TrainConfig, corpus: ArrayCorpus, threads: int, seconds: float, min_pairs: int = 5,
                 plain: bool = True) -> dict:
    """Tokens/s of ``Trainer.step()`` and of the plain loop, timed step by step, interleaved.

    After two warm-up steps each, the two sides alternate single steps in the order real, plain,
    plain, real, real, plain, ... for at least ``min_pairs`` pairs and until each side has as many
    steps as its fastest step fits in ``seconds`` (so bursts of other work on a shared machine do not
    cut the sample short), or for at most ``4 * seconds`` of wall time. Each side's rate is the batch
    over its median step time (``*_best_tok_s``: over its fastest step, the closest to an idle
    figure); ``pair_ratios`` are the ratios real/plain of the two steps of every pair (adjacent in
    time, so a burst of other work hits both), and ``ratio`` is their median.
    """
    from .train import Trainer

    torch.set_num_threads(threads)
    trainer = Trainer(config, corpus, "cpu")
    sides = {"real": trainer.step}
    if plain:
        sides["plain"] = PlainLoop(config, corpus.tokens("train")).step
    for step in sides.values():
        step(), step()
    times = {name: [] for name in sides}
    order, pair, t0 = list(sides), 0, time.perf_counter()
    while pair < min_pairs or (any(len(t) * min(t) < seconds for t in times.values())
                               and time.perf_counter() - t0 < 4 * seconds):
        for name in (order if pair % 2 == 0 else order[::-1]):
            times[name].append(_timed(sides[name]))
        pair += 1
    result = {f"{name}_tok_s": config.batch_tokens / statistics.median(t) for name, t in times.items()}
    result.update({f"{name}_best_tok_s": config.batch_tokens / min(t) for name, t in times.items()})
    if plain:
        pairs = [p / r for r, p in zip(times["real"], times["plain"])]
        result.update(pair_ratios=pairs, ratio=statistics.median(pairs),
                      ratio_of_medians=result["real_tok_s"] / result["plain_tok_s"])
    result["step_seconds"] = times
    return result


def _two_process_child(config_dict: dict, seconds: float, barrier, queue) -> None:
    torch.set_num_threads(1)
    config = TrainConfig.from_dict(config_dict)
    from .train import Trainer
    trainer = Trainer(config, random_corpus(config.shape.vocab_size), "cpu")
    trainer.step(), trainer.step()
    barrier.wait()
    times = []
    while sum(times) < seconds or len(times) < 3:
        times.append(_timed(trainer.step))
    queue.put(config.batch_tokens / statistics.median(times))


def measure_processes(config: TrainConfig, processes: int, seconds: float) -> list[float]:
    """Median tokens/s of each of ``processes`` 1-thread processes running the real step at once."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({k: "1" for k in saved})   # inherited by the children
    procs = [ctx.Process(target=_two_process_child, args=(config.to_dict(), seconds, barrier, queue))
             for _ in range(processes)]
    try:
        for p in procs:
            p.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    rates = [queue.get(timeout=600 + 10 * seconds) for _ in procs]
    for p in procs:
        p.join()
    return rates


def table(rows: list[dict]) -> str:
    """The readable table: per shape and thread count, the real step against the plain loop.

    tok/s are medians over steps (``best``: the fastest step); ``real/plain`` is the median of the
    ratios of adjacent steps; GFLOP/s count ``with_head_attn`` (``6N``: Kaplan's 6N) at the median
    rate, ``% peak`` is the median and the best rate against the best fp32 matmul rate at the same
    thread count.
    """
    lines = [f"{'shape':<9} {'N':>9} {'thr':>3} {'real tok/s':>10} {'(best)':>8} {'plain tok/s':>11} {'(best)':>8} "
             f"{'real/plain':>10} {'GFLOP/s':>8} {'6N':>6} {'% peak':>6} {'(best)':>6}"]
    for r in rows:
        a = r["achieved_flop_s"]
        lines.append(f"{r['label']:<9} {r['params']['non_embedding']:>9,} {r['threads']:>3} {r['real_tok_s']:>10,.0f} "
                     f"{r['real_best_tok_s']:>8,.0f} {r['plain_tok_s']:>11,.0f} {r['plain_best_tok_s']:>8,.0f} "
                     f"{r['ratio']:>10.3f} {a['with_head_attn'] / 1e9:>8.2f} {a['kaplan_6N'] / 1e9:>6.2f} "
                     f"{100 * r['fraction_of_peak']['with_head_attn']:>5.1f}% "
                     f"{100 * r['fraction_of_peak_best']['with_head_attn']:>5.1f}%")
    return "\n".join(lines)


def load_average() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2)}


def default_out(stamp: str) -> Path:
    from .paths import repo_root
    return repo_root() / "benchmarks" / f"bench-{stamp}.json"


def _reexec_with_allocator() -> None:
    from .runner import worker_env
    env = worker_env(1)
    if "LD_PRELOAD" in env and not os.environ.get("LD_PRELOAD"):
        os.environ["LD_PRELOAD"] = env["LD_PRELOAD"]
        os.execv(sys.executable, [sys.executable, "-m", "scalinglaws.cli", *sys.argv[1:]])


def run(args) -> dict:
    """Measure everything ``args`` asks for; returns the JSON document (not yet written)."""
    from .provenance import machine_description, now

    started, load_before = now(), load_average()
    settings = {"shapes": list(args.shapes), "threads": list(args.threads), "seconds": args.seconds,
                "min_pairs": args.min_pairs, "ctx": args.ctx, "batch_tokens": args.batch_tokens,
                "micro_batch_tokens": args.micro_batch_tokens, "precision": "bf16" if args.bf16 else "fp32",
                "processes": args.processes, "corpus": f"{CORPUS_TOKENS:,} uniform random tokens, V = {VOCAB}"}
    print(f"allocator: {os.environ.get('LD_PRELOAD') or 'glibc'}; torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs; load {load_before['1min']}; ctx {args.ctx}; {args.batch_tokens} tokens/step in "
          f"micro-batches of {args.micro_batch_tokens}{'; bf16' if args.bf16 else ''}", flush=True)
    peak_samples = {t: [matmul_peak(t)] for t in args.threads}   # sampled again after every row and at the end
    corpus = random_corpus()
    shapes = [parse_shape(s, args.ctx) for s in args.shapes]
    print("fp32 matmul peak (first sample): " + ", ".join(
        f"{t} thr {max(peak_samples[t][0].values()) / 1e9:.1f} GFLOP/s" for t in args.threads), flush=True)
    rows = []
    for shape in shapes:
        config = bench_config(shape, args.batch_tokens, args.micro_batch_tokens, args.bf16)
        n = formula_params(shape)
        fpt = flops_per_token(shape, n["non_embedding"])
        for t in args.threads:
            m = measure_pair(config, corpus, t, args.seconds, args.min_pairs)
            peak_samples[t].append(matmul_peak(t, repeats=3, seconds=0.1))
            achieved = {k: m["real_tok_s"] * v for k, v in fpt.items()}
            rows.append({
                "shape": shape.to_dict(), "label": shape.label, "params": n, "flops_per_token": fpt,
                "threads": t, "n_micro": config.batch_seqs // config.micro_seqs,
                "micro_tokens": config.micro_seqs * shape.n_ctx,
                "real_tok_s": m["real_tok_s"], "plain_tok_s": m["plain_tok_s"],
                "real_best_tok_s": m["real_best_tok_s"], "plain_best_tok_s": m["plain_best_tok_s"],
                "ratio": m["ratio"], "ratio_of_medians": m["ratio_of_medians"], "pair_ratios": m["pair_ratios"],
                "achieved_flop_s": achieved,
                "plain_achieved_flop_s": {k: m["plain_tok_s"] * v for k, v in fpt.items()},
                "achieved_best_flop_s": {k: m["real_best_tok_s"] * v for k, v in fpt.items()},
                "step_seconds": m["step_seconds"]})
            print(f"  {shape.label} {t} thr: real {m['real_tok_s']:,.0f} tok/s, plain {m['plain_tok_s']:,.0f} tok/s, "
                  f"ratio {rows[-1]['ratio']:.3f}", flush=True)

    multi = []
    if args.processes > 1:
        print(f"\n{args.processes} one-thread processes at once, real step (summed tok/s vs one process)", flush=True)
        for shape in shapes:
            config = bench_config(shape, args.batch_tokens, args.micro_batch_tokens, args.bf16)
            single = measure_pair(config, corpus, 1, args.seconds, args.min_pairs, plain=False)["real_tok_s"]
            rates = measure_processes(config, args.processes, args.seconds)
            multi.append({"label": shape.label, "processes": args.processes, "single_tok_s": single,
                          "per_process_tok_s": rates, "sum_tok_s": sum(rates), "speedup": sum(rates) / single})
            print(f"{shape.label:<9} one {single:>9,.0f}  {args.processes} at once {sum(rates):>9,.0f}  "
                  f"×{multi[-1]['speedup']:.2f}", flush=True)

    for t in args.threads:
        peak_samples[t].append(matmul_peak(t))
    peaks = {str(t): {"samples": peak_samples[t], "best": max(v for sample in peak_samples[t] for v in sample.values())}
             for t in args.threads}
    for row in rows:   # the fraction uses the best peak seen at the row's thread count
        best = peaks[str(row["threads"])]["best"]
        row["fraction_of_peak"] = {k: v / best for k, v in row["achieved_flop_s"].items()}
        row["fraction_of_peak_best"] = {k: v / best for k, v in row["achieved_best_flop_s"].items()}
    load_after = load_average()
    print()
    print(table(rows))
    print(f"fp32 matmul peak (best of n = {', '.join(map(str, PEAK_SIZES))}, sampled before, between and after "
          "the rows): "
          + ", ".join(f"{t} thr {peaks[str(t)]['best'] / 1e9:.1f} GFLOP/s" for t in args.threads)
          + f"; load (1 min) {load_before['1min']} before, {load_after['1min']} after", flush=True)
    return {"benchmark": "scalinglaws bench", "date": started, "finished": now(),
            "machine": machine_description(), "cpus": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version(), "allocator": os.environ.get("LD_PRELOAD") or "glibc",
            "command": "scalinglaws " + " ".join(sys.argv[1:]) if sys.argv[1:] else "scalinglaws bench",
            "load_before": load_before, "load_after": load_after, "note": args.note, "settings": settings,
            "matmul_peak_flop_s": peaks, "rows": rows, "processes": multi}


def main(args) -> int:
    _reexec_with_allocator()
    doc = run(args)
    out = Path(args.out) if args.out else default_out(doc["date"][:10])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
    return 0 if all(math.isfinite(r["ratio"]) for r in doc["rows"]) else 1
