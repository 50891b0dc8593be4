#!/bin/bash
test_description='stopped and continued children: wait calls that return a pid are not reaps'
. "$(dirname "$0")/../lib.sh"

test_expect 'a child stopped and continued twice (seen by wait4, waitid and WNOWAIT peeks) has one zombie and one reap, after its real exit' '
	zm_run -- "$ZF" -o "$PWD/zf.out" stop 20 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"child\"" .pid) &&
	expect_eq "stop/continue cycles the factory saw" 4 "$(zfcount "(.event == \"stopped\" or .event == \"continued\") and .pid == $pid")" &&
	expect_pair "$pid" zf-stopper zf-stop wait4 &&
	expect_event zombie pid=$pid exit_code=5 signal=0 &&
	expect_summary_parent "$(zfget ".event == \"start\"" .pid)" 1 0 zf-stop
'

test_done
