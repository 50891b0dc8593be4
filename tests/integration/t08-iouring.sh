#!/bin/bash
test_description='a zombie reaped by io_uring IORING_OP_WAITID (no wait syscall)'
. "$(dirname "$0")/../lib.sh"

test_expect 'a zombie reaped through io_uring waitid is reported via free, with the right pid and reaper' '
	zm_run -- "$ZF" -o "$PWD/zf.out" iouring 20 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"reaped\"" .pid) &&
	expect_eq "factory: the io_uring waitid reaped it" true "$(zfget ".event == \"reaped\"" .gone)" &&
	expect_pair "$pid" zf-child zf-iouring free &&
	expect_summary_parent "$(zfget ".event == \"start\"" .pid)" 1 0 zf-iouring
'

# The same, traced system-wide and waited for: a failure of the test above
# alone means the reap came after zmtrace stopped (its drain at the
# command's exit is too short for a free that RCU defers).
test_expect 'traced system-wide, the io_uring reap is reported via free within 2 s' '
	zm_start &&
	zf_run iouring 20 &&
	pid=$(zfget ".event == \"reaped\"" .pid) &&
	wait_for_zm ".event == \"reap\" and .pid == $pid" 1 5 &&
	zm_stop &&
	expect_pair "$pid" zf-child zf-iouring free
'

test_done
