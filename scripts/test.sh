#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit and integration tests, the release
# build (and its bundle size), Playwright in Chromium, and the socket.io-client suites.
# Installs what is missing first (scripts/setup.sh). Exits non-zero on the first failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"

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

step "end-to-end tests (Playwright, Chromium)"
(cd end2end && npx playwright test)

step "protocol tests (official socket.io-client)"
(cd end2end && node --test --test-concurrency=1 protocol/)

step "protocol tests (official python-socketio)"
end2end/.venv/bin/python -m unittest discover -v -s end2end/python
