#!/usr/bin/env bash
# Build, start and stop PostgreSQL 15 + TimescaleDB (Apache-licensed part) for CI, on loopback.
#
#   bash .ci/timescale.sh start   # install what is missing, build TimescaleDB once (cached),
#                                 # start a cluster on a free 127.0.0.1 port as the non-root
#                                 # `postgres` user, create database `ioc`, print its URL
#                                 # (the only thing printed on stdout; progress goes to stderr)
#   bash .ci/timescale.sh stop    # stop that cluster and remove its data (no-op when none runs)
#   bash .ci/timescale.sh status  # print the URL and exit 0 if the cluster answers
#
# Environment:
#   TIMESCALE_STATE_DIR   state dir (default .ci/.timescale next to this script): url, logs,
#                         the private apt configuration and the cached build
#   TIMESCALE_DATA_DIR    parent of the cluster's data dir (default /tmp; must be reachable by
#                         the `postgres` user, which a checkout under /root is not)
#
# Where TimescaleDB comes from: no server binary is reachable here, so Debian's source package
# `timescaledb` (2.19.3, from trixie) is fetched with `apt-get source` through a PRIVATE apt
# configuration (its own sources list, state and cache dirs, a deb-src entry for trixie on the
# mirror this machine already uses); the machine's own apt sources are never changed. It is
# built against PostgreSQL 15 without the TSL part: hypertables, time_bucket and drop_chunks
# work; continuous aggregates, compression and policies do not.
set -euo pipefail

PG_MAJOR=15
TSDB_VERSION="2.19.3"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_CONFIG="$PG_BIN/pg_config"
RUN_AS=postgres

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${TIMESCALE_STATE_DIR:-$SCRIPT_DIR/.timescale}"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
BUILD_DIR="$STATE_DIR/build"
APT_DIR="$STATE_DIR/apt"
URL_FILE="$STATE_DIR/url"
PGDATA_FILE="$STATE_DIR/pgdata"
INSTALL_LOG="$STATE_DIR/install.log"
PY="${PYTHON:-python3}"

log() { printf '[timescale.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  if ((APT_UPDATED == 0)); then
    log "apt-get update (output: $INSTALL_LOG)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update >> "$INSTALL_LOG" 2>&1 \
      || { tail -n 30 "$INSTALL_LOG" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]} (output: $INSTALL_LOG)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" \
    >> "$INSTALL_LOG" 2>&1 || { tail -n 30 "$INSTALL_LOG" >&2; die "apt-get install ${missing[*]} failed"; }
}

installed_version() {  # the default_version of the installed extension, or empty
  local control
  control="$("$PG_CONFIG" --sharedir 2>/dev/null)/extension/timescaledb.control"
  [[ -f "$control" ]] && sed -n "s/^default_version = '\(.*\)'/\1/p" "$control" || true
}

source_dir() {  # the unpacked source tree (Debian names it timescaledb-VERSION+dfsg), or empty
  [[ -d "$BUILD_DIR" ]] || return 0  # a new machine: nothing built yet (find would fail)
  find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name "timescaledb-$TSDB_VERSION*" 2>/dev/null | head -n 1
}

# The mirror this machine's own apt uses for Debian (first deb822 or one-line entry).
debian_mirror() {
  local uri
  uri="$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)"
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)"
  fi
  [[ -n "$uri" ]] || die "no Debian mirror found in this machine's apt sources"
  echo "$uri"
}

# apt-get with a configuration of its own: nothing of the machine's apt state is read or written.
# Its first argument is the tool (apt-get or apt-cache).
private_apt() {
  local tool="$1"
  shift
  "$tool" -o Dir::Etc::SourceList="$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State="$APT_DIR/state" -o Dir::Cache="$APT_DIR/cache" \
    -o Dir::State::status=/var/lib/dpkg/status -o Debug::NoLocking=1 "$@"
}

ensure_timescaledb() {
  if [[ "$(installed_version)" == "$TSDB_VERSION" ]]; then
    log "TimescaleDB $TSDB_VERSION already installed for PostgreSQL $PG_MAJOR"
    return 0
  fi
  apt_install "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" cmake make gcc dpkg-dev
  local src
  src="$(source_dir)"
  if [[ -z "$src" || ! -f "$src/build/.built" ]]; then
    rm -rf "$BUILD_DIR" && mkdir -p "$BUILD_DIR" "$APT_DIR/state/lists/partial" "$APT_DIR/cache/archives/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) trixie main" \
      > "$APT_DIR/sources.list"
    log "apt-get source timescaledb=$TSDB_VERSION* (private apt configuration in $APT_DIR)"
    private_apt apt-get update >> "$INSTALL_LOG" 2>&1 || { tail -n 30 "$INSTALL_LOG" >&2; die "private apt-get update failed"; }
    local version
    version="$(private_apt apt-cache showsrc timescaledb 2>/dev/null | sed -n "s/^Version: \($TSDB_VERSION[^ ]*\)/\1/p" | head -n 1)"
    [[ -n "$version" ]] || die "Debian trixie has no source package timescaledb $TSDB_VERSION"
    (cd "$BUILD_DIR" && private_apt apt-get source "timescaledb=$version") >> "$INSTALL_LOG" 2>&1 \
      || { tail -n 30 "$INSTALL_LOG" >&2; die "apt-get source timescaledb=$version failed"; }
    src="$(source_dir)"
    [[ -n "$src" ]] || die "apt-get source left no $BUILD_DIR/timescaledb-$TSDB_VERSION*"
    log "building TimescaleDB $TSDB_VERSION (output: $INSTALL_LOG)"
    mkdir -p "$src/build"
    (cd "$src/build" \
      && cmake .. -DPG_CONFIG="$PG_CONFIG" -DAPACHE_ONLY=1 -DUSE_TELEMETRY=OFF \
        -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
      && make -j2) >> "$INSTALL_LOG" 2>&1 || { tail -n 30 "$INSTALL_LOG" >&2; die "build failed"; }
    touch "$src/build/.built"
  else
    log "using the cached build in $src/build"
  fi
  (cd "$src/build" && make install) >> "$INSTALL_LOG" 2>&1 \
    || { tail -n 30 "$INSTALL_LOG" >&2; die "make install failed"; }
  [[ "$(installed_version)" == "$TSDB_VERSION" ]] || die "TimescaleDB $TSDB_VERSION is not installed after make install"
  log "TimescaleDB $TSDB_VERSION installed into $("$PG_CONFIG" --pkglibdir)"
}

as_pg() { runuser -u "$RUN_AS" -- "$@"; }

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

do_stop() {
  local pgdata
  pgdata="$(cat "$PGDATA_FILE" 2>/dev/null || true)"
  if [[ -n "$pgdata" && -f "$pgdata/PG_VERSION" ]]; then
    log "stopping the cluster in $pgdata"
    as_pg "$PG_BIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    rm -rf "$(dirname "$pgdata")"
  fi
  rm -f "$URL_FILE" "$PGDATA_FILE"
}

do_status() {
  local url
  url="$(cat "$URL_FILE" 2>/dev/null || true)"
  if [[ -n "$url" ]] && psql "$url" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'" >/dev/null 2>&1; then
    echo "$url"
    return 0
  fi
  log "not running"
  return 1
}

do_start() {
  if do_status 2>/dev/null; then return 0; fi
  do_stop
  [[ "$(id -u)" == 0 ]] || die "run as root (it installs packages, and runs the server as $RUN_AS)"
  ensure_timescaledb
  id "$RUN_AS" >/dev/null 2>&1 || die "user $RUN_AS does not exist (postgresql-common makes it)"

  local parent pgdata port url
  parent="$(mktemp -d "${TIMESCALE_DATA_DIR:-/tmp}/ioc-timescale.XXXXXX")"
  chmod 755 "$parent"
  chown "$RUN_AS" "$parent"
  pgdata="$parent/data"
  install -d -o "$RUN_AS" -m 700 "$pgdata"
  echo "$pgdata" > "$PGDATA_FILE"
  as_pg "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >> "$INSTALL_LOG" 2>&1 || { tail -n 30 "$INSTALL_LOG" >&2; die "initdb failed"; }
  port="$(free_port)"
  cat >> "$pgdata/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pgdata'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  log "starting PostgreSQL $PG_MAJOR + TimescaleDB on 127.0.0.1:$port"
  as_pg "$PG_BIN/pg_ctl" -D "$pgdata" -l "$parent/server.log" -w -t 60 start >/dev/null \
    || { tail -n 30 "$parent/server.log" >&2; die "the cluster did not start"; }
  url="postgresql://postgres@127.0.0.1:$port/ioc"
  psql "postgresql://postgres@127.0.0.1:$port/postgres" -qAtc "CREATE DATABASE ioc TEMPLATE template0 LC_COLLATE 'C'" >/dev/null
  psql "$url" -qAtc "CREATE EXTENSION IF NOT EXISTS timescaledb" >/dev/null
  echo "$url" > "$URL_FILE"
  log "up at $url (TimescaleDB $(psql "$url" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"))"
  echo "$url"
}

cmd="${1:-}"
case "$cmd" in
  start) do_start ;;
  stop) do_stop; log "stopped" ;;
  status) do_status ;;
  *) echo "usage: bash $0 start|stop|status   (state dir: $STATE_DIR)" >&2; exit 2 ;;
esac
