#!/usr/bin/env bash
# Our release server against the original Node.js + Socket.IO lobby chat (bench/node-chat,
# in memory), in one run, with the same load generator (loadgen/) and the same scenario;
# prints one table with both and their ratio. Not part of the test command.
#
# Scenario (environment, defaults): fanout, FANOUT_RECEIVERS=500 receivers and
# FANOUT_SENDERS=5 senders, FANOUT_RATE=200 messages/s for FANOUT_SECONDS=10 s (every
# socket gets every message: ~100,000 deliveries/s). Every message is stored by our server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"

cargo leptos build --release --precompress
cargo build --release -p loadgen
(cd bench/node-chat && { [ -d node_modules/socket.io ] || npm ci --no-audit --no-fund; })

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something accepts connections on the port.
wait_listening() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

fanout() { # URL PID
  target/release/loadgen fanout --url "$1" --server-pid "$2" \
    --receivers "${FANOUT_RECEIVERS:-500}" --senders "${FANOUT_SENDERS:-5}" \
    --rate "${FANOUT_RATE:-200}" --seconds "${FANOUT_SECONDS:-10}"
}

ours_port=$(free_port)
target/release/server --port "$ours_port" --database "$work/chat.db" --log warn &
pids+=($!)
ours_pid=$!
node_port=$(free_port)
node bench/node-chat/server.js "$node_port" >/dev/null &
pids+=($!)
node_pid=$!
wait_listening "$ours_port"
wait_listening "$node_port"

echo "fanout against Node socket.io (pid $node_pid) ..." >&2
node_line=$(fanout "http://127.0.0.1:$node_port" "$node_pid")
echo "fanout against ours (pid $ours_pid) ..." >&2
ours_line=$(fanout "http://127.0.0.1:$ours_port" "$ours_pid")

python3 - "$node_line" "$ours_line" <<'EOF'
import sys
node, ours = (dict(kv.split("=", 1) for kv in line.split()) for line in sys.argv[1:3])
rows = [
    ("deliveries/s", "per_s"), ("lost", "lost"), ("duplicated", "duplicated"),
    ("latency p50 ms", "p50_ms"), ("latency p99 ms", "p99_ms"), ("latency max ms", "max_ms"),
    ("server CPU %", "server_cpu_pct"), ("load generator CPU %", "loadgen_cpu_pct"),
]
print(f"fanout: {ours['sockets']} sockets, {ours['messages']} messages")
print(f"| {'figure':<22} | {'Node socket.io':>14} | {'ours':>10} | {'ours / Node':>11} |")
print(f"| {'-' * 22} | {'-' * 14}: | {'-' * 10}: | {'-' * 11}: |")
for label, key in rows:
    a, b = node.get(key, "?"), ours.get(key, "?")
    try:
        ratio = f"{float(b) / float(a):.2f}" if float(a) else "-"
    except ValueError:
        ratio = "-"
    print(f"| {label:<22} | {a:>14} | {b:>10} | {ratio:>11} |")
EOF
