#!/usr/bin/env bash
# Build data/native/hearth-stage, the exporter's native SQLite → DuckDB stager (see data/README.md,
# "Export: the native stager"). It links the SQLite amalgamation better-sqlite3 ships (the same SQLite
# version the rest of Hearth uses) and the libduckdb.so that @duckdb/node-bindings ships, so it needs
# only a C/C++ compiler. Idempotent: skipped when the binary is newer than its sources.
# Without a compiler, `hearth export` still works through better-sqlite3 (slower) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

out=data/native/build
bin=$out/hearth-stage
src=data/native/hearth-stage.cc
amalg=node_modules/better-sqlite3/deps/sqlite3
duckdir=$(ls -d node_modules/@duckdb/node-bindings-linux-*/ 2>/dev/null | head -n 1 || true)
duckdir=${duckdir%/}

if [ -z "$duckdir" ] || [ ! -f "$duckdir/libduckdb.so" ] || [ ! -f "$amalg/sqlite3.c" ]; then
  echo "[build-native] skipped: libduckdb.so or the SQLite amalgamation not found (npm packages missing?)" >&2
  exit 0
fi
if ! command -v g++ >/dev/null || ! command -v gcc >/dev/null; then
  echo "[build-native] skipped: no C/C++ compiler (install g++); hearth export falls back to its JS reader" >&2
  exit 0
fi
if [ -x "$bin" ] && [ "$bin" -nt "$src" ] && [ "$bin" -nt "$amalg/sqlite3.c" ] && [ "$bin" -nt "$0" ]; then
  echo "[build-native] hearth-stage up to date"
  exit 0
fi
mkdir -p "$out"
echo "[build-native] compiling hearth-stage (SQLite amalgamation, about a minute)"
# SQLite as better-sqlite3 builds it, minus what a read-only stager never uses.
gcc -O2 -c "$amalg/sqlite3.c" -o "$out/sqlite3.o" -I"$amalg" \
  -DSQLITE_THREADSAFE=0 -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_LOAD_EXTENSION \
  -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_DQS=0 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS
# rpath relative to the binary: the package folder can move.
rel=$(realpath --relative-to="$out" "$duckdir")
g++ -O2 -std=c++17 -Wall -Wextra -I"$amalg" "$src" "$out/sqlite3.o" -L"$duckdir" -lduckdb \
  -Wl,-rpath,"\$ORIGIN/$rel" -lm -o "$bin.tmp"
mv "$bin.tmp" "$bin"
rm -f "$out/sqlite3.o"
echo "[build-native] built $bin"
