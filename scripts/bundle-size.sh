#!/usr/bin/env bash
# Prints what the first page downloads from a release build: wasm, JS and CSS, raw and
# gzipped (the .gz files cargo-leptos wrote), and their total. Run after
# `cargo leptos build --release`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$ROOT/target/site/pkg"
total_raw=0
total_gz=0
printf '%-12s %10s %10s\n' file bytes gzip
for ext in wasm js css; do
  file="$pkg/chat.$ext"
  [ -f "$file" ] || { echo "missing $file: run cargo leptos build --release" >&2; exit 1; }
  raw=$(stat -c %s "$file")
  if [ -f "$file.gz" ]; then gz=$(stat -c %s "$file.gz"); else gz=$(gzip -9 -c "$file" | wc -c); fi
  printf '%-12s %10d %10d\n' "chat.$ext" "$raw" "$gz"
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
done
printf '%-12s %10d %10d  (%d KiB gzipped)\n' total "$total_raw" "$total_gz" $((total_gz / 1024))
