#!/usr/bin/env bash
# Start, stop or report the real services the test suite and the full stack need:
# PostgreSQL and Redis from the OS packages, Apache Pulsar standalone from Maven Central;
# and the headless browser of the admin's page tests (chromium and chromedriver, OS packages).
# Services already reachable on their usual ports are reused, never restarted.
# Everything binds to 127.0.0.1 only.
#
#   scripts/services.sh up|down|status
set -euo pipefail

PULSAR_VERSION="${PULSAR_VERSION:-4.0.8}"
CACHE_DIR="${ALPES_CACHE_DIR:-$HOME/.cache/alpespartners}"
PULSAR_HOME="$CACHE_DIR/apache-pulsar-$PULSAR_VERSION"
PULSAR_ADMIN_URL="http://127.0.0.1:8080"
PULSAR_LOG="$CACHE_DIR/pulsar-standalone.log"
PULSAR_PID_FILE="$CACHE_DIR/pulsar-standalone.pid"
REDIS_PID_FILE="$CACHE_DIR/redis.pid"
DB_NAME="${ALPES_DB_NAME:-alpespartners}"
DB_USER="${ALPES_DB_USER:-alpes}"
DB_PASSWORD="${ALPES_DB_PASSWORD:-alpes}"

log() { printf '[services] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

apt_install() {
  log "installing $* from the OS packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  }
}

wait_for() {  # wait_for <seconds> <description> <command...>
  local seconds=$1 description=$2; shift 2
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "$description did not become ready within ${seconds}s"
  return 1
}

# --- PostgreSQL -------------------------------------------------------------

postgres_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

postgres_up() {
  if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ]; then
    apt_install postgresql
  fi
  if ! postgres_ready; then
    local cluster
    cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
    if [ -z "$cluster" ]; then
      local version
      version=$(ls /usr/lib/postgresql | sort -V | tail -1)
      as_root pg_createcluster "$version" main >/dev/null
      cluster="$version main"
    fi
    log "starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086
    as_root pg_ctlcluster $cluster start
    wait_for 30 PostgreSQL postgres_ready
  else
    log "PostgreSQL already running on 127.0.0.1:5432, reusing it"
  fi
  # The role needs CREATEDB so pytest-django can create its test database.
  as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD' CREATEDB;
  END IF;
END \$\$;
SQL
  if ! as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    as_postgres createdb -O "$DB_USER" "$DB_NAME"
  fi
}

postgres_down() {
  local cluster
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" {print $1" "$2; exit}')
  # shellcheck disable=SC2086
  [ -n "$cluster" ] && as_root pg_ctlcluster $cluster stop && log "PostgreSQL stopped"
  return 0
}

# --- Redis ------------------------------------------------------------------

redis_ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

redis_up() {
  command -v redis-server >/dev/null || apt_install redis-server
  if redis_ready; then
    log "Redis already running on 127.0.0.1:6379, reusing it (with append-only persistence)"
    redis-cli -h 127.0.0.1 -p 6379 config set appendonly yes >/dev/null
    return
  fi
  mkdir -p "$CACHE_DIR"
  log "starting Redis"
  # Append-only persistence: the Celery queue holds tasks whose commands are already accepted, and
  # a restart must not forget them (the sweep of stranded commands is the second line).
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --pidfile "$REDIS_PID_FILE" \
    --dir "$CACHE_DIR" --save '' --appendonly yes --appendfsync everysec --logfile "$CACHE_DIR/redis.log"
  wait_for 15 Redis redis_ready
}

redis_stop() {
  redis-cli -h 127.0.0.1 -p 6379 shutdown >/dev/null 2>&1 || true  # writes the append-only file
  for _ in $(seq 30); do redis_ready || break; sleep 0.2; done
  rm -f "$REDIS_PID_FILE"
  log "Redis stopped"
}

redis_down() {
  if [ -f "$REDIS_PID_FILE" ]; then
    redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
    rm -f "$REDIS_PID_FILE"
    log "Redis stopped"
  fi
}

# --- Apache Pulsar ----------------------------------------------------------

pulsar_ready() {
  curl -sf -m 3 "$PULSAR_ADMIN_URL/admin/v2/clusters" | grep -q standalone \
    && curl -sf -m 3 "$PULSAR_ADMIN_URL/admin/v2/namespaces/public/default" >/dev/null
}

# The broker's own health check writes and reads a message on a heartbeat topic: a broker whose
# bookie has gone faulty still answers the admin API but fails here (and would fail every test).
pulsar_healthy() {
  curl -sf -m 30 "$PULSAR_ADMIN_URL/admin/v2/brokers/health" | grep -q ok
}

pulsar_install() {
  [ -x "$PULSAR_HOME/bin/pulsar" ] && return
  mkdir -p "$CACHE_DIR"
  local tarball="$CACHE_DIR/pulsar-server-distribution-$PULSAR_VERSION-bin.tar.gz"
  if [ ! -f "$tarball" ]; then
    command -v mvn >/dev/null || apt_install maven
    log "downloading Pulsar $PULSAR_VERSION from Maven Central (about 250 MB, cached in $CACHE_DIR)"
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.apache.pulsar:pulsar-server-distribution:$PULSAR_VERSION:tar.gz:bin" \
      -DoutputDirectory="$CACHE_DIR"
  fi
  tar xzf "$tarball" -C "$CACHE_DIR"
}

# One bookie only: the client's health check would quarantine it after a few slow writes on a
# busy machine, and a quarantined only bookie leaves nothing to write to.
pulsar_configure() {
  local conf="$PULSAR_HOME/conf/standalone.conf"
  local key value
  while IFS='=' read -r key value; do
    if grep -q "^$key=" "$conf"; then
      sed -i "s|^$key=.*|$key=$value|" "$conf"
    else
      echo "$key=$value" >> "$conf"
    fi
  done <<'CONF'
bindAddress=127.0.0.1
advertisedAddress=127.0.0.1
managedLedgerDefaultEnsembleSize=1
managedLedgerDefaultWriteQuorum=1
managedLedgerDefaultAckQuorum=1
brokerDeduplicationEnabled=true
defaultRetentionTimeInMinutes=10080
defaultRetentionSizeInMB=4096
allowAutoTopicCreation=true
allowAutoTopicCreationType=non-partitioned
bookkeeperClientHealthCheckEnabled=false
CONF
}

# A standalone that died without stopping (no line in its log) can come back with its bookie's
# registration lock invalidated and re-taken in a loop, from its first second or later on: hundreds
# of log lines a second, over a core busy while idle, and a broker that ends up not answering. Counted
# since this script's last start, read backwards (a looping log grows by gigabytes).
pulsar_lock_loop() {
  [ -f "$PULSAR_LOG" ] && [ "$(tac "$PULSAR_LOG" | awk '/^=== services.sh: starting Pulsar/ {exit}
    /was invalidated. state Valid/ {if (++n > 100) exit} END {print n + 0}')" -gt 100 ]
}

pulsar_up() {
  command -v curl >/dev/null || apt_install curl
  # Looping, the broker may be too busy to answer the admin API at all: checked whether it answers or not.
  if pulsar_started_here && pulsar_lock_loop; then
    log "Pulsar's bookie registration is looping (see $PULSAR_LOG): wiping its local data and starting afresh"
    pulsar_wipe
  fi
  if pulsar_ready; then
    if pulsar_healthy; then
      log "Pulsar already answering on $PULSAR_ADMIN_URL, reusing it"
      return
    fi
    if ! pulsar_started_here; then
      log "Pulsar answers on $PULSAR_ADMIN_URL but fails its health check, and was not started by this script"
      return 1
    fi
    log "Pulsar answers but cannot store a message (health check failed): restarting it"
    pulsar_down
  elif pulsar_started_here; then
    # Running but not answering: a second standalone would fail on the first one's metadata lock.
    log "Pulsar runs but does not answer on $PULSAR_ADMIN_URL: restarting it"
    pulsar_down
  fi
  pulsar_start
  if ! wait_for 60 "Pulsar health check" pulsar_healthy; then
    # Only a broker this script started, on its own cache directory, is ever wiped.
    log "Pulsar still fails its health check after a restart: wiping its local data and starting afresh"
    pulsar_wipe
    pulsar_start
    wait_for 60 "Pulsar health check" pulsar_healthy || { tail -30 "$PULSAR_LOG" >&2; return 1; }
  fi
  sleep 3
  if pulsar_lock_loop; then
    log "Pulsar's bookie registration loops since its start (an unclean shutdown before): wiping its local data"
    pulsar_wipe
    pulsar_start
    wait_for 60 "Pulsar health check" pulsar_healthy || { tail -30 "$PULSAR_LOG" >&2; return 1; }
  fi
  log "Pulsar ready"
}

pulsar_started_here() {
  [ -f "$PULSAR_PID_FILE" ] && kill -0 "$(cat "$PULSAR_PID_FILE")" 2>/dev/null
}

pulsar_start() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  pulsar_install
  pulsar_configure
  log "starting Pulsar $PULSAR_VERSION standalone (log: $PULSAR_LOG)"
  (
    cd "$PULSAR_HOME"
    # Appended, not overwritten: the test suite restarts the broker, and a failure before a
    # restart must still be readable afterwards.
    if [ -f "$PULSAR_LOG" ] && [ "$(stat -c %s "$PULSAR_LOG")" -gt 52428800 ]; then
      mv "$PULSAR_LOG" "$PULSAR_LOG.1"
    fi
    echo "=== services.sh: starting Pulsar $(date -u +%FT%TZ) ===" >>"$PULSAR_LOG"
    PULSAR_MEM="-Xms1g -Xmx1g -XX:MaxDirectMemorySize=1g" \
    PULSAR_GC="-XX:+UseG1GC" \
      nohup bin/pulsar standalone -nfw -nss -a 127.0.0.1 >>"$PULSAR_LOG" 2>&1 &
    echo $! >"$PULSAR_PID_FILE"
  )
  wait_for 240 Pulsar pulsar_ready || { tail -30 "$PULSAR_LOG" >&2; return 1; }
}

pulsar_down() {
  [ -f "$PULSAR_PID_FILE" ] || return 0
  local pid
  pid=$(cat "$PULSAR_PID_FILE")
  if kill -0 "$pid" 2>/dev/null; then
    # SIGTERM only: a SIGKILL can leave the standalone metadata unusable on the next start.
    kill -TERM "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    log "Pulsar stopped"
  fi
  rm -f "$PULSAR_PID_FILE"
}

pulsar_wipe() {
  pulsar_down
  rm -rf "$PULSAR_HOME/data"
  log "Pulsar data removed"
}

# --- the browser ------------------------------------------------------------

# tests/e2e/test_admin_browser.py drives Debian's chromium through its chromedriver (the same
# version, from the same packages); selenium is told their paths and never downloads a browser.
CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

browser_ready() { [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; }

browser_up() {
  browser_ready || apt_install chromium chromium-driver
}

status() {
  postgres_ready && echo "postgresql: up (127.0.0.1:5432)" || echo "postgresql: down"
  redis_ready && echo "redis:      up (127.0.0.1:6379)" || echo "redis:      down"
  pulsar_ready && echo "pulsar:     up (pulsar://127.0.0.1:6650, admin $PULSAR_ADMIN_URL)" || echo "pulsar:     down"
  browser_ready && echo "browser:    $CHROMIUM, $CHROMEDRIVER" || echo "browser:    missing"
}

case "${1:-status}" in
  up) postgres_up; redis_up; pulsar_up; browser_up; status ;;
  down) pulsar_down; redis_down; postgres_down ;;
  status) status ;;
  pulsar-start) pulsar_up ;;
  pulsar-stop) pulsar_down ;;
  pulsar-wipe) pulsar_wipe ;;
  # One service at a time, for fault drills (tests/e2e/test_restarts.py stops one under load).
  stop|start)
    case "$1 ${2:-}" in
      "stop postgresql") postgres_down ;;
      "start postgresql") postgres_up ;;
      "stop redis") redis_stop ;;
      "start redis") redis_up ;;
      "stop pulsar") pulsar_down ;;
      "start pulsar") pulsar_up ;;
      *) echo "usage: $0 stop|start postgresql|redis|pulsar" >&2; exit 2 ;;
    esac ;;
  *) echo "usage: $0 up|down|status|pulsar-start|pulsar-stop|pulsar-wipe|stop SERVICE|start SERVICE" >&2; exit 2 ;;
esac
