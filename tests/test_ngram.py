"""Tests of scalinglaws.ngram: the count baselines against a pure-Python Kneser–Ney written straight
from the formulas, normalisation over the vocabulary, and hand-computable cases."""
import math
import random
from collections import Counter

import numpy as np
import pytest

from scalinglaws.ngram import NgramModel, baselines


def brute_force_kn(train: list[int], vocab: int, order: int):
    """p(w | context) of interpolated Kneser–Ney, from dictionaries, one probability at a time."""
    # counts[k][(h, w)]: raw counts at the highest order; below it, the number of distinct tokens
    # seen just before (h, w) among the (k+1)-gram types.
    grams = Counter(tuple(train[i:i + order]) for i in range(len(train) - order + 1))
    counts = {order: dict(grams)}
    types = set(grams)
    for k in range(order - 1, 0, -1):
        cont = Counter(g[1:] for g in types)
        counts[k] = dict(cont)
        types = set(cont)

    def discount(k):
        cc = Counter(counts[k].values())
        return cc[1] / (cc[1] + 2 * cc[2]) if cc[1] else 0.5  # the module's fallback

    d = {k: discount(k) for k in counts}

    def p(k, h: tuple, w: int) -> float:
        if k == 0:
            return 1 / vocab
        lower = p(k - 1, h[1:], w)
        row = {g[-1]: c for g, c in counts[k].items() if g[:-1] == h}
        total = sum(row.values())
        if total == 0:
            return lower
        return max(row.get(w, 0) - d[k], 0) / total + d[k] * len(row) / total * lower

    return lambda h, w: p(order, tuple(h), w), d


@pytest.fixture(scope="module")
def tiny():
    rng = random.Random(0)
    vocab = 52
    # a skewed stream (Zipf-like weights over tokens 0..49) so that counts of 1 and 2 occur at every order
    weights = [1 / (k + 1) for k in range(50)]
    train = rng.choices(range(50), weights, k=400)
    test = rng.choices(range(vocab), k=80) + [1, 2, 2, 51, 51, 51]  # 50 and 51 never occur in training
    return vocab, train, test


@pytest.mark.parametrize("order", [2, 3])
def test_kneser_ney_matches_brute_force(tiny, order):
    vocab, train, test = tiny
    model = NgramModel(order, vocab).fit(np.array(train, dtype=np.uint16))
    p, d = brute_force_kn(train, vocab, order)
    assert model.discounts == pytest.approx([d[k] for k in sorted(d)])
    start = 2
    expected = [math.log(p(test[t - order + 1:t], test[t])) for t in range(start, len(test))]
    assert model.logprobs(np.array(test), start=start) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert model.cross_entropy(np.array(test), start=start) == pytest.approx(-np.mean(expected))


def test_unigram_is_add_one(tiny):
    vocab, train, test = tiny
    model = NgramModel(1, vocab).fit(np.array(train))
    c = Counter(train)
    expected = [math.log((c[w] + 1) / (len(train) + vocab)) for w in test[2:]]
    assert model.logprobs(np.array(test), start=2) == pytest.approx(expected)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_distributions_normalise(tiny, order):
    vocab, train, _ = tiny
    model = NgramModel(order, vocab).fit(np.array(train))
    for context in [(1, 2), (0, 0), (51, 51), (0, 51), (51, 1), (49, 48)]:  # seen, unseen, half seen
        dist = model.next_distribution(context)
        assert dist.shape == (vocab,) and np.all(dist > 0)
        assert dist.sum() == pytest.approx(1.0, abs=1e-12)


def test_hand_computed_bigram():
    """train = 0 1 0 1 0 2, V = 3, fixed D = 0.5.

    Bigrams: (0,1) x2, (1,0) x2, (0,2) x1. Continuation counts N1+(.w): w=0: {1} -> 1, w=1: {0} -> 1,
    w=2: {0} -> 1; total 3, 3 types, so p1(w) = (1 - .5)/3 + .5*3/3 * 1/3 = 1/3 for every w.
    p(1 | 0) = (2 - .5)/3 + .5 * 2/3 * 1/3 = 0.5 + 1/9.  p(2 | 1) = 0 + .5 * 1/2 * 1/3 = 1/12.
    Context 2 never occurs: p(w | 2) = p1(w) = 1/3.
    """
    model = NgramModel(2, 3, discount=0.5).fit(np.array([0, 1, 0, 1, 0, 2]))
    assert model.next_distribution([0])[1] == pytest.approx(0.5 + 1 / 9)
    assert model.next_distribution([1])[2] == pytest.approx(1 / 12)
    assert model.next_distribution([2]) == pytest.approx([1 / 3] * 3)


def test_baselines_table(tiny):
    vocab, train, test = tiny
    out = baselines(np.array(train), {"test": np.array(test), "same": np.array(train)}, vocab)
    assert set(out["orders"]) == {"unigram", "bigram", "trigram"} and "Kneser" in out["method"]
    losses = {name: o["loss"] for name, o in out["orders"].items()}
    # on its own training stream a longer context never hurts much, and every loss is below uniform
    assert losses["trigram"]["same"] < losses["bigram"]["same"] < losses["unigram"]["same"] < math.log(vocab)
    assert all(v > 0 for o in losses.values() for v in o.values())


def test_rejects_out_of_range_tokens():
    with pytest.raises(ValueError):
        NgramModel(2, 4).fit(np.array([0, 1, 4]))
    with pytest.raises(ValueError):
        NgramModel(4, 10)
