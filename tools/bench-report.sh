#!/usr/bin/env bash
# How fast `zmtrace report` reads a large capture. The requirement: 10 million
# events read and the text report written in at most 5 s.
#
#   tools/bench-report.sh [EVENTS]      (default 10000000)
#
# Generates a synthetic capture of EVENTS records once (tools/gen_capture,
# kept in $BENCH_DIR, default ${TMPDIR:-/tmp}/zmtrace-bench, and reused by
# later runs until the generator is rebuilt), then times the text report
# three times (each run, the median, events/s, the report's peak RSS) and
# the other formats once each. Output goes to /dev/null: what is timed is
# reading, modelling and formatting, not a terminal. Needs no root; builds
# zmtrace and the generator only when they are missing (run make first
# after a change).
set -euo pipefail

cd "$(dirname "$0")/.."
events=${1:-10000000}
case $events in
'' | *[!0-9]*) echo "usage: tools/bench-report.sh [EVENTS]" >&2; exit 2 ;;
esac
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/zmtrace-bench}
file=$dir/gen-$events.cap
mkdir -p "$dir"
peak_file=$dir/peak.$$
time_file=$dir/time.$$
trap 'rm -f "$peak_file" "$time_file" "$file.tmp"' EXIT

if [ ! -x zmtrace ] || [ ! -x tools/gen_capture ]; then
	make zmtrace tools/gen_capture >&2
fi

TIMEFORMAT=%R
# The file is what tools/gen_capture's recorder writes: a rebuilt generator
# (a new record encoding) makes a new one.
if [ -s "$file" ] && [ "$file" -nt tools/gen_capture ]; then
	echo "reusing $file"
else
	# Written beside the final name and renamed, so that an interrupted
	# run never leaves a short file to be reused.
	if ! gen=$( { time tools/gen_capture -n "$events" "$file.tmp" 2>"$dir/gen.log"; } 2>&1 ); then
		cat "$dir/gen.log" >&2
		rm -f "$file.tmp"
		exit 1
	fi
	mv "$file.tmp" "$file"
	echo "generated $file in ${gen}s: $(sed 's/^gen_capture: [^:]*: //' "$dir/gen.log")"
fi

# Peak RSS of a command, in KiB, into $peak_file. GNU time when installed
# (Debian's "time" package, not there on a fresh install), else Python's
# getrusage of its child (timed in Python too: its own start-up, a good
# part of a second under pyenv, is not the report's), else the last VmHWM
# seen by polling /proc every 10 ms (a lower bound: the last 10 ms are not
# seen; VmHWM only rises). with_peak writes "KiB [seconds]" to $peak_file.
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	peak_how="GNU time %M"
	with_peak() { /usr/bin/time -f %M -o "$peak_file" "$@"; }
elif command -v python3 >/dev/null; then
	peak_how="python3 getrusage"
	with_peak() {
		python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[2:])
t = time.monotonic() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], "w").write("%d %.3f\n" % (peak, t))
sys.exit(rc)' "$peak_file" "$@"
	}
else
	peak_how="/proc VmHWM polling (lower bound)"
	with_peak() {
		"$@" &
		local pid=$! hwm=0 v
		while kill -0 "$pid" 2>/dev/null; do
			v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
			[ -n "$v" ] && hwm=$v
			sleep 0.01
		done
		echo "$hwm" >"$peak_file"
		wait "$pid"
	}
fi

size=$(stat -c %s "$file")
echo "file: $size bytes, $events events, $(awk -v s="$size" -v n="$events" 'BEGIN { printf "%.2f", s / n }') bytes/event"

# One timed run: sets $t (wall seconds) and $peak (KiB). A report that
# fails is said: its time would mean nothing.
run() {
	local rc=0

	{ time with_peak ./zmtrace report "$file" "$@" >/dev/null 2>/dev/null; } 2>"$time_file" || rc=$?
	t=$(tail -n 1 "$time_file")
	# GNU time puts "Command exited with non-zero status" first
	read -r peak wall < <(tail -n 1 "$peak_file") || true
	[ -n "${wall:-}" ] && t=$wall
	if [ "$rc" -ne 0 ]; then
		echo "zmtrace report $* failed (exit $rc): see ./zmtrace report $file $*" >&2
		exit 1
	fi
}

times=()
for i in 1 2 3; do
	run
	times+=("$t")
	echo "text run $i: ${t}s, peak RSS $peak KiB"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "text median: ${median}s, $(awk -v n="$events" -v t="$median" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }') events/s ($peak_how)"
if [ "$events" -eq 10000000 ]; then
	awk -v t="$median" 'BEGIN { exit !(t <= 5.0) }' && verdict=PASS || verdict=FAIL
	echo "requirement (10M events, text report, <= 5 s): $verdict"
fi

for fmt in json csv perfetto html; do
	run --format "$fmt"
	echo "$fmt: ${t}s, peak RSS $peak KiB"
done
