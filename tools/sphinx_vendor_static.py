"""Sphinx extension: keep vendored web assets out of every page's <script>/<link> list.

Jupyter Book 1 (jupyter_book/config.py, ``get_final_config``) walks ``_static/`` recursively and
appends *every* ``*.js`` and ``*.css`` it finds to ``html_js_files`` / ``html_css_files``. For the
files that tools/vendor_assets.sh puts in ``_static/vendor/`` that would load MathJax twice and
every on-demand MathJax extension (a11y, speech rules, TeX packages) as a script on every page.

This drops ``vendor/...`` entries again. MathJax is still loaded once, by Sphinx's mathjax
extension (``mathjax_path``), and the Nanum Gothic css through ``@import`` in ``_static/ko-fonts.css``.
Enabled from _config.yml: ``sphinx.local_extensions: {sphinx_vendor_static: tools/}``.
"""

from __future__ import annotations

VENDOR_PREFIX = "vendor/"


def _name(entry) -> str:
    return entry[0] if isinstance(entry, (tuple, list)) else entry


def _drop_vendor(app, config) -> None:
    for key in ("html_js_files", "html_css_files"):
        entries = list(getattr(config, key) or [])
        kept = [e for e in entries if not _name(e).replace("\\", "/").startswith(VENDOR_PREFIX)]
        if len(kept) != len(entries):
            setattr(config, key, kept)


def setup(app):
    app.connect("config-inited", _drop_vendor, priority=100)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
