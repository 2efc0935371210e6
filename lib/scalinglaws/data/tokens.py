"""The tokenizer and the encoding: a byte-level BPE trained on the training split, and the texts of a
split written as one ``uint16`` token array with ``<|endoftext|>`` between texts."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .sources import Document

EOT = "<|endoftext|>"
CHUNK_CHARS = 4096  # texts are encoded in pieces of about this size (long plays parallelise badly)


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
    from tqdm import tqdm        # not tqdm.auto: in a notebook without ipywidgets it warns on import (a book page)
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
