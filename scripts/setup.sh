#!/usr/bin/env bash
# Installs everything this project needs to build, run and test it.
#
#   bash scripts/setup.sh
#
# Idempotent: every step checks first and skips what is there, so a second run takes a
# few seconds. A fresh machine pays about 25 minutes, mostly compiling cargo-leptos.
#
# Rust: the default rustup toolchain plus `rustup target add wasm32-unknown-unknown` when
# rustup can download it. Where it cannot (offline Debian 12 machines), Debian's rustc-web
# toolchain is used instead, given a wasm32 standard library built once from its source and
# linked into rustup as the toolchain `system` (see ../shared/docs/toolchain.md).
# Tools cargo-leptos would otherwise download are installed here: cargo-leptos itself
# (built with `no_downloads`), wasm-bindgen-cli at exactly the version in Cargo.lock,
# wasm-opt (npm package binaryen), and Debian's Chromium for Playwright.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.11
# cargo-leptos 0.3.11 (its locked dependencies) needs this rustc or newer.
CARGO_LEPTOS_RUSTC=1.96.0

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
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

wasm_std_in() { compgen -G "$1/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null; }

# rustc version of a toolchain (`+name` or empty for the default), as "1.95.0".
rustc_version() { rustc ${1:+"$1"} --version 2>/dev/null | awk '{print $2}'; }
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# Debian's rustc-web (1.96), linked into rustup as `system`.
debian_toolchain() {
  apt_install rustc-web cargo-web rust-web-src rust-web-clippy lld-22
  if ! rustup toolchain list | grep -q '^system'; then
    rustup toolchain link system /usr
  fi
}

# --- 1. Rust with the wasm32-unknown-unknown target -----------------------------------
setup_rust() {
  command -v rustup >/dev/null || { log "rustup is required: https://rustup.rs"; exit 1; }
  local sysroot
  sysroot="$(cd "$ROOT" && env -u RUSTUP_TOOLCHAIN rustc --print sysroot)"
  if wasm_std_in "$sysroot"; then
    return
  fi
  if (cd "$ROOT" && env -u RUSTUP_TOOLCHAIN timeout 300 rustup target add wasm32-unknown-unknown) >/dev/null 2>&1; then
    log "rust: added the wasm32 target with rustup"
    return
  fi
  log "rust: rustup cannot add the wasm32 target here; using Debian's rustc-web toolchain"
  debian_toolchain
  if ! wasm_std_in /usr; then
    log "rust: building the wasm32 standard library from rust-web-src (about a minute)"
    local tmp
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/src"
    printf '[package]\nname = "wasm-std-build"\nversion = "0.0.0"\nedition = "2021"\n' >"$tmp/Cargo.toml"
    echo '#![no_std]' >"$tmp/src/lib.rs"
    (cd "$tmp" && RUSTC_BOOTSTRAP=1 RUSTUP_TOOLCHAIN=system cargo build --quiet --release \
      --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort,panic_unwind,proc_macro)
    $SUDO mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib
    find "$tmp/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libwasm_std_build*' \
      -exec $SUDO cp {} /usr/lib/rustlib/wasm32-unknown-unknown/lib/ \;
    rm -rf "$tmp"
  fi
  # So that plain `cargo` and `cargo leptos watch` in this checkout use it too.
  (cd "$ROOT" && rustup override set system >/dev/null)
}

# A toolchain new enough to compile cargo-leptos, as a `+name` argument ("" = default).
tool_toolchain() {
  if version_ge "$(rustc_version)" "$CARGO_LEPTOS_RUSTC"; then
    echo ""
  elif rustup toolchain list | grep -q "^$CARGO_LEPTOS_RUSTC" \
    || timeout 300 rustup toolchain install "$CARGO_LEPTOS_RUSTC" --profile minimal >/dev/null 2>&1; then
    echo "+$CARGO_LEPTOS_RUSTC"
  else
    debian_toolchain >&2
    echo "+system"
  fi
}

# --- 2. cargo-leptos --------------------------------------------------------------------
setup_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
    return
  fi
  local toolchain
  toolchain="$(tool_toolchain)"
  log "cargo-leptos $CARGO_LEPTOS_VERSION: compiling (about 18 minutes on 2 cores)"
  cargo $toolchain install --quiet --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads
}

# --- 3. wasm-bindgen-cli, exactly the version in Cargo.lock -----------------------------
setup_wasm_bindgen() {
  local want
  want="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  [ -n "$want" ] || { log "no wasm-bindgen in Cargo.lock"; exit 1; }
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    return
  fi
  log "wasm-bindgen-cli $want: compiling (about 4 minutes)"
  # Not --locked: its lock file names crate versions the registry may not have.
  cargo $(tool_toolchain) install --quiet --force wasm-bindgen-cli --version "$want"
}

# --- 4. System packages: Node.js, Chromium, PostgreSQL, Redis, nginx -------------------------
# The tests start their own throwaway PostgreSQL, Redis and nginx servers on free loopback
# ports (scripts/with-postgres.sh with pg_virtualenv; redis-server and nginx as child
# processes); nothing is configured system-wide.
setup_system_packages() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  [ -x "$CHAT_CHROMIUM" ] || apt_install chromium
  command -v pg_virtualenv >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null ||
    apt_install postgresql
  command -v redis-server >/dev/null || apt_install redis-server
  [ -x /usr/sbin/nginx ] || apt_install nginx
}

# --- 5. npm packages: Playwright, socket.io-client, binaryen (wasm-opt) -----------------
setup_npm() {
  local dir="$ROOT/end2end"
  if [ -f "$dir/node_modules/.package-lock.json" ] \
    && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return
  fi
  log "npm ci in end2end/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

# --- 6. Python: the official python-socketio client, for its test suite -----------------
setup_python() {
  local venv="$ROOT/end2end/.venv" requirements="$ROOT/end2end/python/requirements.txt"
  if [ -f "$venv/requirements.txt" ] && cmp -s "$venv/requirements.txt" "$requirements"; then
    return
  fi
  log "Python venv in end2end/.venv"
  python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
}

# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
setup_system_packages
setup_rust
source "$ROOT/scripts/env.sh" # the toolchain may have changed
setup_npm
setup_python
setup_cargo_leptos
setup_wasm_bindgen
log "ready ($(cd "$ROOT" && rustc --version), $(cargo leptos --version), $(wasm-bindgen --version))"
