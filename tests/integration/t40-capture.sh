#!/bin/bash
test_description='captures: record, report in every format, cut and damaged files, a full disk'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rss-lib.sh"

FORKSTORM=$TEST_SRC_ROOT/tools/forkstorm

# rec_start NAME ARGS...: `zmtrace record -o NAME.zmt ARGS` (or -o
# $REC_OUT) in the background (NAME.err, NAME.pid) until it says "tracing".
rec_start() {
	local name=$1 pid
	shift
	setsid "$ZMTRACE" record -o "${REC_OUT:-$PWD/$name.zmt}" "$@" >"$name.out" 2>"$name.err" </dev/null &
	pid=$!
	say "$pid" >"$name.pid"
	bg_track "$pid"
	wait_until 10 tracing_line "$name.err" || { diag "$(cat "$name.err")"; return 1; }
}

# rec_stop NAME: SIGINT, then its status in NAME.rc (0 wanted).
rec_stop() {
	local pid rc
	pid=$(cat "$1.pid") || return 1
	kill -INT "$pid" 2>/dev/null
	wait_until 15 zm_exited "$pid" || { diag "record still runs"; return 1; }
	wait "$pid" 2>/dev/null
	rc=$?
	say "$rc" >"$1.rc"
	[ "$rc" = 0 ] || { diag "record exited with $rc: $(cat "$1.err")"; return 1; }
}

# report FILE FORMAT: stdout to rep.FORMAT, stderr to rep.err, status to rep.rc
report() {
	"$ZMTRACE" report "$1" --format "$2" >"rep.$2" 2>rep.err
	say $? >rep.rc
}

# expect_event_in FILE TYPE pid=N ...: expect_event on FILE's JSON Lines.
expect_event_in() {
	local f=$1
	shift
	cp "$f" ev.out && zm=ev expect_event "$@"
}

# The capture's summary line (report json's last line) FIELD.
capture_field() { jq -r "select(.event == \"capture\") | $2" "$1"; }

# Chunk offsets of a capture (the header's length, then each chunk's).
chunk_offsets() {
	python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack_from('<I', b, 12)[0]
off = 16 + n + 4
while off + 20 <= len(b):
    print(off)
    off += 20 + struct.unpack_from('<I', b, off + 4)[0]
EOF
}

test_expect 'record -- COMMAND: a leaker and its 5 zombies, in a 0600 file that report reads whole' '
	"$ZMTRACE" record -o "$PWD/cap.zmt" -- "$ZF" -o "$PWD/zf.out" leak 5 --hold-ms 300 \
		>/dev/null 2>rec.err &&
	grep -q "^zmtrace: recorded [0-9]* records in $PWD/cap.zmt\$" rec.err &&
	expect_eq "file mode" 600 "$(stat -c %a cap.zmt)" &&
	fpid=$(zfget ".event == \"ready\"" .pid) &&
	report cap.zmt json &&
	expect_eq "report status" 0 "$(cat rep.rc)" &&
	expect_eq "stderr" "" "$(cat rep.err)" &&
	i=0 &&
	for pid in $(zfall ".event == \"child\"" .pid); do
		expect_event_in rep.json zombie pid=$pid comm=zf-child ppid=$fpid \
			parent_comm=zf-leaker exit_code=$i || exit 1
		i=$((i + 1))
	done &&
	expect_eq "zombies" 5 "$i" &&
	expect_eq "complete" true "$(capture_field rep.json .complete)" &&
	expect_eq "lost" 0 "$(capture_field rep.json .lost_events)" &&
	expect_eq "forks" 5 "$(capture_field rep.json .counts.fork)" &&
	report cap.zmt text &&
	expect_eq "text status" 0 "$(cat rep.rc)" &&
	grep -Eq "^ +$fpid zf-leaker +5 +5 " rep.text &&
	grep -q "^Zombie leakers: 1 parent made 5 zombies" rep.text
'

test_expect 'the capture replays as the live commands print: zombies, reaps and memory events, line for line' '
	mkfifo go &&
	bg_start holder sh -c "read x <go; \"$MW\" --name rt-mem steps 8 0.05 0.6 & \"$ZF\" -o \"$PWD/zf.out\" late 4 30; wait" &&
	hpid=$(cat holder.pid) &&
	zm=live zm_start -p "$hpid" &&
	zm=livemem rss_start -p "$hpid" &&
	rec_start cap -p "$hpid" &&
	echo go >go &&
	wait_until 20 zm_exited "$hpid" &&
	zm=live wait_for_zm ".event == \"reap\"" 4 &&
	zm=live zm_stop && zm=livemem zm_stop && rec_stop cap &&
	report cap.zmt json &&
	expect_eq "report status" 0 "$(cat rep.rc)" &&
	jq -c "select(.event == \"zombie\" or .event == \"reap\") | del(.ts_ns, .zombie_ns)" live.out | sort >live.z &&
	jq -c "select(.event == \"zombie\" or .event == \"reap\") | del(.ts_ns, .zombie_ns)" rep.json | sort >rep.z &&
	expect_le "zombie lines (4 children, the factory, the workload, their shell: each a zombie and a reap)" 14 "$(wc -l <live.z)" &&
	diff live.z rep.z &&
	jq -c "select(.event == \"rss\") | del(.ts_ns)" livemem.out | sort >live.m &&
	jq -c "select(.event == \"rss\") | del(.ts_ns)" rep.json | sort >rep.m &&
	expect_le "memory lines" 5 "$(wc -l <live.m)" &&
	diff live.m rep.m
'

test_expect 'csv: a row per record, every row as wide as the header; perfetto: process tracks, zombie slices, memory counters' '
	"$ZMTRACE" record -o "$PWD/cap.zmt" -- "$ZF" -o "$PWD/zf.out" leak 3 --hold-ms 100 >/dev/null 2>&1 &&
	fpid=$(zfget ".event == \"ready\"" .pid) &&
	report cap.zmt json && records=$(capture_field rep.json .records) &&
	report cap.zmt csv && expect_eq "csv status" 0 "$(cat rep.rc)" &&
	python3 -c "
import csv, sys
rows = list(csv.reader(open(\"rep.csv\")))
assert rows[0][:3] == [\"kind\", \"ts_ns\", \"time_utc\"], rows[0]
bad = [r for r in rows if len(r) != len(rows[0])]
assert not bad, bad[:3]
assert len(rows) - 1 == $records, (len(rows) - 1, $records)
z = [r for r in rows if r[0] == \"exit\" and r[6] == \"zf-leaker\"]
assert len(z) == 3, z
" &&
	report cap.zmt perfetto && expect_eq "perfetto status" 0 "$(cat rep.rc)" &&
	expect_eq "zombie slices of the children" 3 "$(jq "[.traceEvents[] | select(.ph == \"B\" and .name == \"zombie\" and .pid != $fpid)] | length" rep.perfetto)" &&
	expect_eq "leaker named" 1 "$(jq "[.traceEvents[] | select(.ph == \"M\" and .pid == $fpid and .args.name == \"zf-leaker\")] | length" rep.perfetto)" &&
	expect_le "memory counters" 3 "$(jq "[.traceEvents[] | select(.ph == \"C\" and .name == \"memory (KiB)\")] | length" rep.perfetto)" &&
	expect_eq "unreaped counter peak" 3 "$(jq "[.traceEvents[] | select(.ph == \"C\" and .pid == $fpid and .name == \"unreaped zombies\") | .args.count] | max" rep.perfetto)" &&
	expect_eq "begins and ends pair" "$(jq "[.traceEvents[] | select(.ph == \"B\")] | length" rep.perfetto)" \
		"$(jq "[.traceEvents[] | select(.ph == \"E\")] | length" rep.perfetto)"
'

test_expect 'html: one self-contained page; in headless Chromium the graphs show system memory, the growing process and the leaker' '
	command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null ||
		skip_now "no headless Chromium (tools/install-deps.sh installs chromium-headless-shell)" &&
	"$ZMTRACE" record -o "$PWD/cap.zmt" -- sh -c "\"$ZF\" -o \"$PWD/zf.out\" leak 6 --hold-ms 1500 & \"$MW\" grow 40 1.5; wait" >/dev/null 2>&1 &&
	report cap.zmt html && expect_eq "html status" 0 "$(cat rep.rc)" &&
	expect_eq "charts" 4 "$(grep -o "<svg class=\"plot\"" rep.html | wc -l)" &&
	! grep -Eq "(src|href)=\"(https?:)?//" rep.html &&
	grep -q "mw-grow" rep.html && grep -q "zf-leaker (peak 6)" rep.html &&
	"$TEST_SRC_ROOT/tools/html-shot.sh" rep.html shot.png 1280 2000 &&
	python3 "$TEST_SRC_ROOT/tools/png-colors.py" --region 0,100,1280,560 --min 500 shot.png 0072b2 e69f00 >top.txt &&
	python3 "$TEST_SRC_ROOT/tools/png-colors.py" --region 0,560,1280,1000 --min 500 shot.png 0072b2 >rss.txt &&
	python3 "$TEST_SRC_ROOT/tools/png-colors.py" --region 0,1460,1280,1900 --min 500 shot.png 0072b2 >zombies.txt
'

test_expect 'a recorder killed with SIGKILL leaves a capture that reads to its last chunk, and report says it has no end' '
	rec_start cap --interval 0.1 &&
	bg_start mw "$MW" grow 20 10 &&
	wait_until 15 eval "\"$ZMTRACE\" report cap.zmt --format json 2>/dev/null | jq -e \"select(.event == \\\"capture\\\") | .counts.rss >= 5\" >/dev/null" &&
	kill -KILL "$(cat cap.pid)" &&
	report cap.zmt text &&
	expect_eq "status" 1 "$(cat rep.rc)" &&
	grep -q "cap.zmt: the capture has no end" rep.err &&
	expect_eq "stderr lines" 1 "$(wc -l <rep.err)" &&
	grep -q "^INCOMPLETE: the capture has no end" rep.text &&
	report cap.zmt json &&
	expect_eq "complete" false "$(capture_field rep.json .complete)" &&
	expect_eq "stop reason" null "$(capture_field rep.json .stop_reason)" &&
	expect_le "memory events read" 5 "$(capture_field rep.json .counts.rss)"
'

test_expect 'a damaged chunk: report prints what came before, names the byte and the reason, exits 1' '
	rec_start cap --interval 0.1 &&
	"$FORKSTORM" 300 >/dev/null &&
	wait_until 10 eval "[ \$(chunk_offsets cap.zmt | wc -l) -ge 4 ]" &&
	rec_stop cap &&
	report cap.zmt json && all=$(capture_field rep.json .records) &&
	third=$(chunk_offsets cap.zmt | sed -n 3p) &&
	cp cap.zmt bad.zmt &&
	printf "\\377" | dd of=bad.zmt bs=1 seek=$((third + 30)) conv=notrunc status=none &&
	report bad.zmt json &&
	expect_eq "status" 1 "$(cat rep.rc)" &&
	grep -q "bad.zmt: read up to byte $third (.* records), then stopped: .*CRC" rep.err &&
	expect_eq "stopped at" "$third" "$(capture_field rep.json .stopped_at)" &&
	n=$(capture_field rep.json .records) &&
	expect_le "records before" 1 "$n" && expect_le "fewer than all" "$n" "$((all - 1))" &&
	size=$(stat -c %s cap.zmt) &&
	head -c $((size - 5)) cap.zmt >cut.zmt &&
	report cut.zmt text &&
	expect_eq "cut status" 1 "$(cat rep.rc)" &&
	grep -q "cut.zmt: read up to byte [0-9]* .*then stopped: .*cut short" rep.err
'

test_expect 'a full disk ends the recording with a clear message; the file reads cleanly to its last whole chunk' '
	mkdir small && mount -t tmpfs -o size=32k zmtest small &&
	trap "umount -l \"$PWD/small\"" EXIT &&
	REC_OUT=$PWD/small/cap.zmt rec_start cap --interval 0.1 &&
	bg_start storm "$FORKSTORM" 100000 &&
	wait_until 60 zm_exited "$(cat cap.pid)" &&
	! rec_stop cap 2>/dev/null &&
	expect_eq "record status" 1 "$(cat cap.rc)" &&
	grep -q "^zmtrace: .*small/cap.zmt: the disk is full: the capture ends with its last whole chunk" cap.err &&
	report small/cap.zmt json &&
	expect_eq "report status" 1 "$(cat rep.rc)" &&
	grep -q "has no end" rep.err && ! grep -q "stopped:" rep.err &&
	expect_le "records kept" 10 "$(capture_field rep.json .records)"
'

test_expect 'bad input: a clear line and a non-zero status, nothing created' '
	"$ZMTRACE" report nonexistent.zmt 2>err; expect_eq "missing" 1 $? &&
	expect_eq "one line" 1 "$(wc -l <err)" &&
	"$ZMTRACE" report /etc/passwd 2>err; expect_eq "not a capture" 1 $? &&
	grep -q "not a zmtrace capture" err &&
	"$ZMTRACE" report /etc/passwd --format xml 2>err; expect_eq "format" 2 $? &&
	"$ZMTRACE" report 2>err; expect_eq "no file" 2 $? &&
	"$ZMTRACE" record -- true 2>err; expect_eq "no -o" 2 $? &&
	"$ZMTRACE" record --json -o x.zmt -- true 2>err; expect_eq "--json" 2 $? &&
	"$ZMTRACE" record -o /nonexistent/dir/x.zmt -- true 2>err; expect_eq "bad dir" 1 $? &&
	expect_eq "one line" 1 "$(wc -l <err)" && grep -q "cannot create /nonexistent/dir/x.zmt" err &&
	"$ZMTRACE" check --max-zombie-ms 2>err; expect_eq "check no value" 2 $? &&
	"$ZMTRACE" check 2>err; expect_eq "check no command" 2 $? &&
	"$ZMTRACE" check --max-unreaped x -- true 2>err; expect_eq "check bad number" 2 $? &&
	[ ! -e x.zmt ]
'

test_done
