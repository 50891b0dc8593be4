#!/bin/bash
test_description='zombies that exist before zmtrace starts'
. "$(dirname "$0")/../lib.sh"

# preexist_story [ZMTRACE ARGS...]: 3 zombies made before zmtrace starts,
# reaped after it traces; checks their events.
preexist_story() {
	zf_start preexist 3 &&
	wait_for_zf ".event == \"ready\"" &&
	fpid=$(cat zf.pid) &&
	t_ready=$(zfget ".event == \"ready\"" .t) &&
	zm_start "$@" &&
	kill -USR1 "$fpid" &&
	zf_wait_exit &&
	t_sig=$(zfget ".event == \"signal\"" .t) &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 10 || return 1
	done &&
	zm_stop &&
	n=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		code=$(zfget ".event == \"child\" and .pid == $pid" .exit_code) &&
		t_exit=$(zfget ".event == \"reaped\" and .pid == $pid" .t_exit) &&
		t1=$(zfget ".event == \"reaped\" and .pid == $pid" .t1) &&
		t2=$(zfget ".event == \"reaped\" and .pid == $pid" .t2) &&
		expect_event zombie pid=$pid comm=zf-child ppid=$fpid parent_comm=zf-pre \
			exit_code=$code signal=0 core_dumped=false preexisting=true \
			ts_ns=$t_ready..$t_sig &&
		zts=$(zmget ".event == \"zombie\" and .pid == $pid" .ts_ns) &&
		expect_event reap pid=$pid comm=zf-child ppid=$fpid parent_comm=zf-pre \
			reaper_pid=$fpid reaper_comm=zf-pre reparented=false via=wait4 \
			preexisting=true ts_ns=$((t1 - ZM_SLACK_NS))..$((t2 + ZM_SLACK_NS)) &&
		rts=$(zmget ".event == \"reap\" and .pid == $pid" .ts_ns) &&
		expect_event reap pid=$pid \
			zombie_ns=$((rts - zts - ZM_SLACK_NS))..$((t2 - t_exit + ZM_SLACK_NS)) || return 1
		n=$((n + 1))
	done &&
	expect_eq "zombies" 3 "$n" &&
	expect_summary_parent "$fpid" 3 0 zf-pre
}

test_expect 'zombies made before tracing are reported as preexisting, with their reap and a lower-bound zombie time' '
	preexist_story
'

test_expect 'with -p PARENT, the preexisting zombies of PARENT are reported, and those of another process are not' '
	zf_start preexist 2 &&
	wait_for_zf ".event == \"ready\"" &&
	mv zf.out other.out && mv zf.pid other.pid &&
	other=$(cat other.pid) &&
	zf_start preexist 3 &&
	wait_for_zf ".event == \"ready\"" &&
	fpid=$(cat zf.pid) &&
	zm_start -p "$fpid" &&
	kill -USR1 "$other" "$fpid" &&
	zf_wait_exit &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		wait_for_zm ".event == \"reap\" and .pid == $pid" 1 10 || exit 1
	done &&
	zm_stop &&
	n=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		expect_event zombie pid=$pid comm=zf-child ppid=$fpid preexisting=true &&
		expect_event reap pid=$pid reaper_pid=$fpid via=wait4 preexisting=true || exit 1
		n=$((n + 1))
	done &&
	expect_eq "zombies of the followed parent" 3 "$n" &&
	expect_zm_count ".pid == $other or .ppid == $other or .reaper_pid == $other" 0 \
		"events about the other zf-pre (pid $other) or its zombies"
'

test_done
