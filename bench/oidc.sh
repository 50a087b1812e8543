#!/usr/bin/env bash
# What a request with an external OpenID Connect token costs the authorizer,
# against an API key on the same app in the same run: each `oidc` request
# reads the issuer's bindings and cached JWKS, the record of the token's
# verification and the account (docs/benchmarks.md, "Verification records
# for external OIDC tokens"). A static issuer (python3's http.server over the
# files bench/fixtures/oidc-issuer writes: fresh Ed25519, RSA and P-256 keys,
# one token each) is trusted the way docs/oidc.md tells an operator to.
#
#   bench/oidc.sh                                       # test host
#   FLOWGATE_SPIN=$(command -v spin) bench/oidc.sh      # real Spin
#   AUTHORIZER=p3 FLOWGATE_SPIN=... bench/oidc.sh       # the WASIp3 build
#   AUTHORIZER_WASM=/other/authorizer.wasm bench/oidc.sh  # another build
#
# Two refusals are measured beside them, each against the same round's
# allowed API key (issue #16's "a refusal costs no more than an allow"):
# `denied_expired` (the issuer's RS256 token, expired an hour ago) and
# `denied_forged` (unexpired, the issuer's `kid`, another RSA key's
# signature).
#
# flowgate on core 0, wrk and the issuer on core 1; ROUNDS (default 3) of
# every scenario in turn, DURATION seconds each (default 5), CONNECTIONS
# (default 8). Reports requests per CPU-second of the serving process and
# each OIDC scenario's ratio to the API key of the same round. Nothing is
# built but the fixture: build the components first (bench/build.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-8}
# bench/lib.sh: WORK (removed at exit), PIDS (stopped at exit), the runtime,
# flowgate's start and accounts, cpu_ticks.
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
MANIFEST=$WORK/spin-oidc.toml
command -v taskset >/dev/null || die "taskset (util-linux) is needed"

say "building the issuer fixture (bench/fixtures/oidc-issuer)"
(cd "$ROOT/bench/fixtures/oidc-issuer" && cargo build -q --release)
ISSUER_PORT=$(free_port)
ORIGIN="http://127.0.0.1:$ISSUER_PORT"
"$ROOT/bench/fixtures/oidc-issuer/target/release/oidc-issuer" "$ORIGIN" "$WORK/issuer"
(cd "$WORK/issuer" && exec taskset -c 1 python3 -m http.server "$ISSUER_PORT" --bind 127.0.0.1) \
    >"$WORK/issuer.log" 2>&1 &
PIDS+=("$!")
wait_port "$ISSUER_PORT" issuer

# spin.toml with the issuer trusted (docs/oidc.md): one variable, and an
# entry in both components' allowed_outbound_hosts.
authorizer=${AUTHORIZER_WASM:-$ROOT/target/wasm32-wasip2/release/authorizer.wasm}
[ "${AUTHORIZER:-}" = p3 ] && authorizer=${AUTHORIZER_WASM:-$ROOT/target/wasm32-wasip2/release/authorizer_p3.wasm}
[ -f "$authorizer" ] || die "$authorizer is missing: build the components first"
sed -e "s#^source = \"target/wasm32-wasip2/release/authorizer.wasm\"#source = \"$authorizer\"#" \
    -e "s#^source = \"target/#source = \"$ROOT/target/#" \
    -e 's#^allowed_outbound_hosts = \[\]#allowed_outbound_hosts = ["{{ oidc_issuer_bench }}"]#' \
    -e 's#^allowed_outbound_hosts = \["{{ orders_upstream }}"#allowed_outbound_hosts = ["{{ oidc_issuer_bench }}", "{{ orders_upstream }}"#' \
    -e "s#^\[variables\]#[variables]\noidc_issuer_bench = { default = \"$ORIGIN\" }#" \
    "$ROOT/spin.toml" >"$MANIFEST"
[ "$(grep -c 'oidc_issuer_bench }}' "$MANIFEST")" = 2 ] || die "spin.toml's allowed_outbound_hosts lines changed; update this script"
grep -q "source = \"$authorizer\"" "$MANIFEST" || die "spin.toml names no authorizer.wasm to replace"

PIN="taskset -c 0"
start_flowgate "http://127.0.0.1:9"
say "authorizer: $authorizer"
create_account "{\"name\":\"bench-oidc\",\"credential_type\":\"oidc\",\"issuer\":\"$ORIGIN\",\"audience\":\"flowgate-bench\",\"claims_match\":{\"sub\":\"repo:acme/app:*\"},\"flows\":[\"orders\"]}" >/dev/null ||
    die "registering the oidc account failed (logs in $WORK)"
API_KEY=$(create_account '{"name":"bench-key","credential_type":"api_key","flows":["orders"]}' | json_field secret)

FWD=(-H "X-Forwarded-Method: GET" -H "X-Forwarded-Uri: /flows/orders/1")
header() {
    case $1 in
    api_key) echo "X-API-Key: $API_KEY" ;;
    oidc_*) echo "Authorization: Bearer $(cat "$WORK/issuer/token-${1#oidc_}")" ;;
    denied_*) echo "Authorization: Bearer $(cat "$WORK/issuer/token-rs256-${1#denied_}")" ;;
    esac
}
# The answer every request of a scenario must get.
expected() {
    case $1 in
    denied_*) echo 401 ;;
    *) echo 200 ;;
    esac
}
SCENARIOS=${SCENARIOS:-api_key oidc_eddsa oidc_rs256 oidc_es256 denied_expired denied_forged}
case " $SCENARIOS " in *" api_key "*) ;; *) die "SCENARIOS must include api_key, the control" ;; esac
for s in $SCENARIOS; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${FWD[@]}" -H "$(header "$s")" "$APP/authorize")
    [ "$code" = "$(expected "$s")" ] || die "$s answered $code, not $(expected "$s") (logs in $WORK)"
done

# One round: each scenario for DURATION seconds; prints "scenario per-CPU-second".
round() {
    for s in $SCENARIOS; do
        local before after n non2xx errors
        before=$(cpu_ticks "$APP_PID")
        read -r _ _ _ n non2xx errors < <(wrk_once "taskset -c 1" -t1 -c"$CONNECTIONS" \
            -d"${DURATION}s" "${FWD[@]}" -H "$(header "$s")" "$APP/authorize")
        after=$(cpu_ticks "$APP_PID")
        if [ "$(expected "$s")" = 200 ]; then
            [ "$non2xx" = 0 ] || die "$s: $non2xx answers not 2xx (wrk output in $WORK/wrk-raw.log)"
        else
            # wrk counts a 401 as non-2xx: every answer must be one.
            [ "$non2xx" = "$n" ] || die "$s: $((n - non2xx)) of $n answers were 2xx or 3xx (wrk output in $WORK/wrk-raw.log)"
        fi
        [ "$errors" = - ] || die "$s: socket errors (wrk output in $WORK/wrk-raw.log)"
        python3 -c "import sys; print(sys.argv[1], round(int(sys.argv[2]) / ((int(sys.argv[4]) - int(sys.argv[3])) / int(sys.argv[5]))))" \
            "$s" "$n" "$before" "$after" "$CLK_TCK"
    done
}
say "warm-up round (not recorded)"
DURATION=2 round >/dev/null
for r in $(seq 1 "$ROUNDS"); do
    say "round $r of $ROUNDS"
    round >>"$WORK/results"
done
python3 - "$WORK/results" "$ROUNDS" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
names = list(dict.fromkeys(r[0] for r in rows))
per = {n: [int(r[1]) for r in rows if r[0] == n] for n in names}
print("| scenario | requests per CPU-second (rounds) | / API key, same round (rounds) |")
print("|---|---:|---:|")
for n in names:
    vals = per[n]
    ratios = [v / k for v, k in zip(vals, per["api_key"])]
    mean = sum(vals) / len(vals)
    print(f"| {n} | {mean:,.0f} ({', '.join(f'{v:,}' for v in vals)}) | "
          f"{sum(ratios) / len(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) |")
PY
