#!/bin/sh
# Benchmark of the lifecycle handlers, in one run:
#  - a fork/exit/reap storm (tools/forkstorm) untraced, then traced by
#    `zmtrace zombies` (no filter: the worst case), as a wall-time ratio;
#  - each zmtrace handler's cost per event from kernel.bpf_stats_enabled
#    (run_time_ns / run_cnt) next to an empty program on the same hook
#    (tools/bench_empty), each alone on its hooks over a storm of the same
#    size: attached together, the first program on a tracepoint pays ~30 ns
#    more than the second here.
# Usage: tools/bench-lifecycle.sh [ITERATIONS [MODE]]   (root; default 20000)
#   MODE zombies (default): `zmtrace zombies` over forkstorm;
#   MODE rss: `zmtrace rss` (its fork, exec and exit handlers keep each mm's
#   slot and send exact figures at exec and exit) over a shell running
#   /bin/true ITERATIONS times (fork + exec + exit + wait).
set -eu
cd "$(dirname "$0")/.."
N=${1:-20000}
MODE=${2:-zombies}
case $MODE in zombies | rss) ;; *) echo "bench-lifecycle: MODE is zombies or rss" >&2; exit 2 ;; esac
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

# The storm: ns per iteration.
storm() {
	if [ "$MODE" = zombies ]; then
		tools/forkstorm "$1" | sed 's/.*"ns_per_iter":\([0-9]*\).*/\1/'
	else
		t0=$(date +%s%N)
		sh -c 'i=0; while [ $i -lt "$1" ]; do /bin/true; i=$((i + 1)); done' sh "$1"
		echo $((($(date +%s%N) - t0) / $1))
	fi
}
iter_ns() { storm "$N"; }
wait_line() { # FILE PATTERN: until the line appears (bounded, 10 s)
	i=0; while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 1000 ] && { echo "bench: timed out waiting for $2" >&2; exit 1; }
		sleep 0.01
	done
}

storm 200 >/dev/null # warm up
untraced=$(iter_ns)

sysctl -q kernel.bpf_stats_enabled=1
./zmtrace "$MODE" --json >/dev/null 2>"$tmp/err" &
zpid=$!
wait_line "$tmp/err" "zmtrace: tracing"
traced=$(iter_ns)
bpftool prog show -j >"$tmp/zm.json"
kill -INT "$zpid"; wait "$zpid" 2>/dev/null || true; zpid=

# The empty baseline, alone (zmtrace zombies left tracefs mounted for its
# wait4 hook; zmtrace rss has none, so mount it for the empty program's).
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
mkfifo "$tmp/hold"
tools/bench_empty <"$tmp/hold" >"$tmp/empty" &
epid=$!
exec 3>"$tmp/hold"
wait_line "$tmp/empty" ready
storm "$N" >/dev/null
bpftool prog show -j >"$tmp/empty.json"

if [ "$MODE" = zombies ]; then
	echo "forkstorm: $N iterations of fork + exit + wait4"
else
	echo "sh running /bin/true $N times: fork + exec + exit + wait"
fi
echo "  untraced            $untraced ns/iteration"
printf '  %-19s %s ns/iteration\n' "zmtrace $MODE" "$traced"
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
   ["zm_rss","empty_rss"],
   ["zm_signal","empty_signal"],["zm_free","empty_free"],
   ["zm_wait4_exit","empty_wait4_exit"]][] |
  .[0] as $a | .[1] as $b |
  "\($a)\t\(prog($a).cnt)\t\(cost($a))\t\($b)\t\(cost($b))"' "$tmp/zm.json" "$tmp/empty.json" |
while IFS="$(printf '\t')" read -r a n c b e; do
	printf '  %-18s %10s %9s   %-18s %9s\n' "$a" "$n" "$c" "$b" "$e"
done
