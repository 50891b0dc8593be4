#!/bin/bash
test_description='many short-lived children: none lost, none doubled'
. "$(dirname "$0")/../lib.sh"

test_expect '2000 children reaped at once: 2000 zombies, 2000 reaps, the same pids, no lost events' '
	ZM_RUN_TIMEOUT=120 zm_run -- "$ZF" -o "$PWD/zf.out" burst 2000 &&
	expect_zm_rc 0 &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	jq -r "select(.event == \"burst\") | .pids[]" zf.out | sort -n >want &&
	expect_eq "children the factory made" 2000 "$(wc -l <want)" &&
	zmall ".event == \"zombie\" and .ppid == $fpid" .pid | sort -n >zombies &&
	zmall ".event == \"reap\" and .ppid == $fpid" .pid | sort -n >reaps &&
	{ cmp -s want zombies || { diag "zombie pids differ from the children (< missing, > extra):"; diff want zombies | grep "^[<>]" | head -n 20 >&2; exit 1; }; } &&
	{ cmp -s want reaps || { diag "reap pids differ from the children (< missing, > extra):"; diff want reaps | grep "^[<>]" | head -n 20 >&2; exit 1; }; } &&
	expect_zm_count ".event == \"reap\" and .ppid == $fpid and (.reaper_pid != $fpid or .via != \"wait4\" or .reparented)" 0 "reaps not by the parent via wait4" &&
	expect_summary_parent "$fpid" 2000 0 zf-burst &&
	expect_no_lost
'

test_done
