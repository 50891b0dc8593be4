#!/bin/bash
test_description='degraded conditions: no tracefs, a full ring buffer, an older kernel, bad input'
. "$(dirname "$0")/../lib.sh"

# A zmtrace that cannot mount tracefs: no CAP_SYS_ADMIN, in a mount namespace
# of its own where tracefs is not mounted.
make_nosysadmin() {
	cat >nosysadmin <<-EOS
	#!/bin/sh
	exec unshare -m sh -c 'umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null
	exec capsh --drop=cap_sys_admin -- -c "exec \\"\\\$@\\"" sh "\$@"' sh "$ZMTRACE" "\$@"
	EOS
	chmod +x nosysadmin
}

test_expect 'without tracefs, zmtrace says what is lost and still reports every reap, via free, as an upper bound' '
	command -v capsh >/dev/null || skip_now "capsh (libcap2-bin) is not installed" &&
	make_nosysadmin &&
	ZMTRACE=$PWD/nosysadmin zm_run -- "$ZF" -o "$PWD/zf.out" late 2 30 &&
	expect_zm_rc 0 &&
	grep -q "^zmtrace: warning: wait4/waitid tracepoints unavailable (tracefs: Operation not permitted): .*upper bounds" zm.err &&
	expect_eq "warning lines" 1 "$(grep -c "^zmtrace: warning" zm.err)" &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		t0=$(zfget ".event == \"reaped\" and .pid == $pid" .t0) &&
		t1=$(zfget ".event == \"reaped\" and .pid == $pid" .t1) &&
		expect_event zombie pid=$pid count=1 comm=zf-child parent_comm=zf-late &&
		expect_event reap pid=$pid count=1 via=free reaper_comm=zf-late reparented=false &&
		zns=$(zmget ".event == \"reap\" and .pid == $pid" .zombie_ns) &&
		expect_le "pid $pid: an upper bound is at least the sleep" $((t1 - t0)) "$zns" || exit 1
	done &&
	expect_eq "exact_reaps in the summary" false "$(zm_summary | jq .exact_reaps)"
'

test_expect 'a full ring buffer: lost events are counted and reported, never silently dropped' '
	ZMTRACE_RINGBUF_KB=4 zm_start &&
	kill -STOP "$(cat zm.pid)" &&
	zf_run burst 400 &&
	kill -CONT "$(cat zm.pid)" &&
	zm_stop &&
	lost=$(zm_summary | jq .lost_events) &&
	diag "lost_events: $lost of about 800 events; 4 KiB holds about 45" &&
	expect_le "lost events" 300 "$lost" &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	unreaped=$(zm_summary | jq "[.parents[] | select(.pid == $fpid) | .unreaped] | add // 0") &&
	expect_eq "zombies left unreaped (all were reaped; lost reaps are reconciled with /proc)" 0 "$unreaped"
'

test_expect 'a full ring buffer: the text output ends with a warning that counts are low' '
	zm=txt ZMTRACE_RINGBUF_KB=4 zm_start_human &&
	kill -STOP "$(cat txt.pid)" &&
	zf_run burst 200 &&
	kill -CONT "$(cat txt.pid)" &&
	zm=txt zm_stop &&
	grep -q "^WARNING: [0-9]* events lost (ring buffer full)" txt.out
'

test_expect 'the pre-6.16 exit program (signal->live) gives the same zombies, reaps and times' '
	ZMTRACE_LEGACY_EXIT=1 zm_run -- "$ZF" -o "$PWD/zf.out" late 2 20 &&
	expect_zm_rc 0 &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_pair "$pid" zf-child zf-late wait4 || exit 1
	done
'

test_expect 'the pre-6.16 exit program: a leader dying before its last thread is one zombie, born with the last thread' '
	ZMTRACE_LEGACY_EXIT=1 zm_run -- "$ZF" -o "$PWD/zf.out" threads 100 &&
	expect_zm_rc 0 &&
	pid=$(zfget ".event == \"child\"" .pid) &&
	t_last=$(zfget ".event == \"last_thread_exit\"" .t) &&
	T_EXIT=$t_last expect_pair "$pid" zf-thr zf-threads wait4
'

test_expect 'a kernel that refuses the group_dead exit program: zmtrace falls back to the older one by itself' '
	ZMTRACE_TEST_OLD_EXIT=1 zm_run -- "$ZF" -o "$PWD/zf.out" late 2 20 &&
	expect_zm_rc 0 &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_pair "$pid" zf-child zf-late wait4 || exit 1
	done
'

test_expect 'a refused program is named, with the kernel'"'"'s reason, in one line' '
	ZMTRACE_TEST_OLD_EXIT=1 ZMTRACE_LEGACY_EXIT= "$ZMTRACE" zombies -v --duration 0.1 >out 2>err </dev/null
	grep -q "zm_exit" err
'

test_expect 'not root: one line that says so, status 1' '
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ZMTRACE" zombies >out 2>err
	rc=$? &&
	expect_eq "status" 1 "$rc" &&
	expect_eq "stderr" "zmtrace: permission denied: run as root (or with CAP_BPF and CAP_PERFMON)" "$(cat err)" &&
	expect_eq "stdout bytes" 0 "$(wc -c <out)"
'

test_expect 'bad input: one line on stderr and a non-zero status, each' '
	check() { # STATUS PATTERN ARGS...
		local want=$1 pat=$2; shift 2
		"$ZMTRACE" "$@" >out 2>err </dev/null
		local rc=$?
		[ "$rc" = "$want" ] || { diag "zmtrace $*: status $rc, expected $want"; return 1; }
		[ "$(wc -l <err)" = 1 ] || { diag "zmtrace $*: stderr is not one line:"; cat err >&2; return 1; }
		grep -q "$pat" err || { diag "zmtrace $*: stderr lacks \"$pat\": $(cat err)"; return 1; }
	}
	check 2 "unknown command" frobnicate &&
	check 2 "unknown option" zombies --bogus &&
	check 2 "duration wants seconds" zombies --duration -1 &&
	check 2 "duration wants seconds" zombies --duration abc &&
	check 2 "wants a pid" zombies -p 0 &&
	check 2 "wants a pid" zombies -p 12x &&
	check 2 "1 to 15 characters" zombies -c 0123456789abcdefXYZ &&
	check 2 "exclude each other" zombies -p 1 -c sh &&
	check 2 "goes after --" zombies sleep 1 &&
	check 1 "no process with pid" zombies -p 4000000 &&
	check 127 "cannot run /nonexistent" zombies -- /nonexistent &&
	ZMTRACE_RINGBUF_KB=3 check 1 "power of two" zombies --duration 1
'

test_done
