#!/usr/bin/env bash
# Makes sure what the tests need is installed and running. Idempotent: safe to run again.
# Used by scripts/test.sh (and so by .ci/run); scripts/demo.sh uses the front-end part only.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

frontend() {
  command -v npm >/dev/null || { log "installing Node.js and npm"; apt_install nodejs npm; }
  # npm ci only when the lock file changed since the last install.
  if [ ! -f web/node_modules/.package-lock.json ] || ! cmp -s web/package-lock.json web/node_modules/.jsmkit-lock; then
    log "npm ci (web/)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    cp web/package-lock.json web/node_modules/.jsmkit-lock
  fi
  node web/scripts/vendor.mjs
}

services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
    log "starting MariaDB"
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 30); do mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 && break; sleep 1; done
  fi
}

tools() {
  if ! command -v chromium >/dev/null; then log "installing chromium"; apt_install chromium; fi
  if ! cargo deny --version >/dev/null 2>&1; then
    log "installing cargo-deny (one-time, ~10 min on 2 cores)"
    cargo install --locked cargo-deny
  fi
  if ! cargo nextest --version >/dev/null 2>&1; then
    log "installing cargo-nextest (one-time)"
    cargo install --locked cargo-nextest
  fi
}

case "${1:-all}" in
  frontend) frontend ;;
  services) services ;;
  tools) tools ;;
  all) services; tools; frontend ;;
  *) echo "usage: $0 [all|frontend|services|tools]" >&2; exit 2 ;;
esac
