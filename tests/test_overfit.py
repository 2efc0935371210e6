"""The overfitting chapter's grids: sizes and nested subsets, the paper's regularisation, the caps."""
import math

import numpy as np
import pytest

from fakes import FakeCorpus
from scalinglaws.config import TrainConfig
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
    assert len(runs) == len(n) * len(subsets)                      # a full N × D grid
    for r in runs:
        c = r.config
        assert c["protocol"] == "tuned" and c["early_stopping_patience"]
        assert c["dropout"] == published("dropout_LND").value       # the paper's regularisation (§4.2)
        assert c["tokens"] <= EPOCH_CAP * (c["train_subset_tokens"] or FULL_SPLIT)
    quick = quick_runs(RULE)
    assert len({r.params["non_embedding"] for r in quick}) >= 2 and len({r.config["train_subset_tokens"] for r in quick}) >= 3
    assert sum(r.cost for r in quick) < sum(r.cost for r in runs) / 20


def test_subsets_are_nested_prefixes_of_the_training_split():
    corpus = FakeCorpus(vocab_size=256, train_tokens=20_000)
    model = gpt(2, 16, 2, n_ctx=32, vocab_size=256)
    base = {"model": model, "tokens": 4096, "batch_tokens": 512, "lr": 1e-3, "warmup_tokens": 512}
    small, large = (Trainer(TrainConfig.from_dict({**base, "train_subset_tokens": d}), corpus) for d in (3_000, 9_000))
    full = corpus.tokens("train")
    assert len(small.train_tokens) == 3_000 and len(large.train_tokens) == 9_000
    assert np.array_equal(small.train_tokens, large.train_tokens[:3_000])
    assert np.array_equal(large.train_tokens, full[:9_000])
    with pytest.raises(ValueError, match="exceeds"):
        Trainer(TrainConfig.from_dict({**base, "train_subset_tokens": 10 ** 6}), corpus)
