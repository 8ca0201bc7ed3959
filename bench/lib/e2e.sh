# Shared by bench/part-2-sse-e2e and bench/part-3-ws-e2e (sourced, not run): one feed end to end over loopback
# into the store, beside a plain client reading the same stream from the same local source.
#
# e2e_measure KIND FEED_URL COMPARISON_NAME COMPARISON_COMMAND...
#   Starts examples/bench_source (--end: the stream ends after the last event), runs the comparison client on
#   it to /dev/null and times it, then runs examples/bench_e2e (the engine, as `tidings run --no-notify`, into
#   a fresh SQLite store) and sets OURS_RATE, OTHER_RATE, RATIO (ours / comparison) and PEAK_RSS_MIB.
#   In FEED_URL and the command, @BASE@ is replaced by the source's http://127.0.0.1:PORT (ws:// for WebSocket).

E2E_EVENTS="${BENCH_E2E_EVENTS:-2000000}"
EXAMPLES="$CARGO_TARGET_DIR/release/examples"

e2e_build() {
    echo "building the source and the end-to-end driver (release)" >&2
    cargo build --release --example bench_source --example bench_e2e >&2
}

e2e_start_source() {
    local out
    out="$(mktemp)"
    "$EXAMPLES/bench_source" --events "$E2E_EVENTS" --end >"$out" 2>/dev/null &
    SOURCE_PID=$!
    for _ in $(seq 100); do
        SOURCE_BASE="$(head -n1 "$out")"
        [[ -n "$SOURCE_BASE" ]] && break
        sleep 0.1
    done
    rm -f "$out"
    if [[ -z "$SOURCE_BASE" ]]; then
        echo "the event source did not start" >&2
        exit 1
    fi
}

e2e_stop_source() {
    kill "$SOURCE_PID" 2>/dev/null || true
    wait "$SOURCE_PID" 2>/dev/null || true
}

e2e_measure() {
    local kind="$1" feed="$2" name="$3"
    shift 3
    local base="$SOURCE_BASE"
    [[ "$kind" == ws ]] && base="${SOURCE_BASE/http:/ws:}"
    local command=("${@//@BASE@/$base}")
    feed="${feed//@BASE@/$base}"

    echo "$name: reading $E2E_EVENTS events to /dev/null" >&2
    local start end
    start=$(date +%s.%N)
    "${command[@]}" >/dev/null </dev/null
    end=$(date +%s.%N)
    OTHER_RATE=$(awk -v n="$E2E_EVENTS" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')

    echo "tidings: storing $E2E_EVENTS events from $feed" >&2
    local line
    local pointer=()
    [[ "$kind" == ws ]] && pointer=(--cursor-pointer /n)
    line=$("$EXAMPLES/bench_e2e" "$feed" --events "$E2E_EVENTS" "${pointer[@]}")
    echo "$line" >&2
    OURS_RATE=$(sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p' <<<"$line")
    PEAK_RSS_MIB=$(sed -n 's/.*peak_rss_kib=\([0-9]*\).*/\1/p' <<<"$line" | awk '{ printf "%.0f", $1 / 1024 }')
    RATIO=$(awk -v a="$OURS_RATE" -v b="$OTHER_RATE" 'BEGIN { printf "%.2f", a / b }')
}

# 1234567 -> 1,234,567
thousands() { sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta' <<<"$1"; }
met() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "yes" : "no" }'; }
