#!/usr/bin/env bash
# Runs the jsmkit demo on this machine: builds the binary, installs the front-end assets from
# npm, and starts `jsmkit demo` (SQLite store and generated key in ./jsmkit-demo).
# Extra arguments go to `jsmkit demo`, e.g. scripts/demo.sh --listen 127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh frontend
cargo build --release --locked -p jsmkit
exec target/release/jsmkit demo "$@"
