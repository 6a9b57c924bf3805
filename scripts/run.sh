#!/usr/bin/env bash
# make run: starts a complete local cohort in the foreground — Redis (AOF on),
# cohort-api on a unix socket, cohort-stream and nginx — with state under var/,
# prints the URL, and stops everything cleanly on Ctrl-C. If any process dies,
# the others are stopped too and the script says which one and why.
#
# Settings (environment): COHORT_HTTP_PORT (8080), COHORT_REDIS_PORT (6399),
# COHORT_STREAM_PORT (8091), FLAVOR (release). Any COHORT_* config key works.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FLAVOR=${FLAVOR:-release}
BIN=$ROOT/build/$FLAVOR
VAR=$ROOT/var
HTTP_PORT=${COHORT_HTTP_PORT:-8080}

export COHORT_REDIS_HOST=127.0.0.1
export COHORT_REDIS_PORT=${COHORT_REDIS_PORT:-6399}
export COHORT_STREAM_HOST=127.0.0.1
export COHORT_STREAM_PORT=${COHORT_STREAM_PORT:-8091}
export COHORT_API_LISTEN=$VAR/run/api.sock
export COHORT_DB_PATH=$VAR/cohort.db
export COHORT_DB_MIGRATIONS=$ROOT/sql/sqlite
export COHORT_AUTH_SECRET_FILE=$VAR/jwt.secret
export COHORT_VAR_DIR=$VAR
export COHORT_API_DEV_EVENTS=${COHORT_API_DEV_EVENTS:-true}
export COHORT_ROOMS_ENABLED=${COHORT_ROOMS_ENABLED:-true}
export COHORT_LOG_LEVEL=${COHORT_LOG_LEVEL:-info}

mkdir -p "$VAR"/{run,log,redis,nginx}

# A previous run that was killed hard may have left processes behind: stop
# those that are still ours (same binary), forget the others.
for pidfile in "$VAR"/run/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -e "$ROOT" -e redis-server -e nginx; then
    echo "run: stopping leftover $(basename "$pidfile" .pid) (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$HTTP_PORT" "$COHORT_REDIS_PORT" "$COHORT_STREAM_PORT"; do
  if port_busy "$p"; then
    echo "run: port $p on 127.0.0.1 is already in use; set COHORT_HTTP_PORT, COHORT_REDIS_PORT or COHORT_STREAM_PORT" >&2
    exit 1
  fi
done

declare -A PIDS=()
ORDER=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping"
  local i name pid
  for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do
    name=${ORDER[$i]}
    pid=${PIDS[$name]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run: $name did not stop in 10 s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$VAR/run/$name.pid"
  done
  echo "run: stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

start() { # name logfile cmd...
  local name=$1 log=$2
  shift 2
  "$@" >>"$log" 2>&1 &
  PIDS[$name]=$!
  ORDER+=("$name")
  echo "$!" >"$VAR/run/$name.pid"
}

wait_until() { # what seconds cmd...
  local what=$1 secs=$2
  shift 2
  for _ in $(seq $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "run: $what did not come up; see $VAR/log/" >&2
  exit 1
}

cat >"$VAR/redis/redis.conf" <<EOF
port $COHORT_REDIS_PORT
bind 127.0.0.1
dir $VAR/redis
appendonly yes
appendfsync everysec
save ""
daemonize no
protected-mode yes
loglevel notice
logfile ""
EOF
start redis "$VAR/log/redis.log" redis-server "$VAR/redis/redis.conf"
wait_until Redis 10 redis-cli -p "$COHORT_REDIS_PORT" ping

"$BIN/cohort" migrate >/dev/null
"$BIN/cohort" init-secret >/dev/null
DEMO=$("$BIN/cohort" seed-demo --templates)

rm -f "$COHORT_API_LISTEN"
start api "$VAR/log/api.log" "$BIN/cohort-api"
wait_until cohort-api 10 test -S "$COHORT_API_LISTEN"

start stream "$VAR/log/stream.log" "$BIN/cohort-stream"
wait_until cohort-stream 10 port_busy "$COHORT_STREAM_PORT"

sed -e "s|@PREFIX@|$VAR/nginx|g" -e "s|@LISTEN@|127.0.0.1:$HTTP_PORT|g" \
    -e "s|@ROOT@|$ROOT/frontend/dist|g" -e "s|@DOCS@|$ROOT/docs|g" \
    -e "s|@API@|unix:$COHORT_API_LISTEN|g" \
    -e "s|@STREAM_SERVERS@|server 127.0.0.1:$COHORT_STREAM_PORT;|g" \
    conf/nginx/cohort.server.conf.in >"$VAR/nginx/cohort.server.conf"
NGINX_USER=""
[ "$(id -u)" -eq 0 ] && NGINX_USER="user root;"
sed -e "s|@PREFIX@|$VAR/nginx|g" -e "s|@SERVER_CONF@|$VAR/nginx/cohort.server.conf|g" -e "s|@USER@|$NGINX_USER|g" \
    conf/nginx/nginx.conf.in >"$VAR/nginx/nginx.conf"
start nginx "$VAR/log/nginx.log" nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -e "$VAR/nginx/nginx-error.log"
URL="http://127.0.0.1:$HTTP_PORT"
wait_until nginx 10 curl -fsS "$URL/api/v1/health"

# Demo data: a welcome event on the development stream the start page watches.
curl -fsS -X POST -H 'Content-Type: application/json' \
  --data '{"stream":"dev:demo","type":"welcome","data":{"text":"cohort is running"}}' \
  "$URL/api/v1/dev/events" >/dev/null || echo "run: could not post the demo event" >&2

cat <<EOF

  cohort is running at $URL
  demo sign-in (password cohort-demo): teacher, alice, bob, carol; admin: admin
  demo data: $DEMO
  logs: $VAR/log/   data: $VAR/
  try:  curl $URL/api/v1/health
        curl -N '$URL/stream/events?streams=dev:demo&lastEventId=dev:demo=0-0'
        curl -X POST -H 'Content-Type: application/json' \\
             --data '{"stream":"dev:demo","type":"hello","data":{"n":1}}' $URL/api/v1/dev/events
  Ctrl-C stops everything.

EOF

# Supervise: the first child to exit ends the run.
set +e
wait -n "${PIDS[@]}"
rc=$?
for name in "${ORDER[@]}"; do
  if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
    echo "run: $name exited (status $rc); last lines of its log:" >&2
    case $name in
      nginx) tail -n 20 "$VAR/nginx/nginx-error.log" >&2 ;;
      *) tail -n 20 "$VAR/log/$name.log" >&2 ;;
    esac
  fi
done
exit 1
