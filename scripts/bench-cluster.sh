#!/usr/bin/env bash
# Figures for several servers (printed, not asserted): two chat servers sharing a Redis
# (a redis-server of its own, on a free loopback port) and a database, and the workspace's
# load generator.
#
#   SERVER_BIN=target/release/server bash scripts/bench-cluster.sh
#
# 1. fanout latency, senders and receivers on one server, then receivers on the other
#    (every message crosses Redis and the other server's hub);
# 2. what a server's presence heartbeats cost: its idle CPU with 2,000 users logged in,
#    alone and as one of two servers (it then publishes who it lists, and hears the other).
# Everything shares this machine: the servers, Redis, the database and the load generator.
# The database is a SQLite file both servers open, or DATABASE_URL (postgres://...) if set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh
server_bin="${SERVER_BIN:-$ROOT/target/release/server}"
cargo build --quiet --release -p loadgen
loadgen="${CARGO_TARGET_DIR:-$ROOT/target}/release/loadgen"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/net.sh
source "$ROOT/scripts/net.sh"

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
wait_listening "$redis_port"

# start_server NAME [ARGS...]: sets port and pid.
start_server() {
  local name=$1
  shift
  port=$(free_port)
  local database=(--database "$work/$name.db")
  [ -n "${DATABASE_URL:-}" ] && database=(--database-url "$DATABASE_URL")
  "$server_bin" --port "$port" "${database[@]}" --log warn "$@" >"$work/$name-$port.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_listening "$port"
}

fanout=(fanout --receivers 200 --senders 5 --rate 50 --seconds 20)

echo "== fanout, one server ($((205 * 50)) deliveries/s)" >&2
start_server single
"$loadgen" "${fanout[@]}" --url "http://127.0.0.1:$port" --server-pid "$pid"
kill "$pid"

echo "== fanout across two servers: senders on A, receivers on B" >&2
start_server cluster --redis-url "redis://127.0.0.1:$redis_port"
a_port=$port a_pid=$pid
start_server cluster --redis-url "redis://127.0.0.1:$redis_port"
b_port=$port
"$loadgen" "${fanout[@]}" --url "http://127.0.0.1:$a_port" --server-pid "$a_pid" \
  --receivers-url "http://127.0.0.1:$b_port"

idle=(idle --users 2000 --idle-seconds 30)
echo "== idle CPU with 2,000 users, one server alone" >&2
start_server alone
"$loadgen" "${idle[@]}" --url "http://127.0.0.1:$port" --server-pid "$pid"
kill "$pid"
echo "== the same, as server A of two (A lists 2,000, B lists none)" >&2
"$loadgen" "${idle[@]}" --url "http://127.0.0.1:$a_port" --server-pid "$a_pid"
