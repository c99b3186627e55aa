#!/usr/bin/env bash
# Build hearth-sphinx, the persistent PocketSphinx decoder (hearth-sphinx.c), against Debian's
# libpocketsphinx-dev. Output: $1, or perception/audio/native/build/hearth-sphinx. Idempotent: skipped
# when the binary is newer than its source. Exits non-zero, saying what to install, when it cannot build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/build/hearth-sphinx}"
src="$here/hearth-sphinx.c"
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then exit 0; fi
if ! command -v cc >/dev/null || ! command -v pkg-config >/dev/null || ! pkg-config --exists pocketsphinx; then
  echo "hearth-sphinx: needs a C compiler, pkg-config and libpocketsphinx-dev (apt-get install gcc pkg-config libpocketsphinx-dev)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
# shellcheck disable=SC2046
cc -O2 -Wall -o "$tmp" "$src" $(pkg-config --cflags --libs pocketsphinx)
mv -f "$tmp" "$out"
