#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server (Debian's postgresql, via
# pg_virtualenv from postgresql-common): a new cluster on a free loopback port, removed
# afterwards. Inside, PGHOST PGPORT PGUSER PGPASSWORD are set and CHAT_TEST_POSTGRES is the
# server's URL without a database, which the test harnesses use to make a fresh database
# for every server they start.
#
#   bash scripts/with-postgres.sh cargo test -p server
set -euo pipefail
# A cluster thrown away afterwards: no need to survive a power cut, so commits do not
# wait for the disk (tests share a busy machine).
OPTIONS=(-o log_min_messages=warning -o fsync=off -o synchronous_commit=off -o full_page_writes=off)
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: pg_virtualenv -t runs it as `postgres`, which
  # needs its socket folder.
  install -d -o postgres -g postgres -m 2775 /var/run/postgresql
  exec pg_virtualenv -t "${OPTIONS[@]}" env CHAT_TEST_POSTGRES=postgres:// "$@"
fi
exec pg_virtualenv "${OPTIONS[@]}" env CHAT_TEST_POSTGRES=postgres:// "$@"
