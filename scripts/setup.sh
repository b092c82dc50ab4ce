#!/usr/bin/env bash
# Installs everything this project needs to build, run and test, and nothing twice.
#
#   bash scripts/setup.sh
#
# Idempotent: every step checks first and skips what is already there, so a second run
# takes seconds. It handles two kinds of machine:
#   * rustup can download targets: `rustup target add wasm32-unknown-unknown`.
#   * rustup is offline (Debian 12 machines of this project): Debian's rustc-web 1.96
#     toolchain, a wasm32 standard library built once from its source, linked into rustup
#     as the toolchain `system` (see ../shared/docs/toolchain.md).
# Tools that cargo-leptos would download at build time are installed here instead:
# cargo-leptos itself (built with `no_downloads`), wasm-bindgen-cli pinned to the version in
# Cargo.lock, wasm-opt (npm `binaryen`), Chromium for Playwright, and the npm packages.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

CARGO_LEPTOS_VERSION=0.3.11
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
}

wasm_std_present() {
  # $1: sysroot
  compgen -G "$1/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null
}

# --- 1. A Rust toolchain that can build wasm32-unknown-unknown --------------------------
setup_rust() {
  command -v rustup >/dev/null || { log "rustup is required (https://rustup.rs)"; exit 1; }
  local default_sysroot
  default_sysroot="$(RUSTUP_TOOLCHAIN= rustc --print sysroot)"
  if [ "$CHAT_TOOLCHAIN" != system ] && wasm_std_present "$default_sysroot"; then
    log "rust: default toolchain has the wasm32 target"
    return
  fi
  if [ "$CHAT_TOOLCHAIN" != system ] && timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    log "rust: added wasm32 target with rustup"
    return
  fi
  log "rust: rustup cannot add the wasm32 target here; using Debian's rustc-web toolchain"
  apt_install rustc-web cargo-web rust-web-src rust-web-clippy lld-22
  if ! wasm_std_present /usr; then
    log "rust: building the wasm32 standard library from rust-web-src (about a minute)"
    local tmp
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/src"
    printf '[package]\nname = "wasm-std-build"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' >"$tmp/Cargo.toml"
    echo '#![no_std]' >"$tmp/src/lib.rs"
    (cd "$tmp" && RUSTC_BOOTSTRAP=1 RUSTUP_TOOLCHAIN= /usr/bin/cargo build --quiet --release \
      --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort,panic_unwind,proc_macro)
    $SUDO mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib
    find "$tmp/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libwasm_std_build*' \
      -exec $SUDO cp {} /usr/lib/rustlib/wasm32-unknown-unknown/lib/ \;
    rm -rf "$tmp"
  fi
  if ! rustup toolchain list | grep -q '^system'; then
    rustup toolchain link system /usr
  fi
  # So that plain `cargo` / `cargo leptos watch` in this checkout use it too.
  (cd "$ROOT" && rustup override set system >/dev/null)
  echo system >"$ROOT/target/.chat-toolchain" 2>/dev/null || { mkdir -p "$ROOT/target"; echo system >"$ROOT/target/.chat-toolchain"; }
  export RUSTUP_TOOLCHAIN=system
}

# --- 2. cargo-leptos --------------------------------------------------------------------
setup_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    return
  fi
  log "cargo-leptos $CARGO_LEPTOS_VERSION: building (about 18 minutes on 2 cores)"
  cargo install --quiet --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads
}

# --- 3. wasm-bindgen-cli, exactly the version in Cargo.lock -----------------------------
setup_wasm_bindgen() {
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  [ -n "$want" ] || { log "wasm-bindgen not found in Cargo.lock"; exit 1; }
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    return
  fi
  log "wasm-bindgen-cli $want: building (about 4 minutes)"
  # Not --locked: its lock file names crates the registry mirror may not have.
  cargo install --quiet --force wasm-bindgen-cli --version "$want"
}

# --- 4. System packages: Chromium (Playwright), Node.js ---------------------------------
setup_system_packages() {
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  [ -x "$CHAT_CHROMIUM" ] || apt_install chromium
}

# --- 5. npm packages: Playwright, socket.io-client, binaryen (wasm-opt) -----------------
setup_npm() {
  local dir="$ROOT/end2end"
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return
  fi
  log "npm ci in end2end/"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

case "${1:-all}" in
  rust) setup_rust ;;
  all)
    setup_system_packages
    setup_rust
    setup_npm
    setup_cargo_leptos
    setup_wasm_bindgen
    log "ready"
    ;;
  *) echo "usage: $0 [all|rust]" >&2; exit 2 ;;
esac
