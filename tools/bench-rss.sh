#!/bin/sh
# Benchmark of memory tracking, in one run, on a page-fault storm
# (tools/faultstorm: map MIB MiB, touch every page, unmap; ROUNDS times):
#  - the storm's time untraced, under `zmtrace rss` (per-fault tracking, no
#    filter: every process), under `zmtrace rss --sample 99` and under the
#    bpftrace peer
#      tracepoint:kmem:rss_stat { @rss[pid, args->member] = args->size; }
#    as ratios to untraced: REPEAT rounds of the four, in an order that
#    turns each round (this VM drifts by several % over a minute); each
#    figure is the median of its rounds, and the spread of the per-round
#    ratios is shown;
#  - the rss_stat handler's cost per event (kernel.bpf_stats_enabled:
#    run_time_ns / run_cnt) beside an empty program on the same tracepoint,
#    each loaded afresh and alone on the tracepoint, PAIRS times in turn
#    (where the kernel puts a program's code moves its cost by +-10 ns
#    here); medians.
# Usage: tools/bench-rss.sh [MIB [ROUNDS [REPEAT [PAIRS]]]]   (root; default
# 256 2 7 5; REPEAT 0 measures the handler only; ZMTRACE=path measures another
# binary; ZMTRACE_RSS_PATH=linear|pieces|table|every|shared another rss_stat path)
set -eu
cd "$(dirname "$0")/.."
MIB=${1:-256} ROUNDS=${2:-2} REPEAT=${3:-7} PAIRS=${4:-5}
[ "$(id -u)" = 0 ] || { echo "bench-rss: needs root" >&2; exit 1; }
command -v bpftrace >/dev/null || { echo "bench-rss: bpftrace is not installed (apt-get install bpftrace)" >&2; exit 1; }
ZM=${ZMTRACE:-./zmtrace} # the binary measured (default: build ./zmtrace)
[ -n "${ZMTRACE:-}" ] || make -s zmtrace >/dev/null
make -s tools/faultstorm tools/bench_empty >/dev/null

tmp=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
mounted=
if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing && mounted=1 # for bpftrace
fi
tracer=
stop_tracer() { # SIGINT, as a user would; bpftrace sometimes misses it
	[ -n "$tracer" ] || return 0
	kill -INT "$tracer" 2>/dev/null || true
	i=0
	while kill -0 "$tracer" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$tracer" 2>/dev/null && kill -TERM "$tracer" 2>/dev/null
	wait "$tracer" 2>/dev/null || true
	tracer=
}
cleanup() {
	stop_tracer
	[ -n "${epid:-}" ] && { exec 3>&-; wait "$epid" 2>/dev/null || true; }
	sysctl -q kernel.bpf_stats_enabled="$old_stats"
	[ -n "$mounted" ] && umount /sys/kernel/tracing
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

wait_for() { # FILE PATTERN: until a line matches (bounded, 20 s)
	i=0; while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 2000 ] && { echo "bench-rss: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }
		sleep 0.01
	done
}
storm() { tools/faultstorm "$MIB" "$ROUNDS" | sed 's/.*"ns_per_fault":\([0-9.]*\).*/\1/'; }
start_zmtrace() { # ARGS...
	"$ZM" rss --json "$@" >/dev/null 2>"$tmp/z.err" &
	tracer=$!
	wait_for "$tmp/z.err" "zmtrace: tracing"
}
start_bpftrace() {
	bpftrace -e 'tracepoint:kmem:rss_stat { @rss[pid, args->member] = args->size; }' \
		>"$tmp/b.out" 2>&1 &
	tracer=$!
	wait_for "$tmp/b.out" "Attaching"
	sleep 0.5 # bpftrace prints "Attaching" before its probe is live
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ratio_spread() { # FILE-A FILE-B: min..max of the per-round ratios B/A
	paste "$1" "$2" | awk '{ r = $2 / $1; if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
		END { printf "x%.3f..x%.3f", lo, hi }'
}
run_one() { # CONFIG
	case $1 in
	untraced) storm >>"$tmp/untraced" ;;
	zmtrace) start_zmtrace; storm >>"$tmp/zmtrace"; stop_tracer ;;
	sample) start_zmtrace --sample 99; storm >>"$tmp/sample"; stop_tracer ;;
	bpftrace) start_bpftrace; storm >>"$tmp/bpftrace"; stop_tracer ;;
	empty) start_empty; storm >>"$tmp/emptyw"; stop_empty ;;
	esac
}
start_empty() { # bench_empty holds the empty programs until its stdin closes
	tools/bench_empty <"$tmp/hold" >"$tmp/empty" &
	epid=$!
	exec 3>"$tmp/hold"
	wait_for "$tmp/empty" ready
}
stop_empty() {
	exec 3>&-
	wait "$epid" 2>/dev/null || true
	epid=
}
"$ZM" rss -v --duration 0.01 2>"$tmp/path.err" >/dev/null
path=$(sed -n 's/^zmtrace: rss_stat path: //p' "$tmp/path.err")
sysctl -q kernel.bpf_stats_enabled=0 # its clock reads are not part of the cost
storm >/dev/null # warm up
mkfifo "$tmp/hold"
configs="untraced empty zmtrace sample bpftrace"
(cd "$tmp" && touch untraced emptyw zmtrace sample bpftrace)
for r in $(seq "$REPEAT"); do
	# Round r starts at the (r mod 5)th configuration.
	set -- $configs
	k=$(((r - 1) % 5))
	while [ "$k" -gt 0 ]; do set -- "$2" "$3" "$4" "$5" "$1"; k=$((k - 1)); done
	for c in "$@"; do run_one "$c"; done
done
u=$(median <"$tmp/untraced")
z=$(median <"$tmp/zmtrace")
b=$(median <"$tmp/bpftrace")
s=$(median <"$tmp/sample")
w=$(median <"$tmp/emptyw")

# Per-event cost: the empty program alone on rss_stat for one storm, then
# zmtrace alone for another, PAIRS times. (Attached together, the first
# program on a tracepoint pays ~30 ns more than the second here: alone is
# fair to both.)
sysctl -q kernel.bpf_stats_enabled=1
per_event() { awk '{ if ($1 > 0) printf "%.1f\n", $2 / $1 }'; }
for r in $(seq "$PAIRS"); do
	start_empty
	storm >/dev/null
	bpftool prog show -j | jq -r '[.[] | select(.name == "empty_rss")][0] | "\(.run_cnt) \(.run_time_ns)"' |
		per_event >>"$tmp/ecost"
	stop_empty
	start_zmtrace
	storm >/dev/null
	bpftool prog show -j | jq -r '[.[] | select(.name | startswith("zm_rss"))][0] | "\(.run_cnt) \(.run_time_ns)"' |
		per_event >>"$tmp/zcost"
	stop_tracer
done
en=$(median <"$tmp/ecost")
zn=$(median <"$tmp/zcost")

echo "page-fault storm: $ROUNDS x $MIB MiB touched and unmapped ($((MIB * 256 * ROUNDS)) faults a run), median of $REPEAT rounds"
[ "$REPEAT" -gt 0 ] && awk -v u="$u" -v z="$z" -v b="$b" -v s="$s" -v w="$w" -v ws="$(ratio_spread "$tmp/untraced" "$tmp/emptyw")" -v zs="$(ratio_spread "$tmp/untraced" "$tmp/zmtrace")" \
	-v ss="$(ratio_spread "$tmp/untraced" "$tmp/sample")" -v bs="$(ratio_spread "$tmp/untraced" "$tmp/bpftrace")" 'BEGIN {
	printf "  %-34s %8.0f ns/fault\n", "untraced", u
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)  rounds %s\n", "an empty program on rss_stat", w, w / u, (w / u - 1) * 100, ws
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)  rounds %s\n", "zmtrace rss (per fault, 1 MiB)", z, z / u, (z / u - 1) * 100, zs
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)  rounds %s\n", "zmtrace rss --sample 99", s, s / u, (s / u - 1) * 100, ss
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)  rounds %s\n", "bpftrace @rss[pid, member] = size", b, b / u, (b / u - 1) * 100, bs
}'
printf "rss_stat handler, path \"%s\" (kernel.bpf_stats_enabled; each loaded afresh and alone on the tracepoint; median of %s):\n" "$path" "$PAIRS"
printf "  zm_rss     %7.1f ns/event  (runs: %s)\n" "$zn" "$(tr '\n' ' ' <"$tmp/zcost")"
printf "  empty_rss  %7.1f ns/event  (runs: %s)\n" "$en" "$(tr '\n' ' ' <"$tmp/ecost")"
pr=$(paste "$tmp/ecost" "$tmp/zcost" | awk '$1 > 0 { printf "%.3f\n", $2 / $1 }' | median)
awk -v z="$zn" -v e="$en" -v pr="$pr" -v n="$PAIRS" 'BEGIN {
	if (e > 0) printf "  ratio      %.2f x the empty program (medians); %.2f x (median of the %d pairs\047 ratios)\n", z / e, pr, n
}'
