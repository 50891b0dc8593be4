#!/bin/bash
test_description='zmtrace rss: an OOM kill inside a memory cgroup is reported with the victim'"'"'s exact pid, comm and figures'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rss-lib.sh"

LIMIT_MIB=64

# cg_make: a memory cgroup limited to LIMIT_MIB without swap; its directory
# goes to ./cg (removed by cg_remove, which the test's EXIT trap runs).
# cgroup v1 (memory controller mounted on its own) first, else v2. Skips
# the test when neither can be made.
cg_make() {
	local base dir v2 why=''
	for base in /sys/fs/cgroup/memory /sys/fs/cgroup; do
		[ -f "$base/memory.limit_in_bytes" ] || continue
		dir=$base/zmtrace-$TEST_ID-$$-$BASHPID
		if mkdir "$dir" 2>/dev/null &&
		   say $((LIMIT_MIB << 20)) >"$dir/memory.limit_in_bytes" 2>/dev/null; then
			say 0 >"$dir/memory.swappiness" 2>/dev/null
			[ -f "$dir/memory.memsw.limit_in_bytes" ] &&
				say $((LIMIT_MIB << 20)) >"$dir/memory.memsw.limit_in_bytes" 2>/dev/null
			say "$dir" >cg
			return 0
		fi
		rmdir "$dir" 2>/dev/null
		why="$why; cgroup v1 at $base refused"
	done
	for v2 in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ "$(stat -f -c %T "$v2" 2>/dev/null)" = cgroup2fs ] || continue
		if ! grep -qw memory "$v2/cgroup.controllers" 2>/dev/null; then
			why="$why; cgroup v2 at $v2 has no memory controller (bound to v1?)"
			continue
		fi
		grep -qw memory "$v2/cgroup.subtree_control" ||
			say +memory >"$v2/cgroup.subtree_control" 2>/dev/null
		dir=$v2/zmtrace-$TEST_ID-$$-$BASHPID
		if mkdir "$dir" 2>/dev/null && [ -f "$dir/memory.max" ] &&
		   say $((LIMIT_MIB << 20)) >"$dir/memory.max" 2>/dev/null; then
			say 0 >"$dir/memory.swap.max" 2>/dev/null
			say "$dir" >cg
			return 0
		fi
		rmdir "$dir" 2>/dev/null
		why="$why; cgroup v2 at $v2 refused"
	done
	skip_now "no memory cgroup can be made here${why:-: none mounted}"
}

cg_empty() { [ ! -s "$(cat cg)/cgroup.procs" ]; }
cg_remove() {
	[ -f cg ] || return 0
	wait_until 5 cg_empty || diag "cgroup $(cat cg) still has processes: $(cat "$(cat cg)/cgroup.procs")"
	rmdir "$(cat cg)" || diag "could not remove cgroup $(cat cg)"
}

# dmesg_kill PID FIELD: FIELD (total-vm, anon-rss, file-rss) in kB from the
# kernel's "Killed process PID (...)" line; empty when dmesg cannot say.
dmesg_kill() {
	dmesg 2>/dev/null | grep "Killed process $1 (" | tail -n 1 |
		sed -n "s/.* $2:\([0-9]*\)kB.*/\1/p"
}

test_expect "a process allocating 512 MiB in a $LIMIT_MIB MiB cgroup: oom_kill event with its pid, comm and figures; oom_killed in the summary" '
	trap cg_remove EXIT
	cg_make &&
	diag "cgroup: $(cat cg)" &&
	rss_run -- sh -c "echo \$\$ >\"\$1/cgroup.procs\" && exec \"\$0\" -o \"\$PWD/oom.out\" oom 512" "$MW" "$(cat cg)" &&
	{ ! jget oom.out ".event == \"error\"" .what | grep . || { mw_diag oom; exit 1; }; } &&
	expect_zm_rc 137 &&
	pid=$(mw_pid oom) &&
	expect_zm_count ".event == \"oom_kill\"" 1 "oom_kill events" &&
	ev=$(zmsel ".event == \"oom_kill\"") &&
	diag "oom_kill: $ev" &&
	expect_eq "oom_kill pid" "$pid" "$(say "$ev" | jq .pid)" &&
	expect_eq "oom_kill comm" mw-oom "$(say "$ev" | jq -r .comm)" &&
	expect_between "oom_kill anon_kb (up to the limit)" $((LIMIT_MIB * 1024 / 2)) "$(say "$ev" | jq .anon_kb)" $((LIMIT_MIB * 1024)) &&
	expect_eq "oom_kill rss_kb = anon + file + shmem" \
		"$(say "$ev" | jq ".anon_kb + .file_kb + .shmem_kb")" "$(say "$ev" | jq .rss_kb)" &&
	last=$(jsel oom.out ".event == \"status\"" | tail -n 1) &&
	expect_le "oom_kill rss_kb >= the last VmRSS the workload read (- per-CPU lag)" \
		$(($(say "$last" | jq .vmrss_kb) - PCPU_SLOP_KB)) "$(say "$ev" | jq .rss_kb)" &&
	expect_le "oom_kill ts >= the last status the workload read" \
		"$(say "$last" | jq .ts_ns)" "$(say "$ev" | jq .ts_ns)" &&
	expect_le "oom_kill rss_kb_peak >= rss_kb" "$(say "$ev" | jq .rss_kb)" "$(say "$ev" | jq .rss_kb_peak)" &&
	ex=$(rss_of "$pid" | jq -c "select(.why == \"exit\")") &&
	expect_le "the exit event follows the oom_kill" "$(say "$ev" | jq .ts_ns)" "$(say "$ex" | jq .ts_ns)" &&
	s=$(rss_summary_of "$pid") &&
	diag "summary entry: $s" &&
	expect_eq "summary oom_killed" true "$(say "$s" | jq .oom_killed)" &&
	expect_eq "summary exited" true "$(say "$s" | jq .exited)" &&
	expect_eq "summary comm" mw-oom "$(say "$s" | jq -r .comm)" &&
	kvm=$(dmesg_kill "$pid" total-vm) && kanon=$(dmesg_kill "$pid" anon-rss) &&
	if [ -n "$kvm" ]; then
		diag "kernel: total-vm ${kvm}kB anon-rss ${kanon}kB" &&
		expect_eq "oom_kill vsize_kb vs the kernel'"'"'s total-vm" "$kvm" "$(say "$ev" | jq .vsize_kb)" &&
		expect_near "oom_kill anon_kb vs the kernel'"'"'s anon-rss" "$kanon" "$(say "$ev" | jq .anon_kb)" "$PCPU_SLOP_KB"
	else
		diag "no kernel log line for pid $pid: not compared"
	fi
'

test_expect 'with a small bystander in the cgroup, only the hog is reported killed; the bystander is not marked' '
	trap cg_remove EXIT
	cg_make &&
	rss_run -- sh -c "
		echo \$\$ >\"\$1/cgroup.procs\" || exit 1
		\"\$0\" -o \"\$PWD/by.out\" hold 4 & by=\$!
		until grep -q \"\\\"full\\\"\" by.out 2>/dev/null; do sleep 0.02; done
		\"\$0\" -o \"\$PWD/hog.out\" oom 512
		kill -USR1 \$by; wait \$by" "$MW" "$(cat cg)" &&
	expect_zm_rc 0 &&
	hog=$(mw_pid hog) && by=$(mw_pid by) &&
	expect_eq "pids in oom_kill events" "$hog" "$(zmall ".event == \"oom_kill\"" .pid | tr "\n" " " | sed "s/ $//")" &&
	expect_eq "summary: oom_killed pids" "$hog" \
		"$(zm_summary | jq -r "[.processes[] | select(.oom_killed) | .pid] | map(tostring) | join(\" \")")" &&
	expect_eq "the bystander finished" exit "$(jget by.out ".event == \"status\" and .what == \"exit\"" .what)" &&
	expect_eq "summary: the bystander exited, not killed" "true false" \
		"$(rss_summary_of "$by" | jq -r "\"\(.exited) \(.oom_killed)\"")"
'

test_expect 'an OOM kill of a process the filter leaves out is not reported' '
	trap cg_remove EXIT
	cg_make &&
	rss_start -c zz-nothing &&
	sh -c "echo \$\$ >\"\$1/cgroup.procs\" && exec \"\$0\" -o \"\$PWD/oom.out\" oom 512" "$MW" "$(cat cg)"
	rc=$? &&
	expect_eq "the workload'"'"'s status (SIGKILL)" 137 "$rc" &&
	pid=$(mw_pid oom) &&
	wait_until 5 cg_empty &&
	zm_stop &&
	expect_zm_count ".event == \"oom_kill\"" 0 "oom_kill events" &&
	expect_zm_count ".event == \"rss\"" 0 "rss events" &&
	expect_eq "processes in the summary" 0 "$(zm_summary | jq ".processes | length")"
'

test_done
