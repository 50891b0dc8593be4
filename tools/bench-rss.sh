#!/bin/sh
# Benchmark of memory tracking, in one run, on a page-fault storm
# (tools/faultstorm: map MIB MiB, touch every page, unmap; ROUNDS times):
#  - the storm's time untraced, under `zmtrace rss` (per-fault tracking, no
#    filter: every process), under the bpftrace peer
#      tracepoint:kmem:rss_stat { @rss[pid, args->member] = args->size; }
#    and under `zmtrace rss --sample 99`, as ratios to untraced. The four are
#    measured in turn, REPEAT times, and each figure is the median;
#  - the rss_stat handler's cost per event (kernel.bpf_stats_enabled:
#    run_time_ns / run_cnt) next to an empty program on the same tracepoint,
#    each measured alone on the tracepoint over the same storm.
# Usage: tools/bench-rss.sh [MIB [ROUNDS [REPEAT]]]   (root; default 256 4 3;
# ZMTRACE=path measures another binary)
set -eu
cd "$(dirname "$0")/.."
MIB=${1:-256} ROUNDS=${2:-4} REPEAT=${3:-3}
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
stop_tracer() {
	[ -n "$tracer" ] || return 0
	kill -INT "$tracer" 2>/dev/null || true
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

storm >/dev/null # warm up
for r in $(seq "$REPEAT"); do
	storm >>"$tmp/untraced"
	start_zmtrace; storm >>"$tmp/zmtrace"; stop_tracer
	start_bpftrace; storm >>"$tmp/bpftrace"; stop_tracer
	start_zmtrace --sample 99; storm >>"$tmp/sample"; stop_tracer
done
u=$(median <"$tmp/untraced")
z=$(median <"$tmp/zmtrace")
b=$(median <"$tmp/bpftrace")
s=$(median <"$tmp/sample")

# Per-event cost: the empty program alone on rss_stat for one storm, then
# zmtrace alone for another. (Attached together, the first program on a
# tracepoint pays ~30 ns more than the second here: alone is fair to both.)
sysctl -q kernel.bpf_stats_enabled=1
mkfifo "$tmp/hold"
tools/bench_empty <"$tmp/hold" >"$tmp/empty" &
epid=$!
exec 3>"$tmp/hold"
wait_for "$tmp/empty" ready
storm >/dev/null
ecost=$(bpftool prog show -j | jq -r '[.[] | select(.name == "empty_rss")][0] | "\(.run_cnt) \(.run_time_ns)"')
exec 3>&-
wait "$epid" 2>/dev/null || true
epid=
start_zmtrace
storm >/dev/null
zcost=$(bpftool prog show -j | jq -r '[.[] | select(.name == "zm_rss")][0] | "\(.run_cnt) \(.run_time_ns)"')
stop_tracer
costs="$zcost $ecost"

echo "page-fault storm: $ROUNDS x $MIB MiB touched and unmapped ($((MIB * 256 * ROUNDS)) faults), median of $REPEAT"
awk -v u="$u" -v z="$z" -v b="$b" -v s="$s" 'BEGIN {
	printf "  %-34s %8.0f ns/fault\n", "untraced", u
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)\n", "zmtrace rss (per fault, 1 MiB)", z, z / u, (z / u - 1) * 100
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)\n", "zmtrace rss --sample 99", s, s / u, (s / u - 1) * 100
	printf "  %-34s %8.0f ns/fault  x%.3f (%+.1f%%)\n", "bpftrace @rss[pid, member] = size", b, b / u, (b / u - 1) * 100
}'
echo "$costs" | awk '{
	zn = $1 ? $2 / $1 : 0; en = $3 ? $4 / $3 : 0
	printf "rss_stat handler (kernel.bpf_stats_enabled; each alone on the tracepoint, same storm size):\n"
	printf "  zm_rss     %9d events %7.1f ns/event\n", $1, zn
	printf "  empty_rss  %9d events %7.1f ns/event\n", $3, en
	if (en > 0) printf "  ratio      %.2f x the empty program\n", zn / en
}'
