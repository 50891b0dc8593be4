#!/bin/sh
# Benchmark of the lifecycle handlers, in one run:
#  - a fork/exit/reap storm (tools/forkstorm) untraced, then traced by
#    `zmtrace zombies` (no filter: the worst case), as a wall-time ratio;
#  - each zmtrace handler's cost per event from kernel.bpf_stats_enabled
#    (run_time_ns / run_cnt) next to an empty program on the same hook
#    (tools/bench_empty), each alone on its hooks over a storm of the same
#    size: attached together, the first program on a tracepoint pays ~30 ns
#    more than the second here.
# Usage: tools/bench-lifecycle.sh [ITERATIONS]   (root; default 20000)
set -eu
cd "$(dirname "$0")/.."
N=${1:-20000}
[ "$(id -u)" = 0 ] || { echo "bench-lifecycle: needs root" >&2; exit 1; }
make -s zmtrace tools/forkstorm tools/bench_empty >/dev/null

tmp=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "${zpid:-}" ] && kill "$zpid" 2>/dev/null && wait "$zpid" 2>/dev/null
	[ -n "${epid:-}" ] && exec 3>&- && wait "$epid" 2>/dev/null
	sysctl -q kernel.bpf_stats_enabled="$old_stats"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

iter_ns() { tools/forkstorm "$N" | sed 's/.*"ns_per_iter":\([0-9]*\).*/\1/'; }
wait_line() { # FILE PATTERN: until the line appears (bounded, 10 s)
	i=0; while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 1000 ] && { echo "bench: timed out waiting for $2" >&2; exit 1; }
		sleep 0.01
	done
}

tools/forkstorm 2000 >/dev/null # warm up
untraced=$(iter_ns)

sysctl -q kernel.bpf_stats_enabled=1
./zmtrace zombies --json >/dev/null 2>"$tmp/err" &
zpid=$!
wait_line "$tmp/err" "zmtrace: tracing"
traced=$(iter_ns)
bpftool prog show -j >"$tmp/zm.json"
kill -INT "$zpid"; wait "$zpid" 2>/dev/null || true; zpid=

# The empty baseline, alone (zmtrace left tracefs mounted for its wait4 hook).
mkfifo "$tmp/hold"
tools/bench_empty <"$tmp/hold" >"$tmp/empty" &
epid=$!
exec 3>"$tmp/hold"
wait_line "$tmp/empty" ready
tools/forkstorm "$N" >/dev/null
bpftool prog show -j >"$tmp/empty.json"

echo "forkstorm: $N iterations of fork + exit + wait4"
echo "  untraced            $untraced ns/iteration"
echo "  zmtrace zombies     $traced ns/iteration"
awk -v a="$untraced" -v b="$traced" 'BEGIN { printf "  ratio               %.3f (%+.1f%%)\n", b / a, (b / a - 1) * 100 }'
echo
echo "handler cost (kernel.bpf_stats_enabled: run_time_ns / run_cnt)"
printf '  %-18s %10s %9s   %-18s %9s\n' program events ns/event "empty on same hook" ns/event
jq -s -r 'add |
  [ .[] | select(.name != null) | select(.name | test("^(zm_|empty_)")) |
    { name, cnt: (.run_cnt // 0), ns: (.run_time_ns // 0) } ] as $p |
  def prog($n): ($p | map(select(.name == $n)) | first) // {cnt: 0, ns: 0};
  def cost($n): prog($n) | if .cnt > 0 then (.ns / .cnt | floor | tostring) else "-" end;
  [["zm_fork","empty_fork"],["zm_exec","empty_exec"],["zm_exit","empty_exit"],
   ["zm_signal","empty_signal"],["zm_free","empty_free"],
   ["zm_wait4_exit","empty_wait4_exit"]][] |
  .[0] as $a | .[1] as $b |
  "\($a)\t\(prog($a).cnt)\t\(cost($a))\t\($b)\t\(cost($b))"' "$tmp/zm.json" "$tmp/empty.json" |
while IFS="$(printf '\t')" read -r a n c b e; do
	printf '  %-18s %10s %9s   %-18s %9s\n' "$a" "$n" "$c" "$b" "$e"
done
