#!/usr/bin/env bash
# Issue 16's speed targets 1-4 in one run, on one host and one build of the
# authorizer: each pairing of bench/ab.sh that a target names and a round
# of bench/peers.sh, then one table that holds each measured ratio against
# its target. A benchmark, not a test: the figures and what they mean are in
# docs/benchmarks.md.
#
#   bench/targets.sh                                   # test host, WASI 0.2 build
#   FLOWGATE_SPIN=$(command -v spin) bench/targets.sh  # real Spin, WASI 0.2 build
#   AUTHORIZER=p3 FLOWGATE_SPIN=... bench/targets.sh   # real Spin 4, the WASIp3 build
#
# The pairs, per CPU-second of each serving process (bench/ab.sh):
#   1. API key, Basic, API token and bearer access token against the
#      one-read floor (WASIp3: the one-read floor with its store handle kept
#      per instance, as the authorizer keeps its own); the WASI 0.2 build also
#      against the raw one-read floor, for reference;
#   2. refusals against the allowed API key: of a made-up key (valid
#      checksum, keyed tag not made with the app's pepper: what anyone can
#      send, refused before the store), and of a key tagged with the pepper
#      but never issued (as a key replaced by a reset: the store read and
#      the digest comparison, the most a refusal costs);
#   3. tokens per CPU-second against oidc-provider (bench/peers.sh);
#   4. proxy mode against the proxy floor (and, for reference, the proxy
#      floor that also reads once).
# Knobs: ROUNDS (3), DURATION (4 s), PEER_ROUNDS (16: single rounds of
# bench/peers.sh spread from 1.0 to 1.9 on one evening, and four of them
# read 1.59 where sixteen read 1.36; docs/benchmarks.md), SKIP_BUILD=1, WARMUP
# (bench/ab.sh's unrecorded first round, 2 s), and VARIABLES=cli (every
# app, floors included, gets its variables as `spin up --variable`
# arguments instead of SPIN_VARIABLE_* in its environment; bench/lib.sh,
# up_variables). Needs what
# bench/ab.sh and bench/peers.sh need (two cores, taskset, wrk, Node 20).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
PEER_ROUNDS=${PEER_ROUNDS:-16}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-targets.XXXXXX")
# bench/lib.sh: die, say, the runtime's name, and with AUTHORIZER=p3 the
# manifest that serves the WASIp3 build ($MANIFEST).
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
AFTER=$MANIFEST
case ${AUTHORIZER:-} in
"")
    build=wasi02
    FLOORS=$ROOT/bench/floors.spin.toml
    READ_FLOOR=kv_floor
    ;;
*)
    build=$AUTHORIZER
    FLOORS=$ROOT/bench/floors-p3.spin.toml
    READ_FLOOR=kv_floor_kept
    ;;
esac

if [ "${SKIP_BUILD:-}" != 1 ]; then
    # shellcheck source=bench/build.sh
    . "$ROOT/bench/build.sh"
    (cd "$ROOT" && build_for_bench authorizer management console hello kv-floor kv-floor-raw proxy-floor)
fi

# ab NAME ARGS...: one bench/ab.sh run, its output kept as $OUT/NAME.out.
ab() {
    local name=$1
    shift
    say "$name: bench/ab.sh $*"
    env SKIP_BUILD=1 ROUNDS="$ROUNDS" DURATION="$DURATION" AFTER="$AFTER" "$@" \
        "$ROOT/bench/ab.sh" >"$OUT/$name.out" 2>&1 || die "bench/ab.sh failed; its output: $OUT/$name.out"
}

# mean NAME SCENARIO: the mean ratio bench/ab.sh printed for SCENARIO.
mean() {
    awk -F'|' -v s="$2" '$2 ~ "^ *" s " *$" { gsub(/[ *]/, "", $6); print $6 }' "$OUT/$1.out"
}

target1="api_key/$READ_FLOOR basic/$READ_FLOOR api_token/$READ_FLOOR bearer_access_token/$READ_FLOOR"
[ "$build" = p3 ] || target1="$target1 api_key/kv_floor_raw"
ab target1 BEFORE=floors FLOORS_MANIFEST="$FLOORS" SCENARIOS="$target1"
ab target2 BEFORE="$AFTER" SCENARIOS="denied_forged/api_key denied_401/api_key"
ab target4 BEFORE=floors FLOORS_MANIFEST="$FLOORS" \
    SCENARIOS="proxy_api_key/proxy_floor proxy_api_key/proxy_read_floor"
say "target3: bench/peers.sh (ROUNDS=$PEER_ROUNDS)"
SKIP_BUILD=1 ROUNDS=$PEER_ROUNDS DURATION=5 "$ROOT/bench/peers.sh" >"$OUT/target3.out" 2>&1 ||
    die "bench/peers.sh failed; its output: $OUT/target3.out"
# The first table's mean row, last column: tokens per CPU-second over
# oidc-provider's.
peer=$(awk -F'|' '$2 ~ /^ *mean *$/ { gsub(/ /, "", $8); print $8; exit }' "$OUT/target3.out")
# The same table's rounds (its rows have eight columns; the floors' table
# below it has ten): the lowest and highest, printed beside the mean.
peer_spread=$(awk -F'|' 'NF == 9 && $2 ~ /^ *[0-9]+ *$/ {
        v = $8 + 0
        if (n == 0 || v < lo) lo = v
        if (n == 0 || v > hi) hi = v
        n++
    }
    END { if (n) printf "%.2f-%.2f", lo, hi }' "$OUT/target3.out")
peer_goal=1.0
[ -n "${FLOWGATE_SPIN:-}" ] || peer_goal=1.5

# row TARGET PAIR VALUE GOAL: one line of the summary ("-" goal: reference).
row() {
    local verdict=reference
    [ -n "$3" ] || die "no figure for $2: see $OUT"
    if [ "$4" != - ]; then
        verdict=$(awk -v v="$3" -v g="$4" 'BEGIN { print (v >= g) ? "met" : "missed" }')
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$verdict"
}

printf '\nIssue 16, targets 1-4 on %s, %s build (%s rounds of %s s; peers %s rounds)\n\n' \
    "$RUNTIME_NAME" "$build" "$ROUNDS" "$DURATION" "$PEER_ROUNDS"
printf '| target | pair, per CPU-second | mean | goal | |\n|---|---|---:|---:|---|\n'
for pair in $target1; do
    goal=0.95
    [ "$pair" != api_key/kv_floor_raw ] || goal=-
    row 1 "$pair" "$(mean target1 "$pair")" "$goal"
done
row 2 denied_forged/api_key "$(mean target2 denied_forged/api_key)" 1.0
row 2 denied_401/api_key "$(mean target2 denied_401/api_key)" 1.0
row 3 "flowgate / oidc-provider, tokens (rounds $peer_spread)" "$peer" "$peer_goal"
row 4 proxy_api_key/proxy_floor "$(mean target4 proxy_api_key/proxy_floor)" 0.85
row 4 proxy_api_key/proxy_read_floor "$(mean target4 proxy_api_key/proxy_read_floor)" -
printf '\nThe whole output of each run (rounds, absolute figures): %s\n' "$OUT"
