"""Static checks on the built HTML book (BeautifulSoup): pages, outputs, figures, languages, tabs,
local MathJax, no external resources, glued values, no chapter stubs left."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup, Comment

pytestmark = pytest.mark.slow

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.I)
URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>)]+", re.I)
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.I)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
XML_NAMESPACE = re.compile(r"^https?://www\.w3\.org/", re.I)
# <link rel=...> values that are navigation, not something the browser fetches
NAV_RELS = {"prev", "next", "index", "search", "canonical", "author", "license", "help",
            "alternate", "copyright", "home", "up", "first", "last", "bookmark"}


# ---------------------------------------------------------------------------- helpers

def _toc_files(repo_root: Path) -> list[str]:
    toc = yaml.safe_load((repo_root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))
            for part in entry.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) for f in files]


def _page(html: Path, doc: str) -> Path:
    return html / f"{doc}.html"


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _article(soup: BeautifulSoup):
    return soup.select_one("article.bd-article") or soup.select_one("main") or soup.body


def _local_target(page: Path, ref: str) -> Path:
    path = unquote(urlsplit(ref).path)
    return (page.parent / path).resolve()


@pytest.fixture(scope="module")
def toc_docs(repo_root):
    return _toc_files(repo_root)


@pytest.fixture(scope="module")
def pages(built_book, toc_docs):
    """{doc: (path, soup)} for every toc page that exists."""
    out = {}
    for doc in toc_docs:
        path = _page(built_book, doc)
        if path.is_file():
            out[doc] = (path, _soup(path))
    return out


# ---------------------------------------------------------------------------- tests

def test_every_toc_page_is_built(built_book, toc_docs):
    missing = [d for d in toc_docs if not _page(built_book, d).is_file()]
    assert not missing, f"toc pages missing from the HTML: {missing}"


def test_no_error_outputs_or_tracebacks(pages):
    bad = []
    for doc, (_, soup) in pages.items():
        for sel in (".output.traceback", ".output.error", ".system-message", ".problematic"):
            if soup.select(sel):
                bad.append(f"{doc}: {sel} x{len(soup.select(sel))}")
        text = _article(soup).get_text(" ")
        if "Traceback" in text:
            bad.append(f"{doc}: 'Traceback' in page text")
    assert not bad, "error outputs in the book:\n" + "\n".join(bad)


def test_images_and_glue_figures_exist(built_book, pages):
    bad = []
    n_img = 0
    for doc, (path, soup) in pages.items():
        for fig in soup.select("figure"):
            if not fig.find(["img", "svg", "object"]):
                bad.append(f"{doc}: figure #{fig.get('id')} has no image")
        for img in soup.find_all("img"):
            src = img.get("src", "")
            if not src or src.startswith("data:"):
                if not src:
                    bad.append(f"{doc}: <img> without src")
                continue
            n_img += 1
            if EXTERNAL.match(src):
                bad.append(f"{doc}: external image {src}")
            elif not _local_target(path, src).is_file():
                bad.append(f"{doc}: missing image {src}")
    assert not bad, "\n".join(bad)
    assert n_img > 0, "no images at all in the book (glue figures missing?)"


def test_hangul_and_english_on_every_page(pages):
    bad = []
    for doc, (_, soup) in pages.items():
        text = _article(soup).get_text(" ")
        n_ko = len(HANGUL.findall(text))
        n_en = len(ENGLISH_WORD.findall(text))
        if n_ko < 10:
            bad.append(f"{doc}: only {n_ko} Hangul syllables in the page body")
        if n_en < 10:
            bad.append(f"{doc}: only {n_en} English words in the page body")
    assert not bad, "\n".join(bad)


def test_language_tab_sets(toc_docs, pages):
    """Chapters carry ko/en tab-sets; any tab-set that has one language has the other too."""
    bad = []
    for doc, (_, soup) in pages.items():
        tab_sets = soup.select("div.sd-tab-set")
        lang_sets = 0
        for i, ts in enumerate(tab_sets):
            ids = {lab.get("data-sync-id") for lab in ts.find_all("label", recursive=False)}
            if ids & {"ko", "en"}:
                lang_sets += 1
                if not {"ko", "en"} <= ids:
                    bad.append(f"{doc}: tab-set #{i} has sync ids {sorted(i for i in ids if i)}, needs ko and en")
        if doc != toc_docs[0] and lang_sets == 0:
            bad.append(f"{doc}: no tab-set with :sync: ko / :sync: en")
    assert not bad, "\n".join(bad)


def test_mathjax_is_local(built_book):
    found = []
    for path in sorted(built_book.rglob("*.html")):
        if "_static" in path.relative_to(built_book).parts:
            continue
        soup = _soup(path)
        for s in soup.find_all("script", src=True):
            if "mathjax" in s["src"].lower():
                src = s["src"]
                assert not EXTERNAL.match(src), f"{path.name}: MathJax from {src}"
                assert _local_target(path, src).is_file(), f"{path.name}: MathJax file missing: {src}"
                found.append(path)
    assert found, "no page loads MathJax (no math in the book?)"
    fonts = built_book / "_static" / "vendor" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), f"MathJax CHTML fonts missing under {fonts}"


def _css_refs(css: str) -> list[str]:
    css = CSS_COMMENT.sub("", css)
    refs = [a or b or c for a, b, c in CSS_URL.findall(css)]
    refs += CSS_IMPORT.findall(css)
    return list(dict.fromkeys(r for r in refs if r and not r.startswith(("data:", "#"))))


def test_no_external_resources(built_book):
    bad = []
    for path in sorted(built_book.rglob("*.html")):
        rel = path.relative_to(built_book)
        if rel.parts[0] in ("_static", "_sources"):
            continue
        soup = _soup(path)
        refs = []
        for tag in soup.find_all(["script", "img", "iframe", "embed", "source", "audio", "video", "track", "input"]):
            for attr in ("src", "poster"):
                if tag.get(attr):
                    refs.append((tag.name, tag[attr]))
            if tag.get("srcset"):
                refs += [(tag.name, part.split()[0]) for part in tag["srcset"].split(",") if part.strip()]
        for tag in soup.find_all("object", data=True):
            refs.append(("object", tag["data"]))
        for tag in soup.find_all("link", href=True):
            rels = set(tag.get("rel") or [])
            if not rels or not rels <= NAV_RELS:
                refs.append((f"link rel={'/'.join(sorted(rels))}", tag["href"]))
        for tag in soup.find_all(style=True):
            refs += [("style attr", r) for r in _css_refs(tag["style"])]
        for tag in soup.find_all("style"):
            refs += [("<style>", r) for r in _css_refs(tag.get_text())]
        for tag in soup.find_all("script", src=False):
            for url in URL_IN_TEXT.findall(tag.get_text()):
                if not XML_NAMESPACE.match(url):
                    refs.append(("inline script", url))
        bad += [f"{rel}: {kind} -> {ref}" for kind, ref in refs if EXTERNAL.match(ref)]

    for css in sorted(built_book.rglob("*.css")):
        rel = css.relative_to(built_book)
        for ref in _css_refs(css.read_text(encoding="utf-8", errors="replace")):
            if EXTERNAL.match(ref):
                bad.append(f"{rel}: css url -> {ref}")
            elif not _local_target(css, ref).is_file():
                bad.append(f"{rel}: css url to a missing file -> {ref}")
    assert not bad, "external or broken resources in the built site:\n" + "\n".join(bad[:50])


def test_glued_text_is_filled(pages):
    bad = []
    for doc, (_, soup) in pages.items():
        for i, el in enumerate(soup.select(".pasted-text")):
            if not el.get_text(strip=True):
                bad.append(f"{doc}: .pasted-text #{i} is empty")
    assert not bad, "\n".join(bad)


def test_no_chapter_stubs_left(pages):
    stubs = []
    for doc, (path, soup) in pages.items():
        if any("STUB" in c for c in soup.find_all(string=lambda s: isinstance(s, Comment))):
            stubs.append(doc)
    assert not stubs, (
        "placeholder pages still in the book (first line '<!-- STUB: replaced by the chapter author -->'): "
        + ", ".join(f"{d}.md" for d in stubs)
    )
