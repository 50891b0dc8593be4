#!/bin/bash
test_description='the command line: --, exit status, --duration, signals, filters, output formats'
. "$(dirname "$0")/../lib.sh"

test_expect 'zmtrace -- COMMAND exits with the status of COMMAND' '
	zm_run -- sh -c "exit 7" &&
	expect_zm_rc 7 &&
	zm_run -- "$ZF" -o "$PWD/zf.out" late 1 1 &&
	expect_zm_rc 0
'

test_expect 'zmtrace -- COMMAND killed by SIGTERM exits with 128+15, the shell convention' '
	zm_run -- sh -c "kill -TERM \$\$" &&
	expect_zm_rc 143
'

test_expect 'zmtrace -- NONEXISTENT fails with 127 and says why on stderr' '
	zm_run -- /nonexistent/zf-no-such-command &&
	expect_zm_rc 127 &&
	grep -q "nonexistent/zf-no-such-command" zm.err ||
	{ diag "stderr does not name the command:"; zm_diag; exit 1; }
'

test_expect 'exactly one "zmtrace: tracing" line on stderr, and every stdout line is JSON of a known event' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 2 5 &&
	expect_zm_rc 0 &&
	expect_eq "tracing lines on stderr" 1 "$(grep -c "^zmtrace: tracing" zm.err)" &&
	expect_eq "stdout lines that are JSON objects" "$(wc -l <zm.out)" \
		"$(jq -cR "fromjson? | objects" zm.out | wc -l)" &&
	expect_zm_count ".event as \$e | [\"zombie\", \"reap\", \"summary\"] | index([\$e]) | not" 0 "unknown events" &&
	expect_zm_count ".event == \"summary\"" 1 "summary lines"
'

test_expect 'the JSON fields have the documented names and types' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 1 5 &&
	expect_zm_rc 0 &&
	expect_zm_count ".event == \"zombie\" and ((.ts_ns, .pid, .ppid, .exit_code, .signal) | type != \"number\")" 0 "zombie events with a non-number field" &&
	expect_zm_count ".event == \"zombie\" and ((.comm, .parent_comm) | type != \"string\")" 0 "zombie events with a non-string comm" &&
	expect_zm_count ".event == \"zombie\" and ((.core_dumped, .preexisting) | type != \"boolean\")" 0 "zombie events with a non-boolean flag" &&
	expect_zm_count ".event == \"reap\" and ((.ts_ns, .pid, .ppid, .reaper_pid, .zombie_ns) | type != \"number\")" 0 "reap events with a non-number field" &&
	expect_zm_count ".event == \"reap\" and ((.comm, .parent_comm, .reaper_comm) | type != \"string\")" 0 "reap events with a non-string comm" &&
	expect_zm_count ".event == \"reap\" and ((.reparented, .preexisting) | type != \"boolean\")" 0 "reap events with a non-boolean flag" &&
	expect_zm_count ".event == \"reap\" and ([.via] | inside([\"wait4\", \"waitid\", \"free\"]) | not)" 0 "reap events with an unknown via" &&
	expect_zm_count ".event == \"summary\" and (.lost_events | type != \"number\")" 0 "summary without a numeric lost_events" &&
	expect_zm_count ".event == \"summary\" and (.parents | type != \"array\" or length == 0)" 0 "summary without parents" &&
	expect_zm_count ".event == \"summary\" and ([.parents[] | (.pid, .zombies, .unreaped, .zombie_ns_max, .zombie_ns_p50, .zombie_ns_p99) | type != \"number\"] | any)" 0 "summary parents with a non-number field" &&
	expect_zm_count ".event == \"summary\" and ([.parents[] | .comm | type != \"string\"] | any)" 0 "summary parents with a non-string comm"
'

test_expect '--duration 1 ends zmtrace by itself after about 1 s, status 0, with the summary last' '
	zm_start --duration 1 &&
	t0=$(date +%s%N) &&
	zm_wait_exit 20 &&
	t1=$(date +%s%N) &&
	expect_zm_rc 0 &&
	expect_between "ms from tracing to exit" 900 $(((t1 - t0) / 1000000)) 6000 &&
	expect_eq "last line" summary "$(tail -n 1 zm.out | jq -r .event)"
'

test_expect 'SIGTERM ends zmtrace with status 0 and the summary' '
	zm_start &&
	zm_stop TERM &&
	expect_eq "last line" summary "$(tail -n 1 zm.out | jq -r .event)"
'

test_expect 'events are written as they happen, not only at the end (a JSON Lines stream)' '
	zm_start -c zf-late &&
	zf_run late 1 5 &&
	pid=$(zfget ".event == \"reaped\"" .pid) &&
	wait_for_zm ".event == \"reap\" and .pid == $pid" 1 5 &&
	zm_stop
'

test_expect '-c COMM reports the zombies of processes named COMM, and not those of others' '
	zm_start -c zf-late &&
	zf_run leak 2 --hold-ms 0 &&
	mv zf.out leak.out &&
	zf_run late 2 10 &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 10 || exit 1
	done &&
	zm_stop &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_pair "$pid" zf-child zf-late wait4 || exit 1
	done &&
	leaker=$(jget leak.out ".event == \"start\"" .pid) &&
	expect_zm_count ".pid == $leaker or .ppid == $leaker" 0 "events about zf-leaker or its zombies"
'

test_expect '-p PID follows PID and its descendants (also across exec), and no other process' '
	mkfifo go &&
	bg_start sh sh -c "read x <go; exec \"\$0\" -o \"\$PWD/zf.out\" late 2 10" "$ZF" &&
	spid=$(cat sh.pid) &&
	zm_start -p "$spid" &&
	"$ZF" -o "$PWD/other.out" late 1 5 &&
	timeout 5 sh -c "echo go >go" &&
	wait_for_zf ".event == \"reaped\"" 2 &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 10 || exit 1
	done &&
	zm_stop &&
	expect_eq "the factory ran as the followed pid" "$spid" "$(zfget ".event == \"start\"" .pid)" &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_pair "$pid" zf-child zf-late wait4 || exit 1
	done &&
	other=$(jget other.out ".event == \"start\"" .pid) &&
	expect_zm_count ".pid == $other or .ppid == $other" 0 "events about the unfollowed zf-late"
'

test_expect 'the human output names each zombie and its parent, and ends with a table' '
	zm_run_human -- "$ZF" -o "$PWD/zf.out" late 1 20 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"reaped\"" .pid) &&
	{ ! grep -q "^{" zm.out || { diag "human output has JSON lines"; exit 1; }; } &&
	{ grep -qw "$pid" zm.out || { diag "human output does not mention pid $pid:"; cat zm.out >&2; exit 1; }; } &&
	{ grep -q "zf-late" zm.out || { diag "human output does not name zf-late:"; cat zm.out >&2; exit 1; }; } &&
	expect_le "human output lines (events + table)" 3 "$(wc -l <zm.out)"
'

test_done
