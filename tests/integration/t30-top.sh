#!/bin/bash
test_description='zmtrace top in a real terminal (tmux, 80x24): the screen, the keys, the way out'
. "$(dirname "$0")/../lib.sh"

# The memory workload (tools/mem_workload), built like the factory when
# missing or stale.
MW=${MW:-$TEST_SRC_ROOT/tools/mem_workload}
mw_src=$TEST_SRC_ROOT/tools/mem_workload.c
if [ -z "$lib_prereq$lib_prereq_fail" ] && [ "$MW" = "$TEST_SRC_ROOT/tools/mem_workload" ] &&
   [ -f "$mw_src" ] && { [ ! -x "$MW" ] || [ "$mw_src" -nt "$MW" ]; }; then
	${CC:-cc} -O2 -Wall -Wextra -Iinclude -o "$MW" "$mw_src" 2>/dev/null ||
		${CC:-cc} -O2 -Wall -Wextra -I"$TEST_SRC_ROOT/include" -o "$MW" "$mw_src" ||
		lib_prereq_fail="cannot build $MW"
fi
if [ -z "$lib_prereq$lib_prereq_fail" ] && ! command -v tmux >/dev/null; then
	lib_prereq="tmux is not installed"
fi

# ------------------------------------------------------------ the terminal

# Each test has its own tmux server (socket in its directory, no config),
# one 80x24 window. The pane runs zmtrace top with stderr to zm.err, then
# writes its status to zm.rc and the terminal's modes after it to
# stty.after, and stays (so the screen left behind can be checked).
tm() { tmux -S "$PWD/tmux.sock" -f /dev/null "$@"; }

# top_start [ARGS...]: start `zmtrace top ARGS` in the pane and wait (30 s
# at most) until its title line shows; zm.pid gets its pid.
top_start() {
	local args='' a pane pid
	for a; do args="$args '$a'"; done
	cat >pane.sh <<-EOF
		ulimit -c 0
		stty -a >stty.before
		"$ZMTRACE" top $args 2>zm.err
		echo \$? >zm.rc
		stty -a >stty.after
		exec sleep 600
	EOF
	tm new-session -d -s t30 -x 80 -y 24 -c "$PWD" "sh pane.sh" || return 1
	bg_track "$(tm display -p -t t30 '#{pid}')"
	wait_screen '^zmtrace top ' 30 || return 1
	pane=$(tm display -p -t t30 '#{pane_pid}') &&
	pid=$(pgrep -P "$pane" -x zmtrace | head -n 1) &&
	[ -n "$pid" ] || { diag "no zmtrace under the pane's shell $pane"; return 1; }
	say "$pid" >zm.pid
	bg_track "$pid"
}

# The pane as it shows now, in screen.txt (one line per row, trailing
# blanks cut).
capture() { tm capture-pane -p -t t30 >screen.txt 2>/dev/null; }
screen_has() { capture && grep -Eq -- "$1" screen.txt; }

# wait_screen REGEX [TIMEOUT_S]: until a line of the pane matches.
wait_screen() {
	wait_until "${2:-10}" screen_has "$1" && return 0
	diag "timed out after $(scaled "${2:-10}") s waiting for /$1/ on the screen:"
	show_screen
	return 1
}

show_screen() {
	capture
	sed 's/^/#   |/' screen.txt >&2
	[ -s zm.err ] && { diag "--- zm.err ---"; sed 's/^/#   /' zm.err >&2; }
	return 0
}

key() { tm send-keys -t t30 "$@"; }

top_exited() { [ -s zm.rc ]; }

# wait_top_exit [TIMEOUT_S]: until zmtrace has exited and the pane wrote
# its status.
wait_top_exit() {
	wait_until "${1:-10}" top_exited && return 0
	diag "zmtrace top did not exit within $(scaled "${1:-10}") s"
	show_screen
	return 1
}

# expect_restored: the terminal's modes are those from before zmtrace.
expect_restored() {
	wait_until 5 test -s stty.after || { diag "no stty.after"; return 1; }
	cmp -s stty.before stty.after && return 0
	diag "terminal modes differ after zmtrace top:"
	diff stty.before stty.after | sed 's/^/#   /' >&2
	return 1
}

# wider_than COLS <FILE: the lines longer than COLS characters (not bytes:
# the sparkline is UTF-8; mawk's length counts bytes).
wider_than() {
	local LC_ALL=C.UTF-8 l
	while IFS= read -r l; do
		[ "${#l}" -gt "$1" ] && say "$l"
	done
	return 0
}
width() { local LC_ALL=C.UTF-8 l=$1; say "${#l}"; }

# expect_fits COLS ROWS: the screen has at most ROWS lines, none wider
# than COLS characters.
expect_fits() {
	capture
	local rows wide
	rows=$(wc -l <screen.txt)
	wide=$(wider_than "$1" <screen.txt)
	[ "$rows" -le "$2" ] && [ -z "$wide" ] && return 0
	diag "screen larger than $1x$2 ($rows lines; too wide: $wide)"
	show_screen
	return 1
}

# The process table's rows (after its header): "PID COMM RSS VSIZE GROW/s".
proc_rows() {
	capture
	awk '/^ +PID COMM +RSS +VSIZE +GROW\/s/ { on = 1; next } on && /^ *[0-9]+ / { print }' screen.txt
}

# kib SIZE: "512K", "1.5M", "2.0G", "+10.0M", "-3K", "0", "-" as KiB.
to_kib() {
	awk -v s="$1" 'BEGIN {
		sign = 1
		if (s == "-" || s == "0") { print 0; exit }
		if (s ~ /^[-+]/) { if (s ~ /^-/) sign = -1; s = substr(s, 2) }
		u = substr(s, length(s)); v = substr(s, 1, length(s) - 1) + 0
		m = (u == "K") ? 1 : (u == "M") ? 1024 : (u == "G") ? 1048576 : (u == "T") ? 1073741824 : 0
		printf "%d\n", sign * v * m
	}'
}

# column_of rss|grow: that column of the process table's rows on stdin,
# cut at its fixed position (a comm may hold spaces).
column_of() {
	case $1 in
	rss) cut -c25-30 ;;
	grow) cut -c39-45 ;;
	esac
}
# expect_sorted rss|grow WHAT: the column never rises from a row to the next.
expect_sorted() {
	local prev='' v k
	proc_rows | column_of "$1" | tr -d ' ' >col.txt
	[ -s col.txt ] || { diag "no process rows"; show_screen; return 1; }
	while read -r v; do
		k=$(to_kib "$v")
		if [ -n "$prev" ] && [ "$k" -gt "$prev" ]; then
			diag "$2: $v ($k KiB) below a smaller value ($prev KiB)"
			show_screen
			return 1
		fi
		prev=$k
	done <col.txt
}

# The row of pid PID in the process table.
proc_row() { proc_rows | awk -v p="$1" '$1 == p'; }
# Its position (1 = top), or 0.
proc_rank() { proc_rows | awk -v p="$1" '$1 == p { print NR; f = 1; exit } END { if (!f) print 0 }'; }

cleanup_tmux() { tm kill-server 2>/dev/null; return 0; }

run_rc() { # FILE COMMAND...: run it, its status to FILE
	local f=$1
	shift
	"$@"
	say $? >"$f"
}

# ------------------------------------------------------------------ tests

test_expect 'the screen comes up in 80x24: system memory, zombie section, process table; no line wider than 80' '
	top_start &&
	wait_screen "^ +PID COMM +RSS +VSIZE +GROW/s +TREND" &&
	capture &&
	grep -Eq "^zmtrace top +[0-9:]{8} +all processes .* sort RSS +h help$" screen.txt &&
	grep -Eq "^Mem [0-9.]+[KMGT] +used [0-9.]+[KMGT] +apps [0-9.]+[KMGT] [0-9]+% +buffers [0-9.]+[KMGT] +cache [0-9.]+[KMGT]$" screen.txt &&
	grep -Eq "^Swap [0-9.]+[KMGT]/[0-9.]+[KMGT]" screen.txt &&
	grep -q "^Parents with unreaped zombies: " screen.txt &&
	expect_eq "zmtrace itself in the table" 1 "$(proc_rows | awk -v p="$(cat zm.pid)" "\$1 == p && \$2 == \"zmtrace\"" | wc -l)" &&
	expect_fits 80 24 &&
	wait_screen "^Swap .* apps, last [0-9.]+s: .+ [0-9.]+[KMGT] \\+[0-9.]+[KMGT]$" 10 &&
	expect_fits 80 24 &&
	key q && wait_top_exit && cleanup_tmux
'

test_expect 'a parent leaking zombies shows with its count and age; a steady grower shows with its rate, marked LEAK?' '
	top_start &&
	zf_start leak 3 --until-signal &&
	wait_for_zf ".event == \"ready\"" &&
	lpid=$(cat zf.pid) &&
	wait_screen "^ +$lpid zf-leaker +3 +3 +[0-9.]+(ms|s)$" 10 &&
	wait_screen "^Parents with unreaped zombies: [0-9]+ \\([0-9]+ unreaped\\)" 1 &&
	grep -Eq "^ +PID PARENT +UNREAPED +ZOMBIES +OLDEST$" screen.txt &&
	age=$(awk -v p="$lpid" "\$1 == p { print \$5 }" screen.txt) &&
	case $age in *ms) ;; *s) expect_le "oldest age (s) of a zombie made seconds ago" "${age%%.*}" 30 ;; esac &&
	bg_start mw "$MW" -o "$PWD/mw.out" --name zt-grower grow 10 60 &&
	wait_until 10 grep -q "\"event\":\"start\"" mw.out &&
	mpid=$(cat mw.pid) &&
	key G &&
	wait_screen "^ +$mpid zt-grower " 10 &&
	wait_screen "^ +$mpid zt-grower +[0-9.]+[KMG] +[0-9.]+[KMG] +\\+[0-9.]+[KM] +LEAK\\? " 40 &&
	row=$(proc_row "$mpid") &&
	rate=$(to_kib "$(say "$row" | column_of grow | tr -d " ")") &&
	diag "grower row: $row" &&
	expect_between "GROW/s of a 10 MiB/s grower, KiB" 8192 "$rate" 12288 &&
	expect_fits 80 24 &&
	key q && wait_top_exit && expect_eq "status" 0 "$(cat zm.rc)" && cleanup_tmux
'

# The big process has its memory before zmtrace starts: flat from the
# start, growth 0 (one that allocates right after zmtrace started has a
# slope for a while, the fit of that step over the little time seen).
test_expect 'M sorts by RSS, G by growth: a big flat process leads under M, a grower under G' '
	bg_start big "$MW" -o "$PWD/big.out" --name zt-big plateau 400 120 &&
	wait_until 10 grep -q "\"what\":\"full\"" big.out &&
	top_start &&
	bg_start mw "$MW" -o "$PWD/mw.out" --name zt-grower grow 8 120 &&
	bpid=$(cat big.pid) && mpid=$(cat mw.pid) &&
	wait_screen "^ +$mpid zt-grower .* LEAK\\? " 40 &&
	key M && wait_screen "sort RSS" 5 && sleep 0.3 &&
	rb=$(proc_rank "$bpid") && rg=$(proc_rank "$mpid") &&
	diag "under M: zt-big at $rb, zt-grower at $rg" &&
	expect_le "zt-big shown" 1 "$rb" &&
	{ [ "$rg" = 0 ] || expect_le "zt-big above zt-grower under M" "$((rb + 1))" "$rg"; } &&
	expect_sorted rss "RSS under M" &&
	key G && wait_screen "sort growth" 5 && sleep 0.3 &&
	rb=$(proc_rank "$bpid") && rg=$(proc_rank "$mpid") &&
	diag "under G: zt-big at $rb, zt-grower at $rg" &&
	expect_le "zt-grower shown" 1 "$rg" &&
	{ [ "$rb" = 0 ] || expect_le "zt-grower above zt-big under G" "$((rg + 1))" "$rb"; } &&
	expect_sorted grow "GROW/s under G" &&
	key R && wait_screen "sort growth \\(rev\\)" 5 &&
	key N && wait_screen "sort PID +h help" 5 &&
	proc_rows | awk "{ print \$1 }" >pids && sort -n pids | cmp -s - pids &&
	key q && wait_top_exit && cleanup_tmux
'

test_expect 'q quits: status 0, the terminal modes are back, the screen is gone, the tracing line on stderr' '
	top_start &&
	key q &&
	wait_top_exit &&
	expect_eq "status" 0 "$(cat zm.rc)" &&
	expect_restored &&
	capture &&
	{ ! grep -q "^zmtrace top " screen.txt || { diag "the screen is still there"; show_screen; exit 1; }; } &&
	grep -q "^zmtrace: tracing memory and zombies of all processes" zm.err &&
	cleanup_tmux
'

test_expect 'a resize repaints at the new size; h shows the keys on the last line' '
	top_start &&
	tm resize-window -t t30 -x 100 -y 30 &&
	wait_screen "^zmtrace top .{75,}h help$" 5 &&
	expect_eq "title width at 100 columns" 100 "$(width "$(head -n 1 screen.txt)")" &&
	expect_fits 100 30 &&
	tm resize-window -t t30 -x 80 -y 24 &&
	wait_screen "^zmtrace top .{55,}h help$" 5 &&
	expect_eq "title width at 80 columns" 80 "$(width "$(head -n 1 screen.txt)")" &&
	key h &&
	wait_screen "^q quit +M memory +G growth" 5 &&
	expect_eq "the help line is the last row" 24 "$(grep -n "^q quit" screen.txt | cut -d: -f1)" &&
	expect_fits 80 24 &&
	key q && wait_top_exit && expect_restored && cleanup_tmux
'

test_expect 'SIGTERM and SIGQUIT end zmtrace top with the terminal restored' '
	top_start &&
	kill -TERM "$(cat zm.pid)" &&
	wait_top_exit &&
	expect_eq "status after SIGTERM" 0 "$(cat zm.rc)" &&
	expect_restored &&
	cleanup_tmux && rm -f zm.rc stty.after &&
	top_start &&
	kill -QUIT "$(cat zm.pid)" &&
	wait_top_exit &&
	expect_eq "status after SIGQUIT" 131 "$(cat zm.rc)" &&
	expect_restored &&
	cleanup_tmux
'

test_expect 'with -- COMMAND, its output stays off the screen (its stderr comes after) and its status is zmtrace'"'"'s' '
	top_start -- sh -c "echo OUT-NOISE; echo ERR-NOISE >&2; sleep 2; exit 3" &&
	grep -q "sh and descendants" screen.txt &&
	{ ! grep -q NOISE screen.txt || { diag "command output on the screen"; show_screen; exit 1; }; } &&
	wait_top_exit 15 &&
	expect_eq "status" 3 "$(cat zm.rc)" &&
	grep -q "^ERR-NOISE$" zm.err &&
	grep -q "^OUT-NOISE$" zm.err &&
	expect_restored &&
	cleanup_tmux
'

test_expect 'without a terminal: one 80-column text snapshot per interval, and a last one at the end' '
	timeout 30 "$ZMTRACE" top --interval 0.5 --duration 2.2 >out.txt 2>err.txt </dev/null
	rc=$?
	expect_eq "status" 0 "$rc" &&
	n=$(grep -c "^zmtrace top " out.txt) &&
	expect_between "snapshots" 4 "$n" 6 &&
	expect_eq "process table headers" "$n" "$(grep -Ec "^ +PID COMM +RSS +VSIZE +GROW/s" out.txt)" &&
	wider_than 80 <out.txt >wide.txt &&
	{ [ ! -s wide.txt ] || { diag "lines wider than 80:"; cat wide.txt >&2; exit 1; }; } &&
	grep -q "^zmtrace: tracing" err.txt &&
	timeout 30 "$ZMTRACE" top --interval 0.1 2>/dev/null </dev/null | head -n 1 >head.txt
	expect_eq "status when the reader goes away" 141 "${PIPESTATUS[0]}" &&
	grep -q "^zmtrace top " head.txt
'

test_expect 'top refuses --json; a bad option is a usage error' '
	run_rc rc timeout 10 "$ZMTRACE" top --json >out 2>err </dev/null &&
	expect_eq "status" 2 "$(cat rc)" &&
	expect_eq "stderr" "zmtrace: top has no --json (zmtrace rss and zmtrace zombies have)" "$(cat err)" &&
	run_rc rc timeout 10 "$ZMTRACE" top --bogus >out 2>err </dev/null &&
	expect_eq "status" 2 "$(cat rc)" &&
	expect_eq "stderr lines" 1 "$(wc -l <err)"
'

test_done
