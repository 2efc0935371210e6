"""The split by section, stratified by source: which text goes to train, val, test or a held-out split.

Documents are cut into sections (``section_spans``); within each source a seeded hash
(``split_unit``) orders them, and ``assign_sections`` gives each split its share of the source's
bytes. ``join_sections`` joins sections that are consecutive in one document back into one text.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from .sources import Document

FRACTIONS = {"val": 0.05, "test": 0.05}  # of each source's bytes; the rest is train
SECTION_CHARS = 6000  # sections of about this many characters (~1.6k tokens at ~3.6 bytes per token)
MAIN_SPLITS = ("train", "val", "test")  # the in-distribution splits; held-out ones are named by `split_hint`


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
