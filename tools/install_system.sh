#!/usr/bin/env bash
# Debian packages the project uses, installed only when missing (needs root and apt-get):
#   book:  libtcmalloc-minimal4  (training: glibc's allocator costs 20-70% on small models, README "Speed")
#   test:  chromium               (the real-browser test of the built book)
# Without root or apt-get it says what it would have installed and carries on: training then uses
# glibc's MALLOC_* settings instead of tcmalloc, and the browser test is skipped.
# Usage: tools/install_system.sh book|test
set -euo pipefail
case "${1:-book}" in
  book) want=(libtcmalloc-minimal4) ;;
  test) want=(libtcmalloc-minimal4 chromium) ;;
  *) echo "usage: $0 book|test" >&2; exit 2 ;;
esac
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_system: ${want[*]} already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install_system: not installing ${missing[*]} (needs root and apt-get); continuing without them" >&2
  exit 0
fi
echo "install_system: apt-get install ${missing[*]}"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
