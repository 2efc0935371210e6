#!/usr/bin/env bash
# Vendor the book's third-party web assets from npm into _static/vendor/ (git-ignored):
#   - MathJax 3 (tex-mml-chtml.js + the files it loads at run time), so math renders offline;
#   - the Nanum Gothic web font (@fontsource, OFL), so Hangul renders without a system CJK font.
# Idempotent: does nothing when the pinned versions are already in place (stamp file).
# Usage: tools/vendor_assets.sh [--force]
set -euo pipefail

MATHJAX_VERSION=3.2.2
NANUM_VERSION=5.3.0   # @fontsource/nanum-gothic

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/_static/vendor"
STAMP="$VENDOR/.versions"
WANT="mathjax@$MATHJAX_VERSION @fontsource/nanum-gothic@$NANUM_VERSION"

if [[ "${1:-}" != "--force" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" \
      && -f "$VENDOR/mathjax/tex-mml-chtml.js" && -f "$VENDOR/nanum-gothic/400.css" \
      && -f "$VENDOR/nanum-gothic/700.css" ]]; then
  echo "vendor_assets: already present ($WANT) in ${VENDOR#$ROOT/}; nothing to do"
  exit 0
fi

command -v npm >/dev/null || { echo "vendor_assets: npm not found" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "vendor_assets: npm pack $WANT"
(cd "$TMP" && npm pack --silent "mathjax@$MATHJAX_VERSION" "@fontsource/nanum-gothic@$NANUM_VERSION" >/dev/null)
mkdir -p "$TMP/mathjax" "$TMP/nanum"
tar -xzf "$TMP/mathjax-$MATHJAX_VERSION.tgz" -C "$TMP/mathjax"
tar -xzf "$TMP/fontsource-nanum-gothic-$NANUM_VERSION.tgz" -C "$TMP/nanum"

rm -rf "$VENDOR/mathjax" "$VENDOR/nanum-gothic"

# MathJax: the combined component plus what it loads relative to its own URL at run time:
# CHTML web fonts, TeX extensions pulled in by autoload/\require (\boldsymbol, \cancel, mhchem, ...),
# and the accessibility/menu pieces the right-click menu loads on demand.
MJ_SRC="$TMP/mathjax/package/es5"
MJ="$VENDOR/mathjax"
mkdir -p "$MJ/output/chtml" "$MJ/input/tex" "$MJ/input/mml"
cp "$MJ_SRC/tex-mml-chtml.js" "$MJ/"
cp -r "$MJ_SRC/output/chtml/fonts" "$MJ/output/chtml/"
cp -r "$MJ_SRC/input/tex/extensions" "$MJ/input/tex/"
cp -r "$MJ_SRC/input/mml/extensions" "$MJ/input/mml/"
cp -r "$MJ_SRC/a11y" "$MJ_SRC/sre" "$MJ_SRC/ui" "$MJ/"
cp "$TMP/mathjax/package/LICENSE" "$MJ/LICENSE"

# Nanum Gothic 400/700: the css files unchanged, plus every font file they name
# (all unicode-range subsets; woff2 first, woff as the css's own fallback).
NG_SRC="$TMP/nanum/package"
NG="$VENDOR/nanum-gothic"
mkdir -p "$NG/files"
cp "$NG_SRC/400.css" "$NG_SRC/700.css" "$NG_SRC/LICENSE" "$NG/"
n=0
while read -r f; do
  cp "$NG_SRC/$f" "$NG/$f"
  n=$((n + 1))
done < <(grep -oh 'url(\./files/[^)]*)' "$NG/400.css" "$NG/700.css" | sed 's/^url(\.\///; s/)$//' | sort -u)

echo "$WANT" > "$STAMP"
echo "vendor_assets: mathjax $MATHJAX_VERSION -> ${MJ#$ROOT/} ($(du -sh "$MJ" | cut -f1))"
echo "vendor_assets: nanum-gothic $NANUM_VERSION 400/700 css + $n font files -> ${NG#$ROOT/} ($(du -sh "$NG" | cut -f1))"
