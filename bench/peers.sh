#!/usr/bin/env bash
# flowgate's token endpoint side by side with a real OAuth 2.0 server: panva's
# oidc-provider (pinned in bench/peers/package.json, installed from npm by
# bench/peers/install.sh), both doing client_credentials with
# client_secret_basic and issuing EdDSA-signed JWT access tokens. Each server
# is pinned to one core with taskset, wrk -t1 -c8 runs on another core, and
# the two are measured in alternating rounds (the order flips every round),
# so each ratio compares figures from the same minute. Reports tokens per
# second per core of each and flowgate's over oidc-provider's. A benchmark,
# not a test. Results: docs/benchmarks.md.
#
# The same rounds also measure, on the same core and host, the floors of
# bench/floors.spin.toml (hello: instantiation and an answer; one-read: and
# one key-value read, which a client's secret needs; the raw one-read floor:
# the same read answered at the raw WASI interface, WASI 0.2 only): their requests per
# CPU-second over oidc-provider's tokens per CPU-second are about the most
# a component built like flowgate could reach on this host, which bounds
# what the token endpoint's ratio can be (issue 16, target 3). On Spin 4.0.2
# as released the SDK-built floors' answers can stall under Nagle's
# algorithm, so there they read low (docs/benchmarks.md, "Why the WASIp3
# build idles"); the raw floor writes its answer whole, as flowgate does.
#
#   bench/peers.sh                                   # on the test host
#   FLOWGATE_SPIN=$(command -v spin) bench/peers.sh  # on real Spin
#   AUTHORIZER=p3 FLOWGATE_SPIN=$(command -v spin) bench/peers.sh  # the WASIp3 build (docs/p3.md)
#
# Knobs (environment): DURATION (seconds per wrk run, default 8), ROUNDS (4),
# CONNECTIONS (8), SERVER_CORE (0), WRK_CORE (1), SKIP_BUILD=1, KEY_FORM=plain
# (a plain seed as `signing_key` instead of the bound form), VARIABLES=cli
# (the variables as `spin up --variable` arguments, bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-4}
CONNECTIONS=${CONNECTIONS:-8}
SERVER_CORE=${SERVER_CORE:-0}
WRK_CORE=${WRK_CORE:-1}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
command -v taskset >/dev/null || die "taskset (util-linux) is needed"
command -v node >/dev/null || die "Node.js is needed for oidc-provider"

# shellcheck source=bench/build.sh
. "$ROOT/bench/build.sh"
build_for_bench authorizer management hello kv-floor kv-floor-raw proxy-floor
[ -x "$RUNTIME" ] || die "$RUNTIME is missing or not executable"
[ -d "$ROOT/bench/peers/node_modules/oidc-provider" ] || "$ROOT/bench/peers/install.sh"
PEER_VERSION=$(node -p 'require("./bench/peers/node_modules/oidc-provider/package.json").version')

PIN="taskset -c $SERVER_CORE"
start_flowgate "http://127.0.0.1:9"
create_client
FLOWGATE_URL="$APP/oauth2/token"

PEER_PORT=$(free_port)
PEER_ID="bench-$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
PEER_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
say "starting oidc-provider $PEER_VERSION (Node $(node --version)) on 127.0.0.1:$PEER_PORT $PIN"
$PIN node "$ROOT/bench/peers/oidc-provider.mjs" "$PEER_PORT" "$PEER_ID" "$PEER_SECRET" \
    >"$WORK/peer.log" 2>&1 </dev/null &
PEER_PID=$!
PIDS+=("$PEER_PID")
wait_port "$PEER_PORT" oidc-provider
token_script "$WORK/peer.lua" "Basic $(printf '%s:%s' "$PEER_ID" "$PEER_SECRET" | base64 -w0)"
PEER_URL="http://127.0.0.1:$PEER_PORT/token"

FLOORS_PORT=$(free_port)
# The WASIp3 authorizer is bounded by the WASIp3 floors (same routes).
[ "${AUTHORIZER:-}" != p3 ] || FLOORS_MANIFEST=$ROOT/bench/floors-p3.spin.toml
start_floors "$FLOORS_PORT" "http://127.0.0.1:9"
wait_port "$FLOORS_PORT" "the floors app"
HELLO_URL="http://127.0.0.1:$FLOORS_PORT/"
KV_URL="http://127.0.0.1:$FLOORS_PORT/kv"
RAW_URL="http://127.0.0.1:$FLOORS_PORT/kv-raw"

# Both must answer 200 with an EdDSA JWT access token, or there is nothing to
# compare.
check() {
    local what=$1 url=$2 auth=$3
    curl -sf -H "Authorization: $auth" -H 'Content-Type: application/x-www-form-urlencoded' \
        -d grant_type=client_credentials "$url" | python3 -c '
import base64, json, sys
token = json.load(sys.stdin)["access_token"]
head = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
assert head["alg"] == "EdDSA", head
print(head["alg"], head.get("typ"))' >/dev/null || die "$what did not issue an EdDSA JWT (logs in $WORK)"
}
check flowgate "$FLOWGATE_URL" "$CLIENT_BASIC"
check oidc-provider "$PEER_URL" "Basic $(printf '%s:%s' "$PEER_ID" "$PEER_SECRET" | base64 -w0)"

# measure URL SCRIPT PID: prints "tokens/s tokens-per-CPU-second" of the
# server PID (and its children) during one wrk run. SCRIPT "-": a plain GET.
measure() {
    local url=$1 script=$2 pid=$3 rps total non2xx before after
    local with_script=()
    [ "$script" = - ] || with_script=(-s "$script")
    before=$(cpu_ticks "$pid")
    read -r rps _ _ total non2xx _ < <(wrk_once "taskset -c $WRK_CORE" -t1 -c"$CONNECTIONS" \
        -d"${DURATION}s" "${with_script[@]}" "$url")
    after=$(cpu_ticks "$pid")
    [ "$non2xx" = 0 ] || say "WARNING: $url: $non2xx of $total answers were not 2xx"
    echo "$rps $(python3 -c "print($total * $CLK_TCK / max(1, $after - $before))")"
}

# Node's JIT optimises the hot path only after many requests: one discarded
# run of each server first, so that neither is measured cold.
say "warming up both servers (${DURATION}s each, discarded)"
measure "$FLOWGATE_URL" "$WORK/token.lua" "$APP_PID" >/dev/null
measure "$PEER_URL" "$WORK/peer.lua" "$PEER_PID" >/dev/null
measure "$HELLO_URL" - "$FLOORS_PID" >/dev/null

say "measuring: wrk -t1 -c$CONNECTIONS -d${DURATION}s on core $WRK_CORE, servers on core $SERVER_CORE, alternating"
RESULTS="$WORK/peers.txt"
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then
        f=$(measure "$FLOWGATE_URL" "$WORK/token.lua" "$APP_PID")
        p=$(measure "$PEER_URL" "$WORK/peer.lua" "$PEER_PID")
    else
        p=$(measure "$PEER_URL" "$WORK/peer.lua" "$PEER_PID")
        f=$(measure "$FLOWGATE_URL" "$WORK/token.lua" "$APP_PID")
    fi
    h=$(measure "$HELLO_URL" - "$FLOORS_PID")
    k=$(measure "$KV_URL" - "$FLOORS_PID")
    # The WASIp3 floors have no raw one-read floor.
    r="nan nan"
    [ "${AUTHORIZER:-}" = p3 ] || r=$(measure "$RAW_URL" - "$FLOORS_PID")
    echo "$round $f $p $h $k $r" >>"$RESULTS"
    printf '  round %s flowgate %s, oidc-provider %s (tokens/s, tokens per CPU-second); floors: hello %s, one-read %s, raw one-read %s\n' \
        "$round" "$f" "$p" "$h" "$k" "$r" >&2
done

python3 - "$RESULTS" "$RUNTIME_NAME" "$PEER_VERSION" "$(node --version)" "$CONNECTIONS" "$DURATION" <<'EOF'
import os, sys
path, runtime, version, node, conns, duration = sys.argv[1:]
rows = [line.split() for line in open(path)]
print(f"\nflowgate ({runtime}) vs oidc-provider {version} (Node {node}): client_credentials,")
print(f"client_secret_basic, EdDSA JWT access tokens; each server on one core (taskset), wrk -t1 -c{conns}")
print(f"-d{duration}s on another, alternating rounds; load average at the end {os.getloadavg()[0]:.1f}\n")
print("tokens/s: wall clock on the pinned core; per CPU-s: tokens per second of CPU time the server's")
print("processes used (robust to other load on the machine)\n")
print("| round | flowgate tokens/s | oidc-provider tokens/s | ratio | flowgate per CPU-s | oidc-provider per CPU-s | ratio |")
print("|---:|---:|---:|---:|---:|---:|---:|")
rows = [[r[0]] + [float(x) for x in r[1:]] for r in rows]
for rnd, f, fc, p, pc, *_ in rows:
    print(f"| {rnd} | {f:.0f} | {p:.0f} | {f / p:.2f} | {fc:.0f} | {pc:.0f} | {fc / pc:.2f} |")
avg = lambda xs: sum(xs) / len(xs)
print(f"| mean | {avg([r[1] for r in rows]):.0f} | {avg([r[3] for r in rows]):.0f} "
      f"| {avg([r[1] / r[3] for r in rows]):.2f} | {avg([r[2] for r in rows]):.0f} "
      f"| {avg([r[4] for r in rows]):.0f} | {avg([r[2] / r[4] for r in rows]):.2f} |")
print("\nThe floors on the same core and host, same rounds: requests per CPU-second over")
print("oidc-provider's tokens per CPU-second (the most a component built like flowgate could")
print("reach here), and flowgate's tokens over the floor's requests per CPU-second\n")
print("| round | hello per CPU-s | / oidc-provider | one-read per CPU-s | / oidc-provider | flowgate / one-read "
      "| raw one-read per CPU-s | / oidc-provider | flowgate / raw one-read |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for rnd, f, fc, p, pc, h, hc, k, kc, r, rc in rows:
    print(f"| {rnd} | {hc:.0f} | {hc / pc:.2f} | {kc:.0f} | {kc / pc:.2f} | {fc / kc:.2f} "
          f"| {rc:.0f} | {rc / pc:.2f} | {fc / rc:.2f} |")
print(f"| mean | {avg([r[6] for r in rows]):.0f} | {avg([r[6] / r[4] for r in rows]):.2f} "
      f"| {avg([r[8] for r in rows]):.0f} | {avg([r[8] / r[4] for r in rows]):.2f} "
      f"| {avg([r[2] / r[8] for r in rows]):.2f} | {avg([r[10] for r in rows]):.0f} "
      f"| {avg([r[10] / r[4] for r in rows]):.2f} | {avg([r[2] / r[10] for r in rows]):.2f} |")
EOF
