#!/usr/bin/env bash
# Start the local PostgreSQL server (Debian's postgresql package) and make sure a role and a
# database for the search tests exist; print the SQLAlchemy URL on stdout. Needs root (it runs
# psql as the postgres user). Exit 3 when the server binaries are absent or we are not root.
# .ci/run exports the URL as TINYCONV_TEST_POSTGRES_URL; tests/search/test_postgres.py runs
# this script itself when that variable is unset.
set -euo pipefail
# Only the URL goes to stdout: everything the server tools print (pg_ctlcluster says 'Removed
# stale pid file.' after an unclean stop, for one) goes to stderr.
exec 3>&1 1>&2
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL server binaries absent (apt-get install -y postgresql)" >&2
  exit 3
fi
if [ "$(id -u)" != 0 ]; then
  echo "starting PostgreSQL needs root" >&2
  exit 3
fi
if [ -z "$(pg_lsclusters -h)" ]; then
  pg_createcluster "$(ls /usr/lib/postgresql | sort -n | tail -1)" main >/dev/null
fi
read -r version cluster port status _ < <(pg_lsclusters -h | head -n 1)
if [ "$status" != online ]; then
  pg_ctlcluster "$version" "$cluster" start 3>&-  # the server must not hold our stdout open
fi
sql() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtAc "$1"; }
for _ in $(seq 30); do sql "select 1" >/dev/null 2>&1 && break; sleep 1; done
if [ "$(sql "select 1 from pg_roles where rolname = 'tinyconv'")" != 1 ]; then
  sql "create role tinyconv login password 'tinyconv'" >/dev/null
fi
if [ "$(sql "select 1 from pg_database where datname = 'tinyconv_test'")" != 1 ]; then
  sql "create database tinyconv_test owner tinyconv" >/dev/null
fi
echo "postgresql+psycopg://tinyconv:tinyconv@localhost:$port/tinyconv_test" >&3
