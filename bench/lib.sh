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

# manifest_variables MANIFEST: every application variable MANIFEST declares,
# one "name<TAB>default" line each (empty default for a required one).
manifest_variables() {
    python3 - "$1" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    variables = tomllib.load(f).get("variables", {})
for name, spec in sorted(variables.items()):
    print(f"{name}\t{spec.get('default', '')}")
EOF
}

# up_variables MANIFEST NAME=VALUE...: sets UP_ENV (assignments for `env`)
# and UP_VARIABLES (arguments of `up`) that give the app of MANIFEST these
# variables the way VARIABLES says: `env` (the default) as SPIN_VARIABLE_NAME
# in its environment, `cli` as `--variable NAME=VALUE`, one for every
# variable the manifest declares (its default where none is given here;
# one given here that the manifest does not declare is left out, as Spin
# ignores such an environment variable).
# On released Spin the two do not cost the same: `--variable` values sit in
# a static provider that is asked first, while every read that reaches
# Spin's environment provider runs inside `tokio::task::block_in_place`
# (crates/runtime-factors/src/build.rs and crates/variables-env/src/lib.rs
# at v4.0.2, the same at v3.6.3). A variable left off the command line would
# still reach that provider, hence all of them (docs/benchmarks.md,
# "Variables on the command line"). The values are throw-away ones.
up_variables() {
    local manifest=$1 pair name value
    shift
    local -A set=()
    for pair in "$@"; do set[${pair%%=*}]=${pair#*=}; done
    UP_ENV=()
    UP_VARIABLES=()
    case ${VARIABLES:-env} in
    env)
        for name in "${!set[@]}"; do UP_ENV+=("SPIN_VARIABLE_${name^^}=${set[$name]}"); done
        ;;
    cli)
        while IFS=$'\t' read -r name value; do
            [ -n "${set[$name]+x}" ] && value=${set[$name]}
            UP_VARIABLES+=(--variable "$name=$value")
        done < <(manifest_variables "$manifest")
        ;;
    *) die "VARIABLES must be env or cli" ;;
    esac
}

# Starts flowgate's spin.toml on APP_PORT; PIN (e.g. "taskset -c 0") prefixes
# the command; UP_ARGS adds arguments to `up` (Spin's `--quiet`, for one:
# component output then goes to the log files only, not also to Spin's
# stderr); VARIABLES, see up_variables. Sets APP and ADMIN_TOKEN.
start_flowgate() {
    local upstream=$1
    ADMIN_TOKEN="adm-$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
    PEPPER_HEX=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    APP_PORT=$(free_port)
    APP="http://127.0.0.1:$APP_PORT"
    say "starting flowgate ($RUNTIME_NAME) on 127.0.0.1:$APP_PORT ${PIN:-}, signing key: ${KEY_FORM:-bound} form, variables: ${VARIABLES:-env}"
    mkdir -p "$WORK/state-app"
    up_variables "$MANIFEST" \
        "admin_token=$ADMIN_TOKEN" \
        "hmac_pepper=$PEPPER_HEX" \
        "signing_key=$(signing_key)" \
        "issuer=$APP" \
        "orders_upstream=$upstream" \
        "reports_upstream=$upstream"
    # shellcheck disable=SC2086 # PIN and UP_ARGS are split on purpose
    env "${UP_ENV[@]}" ${PIN:-} "$RUNTIME" up --from "$MANIFEST" --listen "127.0.0.1:$APP_PORT" \
        --state-dir "$WORK/state-app" ${RUNTIME_CONFIG:+--runtime-config-file "$RUNTIME_CONFIG"} \
        "${UP_VARIABLES[@]}" ${UP_ARGS:-} >"$WORK/app.log" 2>&1 </dev/null &
    APP_PID=$!
    PIDS+=("$APP_PID")
    wait_port "$APP_PORT" flowgate
}

# start_redis: a throw-away redis-server (PIN-prefixed, nothing saved) and a
# Spin runtime config whose `default` store is on it; sets RUNTIME_CONFIG
# (which start_flowgate passes to `up`) and REDIS_PID.
start_redis() {
    command -v redis-server >/dev/null || die "REDIS=1 needs redis-server (scripts/install-test-tools installs it)"
    local port
    port=$(free_port)
    mkdir -p "$WORK"
    # shellcheck disable=SC2086 # PIN is a command prefix, split on purpose
    ${PIN:-} redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        >"$WORK/redis.log" 2>&1 </dev/null &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_port "$port" redis-server
    RUNTIME_CONFIG=$WORK/runtime-config.toml
    printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:%s"\n' "$port" >"$RUNTIME_CONFIG"
}

# start_upstream FALLBACK_PORT: the upstream of proxy mode and of the proxy
# floor, a static nginx answer when nginx is installed (scripts/install-test-tools
# installs it; PIN-prefixed), otherwise whatever serves FALLBACK_PORT. Sets
# UPSTREAM_PORT, UPSTREAM_PID (empty for the fallback) and UPSTREAM_NAME.
start_upstream() {
    UPSTREAM_PORT=$(free_port)
    if command -v nginx >/dev/null; then
        mkdir -p "$WORK/nginx/logs"
        cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$UPSTREAM_PORT;
        location / { default_type text/plain; return 200 "upstream ok\n"; }
    }
}
EOF
        # shellcheck disable=SC2086 # PIN is a command prefix, split on purpose
        ${PIN:-} nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.log" 2>&1 &
        UPSTREAM_PID=$!
        PIDS+=("$UPSTREAM_PID")
        UPSTREAM_NAME="nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), static 200"
    else
        UPSTREAM_PORT=$1
        UPSTREAM_PID=
        UPSTREAM_NAME="the hello floor (no nginx installed)"
    fi
}

# start_floors PORT UPSTREAM: the floors app (bench/floors.spin.toml, or
# FLOORS_MANIFEST) on PORT, PIN-prefixed like start_flowgate, its proxy
# floor forwarding to UPSTREAM; sets FLOORS_PID and FLOOR_RECORD (the
# one-read floor's record: about the size of an account record). The
# variables `?vars=N` reads are set as flowgate's are: three given, one
# left at its default; VARIABLES says how (up_variables).
start_floors() {
    local port=$1 upstream=$2
    say "starting the floors (bench/floors.spin.toml) on 127.0.0.1:$port ${PIN:-}"
    FLOOR_RECORD=$(python3 -c 'import json; print(json.dumps({"id": "0" * 26, "name": "floor", "status": "active", "flows": ["orders"], "digest": "f" * 64, "created_at": 1764460800, "pad": "x" * 60}))')
    mkdir -p "$WORK/state-floors"
    local manifest=${FLOORS_MANIFEST:-$ROOT/bench/floors.spin.toml}
    up_variables "$manifest" \
        "upstream=$upstream" \
        "bench_a=http://127.0.0.1:$port" \
        "bench_b=$(python3 -c 'import secrets; print(secrets.token_hex(32))')" \
        "bench_c=$(python3 -c 'import secrets; print(secrets.token_hex(96))')"
    # shellcheck disable=SC2086 # PIN is a command prefix, split on purpose
    env "${UP_ENV[@]}" ${PIN:-} "$RUNTIME" up --from "$manifest" \
        --listen "127.0.0.1:$port" --state-dir "$WORK/state-floors" \
        --key-value "floor=$FLOOR_RECORD" "${UP_VARIABLES[@]}" >"$WORK/floors.log" 2>&1 </dev/null &
    FLOORS_PID=$!
    PIDS+=("$FLOORS_PID")
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

# make_key ACCOUNT_ID PEPPER_HEX: a well-formed API key of that account
# (prefix, id, random body, keyed tag under PEPPER_HEX, checksum) that was
# never issued; src/secret.rs is the format.
make_key() {
    python3 - "$1" "$2" <<'EOF'
import base64, hashlib, hmac, secrets, sys
b32 = lambda b: base64.b32encode(b).decode().lower().rstrip("=")
signed = f"fgak_{sys.argv[1]}_{b32(secrets.token_bytes(20))}"
mac = hmac.new(bytes.fromhex(sys.argv[2]), b"flowgate/secret-tag/v1\0" + signed.encode(), hashlib.sha256)
signed += b32(mac.digest()[:5])[:8]
print(signed + b32(hashlib.sha256(signed.encode()).digest()[:5])[:8])
EOF
}

# wrong_key ACCOUNT_ID: a key of that account tagged with the running app's
# pepper (PEPPER_HEX) but never issued, as a key replaced by a reset is: its
# refusal pays the tag, the store read and the digest comparison, the most a
# refusal can cost.
wrong_key() { make_key "$1" "$PEPPER_HEX"; }

# forged_key ACCOUNT_ID: a key of that account made up without the pepper,
# as anyone can (valid checksum, tag under another key): refused before the
# store is read. What a flood of made-up keys costs the authorizer.
forged_key() { make_key "$1" "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"; }

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
