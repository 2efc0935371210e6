"""A small in-memory corpus with learnable structure, so engine tests need no prepared corpus."""
from __future__ import annotations

import numpy as np

from scalinglaws.data import ArrayCorpus


class FakeCorpus(ArrayCorpus):
    """Token arrays from a seeded sparse Markov chain over ``vocab_size`` tokens."""

    def __init__(self, vocab_size: int = 256, train_tokens: int = 60_000, seed: int = 0, path: str = "/nonexistent"):
        rng = np.random.default_rng(seed)
        nxt = rng.integers(0, vocab_size, size=(vocab_size, 3))   # each token has three likely successors

        def stream(n, s):
            r = np.random.default_rng(s)
            out = np.empty(n, dtype=np.uint16)
            t = 0
            choice, noise = r.integers(0, 3, size=n), r.random(n) < 0.1
            rand = r.integers(0, vocab_size, size=n)
            for i in range(n):
                t = rand[i] if noise[i] else nxt[t, choice[i]]
                out[i] = t
            return out

        super().__init__({"train": stream(train_tokens, seed + 1), "val": stream(8_000, seed + 2),
                          "test": stream(8_000, seed + 3)}, vocab_size, path)
