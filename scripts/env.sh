# Sourced by the scripts in this folder: the environment every build, run and test uses.
# shellcheck shell=bash

# Which Rust toolchain builds this project. On machines where rustup cannot download the
# wasm32 target, scripts/setup.sh links Debian's rustc-web as the rustup toolchain `system`
# and records that choice here.
if [ -z "${CHAT_TOOLCHAIN:-}" ] && [ -f "$ROOT/target/.chat-toolchain" ]; then
  CHAT_TOOLCHAIN="$(cat "$ROOT/target/.chat-toolchain")"
fi
if [ -z "${CHAT_TOOLCHAIN:-}" ] && rustup toolchain list 2>/dev/null | grep -q '^system' \
  && compgen -G "/usr/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null; then
  CHAT_TOOLCHAIN=system
fi
export CHAT_TOOLCHAIN="${CHAT_TOOLCHAIN:-default}"
if [ "$CHAT_TOOLCHAIN" = system ]; then
  export RUSTUP_TOOLCHAIN=system
fi

export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
export CHAT_CHROMIUM="${CHAT_CHROMIUM:-/usr/bin/chromium}"
