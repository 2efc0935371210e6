"""Static checks on the built HTML book (BeautifulSoup): pages, outputs, figures, languages, tabs,
local MathJax, no external resources, glued values, no chapter stubs left.

Glue: every toc page whose source uses ``{glue:text}`` must render at least that many non-empty
``.pasted-text`` elements, and every chapter (every toc page but the root) must glue its numbers.

Stubs: a placeholder chapter is a toc page whose source carries the stub marker, an HTML comment
starting with ``STUB`` (``<!-- STUB: replaced by the chapter author -->``), or whose rendered
article says it is unfinished (TODO, FIXME, TBD, "placeholder", "lorem ipsum", "coming soon",
"to be written", 작성 중, 준비 중, 작성 예정).  ``test_no_chapter_stubs_left`` runs last (conftest).
"""
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
# {glue:text}`key` and the bare {glue}`key` role; both render as <span class="pasted-text">
GLUE_TEXT_ROLE = re.compile(r"\{glue(?::text)?\}`[^`]+`")
ANY_GLUE = re.compile(r"\{glue(?::\w+)?\}")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\S*)")
CODE_DIRECTIVES = ("{code-cell}", "{code-block}", "{code}", "{sourcecode}")
# the stub marker in a chapter's source, and words that say a rendered page is unfinished
STUB_MARKER = re.compile(r"<!--\s*STUB\b")
STUB_WORDS = re.compile(r"\b(?:TODO|FIXME|TBD)\b")
STUB_PHRASES = re.compile(r"\b(?:placeholder|lorem ipsum|coming soon|to be written)\b|작성\s?중|준비\s?중|작성\s?예정",
                          re.I)
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


def _prose(source: str) -> str:
    """A MyST source without its code: code cells and plain code fences dropped, directives
    (```{glue:figure} ...) kept."""
    keep, stack = [], []          # open fences: (marker, is_code)
    for line in source.splitlines():
        m = FENCE.match(line)
        in_code = any(code for _, code in stack)
        if m:
            marker, info = m.groups()
            if stack and not info and marker[0] == stack[-1][0][0] and len(marker) >= len(stack[-1][0]):
                _, code = stack.pop()
                if not code and not in_code:
                    keep.append(line)
                continue
            if not in_code:
                code = not info.startswith("{") or info in CODE_DIRECTIVES
                stack.append((marker, code))
                if not code:
                    keep.append(line)
                continue
        if not in_code:
            keep.append(line)
    return "\n".join(keep)


def _source(repo_root: Path, doc: str) -> str:
    for suffix in (".md", ".ipynb", ".rst"):
        path = repo_root / f"{doc}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise AssertionError(f"no source file for toc entry {doc!r}")


def stub_reasons(source: str, soup: BeautifulSoup) -> list[str]:
    """Why a page looks like a placeholder chapter (empty list: it does not)."""
    reasons = []
    if STUB_MARKER.search(source):
        reasons.append("source carries the <!-- STUB ... --> marker")
    comments = [c for c in soup.find_all(string=lambda t: isinstance(t, Comment)) if c.strip().startswith("STUB")]
    if comments:
        reasons.append(f"rendered page carries a STUB comment: {comments[0].strip()[:60]!r}")
    article = _article(soup)
    text = article.get_text(" ") if article else ""
    words = sorted(set(STUB_WORDS.findall(text)) | set(STUB_PHRASES.findall(text)))
    if words:
        reasons.append(f"article text says {words}")
    return reasons


def _local_target(page: Path, ref: str) -> Path:
    path = unquote(urlsplit(ref).path)
    return (page.parent / path).resolve()


@pytest.fixture(scope="module")
def toc_docs(repo_root):
    return _toc_files(repo_root)


@pytest.fixture(scope="module")
def pages(built_book, toc_docs):
    """{doc: (path, soup)} for every toc page; a page missing from the HTML fails every test that reads pages."""
    missing = [d for d in toc_docs if not _page(built_book, d).is_file()]
    assert toc_docs and not missing, f"toc pages missing from the HTML: {missing} (toc: {toc_docs})"
    return {doc: (_page(built_book, doc), _soup(_page(built_book, doc))) for doc in toc_docs}


@pytest.fixture(scope="module")
def sources(repo_root, toc_docs):
    """{doc: MyST source} for every toc page."""
    return {doc: _source(repo_root, doc) for doc in toc_docs}


# ---------------------------------------------------------------------------- tests

def test_every_toc_page_is_built(built_book, toc_docs):
    assert len(toc_docs) >= 2, f"_toc.yml lists {toc_docs}: no chapters"
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


def test_no_dollar_math_is_left_unrendered(pages):
    """Math reaches MathJax as math nodes: ``$...$`` left as text (e.g. glued Markdown rendered as CommonMark, not
    as MyST with its dollarmath: write ``{glue:md}`key:myst` ``) shows the reader raw TeX."""
    import copy
    import re
    raw = {}
    for doc, (_, soup) in pages.items():
        article = copy.copy(_article(soup))
        for node in article.select("pre, code, script, .math, .highlight"):
            node.decompose()
        if found := re.findall(r"\$[^$\n]{1,80}\$", article.get_text(" ")):
            raw[doc] = found[:5]
    assert not raw, f"raw $...$ in rendered prose: {raw}"


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
    html_files = sorted(built_book.rglob("*.html"))
    css_files = sorted(built_book.rglob("*.css"))
    assert html_files and css_files, f"nothing to check under {built_book}"
    for path in html_files:
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

    for css in css_files:
        rel = css.relative_to(built_book)
        for ref in _css_refs(css.read_text(encoding="utf-8", errors="replace")):
            if EXTERNAL.match(ref):
                bad.append(f"{rel}: css url -> {ref}")
            elif not _local_target(css, ref).is_file():
                bad.append(f"{rel}: css url to a missing file -> {ref}")
    assert not bad, "external or broken resources in the built site:\n" + "\n".join(bad[:50])


def glue_problems(doc: str, source: str, soup: BeautifulSoup) -> list[str]:
    """What is wrong with a page's glued text: fewer .pasted-text elements than the source's
    {glue:text} roles, or an empty one (empty list: nothing)."""
    wanted = len(GLUE_TEXT_ROLE.findall(_prose(source)))
    pasted = soup.select(".pasted-text")
    bad = []
    if len(pasted) < wanted:
        bad.append(f"{doc}: source has {wanted} {{glue:text}} roles, page renders {len(pasted)} .pasted-text")
    bad += [f"{doc}: .pasted-text #{i} is empty" for i, el in enumerate(pasted) if not el.get_text(strip=True)]
    return bad


def test_every_chapter_glues_its_numbers(toc_docs, sources):
    glued = [d for d in toc_docs if ANY_GLUE.search(_prose(sources[d]))]
    chapters = toc_docs[1:]
    assert chapters, "no chapters in _toc.yml"
    unglued = [d for d in chapters if d not in glued]
    assert not unglued, f"chapters whose source glues nothing (numbers typed, not computed?): {unglued}"


def test_glued_text_is_filled(pages, sources):
    glued = {d: src for d, src in sources.items() if GLUE_TEXT_ROLE.search(_prose(src))}
    assert glued, "no toc page uses {glue:text}"
    bad = []
    for doc, src in glued.items():
        bad += glue_problems(doc, src, pages[doc][1])
    assert not bad, "\n".join(bad)


# a page as the book renders it, and the same page as a stub
_PAGE_HTML = """<html><body><!-- sidebar --><article class="bd-article"><h1>L(D) 데이터 크기 / data size</h1>
<div class="sd-tab-set"><p>참조 결과는 실행 <span class="pasted-text">{n}</span>개입니다. 다른 장은 뒤이어 나올 예정입니다.</p>
<p>The reference results are <span class="pasted-text">{n}</span> runs.</p>{extra}</div>
<div class="cell_input"><pre>glue("n", 7, display=False)</pre></div></article></body></html>"""
_SOURCE = ("---\njupytext: {{}}\n---\n{marker}# L(D)\n\n```{{code-cell}} ipython3\nglue('n', 7)  # {{glue:text}}`n`\n```\n"
           "```{{glue:figure}} fig\nA caption.\n```\n\n````{{note}}\n```python\n{{glue:text}}`n`\n```\n````\n"
           "실행 {{glue:text}}`n`개 / {{glue:text}}`n` runs\n")


def test_checks_fire_on_fake_pages():
    """The glue and stub checks pass a good page and catch a bad one (no book build needed)."""
    good = BeautifulSoup(_PAGE_HTML.format(n="7", extra=""), "html.parser")
    source = _SOURCE.format(marker="")
    prose = _prose(source)
    assert prose.count("{glue:text}") == 2                # the ones in code blocks do not count
    assert "{glue:figure}" in prose and "A caption." in prose and "{note}" in prose
    assert glue_problems("good", source, good) == []
    assert stub_reasons(source, good) == []

    empty = BeautifulSoup(_PAGE_HTML.format(n=" ", extra=""), "html.parser")
    assert len(glue_problems("empty", source, empty)) == 2
    unglued = BeautifulSoup(_PAGE_HTML.format(n="7", extra="").replace("pasted-text", "x"), "html.parser")
    assert "renders 0 .pasted-text" in glue_problems("unglued", source, unglued)[0]

    marked = _SOURCE.format(marker="<!-- STUB: replaced by the chapter author -->\n")
    assert stub_reasons(marked, good) == ["source carries the <!-- STUB ... --> marker"]
    rendered_marker = BeautifulSoup(_PAGE_HTML.format(n="7", extra="<!-- STUB: replaced -->"), "html.parser")
    assert "STUB comment" in stub_reasons(source, rendered_marker)[0]
    for words in ("TODO: write this chapter.", "This page is a placeholder.", "이 장은 작성 중입니다.",
                  "Coming soon.", "준비 중"):
        stub = BeautifulSoup(_PAGE_HTML.format(n="7", extra=f"<p>{words}</p>"), "html.parser")
        assert stub_reasons(source, stub), f"stub text {words!r} not caught"
    # prose that merely contains the letters is not a stub
    ok = BeautifulSoup(_PAGE_HTML.format(n="7", extra="<p>Todos los modelos; the stubby tail; 작성했습니다.</p>"),
                       "html.parser")
    assert stub_reasons(source, ok) == []


def test_no_chapter_stubs_left(pages, sources):
    stubs = {doc: stub_reasons(sources[doc], soup) for doc, (_, soup) in pages.items()}
    stubs = {doc: why for doc, why in stubs.items() if why}
    assert not stubs, "placeholder pages still in the book:\n" + "\n".join(
        f"{doc}: {'; '.join(why)}" for doc, why in stubs.items())


def test_no_table_is_built_and_dropped(repo_root):
    """``show(...)`` returns a styled table, and a cell displays only its last expression: a table built earlier
    in a cell without ``display`` vanishes from the page without an error. Checked on the sources, every chapter."""
    import ast
    dropped = []
    for path in sorted((repo_root / "book").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for cell in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S):
            code = "\n".join("" if line.startswith((":", "%")) else line for line in cell.group(1).split("\n"))
            body = ast.parse(code).body
            for stmt in body[:-1]:
                if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                        and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id in ("show", "pivot")):
                    line = text[:cell.start()].count("\n") + 1 + stmt.lineno
                    dropped.append(f"{path.name}:{line}")
    assert not dropped, f"tables built but never displayed (wrap them in display(...)): {dropped}"
