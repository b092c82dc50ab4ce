# Sourced by the scripts in this folder: the environment every build, run and test uses.
# shellcheck shell=bash

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# The Rust toolchain that builds this project. Normally the default rustup toolchain with
# its wasm32-unknown-unknown target. Where rustup could not download that target,
# scripts/setup.sh linked Debian's rustc-web as the rustup toolchain `system` and gave it a
# wasm32 standard library; use that one then.
chat_wasm_std_in() {
  compgen -G "$1/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null
}
if [ -z "${RUSTUP_TOOLCHAIN:-}" ] \
  && ! chat_wasm_std_in "$(cd "$ROOT" && rustc --print sysroot 2>/dev/null)" \
  && rustup toolchain list 2>/dev/null | grep -q '^system' \
  && chat_wasm_std_in /usr; then
  export RUSTUP_TOOLCHAIN=system
fi

# cargo-leptos, wasm-bindgen (cargo install) and wasm-opt (npm package binaryen).
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
export CHAT_CHROMIUM="${CHAT_CHROMIUM:-/usr/bin/chromium}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
