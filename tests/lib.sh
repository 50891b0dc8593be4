# shellcheck shell=bash
# tests/lib.sh: the shared library of zmtrace's integration tests.
#
# A test script is a story of small tests, in the style of git's t/test-lib.sh:
#
#	#!/bin/bash
#	test_description='what this script is about'
#	. "$(dirname "$0")/../lib.sh"
#
#	test_expect 'a zombie reaped 50 ms late is reported with its zombie time' '
#		zm_run -- "$ZF" -o "$PWD/zf.out" late 1 50 &&
#		expect_zm_rc 0 &&
#		...
#	'
#	test_done
#
# Each body is eval'ed in a subshell, in a fresh directory of its own (its
# files: zm.out/zm.err = zmtrace's stdout/stderr, zf.out = the factory's facts).
# Chain commands with && (a body fails when its last command does); in loops
# use `|| exit 1`. `skip_now REASON` skips the running test. Background
# processes started with the helpers below are killed after each test and
# when the script exits, however it exits.
#
# Environment:
#   ZMTRACE            the binary under test (default: ../zmtrace from here)
#   ZF                 the workload generator (default: ../tools/zombie_factory;
#                      built from tools/zombie_factory.c when missing or stale)
#   ZM_TIMEOUT_SCALE   multiply every timeout by this integer (slow machines)
#   ZM_SLACK_NS        clock slack allowed in time comparisons (default 100 us)
#   ZM_TOL_NS          tolerance of a measured zombie time (default 1 ms)
#   ZM_ORPHAN_REAPER   pid that orphans are reparented to (default 1)
#   ZM_KEEP=1          keep the trash directory even when all passed
#   ZM_VERBOSE=1       trace the bodies (set -x) and show every test's log
#   ZM_RUN=LIST        run only these test numbers (e.g. "1 3")
#   ZM_SKIP_MISSING=1  skip (instead of fail) when the zmtrace binary is absent
#
# The script's last line is machine-readable, for tests/run-integration.sh:
#   # t01: passed=N failed=N skipped=N

TEST_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_SRC_ROOT=$(cd "$TEST_LIB_DIR/.." && pwd)
TEST_NAME=$(basename "$0" .sh)
TEST_ID=${TEST_NAME%%-*}

ZMTRACE=${ZMTRACE:-$TEST_SRC_ROOT/zmtrace}
ZF=${ZF:-$TEST_SRC_ROOT/tools/zombie_factory}
case $ZMTRACE in /*) ;; *) ZMTRACE=$PWD/$ZMTRACE ;; esac
case $ZF in /*) ;; *) ZF=$PWD/$ZF ;; esac
export ZMTRACE ZF

ZM_TIMEOUT_SCALE=${ZM_TIMEOUT_SCALE:-1}
ZM_SLACK_NS=${ZM_SLACK_NS:-100000}
ZM_TOL_NS=${ZM_TOL_NS:-1000000}
ZM_ORPHAN_REAPER=${ZM_ORPHAN_REAPER:-1}

test_count=0
test_passed=0
test_failed=0
test_skipped=0

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/zmtrace-$TEST_NAME.XXXXXX") || exit 1
BG_LIST=$TRASH/background
: >"$BG_LIST"

say() { printf '%s\n' "$*"; }
say "# $TEST_NAME: ${test_description:-}"
# Diagnostics from inside a body go to its log, shown when it fails.
diag() { printf '# %s\n' "$*" >&2; }

# ------------------------------------------------------------ preconditions

lib_prereq=
lib_prereq_fail=
if [ "$(id -u)" != 0 ]; then
	lib_prereq="needs root (BPF)"
elif ! command -v jq >/dev/null; then
	lib_prereq_fail="jq is not installed"
elif [ ! -x "$ZMTRACE" ]; then
	if [ "${ZM_SKIP_MISSING:-}" = 1 ]; then
		lib_prereq="no zmtrace binary at $ZMTRACE"
	else
		lib_prereq_fail="no zmtrace binary at $ZMTRACE (make -C $TEST_SRC_ROOT)"
	fi
fi
zf_src=$TEST_SRC_ROOT/tools/zombie_factory.c
if [ -z "$lib_prereq$lib_prereq_fail" ] &&
   [ "$ZF" = "$TEST_SRC_ROOT/tools/zombie_factory" ] &&
   [ -f "$zf_src" ] && { [ ! -x "$ZF" ] || [ "$zf_src" -nt "$ZF" ]; }; then
	${CC:-cc} -O2 -pthread -Wall -Wextra -o "$ZF" "$zf_src" ||
		lib_prereq_fail="cannot build $ZF"
fi
if [ -z "$lib_prereq$lib_prereq_fail" ] && [ ! -x "$ZF" ]; then
	lib_prereq_fail="no zombie_factory at $ZF"
fi

# ------------------------------------------------- background process list

# Remember a background process (and its start time, so that a reused pid
# is never killed) for the cleanup.
bg_track() {
	local st
	st=$(proc_starttime "$1") && say "$1 $st" >>"$BG_LIST"
}

proc_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	say "${20}"
}

# State letter of a process ("" when gone).
proc_state() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	say "${s%% *}"
}

proc_alive() {
	local st
	st=$(proc_state "$1")
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Kill what the tests started and left running: SIGTERM to the process
# group (each background helper runs in its own session, its pid is the
# group's id), then SIGKILL. A pid that now names another process (start
# time differs) is left alone; a group whose leader is gone is still killed.
bg_mine() { # PID STARTTIME: PID is still ours, or gone
	local st
	st=$(proc_starttime "$1" 2>/dev/null) || return 0
	[ "$st" = "$2" ]
}
bg_group_alive() { # PGID: some process is still in the group
	local s
	for s in /proc/[0-9]*/stat; do
		s=$(cat "$s" 2>/dev/null) || continue
		s=${s##*) }
		set -- $s
		[ "$3" = "$PGID" ] && [ "$1" != Z ] && return 0
	done
	return 1
}
cleanup_bg() {
	local pid st left='' p any
	[ -s "$BG_LIST" ] || return 0
	while read -r pid st; do
		bg_mine "$pid" "$st" || continue
		if kill -TERM -- "-$pid" 2>/dev/null; then
			left="$left $pid"
		fi
	done <"$BG_LIST"
	for _ in $(seq 40); do
		any=''
		for p in $left; do
			PGID=$p bg_group_alive && any=1 && break
		done
		[ -z "$any" ] && break
		sleep 0.05
	done
	for p in $left; do
		kill -KILL -- "-$p" 2>/dev/null
	done
	: >"$BG_LIST"
}

lib_exit() {
	cleanup_bg
	if [ "$test_failed" = 0 ] && [ "${ZM_KEEP:-}" != 1 ]; then
		rm -rf "$TRASH"
	fi
}
trap lib_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- waiting

# Timeouts are in seconds, scaled by ZM_TIMEOUT_SCALE.
scaled() { say $(($1 * ZM_TIMEOUT_SCALE)); }

# wait_until TIMEOUT_S COMMAND...: poll COMMAND every 50 ms until it
# succeeds; 1 on timeout. This awaits an event, it does not synchronise.
wait_until() {
	local timeout_s end
	timeout_s=$(scaled "$1")
	shift
	end=$(($(date +%s%N) + timeout_s * 1000000000))
	while ! "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# ------------------------------------------------------------ JSON Lines

# Lines that are not (yet) whole JSON, e.g. a line being written, are
# skipped: fromjson? on raw input.
#   jsel FILE FILTER         matching objects, one per line
#   jcount FILE FILTER       how many match
#   jget FILE FILTER EXPR    EXPR of the first match (raw)
#   jall FILE FILTER EXPR    EXPR of every match (raw), one per line
jsel() { jq -cR "fromjson? | select($2)" "$1" 2>/dev/null; }
jcount() { jq -nR "[inputs | fromjson? | select($2)] | length" "$1" 2>/dev/null || say 0; }
jget() { jq -rR "fromjson? | select($2) | $3" "$1" 2>/dev/null | head -n 1; }
jall() { jq -rR "fromjson? | select($2) | $3" "$1" 2>/dev/null; }

# zmtrace's output (zm.out of the current test, or $zm.out)
zm_file() { say "${zm:-zm}.out"; }
zmsel() { jsel "$(zm_file)" "$1"; }
zmcount() { jcount "$(zm_file)" "$1"; }
zmget() { jget "$(zm_file)" "$1" "$2"; }
zmall() { jall "$(zm_file)" "$1" "$2"; }
# the factory's facts (zf.out)
zfsel() { jsel zf.out "$1"; }
zfcount() { jcount zf.out "$1"; }
zfget() { jget zf.out "$1" "$2"; }
zfall() { jall zf.out "$1" "$2"; }

json_has_count() { [ "$(jcount "$1" "$2")" -ge "$3" ]; }

# wait_for_json FILE FILTER [COUNT [TIMEOUT_S]]: until COUNT objects match.
wait_for_json() {
	local n=${3:-1} t=${4:-10}
	wait_until "$t" json_has_count "$1" "$2" "$n" && return 0
	diag "timed out after $(scaled "$t") s waiting for $n x [$2] in $1 (have $(jcount "$1" "$2"))"
	return 1
}
# wait_for_zm FILTER [COUNT [TIMEOUT_S]]
wait_for_zm() { wait_for_json "$(zm_file)" "$@" || { zm_diag; return 1; }; }
# wait_for_zf FILTER [COUNT [TIMEOUT_S]]
wait_for_zf() { wait_for_json zf.out "$@" || { zf_diag; return 1; }; }

# -------------------------------------------------------------- zmtrace

# zm_start [ARGS...]: start `zmtrace zombies --json ARGS` in the background
# (files $zm.out, $zm.err, $zm.pid; zm defaults to "zm") and wait until it
# says it is tracing. zm_start_human does the same without --json.
zm_start() { zm_start_raw --json "$@"; }
zm_start_human() { zm_start_raw "$@"; }
zm_start_raw() {
	local z=${zm:-zm} pid
	setsid "$ZMTRACE" zombies "$@" >"$z.out" 2>"$z.err" </dev/null &
	pid=$!
	say "$pid" >"$z.pid"
	bg_track "$pid"
	zm_wait_tracing "$pid"
}

tracing_line() { grep -q '^zmtrace: tracing' "$1"; }

# zm_wait_tracing PID [TIMEOUT_S]: until "zmtrace: tracing" is on stderr.
zm_wait_tracing() {
	local z=${zm:-zm} pid=$1 t=${2:-30} end
	end=$(($(date +%s%N) + $(scaled "$t") * 1000000000))
	while ! tracing_line "$z.err"; do
		if ! proc_alive "$pid"; then
			wait "$pid" 2>/dev/null
			diag "zmtrace (pid $pid) exited with status $? before tracing"
			zm_diag
			return 1
		fi
		if [ "$(date +%s%N)" -ge "$end" ]; then
			diag "zmtrace (pid $pid) did not say 'zmtrace: tracing' within $(scaled "$t") s"
			zm_diag
			return 1
		fi
		sleep 0.05
	done
}

# zm_stop [SIGNAL [TIMEOUT_S]]: end the background zmtrace (SIGINT) and
# wait for it; its status goes to $zm.rc. Fails if it does not exit in time
# or exits non-zero.
zm_stop() {
	local z=${zm:-zm} sig=${1:-INT} t=${2:-15} pid rc
	pid=$(cat "$z.pid") || return 1
	kill "-$sig" "$pid" 2>/dev/null
	if ! wait_until "$t" zm_exited "$pid"; then
		diag "zmtrace (pid $pid) still runs $(scaled "$t") s after SIG$sig; killing it"
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		zm_diag
		return 1
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	say "$rc" >"$z.rc"
	if [ "$rc" != 0 ]; then
		diag "zmtrace exited with status $rc after SIG$sig"
		zm_diag
		return 1
	fi
}
zm_exited() { ! proc_alive "$1"; }

# zm_wait_exit [TIMEOUT_S]: wait until the background zmtrace exits on its
# own (e.g. --duration); status to $zm.rc.
zm_wait_exit() {
	local z=${zm:-zm} t=${1:-30} pid
	pid=$(cat "$z.pid") || return 1
	if ! wait_until "$t" zm_exited "$pid"; then
		diag "zmtrace (pid $pid) did not exit within $(scaled "$t") s"
		zm_diag
		return 1
	fi
	wait "$pid" 2>/dev/null
	say "$?" >"$z.rc"
}

# zm_run [ARGS...] -- COMMAND...: run `zmtrace zombies --json ARGS -- COMMAND`
# in the foreground, bounded (SIGINT at the timeout, SIGKILL 5 s later).
# Its status goes to $zm.rc; zm_run itself fails only on a timeout. When the
# command is the factory and it said "skip", the test is skipped.
# ZM_RUN_TIMEOUT (seconds, default 60) bounds it.
zm_run() { zm_run_raw --json "$@"; }
zm_run_human() { zm_run_raw "$@"; }
zm_run_raw() {
	local z=${zm:-zm} rc
	timeout -s INT -k 5 "$(scaled "${ZM_RUN_TIMEOUT:-60}")" \
		"$ZMTRACE" zombies "$@" >"$z.out" 2>"$z.err" </dev/null
	rc=$?
	say "$rc" >"$z.rc"
	zf_check_skip
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		diag "zmtrace timed out (status $rc)"
		zm_diag
		return 1
	fi
	return 0
}

# expect_zm_rc N: zmtrace's recorded exit status is N.
expect_zm_rc() {
	local z=${zm:-zm} rc
	rc=$(cat "$z.rc" 2>/dev/null)
	[ "$rc" = "$1" ] && return 0
	diag "zmtrace exit status: expected $1, got ${rc:-none}"
	zm_diag
	return 1
}

zm_diag() {
	local z=${zm:-zm}
	diag "--- $z.err ---"
	sed 's/^/#   /' "$z.err" >&2 2>/dev/null
	diag "--- $z.out (last 30 lines) ---"
	tail -n 30 "$z.out" 2>/dev/null | sed 's/^/#   /' >&2
}

# zm_show_pid PID: zmtrace's lines about PID (as zombie, parent or reaper).
zm_show_pid() {
	diag "--- zmtrace lines about pid $1 ---"
	zmsel ".pid == $1 or .ppid == $1 or .reaper_pid == $1" | sed 's/^/#   /' >&2
}

# -------------------------------------------------------------- factory

# bg_start NAME COMMAND...: run COMMAND in the background, in a session of
# its own, with NAME.out, NAME.err and NAME.pid; killed at the test's end.
bg_start() {
	local name=$1 pid
	shift
	setsid "$@" >"$name.out" 2>"$name.err" </dev/null &
	pid=$!
	say "$pid" >"$name.pid"
	bg_track "$pid"
}

# zf_start ARGS...: start the factory in the background (facts to zf.out,
# stderr to zf.err, pid to zf.pid).
zf_start() {
	bg_start zf "$ZF" -o "$PWD/zf.out" "$@"
}

# zf_run ARGS...: run the factory in the foreground, bounded; status to
# zf.rc. Exit 77 skips the test; another non-zero status fails.
zf_run() {
	local rc
	timeout -k 5 "$(scaled "${ZF_RUN_TIMEOUT:-60}")" "$ZF" -o "$PWD/zf.out" "$@" 2>zf.err </dev/null
	rc=$?
	say "$rc" >zf.rc
	zf_check_skip
	[ "$rc" = 0 ] && return 0
	diag "zombie_factory $* exited with status $rc"
	zf_diag
	return 1
}

# zf_wait_exit [TIMEOUT_S]: wait for the background factory to finish.
zf_wait_exit() {
	local pid rc
	pid=$(cat zf.pid) || return 1
	if ! wait_until "${1:-30}" zm_exited "$pid"; then
		diag "zombie_factory (pid $pid) did not exit in time"
		zf_diag
		return 1
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	say "$rc" >zf.rc
	zf_check_skip
	[ "$rc" = 0 ] && return 0
	diag "zombie_factory exited with status $rc"
	zf_diag
	return 1
}

zf_check_skip() {
	local why
	[ -f zf.out ] || return 0
	why=$(zfget '.event == "skip"' .reason)
	[ -n "$why" ] && skip_now "zombie_factory: $why"
	return 0
}

zf_diag() {
	diag "--- zf.out (last 30 lines) ---"
	tail -n 30 zf.out 2>/dev/null | sed 's/^/#   /' >&2
	[ -s zf.err ] && { diag "--- zf.err ---"; sed 's/^/#   /' zf.err >&2; }
	return 0
}

# -------------------------------------------------------------- asserts

# Every assert prints what it expected and what it got, and fails.
is_int() { case $1 in '' | *[!0-9-]*) return 1 ;; esac; }

expect_eq() { # WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] && return 0
	diag "$1: expected '$2', got '$3'"
	return 1
}

expect_le() { # WHAT A B  (A <= B, integers)
	if ! is_int "$2" || ! is_int "$3"; then
		diag "$1: not integers: '$2' <= '$3'"
		return 1
	fi
	[ "$2" -le "$3" ] && return 0
	diag "$1: expected $2 <= $3 (by $(($2 - $3)))"
	return 1
}

expect_between() { # WHAT LO X HI
	if ! is_int "$2" || ! is_int "$3" || ! is_int "$4"; then
		diag "$1: not integers: '$2' <= '$3' <= '$4'"
		return 1
	fi
	[ "$2" -le "$3" ] && [ "$3" -le "$4" ] && return 0
	diag "$1: expected $2 <= $3 <= $4 (below by $(($2 - $3)), above by $(($3 - $4)))"
	return 1
}

# expect_count FILE FILTER N WHAT: exactly N objects match.
expect_count() {
	local n
	n=$(jcount "$1" "$2")
	[ "$n" = "$3" ] && return 0
	diag "$4: expected $3 line(s) matching [$2] in $1, got $n:"
	jsel "$1" "$2" | head -n 20 | sed 's/^/#   /' >&2
	return 1
}
expect_zm_count() { expect_count "$(zm_file)" "$@"; }

# expect_json FILE FILTER TEST WHAT: the one object matching FILTER
# satisfies TEST (a jq boolean); prints the object otherwise.
expect_json() {
	local obj ok
	obj=$(jsel "$1" "$2" | head -n 1)
	if [ -z "$obj" ]; then
		diag "$4: no line matches [$2] in $1"
		return 1
	fi
	ok=$(say "$obj" | jq "$3" 2>&1)
	[ "$ok" = true ] && return 0
	diag "$4: [$3] is $ok for:"
	diag "  $obj"
	return 1
}
expect_zm_json() { expect_json "$(zm_file)" "$@"; }

# The summary object (last line).
zm_summary() { zmsel '.event == "summary"' | tail -n 1; }

# expect_summary_parent PID ZOMBIES UNREAPED [COMM]: the summary has one
# entry for parent PID with these counts. With 0 0, no entry is fine too.
expect_summary_parent() {
	local s got want
	s=$(zm_summary)
	if [ -z "$s" ]; then
		diag "no summary line"
		zm_diag
		return 1
	fi
	got=$(say "$s" | jq -c --argjson p "$1" \
		'[.parents[] | select(.pid == $p) | {pid, comm, zombies, unreaped}]')
	want=$(jq -nc --argjson p "$1" --argjson z "$2" --argjson u "$3" \
		--arg c "${4:-}" '[{pid: $p, comm: $c, zombies: $z, unreaped: $u}]')
	if [ -z "${4:-}" ]; then
		got=$(say "$got" | jq -c 'map(del(.comm))')
		want=$(say "$want" | jq -c 'map(del(.comm))')
	fi
	[ "$got" = "$want" ] && return 0
	[ "$2 $3 $got" = "0 0 []" ] && return 0
	diag "summary entry for parent $1: expected $want, got $got"
	diag "  summary: $s"
	return 1
}

# expect_summary_sorted: parents ordered by unreaped desc, then zombies desc.
expect_summary_sorted() {
	local s ok
	s=$(zm_summary)
	ok=$(say "$s" | jq '[.parents[] | [.unreaped, .zombies]] as $k |
		$k == ($k | sort_by(-.[0], -.[1]))')
	[ "$ok" = true ] && return 0
	diag "summary parents not sorted by (unreaped desc, zombies desc): $s"
	return 1
}

expect_no_lost() {
	local n
	n=$(zm_summary | jq '.lost_events')
	expect_eq "summary lost_events" 0 "$n"
}

# expect_event TYPE pid=N [KEY=VALUE...] [count=N] [nth=K]
# The zmtrace events of TYPE ("zombie", "reap") for pid N number exactly
# count (default 1); the nth (0-based, in output order) has every KEY=VALUE:
#   KEY=12 / KEY=true / KEY=false    a JSON number or boolean
#   KEY=text                         a string
#   KEY=a|b                          a string, one of these
#   KEY=LO..HI                       an integer in [LO, HI]
expect_event() {
	local type=$1 pid='' count=1 nth=0 kv k v objs obj bad=0 got
	shift
	for kv; do
		case ${kv%%=*} in
		pid) pid=${kv#*=} ;;
		count) count=${kv#*=} ;;
		nth) nth=${kv#*=} ;;
		esac
	done
	mapfile -t objs < <(zmsel ".event == \"$type\" and .pid == $pid")
	if [ "${#objs[@]}" != "$count" ]; then
		diag "pid $pid: expected $count $type event(s), got ${#objs[@]}"
		zm_show_pid "$pid"
		return 1
	fi
	[ "$count" = 0 ] && return 0
	obj=${objs[$nth]}
	for kv; do
		k=${kv%%=*} v=${kv#*=}
		case $k in pid | count | nth) continue ;; esac
		got=$(say "$obj" | jq -c --arg k "$k" '.[$k]')
		case $v in
		*..*)
			if ! is_int "$got" || [ "$got" -lt "${v%..*}" ] || [ "$got" -gt "${v#*..}" ]; then
				diag "pid $pid $type: $k = $got, expected in [${v%..*}, ${v#*..}]" \
					"(below by $((${v%..*} - ${got:-0})), above by $((${got:-0} - ${v#*..})))"
				bad=1
			fi
			;;
		*'|'*)
			if ! say "|$v|" | grep -qF "|$(say "$got" | jq -r .)|" ||
			   [ "${got:0:1}" != '"' ]; then
				diag "pid $pid $type: $k = $got, expected one of $v"
				bad=1
			fi
			;;
		true | false | -[0-9]* | [0-9]*)
			if [ "$got" != "$v" ]; then
				diag "pid $pid $type: $k = $got, expected $v"
				bad=1
			fi
			;;
		*)
			if [ "$got" != "\"$v\"" ]; then
				diag "pid $pid $type: $k = $got, expected \"$v\""
				bad=1
			fi
			;;
		esac
	done
	[ "$bad" = 0 ] && return 0
	diag "  the event: $obj"
	zm_show_pid "$pid"
	return 1
}

# expect_pair PID COMM PARENT_COMM VIA [NTH [COUNT]]
# Checks zmtrace's zombie and reap events for PID against the factory's
# "reaped" fact (its NTH for PID; COUNT events of each kind expected):
#   zombie: comm, ppid, parent_comm, exit status as waitpid saw it,
#           ts in [t_exit, t0]
#   reap:   comm, ppid, parent_comm, reaper = the parent, not reparented,
#           via, ts in [t1, t2], zombie_ns in [t1 - t0, t2 - t_exit] and
#           equal to reap ts - zombie ts
# each within ZM_SLACK_NS. Overrides (environment): T_EXIT (a better lower
# bound of the exit), REAPER_PID, REAPER_COMM, REPARENTED; for VIA=free the
# reap may come up to 2 s after t2 (it is seen when the task is freed).
expect_pair() {
	local pid=$1 comm=$2 pcomm=$3 via=$4 nth=${5:-0} count=${6:-1}
	local f ppid t_exit t0 t1 t2 code sig core late zts rts zns sl=$ZM_SLACK_NS
	f=$(zfsel ".event == \"reaped\" and .pid == $pid" | sed -n "$((nth + 1))p")
	if [ -z "$f" ]; then
		diag "the factory reported no reap of pid $pid (#$nth)"
		zf_diag
		return 1
	fi
	IFS='|' read -r ppid t_exit t0 t1 t2 code sig core < <(say "$f" |
		jq -r '[.ppid, .t_exit, .t0, .t1, .t2, .exit_code, .signal, .core_dumped] |
			map(if . == null then "null" else tostring end) | join("|")')
	t_exit=${T_EXIT:-$t_exit}
	[ "$t_exit" -gt 0 ] 2>/dev/null || t_exit=$t0
	late=0
	[ "$via" = free ] && late=2000000000
	expect_event zombie pid="$pid" count="$count" nth="$nth" \
		comm="$comm" ppid="$ppid" parent_comm="$pcomm" \
		exit_code="$code" signal="$sig" core_dumped="$core" \
		preexisting=false ts_ns="$((t_exit - sl))..$((t0 + sl))" &&
	expect_event reap pid="$pid" count="$count" nth="$nth" \
		comm="$comm" ppid="$ppid" parent_comm="$pcomm" \
		reaper_pid="${REAPER_PID:-$ppid}" reaper_comm="${REAPER_COMM:-$pcomm}" \
		reparented="${REPARENTED:-false}" via="$via" preexisting=false \
		ts_ns="$((t1 - sl))..$((t2 + sl + late))" \
		zombie_ns="$((t1 - t0 - sl))..$((t2 - t_exit + sl + late))" || return 1
	zts=$(zmsel ".event == \"zombie\" and .pid == $pid" | sed -n "$((nth + 1))p" | jq .ts_ns)
	rts=$(zmsel ".event == \"reap\" and .pid == $pid" | sed -n "$((nth + 1))p" | jq .ts_ns)
	zns=$(zmsel ".event == \"reap\" and .pid == $pid" | sed -n "$((nth + 1))p" | jq .zombie_ns)
	expect_between "pid $pid: zombie_ns vs reap ts - zombie ts" \
		"$((rts - zts - sl))" "$zns" "$((rts - zts + sl))"
}

# -------------------------------------------------------------- tests

# skip_now REASON: skip the running test (call it at a body's top level).
skip_now() {
	say "$*" >.skip_reason
	exit 77
}

test_ok() { test_passed=$((test_passed + 1)); say "ok $test_count - $1"; }
test_not_ok() { test_failed=$((test_failed + 1)); say "not ok $test_count - $1"; }
test_skipped_() { test_skipped=$((test_skipped + 1)); say "ok $test_count # skip $1 ($2)"; }

# test_skip TITLE REASON: a test that is known not to run here.
test_skip() {
	test_count=$((test_count + 1))
	test_skipped_ "$1" "$2"
}

want_test() {
	[ -z "${ZM_RUN:-}" ] && return 0
	case " $ZM_RUN " in *" $test_count "*) return 0 ;; esac
	return 1
}

# test_expect TITLE BODY
test_expect() {
	local title=$1 body=$2 dir rc start_ns
	test_count=$((test_count + 1))
	if ! want_test; then
		test_skipped_ "$title" "not in ZM_RUN"
		return 0
	fi
	if [ -n "$lib_prereq" ]; then
		test_skipped_ "$title" "$lib_prereq"
		return 0
	fi
	if [ -n "$lib_prereq_fail" ]; then
		test_not_ok "$title"
		say "# $lib_prereq_fail"
		return 0
	fi
	dir=$TRASH/$test_count
	mkdir -p "$dir"
	start_ns=$(date +%s%N)
	(
		cd "$dir" || exit 1
		[ "${ZM_VERBOSE:-}" = 1 ] && set -x
		eval "$body"
	) >"$dir/test.log" 2>&1 </dev/null
	rc=$?
	cleanup_bg
	local ms=$((($(date +%s%N) - start_ns) / 1000000))
	case $rc in
	0)
		test_ok "$title"
		[ "${ZM_VERBOSE:-}" = 1 ] && sed 's/^/#   /' "$dir/test.log"
		;;
	77)
		test_skipped_ "$title" "$(cat "$dir/.skip_reason" 2>/dev/null)"
		;;
	*)
		test_not_ok "$title"
		say "# failed (status $rc, ${ms} ms); files in $dir"
		sed 's/^/#   /' "$dir/test.log"
		;;
	esac
	return 0
}

# test_done: print the totals and exit (non-zero when a test failed).
test_done() {
	say "# $TEST_ID: passed=$test_passed failed=$test_failed skipped=$test_skipped"
	[ "$test_failed" = 0 ]
	exit
}
