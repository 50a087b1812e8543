#!/usr/bin/env bash
# Before/after of one change to the authorizer: two builds of the app, each
# served by its own process, both pinned to core 0 and loaded AT THE SAME
# TIME by two wrk pinned to core 1, so that whatever slows the machine in a
# given second slows both (run one after the other, even pinned, the same
# build moved by +-20 % from one 5-second run to the next on this VM).
# Reports requests per CPU-second of each serving process and the after /
# before ratio per round: a paired comparison, for changes (a few per cent)
# smaller than the round-to-round spread of bench/load.sh's floor ratios.
# A scenario the change does not touch (api_key, for most) is the control:
# its ratio shows what the method itself reads as a difference.
#
#   BEFORE=/path/to/spin.toml bench/ab.sh            # test host
#   BEFORE=... FLOWGATE_SPIN=$(command -v spin) bench/ab.sh
#
# BEFORE names a manifest whose `source`s are absolute paths to the "before"
# build (for instance a copy of spin.toml pointing at a worktree's target/);
# AFTER defaults to this checkout's spin.toml. A scenario "X/Y" runs X on
# the after side and Y on the before side: with BEFORE=$PWD/spin.toml,
# SCENARIOS="denied_401/api_key" measures what a refusal costs against an
# allow on the same build (issue 16, target 2). BEFORE=floors serves
# bench/floors.spin.toml on the before side instead, for "X/kv_floor"
# (against the one-read floor, target 1; "X/kv_floor_raw" against the same
# read answered at the raw WASI interface, the lower floor; with
# FLOORS_MANIFEST=bench/floors-p3.spin.toml the WASIp3 floors, proxy
# floors included, and
# "X/kv_floor_kept" against the p3 read with the store handle kept per
# instance), "proxy_api_key/proxy_floor"
# (target 4; the upstream is nginx on wrk's core when installed),
# "proxy_api_key/proxy_read_floor" (against a proxy floor that also makes
# the one read a revocable credential needs), or
# "kv_vars4/kv_floor" (what four variable reads cost) with AFTER=floors too. Nothing is built: build both
# first. REDIS=1 gives each side its own redis-server (on wrk's core) as
# its `default` store, through a Spin runtime config, as a multi-host
# deployment runs. VARIABLES (env or cli, bench/lib.sh) says how both
# sides get their variables; BEFORE_VARIABLES overrides it for the before
# side (BEFORE=$PWD/spin.toml BEFORE_VARIABLES=env VARIABLES=cli: what
# passing them as `--variable` saves). ROUNDS (default 6), DURATION in seconds (default 5), CONNECTIONS
# (default 8), SCENARIOS (default "api_key bearer_access_token
# token_endpoint") and WARMUP (seconds of one unrecorded round of every
# scenario before the first, default 2; 0 skips it) tune it. Needs two
# cores and taskset (util-linux).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-8}
SCENARIOS=${SCENARIOS:-api_key bearer_access_token token_endpoint}
AFTER=${AFTER:-$ROOT/spin.toml}
WORK_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-ab.XXXXXX")
PIDS=()
cleanup() {
    # Started inside start_side's subshell (REDIS=1): listed in a file.
    if [ -f "$WORK_ROOT/more_pids" ]; then
        while read -r pid; do PIDS+=("$pid"); done <"$WORK_ROOT/more_pids"
    fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
[ -n "${BEFORE:-}" ] || die "BEFORE must name the manifest of the build to compare against"
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin the processes"
[ "$(nproc)" -ge 2 ] || die "two cores are needed: one serves, the other runs wrk"

# The upstream of proxy mode and the proxy floor, on wrk's core.
WORK=$WORK_ROOT
PIN="taskset -c 1" start_upstream 9
PIDS+=("${UPSTREAM_PID:-}")
wait_port "$UPSTREAM_PORT" "the upstream"
UPSTREAM="http://127.0.0.1:$UPSTREAM_PORT"

# Starts one build pinned to core 0 and gives it an API key, a client and
# an access token; prints "url pid admin_token api_key client_basic" (the
# variables of bench/lib.sh are per app, so each app gets its own WORK).
start_side() {
    local manifest=$1 VARIABLES=${VARIABLES:-env}
    WORK=$WORK_ROOT/$2
    mkdir -p "$WORK"
    if [ "$2" = before ]; then VARIABLES=${BEFORE_VARIABLES:-$VARIABLES}; fi
    if [ "$manifest" = floors ]; then
        local port
        port=$(free_port)
        PIN="taskset -c 0" start_floors "$port" "$UPSTREAM" >&2
        wait_port "$port" "the floors app" >&2
        echo "http://127.0.0.1:$port $FLOORS_PID - - - - - - -"
        return
    fi
    if [ "${REDIS:-}" = 1 ]; then
        PIN="taskset -c 1" start_redis >&2
        echo "$REDIS_PID" >>"$WORK_ROOT/more_pids"
    fi
    MANIFEST=$manifest PIN="taskset -c 0" start_flowgate "$UPSTREAM" >&2
    local json id password token
    json=$(create_account '{"name":"ab-key","credential_type":"api_key","flows":["orders"]}')
    id=$(json_field id <<<"$json")
    password=$(create_account '{"name":"ab-basic","credential_type":"basic","flows":["orders"]}' |
        json_field secret)
    token=$(curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
        -d '{"name":"ab"}' "$APP/admin/v1/accounts/$id/tokens" | json_field token)
    create_client
    echo "$APP $APP_PID $(json_field secret <<<"$json") $(wrong_key "$id") $token" \
        "$(printf 'ab-basic:%s' "$password" | base64 -w0) $(forged_key "$id") $CLIENT_BASIC"
}
read -r A_URL A_PID A_KEY A_WRONG A_TOKEN A_PASSWORD A_FORGED A_BASIC_SCHEME A_BASIC < <(start_side "$BEFORE" before)
PIDS+=("$A_PID")
read -r B_URL B_PID B_KEY B_WRONG B_TOKEN B_PASSWORD B_FORGED B_BASIC_SCHEME B_BASIC < <(start_side "$AFTER" after)
PIDS+=("$B_PID")
WORK=$WORK_ROOT

# An access token of side $1's client (tokens expire: one per measurement).
access_token() {
    local url=$1 basic=$2
    curl -sf -H "Authorization: $basic" -H 'Content-Type: application/x-www-form-urlencoded' \
        -d grant_type=client_credentials "$url/oauth2/token" | json_field access_token
}

# args SIDE SCENARIO: writes wrk's arguments for it, NUL-separated.
args() {
    local side=$1 name=$2 url key wrong forged token password basic
    if [ "$side" = before ]; then
        url=$A_URL key=$A_KEY wrong=$A_WRONG forged=$A_FORGED token=$A_TOKEN password=$A_PASSWORD
        basic="$A_BASIC_SCHEME $A_BASIC"
    else
        url=$B_URL key=$B_KEY wrong=$B_WRONG forged=$B_FORGED token=$B_TOKEN password=$B_PASSWORD
        basic="$B_BASIC_SCHEME $B_BASIC"
    fi
    local fwd=(-H "X-Forwarded-Method: GET" -H "X-Forwarded-Uri: /flows/orders/1")
    case $name in
    hello) printf '%s\0' "$url/" ;;
    kv_floor) printf '%s\0' "$url/kv" ;;
    kv_floor_raw) printf '%s\0' "$url/kv-raw" ;;
    kv_floor_kept) printf '%s\0' "$url/kv?kept" ;;
    kv_vars4) printf '%s\0' "$url/kv?vars=4" ;;
    kv_reads2) printf '%s\0' "$url/kv?reads=2" ;;
    authorizer_404) printf '%s\0' "$url/no-flow-here" ;;
    proxy_floor) printf '%s\0' "$url/proxy/flows/orders/1" ;;
    proxy_read_floor) printf '%s\0' "$url/proxy-read/flows/orders/1" ;;
    proxy_api_key) printf '%s\0' -H "X-API-Key: $key" "$url/flows/orders/1" ;;
    api_key) printf '%s\0' "${fwd[@]}" -H "X-API-Key: $key" "$url/authorize" ;;
    denied_401) printf '%s\0' "${fwd[@]}" -H "X-API-Key: $wrong" "$url/authorize" ;;
    denied_forged) printf '%s\0' "${fwd[@]}" -H "X-API-Key: $forged" "$url/authorize" ;;
    basic) printf '%s\0' "${fwd[@]}" -H "Authorization: Basic $password" "$url/authorize" ;;
    api_token) printf '%s\0' "${fwd[@]}" -H "Authorization: Bearer $token" "$url/authorize" ;;
    bearer_access_token)
        printf '%s\0' "${fwd[@]}" -H "Authorization: Bearer $(access_token "$url" "$basic")" "$url/authorize"
        ;;
    token_endpoint)
        token_script "$WORK_ROOT/$side.lua" "$basic"
        printf '%s\0' -s "$WORK_ROOT/$side.lua" "$url/oauth2/token"
        ;;
    *) die "unknown scenario $name (hello, kv_floor, kv_floor_raw, kv_floor_kept, kv_vars4, kv_reads2, proxy_floor, proxy_read_floor, authorizer_404, api_key, basic, api_token, proxy_api_key, denied_401, denied_forged, bearer_access_token, token_endpoint)" ;;
    esac
}

# expect_status SCENARIO WRK_ARGS...: one request with the scenario's
# headers and URL (curl takes wrk's -H and URL as they are) must get the
# answer the scenario is about (a refusal that came back 503 is no refusal).
expect_status() {
    local scenario=$1 want=200 got
    shift
    case $scenario in
    token_endpoint) return ;; # its request is a wrk script
    denied_401 | denied_forged) want=401 ;;
    authorizer_404) want=404 ;;
    esac
    got=$(curl -s -o /dev/null -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || die "$scenario: one request answered $got, not $want"
}

# measure SCENARIO: both builds at once, each with its own wrk (both wrk
# on core 1, both servers on core 0, so a slow second of the machine slows
# both); prints "before_rps before_cpu after_rps after_cpu". A scenario
# "X/Y" sends X to the after side and Y to the before side (with BEFORE the
# same manifest as AFTER: what X costs against Y, say denied_401/api_key).
measure() {
    local name=$1 side a0 b0 a1 b1 total non2xx
    local -A rps
    mapfile -d '' wrk_after < <(args after "${name%%/*}")
    mapfile -d '' wrk_before < <(args before "${name##*/}")
    # shellcheck disable=SC2154 # wrk_before / wrk_after are set by mapfile
    expect_status "${name%%/*}" "${wrk_after[@]}"
    expect_status "${name##*/}" "${wrk_before[@]}"
    a0=$(cpu_ticks "$A_PID")
    b0=$(cpu_ticks "$B_PID")
    # shellcheck disable=SC2154 # wrk_before / wrk_after are set by mapfile
    wrk_once "taskset -c 1" -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${wrk_before[@]}" >"$WORK_ROOT/before.out" &
    local wa=$!
    wrk_once "taskset -c 1" -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${wrk_after[@]}" >"$WORK_ROOT/after.out" &
    local wb=$!
    wait "$wa" "$wb"
    a1=$(cpu_ticks "$A_PID")
    b1=$(cpu_ticks "$B_PID")
    local out=""
    for side in before after; do
        read -r rps[$side] _ _ total non2xx _ <"$WORK_ROOT/$side.out"
        local scenario=${name%%/*}
        [ "$side" = after ] || scenario=${name##*/}
        if [ "$scenario" = denied_401 ] || [ "$scenario" = denied_forged ] || [ "$scenario" = authorizer_404 ]; then
            [ "$non2xx" = "$total" ] || die "$side $scenario: only $non2xx of $total answers were refusals"
        else
            [ "$non2xx" = 0 ] || die "$side $scenario: $non2xx of $total answers were not 2xx (logs in $WORK_ROOT)"
        fi
        if [ "$side" = before ]; then
            out="${rps[$side]} $(python3 -c "print($total * $CLK_TCK / max(1, $a1 - $a0))")"
        else
            out="$out ${rps[$side]} $(python3 -c "print($total * $CLK_TCK / max(1, $b1 - $b0))")"
        fi
    done
    echo "$out"
}

# One unrecorded round first: the first measurement of a fresh pair of
# servers has read up to a third low (Spin 4.0.2, 2026-12-02: an API key at
# 0.66 of the one-read floor, then 0.95 and 0.95; why was not isolated).
# It also checks every scenario's answers before anything is recorded.
if [ "$WARMUP" != 0 ]; then
    say "warming up: every scenario once for ${WARMUP}s, not recorded"
    for name in $SCENARIOS; do
        DURATION=$WARMUP measure "$name" >/dev/null
    done
fi

say "measuring: both builds at once on core 0, one wrk -t1 -c$CONNECTIONS -d${DURATION}s each on core 1, $ROUNDS rounds"
RESULTS=$WORK_ROOT/results.txt
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    for name in $SCENARIOS; do
        read -r ar ac br bc < <(measure "$name")
        echo "$round $name before $ar $ac" >>"$RESULTS"
        echo "$round $name after $br $bc" >>"$RESULTS"
        printf '  round %s %-20s before %7.0f req/s %7.0f per CPU-s, after %7.0f req/s %7.0f per CPU-s\n' \
            "$round" "$name" "$ar" "$ac" "$br" "$bc" >&2
    done
done

python3 - "$RESULTS" "$RUNTIME_NAME" "$BEFORE" "$AFTER" <<'EOF'
import sys
from collections import defaultdict
path, runtime, before, after = sys.argv[1:]
rows = defaultdict(dict)
order = []
for line in open(path):
    rnd, name, side, rps, cpu = line.split()
    if name not in order:
        order.append(name)
    rows[(name, rnd)][side] = (float(rps), float(cpu))
print(f"\nbefore/after on {runtime}\n  before: {before}\n  after:  {after}")
print("both builds on core 0 at once, one wrk -t1 each on core 1; per CPU-s = requests per CPU-second of the serving process\n")
print("| scenario | before per CPU-s | after per CPU-s | after / before, CPU (rounds) | mean | after / before, wall |")
print("|---|---:|---:|---|---:|---:|")
for name in order:
    pairs = [v for (n, _), v in sorted(rows.items()) if n == name and len(v) == 2]
    cpu = [p["after"][1] / p["before"][1] for p in pairs]
    wall = [p["after"][0] / p["before"][0] for p in pairs]
    mean = lambda xs: sum(xs) / len(xs)
    print(f"| {name} | {mean([p['before'][1] for p in pairs]):.0f} | {mean([p['after'][1] for p in pairs]):.0f} "
          f"| {', '.join(f'{x:.2f}' for x in cpu)} | **{mean(cpu):.3f}** | {mean(wall):.3f} |")
EOF
