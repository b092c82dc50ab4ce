#!/usr/bin/env bash
# The abuse test: does one abusive client hurt everyone else? Starts our release server
# with its DEFAULT limits (no limit flags; CHAT_* variables cleared) on a free loopback
# port with a fresh SQLite database, and runs `loadgen abuse` against it: 50 receivers and
# 25 senders chat in the lobby (50 messages/s in all, 2/s per sender, under the default
# 5/s) for 10 s, first alone (phase=baseline), then while one client floods from
# 127.0.0.1 (phase=flood: 10,000 chat written as fast as its socket takes them, 1,000
# typing events, 1,000 history requests, 1,000 connections with random session cookies,
# 1,000 page loads, all at once). The normal users connect from 127.0.0.2, 127.0.0.3, ...
# (one loopback address each), so the per-address limits that stop the flooder are not
# theirs. Prints one key=value line per phase (see loadgen/src/scenarios/abuse.rs for
# every key) and exits with loadgen's status: 1 if any normal user's message was lost or
# duplicated in either phase. Not part of the test command.
#
#   bash scripts/bench-abuse.sh                       # everything
#   bash scripts/bench-abuse.sh --pages 0 --chats 0   # extra arguments go to loadgen abuse
#   SERVER_BIN=path/to/server bash scripts/bench-abuse.sh
#
# Builds loadgen (release) with cargo, and the server with `cargo leptos build --release
# --precompress` only when target/release/server is missing (SERVER_BIN skips that).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

server_bin="${SERVER_BIN:-$ROOT/target/release/server}"
if [ ! -x "$server_bin" ]; then
  if [ -n "${SERVER_BIN:-}" ]; then
    echo "SERVER_BIN=$SERVER_BIN is not an executable" >&2
    exit 2
  fi
  cargo leptos build --release --precompress
fi
cargo build --quiet --release -p loadgen
loadgen="${CARGO_TARGET_DIR:-$ROOT/target}/release/loadgen"

# The server's defaults, whatever this shell has set.
while read -r variable; do unset "$variable"; done < <(compgen -e | grep '^CHAT_' || true)
# A thousand connections on each side of loopback, and the crowd.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/net.sh
source "$ROOT/scripts/net.sh"

port=$(free_port)
"$server_bin" --port "$port" --database "$work/abuse.db" --log warn >"$work/server.log" 2>&1 &
server_pid=$!
wait_listening "$port"
echo "abuse against $server_bin (pid $server_pid, port $port, load $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2

status=0
"$loadgen" abuse --url "http://127.0.0.1:$port" --server-pid "$server_pid" "$@" || status=$?

kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo "server log: $(wc -l <"$work/server.log") lines ($(grep -c 'too many events queued' "$work/server.log" || true) 'too many events queued'); the last:" >&2
tail -n 3 "$work/server.log" >&2 || true
exit "$status"
