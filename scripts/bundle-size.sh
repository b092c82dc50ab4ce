#!/usr/bin/env bash
# Prints what the first page downloads from a release build: the wasm, JS and CSS, raw,
# gzipped and brotli-compressed (the .gz/.br files `cargo leptos build --release
# --precompress` wrote, which the server sends as they are), and their totals.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$ROOT/target/site/pkg"
total_raw=0 total_gz=0 total_br=0
printf '%-6s %10s %10s %10s\n' file bytes gzip brotli
for ext in wasm js css; do
  # chat.js, or chat.<hash>.js with hash-files.
  file=$(find "$pkg" -maxdepth 1 -regex ".*/chat\(\.[A-Za-z0-9_-]*\)?\.$ext" | head -n 1)
  [ -n "$file" ] || { echo "no chat*.$ext in $pkg: run cargo leptos build --release --precompress" >&2; exit 1; }
  for suffix in gz br; do
    [ -f "$file.$suffix" ] || { echo "no $file.$suffix: build with --precompress" >&2; exit 1; }
  done
  raw=$(stat -c %s "$file") gz=$(stat -c %s "$file.gz") br=$(stat -c %s "$file.br")
  printf '%-6s %10d %10d %10d\n' "$ext" "$raw" "$gz" "$br"
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
done
printf '%-6s %10d %10d %10d\n' total "$total_raw" "$total_gz" "$total_br"
printf 'first page: %d KiB gzip, %d KiB brotli\n' $((total_gz / 1024)) $((total_br / 1024))
