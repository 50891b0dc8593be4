# shellcheck shell=bash
# tests/integration/rss-lib.sh: helpers of the `zmtrace rss` tests
# (t2x-*.sh), on top of tests/lib.sh: source lib.sh first, then this.
#
#   rss_start [ARGS...]       `zmtrace rss --json ARGS` in the background
#                             ($zm.out/.err/.pid), until it says "tracing"
#   rss_run [ARGS] -- CMD...  `zmtrace rss --json ARGS -- CMD` in the
#                             foreground, bounded; status to $zm.rc (a
#                             command killed by a signal gives 128+N: only a
#                             timeout fails rss_run itself)
#   mw_start NAME ARGS...     the workload in the background: facts in
#                             NAME.out, stderr NAME.err, pid NAME.pid
#   mw_wait_exit NAME [T]     until it exits (status to NAME.rc; non-zero fails)
#   mw_pid NAME               its pid (from its "start" fact)
#   mw_status NAME WHAT FIELD FIELD of its first status fact WHAT
#   rss_of PID                zmtrace's rss events about PID, one a line
#
# Environment: MW, the workload generator (default ../tools/mem_workload;
# built from tools/mem_workload.c when missing or stale).

MW=${MW:-$TEST_SRC_ROOT/tools/mem_workload}
case $MW in /*) ;; *) MW=$PWD/$MW ;; esac
export MW

mw_src=$TEST_SRC_ROOT/tools/mem_workload.c
if [ -z "$lib_prereq$lib_prereq_fail" ] &&
   [ "$MW" = "$TEST_SRC_ROOT/tools/mem_workload" ] &&
   [ -f "$mw_src" ] && { [ ! -x "$MW" ] || [ "$mw_src" -nt "$MW" ]; }; then
	${CC:-cc} -O2 -std=c11 -Wall -Wextra -I"$TEST_SRC_ROOT/include" "$mw_src" -pthread -o "$MW" ||
		lib_prereq_fail="cannot build $MW"
fi
if [ -z "$lib_prereq$lib_prereq_fail" ] && [ ! -x "$MW" ]; then
	lib_prereq_fail="no mem_workload at $MW"
fi

PAGE_KB=$(($(getconf PAGESIZE) / 1024))
NCPU=$(getconf _NPROCESSORS_ONLN)
# The kernel keeps each mm counter as a per-CPU counter: a shared count,
# which the rss_stat tracepoint reports and the threshold is judged by, and
# a part per CPU, less than the batch (max(32, 2 * CPUs) pages) each. /proc
# (since Linux 6.16) and zmtrace's figures are the exact sums, except on
# the "shared" path (a kernel that gives no access to the per-CPU parts),
# where zmtrace reports the shared counts. RSS is three such counters, so
# the shared counts can be off the exact sum by up to this many kB:
PCPU_BATCH=$((2 * NCPU > 32 ? 2 * NCPU : 32))
PCPU_SLOP_KB=$((3 * PCPU_BATCH * NCPU * PAGE_KB))
# How zmtrace takes rss_stat here ("linear", "pieces", "table", "every", "shared"),
# and so how far its figures may be from /proc's: a few pages the workload
# touches between reading /proc and its next step when exact, else the lag.
RSS_PATH=
if [ -z "$lib_prereq$lib_prereq_fail" ]; then
	RSS_PATH=$("$ZMTRACE" rss -v --duration 0.01 2>&1 >/dev/null </dev/null |
		sed -n 's/^zmtrace: rss_stat path: //p')
fi
if [ -z "$lib_prereq$lib_prereq_fail" ] && [ -z "$RSS_PATH" ]; then
	say "# zmtrace rss -v did not say its rss_stat path: the loose tolerance is used" >&2
fi
if [ "$RSS_PATH" = shared ] || [ -z "$RSS_PATH" ]; then
	FIG_TOL_KB=$PCPU_SLOP_KB
else
	FIG_TOL_KB=64
fi

rss_start() {
	local z=${zm:-zm} pid
	setsid "$ZMTRACE" rss --json "$@" >"$z.out" 2>"$z.err" </dev/null &
	pid=$!
	say "$pid" >"$z.pid"
	bg_track "$pid"
	zm_wait_tracing "$pid"
}

rss_run() {
	local z=${zm:-zm} rc t start
	t=$(scaled "${ZM_RUN_TIMEOUT:-60}")
	start=$(date +%s)
	timeout -s INT -k 5 "$t" "$ZMTRACE" rss --json "$@" >"$z.out" 2>"$z.err" </dev/null
	rc=$?
	say "$rc" >"$z.rc"
	if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ $(($(date +%s) - start)) -ge "$t" ]; }; then
		diag "zmtrace rss timed out after $t s (status $rc)"
		zm_diag
		return 1
	fi
	return 0
}

mw_start() {
	local name=$1
	shift
	bg_start "$name" "$MW" "$@"
}

mw_pid() { jget "$1.out" '.event == "start"' .pid; }

mw_status() { jget "$1.out" ".event == \"status\" and .what == \"$2\"" ".$3"; }

mw_wait_exit() {
	local name=$1 pid rc
	pid=$(cat "$name.pid") || return 1
	if ! wait_until "${2:-30}" zm_exited "$pid"; then
		diag "mem_workload $name (pid $pid) did not exit in time"
		mw_diag "$name"
		return 1
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	say "$rc" >"$name.rc"
	[ "$rc" = 0 ] && return 0
	diag "mem_workload $name exited with status $rc"
	mw_diag "$name"
	return 1
}

mw_diag() {
	diag "--- $1.out (last 20 lines) ---"
	tail -n 20 "$1.out" 2>/dev/null | sed 's/^/#   /' >&2
	[ -s "$1.err" ] && { diag "--- $1.err ---"; sed 's/^/#   /' "$1.err" >&2; }
	return 0
}

rss_of() { zmsel ".event == \"rss\" and .pid == $1"; }

# rss_show PID: zmtrace's rss events about PID, to the test's log.
rss_show() {
	diag "--- zmtrace rss events of pid $1 (first and last 15) ---"
	rss_of "$1" | head -n 15 | sed 's/^/#   /' >&2
	diag "  ..."
	rss_of "$1" | tail -n 15 | sed 's/^/#   /' >&2
}

# rss_summary_of PID: PID's entry in the summary.
rss_summary_of() { zm_summary | jq -c --argjson p "$1" '.processes[] | select(.pid == $p)'; }

# expect_near WHAT EXPECTED ACTUAL TOLERANCE: |ACTUAL - EXPECTED| <= TOLERANCE.
expect_near() {
	if ! is_int "$2" || ! is_int "$3" || ! is_int "$4"; then
		diag "$1: not integers: '$3' vs '$2' +- '$4'"
		return 1
	fi
	local d=$(($3 - $2))
	[ "${d#-}" -le "$4" ] && return 0
	diag "$1: expected $2 +- $4, got $3 (off by $d)"
	return 1
}
