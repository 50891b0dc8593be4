#!/bin/bash
test_description='tracers and pid namespaces: a tracer'"'"'s wait is no reap; pids inside a namespace are not taken for the host'"'"'s'
. "$(dirname "$0")/../lib.sh"

test_expect 'under strace -f the zombie is reaped by its parent 100 ms late, not by strace when it detaches' '
	command -v strace >/dev/null || skip_now "strace is not installed" &&
	zm_run -- strace -f -o /dev/null "$ZF" -o "$PWD/zf.out" late 1 100 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"reaped\"" .pid) &&
	expect_event zombie pid=$pid count=1 comm=zf-child parent_comm=zf-late &&
	expect_event reap pid=$pid count=1 reaper_comm=zf-late reparented=false &&
	zns=$(zmget ".event == \"reap\" and .pid == $pid" .zombie_ns) &&
	expect_le "zombie time covers the parent'"'"'s 100 ms sleep" 100000000 "$zns"
'

test_expect 'a reap inside a pid namespace is reported via free, by the right reaper, with no false reap of a host pid' '
	command -v unshare >/dev/null || skip_now "unshare is not installed" &&
	zm_run -- unshare -pf "$ZF" -o "$PWD/zf.out" late 2 30 &&
	expect_zm_rc 0 &&
	expect_eq "children the factory reaped" 2 "$(zfcount ".event == \"reaped\"")" &&
	expect_zm_count ".event == \"zombie\" and .parent_comm == \"zf-late\"" 2 "zombies of zf-late" &&
	expect_zm_count ".event == \"reap\" and .parent_comm == \"zf-late\" and .via == \"free\" and .reaper_comm == \"zf-late\" and (.reparented | not)" 2 "reaps of them via free by zf-late" &&
	expect_zm_count ".event == \"reap\" and .via != \"free\" and .parent_comm == \"zf-late\"" 0 "reaps taken from namespaced pids"
'

test_done
