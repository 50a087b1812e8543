# Sourced by scripts/test and scripts/dev: the ONE cargo invocation that
# builds the test host (target/host/flowgate-host) and every native test.
#
# Why one: cargo unifies features across what a command builds, and test
# builds switch on dev-dependency features (sha2 0.10's `std`, for one) that
# reach cranelift and so wasmtime. A host built by any other command (say
# `cargo build -p flowgate-host`) has other features and recompiles wasmtime
# from scratch (6-15 minutes here). So scripts/dev builds exactly what
# scripts/test builds, and after either one the other starts at once.
native=(--workspace --profile host --exclude authorizer --exclude management --exclude hello --exclude probe)

build_native() {
    cargo test "${native[@]}" --no-run "$@"
}
