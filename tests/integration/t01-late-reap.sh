#!/bin/bash
test_description='zombies reaped late: exact pids, comms, exit codes and zombie times'
. "$(dirname "$0")/../lib.sh"

test_expect 'three zombies reaped 50 ms late by wait4 are each reported once, with their zombie time to the clock' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 3 50 &&
	expect_zm_rc 0 &&
	expect_eq "children the factory reaped" 3 "$(zfcount ".event == \"reaped\"")" &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_pair "$pid" zf-child zf-late wait4 || exit 1
	done
'

test_expect 'a zombie reaped 120 ms late: zombie_ns lies between what the workload measured around the exit and the reap' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 1 120 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"reaped\"" .pid) &&
	t_exit=$(zfget ".event == \"reaped\"" .t_exit) &&
	t0=$(zfget ".event == \"reaped\"" .t0) &&
	t1=$(zfget ".event == \"reaped\"" .t1) &&
	t2=$(zfget ".event == \"reaped\"" .t2) &&
	expect_pair "$pid" zf-child zf-late wait4 &&
	zns=$(zmget ".event == \"reap\" and .pid == $pid" .zombie_ns) &&
	diag "truth is in [$((t1 - t0)), $((t2 - t_exit))] ns (width $(((t2 - t_exit) - (t1 - t0))) ns); zmtrace: $zns" &&
	expect_between "zombie_ns: at least the parent'"'"'s sleep, at most exit-to-reap" \
		$((t1 - t0 - ZM_SLACK_NS)) "$zns" $((t2 - t_exit + ZM_SLACK_NS)) &&
	expect_le "the 120 ms the parent slept" 120000000 "$zns"
'

test_expect 'a reap by waitid(WEXITED) is reported via waitid; the WNOWAIT peek before it is not a reap' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 2 30 --waitid &&
	expect_zm_rc 0 &&
	expect_eq "children the factory reaped" 2 "$(zfcount ".event == \"reaped\"")" &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_pair "$pid" zf-child zf-late waitid || exit 1
	done
'

test_expect 'under -- only the command and its descendants are reported, and the summary charges the parent' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 3 10 &&
	expect_zm_rc 0 &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	kids=$(zfall ".event == \"reaped\"" .pid | sort -n | tr "\n" " ") &&
	zpids=$(zmall ".event == \"zombie\" and .pid != $fpid" .pid | sort -n | tr "\n" " ") &&
	rpids=$(zmall ".event == \"reap\" and .pid != $fpid" .pid | sort -n | tr "\n" " ") &&
	expect_eq "zombie pids (besides the command itself)" "$kids" "$zpids" &&
	expect_eq "reap pids (besides the command itself)" "$kids" "$rpids" &&
	expect_summary_parent "$fpid" 3 0 zf-late &&
	expect_summary_sorted &&
	expect_no_lost &&
	expect_eq "summary is the last line" summary "$(tail -n 1 zm.out | jq -r .event)"
'

test_expect 'the summary zombie_ns_max is the longest reported zombie time, p50 <= p99 <= max' '
	zm_run -- "$ZF" -o "$PWD/zf.out" late 4 20 &&
	expect_zm_rc 0 &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	max=$(zmall ".event == \"reap\" and .ppid == $fpid" .zombie_ns | sort -n | tail -n 1) &&
	min=$(zmall ".event == \"reap\" and .ppid == $fpid" .zombie_ns | sort -n | head -n 1) &&
	entry=$(zm_summary | jq -c ".parents[] | select(.pid == $fpid)") &&
	diag "summary entry: $entry" &&
	expect_eq "zombie_ns_max" "$max" "$(say "$entry" | jq .zombie_ns_max)" &&
	expect_between "zombie_ns_p50" "$min" "$(say "$entry" | jq .zombie_ns_p50)" "$(say "$entry" | jq .zombie_ns_p99)" &&
	expect_le "zombie_ns_p99 <= max" "$(say "$entry" | jq .zombie_ns_p99)" "$max"
'

test_done
