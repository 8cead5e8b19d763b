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
# cargo deny reads the metadata of every platform's dependencies; a build fetches only this
# platform's, so fetch the rest first (a no-op once they are in the local registry).
cargo fetch --locked -q
cargo deny --offline --log-level error check

step "unit and integration tests"
export JSMKIT_TEST_PG_URL="${JSMKIT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export JSMKIT_SHARED_DIR="$(cd "$shared" && pwd)"
cargo nextest run --workspace --locked --no-fail-fast

step "third-party Atlassian clients against jsmkit sim (tests/thirdparty)"
cargo build --locked --workspace --tests --bins -q
venv=target/thirdparty-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# pip install only when requirements.txt changed since the last install into this venv.
if ! cmp -s tests/thirdparty/requirements.txt "$venv/.jsmkit-requirements"; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/thirdparty/requirements.txt
  cp tests/thirdparty/requirements.txt "$venv/.jsmkit-requirements"
fi
sim_dir="$(mktemp -d)"
target/debug/jsmkit sim --listen 127.0.0.1:0 --seed 1 --users-json "$sim_dir/users.json" \
  >"$sim_dir/stdout" 2>"$sim_dir/stderr" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$sim_dir"' EXIT
for _ in $(seq 1 100); do [ -s "$sim_dir/stdout" ] && break; sleep 0.1; done
sim_url="$(head -n1 "$sim_dir/stdout" | grep -o 'http://[^ ]*' || true)"
[ -n "$sim_url" ] || { echo "jsmkit sim did not start:" >&2; cat "$sim_dir/stderr" >&2; exit 1; }
JSMKIT_SIM_URL="$sim_url" JSMKIT_SIM_USERS="$sim_dir/users.json" \
  timeout 300 "$venv/bin/python" -m unittest -v tests/thirdparty/check_clients.py
kill "$sim_pid" && wait "$sim_pid" 2>/dev/null || true
trap - EXIT
rm -rf "$sim_dir"

step "browser tests (headless Chromium)"
# nextest built target/debug/jsmkit for the CLI tests (same features, so no rebuild here).
cargo build --locked --workspace --tests --bins -q
JSMKIT_BIN="$PWD/target/debug/jsmkit" node --test web/tests/
