#!/usr/bin/env bash
# Builds and runs Sluice's libFuzzer harnesses. Called by `make fuzz` and `make fuzz-replay`.
#
#   tools/fuzz/fuzz.sh build            build the fuzzers (ASan + libFuzzer, debug)
#   tools/fuzz/fuzz.sh run [TARGET...]   fuzz each target for FUZZ_SECONDS (default 60)
#   tools/fuzz/fuzz.sh replay [TARGET...] run each fuzzer once over its seeds and saved crashes
#
# TARGET is event-line, siddhiql, wire-frame or wire-batch (default: all). Seeds live in
# Tests/FuzzCorpus/<target>/.
# `run` mutates with the dictionary tools/fuzz/<target>.dict and writes crashing inputs to
# Tests/FuzzCorpus/crashes/<target>/. Inputs that libFuzzer finds interesting but that do not
# crash go to tools/fuzz/.build/corpus/<target>/ (git-ignored), so repeated runs keep their
# progress without filling the repository.
#
# Environment: SWIFT (swift), FUZZ_SECONDS (60), FUZZ_MAX_LEN (4096), FUZZ_TIMEOUT (10, seconds
# per input), FUZZ_DETECT_LEAKS (0; see README.md for why leaks are off by default),
# FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus="$root/Tests/FuzzCorpus"
swift=${SWIFT:-swift}
seconds=${FUZZ_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-4096}
timeout=${FUZZ_TIMEOUT:-10}
leaks=${FUZZ_DETECT_LEAKS:-0}
bin="$here/.build/debug"
# libFuzzer's -detect_leaks only covers its per-input check; LeakSanitizer also runs at exit and
# would report (and save an empty "crash") for leaks that -detect_leaks=0 meant to ignore.
export ASAN_OPTIONS="detect_leaks=$leaks${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

binary() {
    case "$1" in
        event-line) echo FuzzEventLine ;;
        siddhiql) echo FuzzSiddhiQL ;;
        wire-frame) echo FuzzWireFrame ;;
        wire-batch) echo FuzzWireBatch ;;
        *) echo "fuzz.sh: unknown target '$1' (event-line, siddhiql, wire-frame or wire-batch)" >&2; exit 2 ;;
    esac
}

build() {
    # -parse-as-library: each harness's main.swift only defines LLVMFuzzerTestOneInput, and
    # libFuzzer supplies main(). The sanitizer flags reach every module, so Sluice itself is
    # instrumented for coverage and ASan, not just the harness.
    (cd "$here" && "$swift" build -c debug \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
}

cmd=${1:-}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(event-line siddhiql wire-frame wire-batch)
for t in "${targets[@]}"; do binary "$t" >/dev/null; done

case "$cmd" in
build)
    build
    ;;
run)
    build
    status=0
    for t in "${targets[@]}"; do
        work="$here/.build/corpus/$t"
        crashes="$corpus/crashes/$t"
        mkdir -p "$work" "$crashes"
        echo "== fuzzing $t for ${seconds}s (new crashes go to ${crashes#"$root"/}/)"
        # The first corpus dir receives new inputs; the seed dir is only read.
        # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
        if ! "$bin/$(binary "$t")" \
            -max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" \
            -detect_leaks="$leaks" -print_final_stats=1 \
            -dict="$here/$t.dict" -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} \
            "$work" "$corpus/$t"; then
            echo "== $t: the fuzzer stopped on a finding; its input is in ${crashes#"$root"/}/" >&2
            status=1
        fi
    done
    exit $status
    ;;
replay)
    build
    status=0
    for t in "${targets[@]}"; do
        files=()
        for d in "$corpus/$t" "$corpus/crashes/$t"; do
            [ -d "$d" ] || continue
            while IFS= read -r -d '' f; do files+=("$f"); done \
                < <(find "$d" -maxdepth 1 -type f ! -name '.*' -print0 | sort -z)
        done
        echo "== replaying ${#files[@]} inputs through $(binary "$t")"
        [ ${#files[@]} -eq 0 ] && continue
        # Given files rather than dirs, libFuzzer runs each once and exits non-zero on a crash.
        if ! "$bin/$(binary "$t")" -detect_leaks="$leaks" -timeout="$timeout" "${files[@]}" \
            > "$here/.build/replay-$t.log" 2>&1; then
            cat "$here/.build/replay-$t.log" >&2
            echo "== $t: an input crashed (log above)" >&2
            status=1
        fi
    done
    exit $status
    ;;
*)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
