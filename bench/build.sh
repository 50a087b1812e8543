# Sourced by bench/load.sh, bench/peers.sh and bench/scale.sh (not run):
# builds what a benchmark runs, unless SKIP_BUILD=1.

# Builds the components named in "$@" for wasm32-wasip2 (release), the
# `flowgate` CLI (it makes the signing key, bench/lib.sh) and, unless
# FLOWGATE_SPIN names a Spin to run them, the test host.
build_for_bench() {
    if [ "${SKIP_BUILD:-}" = 1 ]; then
        return 0
    fi
    local packages=() package
    # AUTHORIZER=p3 (bench/lib.sh): the WASIp3 authorizer and floors too.
    if [ "${AUTHORIZER:-}" = p3 ]; then
        set -- "$@" authorizer-p3 hello-p3 kv-floor-p3 kv-floor-p3-async proxy-floor-p3
    fi
    for package in "$@"; do packages+=(-p "$package"); done
    printf '==> building %s (wasm32-wasip2, release)\n' "$*" >&2
    cargo build -q --target wasm32-wasip2 --release "${packages[@]}"
    printf '==> building the flowgate CLI (profile host)\n' >&2
    cargo build -q --profile host -p flowgate-cli
    if [ -z "${FLOWGATE_SPIN:-}" ]; then
        printf '==> building the test host (profile host)\n' >&2
        cargo build -q --profile host -p flowgate-host
    fi
}
