"""Nested training subsets that sample the whole split (the dataset sizes D of the overfitting grid).

A split's token array lists its texts source by source (``split.join_sections`` writes them sorted by
source and doc id), so its first D tokens are one source's: the first 1.2e6 training tokens of the
default corpus are all BBC news. A subset taken as a prefix would change the distribution with D, and
the overfitting chapter would measure that shift instead of the value of more data.

``nested_subset(tokens, D, eot_id)`` returns the first D tokens of one fixed order of pieces that
spreads every prefix over the whole split:

1. the array is cut after each separator into texts, and every text into pieces of at most ``PIECE``
   tokens (a play or a book of the Bible is one text of up to 6e4 tokens; taken whole, one would be most
   of a 1e5-token subset);
2. the pieces are put into ``STRATA`` strata of equal tokens by position (a piece belongs to the stratum
   of its middle), and each stratum is shuffled with a fixed seed;
3. pieces are taken one at a time from the stratum that has had the smallest share of its tokens taken;
   ties (the first round) go in bit-reversed stratum order (0, 16, 8, 24, 4, …), so even the first few
   pieces spread over the whole split instead of coming from its start.

Any prefix of this order holds every stratum, and so every source, in proportion to its size, to within
about one piece per stratum; a smaller subset is the start of every larger one (nested); the order
depends on the array alone, never on a run's seed.
"""
from __future__ import annotations

import heapq

import numpy as np

from ..config import SUBSET_ORDERS as ORDERS   # TrainConfig.train_subset_order

STRATA = 32
PIECE = 1024
SEED = 0


def piece_spans(tokens: np.ndarray, eot_id: int | None, piece: int = PIECE) -> np.ndarray:
    """``(start, end)`` of every piece: the texts (each ending just after its separator; a corpus without
    separators is one text) cut into runs of at most ``piece`` tokens."""
    n = len(tokens)
    ends = np.flatnonzero(np.asarray(tokens) == eot_id) + 1 if eot_id is not None else np.array([], dtype=np.int64)
    if not len(ends) or ends[-1] != n:
        ends = np.append(ends, n)
    starts = np.concatenate([[0], ends[:-1]])
    cuts = [np.arange(a, b, piece) for a, b in zip(starts, ends) if b > a]
    first = np.concatenate(cuts) if cuts else np.array([0])
    last = np.append(first[1:], n)
    return np.stack([first, last], axis=1).astype(np.int64)


def stratified_order(spans: np.ndarray, strata: int = STRATA, seed: int = SEED) -> np.ndarray:
    """Indexes of ``spans`` in the order subsets take them (steps 2 and 3 above)."""
    lengths = spans[:, 1] - spans[:, 0]
    total = lengths.sum()
    middle = (spans[:, 0] + spans[:, 1]) / 2
    stratum = np.minimum((middle * strata / max(total, 1)).astype(np.int64), strata - 1)
    rng = np.random.default_rng(seed)
    queues = [rng.permutation(np.flatnonzero(stratum == k)) for k in range(strata)]
    size = [float(lengths[q].sum()) for q in queues]
    spread = _bit_reversed_ranks(strata)
    heap = [(0.0, spread[k], k, 0) for k in range(strata) if len(queues[k])]   # (share taken, tie-break, stratum, next)
    heapq.heapify(heap)
    order = []
    while heap:
        share, tie, k, head = heapq.heappop(heap)
        i = queues[k][head]
        order.append(i)
        if head + 1 < len(queues[k]):
            heapq.heappush(heap, (share + lengths[i] / size[k], tie, k, head + 1))
    return np.array(order, dtype=np.int64)


def _bit_reversed_ranks(n: int) -> list[int]:
    """Rank of each of ``0 … n-1`` in the van der Corput order (bit reversal, for n a power of 2)."""
    bits = max(1, (n - 1).bit_length())
    keys = [int(format(k, f"0{bits}b")[::-1], 2) for k in range(n)]
    return [sorted(keys).index(key) for key in keys]


def nested_subset(tokens: np.ndarray, size: int, eot_id: int | None, order: str = "stratified") -> np.ndarray:
    """The first ``size`` tokens of the split in subset order (``"stratified"``, above) or as stored
    (``"prefix"``)."""
    if order not in ORDERS:
        raise ValueError(f"unknown subset order {order!r} ({', '.join(ORDERS)})")
    if size > len(tokens):
        raise ValueError(f"a subset of {size} tokens exceeds the split's {len(tokens)} tokens")
    if order == "prefix":
        return tokens[:size]
    spans = piece_spans(tokens, eot_id)
    picked, have = [], 0
    for i in stratified_order(spans):
        a, b = spans[i]
        picked.append(np.asarray(tokens[a:min(b, a + size - have)]))
        have += len(picked[-1])
        if have >= size:
            break
    return np.concatenate(picked)
