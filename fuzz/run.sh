#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 25) on this stable
# toolchain, and prints how many inputs each tried. A crash stops the run
# with libFuzzer's report; the input is saved in fuzz/artifacts/TARGET/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1 lets the
# stable compiler accept them. No sanitizer: the code under test is safe
# Rust, and without AddressSanitizer each target runs several times faster.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-25}"
shift || true
export RUSTC_BOOTSTRAP=1
# Pinned: a newer cargo-fuzz may need a newer rustc than this machine has.
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
flags=(-O --sanitizer none)
cargo fuzz build "${flags[@]}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dictionary=dictionaries/json.dict
    [ "$target" = config ] && dictionary=dictionaries/config.dict
    log="$(mktemp)"
    if ! cargo fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -dict="$dictionary" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target crashed; the input is in fuzz/artifacts/$target/ (docs/testing.md says how to turn it into a regression test)"
        exit 1
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)"
    echo "fuzz: $target: ${runs:-?} inputs in ${seconds} s, ${coverage:-cov: ?} edges, no crash"
    rm -f "$log"
done
