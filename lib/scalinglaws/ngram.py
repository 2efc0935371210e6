"""Count-based language-model baselines on token arrays: what a loss value means.

Three models are fitted on a token stream (the training split, documents separated by
``<|endoftext|>``, which is just another token here) and scored as mean next-token
cross-entropy in nats on other streams, like the trainer's ``val_loss``:

- **unigram**, add-one (Laplace) smoothing: ``p(w) = (c(w) + 1) / (T + V)``;
- **bigram** and **trigram**, interpolated Kneser–Ney (Chen & Goodman 1998, §3.5) with one
  absolute discount per order, ``D = n1 / (n1 + 2 n2)`` (Ney's estimate from the counts of
  counts of that order), or a fixed ``discount``. The highest order uses raw counts, lower
  orders use continuation counts (the number of distinct left neighbours), and the lowest
  order is interpolated with the uniform distribution over the vocabulary, so every token has a
  probability above zero and every conditional distribution sums to one.

For a context ``h`` of order ``k`` and its shorter context ``h'`` (the last ``k - 1`` tokens)::

    p_k(w | h) = max(c(h, w) - D_k, 0) / c(h) + D_k * N1+(h, .) / c(h) * p_{k-1}(w | h')
    p_k(w | h) = p_{k-1}(w | h')                          when c(h) = 0
    p_0(w)     = 1 / V

where ``c`` is the raw count at the highest order and the continuation count below it, ``c(h)``
its sum over ``w`` and ``N1+(h, .)`` the number of distinct ``w`` with ``c(h, w) > 0``.

Everything is vectorised on integer codes (``np.unique`` / ``np.searchsorted``): fitting a
trigram on 7e6 ``uint16`` tokens with V = 4096 takes a few seconds. Each model scores the same
targets, positions ``order_max - 1 ...`` of a stream (here position 2 onwards), so the three
numbers are comparable.
"""
from __future__ import annotations

import numpy as np

METHOD = ("unigram: add-one (Laplace) smoothing over the vocabulary; bigram, trigram: interpolated Kneser-Ney "
          "(Chen & Goodman 1998) with one absolute discount per order, D = n1 / (n1 + 2 n2) from that order's "
          "counts of counts, continuation counts below the highest order, the lowest order interpolated with the "
          "uniform distribution; fitted on the train split (<|endoftext|> is an ordinary token), scored as the mean "
          "next-token cross-entropy in nats on every token from the third of each split on")


def _codes(x: np.ndarray, n: int, vocab: int) -> np.ndarray:
    """Integer code of every n-gram of ``x`` (base ``vocab``; fits int64 for vocab**3 < 2**63)."""
    x = np.asarray(x, dtype=np.int64)
    out = np.zeros(len(x) - n + 1, dtype=np.int64)
    for i in range(n):
        out = out * vocab + x[i:len(x) - n + 1 + i]
    return out


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``values[k]`` where ``keys[k] == query`` (``keys`` sorted, unique), else 0."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=values.dtype)
    i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[i] == query, values[i], 0)


def _discount(counts: np.ndarray) -> float:
    """Ney's absolute discount ``n1 / (n1 + 2 n2)`` from the counts of counts (0.5 when undefined)."""
    n1, n2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    return n1 / (n1 + 2 * n2) if n1 > 0 else 0.5


class _Level:
    """One order of the interpolated model: counts of (context, token) keyed by integer codes."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray, order: int, vocab: int, discount: float | None):
        self.order, self.vocab = order, vocab
        self.keys, self.counts = keys, counts.astype(np.float64)
        self.discount = _discount(counts) if discount is None else float(discount)
        ctx = keys // vocab  # sorted because keys are
        self.ctx_keys, first, self.ctx_types = np.unique(ctx, return_index=True, return_counts=True)
        self.ctx_totals = np.add.reduceat(self.counts, first) if len(first) else np.zeros(0)

    def prob(self, ctx: np.ndarray, w: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """p(w | ctx) for arrays of context codes and tokens, given the lower order's p(w | ctx')."""
        c = _lookup(self.keys, self.counts, ctx * self.vocab + w)
        total = _lookup(self.ctx_keys, self.ctx_totals, ctx)
        types = _lookup(self.ctx_keys, self.ctx_types, ctx).astype(np.float64)
        seen = total > 0
        safe = np.where(seen, total, 1.0)
        p = np.maximum(c - self.discount, 0.0) / safe + self.discount * types / safe * lower
        return np.where(seen, p, lower)


class NgramModel:
    """An n-gram model of order 1 (add-one unigram) or 2-3 (interpolated Kneser–Ney) on token ids < ``vocab``."""

    def __init__(self, order: int, vocab: int, discount: float | None = None):
        if order not in (1, 2, 3):
            raise ValueError(f"order must be 1, 2 or 3, got {order}")
        if vocab ** order >= 2 ** 62:
            raise ValueError(f"vocab {vocab} too large for integer codes of order {order}")
        self.order, self.vocab, self.fixed_discount = order, vocab, discount
        self.levels: list[_Level] = []

    def fit(self, tokens: np.ndarray) -> "NgramModel":
        x = np.asarray(tokens, dtype=np.int64)
        if len(x) < self.order or (len(x) and (x.min() < 0 or x.max() >= self.vocab)):
            raise ValueError("tokens must be at least `order` long and lie in [0, vocab)")
        self.unigram_counts = np.bincount(x, minlength=self.vocab).astype(np.float64)
        self.total = float(len(x))
        if self.order == 1:
            return self
        # The highest order counts n-grams; each lower order k counts, for every k-gram, the distinct
        # tokens seen just before it (continuation counts), i.e. the (k+1)-gram types ending in it.
        keys, counts = np.unique(_codes(x, self.order, self.vocab), return_counts=True)
        levels = [_Level(keys, counts, self.order, self.vocab, self.fixed_discount)]
        for k in range(self.order - 1, 0, -1):
            keys, counts = np.unique(keys % self.vocab ** k, return_counts=True)
            levels.append(_Level(keys, counts, k, self.vocab, self.fixed_discount))
        self.levels = levels[::-1]  # lowest order first
        return self

    @property
    def discounts(self) -> list[float]:
        """The discount of each order, lowest first (empty for the unigram)."""
        return [lv.discount for lv in self.levels]

    def _prob(self, context: np.ndarray, w: np.ndarray) -> np.ndarray:
        """p(w | context) where ``context`` is an (n, order-1) array of preceding tokens."""
        w = np.asarray(w, dtype=np.int64)
        if self.order == 1:
            return (self.unigram_counts[w] + 1.0) / (self.total + self.vocab)
        p = np.full(len(w), 1.0 / self.vocab)
        for lv in self.levels:  # order 1 (context: nothing), 2 (the last token), ...
            ctx = np.zeros(len(w), dtype=np.int64)
            for j in range(lv.order - 1):
                ctx = ctx * self.vocab + context[:, context.shape[1] - (lv.order - 1) + j]
            p = lv.prob(ctx, w, p)
        return p

    def next_distribution(self, context) -> np.ndarray:
        """p(. | context) over the whole vocabulary; ``context`` holds the last ``order - 1`` tokens."""
        ctx = np.asarray(list(context)[len(context) - (self.order - 1):] if self.order > 1 else [], dtype=np.int64)
        w = np.arange(self.vocab)
        return self._prob(np.broadcast_to(ctx, (self.vocab, self.order - 1)), w)

    def logprobs(self, tokens: np.ndarray, start: int | None = None) -> np.ndarray:
        """ln p(tokens[t] | tokens[t-order+1:t]) for t = start ... len - 1 (start defaults to order - 1)."""
        x = np.asarray(tokens, dtype=np.int64)
        start = self.order - 1 if start is None else start
        if start < self.order - 1:
            raise ValueError(f"start must be at least order - 1 = {self.order - 1}")
        targets = x[start:]
        k = self.order - 1
        context = (np.stack([x[start - k + j:len(x) - k + j] for j in range(k)], axis=1) if k
                   else np.zeros((len(targets), 0), dtype=np.int64))
        out = np.empty(len(targets))
        step = 1 << 20  # bounded memory on long streams
        for i in range(0, len(targets), step):
            out[i:i + step] = np.log(self._prob(context[i:i + step], targets[i:i + step]))
        return out

    def cross_entropy(self, tokens: np.ndarray, start: int | None = None) -> float:
        """Mean next-token cross-entropy in nats."""
        return float(-self.logprobs(tokens, start).mean())


def baselines(train: np.ndarray, evals: dict[str, np.ndarray], vocab: int,
              orders=(1, 2, 3)) -> dict:
    """Fit each order on ``train`` and score every stream of ``evals`` (all on targets from position 2).

    Returns ``{"method", "orders": {"unigram": {"discounts": [...], "loss": {split: nats}}, ...}}``.
    """
    start = max(orders) - 1
    names = {1: "unigram", 2: "bigram", 3: "trigram"}
    out = {}
    for n in orders:
        model = NgramModel(n, vocab).fit(train)
        out[names[n]] = dict(
            discounts=[round(d, 4) for d in model.discounts],
            loss={split: round(model.cross_entropy(x, start), 4) for split, x in evals.items() if len(x) > start})
    return dict(method=METHOD, fitted_on="train", orders=out)
