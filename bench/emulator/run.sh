#!/usr/bin/env bash
# Client-credentials token issuance benchmark: the boxauth emulator against two peers, one run.
#
#   bench/emulator/run.sh            # compare: ceiling, oidc-provider, emulator at 8 and 64 conns
#   bench/emulator/run.sh memory     # the emulator alone, 60 s at 64 conns, RSS sampled each second
#
# What runs (compare mode), each server alone on the machine, one after the other:
#   ceiling        bench/emulator/ceiling: a bare axum handler, POST /oauth2/token -> fixed JSON
#   oidc-provider  bench/emulator/oidc-provider: node-oidc-provider, one process, NODE_ENV=production,
#                  client_credentials + client_secret_post, opaque tokens, POST /token
#   emulator       $EMULATOR_CMD, POST $EMULATOR_TOKEN_PATH
# For each: start on a free 127.0.0.1 port, wait until a token request answers 200 with an
# access_token, warm up ($WARMUP s at the highest connection count), then for each of $CONNS:
# wrk -t1 -c$C -d${DURATION}s --latency -s ccg.lua. Every request is
#   POST <path>  Content-Type: application/x-www-form-urlencoded
#   grant_type=client_credentials&client_id=…&client_secret=…&box_subject_type=enterprise&box_subject_id=…
# (the same body to all three; oidc-provider drops the two box_subject_* parameters it does not
# know). Any non-200 response or socket error fails the run: it measured nothing.
#
# Env (all optional):
#   EMULATOR_CMD         the emulator's command line, run by bash from the repo root with $PORT set;
#                        default: target/profiling/boxauth emulator --addr 127.0.0.1:$PORT --access-token-ttl 5
#                        (single-quote it when you set it, so that $PORT reaches the script unexpanded)
#   EMULATOR_TOKEN_PATH  default /oauth2/token (Box's)
#   EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_ENTERPRISE_ID
#                        the credentials the emulator accepts: put the emulator's default app here
#                        (default: the default app of `boxauth emulator`, which it prints at start)
#   BUILD_EMULATOR       1 (default when EMULATOR_CMD is unset): cargo build --profile profiling
#                        -p boxauth-cli (the release build, with symbols for perf)
#                        first; 0: use what is there
#   ALLOW_NO_EMULATOR=1  exit 0 when the emulator could not be built/started (peers only)
#   DURATION=10 WARMUP=5 CONNS="8 64"    seconds per measurement, warm-up seconds, connection counts
#   ROUNDS=3             the ceiling and the emulator are measured alternately this many times (fresh
#                        servers each round); their figures are the medians, ratios also per round
#   PIN=1                server on core 0, wrk on core 1 with taskset (PIN=0: let the OS schedule)
#   QUIET_WAIT=120       before each measurement wait up to this many seconds for the machine to be
#                        idle (other processes < QUIET_MAX=15 % of one core); a measurement during
#                        which other processes took > MAX_FOREIGN=10 % of a core is taken again (up
#                        to NOISY_RETRIES=2 times), then flagged NOISY (exit 5 unless ALLOW_NOISY=1)
#   MIN_CEILING_RATIO=3  ceiling/oidc-provider below this: the load generator is the bottleneck,
#                        the run is declared not meaningful
#   TARGET_VS_PEER=5 TARGET_VS_CEILING=0.70   the emulator's targets
#   MEM_DURATION=60 MEM_CONNS=64 MEM_MAX_GROWTH_PCT=5   memory mode
#   KEEP_LOGS=1          keep the servers' and wrk's logs (their folder is printed)
#
# Exit: 0 ok; 1 error (build, server start, non-200 responses, socket errors); 2 not meaningful
# (ceiling not >= MIN_CEILING_RATIO x oidc-provider); 3 emulator below a target, or its memory
# grew; 4 emulator skipped (without ALLOW_NO_EMULATOR=1); 5 a measurement stayed NOISY (without
# ALLOW_NOISY=1).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODE=${1:-compare}

DEFAULT_EMULATOR_CMD='target/profiling/boxauth emulator --addr 127.0.0.1:$PORT --access-token-ttl 5'
if [[ -z ${EMULATOR_CMD:-} ]]; then
  EMULATOR_CMD=$DEFAULT_EMULATOR_CMD
  BUILD_EMULATOR=${BUILD_EMULATOR:-1}
else
  BUILD_EMULATOR=${BUILD_EMULATOR:-0}
fi
EMULATOR_TOKEN_PATH=${EMULATOR_TOKEN_PATH:-/oauth2/token}
EMULATOR_CLIENT_ID=${EMULATOR_CLIENT_ID:-boxauthemulatorclientid000000001}
EMULATOR_CLIENT_SECRET=${EMULATOR_CLIENT_SECRET:-BoxAuthEmulatorClientSecret00001}
EMULATOR_ENTERPRISE_ID=${EMULATOR_ENTERPRISE_ID:-100000001}

# The peers' own credentials (set on their command lines below).
PEER_CLIENT_ID=boxauthbenchclient00000000000001
PEER_CLIENT_SECRET=boxauthbenchsecret00000000000001
PEER_ENTERPRISE_ID=1000001

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-8 64}
PIN=${PIN:-1}
QUIET_WAIT=${QUIET_WAIT:-120}
QUIET_MAX=${QUIET_MAX:-15}
MAX_FOREIGN=${MAX_FOREIGN:-10}
NOISY_RETRIES=${NOISY_RETRIES:-2}
ALLOW_NOISY=${ALLOW_NOISY:-0}
MIN_CEILING_RATIO=${MIN_CEILING_RATIO:-3}
TARGET_VS_PEER=${TARGET_VS_PEER:-5}
TARGET_VS_CEILING=${TARGET_VS_CEILING:-0.70}
MEM_DURATION=${MEM_DURATION:-60}
MEM_CONNS=${MEM_CONNS:-64}
MEM_MAX_GROWTH_PCT=${MEM_MAX_GROWTH_PCT:-5}
READY_TIMEOUT=${READY_TIMEOUT:-30}
ALLOW_NO_EMULATOR=${ALLOW_NO_EMULATOR:-0}

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/boxauth-bench.XXXXXX")
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for tool in wrk curl node npm cargo awk; do
  command -v "$tool" >/dev/null || die "$tool not found (wrk: apt-get install wrk)"
done

# ---------------------------------------------------------------- pinning
SERVER_PIN=()
WRK_PIN=()
if [[ $PIN == 1 ]]; then
  if command -v taskset >/dev/null && (( $(nproc) >= 2 )); then
    SERVER_PIN=(taskset -c 0)
    WRK_PIN=(taskset -c 1)
    PIN_NOTE="pinned: server on core 0, wrk on core 1 (taskset)"
  else
    PIN_NOTE="not pinned (taskset missing or fewer than 2 cores)"
  fi
else
  PIN_NOTE="not pinned (PIN=0): server and wrk share all $(nproc) cores"
fi

# ---------------------------------------------------------------- servers
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    sleep 0.5
    kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  if [[ ${KEEP_LOGS:-0} != 1 ]]; then rm -rf "$LOGDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $(( 20000 + RANDOM % 20000 ))
}

# start_server NAME CMD: CMD is a bash command line run from the repo root with $PORT set, as
# `exec CMD`, so that the server's pid is ours. Sets SERVER_PID, SERVER_PORT.
start_server() {
  local name=$1 cmd=$2
  SERVER_PORT=$(free_port)
  ( cd "$ROOT" && PORT=$SERVER_PORT exec "${SERVER_PIN[@]}" bash -c "exec $cmd" ) \
    >"$LOGDIR/$name.log" 2>&1 </dev/null &
  SERVER_PID=$!
}

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# wait_ready NAME URL ID SECRET ENT: until a token request answers 200 with an access_token.
wait_ready() {
  local name=$1 url=$2 id=$3 secret=$4 ent=$5 code deadline=$(( SECONDS + READY_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      say "  $name exited before answering; its output:"; tail -n 15 "$LOGDIR/$name.log" | sed 's/^/    | /'
      return 1
    fi
    code=$(curl -s -o "$LOGDIR/$name.ready" -w '%{http_code}' --max-time 2 -X POST "$url" \
      -H 'Content-Type: application/x-www-form-urlencoded' \
      --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$id" \
      --data-urlencode "client_secret=$secret" --data-urlencode box_subject_type=enterprise \
      --data-urlencode "box_subject_id=$ent" 2>/dev/null) || code=000
    if [[ $code == 200 ]] && grep -q '"access_token"' "$LOGDIR/$name.ready"; then
      say "   ready: $url -> 200 $(head -c 160 "$LOGDIR/$name.ready")"
      return 0
    fi
    if [[ $code != 000 ]]; then
      say "  $url answered $code: $(head -c 200 "$LOGDIR/$name.ready")"
      return 1
    fi
    sleep 0.2
  done
  say "  $name did not answer on $url within ${READY_TIMEOUT}s; its output:"
  tail -n 15 "$LOGDIR/$name.log" | sed 's/^/    | /'
  return 1
}

# ---------------------------------------------------------------- CPU accounting
# Busy ticks of the whole machine (all but idle and iowait; steal counts: it is CPU taken from us).
machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
proc_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12+$13}' || echo 0; }
# CPU time of this shell's finished children, in ticks (bash's `times`, second line), into
# CHILD_TICKS. `times` must run in this shell, not in a $(…) subshell, whose children differ.
children_ticks() {
  times >"$LOGDIR/times"
  CHILD_TICKS=$(awk -v hz="$CLK_TCK" 'NR==2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
    printf "%d\n", t * hz + 0.5 }' "$LOGDIR/times")
}

# Wait until other processes use less than QUIET_MAX % of one core (the server under test idles).
wait_quiet() {
  local waited=0 b0 b1 s0 s1 pct
  while :; do
    b0=$(machine_busy); s0=$(proc_ticks "$SERVER_PID"); sleep 1; b1=$(machine_busy); s1=$(proc_ticks "$SERVER_PID")
    pct=$(( ((b1 - b0) - (s1 - s0)) * 100 / CLK_TCK ))
    (( pct < QUIET_MAX )) && return 0
    if (( waited >= QUIET_WAIT )); then
      say "  WARNING: machine still busy (${pct}% of a core used by other processes) after ${QUIET_WAIT}s; measuring anyway"
      return 0
    fi
    (( waited == 0 )) && say "  waiting for the machine to be idle (other processes: ${pct}% of a core)…"
    waited=$(( waited + 1 ))
  done
}

# ---------------------------------------------------------------- wrk
to_ms() { awk -v v="$1" 'BEGIN {
  n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
  printf "%.2f", n }'; }

# run_wrk NAME CONNS SECONDS PATH ID SECRET ENT OUTFILE: returns 1 on non-200 or socket errors.
# Sets W_RPS W_P50 W_P99, and W_SRV_CPU W_WRK_CPU W_FOREIGN: the CPU the server, wrk and all
# other processes used during the run, in % of one core (wrk near 100 %: wrk is the bottleneck).
run_wrk() {
  local name=$1 c=$2 d=$3 path=$4 id=$5 secret=$6 ent=$7 out=$8 b0 b1 s0 s1 c0 c1 bad errs
  b0=$(machine_busy); s0=$(proc_ticks "$SERVER_PID"); children_ticks; c0=$CHILD_TICKS
  CCG_PATH=$path CCG_CLIENT_ID=$id CCG_CLIENT_SECRET=$secret CCG_ENTERPRISE_ID=$ent \
    "${WRK_PIN[@]}" wrk -t1 -c"$c" -d"${d}s" --timeout 5s --latency -s "$HERE/ccg.lua" \
    "http://127.0.0.1:$SERVER_PORT" >"$out" 2>&1
  local rc=$?
  b1=$(machine_busy); s1=$(proc_ticks "$SERVER_PID"); children_ticks; c1=$CHILD_TICKS
  W_FOREIGN=$(( ((b1 - b0) - (s1 - s0) - (c1 - c0)) * 100 / (CLK_TCK * d) ))
  W_SRV_CPU=$(( (s1 - s0) * 100 / (CLK_TCK * d) ))
  W_WRK_CPU=$(( (c1 - c0) * 100 / (CLK_TCK * d) ))
  (( W_FOREIGN < 0 )) && W_FOREIGN=0
  W_RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  bad=$(awk '/^CCG_RESULT/ {sub("non200=", "", $3); print $3}' "$out")
  errs=$(awk '/Socket errors:/' "$out")
  if (( rc != 0 )) || [[ -z $W_RPS || -z $bad ]]; then
    say "  wrk failed (exit $rc):"; sed 's/^/    | /' "$out"; return 1
  fi
  if [[ $bad != 0 || -n $errs ]]; then
    say "  FAILED: $name at $c connections: $(grep -h '^CCG_RESULT' "$out") ${errs# }"
    grep -h '^CCG_FIRST_NON200' "$out" | sed 's/^/    /'
    return 1
  fi
  return 0
}

# ---------------------------------------------------------------- builds
build_peers() {
  say "== build"
  local lock="$HERE/oidc-provider/package-lock.json" installed="$HERE/oidc-provider/node_modules/.package-lock.json"
  if [[ ! -f $installed || $lock -nt $installed ]]; then
    ( cd "$HERE/oidc-provider" && npm ci --no-audit --no-fund --loglevel=error ) >"$LOGDIR/npm.log" 2>&1 \
      || { cat "$LOGDIR/npm.log"; die "npm ci failed in bench/emulator/oidc-provider"; }
  fi
  say "  oidc-provider $(node -p "require('$HERE/oidc-provider/node_modules/oidc-provider/package.json').version" 2>/dev/null || true) on node $(node --version)"
  ( cd "$HERE/ceiling" && cargo build --release --locked -q ) >"$LOGDIR/ceiling-build.log" 2>&1 \
    || { cat "$LOGDIR/ceiling-build.log"; die "cargo build of bench/emulator/ceiling failed"; }
  say "  ceiling: bench/emulator/ceiling/target/release/boxauth-bench-ceiling"
}

EMULATOR_SKIP_REASON=
build_emulator() {
  if [[ $BUILD_EMULATOR == 1 ]]; then
    say "  building the emulator: cargo build --profile profiling -p boxauth-cli (BUILD_EMULATOR=0 skips)"
    if ! ( cd "$ROOT" && cargo build --profile profiling -p boxauth-cli -q ) >"$LOGDIR/emulator-build.log" 2>&1; then
      tail -n 20 "$LOGDIR/emulator-build.log" | sed 's/^/    | /'
      EMULATOR_SKIP_REASON="cargo build --profile profiling -p boxauth-cli failed"
    fi
  fi
}

CEILING_CMD="bench/emulator/ceiling/target/release/boxauth-bench-ceiling 127.0.0.1:\$PORT"
OIDC_CMD="env NODE_ENV=production node bench/emulator/oidc-provider/server.mjs \$PORT $PEER_CLIENT_ID $PEER_CLIENT_SECRET"

# ---------------------------------------------------------------- memory mode
memory_mode() {
  say "== memory: the emulator alone, wrk -t1 -c$MEM_CONNS for ${MEM_DURATION}s, VmRSS every second"
  say "   $PIN_NOTE"
  build_emulator
  [[ -z $EMULATOR_SKIP_REASON ]] || die "$EMULATOR_SKIP_REASON"
  say "   command: $EMULATOR_CMD"
  start_server emulator "$EMULATOR_CMD"
  wait_ready emulator "http://127.0.0.1:$SERVER_PORT$EMULATOR_TOKEN_PATH" \
    "$EMULATOR_CLIENT_ID" "$EMULATOR_CLIENT_SECRET" "$EMULATOR_ENTERPRISE_ID" \
    || die "the emulator did not start (EMULATOR_CMD='$EMULATOR_CMD')"
  wait_quiet
  local out="$LOGDIR/memory.wrk" t0 now i rss samples=() secs=()
  ( run_wrk emulator "$MEM_CONNS" "$MEM_DURATION" "$EMULATOR_TOKEN_PATH" "$EMULATOR_CLIENT_ID" \
      "$EMULATOR_CLIENT_SECRET" "$EMULATOR_ENTERPRISE_ID" "$out" >"$LOGDIR/memory.run" 2>&1
    echo $? >"$LOGDIR/memory.rc" ) &
  local wrk_job=$!
  t0=$(date +%s.%N)
  for (( i = 1; i <= MEM_DURATION; i++ )); do
    # sample at t0 + i seconds
    now=$(date +%s.%N)
    sleep "$(awk -v a="$t0" -v b="$now" -v i="$i" 'BEGIN { d = a + i - b; print (d > 0 ? d : 0) }')"
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null)
    [[ -n $rss ]] || { wait "$wrk_job"; die "the emulator died at ${i}s; log: $(tail -n 5 "$LOGDIR/emulator.log")"; }
    samples+=("$rss"); secs+=("$i")
  done
  wait "$wrk_job"
  cat "$LOGDIR/memory.run"
  [[ $(cat "$LOGDIR/memory.rc") == 0 ]] || die "the load run failed: memory figures are meaningless"
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")"); p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  stop_server
  say "   load: $rps tokens/s, p50 ${p50} ms, p99 ${p99} ms, all 200"
  say "   VmRSS (KiB) each second:"
  printf '%s\n' "${samples[@]}" | paste -sd' ' | fold -s -w 100 | sed 's/^/     /'
  # Verdict on windows, not single samples (a garbage-collected server saws up and down): the
  # peak of the last 10 s against the peak of the 10 s that end at the half-way point.
  printf '%s\n' "${samples[@]}" | awk -v maxg="$MEM_MAX_GROWTH_PCT" '
    function peak(from, to,   i, m) { m = 0; for (i = from; i <= to; i++) if (r[i] > m) m = r[i]; return m }
    { r[NR] = $1; if ($1 > max) max = $1 }
    END {
      n = NR; mid = int(n / 2); if (mid < 1) mid = 1; at10 = (n >= 10) ? r[10] : r[n]
      w = (mid >= 10) ? 10 : mid
      a = peak(mid - w + 1, mid); b = peak(n - w + 1, n)
      g = (b - a) * 100 / a
      # least-squares slope over the second half, KiB/s
      sx = sy = sxy = sxx = 0; m = 0
      for (i = mid; i <= n; i++) { m++; sx += i; sy += r[i]; sxy += i * r[i]; sxx += i * i }
      slope = (m > 1) ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : 0
      printf "   first %d KiB, max %d KiB, last %d KiB\n", r[1], max, r[n]
      printf "   at 10 s %d KiB, at %d s %d KiB (%+.1f%%)\n", at10, n, r[n], (r[n] - at10) * 100 / at10
      printf "   last half: peak of %d-%d s %d KiB -> peak of %d-%d s %d KiB: %+.1f%% (limit +%s%%); slope %+.1f KiB/s\n", \
        mid - w + 1, mid, a, n - w + 1, n, b, g, maxg, slope
      if (g > maxg) { print "   MEMORY GROWS: not flat"; exit 3 }
      print "   memory flat"
    }'
}

# ---------------------------------------------------------------- compare mode
declare -A RPS P50 P99 FOREIGN SRVCPU WRKCPU ROUND_RPS
ROUND=1
SERVERS=()

bench_server() {
  local name=$1 cmd=$2 path=$3 id=$4 secret=$5 ent=$6 c maxc=0
  for c in $CONNS; do (( c > maxc )) && maxc=$c; done
  say "== $name"
  say "   command: $cmd"
  start_server "$name" "$cmd"
  if ! wait_ready "$name" "http://127.0.0.1:$SERVER_PORT$path" "$id" "$secret" "$ent"; then
    stop_server; return 2
  fi
  head -n 6 "$LOGDIR/$name.log" | cut -c1-160 | sed 's/^/   said: /'
  if (( WARMUP > 0 )); then
    run_wrk "$name" "$maxc" "$WARMUP" "$path" "$id" "$secret" "$ent" "$LOGDIR/$name.warmup" \
      || { stop_server; return 1; }
    say "   warm-up ${WARMUP}s at $maxc connections: $W_RPS tokens/s"
  fi
  for c in $CONNS; do
    local try
    for (( try = 0; try <= NOISY_RETRIES; try++ )); do
      wait_quiet
      run_wrk "$name" "$c" "$DURATION" "$path" "$id" "$secret" "$ent" "$LOGDIR/$name.c$c" \
        || { stop_server; return 1; }
      (( W_FOREIGN <= MAX_FOREIGN )) && break
      (( try < NOISY_RETRIES )) && say "   c=$c: other processes took ${W_FOREIGN}% of a core during the run ($W_RPS tokens/s): measuring again"
    done
    RPS[$name,$c]=$W_RPS; P50[$name,$c]=$W_P50; P99[$name,$c]=$W_P99; FOREIGN[$name,$c]=$W_FOREIGN
    ROUND_RPS[$name,$c,$ROUND]=$W_RPS
    SRVCPU[$name,$c]=$W_SRV_CPU; WRKCPU[$name,$c]=$W_WRK_CPU
    local flag=""; (( W_FOREIGN > MAX_FOREIGN )) && flag="  NOISY: other processes took ${W_FOREIGN}% of a core"
    say "   c=$c: $W_RPS tokens/s, p50 $W_P50 ms, p99 $W_P99 ms (CPU: server $W_SRV_CPU%, wrk $W_WRK_CPU%)$flag"
  done
  stop_server
  [[ " ${SERVERS[*]} " == *" $name "* ]] || SERVERS+=("$name")
}

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# The ceiling and the emulator measured alternately, ROUNDS times, each round in a fresh server:
# a machine whose speed drifts (a shared VM) then slows both sides of the ratio alike.
alternate_rounds() {
  local c r s values
  for (( r = 1; r <= ROUNDS; r++ )); do
    ROUND=$r
    say "-- round $r of $ROUNDS"
    bench_server ceiling "$CEILING_CMD" /oauth2/token "$PEER_CLIENT_ID" "$PEER_CLIENT_SECRET" "$PEER_ENTERPRISE_ID" \
      || die "the ceiling server failed: see above"
    [[ -n $EMULATOR_SKIP_REASON ]] && continue
    bench_server emulator "$EMULATOR_CMD" "$EMULATOR_TOKEN_PATH" "$EMULATOR_CLIENT_ID" \
      "$EMULATOR_CLIENT_SECRET" "$EMULATOR_ENTERPRISE_ID"
    case $? in
      0) ;;
      2) EMULATOR_SKIP_REASON="it did not start or did not issue a token (EMULATOR_CMD='$EMULATOR_CMD')" ;;
      *) die "the emulator failed under load: see above" ;;
    esac
  done
  for s in ceiling emulator; do
    [[ $s == emulator && -n $EMULATOR_SKIP_REASON ]] && continue
    for c in $CONNS; do
      values=()
      for (( r = 1; r <= ROUNDS; r++ )); do values+=("${ROUND_RPS[$s,$c,$r]}"); done
      RPS[$s,$c]=$(median "${values[@]}")
    done
  done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

compare_mode() {
  say "boxauth emulator token benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
  say "   wrk -t1, ${DURATION}s per measurement, ${WARMUP}s warm-up, connections: $CONNS"
  say "   $PIN_NOTE"
  build_peers
  build_emulator

  ROUND=1
  bench_server oidc-provider "$OIDC_CMD" /token "$PEER_CLIENT_ID" "$PEER_CLIENT_SECRET" "$PEER_ENTERPRISE_ID" \
    || die "oidc-provider failed: see above"
  alternate_rounds

  say ""
  say "== results (tokens/s = 200 responses per second, the median of $ROUNDS alternating rounds for the ceiling and the emulator; latency and CPU from the last round; $PIN_NOTE)"
  printf '%-14s %6s %10s %9s %9s  %s\n' server conns tokens/s 'p50 ms' 'p99 ms' 'CPU % of a core: server / wrk / others'
  local s c noisy=0
  for s in "${SERVERS[@]}"; do
    for c in $CONNS; do
      local f=${FOREIGN[$s,$c]}; (( f > MAX_FOREIGN )) && noisy=1
      printf '%-14s %6s %10s %9s %9s  %4s / %3s / %3s%s\n' "$s" "$c" "${RPS[$s,$c]}" "${P50[$s,$c]}" "${P99[$s,$c]}" \
        "${SRVCPU[$s,$c]}" "${WRKCPU[$s,$c]}" "$f" "$( (( f > MAX_FOREIGN )) && echo '  NOISY')"
    done
  done
  say ""
  local status=0 meaningful=1 r
  for c in $CONNS; do
    r=$(ratio "${RPS[ceiling,$c]}" "${RPS[oidc-provider,$c]}")
    if ge "$r" "$MIN_CEILING_RATIO"; then
      say "check  ceiling / oidc-provider at c=$c: ${r}x (>= ${MIN_CEILING_RATIO}x: the load generator outruns the peer)"
    else
      say "check  ceiling / oidc-provider at c=$c: ${r}x < ${MIN_CEILING_RATIO}x: NOT MEANINGFUL (wrk or the machine is the bottleneck)"
      meaningful=0
    fi
  done
  for c in $CONNS; do
    if (( ${WRKCPU[ceiling,$c]} >= 90 )); then
      say "note   at c=$c wrk used ${WRKCPU[ceiling,$c]}% of its core against the ceiling: that figure is wrk's limit as much as the server's"
    fi
  done
  if [[ -n $EMULATOR_SKIP_REASON ]]; then
    say ""
    say "EMULATOR SKIPPED: $EMULATOR_SKIP_REASON"
    say "   (peers only: no ratios for the emulator)"
  else
    local ok=1 rp rc
    for c in $CONNS; do
      rp=$(ratio "${RPS[emulator,$c]}" "${RPS[oidc-provider,$c]}")
      rc=$(ratio "${RPS[emulator,$c]}" "${RPS[ceiling,$c]}")
      local vp="ok" vc="ok"
      ge "$rp" "$TARGET_VS_PEER" || { vp="BELOW TARGET"; ok=0; }
      ge "$rc" "$TARGET_VS_CEILING" || { vc="BELOW TARGET"; ok=0; }
      local rounds="" r
      for (( r = 1; r <= ROUNDS; r++ )); do
        rounds+="$(ratio "${ROUND_RPS[emulator,$c,$r]}" "${ROUND_RPS[ceiling,$c,$r]}") "
      done
      say "ratio  emulator / oidc-provider at c=$c: ${rp}x (target >= ${TARGET_VS_PEER}x: $vp)"
      say "ratio  emulator / ceiling       at c=$c: ${rc}  (target >= ${TARGET_VS_CEILING}: $vc; each round: ${rounds% })"
    done
    (( ok )) || status=3
  fi
  [[ ${KEEP_LOGS:-0} == 1 ]] && say "logs: $LOGDIR"
  (( meaningful )) || return 2
  if (( noisy )); then
    say "NOT RELIABLE: some measurements ran while other processes used > ${MAX_FOREIGN}% of a core (NOISY): rerun on a quiet machine"
    (( ALLOW_NOISY == 1 )) || return 5
  fi
  if [[ -n $EMULATOR_SKIP_REASON && $ALLOW_NO_EMULATOR != 1 ]]; then
    say "exit 4: the emulator was skipped (ALLOW_NO_EMULATOR=1 accepts a peers-only run)"
    return 4
  fi
  return $status
}

case $MODE in
  compare) compare_mode; exit $? ;;
  memory) memory_mode; exit $? ;;
  -h|--help|help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown mode '$MODE' (compare | memory | help)" ;;
esac
