"""Duplicate removal and n-gram overlap: exact (``dedupe``) and near duplicates (``near_dedupe``).

Near duplicates are found with MinHash + LSH on word-shingle hashes (``shingles``); the same
hashes of word 13-grams measure how much of a text occurs in another set of texts
(``ngram_overlap``), the leakage check the preparation records for every split. Of two copies the
in-distribution, earlier (source, doc id) one always stays.
"""
from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from .sources import Document

NEAR_DUP = dict(shingle_words=5, num_perm=128, seed=1, lsh_threshold=0.5, threshold=0.8, containment=0.8,
                min_shingles=20)


def _keep_order(d: Document):
    """Which copy of a duplicate survives: in-distribution before held-out, then (source, doc id)."""
    return d.split_hint is not None, d.source, d.doc_id


def dedupe(docs: list[Document]) -> tuple[list[Document], Counter]:
    """Drop exact duplicates (same cleaned text), keeping in-distribution copies first.

    Returns the kept documents and the number dropped per source.
    """
    seen, kept, dropped = set(), [], Counter()
    for d in sorted(docs, key=_keep_order):
        h = hashlib.sha256(d.text.encode()).digest()
        if h in seen:
            dropped[d.source] += 1
        else:
            seen.add(h)
            kept.append(d)
    return kept, dropped


_B = 0x100000001B3  # odd, so invertible modulo 2**64
_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[[*range(48, 58), *range(97, 123), 95, *range(128, 256)]] = True  # 0-9 a-z _ and UTF-8 (non-ASCII)


class _Powers:
    """B**k and B**-k modulo 2**64 for k < len, grown on demand."""
    def __init__(self):
        self.pow = self.inv = np.ones(1, dtype=np.uint64)

    def get(self, n: int):
        if len(self.pow) < n:
            n = max(n, 2 * len(self.pow))
            one = np.ones(1, dtype=np.uint64)
            with np.errstate(over="ignore"):  # products wrap around modulo 2**64, as intended
                self.pow = np.concatenate([one, np.cumprod(np.full(n - 1, _B, dtype=np.uint64))])
                self.inv = np.concatenate([one, np.cumprod(np.full(n - 1, pow(_B, -1, 2**64), dtype=np.uint64))])
            assert int(self.pow[-1]) * int(self.inv[-1]) % 2**64 == 1
        return self.pow[:n], self.inv[:n]


def shingles(text: str, n: int = 5, _powers: _Powers | None = None, bits: int = 32) -> np.ndarray:
    """Sorted unique ``bits``-bit (32 or 64) hashes of the word ``n``-grams of the lower-cased text.

    Words are runs of ASCII letters, digits, ``_`` and non-ASCII characters (``\\w+`` for this
    corpus); everything else separates them. A text of fewer than ``n`` words is one shingle; an
    empty text has none. Vectorised and deterministic (a polynomial hash of each word's UTF-8 bytes
    modulo 2**64, then of the ``n`` word hashes, then a 64-to-32-bit finaliser): the same everywhere.
    """
    b = np.frombuffer(text.lower().encode(), dtype=np.uint8)
    word = _WORD_BYTE[b]
    edges = np.flatnonzero(np.diff(np.concatenate([[False], word, [False]]).astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint32 if bits == 32 else np.uint64)
    pw, inv = (_powers or _Powers()).get(len(b) + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum((b.astype(np.uint64) + 1) * pw[:len(b)])])
        w = (prefix[ends] - prefix[starts]) * inv[starts]  # sum of (byte + 1) * B**(k - start) over the word
        k = min(n, len(w))
        h = np.zeros(len(w) - k + 1, dtype=np.uint64)
        for j in range(k):
            h = (h ^ w[j:len(w) - k + 1 + j]) * np.uint64(_B)
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return _sorted_unique(h if bits == 64 else (h & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-based ``np.unique`` is many times slower on these arrays)."""
    x = np.sort(x)
    return x[np.concatenate([[True], x[1:] != x[:-1]])] if len(x) else x


def shingle_set(texts: list[str], n: int = 13) -> np.ndarray:
    """The sorted 64-bit hashes of every word ``n``-gram of ``texts``."""
    powers = _Powers()
    return _sorted_unique(np.concatenate([shingles(t, n, powers, 64) for t in texts] or [np.zeros(0, np.uint64)]))


def ngram_overlap(reference, texts: list[str], n: int = 13) -> np.ndarray:
    """For each of ``texts``, the share of its distinct word ``n``-grams that occur anywhere in
    ``reference`` (texts, or their ``shingle_set``): the usual leakage check between training and test text."""
    ref = reference if isinstance(reference, np.ndarray) else shingle_set(reference, n)
    powers = _Powers()
    out = []
    for t in texts:
        sh = shingles(t, n, powers, 64)
        if len(sh) and len(ref):
            out.append(np.mean(ref[np.minimum(np.searchsorted(ref, sh), len(ref) - 1)] == sh))
        else:
            out.append(0.0)
    return np.array(out)


def near_dedupe(docs: list[Document], threshold: float = NEAR_DUP["threshold"],
                containment: float = NEAR_DUP["containment"], num_perm: int = NEAR_DUP["num_perm"],
                n: int = NEAR_DUP["shingle_words"], seed: int = NEAR_DUP["seed"],
                lsh_threshold: float = NEAR_DUP["lsh_threshold"],
                min_shingles: int = NEAR_DUP["min_shingles"]) -> tuple[list[Document], Counter, list[dict]]:
    """Drop near-duplicate documents: MinHash + MinHashLSH (``datasketch``) on word ``n``-gram shingles.

    Documents are visited in-distribution first, then by (source, doc id). Each is looked up in an
    LSH index of the documents kept so far (Jaccard threshold ``lsh_threshold``, below the final one so
    that copies with added paragraphs are found too); a candidate is confirmed on the exact shingle sets:
    Jaccard similarity >= ``threshold``, or the smaller set (at least ``min_shingles`` shingles) lying
    within the other to at least ``containment``. A confirmed document is dropped. So the
    in-distribution / earlier copy stays, and a held-out document that copies a training-source
    document leaves the held-out set, never the other way.
    Returns the kept documents, the number dropped per source, and one record per dropped document
    (``source, doc_id, split_hint, kept_source, kept_doc_id, jaccard, containment``).
    """
    from datasketch import MinHash, MinHashLSH
    lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
    scheme = "affine32"  # datasketch 2's default: 32-bit affine permutations after a MurmurHash3 finaliser
    perms = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations  # drawn once, from `seed`
    kept, dropped, pairs, sets, powers = [], Counter(), [], {}, _Powers()
    for d in sorted(docs, key=_keep_order):
        sh = shingles(d.text, n, powers)
        m = MinHash(num_perm=num_perm, seed=seed, hashfunc=int, permutations=perms, scheme=scheme)
        m.update_batch(sh.tolist())
        best, best_score = None, (0.0, 0.0)
        for key in sorted(lsh.query(m)) if len(sh) else []:
            other = sets[key]
            inter = len(np.intersect1d(sh, other, assume_unique=True))
            small = min(len(sh), len(other))
            score = (inter / (len(sh) + len(other) - inter), inter / small)  # (Jaccard, containment)
            if (score[0] >= threshold or (score[1] >= containment and small >= min_shingles)) and score > best_score:
                best, best_score = key, score
        if best is not None:
            dropped[d.source] += 1
            k = kept[best]
            pairs.append(dict(source=d.source, doc_id=d.doc_id, split_hint=d.split_hint, kept_source=k.source,
                              kept_doc_id=k.doc_id, jaccard=round(best_score[0], 4),
                              containment=round(best_score[1], 4)))
            continue
        if len(sh):
            lsh.insert(len(kept), m)
            sets[len(kept)] = sh
        kept.append(d)
    return kept, dropped, pairs
