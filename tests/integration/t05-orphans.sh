#!/bin/bash
test_description='zombies orphaned by their parent: charged to the parent, reaped by a subreaper or init'
. "$(dirname "$0")/../lib.sh"

test_expect 'zombies orphaned by zf-middle are charged to it and reaped by the subreaper, reparented, via wait4' '
	zm_run -- "$ZF" -o "$PWD/zf.out" orphan 3 --subreaper &&
	expect_zm_rc 0 &&
	top=$(zfget ".event == \"start\"" .pid) &&
	mid=$(zfget ".event == \"middle\"" .pid) &&
	n=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		expect_eq "pid $pid reparented to the subreaper (/proc)" "$top" \
			"$(zfget ".event == \"reparented\" and .pid == $pid" .new_ppid)" &&
		code=$(zfget ".event == \"child\" and .pid == $pid" .exit_code) &&
		lo=$(zfget ".event == \"child\" and .pid == $pid" .t_exit) &&
		hi=$(zfget ".event == \"middle_exit\"" .t) &&
		t1=$(zfget ".event == \"reaped\" and .pid == $pid" .t1) &&
		t2=$(zfget ".event == \"reaped\" and .pid == $pid" .t2) &&
		expect_event zombie pid=$pid comm=zf-child ppid=$mid parent_comm=zf-middle \
			exit_code=$code signal=0 preexisting=false \
			ts_ns=$((lo - ZM_SLACK_NS))..$((hi + ZM_SLACK_NS)) &&
		expect_event reap pid=$pid comm=zf-child ppid=$mid parent_comm=zf-middle \
			reaper_pid=$top reaper_comm=zf-top reparented=true via=wait4 \
			preexisting=false ts_ns=$((t1 - ZM_SLACK_NS))..$((t2 + ZM_SLACK_NS)) || exit 1
		n=$((n + 1))
	done &&
	expect_eq "orphans" 3 "$n" &&
	expect_event zombie pid=$mid comm=zf-middle ppid=$top parent_comm=zf-top exit_code=0 &&
	expect_event reap pid=$mid reaper_pid=$top reaper_comm=zf-top reparented=false via=wait4 &&
	expect_summary_parent "$mid" 3 0 zf-middle &&
	expect_summary_parent "$top" 1 0 zf-top
'

test_expect 'zombies orphaned to init are reaped by init (bounded wait), reparented, charged to zf-middle' '
	zm_start &&
	zf_run orphan 3 &&
	mid=$(zfget ".event == \"middle\"" .pid) &&
	n=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 15 || exit 1
	done &&
	zm_stop &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		reaper=$(zfget ".event == \"reparented\" and .pid == $pid" .new_ppid) &&
		{ [ "$reaper" != 0 ] || reaper=$ZM_ORPHAN_REAPER; } &&
		expect_event zombie pid=$pid comm=zf-child ppid=$mid parent_comm=zf-middle &&
		expect_event reap pid=$pid ppid=$mid parent_comm=zf-middle \
			reaper_pid=$reaper reaper_comm="$(cat /proc/$reaper/comm)" reparented=true \
			"via=wait4|waitid|free" || exit 1
		n=$((n + 1))
	done &&
	expect_eq "orphans" 3 "$n" &&
	expect_summary_parent "$mid" 3 0 zf-middle
'

test_expect 'zombies orphaned to a subreaper that ignores SIGCHLD are autoreaped on reparenting: reported via free' '
	zm_run -- "$ZF" -o "$PWD/zf.out" orphan 3 --subreaper --ignore-in-reaper &&
	expect_zm_rc 0 &&
	top=$(zfget ".event == \"start\"" .pid) &&
	mid=$(zfget ".event == \"middle\"" .pid) &&
	expect_eq "factory: orphans gone" true "$(zfget ".event == \"orphans_gone\"" .ok)" &&
	t_mid=$(zfget ".event == \"middle_exit\"" .t) &&
	t_gone=$(zfget ".event == \"orphans_gone\"" .t) &&
	n=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		expect_event zombie pid=$pid comm=zf-child ppid=$mid parent_comm=zf-middle &&
		expect_event reap pid=$pid ppid=$mid parent_comm=zf-middle \
			reaper_pid=$top reaper_comm=zf-top reparented=true via=free \
			ts_ns=$((t_mid - ZM_SLACK_NS))..$((t_gone + 2000000000)) || exit 1
		n=$((n + 1))
	done &&
	expect_eq "orphans" 3 "$n" &&
	expect_event zombie pid=$mid count=0 &&
	expect_summary_parent "$mid" 3 0 zf-middle
'

# The same, traced system-wide and waited for: a failure of the test above
# alone means the frees came after zmtrace stopped at the command's exit.
test_expect 'traced system-wide, zombies autoreaped on reparenting are reported via free within 2 s' '
	zm_start &&
	zf_run orphan 3 --subreaper --ignore-in-reaper &&
	top=$(zfget ".event == \"start\"" .pid) &&
	mid=$(zfget ".event == \"middle\"" .pid) &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 5 || exit 1
	done &&
	zm_stop &&
	n=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		expect_event zombie pid=$pid comm=zf-child ppid=$mid parent_comm=zf-middle &&
		expect_event reap pid=$pid ppid=$mid parent_comm=zf-middle \
			reaper_pid=$top reaper_comm=zf-top reparented=true via=free || exit 1
		n=$((n + 1))
	done &&
	expect_eq "orphans" 3 "$n" &&
	expect_event zombie pid=$mid count=0 &&
	expect_summary_parent "$mid" 3 0 zf-middle
'

test_done
