#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on loopback for the test suite (CI, or a root dev shell with apt).
# Prints the URL to export as MEDSPEAK_TEST_POSTGRES_URL; prints nothing when it cannot.
set -u
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; } || exit 0
  apt-get install -y -qq postgresql >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 \
    && apt-get install -y -qq postgresql >/dev/null 2>&1; } || exit 0
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
  pg_lsclusters -h 2>/dev/null | grep -q . || pg_createcluster "$version" main >/dev/null 2>&1
  pg_ctlcluster "$version" main start >/dev/null 2>&1 || exit 0
fi
password=medspeak-test-only
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD '$password'\"" >/dev/null 2>&1 || exit 0
port=$(pg_lsclusters -h | awk '$4 == "online" {print $3; exit}')
echo "postgresql+psycopg://postgres:$password@127.0.0.1:${port:-5432}/postgres"
