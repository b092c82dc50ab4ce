#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit and integration tests, the release
# build (and its bundle size), Playwright in Chromium, the socket.io-client and
# python-socketio suites; then the tests and suites again on PostgreSQL.
# Installs what is missing first (scripts/setup.sh). Exits non-zero on the first failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
# A run from a clean checkout gains nothing from incremental builds, which would double
# the target folder on disk.
export CARGO_INCREMENTAL=0

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "format"
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all --check
else
  echo "rustfmt is not installed for this toolchain; skipping the format check"
fi

step "clippy (server and shared code)"
cargo clippy --quiet -p app -p server -p loadgen -p relay --all-targets -- -D warnings
step "clippy (browser code, wasm32)"
cargo clippy --quiet -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (real server, real WebSockets)"
cargo test -p app -p server

step "release build"
cargo leptos build --release --precompress
bash scripts/bundle-size.sh

# The browser and protocol suites run the release binary copied alone into an empty
# folder: what gets deployed.
standalone="$(mktemp -d)"
trap 'rm -rf "$standalone"' EXIT
cp target/release/server "$standalone/server"
export CHAT_SERVER_BIN="$standalone/server"

# The suites that run the binary, on the database the environment gives (SQLite files,
# or PostgreSQL databases when CHAT_TEST_POSTGRES is set).
binary_suites() {
  step "end-to-end tests (Playwright, Chromium)$1"
  (cd end2end && npx playwright test)

  step "protocol tests (official socket.io-client)$1"
  (cd end2end && node --test --test-concurrency=1 protocol/)

  step "protocol tests (official python-socketio)$1"
  end2end/.venv/bin/python -m unittest discover -v -s end2end/python
}
binary_suites ""

# The whole single-node suite again with PostgreSQL as the database: one throwaway server
# (Debian's postgresql on a free loopback port), a fresh database per test.
export -f step binary_suites
bash scripts/with-postgres.sh bash -c '
  set -euo pipefail
  step "unit and integration tests on PostgreSQL"
  cargo test -p server
  binary_suites " on PostgreSQL"'
