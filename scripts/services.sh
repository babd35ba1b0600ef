#!/usr/bin/env bash
# Make PostgreSQL, Redis and Apache Kafka available on 127.0.0.1 for commerce,
# without Docker (see docker-compose.yml for the Docker way).
#
#   scripts/services.sh up          postgres + redis + kafka, then print the env (stdout)
#   scripts/services.sh down        stop Kafka (PostgreSQL and Redis are left alone)
#   scripts/services.sh status      one line per service; exit 1 if any is down
#   scripts/services.sh env         print the exports
#   scripts/services.sh kafka-up    only Kafka; prints `export KAFKA_BROKERS=...`
#   scripts/services.sh kafka-down  only Kafka
#   scripts/services.sh kafka-run CLASS [ARGS...]   run a Kafka tool on the broker's classpath,
#       e.g. kafka-run org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
#
#   scripts/services.sh cluster-up  a private 3-broker KRaft cluster (tests of leader changes, frozen
#                                   brokers, moved group coordinators); prints `export KAFKA_BROKERS=...`
#   scripts/services.sh cluster-down          stop it (only the nodes in $SERVICES_DIR/cluster, by PID)
#   scripts/services.sh cluster-node-up N     start node N of it again (after a SIGKILL), wait until it serves
#   scripts/services.sh cluster-status        one line per node; exit 1 if any is down
#
#   scripts/services.sh pg-up       a private PostgreSQL cluster (needs PG_PORT, not 5432); prints
#                                   `export DATABASE_URL=...` (database $PG_DATABASE, user postgres, trust)
#   scripts/services.sh pg-down     stop that private cluster (only the one in $SERVICES_DIR/postgres)
#   scripts/services.sh pg-status   one line for that private cluster; exit 1 if it is down
#
#   scripts/services.sh prometheus  install Debian's `prometheus` package (prometheus + promtool) when
#                                   promtool is missing; the package's own service is kept stopped:
#                                   tests run their own prometheus on a free port
#
#   eval "$(scripts/services.sh up)"      # progress goes to stderr, exports to stdout
#
# Every command is idempotent: `up` on a running setup checks and returns in well under a second.
#
# Environment (all optional):
#   KAFKA_PORT=9092  KAFKA_CONTROLLER_PORT=9093   the broker's client and controller ports
#   SERVICES_DIR=<repo>/.services                  Kafka config, data, logs and pid live in $SERVICES_DIR/kafka
#   KAFKA_LIB_DIR=<repo>/.services/kafka/lib       the jars; shared by every SERVICES_DIR so a
#                                                  second broker starts without resolving again
#   KAFKA_START_TIMEOUT=90  KAFKA_HEAP_OPTS="-Xms256m -Xmx512m"
#   A second, private broker (e.g. for a test):
#     SERVICES_DIR=/tmp/x KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 scripts/services.sh kafka-up
#     SERVICES_DIR=/tmp/x KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 scripts/services.sh kafka-down
#   The private 3-broker cluster: every node is broker and controller (a 3-voter quorum), RF 3,
#   min.insync.replicas=2, unclean leader election off, broker.session.timeout.ms
#   KAFKA_CLUSTER_BROKER_SESSION_MS (6000). Node N (1..3) listens on KAFKA_CLUSTER_PORT + 2(N-1) for
#   clients and the next port for the controller; its config, data, log and pid (kafka.pid: SIGKILL or
#   SIGSTOP it) are in $SERVICES_DIR/cluster/nodeN. C1-only JVMs with the serial GC and a small heap
#   (KAFKA_CLUSTER_HEAP_OPTS) so three fit on two cores.
#     SERVICES_DIR=/tmp/x KAFKA_CLUSTER_PORT=29092 scripts/services.sh cluster-up
#     SERVICES_DIR=/tmp/x KAFKA_CLUSTER_PORT=29092 scripts/services.sh cluster-down
#   A private PostgreSQL (e.g. for a fault test that terminates backends or restarts the server; the
#   machine's cluster on 5432 is never stopped or reconfigured): initdb + pg_ctl of the installed
#   PostgreSQL (pg_config --bindir), run as the `postgres` OS user when we are root, data, socket and
#   log in $SERVICES_DIR/postgres, listening on 127.0.0.1:$PG_PORT only, trust auth, wal_level=logical
#   (for the CDC relay; 16 replication slots and walsenders). pg-up on a cluster
#   that has data restarts it with that data (a restart test); pg-down stops it with pg_ctl -m fast.
#     SERVICES_DIR=/tmp/x PG_PORT=15432 scripts/services.sh pg-up
#     SERVICES_DIR=/tmp/x PG_PORT=15432 scripts/services.sh pg-down
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# 127.0.0.1, never localhost: Node may resolve localhost to ::1.
HOST=127.0.0.1
# PG_PORT from the environment is the private cluster's (pg-up); `up` always means the machine's 5432.
PRIVATE_PG_PORT=${PG_PORT:-}
PG_PORT=5432
PG_USER=postgres
# The pipeline's own database (the default DATABASE_URL); tests create theirs next to it.
PG_DATABASE="${PG_DATABASE:-commerce}"
REDIS_PORT=6379
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}

SERVICES_DIR=${SERVICES_DIR:-$REPO_ROOT/.services}
KAFKA_POM=$REPO_ROOT/scripts/kafka/pom.xml
KAFKA_LIB_DIR=${KAFKA_LIB_DIR:-$REPO_ROOT/.services/kafka/lib}
# Absolute paths: they end up in the broker's command line, which is how we recognise it.
case $SERVICES_DIR in /*) ;; *) SERVICES_DIR=$PWD/$SERVICES_DIR ;; esac
case $KAFKA_LIB_DIR in /*) ;; *) KAFKA_LIB_DIR=$PWD/$KAFKA_LIB_DIR ;; esac
KAFKA_HOME=$SERVICES_DIR/kafka            # this broker's own files
KAFKA_CONFIG=$KAFKA_HOME/config/server.properties
KAFKA_LOG4J=$KAFKA_HOME/config/log4j.properties
KAFKA_TOOLS_LOG4J=$KAFKA_HOME/config/tools-log4j.properties
KAFKA_DATA=$KAFKA_HOME/data
KAFKA_LOGS=$KAFKA_HOME/logs
KAFKA_PIDFILE=$KAFKA_HOME/kafka.pid
KAFKA_CLUSTER_ID_FILE=$KAFKA_HOME/cluster-id
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt-get needs root; use sudo when we are not.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  log "installing $* with apt-get"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_install "$2"; }

# True when something accepts TCP connections on $HOST:$1 (bash's /dev/tcp, no extra tools).
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

env_exports() {
  echo "export DATABASE_URL=postgres://$PG_USER@$HOST:$PG_PORT/$PG_DATABASE"
  echo "export REDIS_URL=redis://$HOST:$REDIS_PORT"
  echo "export KAFKA_BROKERS=$HOST:$KAFKA_PORT"
}

# ---------------------------------------------------------------- PostgreSQL
pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then pg_isready -q -h "$HOST" -p "$PG_PORT"; else port_open "$PG_PORT"; fi
}
pg_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U "$PG_USER" "$@"; }
pg_version() { find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1; }

pg_up() {
  if ! pg_ready; then
    local fresh=0
    if [ -z "$(pg_version)" ]; then apt_install postgresql; fresh=1; fi
    local ver; ver=$(pg_version)
    # A Debian cluster asks for a password on 127.0.0.1; DATABASE_URL has none, so on a cluster this
    # script installs or starts (a dev/CI box) trust local TCP connections. A running cluster is
    # never touched.
    local hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      log "trusting 127.0.0.1 in $hba (local development cluster)"
      as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
      fresh=1
    fi
    # Installed but stopped (or the package's postinst did not start it: no systemd here).
    if ! pg_ready; then
      log "starting PostgreSQL $ver"
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2
    elif [ "$fresh" -eq 1 ]; then
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >&2
    fi
    local _; for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    pg_ready || die "PostgreSQL did not come up on $HOST:$PG_PORT"
  fi
  need_cmd psql postgresql-client
  if [ -z "$(pg_psql -d postgres -tAc "select 1 from pg_database where datname = '$PG_DATABASE'")" ]; then
    log "creating database $PG_DATABASE"
    pg_psql -d postgres -c "create database \"$PG_DATABASE\"" >&2
  fi
}

pg_status() {
  if pg_ready; then
    local db=missing
    [ -n "$(pg_psql -d postgres -tAc "select 1 from pg_database where datname = '$PG_DATABASE'" 2>/dev/null)" ] && db=present
    echo "postgres  up    $HOST:$PG_PORT (database $PG_DATABASE: $db)"
  else
    echo "postgres  down  $HOST:$PG_PORT"; return 1
  fi
}

# ------------------------------------------------------ private PostgreSQL
PGP_HOME=$SERVICES_DIR/postgres            # this cluster's own files
PGP_DATA=$PGP_HOME/data
PGP_LOG=$PGP_HOME/postgres.log

pgp_bin() {
  local dir; dir=$(pg_config --bindir 2>/dev/null || true)
  [ -x "$dir/pg_ctl" ] || dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n1)
  [ -x "$dir/pg_ctl" ] || die "no pg_ctl found (install postgresql)"
  echo "$dir"
}
# initdb and the server refuse to run as root: run them as the postgres OS user then.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgp_port() {
  [ -n "$PRIVATE_PG_PORT" ] || die "set PG_PORT to the private cluster's port"
  [ "$PRIVATE_PG_PORT" != 5432 ] || die "PG_PORT=5432 is the machine's cluster; pick another port"
  echo "$PRIVATE_PG_PORT"
}
pgp_ready() { pg_isready -q -h "$HOST" -p "$1" -d postgres -U postgres; }
pgp_running() { [ -f "$PGP_DATA/postmaster.pid" ] && as_pg "$(pgp_bin)/pg_ctl" -D "$PGP_DATA" status >/dev/null 2>&1; }

pgp_up() {
  local port bin; port=$(pgp_port); bin=$(pgp_bin)
  mkdir -p "$PGP_HOME"
  [ -f "$SERVICES_DIR/.gitignore" ] || echo '*' >"$SERVICES_DIR/.gitignore"
  exec 7>"$PGP_HOME/.lock"; flock -w 120 7 || die "timed out waiting for $PGP_HOME/.lock"
  # The postgres user must reach its directory: a mkdtemp SERVICES_DIR is 0700.
  if [ "$(id -u)" -eq 0 ]; then chmod a+x "$SERVICES_DIR"; chown postgres: "$PGP_HOME"; fi
  if [ ! -f "$PGP_DATA/PG_VERSION" ]; then
    log "initdb $PGP_DATA (trust auth, user postgres)"
    as_pg "$bin/initdb" -D "$PGP_DATA" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  fi
  if ! pgp_running; then
    port_open "$port" && die "port $port is taken by another process; set PG_PORT"
    log "starting private PostgreSQL on $HOST:$port (dir $PGP_HOME)"
    # fsync off: a test cluster; a clean or immediate stop of the server still loses no commit.
    # wal_level=logical (+ slots and walsenders): the CDC relay (relay run --mode cdc) and its tests
    # and bench need logical decoding, which the machine's shared cluster (wal_level=replica) lacks.
    # Costs the other users of a private cluster nothing measurable (a few more bytes of WAL per change).
    # 7>&-: the server must not inherit our lock file, or it would hold it forever.
    as_pg "$bin/pg_ctl" -D "$PGP_DATA" -l "$PGP_LOG" -w -t 60 start -o \
      "-p $port -c listen_addresses=$HOST -c unix_socket_directories=$PGP_HOME -c max_connections=200 -c fsync=off -c wal_level=logical -c max_replication_slots=16 -c max_wal_senders=16" >&2 7>&- \
      || { tail -n 20 "$PGP_LOG" >&2; die "private PostgreSQL did not start (log $PGP_LOG)"; }
  fi
  local _; for _ in $(seq 1 60); do pgp_ready "$port" && break; sleep 0.5; done
  pgp_ready "$port" || die "private PostgreSQL not ready on $HOST:$port (log $PGP_LOG)"
  if [ -z "$(psql -X -h "$HOST" -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname = '$PG_DATABASE'")" ]; then
    psql -X -q -h "$HOST" -p "$port" -U postgres -d postgres -c "create database \"$PG_DATABASE\"" >&2
  fi
  exec 7>&-
  echo "export DATABASE_URL=postgres://postgres@$HOST:$port/$PG_DATABASE"
}

pgp_down() {
  [ -d "$PGP_HOME" ] || { log "no private PostgreSQL in $PGP_HOME"; return 0; }
  exec 7>"$PGP_HOME/.lock"; flock -w 120 7 || die "timed out waiting for $PGP_HOME/.lock"
  if pgp_running; then
    log "stopping private PostgreSQL ($PGP_HOME)"
    as_pg "$(pgp_bin)/pg_ctl" -D "$PGP_DATA" -m fast -w -t 60 stop >&2
  else
    log "private PostgreSQL ($PGP_HOME) is not running"
  fi
  exec 7>&-
}

pgp_status() {
  local port; port=$(pgp_port)
  if pgp_running && pgp_ready "$port"; then echo "postgres  up    $HOST:$port (private, dir $PGP_HOME)"
  else echo "postgres  down  $HOST:$port (private, dir $PGP_HOME)"; return 1; fi
}

# --------------------------------------------------------------------- Redis
redis_ready() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else # speak RESP over /dev/tcp when redis-cli is not there
    # shellcheck disable=SC2016 # $0/$1 are the inner shell's arguments
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "PING\r\n" >&3; head -c 5 <&3' "$HOST" "$REDIS_PORT" 2>/dev/null | grep -q '+PONG'
  fi
}

redis_up() {
  redis_ready && return 0
  need_cmd redis-server redis-server
  # The package's postinst may already have started it.
  if ! redis_ready; then
    log "starting Redis on $HOST:$REDIS_PORT (no persistence: a cache and a ranking, tests only)"
    redis-server --daemonize yes --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no >&2
  fi
  local _; for _ in $(seq 1 50); do redis_ready && return 0; sleep 0.2; done
  die "Redis did not come up on $HOST:$REDIS_PORT"
}

redis_status() {
  if redis_ready; then echo "redis     up    $HOST:$REDIS_PORT"; else echo "redis     down  $HOST:$REDIS_PORT"; return 1; fi
}

# --------------------------------------------------------------------- Kafka
# Readiness without a JVM: send a Kafka Metadata v4 request (all topics) over /dev/tcp and
# check the reply carries our correlation id and at least one broker. A broker only answers
# this once it serves clients, so it is "a client can list topics", in ~10 ms.
kafka_answers() {
  local port=$1 min_brokers=${2:-1} out
  # shellcheck disable=SC2016 # $0/$1 are the inner shell's arguments
  out=$(timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1"
      # size=20 | api_key=3 (Metadata) | api_version=4 | correlation_id=1 | client_id="probe"
      # | topics=null (all) | allow_auto_topic_creation=false
      printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x01\x00\x05probe\xff\xff\xff\xff\x00" >&3
      head -c 16 <&3 | od -An -tx1 -v' "$HOST" "$port" 2>/dev/null) || return 1
  # reply: size(4) correlation_id(4) throttle_time_ms(4) broker_count(4)
  # shellcheck disable=SC2086 # split the hex bytes into $1..$16
  set -- $out
  [ $# -eq 16 ] && [ "$5$6$7$8" = 00000001 ] && [ $((16#${13}${14}${15}${16})) -ge "$min_brokers" ]
}

kafka_pid() { cat "$KAFKA_PIDFILE" 2>/dev/null || true; }

# Our broker is alive: the pid in the pidfile is a java running *this* config (not a reused pid).
kafka_alive() {
  local pid; pid=$(kafka_pid)
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $KAFKA_CONFIG"
}

# Run a Kafka tool class on the broker's classpath; small heap and quick-start flags,
# warnings only, on stderr.
kafka_tool() {
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" -cp "$KAFKA_LIB_DIR/*" "$@"
}

write_if_changed() { # file content: only touch the file when the content differs
  [ -f "$1" ] && [ "$(cat "$1")" = "$2" ] && return 0
  printf '%s\n' "$2" >"$1"
}

# Resolve the jars from Maven Central once. The stamp holds the pom's checksum, so editing
# the pom (e.g. a new Kafka version) re-resolves; otherwise this is one sha256sum.
kafka_resolve() {
  local sum; sum=$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)
  [ "$(cat "$KAFKA_LIB_DIR/.stamp" 2>/dev/null)" = "$sum" ] && return 0
  mkdir -p "$(dirname "$KAFKA_LIB_DIR")"
  # Two brokers starting at once share KAFKA_LIB_DIR: one resolves, the other waits.
  exec 8>"$KAFKA_LIB_DIR.lock"; flock -w 600 8 || die "timed out waiting for $KAFKA_LIB_DIR.lock"
  if [ "$(cat "$KAFKA_LIB_DIR/.stamp" 2>/dev/null)" != "$sum" ]; then
    need_cmd "$JAVA" default-jre-headless
    need_cmd mvn maven
    log "resolving Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIB_DIR (once; needs the network unless ~/.m2 has it)"
    local tmp=$KAFKA_LIB_DIR.tmp.$$
    rm -rf "$tmp"
    # (sed: Debian's Maven 3.8 prints colour codes even with -B and no terminal.)
    mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 \
      | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2 || { rm -rf "$tmp"; die "mvn could not resolve Kafka"; }
    echo "$sum" >"$tmp/.stamp"
    rm -rf "$KAFKA_LIB_DIR" && mv "$tmp" "$KAFKA_LIB_DIR"   # swap whole, never half-copied
  fi
  exec 8>&-
}

kafka_tools_configure() {
  mkdir -p "$KAFKA_HOME/config"
  # Keep generated files out of git without touching the repo's .gitignore.
  [ -f "$SERVICES_DIR/.gitignore" ] || echo '*' >"$SERVICES_DIR/.gitignore"
  write_if_changed "$KAFKA_TOOLS_LOG4J" "# Command-line tools: warnings only, on stderr.
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n"
}

# A broker's log4j config (file, log dir): INFO to a rolling server.log, chatty loggers at WARN.
write_broker_log4j() {
  write_if_changed "$1" "# Broker log: $2/server.log
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$2/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN"
}

kafka_configure() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  kafka_tools_configure
  write_if_changed "$KAFKA_CONFIG" "# Generated by scripts/services.sh; edits are overwritten.
# KRaft single node: this process is both the broker and the (only) controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA
# One broker: every replication factor is 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=3
# Topics are created by the CLI; a typo in a topic name must fail, not create a topic.
auto.create.topics.enable=false
delete.topic.enable=true
# Consumer groups start at once instead of waiting 3 s for more members (fast tests).
group.initial.rebalance.delay.ms=0"
  write_broker_log4j "$KAFKA_LOG4J" "$KAFKA_LOGS"
  # Format the storage once; the cluster id is made once and kept next to it.
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    [ -s "$KAFKA_CLUSTER_ID_FILE" ] || kafka_tool kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID_FILE"
    log "formatting KRaft storage in $KAFKA_DATA (cluster id $(cat "$KAFKA_CLUSTER_ID_FILE"))"
    kafka_tool kafka.tools.StorageTool format -g -t "$(cat "$KAFKA_CLUSTER_ID_FILE")" -c "$KAFKA_CONFIG" >&2
  fi
}

kafka_start() {
  local p; for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && die "port $p is taken by another process; set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
  done
  log "starting Kafka $KAFKA_VERSION on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, dir $KAFKA_HOME)"
  # nohup + setsid: the broker outlives this shell and its process group (Ctrl-C, test runners).
  # 8>&- 9>&-: do not hand our lock files to the broker, or it would hold them forever.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of flags
  nohup setsid "$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_LOGS" -Dlog4j.configuration="file:$KAFKA_LOG4J" \
    -cp "$KAFKA_LIB_DIR/*" kafka.Kafka "$KAFKA_CONFIG" \
    </dev/null >>"$KAFKA_LOGS/stdout.log" 2>&1 8>&- 9>&- &
  echo $! >"$KAFKA_PIDFILE"
  sha256sum "$KAFKA_POM" | cut -d' ' -f1 >"$KAFKA_HOME/running.stamp"

  # Wait until it answers Metadata, then confirm once with the real admin client.
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until kafka_answers "$KAFKA_PORT"; do
    # The process, not its command line: right after the launch it may still be nohup or setsid.
    if ! kill -0 "$(kafka_pid)" 2>/dev/null; then
      tail -n 30 "$KAFKA_LOGS/server.log" "$KAFKA_LOGS/stdout.log" >&2 2>/dev/null || true
      rm -f "$KAFKA_PIDFILE"; die "Kafka exited during startup (logs in $KAFKA_LOGS)"
    fi
    [ $SECONDS -lt $deadline ] || { kafka_stop; die "Kafka not ready after ${KAFKA_START_TIMEOUT}s (logs in $KAFKA_LOGS)"; }
    sleep 0.3
  done
  until kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$KAFKA_PORT" --list >/dev/null; do
    [ $SECONDS -lt $deadline ] || { kafka_stop; die "Kafka not listing topics after ${KAFKA_START_TIMEOUT}s"; }
    sleep 1
  done
  log "Kafka ready on $HOST:$KAFKA_PORT (pid $(kafka_pid), log $KAFKA_LOGS/server.log)"
}

kafka_stop() {
  if kafka_alive; then
    local pid; pid=$(kafka_pid)
    log "stopping Kafka (pid $pid, $HOST:$KAFKA_PORT)"
    kill -TERM "$pid"   # controlled shutdown: flushes logs, next start needs no recovery
    local _; for _ in $(seq 1 150); do kafka_alive || break; sleep 0.2; done
    if kafka_alive; then log "Kafka still running after 30s; killing it"; kill -KILL "$pid"; sleep 0.5; fi
  elif kafka_answers "$KAFKA_PORT"; then
    log "a Kafka broker on $HOST:$KAFKA_PORT was not started from $KAFKA_HOME; leaving it alone"
  else
    log "Kafka ($HOST:$KAFKA_PORT, $KAFKA_HOME) is not running"
  fi
  rm -f "$KAFKA_PIDFILE"
}

kafka_up() {
  mkdir -p "$KAFKA_HOME"
  # One kafka-up/down at a time per SERVICES_DIR (parallel test runners).
  exec 9>"$KAFKA_HOME/.lock"; flock -w 300 9 || die "timed out waiting for $KAFKA_HOME/.lock"
  kafka_resolve
  if kafka_alive; then
    # Jars changed under a running broker (pom edited): restart it on the new ones.
    if [ "$(cat "$KAFKA_HOME/running.stamp" 2>/dev/null)" != "$(cat "$KAFKA_LIB_DIR/.stamp")" ]; then
      log "the Kafka jars changed; restarting the broker"
      kafka_stop
    elif kafka_answers "$KAFKA_PORT"; then
      exec 9>&-; return 0   # already up: the fast path
    else
      # Alive but not answering: still starting (another caller) or wedged. Wait, don't restart.
      log "Kafka (pid $(kafka_pid)) is running but not answering yet; waiting"
      local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
      until kafka_answers "$KAFKA_PORT"; do
        [ $SECONDS -lt $deadline ] || die "Kafka (pid $(kafka_pid)) not answering; see $KAFKA_LOGS/server.log or run kafka-down"
        sleep 0.5
      done
      exec 9>&-; return 0
    fi
  elif kafka_answers "$KAFKA_PORT"; then
    # Same idea as PostgreSQL and Redis: a broker that is already there (e.g. docker compose) is used.
    log "a Kafka broker already answers on $HOST:$KAFKA_PORT (not started by this script); using it"
    exec 9>&-; return 0
  fi
  kafka_configure
  kafka_start
  exec 9>&-
}

kafka_down() {
  mkdir -p "$KAFKA_HOME"
  exec 9>"$KAFKA_HOME/.lock"; flock -w 300 9 || die "timed out waiting for $KAFKA_HOME/.lock"
  kafka_stop
  exec 9>&-
}

kafka_status() {
  if kafka_alive && kafka_answers "$KAFKA_PORT"; then
    echo "kafka     up    $HOST:$KAFKA_PORT (Kafka $KAFKA_VERSION, pid $(kafka_pid), dir $KAFKA_HOME)"
  elif kafka_alive; then
    echo "kafka     starting/unresponsive  $HOST:$KAFKA_PORT (pid $(kafka_pid), log $KAFKA_LOGS/server.log)"; return 1
  elif kafka_answers "$KAFKA_PORT"; then
    echo "kafka     up    $HOST:$KAFKA_PORT (not managed by this script)"
  else
    echo "kafka     down  $HOST:$KAFKA_PORT"; return 1
  fi
}

# ------------------------------------------------------ private 3-broker cluster
KAFKA_CLUSTER_PORT=${KAFKA_CLUSTER_PORT:-29092}
KAFKA_CLUSTER_BROKER_SESSION_MS=${KAFKA_CLUSTER_BROKER_SESSION_MS:-6000}
KAFKA_CLUSTER_HEAP_OPTS=${KAFKA_CLUSTER_HEAP_OPTS:--Xms128m -Xmx384m}
CLUSTER_HOME=$SERVICES_DIR/cluster
CLUSTER_NODES="1 2 3"

cl_port() { echo $((KAFKA_CLUSTER_PORT + 2 * ($1 - 1))); }
cl_controller_port() { echo $((KAFKA_CLUSTER_PORT + 2 * ($1 - 1) + 1)); }
cl_home() { echo "$CLUSTER_HOME/node$1"; }
cl_config() { echo "$(cl_home "$1")/config/server.properties"; }
cl_pid() { cat "$(cl_home "$1")/kafka.pid" 2>/dev/null || true; }
cl_alive() {
  local pid; pid=$(cl_pid "$1")
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $(cl_config "$1")"
}
cl_brokers() {
  local n list=""
  for n in $CLUSTER_NODES; do list="$list${list:+,}$HOST:$(cl_port "$n")"; done
  echo "$list"
}

cl_configure() {
  local n=$1 home voters="" m
  home=$(cl_home "$n")
  for m in $CLUSTER_NODES; do voters="$voters${voters:+,}$m@$HOST:$(cl_controller_port "$m")"; done
  mkdir -p "$home/config" "$home/data" "$home/logs"
  write_if_changed "$(cl_config "$n")" "# Generated by scripts/services.sh (cluster node $n); edits are overwritten.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(cl_port "$n"),CONTROLLER://$HOST:$(cl_controller_port "$n")
advertised.listeners=PLAINTEXT://$HOST:$(cl_port "$n")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
# A real cluster's durability settings: three copies, two must have every acknowledged record.
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
num.partitions=3
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
# A frozen or killed broker is fenced by the controller after this long (tests wait for it).
broker.session.timeout.ms=$KAFKA_CLUSTER_BROKER_SESSION_MS
broker.heartbeat.interval.ms=$((KAFKA_CLUSTER_BROKER_SESSION_MS / 6))
replica.lag.time.max.ms=$((KAFKA_CLUSTER_BROKER_SESSION_MS * 2))"
  write_broker_log4j "$home/config/log4j.properties" "$home/logs"
  if [ ! -f "$home/data/meta.properties" ]; then
    kafka_tool kafka.tools.StorageTool format -g -t "$(cat "$CLUSTER_HOME/cluster-id")" -c "$(cl_config "$n")" >/dev/null
  fi
}

# Start one node in the background (it cannot serve clients before a quorum of controllers is up).
cl_launch() {
  local n=$1 home p; home=$(cl_home "$n")
  for p in "$(cl_port "$n")" "$(cl_controller_port "$n")"; do
    port_open "$p" && die "port $p is taken by another process; set KAFKA_CLUSTER_PORT"
  done
  # shellcheck disable=SC2086 # KAFKA_CLUSTER_HEAP_OPTS is a list of flags
  nohup setsid "$JAVA" $KAFKA_CLUSTER_HEAP_OPTS -server -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dkafka.logs.dir="$home/logs" \
    -Dlog4j.configuration="file:$home/config/log4j.properties" \
    -cp "$KAFKA_LIB_DIR/*" kafka.Kafka "$(cl_config "$n")" \
    </dev/null >>"$home/logs/stdout.log" 2>&1 8>&- 9>&- &
  echo $! >"$home/kafka.pid"
}

# Ready: the node answers Metadata listing all three brokers.
cl_wait() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) n
  for n in "$@"; do
    until kafka_answers "$(cl_port "$n")" 3; do
      # The process, not its command line: right after the launch it may still be nohup or setsid.
      kill -0 "$(cl_pid "$n")" 2>/dev/null || { tail -n 30 "$(cl_home "$n")/logs/server.log" >&2 2>/dev/null || true; die "cluster node $n exited during startup (logs in $(cl_home "$n")/logs)"; }
      [ $SECONDS -lt $deadline ] || die "cluster node $n not ready after ${KAFKA_START_TIMEOUT}s (logs in $(cl_home "$n")/logs)"
      sleep 0.3
    done
  done
}

cluster_up() {
  mkdir -p "$CLUSTER_HOME"
  [ -f "$SERVICES_DIR/.gitignore" ] || echo '*' >"$SERVICES_DIR/.gitignore"
  exec 9>"$CLUSTER_HOME/.lock"; flock -w 300 9 || die "timed out waiting for $CLUSTER_HOME/.lock"
  kafka_resolve; kafka_tools_configure
  [ -s "$CLUSTER_HOME/cluster-id" ] || kafka_tool kafka.tools.StorageTool random-uuid >"$CLUSTER_HOME/cluster-id"
  local n started=""
  for n in $CLUSTER_NODES; do
    cl_alive "$n" && continue
    cl_configure "$n"; cl_launch "$n"; started="$started $n"
  done
  [ -z "$started" ] || log "starting Kafka cluster nodes$started on $(cl_brokers) (dir $CLUSTER_HOME)"
  # shellcheck disable=SC2086 # the node numbers
  cl_wait $CLUSTER_NODES
  exec 9>&-
  echo "export KAFKA_BROKERS=$(cl_brokers)"
}

cluster_node_up() {
  local n=${1:-}; case $n in 1|2|3) ;; *) die "cluster-node-up takes a node number (1, 2 or 3)" ;; esac
  if ! cl_alive "$n"; then
    log "starting cluster node $n on $HOST:$(cl_port "$n")"
    cl_configure "$n"; cl_launch "$n"
  fi
  cl_wait "$n"
}

cluster_down() {
  [ -d "$CLUSTER_HOME" ] || { log "no cluster in $CLUSTER_HOME"; return 0; }
  log "stopping Kafka cluster ($CLUSTER_HOME)"
  # Test clusters hold nothing worth a controlled shutdown; a stopped quorum would stall one anyway.
  local n; for n in $CLUSTER_NODES; do
    local pid; pid=$(cl_pid "$n")
    if cl_alive "$n"; then kill -KILL "$pid"; fi
    rm -f "$(cl_home "$n")/kafka.pid"
  done
}

cluster_status() {
  local n rc=0
  for n in $CLUSTER_NODES; do
    if cl_alive "$n" && kafka_answers "$(cl_port "$n")"; then echo "kafka-$n   up    $HOST:$(cl_port "$n") (pid $(cl_pid "$n"))"
    elif cl_alive "$n"; then echo "kafka-$n   unresponsive  $HOST:$(cl_port "$n") (pid $(cl_pid "$n"))"; rc=1
    else echo "kafka-$n   down  $HOST:$(cl_port "$n")"; rc=1; fi
  done
  return $rc
}

# ---------------------------------------------------------------- Prometheus
# The Debian package's postinst would start a system prometheus on :9090. A policy-rc.d that denies
# service starts (the Debian way for containers) keeps it from starting during the install; one it
# started anyway (an existing policy allowed it) is stopped. Our tests never use :9090.
prometheus_install() {
  if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then return 0; fi
  local policy=/usr/sbin/policy-rc.d placed=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"; placed=1
  fi
  log "installing prometheus with apt-get"
  as_root apt-get update -qq >&2
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2 || rc=$?
  [ "$placed" -eq 0 ] || as_root rm -f "$policy"
  [ "$rc" -eq 0 ] || die "apt-get install prometheus failed"
  if pgrep -u prometheus -x prometheus >/dev/null 2>&1; then
    log "stopping the package's prometheus service"
    as_root service prometheus stop >&2 || true
  fi
  command -v promtool >/dev/null 2>&1 || die "promtool missing after installing prometheus"
}

# ---------------------------------------------------------------------- main
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

case "${1:-}" in
  up)
    pg_up; redis_up; kafka_up
    env_exports ;;
  down)
    kafka_down
    log "PostgreSQL and Redis are this machine's services: left running" ;;
  status)
    rc=0
    pg_status || rc=1; redis_status || rc=1; kafka_status || rc=1
    exit $rc ;;
  env) env_exports ;;
  kafka-up)
    kafka_up
    echo "export KAFKA_BROKERS=$HOST:$KAFKA_PORT" ;;
  kafka-down) kafka_down ;;
  cluster-up) cluster_up ;;
  cluster-down) cluster_down ;;
  cluster-node-up) cluster_node_up "${2:-}" ;;
  cluster-status) cluster_status ;;
  pg-up) pgp_up ;;
  pg-down) pgp_down ;;
  pg-status) pgp_status ;;
  prometheus) prometheus_install ;;
  kafka-run)
    shift; [ $# -ge 1 ] || usage
    kafka_resolve; kafka_tools_configure
    kafka_tool "$@" ;;
  *) usage ;;
esac
