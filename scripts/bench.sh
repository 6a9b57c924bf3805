#!/usr/bin/env bash
# make bench: starts a private cohort (Redis, cohort-api, cohort-stream, the
# hello-fcgi baseline and nginx on free 127.0.0.1 ports in a temp dir, through
# tests/integ/lib/cluster-cli.mjs), runs the default cohort-bench scenarios
# against it (SSE fanout first, then the REST files scenarios, then live
# editing), and writes
# var/bench/<scenario>.json, var/bench/summary.txt and var/bench/report.html.
# Every process is stopped by PID at the end, also on failure or Ctrl-C.
#
# The scenarios and their targets are described in docs/bench.md. Targets are
# reported (pass/fail in the JSON and the report), never asserted: the script
# fails only when a scenario could not run or the cluster did not stop cleanly.
#
# Environment: FLAVOR (release), COHORT_BIN_DIR (build/$FLAVOR),
# COHORT_BENCH_OUT (var/bench), COHORT_BENCH_ONLY (space-separated scenario
# names to run), COHORT_BENCH_QUIET_WAIT (30: most seconds to wait before a
# scenario for other work on the machine to quiet down).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FLAVOR=${FLAVOR:-release}
BIN=$(cd "${COHORT_BIN_DIR:-build/$FLAVOR}" 2>/dev/null && pwd) || { echo "bench: no ${COHORT_BIN_DIR:-build/$FLAVOR} (run make first)"; exit 1; }
OUT=${COHORT_BENCH_OUT:-$ROOT/var/bench}
ONLY=${COHORT_BENCH_ONLY:-}
BENCH=$BIN/cohort-bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cohort-bench.XXXXXX")
CLUSTER_PID=
declare -A PIDS=()
FAILED=0

log() { echo "bench: $*"; }

# The cluster's own processes, in case cluster-cli itself died and could not
# stop them: only a PID whose command line is still what we started is killed.
kill_leftovers() {
  local name pid
  for name in "${!PIDS[@]}"; do
    pid=${PIDS[$name]}
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -e cohort-stream -e cohort-api -e redis-server -e nginx -e hello-fcgi; then
      log "stopping leftover $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

stop_cluster() {
  local rc=0
  if [ -n "$CLUSTER_PID" ] && kill -0 "$CLUSTER_PID" 2>/dev/null; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    # cluster-cli waits up to 15 s per process before SIGKILL.
    for _ in $(seq 600); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$CLUSTER_PID" 2>/dev/null; then
      log "cluster-cli (pid $CLUSTER_PID) did not stop; killing it"
      kill -KILL "$CLUSTER_PID" 2>/dev/null || true
      rc=1
    fi
    wait "$CLUSTER_PID" 2>/dev/null || rc=$?
  fi
  CLUSTER_PID=
  kill_leftovers
  if [ "$rc" -ne 0 ]; then
    log "the cluster did not stop cleanly (exit $rc):"
    sed 's/^/  /' "$WORK/cluster.err" >&2 || true
  fi
  return "$rc"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_cluster || rc=1
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

for b in "$BENCH" "$BIN/cohort-stream" "$BIN/cohort" "$BIN/cohort-api"; do
  [ -x "$b" ] || { log "missing $b (run make first)"; exit 1; }
done
command -v node >/dev/null || { log "node is required"; exit 1; }
mkdir -p "$OUT"

# Other work on the machine takes CPU from the system under test: say so.
cpu_busy_pct() {
  local a b
  read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
  sleep 1
  read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
  a=$((a1 + a2 + a3 + a6 + a7 + a8)); b=$((b1 + b2 + b3 + b6 + b7 + b8))
  local idle=$(((b4 + b5) - (a4 + a5)))
  echo $(((b - a) * 100 / ((b - a) + idle + 1)))
}
# Before each scenario, wait (up to COHORT_BENCH_QUIET_WAIT seconds, 30) for
# other work to quiet down; the JSON records what the rest of the machine
# used during the run anyway (cpu.unaccounted_pct).
wait_quiet() {
  local end=$((SECONDS + ${COHORT_BENCH_QUIET_WAIT:-30})) busy
  while :; do
    busy=$(cpu_busy_pct)
    [ "$busy" -le 15 ] && return 0
    if [ $SECONDS -ge $end ]; then
      log "warning: the machine is ${busy}% busy with other work; numbers will be lower"
      return 0
    fi
  done
}

# ---- cluster ---------------------------------------------------------------
# Log at info: the harness default (debug) writes a line per connection.
# --hello-fcgi: the trivial FastCGI responder the files scenario compares
# cohort-api with, behind the same nginx at /bench/hello.
log "starting Redis, cohort-api, cohort-stream, hello-fcgi and nginx on free ports"
COHORT_BIN_DIR=$BIN node tests/integ/lib/cluster-cli.mjs --hello-fcgi \
  --env COHORT_LOG_LEVEL=info >"$WORK/cluster.json" 2>"$WORK/cluster.err" &
CLUSTER_PID=$!
for _ in $(seq 600); do
  [ -s "$WORK/cluster.json" ] && break
  kill -0 "$CLUSTER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ ! -s "$WORK/cluster.json" ]; then
  log "the cluster did not start:"
  sed 's/^/  /' "$WORK/cluster.err" >&2
  exit 1
fi
field() { node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = process.argv[2].split(".").reduce((o, k) => o?.[k], c); console.log(v ?? "")' "$WORK/cluster.json" "$1"; }
URL=$(field url)
DIRECT=$(field streamUrls.0)
REDIS_PORT=$(field redisPort)
for name in redis stream0 nginx api hello; do PIDS[$name]=$(field "pids.$name"); done
STREAM_PID=${PIDS[stream0]}
log "nginx $URL, streamer $DIRECT (pid $STREAM_PID), Redis 127.0.0.1:$REDIS_PORT"

# The harness runs Redis with appendfsync always (tests want durability);
# measure with the setting `make run` uses, so an fsync per write is not
# what the latency shows.
redis-cli -p "$REDIS_PORT" CONFIG SET appendfsync everysec >/dev/null

# ---- scenarios -------------------------------------------------------------
: >"$OUT/summary.txt"
RESULTS=()

wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# One scenario: skipped unless wanted; otherwise waits for quiet, runs the
# command with --name and --out (its JSON path) added at the end,
# appends its text to summary.txt and records its JSON.
scenario() {
  local name=$1; shift
  wanted "$name" || return 1
  wait_quiet
  log "scenario $name"
  rm -f "$OUT/$name.json"
  if "$@" --name "$name" --out "$OUT/$name.json" | tee -a "$OUT/summary.txt"; then
    RESULTS+=("$OUT/$name.json")
  else
    log "scenario $name failed to run"
    [ -s "$OUT/$name.json" ] && RESULTS+=("$OUT/$name.json")
    FAILED=1
  fi
  echo >>"$OUT/summary.txt"
}

# After a streaming scenario: let the streamer see the closes (wait_quiet then
# waits at least 1 s), and stop if it died.
stream_alive() {
  sleep 1
  kill -0 "$STREAM_PID" 2>/dev/null || { log "cohort-stream died"; exit 1; }
}

run() {
  local name=$1; shift
  scenario "$name" "$BENCH" fanout \
    --stream-pid "$STREAM_PID" --cpu-pid "nginx=${PIDS[nginx]}" --cpu-pid "redis=${PIDS[redis]}" \
    --redis "127.0.0.1:$REDIS_PORT" --prefix "$name" "$@" || return 0
  stream_alive
}

# 1. Memory per idle connection. Direct: through nginx each client costs two
# descriptors there, and 10,000 would need more than the per-process limit.
run idle-10k --idle --url "$DIRECT" --via direct --subscribers 10000 --streams 100 \
  --connect-batch 200 --settle 3 --duration 5 \
  --note "direct to one streamer: via nginx 10,000 clients need 20,000+ descriptors in nginx, the per-process limit" \
  --target 'rss_per_conn_bytes<=2048' --target 'connected>=10000' --target 'errors==0'

# 2. One hot stream to 1,000 subscribers at the target rate (330 events/s:
# 330,000 deliveries/s offered), through nginx and directly, so the report
# shows which hop limits; then through nginx at a third of it, to show how
# the system behaves below its limit.
for via in nginx direct; do
  url=$URL
  [ "$via" = direct ] && url=$DIRECT
  run "fanout-1x1000-$via" --url "$url" --via "$via" --subscribers 1000 --streams 1 \
    --rate 330 --warmup 2 --duration 10 --payload 100 --drain-quiet 5 \
    --target 'deliveries_per_s>=300000' --target 'lost==0' --target 'p99_ms<=50' --target 'errors==0'
done
run fanout-1x1000-nginx-r100 --url "$URL" --via nginx --subscribers 1000 --streams 1 \
  --rate 100 --warmup 2 --duration 8 --payload 100 --drain-quiet 5 \
  --note "a third of the target rate: where the system stands below its limit" \
  --target 'lost==0' --target 'p99_ms<=50' --target 'errors==0'

# 3. Many quiet streams: 100 streams x 20 subscribers x 10 events/s each,
# through nginx, and directly to show what nginx adds.
for via in nginx direct; do
  url=$URL
  [ "$via" = direct ] && url=$DIRECT
  run "fanout-100x20-$via" --url "$url" --via "$via" --subscribers 2000 --streams 100 \
    --rate 1000 --warmup 2 --duration 15 --payload 100 \
    --target 'p50_ms<=1' --target 'p99_ms<=5' --target 'lost==0' --target 'errors==0'
done

# 4. Files (issue 4): the REST API through nginx with a Bearer token. The
# cohort CLI acts on the cluster's database with the cluster's settings.
mapfile -d '' CLUSTER_ENV < <(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const [k, v] of Object.entries(c.env)) process.stdout.write(`${k}=${v}\0`)' "$WORK/cluster.json")
cohort_cli() { env "${CLUSTER_ENV[@]}" "$BIN/cohort" "$@"; }
jget() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(process.argv[1].split(".").reduce((o, k) => o?.[k], JSON.parse(s)) ?? ""))' "$1"; }

# A teacher (user bench) and a course, made once for the REST scenarios; the
# token goes to a file only this user can read.
COURSE=
rest_setup() {
  local course
  [ -n "$COURSE" ] && return 0
  cohort_cli user-create bench "Bench" >/dev/null || return 1
  course=$(cohort_cli course-create --owner bench "Bench course") || return 1
  TEACHER=$(jget teacher.id <<<"$course")
  COURSE=$(jget course.id <<<"$course")
  (umask 077; cohort_cli mint-token bench --ttl 3600 | jget token >"$WORK/token") || return 1
  [ -n "$COURSE" ] && [ -n "$TEACHER" ] && [ -s "$WORK/token" ]
}

# One project per files scenario (a project belongs to a lesson and a
# participant).
files_setup() {
  local l1 l2
  rest_setup || return 1
  l1=$(cohort_cli lesson-create "$COURSE" "read4k" | jget lesson.id) || return 1
  l2=$(cohort_cli lesson-create "$COURSE" "list2000" | jget lesson.id) || return 1
  P_READ=$(cohort_cli project-ensure "$l1" "$TEACHER" | jget project.id) || return 1
  P_LIST=$(cohort_cli project-ensure "$l2" "$TEACHER" | jget project.id) || return 1
  [ -n "$P_READ" ] && [ -n "$P_LIST" ]
}

run_files() {
  local name=$1 scenario=$2; shift 2
  scenario "$name" "$BENCH" files "$scenario" --url "$URL" \
    --token-file "$WORK/token" --cpu-pid "api=${PIDS[api]}" --cpu-pid "nginx=${PIDS[nginx]}" \
    --cpu-pid "redis=${PIDS[redis]}" --cpu-pid "hello=${PIDS[hello]}" "$@" || return 0
}

if wanted files-read4k || wanted files-list2000; then
  if files_setup; then
    # GET of a 4 KiB file against GET of hello-fcgi's fixed body, same client,
    # same nginx, same token header; 8 connections = the hello responder's
    # threads (api.threads), alternating 3 x 5 s on each side.
    run_files files-read4k read4k --project "$P_READ" --connections 8 --rounds 3 \
      --duration 5 --warmup 1 --size 4096 \
      --target 'ratio>=0.7' --target 'errors==0'
    # The tree of a project of 2,000 files (created through the API first),
    # one request at a time for 10 s.
    run_files files-list2000 list2000 --project "$P_LIST" --files 2000 --connections 1 \
      --duration 10 --warmup 1 \
      --target 'p99_ms<=10' --target 'errors==0'
  else
    log "files setup (user, course, lessons, projects, token through the cohort CLI) failed"
    FAILED=1
  fi
fi

# 5. Live editing (issue 5): REST pushes through nginx, updates over SSE.
# cohort-bench edit makes its own lessons and projects in the course (one
# project per file, so a project stream carries exactly one file's updates).
run_edit() {
  local name=$1 scenario=$2; shift 2
  scenario "$name" "$BENCH" edit "$scenario" --url "$URL" \
    --course "$COURSE" --token-file "$WORK/token" --cpu-pid "api=${PIDS[api]}" \
    --cpu-pid "stream=$STREAM_PID" --cpu-pid "nginx=${PIDS[nginx]}" \
    --cpu-pid "redis=${PIDS[redis]}" "$@" || return 0
  stream_alive
}

if wanted edit-fanout || wanted edit-fanout-r1 || wanted edit-hot || wanted edit-hot-r1 ||
   wanted edit-size; then
  if rest_setup; then
    # 100 files x 30 subscribers x 3 writers at 5 edits/s (1,500 pushes/s
    # offered, 45,000 deliveries/s).
    run_edit edit-fanout fanout --files 100 --subscribers 30 --writers 3 --rate 5 \
      --duration 15 --warmup 2 \
      --target 'p50_ms<=2' --target 'p99_ms<=10' --target 'lost==0' --target 'duplicates==0' \
      --target 'server_mismatches==0'
    # The same at 1 edit/s per writer (300 pushes/s): where the system
    # stands below its limit (2 CPUs carry about 1,000 such edits/s at best).
    run_edit edit-fanout-r1 fanout --files 100 --subscribers 30 --writers 3 --rate 1 \
      --duration 10 --warmup 2 \
      --note "a fifth of the target rate: where the system stands below its limit" \
      --target 'p50_ms<=2' --target 'p99_ms<=10' --target 'lost==0' --target 'duplicates==0' \
      --target 'server_mismatches==0'
    # One file, 200 authors at 5 edits/s (1,000 pushes/s offered), each
    # author also subscribed; then at 1 edit/s each.
    run_edit edit-hot hot --files 1 --subscribers 200 --writers 200 --rate 5 \
      --duration 10 --warmup 2 \
      --target 'lost==0' --target 'duplicates==0' --target 'edit_duplicates==0' \
      --target 'edits_missing==0' --target 'p95_ms<=100' --target 'server_mismatches==0'
    run_edit edit-hot-r1 hot --files 1 --subscribers 200 --writers 200 --rate 1 \
      --duration 10 --warmup 2 \
      --note "a fifth of the target rate: where the system stands below its limit" \
      --target 'lost==0' --target 'duplicates==0' --target 'edit_duplicates==0' \
      --target 'edits_missing==0' --target 'p95_ms<=100' --target 'server_mismatches==0'
    # Accepted edits/s on a 1 MB file against a 1 KB file: 8 closed-loop
    # writers, alternating 2 x 5 s on each.
    run_edit edit-size size --writers 8 --rate 0 --duration 5 --rounds 2 --warmup 1 \
      --small 1024 --large 1000000 \
      --target 'ratio>=0.8' --target 'server_mismatches==0'
  else
    log "edit setup (user, course, token through the cohort CLI) failed"
    FAILED=1
  fi
fi

# ---- report ----------------------------------------------------------------
if [ ${#RESULTS[@]} -gt 0 ]; then
  "$BENCH" report --out "$OUT/report.html" "${RESULTS[@]}"
  log "wrote ${RESULTS[*]#"$ROOT/"}, $OUT/summary.txt and $OUT/report.html"
fi
stop_cluster || FAILED=1
exit "$FAILED"
