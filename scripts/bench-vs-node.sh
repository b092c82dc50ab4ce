#!/usr/bin/env bash
# Our release server against the original Node.js + Socket.IO lobby chat (bench/node-chat,
# in memory), with the same load generator (loadgen/) and the same scenarios; prints one
# markdown table with both and their ratio. Not part of the test command.
#
# Every scenario runs against a fresh server process on each side (Node first, then ours,
# ours with --database $work/<scenario>.db --log warn), so one scenario's leftovers never
# skew the next. The lobby scenarios (fanout, fanout_light, saturation, logins) also run
# against bench/relay, a bare relay of the lobby protocol (no storage, no Socket.IO
# library): the floor this machine sets under both, in the table's last column. Both servers get the same Engine.IO heartbeat: PING_INTERVAL_MS=25000
# and PING_TIMEOUT_MS=20000 (socket.io's defaults, and ours).
#
# Scenarios (SCENARIOS="fanout logins ..." runs a subset; default all, in this order):
#   fanout      FANOUT_RECEIVERS=500 receivers and FANOUT_SENDERS=5 senders in the lobby,
#               FANOUT_RATE=200 messages/s for FANOUT_SECONDS=10 s (open loop, every socket
#               gets every message: ~100,000 deliveries/s). Latency p50/p99/max, CPU.
#   fanout_light  the same at FANOUT_LIGHT_RATE=50 messages/s (~25,000 deliveries/s): the
#               latency where no side is short of CPU.
#   saturation  the same population (SATURATION_RECEIVERS=500, SATURATION_SENDERS=5),
#               closed loop: each sender keeps SATURATION_WINDOW=4 messages in flight (a new
#               one each time one of its own comes back) for SATURATION_SECONDS=10 s: the
#               deliveries/s each server reaches, with nothing lost.
#   logins      LOGINS_USERS=2000 users connect and log in, LOGINS_IN_FLIGHT=64 at a time
#               (a crowd coming back at once, as after a restart);
#               each log-in is broadcast to every socket connected so far (~2 million
#               userJoined). Log-ins/s from the first connect to the last userJoined.
#   idle        IDLE_USERS=2000 logged-in idle sockets: the server's RSS per connection
#               once its memory has settled, then its CPU over IDLE_SECONDS=30 s of
#               idleness (pings only). Opened IDLE_IN_FLIGHT=64 at a time.
#   idle10k     IDLE10K_USERS=10000 sockets connected but not logged in (10,000 log-ins
#               would first broadcast 50 million userJoined: twenty minutes for Node): the
#               memory and the heartbeat CPU of holding them.
#   rooms       the guide's rooms protocol (join_room, send_message → receive_message),
#               run twice: ROOMS_SMALL_USERS=200 users in ROOMS_SMALL_ROOMS=10 rooms, and
#               ROOMS_USERS=2000 in ROOMS_ROOMS=100; both times one member of each of
#               ROOMS_SENDERS=10 rooms sends, ROOMS_RATE=500 messages/s in all for
#               ROOMS_SECONDS=10 s: the same messages to the same 10 rooms of 20. Server
#               CPU µs per delivery, deliveries/s, latency; and the ratio 2,000/200 (ten
#               times the people connected should not make a delivery dearer).
#
# Builds: our server with cargo leptos, unless SERVER_BIN names a server binary to use
# (then setup.sh and the site build are skipped); loadgen with cargo, into
# CARGO_TARGET_DIR if set. The load generator prints progress on stderr; the servers' own
# output goes to their logs, whose tail is shown when a scenario fails. The table's
# "others' CPU %" rows are every other process on the machine during the measured window
# (a build next door skews everything; rerun then).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${SERVER_BIN:-}" ]; then
  bash "$ROOT/scripts/setup.sh"
fi
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"

SCENARIOS="${SCENARIOS:-fanout fanout_light saturation logins idle idle10k rooms}"
PING_INTERVAL_MS="${PING_INTERVAL_MS:-25000}"
PING_TIMEOUT_MS="${PING_TIMEOUT_MS:-20000}"

if [ -n "${SERVER_BIN:-}" ]; then
  server_bin="$SERVER_BIN"
else
  cargo leptos build --release --precompress
  server_bin="$ROOT/target/release/server"
fi
cargo build --release -p loadgen -p relay
loadgen="${CARGO_TARGET_DIR:-$ROOT/target}/release/loadgen"
relay="${CARGO_TARGET_DIR:-$ROOT/target}/release/relay"
(cd bench/node-chat && { [ -d node_modules/socket.io ] || npm ci --no-audit --no-fund; })

# 10,000 sockets on each side of loopback: one descriptor each per process.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/net.sh
source "$ROOT/scripts/net.sh"

# Starts a fresh server: SIDE (node | ours | relay) NAME (the scenario: its database and
# log).
# Sets port, server_pid and server_log.
start_server() {
  port=$(free_port)
  server_log="$work/$2-$1.log"
  if [ "$1" = node ]; then
    PING_INTERVAL_MS="$PING_INTERVAL_MS" PING_TIMEOUT_MS="$PING_TIMEOUT_MS" \
      node bench/node-chat/server.js "$port" >"$server_log" 2>&1 &
  elif [ "$1" = relay ]; then
    "$relay" "$port" >"$server_log" 2>&1 &
  else
    "$server_bin" --port "$port" --database "$work/$2.db" --log warn \
      --ping-interval-ms "$PING_INTERVAL_MS" --ping-timeout-ms "$PING_TIMEOUT_MS" \
      >"$server_log" 2>&1 &
  fi
  server_pid=$!
  wait_listening "$port"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# Runs one scenario against one side: NAME SIDE LOADGEN-ARGS...; appends its figures
# line to $work/results as "NAME SIDE key=value...".
run() {
  local name=$1 side=$2 line
  shift 2
  start_server "$side" "$name"
  echo "$name against $side (pid $server_pid, load $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2
  if ! line=$("$loadgen" "$@" --url "http://127.0.0.1:$port" --server-pid "$server_pid"); then
    echo "$name against $side failed; the end of its server's log:" >&2
    tail -n 5 "$server_log" >&2 || true
    line="scenario=$name failed=yes"
  fi
  stop_server
  echo "  $line" >&2
  echo "$name $side $line" >>"$work/results"
}

both() { # NAME LOADGEN-ARGS...
  local name=$1
  shift
  run "$name" node "$@"
  run "$name" ours "$@"
}

all_three() { # NAME LOADGEN-ARGS...: both, then the bare relay
  both "$@"
  run "$1" relay "${@:2}"
}

started=$(date +%s)
touch "$work/results"
for scenario in $SCENARIOS; do
  case "$scenario" in
    fanout)
      all_three fanout fanout --receivers "${FANOUT_RECEIVERS:-500}" --senders "${FANOUT_SENDERS:-5}" \
        --rate "${FANOUT_RATE:-200}" --seconds "${FANOUT_SECONDS:-10}" ;;
    fanout_light)
      all_three fanout_light fanout --receivers "${FANOUT_RECEIVERS:-500}" \
        --senders "${FANOUT_SENDERS:-5}" --rate "${FANOUT_LIGHT_RATE:-50}" \
        --seconds "${FANOUT_SECONDS:-10}" ;;
    saturation)
      all_three saturation saturation --receivers "${SATURATION_RECEIVERS:-500}" \
        --senders "${SATURATION_SENDERS:-5}" --window "${SATURATION_WINDOW:-4}" \
        --seconds "${SATURATION_SECONDS:-10}" ;;
    logins)
      all_three logins logins --users "${LOGINS_USERS:-2000}" --in-flight "${LOGINS_IN_FLIGHT:-64}" ;;
    idle)
      both idle idle --users "${IDLE_USERS:-2000}" --in-flight "${IDLE_IN_FLIGHT:-64}" \
        --idle-seconds "${IDLE_SECONDS:-30}" ;;
    idle10k)
      both idle10k idle --connect-only --users "${IDLE10K_USERS:-10000}" --in-flight "${IDLE_IN_FLIGHT:-64}" \
        --idle-seconds "${IDLE_SECONDS:-30}" ;;
    rooms)
      rooms_load=(--senders "${ROOMS_SENDERS:-10}" --rate "${ROOMS_RATE:-500}"
        --seconds "${ROOMS_SECONDS:-10}")
      both rooms_small rooms --users "${ROOMS_SMALL_USERS:-200}" \
        --rooms "${ROOMS_SMALL_ROOMS:-10}" "${rooms_load[@]}"
      both rooms_large rooms --users "${ROOMS_USERS:-2000}" --rooms "${ROOMS_ROOMS:-100}" \
        "${rooms_load[@]}" ;;
    *)
      echo "unknown scenario $scenario (fanout fanout_light saturation logins idle idle10k rooms)" >&2
      exit 2 ;;
  esac
done
echo "all scenarios: $(($(date +%s) - started)) s" >&2

python3 - "$work/results" <<'EOF'
import sys

results = {}
for line in open(sys.argv[1]):
    name, side, figures = line.split(" ", 2)
    results[(name, side)] = dict(kv.split("=", 1) for kv in figures.split())

def get(name, side, key):
    figures = results.get((name, side), {})
    return "failed" if "failed" in figures else figures.get(key, "?")

cpu = [("server CPU %", "server_cpu_pct"), ("server user / sys %", "server_user_pct/server_sys_pct"),
       ("load generator CPU %", "loadgen_cpu_pct"), ("others' CPU %", "others_cpu_pct")]
latency = [("latency p50 ms", "p50_ms"), ("latency p99 ms", "p99_ms"), ("latency max ms", "max_ms")]
delivery = [("deliveries/s", "per_s"), ("lost", "lost"), ("duplicated", "duplicated")]
rows = {
    "fanout": delivery + latency + cpu,
    "fanout_light": delivery + latency + cpu,
    "saturation": delivery + latency + cpu,
    "logins": [("log-ins/s", "logins_per_s"), ("userJoined frames/s", "frames_per_s"),
               ("server CPU µs per log-in", "server_us_per_login")] + cpu,
    "idle": [("RSS before KiB", "rss_before_kib"), ("RSS after KiB", "rss_after_kib"),
             ("RSS per connection KiB", "per_conn_kib"), ("Pss per connection KiB", "pss_per_conn_kib"),
             ("RSS per connection after idle KiB", "per_conn_end_kib"),
             ("idle CPU %", "idle_cpu_pct"), ("pings answered", "pings"),
             ("server CPU µs per ping", "us_per_ping"), ("others' CPU %", "others_cpu_pct")],
    "rooms_small": [("µs server CPU per delivery", "cpu_us_per_delivery")] + delivery + latency + cpu,
}
rows["idle10k"] = rows["idle"]
rows["rooms_large"] = rows["rooms_small"]
titles = {
    "fanout": "fanout", "fanout_light": "fanout, light", "saturation": "saturation", "logins": "logins",
    "idle": "idle 2,000", "idle10k": "idle 10,000 (not logged in)",
    "rooms_small": "rooms 200 in 10", "rooms_large": "rooms 2,000 in 100",
}
sizes = {
    "fanout": lambda f: f"{f.get('sockets', '?')} sockets, {f.get('messages', '?')} messages",
    "fanout_light": lambda f: f"{f.get('sockets', '?')} sockets, {f.get('messages', '?')} messages",
    "saturation": lambda f: f"{f.get('sockets', '?')} sockets, window {f.get('window', '?')}",
    "logins": lambda f: f"{f.get('users', '?')} users, {f.get('in_flight', '?')} in flight",
    "idle": lambda f: f"{f.get('users', '?')} users, {f.get('idle_s', '?')} s idle",
    "rooms_small": lambda f: f"{f.get('users', '?')} users in {f.get('rooms', '?')} rooms, "
                             f"{f.get('messages', '?')} messages",
}
sizes["idle10k"] = sizes["idle"]
sizes["rooms_large"] = sizes["rooms_small"]

def ratio(a, b):
    try:
        return f"{float(b) / float(a):.2f}" if float(a) else "-"
    except ValueError:
        return "-"

def value(name, side, key):
    if "/" in key:
        return " / ".join(get(name, side, k) for k in key.split("/"))
    return get(name, side, key)

table = []
for name in ["fanout", "fanout_light", "saturation", "logins", "idle", "idle10k", "rooms_small", "rooms_large"]:
    if (name, "node") not in results and (name, "ours") not in results:
        continue
    for label, key in rows[name]:
        a, b = value(name, "node", key), value(name, "ours", key)
        c = value(name, "relay", key) if (name, "relay") in results else "-"
        table.append((titles[name], label, a, b, "-" if "/" in key else ratio(a, b), c))
if ("rooms_small", "ours") in results and ("rooms_large", "ours") in results:
    for label, key in [("µs per delivery, 2,000 / 200", "cpu_us_per_delivery"), ("deliveries/s, 2,000 / 200", "per_s")]:
        a = ratio(get("rooms_small", "node", key), get("rooms_large", "node", key))
        b = ratio(get("rooms_small", "ours", key), get("rooms_large", "ours", key))
        table.append(("rooms", label, a, b, ratio(a, b), "-"))

for name in titles:
    runs = [results.get((name, side), {}) for side in ("ours", "node")]
    figures = next((f for f in runs if f and "failed" not in f), None)
    if figures:
        print(f"- {titles[name]}: {sizes[name](figures)}")
print()
header = ("scenario", "figure", "Node socket.io", "ours", "ours / Node", "bare relay")
w = [max(len(r[i]) for r in table + [header]) for i in range(6)]
print("| " + " | ".join(f"{h:<{w[i]}}" if i < 2 else f"{h:>{w[i]}}" for i, h in enumerate(header)) + " |")
print("| " + " | ".join("-" * w[i] if i < 2 else "-" * (w[i] - 1) + ":" for i in range(6)) + " |")
for r in table:
    print("| " + " | ".join(f"{v:<{w[i]}}" if i < 2 else f"{v:>{w[i]}}" for i, v in enumerate(r)) + " |")
EOF
