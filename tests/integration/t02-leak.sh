#!/bin/bash
test_description='zombies leaked by a parent that never reaps them'
. "$(dirname "$0")/../lib.sh"

test_expect 'zombies leaked by a live parent are reported once each and counted unreaped in the summary' '
	zm_start -c zf-leaker &&
	zf_start leak 4 --until-signal &&
	wait_for_zf ".event == \"ready\"" &&
	fpid=$(cat zf.pid) &&
	expect_eq "factory pid" "$fpid" "$(zfget ".event == \"ready\"" .pid)" &&
	wait_for_zm ".event == \"zombie\" and .ppid == $fpid" 4 &&
	zm_stop &&
	i=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		lo=$(zfget ".event == \"child\" and .pid == $pid" .t_exit) &&
		hi=$(zfget ".event == \"child\" and .pid == $pid" .t0) &&
		expect_event zombie pid=$pid comm=zf-child ppid=$fpid \
			parent_comm=zf-leaker exit_code=$i signal=0 core_dumped=false \
			preexisting=false ts_ns=$((lo - ZM_SLACK_NS))..$((hi + ZM_SLACK_NS)) &&
		expect_event reap pid=$pid count=0 || exit 1
		i=$((i + 1))
	done &&
	expect_eq "children" 4 "$i" &&
	expect_summary_parent "$fpid" 4 4 zf-leaker &&
	expect_eq "first summary entry (most unreaped)" "$fpid" "$(zm_summary | jq ".parents[0].pid")" &&
	expect_summary_sorted &&
	expect_no_lost
'

# How init reaps is its own business: this sandbox's init shows no wait4 or
# waitid (it reaps through io_uring, seen by zmtrace as "free").
test_expect 'when the leaker exits, the reaper of its orphaned zombies is reported, reparented, with the zombie charged to the leaker' '
	zm_start &&
	zf_run leak 3 --hold-ms 50 &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 20 || exit 1
	done &&
	zm_stop &&
	reaper_comm=$(cat /proc/$ZM_ORPHAN_REAPER/comm) &&
	i=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		expect_event zombie pid=$pid comm=zf-child ppid=$fpid parent_comm=zf-leaker exit_code=$i &&
		expect_event reap pid=$pid comm=zf-child ppid=$fpid parent_comm=zf-leaker \
			reaper_pid=$ZM_ORPHAN_REAPER reaper_comm="$reaper_comm" reparented=true \
			"via=wait4|waitid|free" preexisting=false || exit 1
		i=$((i + 1))
	done &&
	expect_eq "children" 3 "$i" &&
	expect_summary_parent "$fpid" 3 0 zf-leaker
'

test_expect 'parents that leak more rank first: the summary is sorted by unreaped, then zombies' '
	zm_start -c zf-leaker &&
	zf_start leak 2 --until-signal &&
	wait_for_zf ".event == \"ready\"" &&
	mv zf.out zf-leak.out && mv zf.pid zf-leak.pid &&
	zf_start leak 3 --until-signal &&
	wait_for_zf ".event == \"ready\"" &&
	a=$(cat zf-leak.pid) && b=$(cat zf.pid) &&
	wait_for_zm ".event == \"zombie\" and (.ppid == $a or .ppid == $b)" 5 &&
	zm_stop &&
	expect_summary_parent "$a" 2 2 zf-leaker &&
	expect_summary_parent "$b" 3 3 zf-leaker &&
	expect_eq "order of the first two parents" "$b $a" "$(zm_summary | jq -r "[.parents[0].pid, .parents[1].pid] | join(\" \")")" &&
	expect_summary_sorted
'

test_done
