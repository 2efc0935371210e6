"""Preparation: the versioned folder of a corpus, its manifest, and ``PreparedCorpus`` to open it.

``prepare_corpus`` runs the steps of ``scalinglaws.data`` in a temporary folder (``_build``) and
renames it when done. The folder's name carries ``corpus_key``: a hash of ``DATA_FORMAT_VERSION``
and of the versions of the packages the corpus is read from (``source_packages``).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np

from .. import __version__
from ..paths import data_root
from .duplicates import NEAR_DUP, dedupe, near_dedupe, ngram_overlap, shingle_set
from .sources import BROWN_VERSION, CORPUS_PIP, SOURCES, _npm_package, load_documents
from .split import FRACTIONS, MAIN_SPLITS, SECTION_CHARS, assign_sections, join_sections
from .tokens import EOT, chunk, encode_docs, train_tokenizer

# Bump whenever the preparation changes what ends up in a corpus folder (it is part of the folder's key).
# 1: document split (folders named <slug>-v<V>-s<seed>). 2: near-duplicates removed, stratified section split,
# probe_folio / ood_brown, held-out 13-gram overlap check, n-gram baselines.
DATA_FORMAT_VERSION = 3

OVERLAP_N = 13  # the leakage check in the manifest counts shared word 13-grams (as GPT-3's contamination study)
HELD_OUT_MAX_OVERLAP = 0.5  # val/test sections and held-out texts with at least this share of their 13-grams in
                            # the training split leave
BASELINE_MAX_TRAIN_TOKENS = 50_000_000  # n-gram baselines are fitted on at most this many training tokens


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
    ``{"hash", "data_format_version", "packages", "tools"}``: the preparation code's version, the version of
    every package a source is read from, and of the tokenizer and near-duplicate libraries. Local files are
    keyed by their path (in the slug), not their content: prepare again after editing them."""
    packages = source_packages(spec)
    tools = {name: _version(name) for name in ("tokenizers", "datasketch")}   # they shape the tokens too
    blob = json.dumps(dict(data_format_version=DATA_FORMAT_VERSION, packages=packages, tools=tools), sort_keys=True)
    return dict(hash=hashlib.sha256(blob.encode()).hexdigest()[:8], data_format_version=DATA_FORMAT_VERSION,
                packages=packages, tools=tools)


def corpus_dirname(spec: str = "default", vocab_size: int = 4096, seed: int = 1234, text_field: str = "text") -> str:
    """``<slug>-<key>-v<vocab>-s<seed>``: the folder ``prepare_corpus`` uses under the data root."""
    return f"{corpus_slug(spec, text_field)}-{corpus_key(spec, text_field)['hash']}-v{vocab_size}-s{seed}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# what a manifest says about when and how fast it was made, not about the corpus: two preparations of one corpus on
# two machines differ only here
VOLATILE_MANIFEST_KEYS = ("created", "seconds", "step_seconds")


def manifest_identity(manifest: dict) -> str:
    """A digest of what a corpus manifest says about the corpus (``VOLATILE_MANIFEST_KEYS`` left out): equal for two
    preparations of the same corpus, so records trained on either can be compared with one committed copy."""
    kept = {k: v for k, v in manifest.items() if k not in VOLATILE_MANIFEST_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def folder_manifest_identity(folder) -> str | None:
    """``manifest_identity`` of a prepared corpus folder's manifest, or None where the folder has none (an
    in-memory corpus)."""
    try:
        return manifest_identity(json.loads((Path(folder) / "manifest.json").read_text()))
    except (OSError, ValueError):
        return None


def _is_complete(folder: Path) -> bool:
    """True when the manifest exists and every file it lists has the recorded size."""
    try:
        m = json.loads((folder / "manifest.json").read_text())
        return all((folder / name).stat().st_size == size for name, size in m["file_sizes"].items())
    except (OSError, ValueError, KeyError):
        return False


class ArrayCorpus:
    """Token arrays held in memory, with the interface training uses (``vocab_size``, ``splits``,
    ``tokens(split)``, ``path``, ``eot_id``: None when the arrays have no text separator): for benchmarks
    and tests that need no prepared folder."""

    def __init__(self, arrays: dict, vocab_size: int, path: str = "<in memory>", eot_id: int | None = None):
        self._arrays = dict(arrays)
        self.vocab_size, self.eot_id = vocab_size, eot_id
        self.splits = tuple(self._arrays)
        self.path = Path(path)

    def tokens(self, split: str) -> np.ndarray:
        if split not in self._arrays:
            raise KeyError(f"unknown split {split!r}; this corpus has {self.splits}")
        return self._arrays[split]


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
    """Prepare (or reuse) ``<root>/<slug>-<key>-v<vocab_size>-s<seed>/`` and open it.

    The steps are those listed in the package docstring (``scalinglaws.data``)."""
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


def _build(out: Path, spec, vocab_size, seed, text_field, allow_network, progress, hf_cache: Path, key: dict):
    """Do the work of ``prepare_corpus`` inside the temporary folder ``out``."""
    from ..ngram import baselines
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
    # Leakage check: the share of each text's word 13-grams found in the training split. Validation and
    # test sections that are mostly training text (a passage repeated in another document) leave before
    # their sections are joined; so do held-out texts (a 1961 Brown sample quoting a State of the Union address).
    train_set = shingle_set([d.text for d in join_sections(sections["train"])], OVERLAP_N)
    sections_dropped = {}
    for name in [n for n in MAIN_SPLITS if n != "train" and n in sections]:
        share = ngram_overlap(train_set, [x.text for x in sections[name]], OVERLAP_N)
        kept = [x for x, a in zip(sections[name], share) if a < HELD_OUT_MAX_OVERLAP]
        sections_dropped[name] = len(sections[name]) - len(kept)
        sections[name] = kept
    splits = {name: join_sections(secs) for name, secs in sections.items() if secs}
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
                 f"occur in the training split: mean, max, and how many texts reach 50% and 90%; validation and "
                 f"test sections at {HELD_OUT_MAX_OVERLAP:.0%} or more were dropped before joining "
                 f"(sections_dropped), and so were held-out texts (sources[...]['overlap_dropped'])",
            n=OVERLAP_N, held_out_max=HELD_OUT_MAX_OVERLAP, dropped=sum(overlap_dropped.values()),
            sections_dropped=sections_dropped, splits=overlap),
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
