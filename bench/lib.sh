# Shared by bench/load.sh and bench/peers.sh (sourced, not run): tools,
# processes, flowgate's start and accounts, and one wrk measurement.
# The caller sets ROOT (the repository) before sourcing.

say() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing wrk from Debian"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        die "wrk is missing; install it (Debian: apt-get install wrk) or run as root"
    fi
fi
command -v python3 >/dev/null || die "python3 is needed for small helpers (JSON, key forging)"
command -v curl >/dev/null || die "curl is needed"

HOST_BIN=${FLOWGATE_HOST_BIN:-$ROOT/target/host/flowgate-host}
# The `flowgate` CLI, which makes the signing key (bench/build.sh builds it).
CLI_BIN=${FLOWGATE_CLI_BIN:-$ROOT/target/host/flowgate}

# A new `signing_key`: the bound form `flowgate signing-key` prints (what a
# deployment should use: no key derivation per request), or with
# KEY_FORM=plain a plain 32-byte seed, to measure the slower form.
signing_key() {
    case "${KEY_FORM:-bound}" in
        bound)
            [ -x "$CLI_BIN" ] || die "$CLI_BIN is missing: build it (bench/build.sh does) or set KEY_FORM=plain"
            "$CLI_BIN" signing-key
            ;;
        plain) python3 -c 'import secrets; print(secrets.token_hex(32))' ;;
        *) die "KEY_FORM must be bound or plain" ;;
    esac
}
if [ -n "${FLOWGATE_SPIN:-}" ]; then
    RUNTIME=$FLOWGATE_SPIN
    RUNTIME_NAME="Spin ($("$FLOWGATE_SPIN" --version 2>/dev/null | head -1))"
else
    RUNTIME=$HOST_BIN
    RUNTIME_NAME="test host (target/host/flowgate-host)"
fi

# --- processes ---------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- which authorizer -----------------------------------------------------------
# AUTHORIZER=p3 (real Spin 4 only) serves the WASIp3 build of the authorizer
# (authorizer_p3.wasm, docs/p3.md) from a copy of spin.toml; unset, the
# default WASI 0.2 build from spin.toml itself.
case ${AUTHORIZER:-} in
"") MANIFEST=${MANIFEST:-$ROOT/spin.toml} ;;
p3)
    [ -n "${FLOWGATE_SPIN:-}" ] ||
        die "AUTHORIZER=p3 needs real Spin 4 (FLOWGATE_SPIN): the test host runs WASI 0.2 components only"
    MANIFEST=$WORK/spin-p3.toml
    sed -e "s#^source = \"target/wasm32-wasip2/release/authorizer.wasm\"#source = \"$ROOT/target/wasm32-wasip2/release/authorizer_p3.wasm\"#" \
        -e "s#^source = \"target/#source = \"$ROOT/target/#" "$ROOT/spin.toml" >"$MANIFEST"
    grep -q 'authorizer_p3.wasm"' "$MANIFEST" || die "spin.toml names no authorizer.wasm to replace"
    RUNTIME_NAME="$RUNTIME_NAME, authorizer built for WASIp3 (AUTHORIZER=p3)"
    ;;
*) die "AUTHORIZER=${AUTHORIZER}: the only other build is p3" ;;
esac

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
    local port=$1 what=$2
    for _ in $(seq 1 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    die "$what did not come up on port $port (logs in $WORK)"
}

# Starts flowgate's spin.toml on APP_PORT; PIN (e.g. "taskset -c 0") prefixes
# the command. Sets APP and ADMIN_TOKEN.
start_flowgate() {
    local upstream=$1
    ADMIN_TOKEN="adm-$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
    APP_PORT=$(free_port)
    APP="http://127.0.0.1:$APP_PORT"
    say "starting flowgate ($RUNTIME_NAME) on 127.0.0.1:$APP_PORT ${PIN:-}, signing key: ${KEY_FORM:-bound} form"
    mkdir -p "$WORK/state-app"
    # shellcheck disable=SC2086 # PIN is a command prefix, split on purpose
    SPIN_VARIABLE_ADMIN_TOKEN=$ADMIN_TOKEN \
    SPIN_VARIABLE_HMAC_PEPPER=$(python3 -c 'import secrets; print(secrets.token_hex(32))') \
    SPIN_VARIABLE_SIGNING_KEY=$(signing_key) \
    SPIN_VARIABLE_ISSUER="$APP" \
    SPIN_VARIABLE_ORDERS_UPSTREAM="$upstream" \
    SPIN_VARIABLE_REPORTS_UPSTREAM="$upstream" \
        ${PIN:-} "$RUNTIME" up --from "$MANIFEST" --listen "127.0.0.1:$APP_PORT" \
        --state-dir "$WORK/state-app" >"$WORK/app.log" 2>&1 </dev/null &
    APP_PID=$!
    PIDS+=("$APP_PID")
    wait_port "$APP_PORT" flowgate
}

# cpu_ticks PID...: the CPU time (user + system, clock ticks) used so far by
# the processes PID and all their descendants (`spin up` serves from a child
# process). Requests per CPU-second is the fair "per core" figure on a shared
# machine: other processes' load slows the wall clock, not this count.
cpu_ticks() {
    python3 - "$@" <<'EOF'
import os, sys
procs = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            stat = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        procs[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
tree = {int(p) for p in sys.argv[1:]}
grew = True
while grew:
    grew = False
    for pid, (ppid, _) in procs.items():
        if ppid in tree and pid not in tree:
            tree.add(pid)
            grew = True
print(sum(procs[p][1] for p in tree if p in procs))
EOF
}
CLK_TCK=$(getconf CLK_TCK)

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
create_account() {
    curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
        -d "$1" "$APP/admin/v1/accounts"
}

# A client_secret client of flowgate; sets CLIENT_BASIC and writes the wrk
# script $WORK/token.lua for its token requests.
create_client() {
    local json id secret
    json=$(create_account '{"name":"load-client","credential_type":"client_secret","flows":["orders"]}')
    id=$(json_field client_id <<<"$json")
    secret=$(json_field secret <<<"$json")
    CLIENT_BASIC="Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)"
    token_script "$WORK/token.lua" "$CLIENT_BASIC"
}

# token_script FILE AUTHORIZATION: a wrk script posting client_credentials.
token_script() {
    cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "$2"
EOF
}

# wrk_once WRK_PREFIX ARGS... URL: runs wrk once; prints
# "rps p50_ms p99_ms requests non2xx errors|-". WRK_PREFIX may be empty or a
# command prefix such as "taskset -c 1".
wrk_once() {
    local prefix=$1
    shift
    local out
    # shellcheck disable=SC2086 # prefix is a command prefix, split on purpose
    out=$($prefix wrk --timeout 5s --latency "$@" 2>&1) || die "wrk failed: $out"
    printf '%s\n' "$out" >>"$WORK/wrk-raw.log"
    python3 - "$out" <<'EOF'
import re, sys
out = sys.argv[1]
def ms(v):
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
total = int(re.search(r"(\d+) requests in", out).group(1))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
errors = re.search(r"Socket errors: (.*)", out)
print(rps, p50, p99, total, int(m.group(1)) if m else 0, "errors" if errors else "-")
EOF
}
