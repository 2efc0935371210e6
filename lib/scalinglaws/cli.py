"""``scalinglaws``: train grids, prepare corpora, fit power laws from the command line.

    scalinglaws grid list
    scalinglaws grid show lnn
    scalinglaws grid run lnn [--runs-dir runs/reference] [--workers 2] [--engine submitit --cluster slurm]
    scalinglaws grid provenance lnn [--runs-dir runs/reference]
    scalinglaws data prepare [--corpus default] [--vocab 4096]
    scalinglaws fit power --csv FILE --x COL --y COL [--offset]
    scalinglaws fit overfit --csv FILE --n COL --d COL --y COL
    scalinglaws fit tradeoff --csv FILE --steps COL --examples COL
    scalinglaws fit learning-curve --csv FILE --n COL --steps COL --y COL
    scalinglaws paper intersection
    scalinglaws calibrate [--runs-dir runs/reference] [--write]
    scalinglaws bench [--shapes 2x64 4x128] [--seconds 20] [--processes 2] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_grid_list(args) -> int:
    from .grids import GRIDS
    for g in GRIDS.values():
        print(f"{g.name:<14} {len(g.runs):>3} runs  {g.description}")
    return 0


def cmd_grid_show(args) -> int:
    import pandas as pd

    from .grids import get_grid
    grid = get_grid(args.name)
    print(f"{grid.name}: {grid.description}")
    table = grid.table()
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.max_rows", 500):
        print(table.to_string(formatters={"N": "{:,}".format, "N_total": "{:,}".format, "tokens": "{:,}".format,
                                          "PFLOP": "{:.3g}".format}))
    return 0


def cmd_grid_run(args) -> int:
    from .runner import run_grid
    summary = run_grid(args.name, Path(args.runs_dir) if args.runs_dir else None, workers=args.workers,
                       threads=args.threads, engine=args.engine, cluster=args.cluster, device=args.device,
                       slice_size=args.slice_size, only=args.only, retrain_stale=args.retrain_stale,
                       timeout_s=args.timeout, progress=sys.stderr.isatty())
    print(summary.table())
    return 1 if summary.failed_slices else 0


def cmd_grid_provenance(args) -> int:
    from .paths import reference_runs
    from .runs import provenance_summary
    print(json.dumps(provenance_summary(Path(args.runs_dir or reference_runs()) / args.name), indent=1))
    return 0


def cmd_data_prepare(args) -> int:
    from .data import describe, prepare_corpus
    pc = prepare_corpus(args.corpus, vocab_size=args.vocab, seed=args.seed, text_field=args.text_field,
                        allow_network=args.allow_network)
    print(pc.path)
    print(describe(pc).to_string())
    return 0


def _print_fit(law: str, fit) -> int:
    """A ``fit`` subcommand's output: the law in words and every fitted value, as JSON."""
    print(json.dumps({"law": law, **fit.to_dict()}, indent=1))
    return 0


def cmd_fit_power(args) -> int:
    from .fit import fit_power_law_csv
    return _print_fit(f"{args.y} = {'E + ' if args.offset else ''}({args.x}_c / {args.x})^alpha",
                      fit_power_law_csv(args.csv, args.x, args.y, n_boot=args.boot, seed=args.seed, offset=args.offset))


def cmd_fit_overfit(args) -> int:
    from .fit import fit_overfit_csv
    return _print_fit(f"{args.y} = [({args.n}_c/{args.n})^(alpha_N/alpha_D) + {args.d}_c/{args.d}]^alpha_D (Kaplan Eq 1.5)",
                      fit_overfit_csv(args.csv, args.n, args.d, args.y, n_boot=args.boot, seed=args.seed))


def cmd_fit_tradeoff(args) -> int:
    from .fit import fit_tradeoff_csv
    return _print_fit(f"({args.steps}/S_min - 1)({args.examples}/E_min - 1) = 1, B_crit = E_min/S_min",
                      fit_tradeoff_csv(args.csv, args.steps, args.examples, n_boot=args.boot, seed=args.seed))


def cmd_fit_learning_curve(args) -> int:
    from .frontier import fit_learning_curve_csv
    return _print_fit(f"{args.y} = ({args.n}_c/{args.n})^alpha_N + ({args.steps}_c/{args.steps})^alpha_S (Kaplan Eq 1.6)",
                      fit_learning_curve_csv(args.csv, args.n, args.steps, args.y, n_boot=args.boot, seed=args.seed))


def cmd_paper_intersection(args) -> int:
    from .paper import intersection
    print(json.dumps(intersection(), indent=1))
    return 0


def cmd_calibrate(args) -> int:
    from .calibration import calibrate
    from .paths import reference_runs
    from .protocol import RULE_FILE
    grid_dir = Path(args.runs_dir or reference_runs()) / "calibration"
    rule, optima = calibrate(grid_dir)
    cols = ["N", "batch_tokens", "best_lr", "best_loss", "lr", "loss", "on_edge", "n", "diverged"]
    print(optima[cols].to_string(index=False))
    print(f"batch: {rule.batch_tokens} tokens; LR*(N) = {rule.lr_ref:.4g} (N / {rule.n_ref:.0e})^-{rule.exponent:.3f} "
          f"(± {rule.exponent_se:.3f}), fitted on N = {rule.n_range[0]:,} … {rule.n_range[1]:,}")
    if args.write:
        out = Path(args.out) if args.out else RULE_FILE
        out.write_text(json.dumps(rule.to_dict(), indent=1) + "\n")
        print(f"wrote {out}")
    return 0


def cmd_bench(args) -> int:
    from .bench import main as bench_main
    return bench_main(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scalinglaws", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    grid = sub.add_parser("grid", help="named grids of training runs").add_subparsers(dest="grid_command", required=True)
    grid.add_parser("list", help="list the named grids").set_defaults(func=cmd_grid_list)
    show = grid.add_parser("show", help="list the runs of a grid")
    show.add_argument("name")
    show.set_defaults(func=cmd_grid_show)
    prov = grid.add_parser("provenance", help="what a grid's records say about how they were made (JSON)")
    prov.add_argument("name")
    prov.add_argument("--runs-dir", help="folder holding the grid's folder (default: runs/reference)")
    prov.set_defaults(func=cmd_grid_provenance)
    run = grid.add_parser("run", help="train the missing runs of a grid")
    run.add_argument("name")
    run.add_argument("--runs-dir", help="records go to RUNS_DIR/<grid>/ (default: runs/, or $SCALINGLAWS_RUNS)")
    run.add_argument("--workers", type=int, default=2, help="parallel slices (local engine)")
    run.add_argument("--threads", type=int, default=1, help="torch threads per slice")
    run.add_argument("--engine", choices=["local", "submitit"], default="local")
    run.add_argument("--cluster", choices=["slurm", "local", "debug"], default=None,
                     help="submitit backend (default: SLURM when srun exists, else local)")
    run.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu",
                     help="where to train (auto: CUDA when available); CUDA trains in bf16 autocast")
    run.add_argument("--slice-size", type=int, default=1, help="runs per slice (one notebook each)")
    run.add_argument("--only", nargs="+", metavar="RUN_ID", help="train only these runs")
    run.add_argument("--retrain-stale", action="store_true", help="retrain runs whose record has another config")
    run.add_argument("--timeout", type=float, default=None, help="per-cell timeout of a slice, seconds")
    run.set_defaults(func=cmd_grid_run)

    data = sub.add_parser("data", help="corpora").add_subparsers(dest="data_command", required=True)
    prep = data.add_parser("prepare", help="prepare (or find cached) a tokenized corpus")
    prep.add_argument("--corpus", default="default", help="'default', 'hf:NAME[:CONFIG]' or local files")
    prep.add_argument("--vocab", type=int, default=4096)
    prep.add_argument("--seed", type=int, default=1234)
    prep.add_argument("--text-field", default="text")
    prep.add_argument("--allow-network", action="store_true", help="let datasets download (off by default)")
    prep.set_defaults(func=cmd_data_prepare)

    fit = sub.add_parser("fit", help="fit laws").add_subparsers(dest="fit_command", required=True)

    def csv_fit(name, help, func, columns, boot_help="bootstrap resamples"):
        """A ``fit`` subcommand: a CSV file, its columns (flag → help), the bootstrap, JSON out."""
        parser = fit.add_parser(name, help=help)
        parser.add_argument("--csv", required=True)
        for flag, column_help in columns.items():
            parser.add_argument(flag, required=True, help=column_help)
        parser.add_argument("--boot", type=int, default=1000, help=boot_help)
        parser.add_argument("--seed", type=int, default=0)
        parser.set_defaults(func=func)
        return parser

    power = csv_fit("power", "fit y = (x_c/x)^alpha to two CSV columns; prints JSON", cmd_fit_power,
                    {"--x": "column of x", "--y": "column of y"})
    power.add_argument("--offset", action="store_true", help="fit y = E + (x_c/x)^alpha (an irreducible term E)")
    csv_fit("overfit", "fit L(N, D) = [(N_c/N)^(a_N/a_D) + D_c/D]^a_D (Eq 1.5) to three CSV columns; prints JSON",
            cmd_fit_overfit, {"--n": "column of non-embedding parameters", "--d": "column of dataset sizes (tokens)",
                              "--y": "column of (early-stopped) losses"}, "bootstrap resamples (runs resampled)")
    csv_fit("tradeoff", "fit the steps-examples hyperbola (S/S_min - 1)(E/E_min - 1) = 1 of one target loss; prints "
            "JSON", cmd_fit_tradeoff, {"--steps": "column of optimizer steps to reach the target loss",
                                       "--examples": "column of examples (tokens) processed to reach it"})
    csv_fit("learning-curve", "fit L(N, S) = (N_c/N)^a_N + (S_c/S)^a_S (Eq 1.6) to three CSV columns; prints JSON",
            cmd_fit_learning_curve, {"--n": "column of non-embedding parameters",
                                     "--steps": "column of steps (S_min, Eq 5.4, if you know B_crit; else S)",
                                     "--y": "column of losses"}, "bootstrap resamples (points resampled)")

    paper = sub.add_parser("paper", help="numbers computed from Kaplan et al.'s published constants")
    paper_sub = paper.add_subparsers(dest="paper_command", required=True)
    paper_sub.add_parser("intersection", help="C*, N*, D*, L* of §6.3 (Eq 6.8) from the published fits (JSON)"
                         ).set_defaults(func=cmd_paper_intersection)

    cal = sub.add_parser("calibrate", help="fit the tuned protocol's LR rule to the calibration grid")
    cal.add_argument("--runs-dir", help="folder holding calibration/ (default: runs/reference)")
    cal.add_argument("--write", action="store_true", help="write the rule the tuned protocol reads")
    cal.add_argument("--out", help="where to write it (default: the library's grids/tuned_lr.json)")
    cal.set_defaults(func=cmd_calibrate)

    bench = sub.add_parser("bench", help="training throughput: the real step against a plain loop (tokens/s, FLOP/s)")
    bench.add_argument("--shapes", nargs="+", default=["2x16", "2x64", "3x96", "4x128"],
                       help="LAYERSxWIDTH (heads of 32 dims, as in the grids) or LAYERSxWIDTHxHEADS")
    bench.add_argument("--seconds", type=float, default=20.0,
                       help="timed seconds of steps per side (real, plain) per shape and thread count")
    bench.add_argument("--min-pairs", type=int, default=5,
                       help="at least this many interleaved (real, plain) step pairs per shape and thread count")
    bench.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    bench.add_argument("--ctx", type=int, default=128)
    bench.add_argument("--batch-tokens", type=int, default=8192)
    bench.add_argument("--micro-batch-tokens", type=int, default=2048)
    bench.add_argument("--bf16", action="store_true")
    bench.add_argument("--processes", type=int, default=1,
                       help="also run this many 1-thread processes at once on the real step (e.g. 2)")
    bench.add_argument("--out", help="JSON path (default: benchmarks/bench-<date>.json)")
    bench.add_argument("--note", default="", help="free text stored in the JSON (e.g. what else ran)")
    bench.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"scalinglaws: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
