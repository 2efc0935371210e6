"""The overfitting chapter's grids: sizes and nested subsets, the paper's regularisation, the caps."""
import math

import numpy as np
import pytest

from scalinglaws.config import TrainConfig
from scalinglaws.data import ArrayCorpus
from scalinglaws.data.subsets import nested_subset
from scalinglaws.grids import gpt
from scalinglaws.grids.overfit import EPOCH_CAP, FULL_SPLIT, overfit_runs, quick_runs
from scalinglaws.paper import published
from scalinglaws.protocol import LRRule
from scalinglaws.train import Trainer

RULE = LRRule(lr_ref=0.01, exponent=0.3, n_ref=1e5, batch_tokens=2048, n_range=(1_760, 396_800), tokens=2_000_000)


def test_the_overfit_grid_spans_sizes_and_subsets():
    runs = overfit_runs(RULE)
    n = sorted({r.params["non_embedding"] for r in runs})
    subsets = sorted({r.config["train_subset_tokens"] or FULL_SPLIT for r in runs})
    assert len(n) >= 5 and math.log10(n[-1] / n[0]) >= 2
    assert len(subsets) >= 6 and math.log10(subsets[-1] / subsets[0]) >= 1.5 and subsets[0] <= 1.2e5
    assert len({(r.params["non_embedding"], r.config["train_subset_tokens"]) for r in runs}) == len(n) * len(subsets)
    for r in runs:
        c = r.config
        assert c["protocol"] == "tuned" and c["early_stopping_patience"]
        assert c["dropout"] == published("dropout_LND").value       # the paper's regularisation (§4.2)
        assert c["tokens"] <= EPOCH_CAP * (c["train_subset_tokens"] or FULL_SPLIT)
    quick = quick_runs(RULE)
    assert len({r.params["non_embedding"] for r in quick}) >= 2 and len({r.config["train_subset_tokens"] for r in quick}) >= 3
    assert sum(r.cost for r in quick) < sum(r.cost for r in runs) / 15
    # shorter caps where they are at most half the main run: same model and subset, fewer epochs
    by_id = {r.run_id: r for r in runs}
    shorts = [r for r in runs if "_e" in r.run_id]
    assert shorts and all(by_id[r.run_id.rsplit("_e", 1)[0]].config["tokens"] >= 2 * r.config["tokens"] for r in shorts)
    assert all(r.config["train_subset_tokens"] == by_id[r.run_id.rsplit("_e", 1)[0]].config["train_subset_tokens"]
               for r in shorts)


def sorted_by_source(sizes=(72_000, 68_000, 96_000, 164_000), eot=0, seed=0):
    """A training split laid out as the prepared corpora are: source after source, texts of 50 … 5,000
    tokens ended by a separator; source k's tokens are ids 10k+1 … 10k+9, so a token says its source."""
    rng = np.random.default_rng(seed)
    out = []
    for k, size in enumerate(sizes):
        have = 0
        while have < size:
            n = int(min(rng.integers(50, 5_000), size - have))
            out.append(np.append(rng.integers(10 * k + 1, 10 * k + 10, n - 1), eot))
            have += n
    return np.concatenate(out).astype(np.uint16)


def test_subsets_are_nested_and_keep_the_mix_of_sources():
    tokens = sorted_by_source()
    corpus = ArrayCorpus({"train": tokens, "val": tokens[:4_000]}, vocab_size=256, eot_id=0)
    model = gpt(2, 16, 2, n_ctx=32, vocab_size=256)
    base = {"model": model, "tokens": 4096, "batch_tokens": 512, "lr": 1e-3, "warmup_tokens": 512}
    subsets = {d: Trainer(TrainConfig.from_dict({**base, "train_subset_tokens": d}), corpus).train_tokens
               for d in (9_000, 40_000, 150_000)}
    assert [len(t) for t in subsets.values()] == [9_000, 40_000, 150_000]
    assert np.array_equal(subsets[9_000], subsets[40_000][:9_000])          # nested
    assert np.array_equal(subsets[40_000], subsets[150_000][:40_000])

    def mix(t):
        return np.bincount(t[t > 0] // 10, minlength=4) / (t > 0).sum()

    for d, gap in ((40_000, 0.04), (150_000, 0.02)):   # every source in proportion once D ≥ STRATA × PIECE (prefix: 0.8)
        assert np.abs(mix(subsets[d]) - mix(tokens)).max() < gap, (d, mix(subsets[d]), mix(tokens))
    # all of it is a permutation of whole pieces of the split; the stored order is one source
    whole = nested_subset(tokens, len(tokens), 0)
    assert np.array_equal(np.sort(whole), np.sort(tokens))
    assert set(np.unique(nested_subset(tokens, 9_000, 0, "prefix") // 10)) <= {0, 1}
    prefix = Trainer(TrainConfig.from_dict({**base, "train_subset_tokens": 9_000, "train_subset_order": "prefix"}),
                     corpus).train_tokens
    assert np.array_equal(prefix, tokens[:9_000])
    with pytest.raises(ValueError, match="exceeds"):
        Trainer(TrainConfig.from_dict({**base, "train_subset_tokens": 10 ** 6}), corpus)
    with pytest.raises(ValueError, match="train_subset_order"):
        TrainConfig.from_dict({**base, "train_subset_order": "random"})


def test_records_from_before_stratified_subsets_read_as_prefixes():
    config = TrainConfig.from_dict({"model": gpt(2, 16, 2, n_ctx=32, vocab_size=256), "tokens": 4096,
                                    "batch_tokens": 512, "lr": 1e-3, "train_subset_tokens": 3_000})
    old = {k: v for k, v in config.to_dict().items() if k != "train_subset_order"}
    assert TrainConfig.from_record(old).train_subset_order == "prefix" and not config.same_run(old)
    whole = {**config.to_dict(), "train_subset_tokens": None}       # without a subset the order never mattered
    assert TrainConfig.from_dict(whole).same_run({k: v for k, v in whole.items() if k != "train_subset_order"})


# -- the chapter's analysis on a synthetic grid ------------------------------------------------------

def synthetic_runs(seed=0):
    """Run-table rows for a 5 × 6 grid, losses from Eq 1.5 with noise; small subsets stop early."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    law = {"alpha_N": 0.08, "alpha_D": 0.12, "N_c": 1e9, "D_c": 5e7}
    rows = []
    for i, n in enumerate(np.geomspace(1.8e3, 4e5, 5)):
        for d in np.geomspace(1e5, 6.66e6, 6):
            loss = ((law["N_c"] / n) ** (law["alpha_N"] / law["alpha_D"]) + law["D_c"] / d) ** law["alpha_D"]
            steps = int(min(20 * d, 8e6) / 2048)
            best = steps // 3 if d < 1e6 else steps
            rows.append({"run_id": f"r{i}_{int(d)}", "N": n, "N_total": n + 3e4, "n_layer": 2, "d_model": 8 * 2 ** i,
                         "D": d, "epochs": steps * 2048 / d, "tokens": steps * 2048, "config_tokens": steps * 2048,
                         "best_step": best, "steps": steps, "stopped_early": best < steps, "batch_tokens": 2048,
                         "loss_test": loss * np.exp(rng.normal(0, 0.003))})
    return pd.DataFrame(rows)


def test_overfitting_analysis_on_a_synthetic_grid():
    import pandas as pd

    from scalinglaws import overfitting
    runs = synthetic_runs()
    # a shorter cap on one cell, 0.05 nats better: the cell keeps it
    short = runs.iloc[[0]].assign(run_id="short", config_tokens=runs["config_tokens"].iloc[0] / 4,
                                  loss_test=runs["loss_test"].iloc[0] - 0.05)
    table = overfitting.lnd_table(pd.concat([runs, short], ignore_index=True))
    assert list(table.columns[:6]) == ["run_id", "N", "N_total", "n_layer", "d_model", "D"] and len(table) == 30
    assert (table["best_epochs"] <= table["epochs"] + 1e-9).all() and table["minimum_inside"].sum() == 5 * 3
    assert table.loc[0, "run_id"] == "short" and table.loc[0, "caps"] == 2
    assert table.loc[0, "cap_gain"] == pytest.approx(0.05) and (table["cap_gain"].iloc[1:] == 0).all()
    law = overfitting.fit(table, n_boot=20)
    assert law.alpha_N == pytest.approx(0.08, rel=0.1) and law.alpha_D == pytest.approx(0.12, rel=0.15)
    pen = overfitting.penalty(table, law)
    # the penalty collapses onto one curve of N^(α_N/α_D)/D: measured and fitted agree within the noise
    assert np.abs(np.log1p(pen["delta"]) - np.log1p(pen["delta_fit"])).max() < 0.02
    ld, rows = overfitting.data_law(table, n_boot=20)
    assert len(rows) == 6 and rows["N"].nunique() == 1 and 0 < ld.alpha < 0.2
    bound = overfitting.early_stopping_bound(table, law, S_c=2.1e3, alpha_S=0.76)
    assert len(bound) <= 15 and (bound["bound"] > 0).all() and (bound["gap"] > 0).all()
    assert (bound["best_S_min"] == bound["best_step"]).all()          # no B_crit law: raw steps
    halved = overfitting.early_stopping_bound(table, law, S_c=2.1e3, alpha_S=0.76,
                                              b_crit=lambda loss: bound["batch_tokens"].iloc[0] + 0 * loss)
    assert np.allclose(halved["best_S_min"], halved["best_step"] / 2)   # B = B_crit: S_min = S/2 (Eq 5.4)
    # settled: the 15 early-stopped cells, the whole-split column (5 cells, one of them also early-stopped: none
    # here) and the cell a shorter cap won; cap-limited cells left out of the sensitivity fit
    settled = overfitting.settled(table)
    assert settled.sum() == 15 + 5 + 0 and settled.iloc[0]
    again = overfitting.fit_settled(table, n_boot=20)
    assert again.n == settled.sum() and again.alpha_D == pytest.approx(0.12, rel=0.2)
    with pytest.raises(ValueError, match="too few"):
        overfitting.fit_settled(table.iloc[:4])
    # Eq 1.5 falls with N at every D: synthetic data never rises beyond the noise; a largest model pushed
    # above a smaller one on the smallest subset is named, with its excess
    assert overfitting.rising_with_size(table, 0.01).empty
    worse = table.copy()
    smallest = worse["D"] == worse["D"].min()
    top = worse.index[smallest & (worse["N"] == worse["N"].max())]
    worse.loc[top, "loss"] = worse.loc[smallest, "loss"].max() * 1.05
    rising = overfitting.rising_with_size(worse, 0.01)
    excess = worse.loc[top, "loss"].iloc[0] / worse.loc[smallest, "loss"].min() - 1
    assert list(rising["D"]) == [worse["D"].min()] and rising["excess"].iloc[0] == pytest.approx(excess)


def test_overfitting_figures_draw_without_missing_glyphs(tmp_path):
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalinglaws import figures, overfitting
    figures.setup_style()
    runs = synthetic_runs()
    runs["curve"] = [[{"epoch": e, "tokens": e * d, "val_loss": 5 + 0.01 * e, "train_loss_ema": 5 - 0.02 * e}
                      for e in (0.5, 1, 2, 4)] for d in runs["D"]]
    table = overfitting.lnd_table(runs)
    law = overfitting.fit(table, n_boot=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, (fig, ax) in {
                "d": figures.plot_loss_vs_data(table, law),
                "n": figures.plot_loss_vs_size_by_data(table, law),
                "collapse": figures.plot_penalty_collapse(overfitting.penalty(table, law), law),
                "stop": figures.plot_early_stopping(overfitting.early_stopping_bound(table, law, 2.1e3, 0.76),
                                                    source_label="논문 / paper, Table 3"),
                "curves": figures.plot_train_vs_test(runs.head(2))}.items():
            fig.savefig(tmp_path / f"{name}.png")
            assert ax.get_legend() is not None
        plt.close("all")
    assert not [w for w in caught if "Glyph" in str(w.message)]


def test_the_l_n_chapter_route_waits_for_complete_runs(tmp_path):
    from types import SimpleNamespace

    from scalinglaws import size_law
    (tmp_path / "overfit" / "L2-d8_D100k").mkdir(parents=True)
    (tmp_path / "overfit" / "L2-d8_D100k" / "run.json").write_text("{}")     # a run still starting: no record yet
    routes = size_law.routes_to_alpha_n(tmp_path, SimpleNamespace(alpha=0.07, alpha_ci=(0.06, 0.08)))
    row = routes[routes["source"].str.contains("overfit")].iloc[0]
    assert np.isnan(row["alpha_N"]) and "0 of " in row["source"] and "runs trained" in row["source"]


def test_effective_data_of_repeated_tokens():
    from scalinglaws import overfitting, paper
    r_star = paper.related("muennighoff_R_star").value
    d = overfitting.effective_data([1e5, 1e5, 1e5, 1e5], [5e4, 1e5, 2e5, 2e7], r_star)
    assert d[0] == 5e4 and d[1] == 1e5                      # within one epoch, every token is fresh
    assert 1.9e5 < d[2] < 2e5                               # one repetition is worth almost a fresh epoch
    assert d[3] < 1e5 * (1 + r_star)                        # never more than U·(1 + R*)
