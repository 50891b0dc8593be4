#!/bin/bash
test_description='the session: broken output, signals in -- mode, -o FILE, zombies left at the end, narrow text'
. "$(dirname "$0")/../lib.sh"

# ms since the epoch, for elapsed times
now_ms() { say $(($(date +%s%N) / 1000000)); }
# run_rc FILE COMMAND...: run COMMAND, its status to FILE; succeeds.
run_rc() {
	local f=$1
	shift
	"$@"
	say $? >"$f"
}

# ---------------------------------------------------------- broken output

test_expect 'zmtrace zombies --json | head -n1 ends at once with status 141 (all processes traced)' '
	bg_start gen sh -c "while :; do \"\$0\" -o /dev/null late 1 1; sleep 0.1; done" "$ZF" &&
	t0=$(now_ms) &&
	timeout -k 5 "$(scaled 20)" "$ZMTRACE" zombies --json 2>zm.err </dev/null | head -n 1 >first &&
	rcs="${PIPESTATUS[*]}" &&
	ms=$(($(now_ms) - t0)) &&
	expect_eq "statuses of zmtrace and head" "141 0" "$rcs" &&
	expect_le "ms until the pipeline ended" "$ms" 10000 &&
	expect_eq "head printed a JSON record" true "$(jq "[.event] | inside([\"zombie\", \"reap\"])" first)" &&
	expect_eq "lines on stderr" 1 "$(wc -l <zm.err)"
'

test_expect 'in -- mode, zmtrace | head -n1 ends when head does, though no record is due, and ends the command' '
	t0=$(now_ms) &&
	timeout -k 5 "$(scaled 20)" "$ZMTRACE" zombies --json -- \
		sh -c "\"\$0\" -o \"\$PWD/zf.out\" late 1 1; echo \$\$ >sh.pid; exec sleep 60" "$ZF" \
		2>zm.err </dev/null | head -n 1 >first &&
	rcs="${PIPESTATUS[*]}" &&
	ms=$(($(now_ms) - t0)) &&
	expect_eq "statuses of zmtrace and head" "141 0" "$rcs" &&
	expect_le "ms until the pipeline ended" "$ms" 10000 &&
	expect_eq "head printed a JSON record" zombie "$(jq -r .event first)" &&
	{ ! proc_alive "$(cat sh.pid)" || { diag "the command still runs"; exit 1; }; }
'

test_expect 'a write error (ENOSPC) ends zmtrace with one line "writing output" and status 1' '
	zm_run -o /dev/full -- "$ZF" -o "$PWD/zf.out" late 3 1 &&
	expect_zm_rc 1 &&
	expect_eq "lines on stderr" 2 "$(wc -l <zm.err)" &&
	expect_eq "the error line" "zmtrace: writing output: No space left on device" \
		"$(grep -v "^zmtrace: tracing" zm.err)" &&
	run_rc rc2 timeout 20 "$ZMTRACE" zombies -- "$ZF" -o "$PWD/zf2.out" late 1 1 \
		>/dev/full 2>err2 </dev/null &&
	expect_eq "status with stdout on /dev/full (text)" 1 "$(cat rc2)" &&
	expect_eq "error lines" 1 "$(grep -c "^zmtrace: writing output: No space left on device$" err2)"
'

# ------------------------------------------------------ signals in -- mode

# A command that counts the SIGINTs it gets in $PWD/ints and waits for
# $PWD/stop. A job of a non-interactive shell starts with SIGINT ignored,
# and bash cannot trap a signal ignored at entry: env resets it.
counter='trap "echo INT >>\"$0/ints\"" INT; echo $$ >"$0/cmd.pid"; while [ ! -e "$0/stop" ]; do sleep 0.05 & wait; done'
need_default_signal() {
	env --default-signal=INT true 2>/dev/null || skip_now "env --default-signal (coreutils 8.31) is missing"
}
ints() { if [ -f ints ]; then wc -l <ints; else say 0; fi; }

# in_tty COMMAND...: run COMMAND on a terminal of its own (script(1) makes a
# pty), as its session leader, stdout to zm.out: the terminal's Ctrl-C is a
# SIGINT from the kernel to its foreground process group. `tty_key KEY`
# types on it; the terminal shows in tty.out.
in_tty() {
	command -v script >/dev/null || skip_now "script(1) is missing"
	mkfifo keys &&
	SHELL=/bin/bash setsid script -qec "exec $(printf "%q " "$@") >$(printf %q "$PWD/zm.out")" \
		/dev/null <keys >tty.out 2>&1 &
	say $! >script.pid &&
	bg_track "$(cat script.pid)" &&
	exec 3>keys
}
tty_key() { printf "$1" >&3; }
# the pid of zmtrace under script (its child, by exec)
tty_zm_pid() { pgrep -P "$(cat script.pid)" | head -n 1; }

test_expect 'a Ctrl-C on the terminal reaches the -- COMMAND once: zmtrace does not send it again' '
	need_default_signal &&
	in_tty "$ZMTRACE" zombies --json -- env --default-signal=INT \
		bash -c "$counter" "$PWD" &&
	wait_until 10 grep -q "^zmtrace: tracing" tty.out &&
	wait_until 10 test -s cmd.pid &&
	zpid=$(tty_zm_pid) && bg_track "$zpid" &&
	tty_key "\003" &&
	wait_until 5 test -s ints &&
	sleep 0.5 &&
	expect_eq "SIGINTs the command got" 1 "$(ints)" &&
	expect_eq "zmtrace runs on after the first Ctrl-C" true "$(proc_alive "$zpid" && say true)" &&
	: >stop &&
	wait_until 10 zm_exited "$zpid" &&
	expect_eq "SIGINTs the command got in all" 1 "$(ints)" &&
	expect_eq "last line" summary "$(tail -n 1 zm.out | jq -r .event)"
'

test_expect 'a Ctrl-C on the terminal is not sent to a command in another session; the second one stops zmtrace' '
	need_default_signal &&
	in_tty "$ZMTRACE" zombies --json -- setsid env --default-signal=INT \
		bash -c "$counter" "$PWD" &&
	wait_until 10 grep -q "^zmtrace: tracing" tty.out &&
	wait_until 10 test -s cmd.pid &&
	zpid=$(tty_zm_pid) && bg_track "$zpid" && bg_track "$(cat cmd.pid)" &&
	tty_key "\003" &&
	sleep 1 &&
	expect_eq "SIGINTs the command got" 0 "$(ints)" &&
	expect_eq "zmtrace runs on after the first Ctrl-C" true "$(proc_alive "$zpid" && say true)" &&
	tty_key "\003" &&
	wait_until 10 zm_exited "$zpid" &&
	expect_eq "SIGINTs the command got in all" 0 "$(ints)" &&
	expect_eq "the command ended (SIGTERM)" false "$(proc_alive "$(cat cmd.pid)" && say true || say false)" &&
	expect_eq "last line" summary "$(tail -n 1 zm.out | jq -r .event)"
'

test_expect 'a SIGINT sent to zmtrace alone with kill() is passed on to the command, exactly once' '
	need_default_signal &&
	zm_start -- env --default-signal=INT bash -c "$counter" "$PWD" &&
	wait_until 10 test -s cmd.pid &&
	kill -INT "$(cat zm.pid)" &&
	wait_until 5 test -s ints &&
	sleep 0.5 &&
	expect_eq "SIGINTs the command got" 1 "$(ints)" &&
	: >stop &&
	zm_wait_exit 10 &&
	expect_zm_rc 0 &&
	expect_eq "SIGINTs the command got in all" 1 "$(ints)"
'

test_expect 'two SIGINTs end zmtrace and a command that ignores SIGTERM within 3 s (SIGKILL), status 137' '
	zm_start -- sh -c "trap \"\" INT TERM; echo \$\$ >cmd.pid; while :; do sleep 0.05; done" &&
	wait_until 10 test -s cmd.pid &&
	kill -INT "$(cat zm.pid)" &&
	sleep 0.3 &&
	expect_eq "the command survives the first SIGINT" true "$(proc_alive "$(cat cmd.pid)" && say true)" &&
	t0=$(now_ms) &&
	kill -INT "$(cat zm.pid)" &&
	zm_wait_exit 10 &&
	ms=$(($(now_ms) - t0)) &&
	expect_between "ms from the second SIGINT to the end" 1500 "$ms" "$((3500 * ZM_TIMEOUT_SCALE))" &&
	expect_zm_rc 137 &&
	expect_eq "last line" summary "$(tail -n 1 zm.out | jq -r .event)"
'

test_expect 'a third signal cuts the 2 s grace short; a command killed by the SIGTERM gives 143, never 0' '
	zm_start -- sh -c "trap \"\" INT TERM; echo \$\$ >cmd.pid; while :; do sleep 0.05; done" &&
	wait_until 10 test -s cmd.pid &&
	kill -INT "$(cat zm.pid)" && sleep 0.2 &&
	t0=$(now_ms) &&
	kill -INT "$(cat zm.pid)" && sleep 0.2 && kill -INT "$(cat zm.pid)" &&
	zm_wait_exit 10 &&
	ms=$(($(now_ms) - t0)) &&
	expect_le "ms from the second SIGINT to the end" "$ms" 1500 &&
	expect_zm_rc 137 &&
	zm=b &&
	zm_start -- sh -c "trap \"\" INT; echo \$\$ >cmd.pid; while :; do sleep 0.05; done" &&
	kill -INT "$(cat b.pid)" && sleep 0.2 && kill -INT "$(cat b.pid)" &&
	zm_wait_exit 10 &&
	expect_zm_rc 143
'

# ----------------------------------------------------------------- -o FILE

test_expect '-o FILE in -- mode: FILE (mode 0600, truncated) has only JSON records, stdout only the command'"'"'s' '
	printf "old line\nold line\n" >zm.json && chmod 644 zm.json &&
	timeout 60 "$ZMTRACE" zombies --json -o "$PWD/zm.json" -- sh -c \
		"echo before; \"\$0\" -o \"\$PWD/zf.out\" late 2 5; echo after; ls -l /proc/\$\$/fd" "$ZF" \
		>cmd.out 2>zm.err </dev/null &&
	expect_eq "lines in FILE" "$(wc -l <zm.json)" "$(jq -cR "fromjson? | objects" zm.json | wc -l)" &&
	expect_eq "last record" summary "$(tail -n 1 zm.json | jq -r .event)" &&
	for pid in $(zfall ".event == \"reaped\"" .pid); do
		expect_count zm.json ".event == \"reap\" and .pid == $pid" 1 "reap of $pid" || exit 1
	done &&
	expect_count zm.json ".event == \"zombie\" and .comm == \"zf-child\"" 2 "zombie records of zf-child" &&
	{ ! grep -q "^{" cmd.out || { diag "JSON on the command'"'"'s stdout:"; cat cmd.out >&2; exit 1; }; } &&
	expect_eq "the command'"'"'s lines" "before after" "$(grep -E "^(before|after)$" cmd.out | tr "\n" " " | sed "s/ $//")" &&
	{ ! grep -q "zm.json" cmd.out || { diag "the command inherited FILE:"; cat cmd.out >&2; exit 1; }; } &&
	expect_eq "FILE mode (kept when it existed)" 644 "$(stat -c %a zm.json)" &&
	rm zm.json &&
	(umask 0; timeout 60 "$ZMTRACE" zombies -o "$PWD/zm.json" -- true >cmd.out 2>zm.err </dev/null) &&
	expect_eq "mode of a new FILE" 600 "$(stat -c %a zm.json)" &&
	grep -q "^0 zombies, 0 reaped" zm.json &&
	expect_eq "stdout" "" "$(cat cmd.out)"
'

test_expect '-o FILE that cannot be opened: one line, status 2, nothing traced' '
	run_rc rc timeout 20 "$ZMTRACE" zombies -o /nonexistent-dir/zm.json -- true >out 2>err </dev/null &&
	expect_eq "status" 2 "$(cat rc)" &&
	expect_eq "stderr" "zmtrace: cannot open /nonexistent-dir/zm.json: No such file or directory" "$(cat err)" &&
	expect_eq "stdout" "" "$(cat out)"
'

# ----------------------------------------------------- zombies left at the end

test_expect 'the summary lists the zombies still unreaped, oldest first, with their parent and age' '
	zm_start -c zf-leaker &&
	zf_start leak 3 --until-signal &&
	wait_for_zf ".event == \"ready\"" &&
	lpid=$(cat zf.pid) &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		wait_for_zm ".event == \"zombie\" and .pid == $pid" 1 10 || exit 1
	done &&
	sleep 0.5 &&
	zm_stop &&
	s=$(zm_summary) &&
	expect_eq "unreaped_total" 3 "$(say "$s" | jq .unreaped_total)" &&
	expect_eq "unreaped pids" "$(zfall ".event == \"child\"" .pid | sort -n | tr "\n" " ")" \
		"$(say "$s" | jq -r ".unreaped[].pid" | sort -n | tr "\n" " ")" &&
	expect_eq "entries with the leaker as parent, not pre-existing, aged 0.5 to 60 s" 3 \
		"$(say "$s" | jq "[.unreaped[] | select(.ppid == $lpid and .parent_comm == \"zf-leaker\" and .comm == \"zf-child\" and .preexisting == false and .zombie_ns >= 500000000 and .zombie_ns < 60000000000)] | length")" &&
	expect_eq "oldest first" true "$(say "$s" | jq "[.unreaped[].zombie_ns] as \$a | \$a == (\$a | sort | reverse)")" &&
	expect_summary_parent "$lpid" 3 3 zf-leaker
'

test_expect 'zombies there before tracing are listed as pre-existing; the text summary shows "Still zombies:"' '
	zf_start preexist 2 &&
	wait_for_zf ".event == \"ready\"" &&
	fpid=$(cat zf.pid) &&
	zm_start -p "$fpid" &&
	zm_stop &&
	s=$(zm_summary) &&
	expect_eq "unreaped_total" 2 "$(say "$s" | jq .unreaped_total)" &&
	expect_eq "pre-existing entries of zf-pre" 2 \
		"$(say "$s" | jq "[.unreaped[] | select(.ppid == $fpid and .parent_comm == \"zf-pre\" and .preexisting)] | length")" &&
	zm=t &&
	zm_start_human -p "$fpid" &&
	zm_stop &&
	{ grep -q "^Still zombies:" t.out || { diag "no Still zombies: in"; cat t.out >&2; exit 1; }; } &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		grep -Eq "^ *$pid +zf-child +$fpid +zf-pre +>[0-9]" t.out ||
		{ diag "no line for zombie $pid of $fpid:"; cat t.out >&2; exit 1; }
	done
'

test_expect 'the text summary lists 10 unreaped zombies and says how many more' '
	zm_start_human -c zf-leaker &&
	zf_start leak 13 --until-signal &&
	wait_for_zf ".event == \"ready\"" &&
	lpid=$(cat zf.pid) &&
	sleep 0.3 &&
	zm_stop &&
	grep -q "^Still zombies:" zm.out &&
	expect_eq "zombie lines after Still zombies:" 10 \
		"$(sed -n "/^Still zombies:/,\$p" zm.out | grep -Ec "^ *[0-9]+ +zf-child +$lpid +zf-leaker ")" &&
	grep -q "^\.\.\. 3 more" zm.out
'

# Zombies made while zmtrace starts are reported with their real exit, not
# as pre-existing. Eight factories each make a zombie every ~20 ms, so some
# exit between the attach and the /proc scan. A pre-existing zombie must
# have exited before every exit zmtrace saw (those came after the attach).
test_expect 'zombies made while zmtrace starts are not taken for pre-existing ones' '
	for j in 1 2 3 4 5 6 7 8; do
		bg_start gen$j "$ZF" -o "$PWD/gen$j.facts" late 2000 20 || exit 1
	done &&
	sleep 0.3 &&
	for i in 1 2 3 4 5 6; do
		zm=z$i &&
		zm_start -c zf-late &&
		zm_stop || exit 1
	done &&
	cleanup_bg &&
	cat gen*.facts >facts &&
	for i in 1 2 3 4 5 6; do
		first_seen=$(jq -R "fromjson? | select(.event == \"zombie\" and .preexisting == false) | .ts_ns" z$i.out | sort -n | head -n 1) &&
		[ -n "$first_seen" ] || { diag "run $i saw no exit"; exit 1; }
		jq -rR "fromjson? | select(.event == \"zombie\" and .preexisting) | \"\(.pid) \(.ts_ns)\"" z$i.out >pre &&
		while read -r pid found; do
			# the process that had this pid when it was found
			t_exit=$(jq -R "fromjson? | select(.event == \"reaped\" and .pid == $pid and .t_exit < $found) | .t_exit" facts | sort -n | tail -n 1) &&
			[ -n "$t_exit" ] || continue
			[ "$t_exit" -lt "$first_seen" ] ||
			{ diag "run $i: zombie $pid (exit at $t_exit) reported as pre-existing, after an exit seen at $first_seen"; exit 1; }
		done <pre || exit 1
	done
'

# ------------------------------------------------------------ narrow text

# Raise pid_max and set the next pid so that the workload gets 7-digit pids;
# both are put back.
big_pids() {
	local old rc
	old=$(cat /proc/sys/kernel/pid_max) &&
	{ [ "$old" -ge 1100000 ] || say 1100000 >/proc/sys/kernel/pid_max; } &&
	say 1000000 >/proc/sys/kernel/ns_last_pid || { say "$old" >/proc/sys/kernel/pid_max; return 2; }
	"$@"
	rc=$?
	say "$old" >/proc/sys/kernel/pid_max
	return $rc
}

# A subreaper (perl: prctl has no shell command) that reaps the zombies a
# leaker left it 50 ms late: a 6-character zombie time.
subreaper='
	my %nr = (x86_64 => 157, aarch64 => 167);
	my $nr = $nr{(POSIX::uname())[4]} or exit 77;
	syscall($nr, 36, 1, 0, 0, 0) == 0 or exit 77;	# PR_SET_CHILD_SUBREAPER
	system(@ARGV) == 0 or exit 1;
	select(undef, undef, undef, 0.05);
	1 while waitpid(-1, 0) > 0;
'

test_expect 'with 7-digit pids, reparented REAP lines fit 80 columns and name the reaper honestly' '
	[ -w /proc/sys/kernel/ns_last_pid ] || skip_now "cannot set the next pid"
	command -v perl >/dev/null || skip_now "perl is missing"
	big_pids zm_run_human -- sh -c "\"\$0\" -o \"\$PWD/zf.out\" orphan 3 --subreaper &&
		perl -MPOSIX -e \"\$1\" \"\$0\" -o \"\$PWD/leak.out\" leak 2 --hold-ms 0" "$ZF" "$subreaper"
	rc=$?
	[ "$rc" = 2 ] && skip_now "cannot raise pid_max"
	[ "$(cat zm.rc)" = 77 ] && skip_now "no PR_SET_CHILD_SUBREAPER here"
	[ "$rc" = 0 ] && expect_zm_rc 0 &&
	top=$(zfget ".event == \"start\"" .pid) &&
	expect_le "the factory has a 7-digit pid" 1000000 "$top" &&
	grep " REAP " zm.out >reaps &&
	awk "\$6 == \"zf-middle\" || \$6 == \"zf-leaker\"" reaps >orphans &&
	expect_eq "reparented REAP lines" 5 "$(wc -l <orphans)" &&
	{ awk "length > 80 { print; bad = 1 } END { exit bad }" zm.out >wide ||
	  { diag "lines wider than 80 columns:"; cat wide >&2; exit 1; }; } &&
	{ ! grep -q "[*]" reaps || { diag "a bare *:"; cat reaps >&2; exit 1; }; } &&
	while read -r when ev pid comm ppid parent info; do
		if [ "$parent" = zf-middle ]; then by=$top; else by="[0-9]{7}"; fi
		say "$info" | grep -Eq "^[<>]?[0-9][0-9a-z.]* (by $by( [^ ]+)?|orphan)\$" ||
		{ diag "INFO \"$info\" does not name the reaper"; cat reaps >&2; exit 1; }
	done <orphans &&
	expect_eq "zf-leaker zombies (50 ms, no room for the pid) shown as orphans" 2 \
		"$(awk "\$6 == \"zf-leaker\" && \$NF == \"orphan\"" reaps | wc -l)"
'

test_done
