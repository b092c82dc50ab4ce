#!/usr/bin/env bash
# Runs the chat on http://127.0.0.1:3000: installs what is missing, builds the release
# binary, serves. Extra arguments go to the server (see `target/release/server --help`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
cargo leptos build --release --precompress
exec target/release/server "$@"
