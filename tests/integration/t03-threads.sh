#!/bin/bash
test_description='a process whose leader thread dies first becomes a zombie only with its last thread'
. "$(dirname "$0")/../lib.sh"

test_expect 'the leader exiting 300 ms before the last thread gives one zombie, born when the last thread exits' '
	zm_run -- "$ZF" -o "$PWD/zf.out" threads 300 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"child\"" .pid) &&
	expect_eq "factory saw the leader as a zombie (ps <defunct>) while the thread ran" \
		Z "$(zfget ".event == \"leader_state\"" .state)" &&
	tid=$(zfget ".event == \"last_thread_exit\"" .tid) &&
	t_last=$(zfget ".event == \"last_thread_exit\"" .t) &&
	T_EXIT=$t_last expect_pair "$pid" zf-thr zf-threads wait4 &&
	expect_event zombie pid=$tid count=0 &&
	expect_event reap pid=$tid count=0
'

test_expect 'the exit status reported for such a process is the one its parent reaps' '
	zm_run -- "$ZF" -o "$PWD/zf.out" threads 50 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"child\"" .pid) &&
	code=$(zfget ".event == \"reaped\"" .exit_code) &&
	diag "the parent reaped exit code $code (leader exited 7, last thread 9)" &&
	expect_event zombie pid=$pid exit_code=$code signal=0
'

test_done
