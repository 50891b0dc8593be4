#!/bin/bash
test_description='children of a parent that ignores SIGCHLD (or sets SA_NOCLDWAIT) never become zombies'
. "$(dirname "$0")/../lib.sh"

# mode: ignore or nocldwait. A late-reaped child in the same trace is the
# control: it proves zmtrace was seeing this process tree all along.
autoreap_story() {
	zm_start &&
	zf_run "$1" 4 &&
	expect_eq "factory: all children gone, wait() gave ECHILD" true "$(zfget ".event == \"all_gone\"" .ok)" &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	mv zf.out zf-$1.out &&
	zf_run late 1 10 &&
	ctl=$(zfget ".event == \"reaped\"" .pid) &&
	wait_for_zm ".event == \"reap\" and .pid == $ctl" &&
	zm_stop &&
	expect_pair "$ctl" zf-child zf-late wait4 &&
	n=0 &&
	for pid in $(jall zf-$1.out ".event == \"child\"" .pid); do
		expect_event zombie pid=$pid count=0 &&
		expect_event reap pid=$pid count=0 || return 1
		n=$((n + 1))
	done &&
	expect_eq "children" 4 "$n" &&
	expect_zm_count ".event == \"zombie\" and .ppid == $fpid" 0 "zombies charged to the $1 parent" &&
	expect_summary_parent "$fpid" 0 0
}

test_expect 'a parent with SIGCHLD set to SIG_IGN has its 4 children autoreaped: no zombie, no reap reported' '
	autoreap_story ignore
'

test_expect 'a parent with an SA_NOCLDWAIT handler has its 4 children autoreaped: no zombie, no reap reported' '
	autoreap_story nocldwait
'

test_expect 'under -- an ignoring parent yields no zombie events for its children' '
	zm_run -- "$ZF" -o "$PWD/zf.out" ignore 3 &&
	expect_zm_rc 0 &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	expect_zm_count ".event == \"zombie\" and .pid != $fpid" 0 "zombie events besides the command" &&
	expect_zm_count ".event == \"reap\" and .pid != $fpid" 0 "reap events besides the command"
'

test_done
