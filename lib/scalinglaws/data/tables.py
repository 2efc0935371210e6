"""The tables the book shows about a prepared corpus, read from its manifest: splits (``describe``),
sources (``describe_sources``), the mix of sources per split (``describe_mix``) and the n-gram
baselines (``describe_baselines``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .split import MAIN_SPLITS

if TYPE_CHECKING:
    from .prepare import PreparedCorpus


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
