"""The built book in a real browser: Debian's Chromium driven by Playwright, served over loopback.

Checks the L(N) chapter: Korean tab by default, the English tab switches every synced tab-set,
images load, MathJax typesets, Hangul is drawn with the vendored Nanum Gothic web font, and no
request leaves 127.0.0.1. Full-page screenshots of both language states go to
<repo>/_build/screenshots/ for a human look.

Never run `playwright install`: the browser is the system one at /usr/bin/chromium.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
PAGE = "book/loss_vs_params.html"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")

# State of every tab-set: the checked label's sync id and the text of the panel actually shown.
TAB_STATE_JS = """() => Array.from(document.querySelectorAll('.sd-tab-set')).map((ts) => {
  const labels = Array.from(ts.querySelectorAll(':scope > label'));
  const checked = ts.querySelector(':scope > input:checked');
  const label = checked ? ts.querySelector(`:scope > label[for="${checked.id}"]`) : null;
  const shown = Array.from(ts.querySelectorAll(':scope > .sd-tab-content'))
    .filter((c) => getComputedStyle(c).display !== 'none' && c.getClientRects().length > 0);
  return {
    ids: labels.map((l) => l.dataset.syncId || null),
    checked: label ? (label.dataset.syncId || null) : null,
    shown: shown.map((c) => c.innerText),
  };
})"""


# true once every tab-set with an "en" label has its English tab checked
ALL_ENGLISH_JS = """() => Array.from(document.querySelectorAll('.sd-tab-set'))
  .filter((ts) => ts.querySelector(':scope > label[data-sync-id="en"]'))
  .every((ts) => {
    const checked = ts.querySelector(':scope > input:checked');
    const label = checked && ts.querySelector(`:scope > label[for="${checked.id}"]`);
    return label && label.dataset.syncId === 'en';
  })"""


def _wait(page, js: str, what: str) -> None:
    """page.wait_for_function, failing with `what` instead of a bare Playwright timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(js)
    except PlaywrightTimeout:
        pytest.fail(what, pytrace=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def site_url(built_book):
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def visit(site_url, built_book, repo_root):
    """Open the L(N) chapter once, walk through both language states, and record what was seen."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package `chromium`); browser checks skipped")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    page_rel = PAGE
    if not (built_book / page_rel).is_file():
        pytest.fail(f"{page_rel} is not in the built book {built_book}: the browser checks need the L(N) chapter",
                    pytrace=False)
    shots = repo_root / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    stem = Path(page_rel).stem
    seen: dict = {"page": page_rel, "requests": [], "bad_responses": [], "failed": [], "errors": []}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ko-KR")
            page = context.new_page()
            page.set_default_timeout(30_000)
            context.on("request", lambda r: seen["requests"].append(r.url))
            context.on("requestfailed", lambda r: seen["failed"].append(f"{r.url} ({r.failure})"))
            context.on("response", lambda r: r.status >= 400 and seen["bad_responses"].append(f"{r.status} {r.url}"))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))

            response = page.goto(f"{site_url}/{page_rel}", wait_until="networkidle")
            if response is None or response.status != 200:
                pytest.fail(f"{page_rel}: HTTP {response and response.status} from the local server", pytrace=False)
            # MathJax 3: wait for the startup typeset to finish
            _wait(page, "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                  f"{page_rel}: MathJax never started (window.MathJax.startup.promise missing)")
            page.evaluate("() => MathJax.startup.promise")
            seen["mjx"] = page.locator("mjx-container").count()

            # fonts
            page.evaluate("() => document.fonts.ready")
            seen["tabs_ko"] = page.evaluate(TAB_STATE_JS)
            seen["hangul_font"] = page.evaluate("""() => {
              const els = Array.from(document.querySelectorAll('article p, article h1, article li'));
              const el = els.find((e) => /[\\uac00-\\ud7a3]/.test(e.innerText) && e.getClientRects().length > 0);
              if (!el) return null;
              el.setAttribute('data-test-hangul', '1');
              return {text: el.innerText.slice(0, 60), family: getComputedStyle(el).fontFamily};
            }""")
            seen["fonts_check"] = page.evaluate("""async () => {
              await document.fonts.load('16px "Nanum Gothic"', '가나다');
              await document.fonts.ready;
              return document.fonts.check('16px "Nanum Gothic"', '가나다');
            }""")
            seen["nanum_faces_loaded"] = page.evaluate(
                """() => Array.from(document.fonts).filter(
                     (f) => f.family.replace(/["']/g, '') === 'Nanum Gothic' && f.status === 'loaded').length""")
            # which font Chromium actually drew the Hangul with (DevTools protocol)
            seen["platform_fonts"] = []
            if seen["hangul_font"]:
                cdp = context.new_cdp_session(page)
                cdp.send("DOM.enable")
                cdp.send("CSS.enable")
                root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
                node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-test-hangul]"})["nodeId"]
                seen["platform_fonts"] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            page.screenshot(path=str(shots / f"{stem}-ko.png"), full_page=True)

            # switch to English with the first tab-set's label; sphinx-design syncs the others
            english = page.locator(".sd-tab-set > label", has_text="English")
            seen["english_labels"] = english.count()
            seen["tabs_en"] = []      # no label: test_english_tab_switches_every_set fails and says so
            if seen["english_labels"]:
                english.first.click()
                # wait until the click has switched every synced tab-set (or give up: the test reports which not)
                try:
                    page.wait_for_function(ALL_ENGLISH_JS, timeout=5_000)
                except PlaywrightTimeout:
                    pass
                seen["tabs_en"] = page.evaluate(TAB_STATE_JS)
            page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_load_state("networkidle")
            seen["images"] = page.evaluate("""() => Array.from(document.images).map(
                (i) => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0}))""")
            # back to the top, no focus ring / skip link, so the screenshot shows the page as a reader sees it
            page.evaluate("() => { window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); }")
            page.mouse.move(0, 0)
            page.wait_for_timeout(200)
            page.screenshot(path=str(shots / f"{stem}-en.png"), full_page=True)
            seen["screenshots"] = [shots / f"{stem}-ko.png", shots / f"{stem}-en.png"]
            context.close()
        finally:
            browser.close()
    return seen


def _lang_sets(states):
    return [s for s in states if {"ko", "en"} <= set(s["ids"])]


def test_korean_tab_is_default(visit):
    sets = _lang_sets(visit["tabs_ko"])
    assert sets, f"{visit['page']}: no ko/en tab-set"
    for i, s in enumerate(sets):
        assert s["checked"] == "ko", f"tab-set {i}: {s['checked']!r} selected by default, expected ko"
        text = " ".join(s["shown"])
        assert HANGUL.search(text), f"tab-set {i}: shown panel has no Hangul: {text[:80]!r}"


def test_english_tab_switches_every_set(visit):
    assert visit["english_labels"], f"{visit['page']}: no tab label 'English' (.sd-tab-set > label) to click"
    sets = _lang_sets(visit["tabs_en"])
    n_ko = len(_lang_sets(visit["tabs_ko"]))
    assert sets, f"{visit['page']}: no ko/en tab-set after clicking English"
    assert len(sets) == n_ko, f"{n_ko} ko/en tab-sets before the click, {len(sets)} after"
    for i, s in enumerate(sets):
        assert s["checked"] == "en", f"tab-set {i} stayed on {s['checked']!r} after clicking English"
        text = " ".join(s["shown"])
        assert len(ENGLISH_WORD.findall(text)) >= 3, f"tab-set {i}: shown panel is not English: {text[:80]!r}"
        assert not HANGUL.search(text), f"tab-set {i}: Korean still visible: {text[:80]!r}"


def test_images_load(visit):
    assert visit["images"], f"{visit['page']}: no <img> on the page"
    broken = [i["src"] for i in visit["images"] if not i["ok"]]
    assert not broken, f"images with naturalWidth 0: {broken}"


def test_mathjax_typesets(visit):
    assert visit["mjx"] > 0, "no mjx-container: MathJax did not typeset"


def test_hangul_uses_nanum_gothic(visit):
    assert visit["fonts_check"], 'document.fonts.check(\'16px "Nanum Gothic"\', "가나다") is false'
    assert visit["nanum_faces_loaded"] > 0, "no Nanum Gothic font face loaded"
    hf = visit["hangul_font"]
    assert hf, "no visible Hangul text element found"
    assert "Nanum Gothic" in hf["family"], f"computed font-family of {hf['text']!r}: {hf['family']}"
    drawn = {f["familyName"]: f["glyphCount"] for f in visit["platform_fonts"]}
    assert drawn, f"DevTools reported no platform fonts for {hf['text']!r}"
    assert any("Nanum" in name and n > 0 for name, n in drawn.items()), (
        f"Hangul in {hf['text']!r} was drawn with {drawn}, not the Nanum Gothic web font")


def test_no_request_leaves_loopback(visit):
    assert any(url.endswith(visit["page"]) for url in visit["requests"]), (
        f"request log does not contain the page itself ({len(visit['requests'])} requests recorded)")
    outside = []
    for url in visit["requests"]:
        parts = urlsplit(url)
        if parts.scheme in ("data", "about", "blob", "file"):
            continue
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == "127.0.0.1":
            continue
        outside.append(url)
    assert not outside, f"requests left the loopback: {outside}"
    assert not visit["failed"], f"failed requests: {visit['failed']}"
    assert not visit["bad_responses"], f"HTTP errors (missing vendored files?): {visit['bad_responses']}"


def test_no_javascript_errors(visit):
    assert not visit["errors"], f"uncaught JavaScript errors: {visit['errors']}"


def test_screenshots_written(visit):
    assert len(visit["screenshots"]) == 2, visit["screenshots"]
    for shot in visit["screenshots"]:
        assert shot.is_file() and shot.stat().st_size > 20_000, f"screenshot missing or blank: {shot}"


# every table in the article whose nearest scrolling box is wider inside than out: a sideways scroll bar
TABLE_OVERFLOW_JS = """() => Array.from(document.querySelectorAll('article table')).map((t) => {
  let box = t.parentElement;
  while (box && box.tagName !== 'ARTICLE' && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
  const th = t.querySelector('th');
  return {head: th ? th.innerText : '', inner: box.scrollWidth, outer: box.clientWidth};
}).filter((r) => r.inner > r.outer + 1)"""


def test_no_table_needs_a_sideways_scroll_bar(site_url, built_book):
    """Tables for readers fit the text column of every chapter at a laptop's width (1,200 px)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package `chromium`); browser checks skipped")
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(built_book).as_posix() for p in (built_book / "book").glob("*.html"))
    assert pages, f"no chapter pages under {built_book / 'book'}"
    wide = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            for rel in pages:
                page.goto(f"{site_url}/{rel}", wait_until="networkidle")
                if found := page.evaluate(TABLE_OVERFLOW_JS):
                    wide[rel] = [f"{r['head']!r}: {r['inner']} px in {r['outer']} px" for r in found]
        finally:
            browser.close()
    assert not wide, f"tables wider than the text column at 1,200 px: {wide}"
