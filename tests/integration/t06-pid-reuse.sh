#!/bin/bash
test_description='a pid used twice: two lives, reported apart'
. "$(dirname "$0")/../lib.sh"

test_expect 'zf-a and zf-b share a pid; each gets its own zombie and reap, with its own comm, exit code and zombie time' '
	zm_run -- "$ZF" -o "$PWD/zf.out" reuse 30 90 &&
	expect_zm_rc 0 &&
	a=$(zfget ".event == \"reaped\" and .name == \"zf-a\"" .pid) &&
	b=$(zfget ".event == \"reaped\" and .name == \"zf-b\"" .pid) &&
	diag "zf-b got the pid by $(zfget ".event == \"reaped\" and .name == \"zf-b\"" .method)" &&
	expect_eq "the factory reused the pid" "$a" "$b" &&
	expect_pair "$a" zf-a zf-reuse wait4 0 2 &&
	expect_pair "$a" zf-b zf-reuse wait4 1 2 &&
	expect_event zombie pid=$a count=2 nth=0 exit_code=1 &&
	expect_event zombie pid=$a count=2 nth=1 exit_code=2 &&
	expect_summary_parent "$(zfget ".event == \"start\"" .pid)" 2 0 zf-reuse
'

test_expect 'the two lives are reported in order: A dies, A reaped, B dies, B reaped' '
	zm_run -- "$ZF" -o "$PWD/zf.out" reuse 10 10 &&
	expect_zm_rc 0 &&
	a=$(zfget ".event == \"reaped\" and .name == \"zf-a\"" .pid) &&
	got=$(zmall "(.event == \"zombie\" or .event == \"reap\") and .pid == $a" "\"\\(.event):\\(.comm)\"" | tr "\n" " ") &&
	expect_eq "events for pid $a" "zombie:zf-a reap:zf-a zombie:zf-b reap:zf-b " "$got"
'

test_done
