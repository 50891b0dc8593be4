#!/bin/bash
test_description='zmtrace rss: figures against /proc, exec and exit, --threshold, --sample, -p/-c/-- filters, fork'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rss-lib.sh"

# ------------------------------------------------------ figures vs /proc

test_expect 'after a 64 MiB allocation, the last rss event agrees with the VmRSS/RssAnon/VmSize the process read (256K and 1M thresholds)' '
	for th in 256 1024; do
		rm -f hold.out &&
		rss_start --threshold "${th}K" -- "$MW" -o "$PWD/hold.out" hold 64 || exit 1
		wait_for_json hold.out ".event == \"status\" and .what == \"full\"" || { mw_diag hold; exit 1; }
		pid=$(mw_pid hold) &&
		kill -USR1 "$pid" &&
		zm_wait_exit && expect_zm_rc 0 || exit 1
		rss=$(mw_status hold full vmrss_kb) anon=$(mw_status hold full rss_anon_kb) &&
		vsz=$(mw_status hold full vmsize_kb) || exit 1
		last=$(rss_of "$pid" | jq -cs "map(select(.why != \"exit\")) | last") &&
		diag "threshold ${th}K: /proc after the allocation: VmRSS $rss, RssAnon $anon, VmSize $vsz kB; last event: $last" &&
		expect_near "threshold ${th}K: last event rss_kb vs VmRSS (threshold + per-CPU lag $PCPU_SLOP_KB kB)" \
			"$rss" "$(say "$last" | jq .rss_kb)" $((th + PCPU_SLOP_KB)) &&
		expect_near "threshold ${th}K: last event anon_kb vs RssAnon" \
			"$anon" "$(say "$last" | jq .anon_kb)" $((th + PCPU_SLOP_KB)) &&
		expect_near "threshold ${th}K: last event vsize_kb vs VmSize" \
			"$vsz" "$(say "$last" | jq .vsize_kb)" "$th" &&
		expect_le "threshold ${th}K: events of the 64 MiB (at least 64 MiB / threshold - 2)" \
			$((65536 / th - 2)) "$(rss_of "$pid" | jq -s "map(select(.why == \"change\")) | length")" || exit 1
	done
'

test_expect "the exit event carries the final figures: rss_kb vs VmRSS read last (within $FIG_TOL_KB kB: path $RSS_PATH), vsize_kb = VmSize" '
	rss_run -- "$MW" -o "$PWD/hold.out" --tail-ms 1 plateau 48 0.2 &&
	expect_zm_rc 0 &&
	pid=$(mw_pid hold) &&
	ev=$(rss_of "$pid" | jq -c "select(.why == \"exit\")") &&
	diag "exit event: $ev" &&
	diag "exit status fact: $(jget hold.out ".what == \"exit\"" .)" &&
	expect_near "exit rss_kb vs VmRSS right before exit" \
		"$(mw_status hold exit vmrss_kb)" "$(say "$ev" | jq .rss_kb)" "$FIG_TOL_KB" &&
	expect_eq "exit vsize_kb vs VmSize right before exit" \
		"$(mw_status hold exit vmsize_kb)" "$(say "$ev" | jq .vsize_kb)"
'

# ---------------------------------------------------------- exec and exit

test_expect 'a sawtooth run under --: one exec event, one exit event last, whose peaks cover every figure seen' '
	rss_run -- "$MW" -o "$PWD/saw.out" sawtooth 24 0.4 1.0 &&
	expect_zm_rc 0 &&
	pid=$(mw_pid saw) &&
	expect_eq "exec events of the workload" 1 "$(rss_of "$pid" | jq -s "map(select(.why == \"exec\")) | length")" &&
	expect_eq "exit events of the workload" 1 "$(rss_of "$pid" | jq -s "map(select(.why == \"exit\")) | length")" &&
	expect_eq "exec event comm (the program exec sets)" mem_workload \
		"$(rss_of "$pid" | jq -r "select(.why == \"exec\") | .comm")" &&
	expect_le "exec event ts <= the workload started" \
		"$(rss_of "$pid" | jq "select(.why == \"exec\") | .ts_ns")" "$(jget saw.out ".event == \"start\"" .ts_ns)" &&
	expect_eq "the last event of the workload" exit "$(rss_of "$pid" | tail -n 1 | jq -r .why)" &&
	ev=$(rss_of "$pid" | jq -c "select(.why == \"exit\")") &&
	diag "exit event: $ev" &&
	expect_eq "exit event comm" mw-sawtooth "$(say "$ev" | jq -r .comm)" &&
	expect_le "exit ts >= the last status the workload read" \
		"$(mw_status saw exit ts_ns)" "$(say "$ev" | jq .ts_ns)" &&
	maxr=$(rss_of "$pid" | jq -s "map(.rss_kb) | max") &&
	maxv=$(rss_of "$pid" | jq -s "map(.vsize_kb) | max") &&
	peak=$(say "$ev" | jq .rss_kb_peak) && vpeak=$(say "$ev" | jq .vsize_kb_peak) &&
	topr=$(jall saw.out ".what == \"peak\"" .vmrss_kb | sort -n | tail -n 1) &&
	expect_le "rss_kb_peak >= every rss_kb seen" "$maxr" "$peak" &&
	expect_le "vsize_kb_peak >= every vsize_kb seen" "$maxv" "$vpeak" &&
	expect_near "rss_kb_peak vs VmRSS at the tops of the sawtooth" "$topr" "$peak" "$PCPU_SLOP_KB" &&
	expect_eq "vsize_kb_peak vs VmPeak read right before exit" "$(mw_status saw exit vmpeak_kb)" "$vpeak" &&
	expect_le "exit rss_kb is below the peak by the 12 MiB the last cycle had not reached" \
		"$(say "$ev" | jq .rss_kb)" $((peak - 10 * 1024)) &&
	s=$(rss_summary_of "$pid") &&
	diag "summary entry: $s" &&
	expect_eq "summary rss_kb_max" "$peak" "$(say "$s" | jq .rss_kb_max)" &&
	expect_eq "summary vsize_kb_max" "$vpeak" "$(say "$s" | jq .vsize_kb_max)" &&
	expect_eq "summary rss_kb_last" "$(say "$ev" | jq .rss_kb)" "$(say "$s" | jq .rss_kb_last)" &&
	expect_eq "summary exited" true "$(say "$s" | jq .exited)" &&
	expect_eq "summary oom_killed" false "$(say "$s" | jq .oom_killed)"
'

test_expect 'a traced shell that execs the workload: its pid gets an exec event for each program, with the new comm' '
	rss_run -- sh -c "exec \"\$0\" -o \"\$PWD/w.out\" plateau 8 0.1" "$MW" &&
	expect_zm_rc 0 &&
	pid=$(mw_pid w) &&
	expect_eq "the shell and the workload are one pid" "$pid" "$(zm_summary | jq "[.processes[].pid] | unique | .[0]")" &&
	expect_eq "comms of the pid, in order, without repeats" "sh mem_workload mw-plateau" \
		"$(rss_of "$pid" | jq -r .comm | grep -v "^zmtrace$" | uniq | tr "\n" " " | sed "s/ $//")" &&
	expect_eq "comms of the exec events" "sh mem_workload" \
		"$(rss_of "$pid" | jq -r "select(.why == \"exec\") | .comm" | tr "\n" " " | sed "s/ $//")" &&
	expect_le "the second exec event precedes the workload'"'"'s start" \
		"$(rss_of "$pid" | jq -s "map(select(.why == \"exec\")) | .[1].ts_ns")" "$(jget w.out ".event == \"start\"" .ts_ns)" &&
	expect_eq "exit events" 1 "$(rss_of "$pid" | jq -s "map(select(.why == \"exit\")) | length")"
'

# never_falls PID SLACK_KB: PID's rss events, in output order, never fall by
# more than SLACK_KB from one to the next, except at an exec event (a new mm).
never_falls() {
	local bad
	bad=$(rss_of "$1" | jq -cs --argjson d "$2" '
		[range(1; length) as $i | select(.[$i].why != "exec" and .[$i].rss_kb < .[$i - 1].rss_kb - $d) |
		 {from: .[$i - 1] | {rss_kb, why, comm}, to: .[$i] | {rss_kb, why, comm, actor}}]')
	[ "$bad" = "[]" ] && return 0
	diag "pid $1: rss falls by more than $2 kB between events: $bad"
	rss_show "$1"
	return 1
}

test_expect 'a process that only grows is never reported smaller, except at its exec (8 runs under --)' '
	for i in 1 2 3 4 5 6 7 8; do
		rss_run -- "$MW" -o "$PWD/g$i.out" grow 64 0.2 && expect_zm_rc 0 || exit 1
		mv zm.out "zm$i.out" && pid=$(mw_pid "g$i") &&
		zm=zm$i never_falls "$pid" $((1024 + PCPU_SLOP_KB)) || exit 1
	done
'

# -------------------------------------------------------------- threshold

# The threshold is judged on the kernel's shared counts; the figures are
# the exact sums, which differ from those by the per-CPU lag at each end.
# On the shared path the figures are the counts judged, so the spacing of
# successive events can be checked exactly there.
test_expect '--threshold 256K gives about 16 times the events of --threshold 4M for the same 64 MiB (two zmtraces at once, shared path: events at least the threshold apart)' '
	mw_start w --go grow 128 0.5 &&
	wait_for_json w.out ".event == \"ready\"" &&
	pid=$(mw_pid w) &&
	ZMTRACE_RSS_PATH=shared zm=small rss_start --threshold 256K -p "$pid" &&
	ZMTRACE_RSS_PATH=shared zm=big rss_start --threshold 4M -p "$pid" &&
	kill -USR1 "$pid" &&
	mw_wait_exit w &&
	zm=small wait_for_zm ".event == \"rss\" and .pid == $pid and .why == \"exit\"" &&
	zm=big wait_for_zm ".event == \"rss\" and .pid == $pid and .why == \"exit\"" &&
	zm=small zm_stop && zm=big zm_stop &&
	grown=$(($(mw_status w end vmrss_kb) - $(mw_status w begin vmrss_kb))) &&
	ns=$(zm=small rss_of "$pid" | jq -s "map(select(.why == \"change\")) | length") &&
	nb=$(zm=big rss_of "$pid" | jq -s "map(select(.why == \"change\")) | length") &&
	diag "grown $grown kB; events: 256K -> $ns, 4M -> $nb" &&
	expect_between "events at 256K (grown / 256 +- 10%)" $((grown / 256 * 9 / 10)) "$ns" $((grown / 256 * 11 / 10 + 1)) &&
	expect_between "events at 4M (grown / 4096, +- 1)" $((grown / 4096 - 1)) "$nb" $((grown / 4096 + 1)) &&
	expect_between "ratio x10 (16 = 160)" 130 $((ns * 10 / nb)) 200 &&
	for z in small big; do
		th=$([ "$z" = small ] && say 256 || say 4096) prev=0
		for r in $(zm=$z rss_of "$pid" | jq "select(.why == \"change\") | .rss_kb"); do
			[ "$prev" = 0 ] || expect_le "$z: successive events differ by at least the threshold" \
				"$th" $((r - prev)) || exit 1
			prev=$r
		done
	done
'

test_expect "each rss_stat path (linear, pieces, table, every, shared) reports a 64 MiB allocation: the same events, exact figures but on the shared path" '
	[ "$RSS_PATH" != shared ] || skip_now "this kernel gives no per-CPU access: only the shared path"
	# ("pieces" on a machine with one group of CPUs: a piece per CPU.)
	case $RSS_PATH in
	linear) paths="linear pieces table every shared" ;;
	pieces) paths="pieces table every shared" ;;
	*) paths="table every shared" ;;
	esac
	for p in $paths; do
		rm -f hold.out &&
		ZMTRACE_RSS_PATH=$p zm=$p rss_start -v --threshold 1M -- "$MW" -o "$PWD/hold.out" hold 64 || exit 1
		wait_for_json hold.out ".event == \"status\" and .what == \"full\"" || { mw_diag hold; exit 1; }
		pid=$(mw_pid hold) && kill -USR1 "$pid" &&
		zm=$p zm_wait_exit && zm=$p expect_zm_rc 0 || exit 1
		expect_eq "$p: the path zmtrace took" "$p" "$(sed -n "s/^zmtrace: rss_stat path: //p" "$p.err")" || exit 1
		rss=$(mw_status hold full vmrss_kb) &&
		ev=$(zm=$p rss_of "$pid" | jq -c "select(.why == \"exit\")") &&
		n=$(zm=$p rss_of "$pid" | jq -s "map(select(.why == \"change\")) | length") &&
		diag "$p: VmRSS $rss kB; $n change events; exit event $ev" &&
		expect_between "$p: change events for 64 MiB at 1M (62..66)" 62 "$n" 66 &&
		if [ "$p" = shared ]; then
			expect_near "$p: exit rss_kb vs VmRSS (per-CPU lag)" "$rss" "$(say "$ev" | jq .rss_kb)" "$PCPU_SLOP_KB"
		else
			expect_near "$p: exit rss_kb vs VmRSS (exact)" "$rss" "$(say "$ev" | jq .rss_kb)" 64
		fi || exit 1
	done
'

# --------------------------------------------------------------- sampling

# The ids of the BPF programs zmtrace (pid $1) holds, from its fds' fdinfo.
prog_names_of() {
	local f id
	for f in /proc/"$1"/fdinfo/*; do
		id=$(sed -n "s/^prog_id:[[:space:]]*//p" "$f" 2>/dev/null)
		[ -n "$id" ] && bpftool prog show id "$id" --json 2>/dev/null | jq -r .name
	done | sort -u
}

test_expect '--sample 99: a busy grower is seen through samples, with no rss_stat program loaded' '
	command -v bpftool >/dev/null || skip_now "bpftool is missing"
	rss_start --sample 99 -- "$MW" -o "$PWD/w.out" --busy --tail-ms 600 grow 16 2 &&
	zpid=$(cat zm.pid) &&
	progs=$(prog_names_of "$zpid" | tr "\n" " ") &&
	diag "programs zmtrace holds: $progs" &&
	case " $progs " in *" zm_sample "*) ;; *) diag "no zm_sample among them"; exit 1 ;; esac &&
	case " $progs " in *" zm_rss "*) diag "zm_rss is loaded in sampling mode"; exit 1 ;; esac &&
	zm_wait_exit && expect_zm_rc 0 &&
	pid=$(mw_pid w) &&
	nsamp=$(rss_of "$pid" | jq -s "map(select(.why == \"sample\")) | length") &&
	nchg=$(rss_of "$pid" | jq -s "map(select(.why == \"change\")) | length") &&
	diag "events: $nsamp sample, $nchg change" &&
	expect_le "sample events (32 MiB at the 1 MiB threshold)" 20 "$nsamp" &&
	expect_eq "change events (there is no per-fault hook)" 0 "$nchg" &&
	last=$(rss_of "$pid" | jq -cs "map(select(.why == \"sample\")) | last") &&
	expect_near "last sample rss_kb vs VmRSS at the end" "$(mw_status w end vmrss_kb)" \
		"$(say "$last" | jq .rss_kb)" $((1024 + PCPU_SLOP_KB)) &&
	expect_eq "exit events" 1 "$(rss_of "$pid" | jq -s "map(select(.why == \"exit\")) | length")"
'

test_expect 'without --sample, zm_rss is loaded and zm_sample is not' '
	command -v bpftool >/dev/null || skip_now "bpftool is missing"
	rss_start -c zz-nothing &&
	progs=$(prog_names_of "$(cat zm.pid)" | tr "\n" " ") &&
	diag "programs zmtrace holds: $progs" &&
	case " $progs " in *" zm_rss "*) ;; *) diag "no zm_rss among them"; exit 1 ;; esac &&
	case " $progs " in *" zm_sample "*) diag "zm_sample is loaded"; exit 1 ;; esac &&
	zm_stop
'

# ---------------------------------------------------------------- filters

test_expect '-p PID: only that process appears, not another one growing at the same time' '
	mw_start a --go grow 64 0.4 &&
	mw_start b --go grow 64 0.4 &&
	wait_for_json a.out ".event == \"ready\"" && wait_for_json b.out ".event == \"ready\"" &&
	pa=$(mw_pid a) && pb=$(mw_pid b) &&
	rss_start -p "$pa" &&
	kill -USR1 "$pa" "$pb" &&
	mw_wait_exit a && mw_wait_exit b &&
	wait_for_zm ".event == \"rss\" and .pid == $pa and .why == \"exit\"" &&
	zm_stop &&
	expect_eq "pids in rss events" "$pa" "$(zmall ".event == \"rss\"" .pid | sort -u | tr "\n" " " | sed "s/ $//")" &&
	expect_le "change events of the selected one" 20 "$(rss_of "$pa" | jq -s "map(select(.why == \"change\")) | length")" &&
	expect_eq "pids in the summary" "$pa" "$(zm_summary | jq -r "[.processes[].pid] | map(tostring) | join(\" \")")"
'

test_expect '-c COMM: only the process exec-ed under that name appears' '
	ln -s "$MW" mw-pick && ln -s "$MW" mw-other &&
	rss_start -c mw-pick &&
	./mw-pick -o "$PWD/a.out" --name mw-pick grow 64 0.4 &&
	./mw-other -o "$PWD/b.out" --name mw-other grow 64 0.4 &&
	pa=$(mw_pid a) && pb=$(mw_pid b) &&
	wait_for_zm ".event == \"rss\" and .pid == $pa and .why == \"exit\"" &&
	zm_stop &&
	expect_eq "pids in rss events" "$pa" "$(zmall ".event == \"rss\"" .pid | sort -u | tr "\n" " " | sed "s/ $//")" &&
	expect_eq "comms in rss events" mw-pick "$(zmall ".event == \"rss\"" .comm | sort -u | tr "\n" " " | sed "s/ $//")" &&
	expect_le "change events of the selected one" 20 "$(rss_of "$pa" | jq -s "map(select(.why == \"change\")) | length")"
'

test_expect '-c COMM: a process that names itself COMM (prctl) after exec is followed like one exec-ed as COMM' '
	rss_start -c mw-renamed &&
	"$MW" -o "$PWD/a.out" --name mw-renamed grow 64 0.4 &&
	pa=$(mw_pid a) &&
	wait_for_zm ".event == \"rss\" and .pid == $pa and .why == \"exit\"" &&
	zm_stop &&
	n=$(rss_of "$pa" | jq -s "map(select(.why == \"change\" or .why == \"first\")) | length") &&
	{ [ "$n" -ge 20 ] || { diag "change events of the renamed process: expected >= 20 (its 25 MiB growth), got $n"; rss_show "$pa"; exit 1; }; }
'

test_expect '--: only the command and its descendants appear, not a process growing outside' '
	mw_start out --go grow 64 0.4 &&
	wait_for_json out.out ".event == \"ready\"" &&
	po=$(mw_pid out) &&
	kill -USR1 "$po" &&
	rss_run -- sh -c "\"\$0\" -o \"\$PWD/a.out\" grow 64 0.3 & \"\$0\" -o \"\$PWD/b.out\" plateau 16 0.3 & wait" "$MW" &&
	expect_zm_rc 0 &&
	mw_wait_exit out &&
	pa=$(mw_pid a) && pb=$(mw_pid b) &&
	sh=$(jget a.out ".event == \"start\"" .ppid) &&
	expect_eq "the workloads are children of the command" "$sh" "$(jget b.out ".event == \"start\"" .ppid)" &&
	expect_eq "pids in rss events" "$(printf "%s\n" "$sh" "$pa" "$pb" | sort -n | tr "\n" " ")" \
		"$(zmall ".event == \"rss\"" .pid | sort -nu | tr "\n" " ")" &&
	expect_eq "events of the outside process" 0 "$(rss_of "$po" | wc -l)" &&
	expect_le "change events of the grower" 15 "$(rss_of "$pa" | jq -s "map(select(.why == \"change\")) | length")"
'

# ------------------------------------------------------------------- fork

test_expect 'a process that forks is not charged with its children'"'"'s copies of its memory' '
	rss_run -- "$MW" -o "$PWD/f.out" forker 32 3 &&
	expect_zm_rc 0 &&
	pid=$(mw_pid f) &&
	full=$(mw_status f full vmrss_kb) && t=$(mw_status f full ts_ns) &&
	low=$(rss_of "$pid" | jq -s "map(select(.ts_ns > $t) | .rss_kb) | min // empty") &&
	diag "VmRSS after the allocation: $full kB; lowest rss_kb reported for pid $pid after it: ${low:-none}" &&
	{ [ -z "$low" ] || expect_le "lowest rss_kb of the parent after its allocation" \
		$((full - 1024 - PCPU_SLOP_KB)) "$low" || { rss_show "$pid"; exit 1; }; } &&
	expect_eq "events of the parent that another task caused (actor)" 0 \
		"$(rss_of "$pid" | jq -s "map(select(.ts_ns > $t and .actor != null)) | length")" &&
	for c in $(jall f.out ".event == \"child\"" .pid); do
		expect_eq "exit events of child $c" 1 "$(rss_of "$c" | jq -s "map(select(.why == \"exit\")) | length")" || exit 1
	done &&
	s=$(rss_summary_of "$pid") &&
	expect_le "summary rss_kb_last of the parent" $((full - 1024 - PCPU_SLOP_KB)) "$(say "$s" | jq .rss_kb_last)"
'

test_done
