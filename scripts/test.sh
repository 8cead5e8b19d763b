#!/usr/bin/env bash
# Every test of jsmkit: formatting, lints, dependency audit, unit and integration tests
# (SQLite and PostgreSQL), and the browser tests. Sets up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
shared="${JSMKIT_SHARED_DIR:-../shared}"

step() { printf '\n==> %s\n' "$*" >&2; }

step "set-up (services, tools, front-end assets)"
scripts/ensure-deps.sh all

step "cargo fmt --check"
cargo fmt --all --check

step "clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo deny (offline advisory snapshot from $shared/advisory-db)"
[ -d "$shared/advisory-db" ] || { echo "missing $shared/advisory-db (set JSMKIT_SHARED_DIR)" >&2; exit 1; }
db=target/advisory-dbs/advisory-db-3157b0e258782691
rm -rf "$db" && mkdir -p "$(dirname "$db")" && cp -r "$shared/advisory-db" "$db" && chmod -R u+w "$db"
git -C "$db" init -q && git -C "$db" add -A \
  && git -C "$db" -c user.name=ci -c user.email=ci@localhost -c commit.gpgsign=false commit -qm snapshot
cargo deny --offline --log-level error check

step "unit and integration tests"
export JSMKIT_TEST_PG_URL="${JSMKIT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export JSMKIT_SHARED_DIR="$(cd "$shared" && pwd)"
cargo nextest run --workspace --locked --no-fail-fast

step "browser tests (headless Chromium)"
cargo build --locked -p jsmkit
JSMKIT_BIN="$PWD/target/debug/jsmkit" node --test web/tests/
