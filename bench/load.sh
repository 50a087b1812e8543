#!/usr/bin/env bash
# Load benchmark of flowgate against two floors, measured alternately in one
# run at a fixed concurrency with wrk: the hello-world component (what Spin
# costs per request with nothing done) and the one-read floor (exactly one
# key-value read of a small record: the least any revocable credential check
# can cost). Proxy mode is also paired with a proxy floor (a component that
# only forwards to the same upstream). The floors are in bench/fixtures/,
# built with the same SDK, profile and stack size (the authorizer's build.rs),
# served by bench/floors.spin.toml. A
# benchmark, not a test: it is not part of scripts/test or CI. Results and
# how to read them: docs/benchmarks.md.
#
#   bench/load.sh                          # on the project's test host
#   FLOWGATE_SPIN=$(command -v spin) bench/load.sh   # on real Spin
#   MEMORY=1 bench/load.sh                 # peak linear memory per request (test host)
#   AUTHORIZER=p3 FLOWGATE_SPIN=$(command -v spin) bench/load.sh
#       # the WASIp3 authorizer (Spin 4 only, docs/p3.md), each scenario also
#       # paired with the WASIp3 floors of bench/floors-p3.spin.toml
#
# Knobs (environment): DURATION (seconds per wrk run, default 8), THREADS (2),
# CONNECTIONS (16), ROUNDS (1: each scenario is run ROUNDS times, each time
# right after a run of each floor), SKIP_BUILD=1 (use the built artifacts as
# they are), SCENARIOS (space-separated subset of the names below), MEMORY=1
# (test host only: send each scenario 20 times with the host's
# FLOWGATE_HOST_MEMORY_LOG on, report each one's peak linear memory, no wrk),
# KEY_FORM=plain (a plain seed as `signing_key` instead of the bound form),
# VARIABLES=cli (the variables as `spin up --variable` arguments, floors
# included, instead of SPIN_VARIABLE_* in the environment; bench/lib.sh),
# MANIFEST (the app's manifest, default spin.toml: another build of the same
# app can be measured against the same floors; ignored with AUTHORIZER=p3),
# FLOORS_MANIFEST (default bench/floors.spin.toml; AUTHORIZER=p3 runs the
# WASIp3 floors of bench/floors-p3.spin.toml as well).
#
# Every scenario is paired with both floor runs just before it, and its
# ratios are to those runs: on a shared machine the load of other processes
# changes from minute to minute, so only figures from the same minute are
# compared. Total time: about 3 x DURATION x scenarios x ROUNDS, plus builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DURATION=${DURATION:-8}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-1}
ALL_SCENARIOS="kv_floor_raw authorizer_404 api_key api_key_recorded basic api_token bearer_access_token denied_401 log_pieces log_line kv_vars1 kv_vars4 proxy_floor proxy_read_floor proxy_api_key upstream_direct token_endpoint"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# --- build -------------------------------------------------------------------
# shellcheck source=bench/build.sh
. "$ROOT/bench/build.sh"
build_for_bench authorizer management hello kv-floor kv-floor-raw proxy-floor
[ -x "$RUNTIME" ] || die "$RUNTIME is missing or not executable"
if [ "${MEMORY:-}" = 1 ]; then
    [ -z "${FLOWGATE_SPIN:-}" ] || die "MEMORY=1 needs the test host (Spin does not report it)"
    export FLOWGATE_HOST_MEMORY_LOG=$WORK/memory.log
    : >"$FLOWGATE_HOST_MEMORY_LOG"
fi

FLOORS_PORT=$(free_port)

start_upstream "$FLOORS_PORT"
start_flowgate "http://127.0.0.1:$UPSTREAM_PORT"
start_floors "$FLOORS_PORT" "http://127.0.0.1:$UPSTREAM_PORT"
UPSTREAM_PID=${UPSTREAM_PID:-$FLOORS_PID}
wait_port "$FLOORS_PORT" "the floors app"
# AUTHORIZER=p3: the WASIp3 floors too, with the same record.
P3_FLOORS=()
if [ "${AUTHORIZER:-}" = p3 ]; then
    P3_FLOORS=(floor_p3 kv_floor_p3)
    FLOORS_P3_PORT=$(free_port)
    say "starting the WASIp3 floors (bench/floors-p3.spin.toml) on 127.0.0.1:$FLOORS_P3_PORT"
    mkdir -p "$WORK/state-floors-p3"
    "$RUNTIME" up --from "$ROOT/bench/floors-p3.spin.toml" --listen "127.0.0.1:$FLOORS_P3_PORT" \
        --state-dir "$WORK/state-floors-p3" --key-value "floor=$FLOOR_RECORD" \
        >"$WORK/floors-p3.log" 2>&1 </dev/null &
    FLOORS_P3_PID=$!
    PIDS+=("$FLOORS_P3_PID")
    wait_port "$FLOORS_P3_PORT" "the WASIp3 floors app"
    FLOORS_P3="http://127.0.0.1:$FLOORS_P3_PORT"
fi
wait_port "$UPSTREAM_PORT" "the upstream"
FLOORS="http://127.0.0.1:$FLOORS_PORT"

# --- accounts and credentials -------------------------------------------------
say "creating accounts through the management API"
KEY_JSON=$(create_account '{"name":"load-key","credential_type":"api_key","flows":["orders"]}')
API_KEY=$(json_field secret <<<"$KEY_JSON")
KEY_ID=$(json_field id <<<"$KEY_JSON")
API_TOKEN=$(curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"load"}' "$APP/admin/v1/accounts/$KEY_ID/tokens" | json_field token)
# The same request of an account whose usage figures are recorded (issue
# #15): one atomic increment more per request.
RECORDED_KEY=$(create_account '{"name":"load-recorded","credential_type":"api_key","flows":["orders"],"record_usage":true}' | json_field secret)
PASSWORD=$(create_account '{"name":"load-basic","credential_type":"basic","flows":["orders"]}' | json_field secret)
BASIC="Basic $(printf 'load-basic:%s' "$PASSWORD" | base64 -w0)"
create_client
# Access tokens expire (access_token_ttl, 300 s by default) within a long
# run: a new one is taken before each bearer measurement. Its first use is
# the full verification; every later request is the recorded path.
new_access_token() {
    ACCESS_TOKEN=$(curl -sf -H "Authorization: $CLIENT_BASIC" \
        -H 'Content-Type: application/x-www-form-urlencoded' \
        -d grant_type=client_credentials "$APP/oauth2/token" | json_field access_token)
}
new_access_token
# A well-formed key of the real account that was never issued (right prefix,
# id, keyed tag under this app's pepper and checksum, as a key replaced by a
# reset): the denied request pays the store read and the digest comparison,
# the most a refusal can cost. A made-up key (bench/ab.sh's denied_forged) is
# refused before the store.
WRONG_KEY=$(wrong_key "$KEY_ID")

# --- scenarios ----------------------------------------------------------------
# authorizer_404: a path outside every flow, answered 404 before any
# credential, variable or store access: the authorizer's own floor (its
# instantiation and request handling), to tell instantiation from work.
# log_pieces / log_line: the one-read floor plus a refusal-like log line,
# written with eprintln! (seven writes) or formatted and written once: what
# a log line costs on this host.
# kv_vars1 / kv_vars4: the one-read floor plus one or four Spin variable
# reads (the API-key path reads one, the bearer path four): what a variable
# read costs on this host.
# name -> expected status, URL, wrk arguments (headers, script).
FWD=(-H "X-Forwarded-Method: GET" -H "X-Forwarded-Uri: /flows/orders/1")
scenario() {
    case $1 in
    floor) echo 200; echo "$FLOORS/" ;;
    kv_floor) echo 200; echo "$FLOORS/kv" ;;
    kv_floor_raw) echo 200; echo "$FLOORS/kv-raw" ;;
    floor_p3) echo 200; echo "$FLOORS_P3/" ;;
    kv_floor_p3) echo 200; echo "$FLOORS_P3/kv" ;;
    log_pieces) echo 200; echo "$FLOORS/kv?log=pieces" ;;
    log_line) echo 200; echo "$FLOORS/kv?log=line" ;;
    kv_vars1) echo 200; echo "$FLOORS/kv?vars=1" ;;
    kv_vars4) echo 200; echo "$FLOORS/kv?vars=4" ;;
    proxy_floor) echo 200; echo "$FLOORS/proxy/flows/orders/1" ;;
    proxy_read_floor) echo 200; echo "$FLOORS/proxy-read/flows/orders/1" ;;
    authorizer_404) echo 404; echo "$APP/no-flow-here" ;;
    api_key | api_key_recorded | basic | api_token | bearer_access_token) echo 200; echo "$APP/authorize" ;;
    denied_401) echo 401; echo "$APP/authorize" ;;
    proxy_api_key) echo 200; echo "$APP/flows/orders/1" ;;
    upstream_direct) echo 200; echo "http://127.0.0.1:$UPSTREAM_PORT/flows/orders/1" ;;
    token_endpoint) echo 200; echo "$APP/oauth2/token" ;;
    *) die "unknown scenario $1" ;;
    esac
}
scenario_args() {
    case $1 in
    floor | kv_floor | kv_floor_raw | floor_p3 | kv_floor_p3 | log_pieces | log_line | kv_vars1 | kv_vars4 | proxy_floor | proxy_read_floor | upstream_direct | authorizer_404) ;;
    api_key) printf '%s\0' "${FWD[@]}" -H "X-API-Key: $API_KEY" ;;
    api_key_recorded) printf '%s\0' "${FWD[@]}" -H "X-API-Key: $RECORDED_KEY" ;;
    basic) printf '%s\0' "${FWD[@]}" -H "Authorization: $BASIC" ;;
    api_token) printf '%s\0' "${FWD[@]}" -H "Authorization: Bearer $API_TOKEN" ;;
    bearer_access_token) printf '%s\0' "${FWD[@]}" -H "Authorization: Bearer $ACCESS_TOKEN" ;;
    denied_401) printf '%s\0' "${FWD[@]}" -H "X-API-Key: $WRONG_KEY" ;;
    proxy_api_key) printf '%s\0' -H "X-API-Key: $API_KEY" ;;
    token_endpoint) printf '%s\0' -s "$WORK/token.lua" ;;
    esac
}

# Sends one request of a scenario with curl; prints the status.
send_once() {
    local name=$1 expected url i
    { read -r expected; read -r url; } < <(scenario "$name")
    mapfile -d '' args < <(scenario_args "$name")
    curl_args=()
    for ((i = 0; i < ${#args[@]}; i += 2)); do
        case ${args[i]} in
        -H) curl_args+=(-H "${args[i + 1]}") ;;
        -s) curl_args+=(-X POST -H "Authorization: $CLIENT_BASIC"
            -H 'Content-Type: application/x-www-form-urlencoded' -d grant_type=client_credentials) ;;
        esac
    done
    curl -s -o /dev/null -w '%{http_code}' "${curl_args[@]}" "$url"
}

# Checks one request of each scenario before measuring: a benchmark of the
# wrong answer is worthless.
say "checking each scenario once"
for name in floor kv_floor "${P3_FLOORS[@]}" $SCENARIOS; do
    { read -r expected; read -r url; } < <(scenario "$name")
    got=$(send_once "$name")
    [ "$got" = "$expected" ] || die "$name: expected $expected, got $got ($url); logs in $WORK"
done

# --- memory (MEMORY=1) ----------------------------------------------------------
# The test host appends "<component> <method> <path> peak_linear_memory=N
# memory_grows=G" per
# request (host/README.md); requests are sent one at a time, so the lines
# between two counts belong to one scenario.
if [ "${MEMORY:-}" = 1 ]; then
    say "peak linear memory per request, 20 requests per scenario"
    : >"$WORK/memory-by-scenario.txt"
    for name in floor kv_floor $SCENARIOS; do
        [ "$name" = upstream_direct ] && continue
        before=$(wc -l <"$FLOWGATE_HOST_MEMORY_LOG")
        for _ in $(seq 1 20); do send_once "$name" >/dev/null; done
        sleep 0.2
        tail -n +"$((before + 1))" "$FLOWGATE_HOST_MEMORY_LOG" |
            sed "s/^/$name /" >>"$WORK/memory-by-scenario.txt"
    done
    python3 - "$WORK/memory-by-scenario.txt" <<'EOF'
import re, sys
from collections import defaultdict
rows = defaultdict(list)
order = []
for line in open(sys.argv[1]):
    name, component = line.split()[:2]
    peak = int(re.search(r"peak_linear_memory=(\d+)", line).group(1))
    key = (name, component)
    if key not in rows:
        order.append(key)
    rows[key].append(peak)
print("\npeak linear memory per request (test host, FLOWGATE_HOST_MEMORY_LOG), 20 requests each")
print("| scenario | component | requests | min KiB | max KiB |")
print("|---|---|---:|---:|---:|")
for key in order:
    v = rows[key]
    print(f"| {key[0]} | {key[1]} | {len(v)} | {min(v) / 1024:.0f} | {max(v) / 1024:.0f} |")
EOF
    exit 0
fi

# The process serving a scenario, whose CPU time is counted (an upstream's
# is not: proxy mode and the proxy floor use the same one).
server_pid() {
    case $1 in
    floor | kv_floor | kv_floor_raw | log_pieces | log_line | kv_vars1 | kv_vars4 | proxy_floor | proxy_read_floor) echo "$FLOORS_PID" ;;
    floor_p3 | kv_floor_p3) echo "$FLOORS_P3_PID" ;;
    upstream_direct) echo "$UPSTREAM_PID" ;;
    *) echo "$APP_PID" ;;
    esac
}

# Prints "rps p50 p99 requests non2xx errors requests-per-CPU-second".
measure() {
    local name=$1 pid before after result
    { read -r _; read -r url; } < <(scenario "$name")
    mapfile -d '' args < <(scenario_args "$name")
    pid=$(server_pid "$name")
    before=$(cpu_ticks "$pid")
    result=$(wrk_once "" -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "${args[@]}" "$url")
    after=$(cpu_ticks "$pid")
    read -r _ _ _ total _ _ <<<"$result"
    echo "$result $(python3 -c "print($total * $CLK_TCK / max(1, $after - $before))")"
}

say "measuring: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, each scenario right after a run of each floor"
RESULTS="$WORK/results.txt"
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    for name in $SCENARIOS; do
        read -r h_rps h_p50 h_p99 _ _ _ h_cpu < <(measure floor)
        read -r k_rps k_p50 k_p99 _ _ _ k_cpu < <(measure kv_floor)
        p3_floors="0 0 0 0"
        if [ "${#P3_FLOORS[@]}" != 0 ]; then
            read -r hp_rps _ _ _ _ _ hp_cpu < <(measure floor_p3)
            read -r kp_rps _ _ _ _ _ kp_cpu < <(measure kv_floor_p3)
            p3_floors="$hp_rps $hp_cpu $kp_rps $kp_cpu"
        fi
        [ "$name" != bearer_access_token ] || new_access_token
        read -r rps p50 p99 total non2xx errs cpu < <(measure "$name")
        { read -r expected; read -r _; } < <(scenario "$name")
        if [ "$expected" = 200 ] && [ "$non2xx" != 0 ]; then
            say "WARNING: $name: $non2xx of $total answers were not 2xx"
        elif [ "$expected" != 200 ] && [ "$non2xx" != "$total" ]; then
            say "WARNING: $name: only $non2xx of $total answers were refusals"
        fi
        [ "$errs" = "-" ] || say "WARNING: $name: wrk reported socket errors (see raw log)"
        echo "$round $name $rps $p50 $p99 $h_rps $h_p50 $h_p99 $k_rps $k_p50 $k_p99 $cpu $h_cpu $k_cpu $p3_floors" >>"$RESULTS"
        printf '  round %s %-20s %9.0f req/s (hello %9.0f, one read %9.0f)\n' \
            "$round" "$name" "$rps" "$h_rps" "$k_rps" >&2
    done
done

# --- report -------------------------------------------------------------------
python3 - "$RESULTS" "$RUNTIME_NAME" "$UPSTREAM_NAME" "$THREADS" "$CONNECTIONS" "$DURATION" "$ROUNDS" <<'EOF'
import os, sys
from collections import defaultdict
path, runtime, upstream, threads, conns, duration, rounds = sys.argv[1:]
rows = defaultdict(dict)
order = []
for line in open(path):
    rnd, name, *v = line.split()
    if name not in order:
        order.append(name)
    rows[name][rnd] = [float(x) for x in v]
avg = lambda xs: sum(xs) / len(xs)
col = lambda name, i: [r[i] for r in rows[name].values()]
print(f"\nflowgate load benchmark on {runtime}; upstream: {upstream}")
print(f"wrk -t{threads} -c{conns} -d{duration}s --latency, ROUNDS={rounds}; each row is paired with a run of")
print("each floor just before it: hello (nothing done) and one-read (one key-value get of a small record)")
print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print("ratios: throughput = rps / floor rps (higher is better); p50 = p50 / one-read floor p50 (lower is")
print("is better); per CPU-s = requests per CPU-second of the serving process / the floor's (robust to")
print("other load on the machine)\n")
print("| scenario | req/s | p50 ms | p99 ms | hello req/s | one-read req/s | / hello | / one-read | p50 / one-read | per CPU-s | / hello, CPU | / one-read, CPU |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in order:
    r = list(rows[name].values())
    rps, p50, p99, hr, _, _, kr, kp50, _, cpu, _, _ = (avg([x[i] for x in r]) for i in range(12))
    label = name + (" (tokens/s)" if name == "token_endpoint" else "")
    print(f"| {label} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {hr:.0f} | {kr:.0f} "
          f"| {avg([x[0] / x[3] for x in r]):.2f} | {avg([x[0] / x[6] for x in r]):.2f} "
          f"| {avg([x[1] / x[7] for x in r]):.2f} | {cpu:.0f} "
          f"| {avg([x[9] / x[10] for x in r]):.2f} | {avg([x[9] / x[11] for x in r]):.2f} |")
# AUTHORIZER=p3: the same rows against the WASIp3 floors measured with them.
if all(x[13] > 0 for name in order for x in rows[name].values()):
    print("\nagainst the WASIp3 floors (bench/floors-p3.spin.toml), same rounds")
    print("| scenario | hello-p3 req/s | one-read-p3 req/s | / hello-p3 | / one-read-p3 | / hello-p3, CPU | / one-read-p3, CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in order:
        r = list(rows[name].values())
        print(f"| {name} | {avg([x[12] for x in r]):.0f} | {avg([x[14] for x in r]):.0f} "
              f"| {avg([x[0] / x[12] for x in r]):.2f} | {avg([x[0] / x[14] for x in r]):.2f} "
              f"| {avg([x[9] / x[13] for x in r]):.2f} | {avg([x[9] / x[15] for x in r]):.2f} |")
def paired(a, b, what):
    if a in rows and b in rows:
        common = sorted(set(rows[a]) & set(rows[b]))
        ratios = [rows[a][k][0] / rows[b][k][0] for k in common]
        cpu = [rows[a][k][9] / rows[b][k][9] for k in common]
        print(f"{what}: {avg(ratios):.3f} (rounds: {', '.join(f'{x:.3f}' for x in ratios)}); "
              f"per CPU-s {avg(cpu):.3f}")
print()
paired("proxy_api_key", "proxy_floor", "proxy mode / proxy floor, same round")
paired("proxy_api_key", "proxy_read_floor", "proxy mode / proxy floor with one read, same round")
paired("proxy_read_floor", "proxy_floor", "proxy floor with one read / proxy floor, same round")
paired("proxy_api_key", "upstream_direct", "proxy mode / upstream hit directly, same round")
paired("denied_401", "api_key", "denied 401 / allowed API key, same round")
paired("api_key_recorded", "api_key", "API key with usage figures / without, same round")
paired("log_pieces", "log_line", "one-read floor + eprintln! line / + one-write line, same round")
EOF
