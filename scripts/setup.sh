#!/usr/bin/env bash
# Hearth setup: system packages (idempotent, skipped when present), npm packages, build, models.
# Works offline except for the npm registry and Debian's package archive.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

# Debian packages Hearth uses. Each issue that needs a system tool adds it here.
APT_PACKAGES=(
  ffmpeg espeak-ng sox alsa-utils          # audio/video I/O and offline text to speech
  pocketsphinx pocketsphinx-en-us          # offline speech to text (perception/audio)
  libpocketsphinx-dev gcc pkg-config       # builds hearth-sphinx, the persistent decoder (perception/audio/native)
  pocketsphinx-testdata pulseaudio pulseaudio-utils  # speech test data; null-sink audio device for microphone tests
  python3-skimage opencv-doc               # face test images: astronaut.png, messi5.jpg (perception/camera tests)
  chromium                                 # headless browser for the report's tests (playwright-core drives it)
  g++                                      # builds the exporter's native stager (scripts/build-native.sh)
  sqlite3                                  # the by-hand CSV dump that npm run bench:export compares hearth export against
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
      echo "[setup] need root to install: ${missing[*]} (run as root or install them yourself)" >&2; exit 2
    fi
  else SUDO=""; fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# onnxruntime-node's install script would download extra binaries; the CPU ones ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  # npm 11 writes lock files without other platforms' optional packages (rollup's) and then
  # refuses them in `npm ci`; fall back to an install pinned by the same lock file.
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/hearth-npm-ci.log; then
    if grep -q 'EUSAGE' /tmp/hearth-npm-ci.log; then
      log "npm ci refused the lock file (npm's platform-pruning bug); installing with npm install"
      npm install --no-audit --no-fund --loglevel=error --no-save
    else
      cat /tmp/hearth-npm-ci.log >&2
      exit 1
    fi
  fi
else
  log "npm packages present"
fi

log "building"
npm run --silent build
# The persistent speech decoder (a small C helper over libpocketsphinx); without it speech to text fails with what to install.
if ! bash perception/audio/native/build.sh; then log "hearth-sphinx not built: offline speech to text is unavailable"; fi
# The exporter's native SQLite → DuckDB stager (needs g++; without it hearth export reads through better-sqlite3).
bash scripts/build-native.sh

if [ -f scripts/setup-models.mjs ]; then
  node scripts/setup-models.mjs
fi
log "done"
