#!/usr/bin/env bash
# PostgreSQL for the tests. Uses the server on 127.0.0.1:5432 when one
# answers (the project's machines have one: trust auth, user postgres);
# otherwise installs Debian's postgresql, starts its cluster with
# pg_ctlcluster and lets the local user postgres in without a password.
# Either way it makes sure the database "test" exists and sets
# TEST_DATABASE_URL to it; each test then creates and drops a fresh
# database of its own on that server (internal/pgtest).
#
#   eval "$(.ci/postgres.sh)"     # from .ci/run: exports TEST_DATABASE_URL
#
# Progress goes to stderr; stdout holds only the export line.
# PG_CI_PORT and PG_CI_CLUSTER (default 5432, main) choose another port or
# cluster, e.g. to try the install path beside a running server.
set -euo pipefail

pg_ci_main() {
  local port=${PG_CI_PORT:-5432} name=${PG_CI_CLUSTER:-main}
  local url="postgres://postgres@127.0.0.1:${port}/test"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"

  if ! command -v pg_isready >/dev/null || ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
      echo "== installing Debian's postgresql" >&2
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >&2
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n {found=1} END {exit !found}'; then
      echo "== creating cluster $version/$name on port $port" >&2
      $sudo pg_createcluster "$version" "$name" --port "$port" >&2
    fi
    # Trust local TCP connections, as on the project's machines.
    local hba="/etc/postgresql/$version/$name/pg_hba.conf"
    if ! $sudo grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      $sudo sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    echo "== starting PostgreSQL $version/$name on 127.0.0.1:$port" >&2
    $sudo pg_ctlcluster "$version" "$name" start >&2 || $sudo pg_ctlcluster "$version" "$name" reload >&2
    local i
    for i in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p "$port" && break
      sleep 1
    done
    pg_isready -h 127.0.0.1 -p "$port" >&2
  else
    echo "== using the PostgreSQL answering on 127.0.0.1:$port" >&2
  fi

  if ! psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE test" >&2
  fi
  psql -h 127.0.0.1 -p "$port" -U postgres -d test -Atqc "SELECT version()" >&2
  TEST_DATABASE_URL=$url
  export TEST_DATABASE_URL
  echo "export TEST_DATABASE_URL='$url'"
}

pg_ci_main
