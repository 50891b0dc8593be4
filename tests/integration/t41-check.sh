#!/bin/bash
test_description='zmtrace check: a command passes or fails on its zombies and memory'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rss-lib.sh"

# check ARGS...: zmtrace check ARGS, stdout to ck.out, stderr to ck.err,
# status to ck.rc (bounded).
check() {
	timeout -s INT -k 5 "$(scaled 90)" "$ZMTRACE" check "$@" >ck.out 2>ck.err </dev/null
	say $? >ck.rc
}

test_expect 'a command whose children are reaped at once passes (status 0)' '
	check --max-zombie-ms 500 --max-unreaped 3 --no-leak -- "$ZF" -o "$PWD/zf.out" late 3 10 &&
	expect_eq "status" 0 "$(cat ck.rc)" &&
	grep -q "^zmtrace check: passed (" ck.err
'

test_expect 'zombies older than the limit fail the check (status 3), naming the parent and its longest-lived zombie' '
	check --max-zombie-ms 100 -- "$ZF" -o "$PWD/zf.out" leak 4 --hold-ms 400 &&
	expect_eq "status" 3 "$(cat ck.rc)" &&
	fpid=$(zfget ".event == \"ready\"" .pid) &&
	grep -q "^zmtrace check: FAILED (" ck.err &&
	grep -Eq "^  parent $fpid zf-leaker: 4 zombies lived longer than 100ms \(--max-zombie-ms\); the longest, pid [0-9]+ zf-child, [0-9.]+(ms|s)\$" ck.err &&
	worst=$(sed -n "s/.*the longest, pid \([0-9]*\) .*/\1/p" ck.err) &&
	zfall ".event == \"child\"" .pid | grep -qx "$worst"
'

test_expect 'more unreaped zombies at once than --max-unreaped fail the check, though the parent reaps them all in the end; one at a time passes' '
	check --max-unreaped 5 -- "$ZF" -o "$PWD/zf.out" burst 40 &&
	expect_eq "status" 3 "$(cat ck.rc)" &&
	fpid=$(zfget ".event == \"start\"" .pid) &&
	grep -Eq "^  parent $fpid zf-burst: ([6-9]|[1-4][0-9]) zombies unreaped at once \(--max-unreaped 5\); 0 still unreaped at the end\$" ck.err &&
	check --max-unreaped 1 -- "$ZF" -o "$PWD/zf.out" late 3 100 &&
	expect_eq "one at a time: status" 0 "$(cat ck.rc)"
'

test_expect '--no-leak fails on a process whose memory grows steadily, naming it; one that holds its memory passes' '
	check --no-leak -- "$MW" -o "$PWD/grow.out" --name mw-leaky grow 8 12 &&
	expect_eq "status" 3 "$(cat ck.rc)" &&
	pid=$(jq -r "select(.event == \"start\") | .pid" grow.out) &&
	grep -Eq "^  pid $pid mw-leaky: memory keeps growing \(--no-leak\): RSS [0-9.]+M, \+[0-9.]+ KiB/s" ck.err &&
	check --threshold 2M --no-leak -- "$MW" -o "$PWD/hold.out" --name mw-flat plateau 64 11 &&
	expect_eq "plateau status" 0 "$(cat ck.rc)"
'

test_expect 'within the limits, the command'"'"'s own status is kept; a command that cannot run gives 127' '
	check -- sh -c "exit 5" &&
	expect_eq "status" 5 "$(cat ck.rc)" &&
	grep -q "within the limits, but sh exited with status 5" ck.err &&
	check -- /nonexistent/cmd &&
	expect_eq "status" 127 "$(cat ck.rc)" &&
	"$ZMTRACE" check -- sh -c "sleep 0.3" 2>ck.err | true &&
	rc=${PIPESTATUS[0]} && expect_eq "status with stdout closed early" 0 "$rc" &&
	grep -q "^zmtrace check: passed (sh)" ck.err
'

test_expect 'check -o FILE keeps the capture: report shows the same leaker' '
	check --max-zombie-ms 50 -o "$PWD/ck.zmt" -- "$ZF" -o "$PWD/zf.out" leak 3 --hold-ms 200 &&
	expect_eq "status" 3 "$(cat ck.rc)" &&
	fpid=$(zfget ".event == \"ready\"" .pid) &&
	"$ZMTRACE" report ck.zmt >rep.txt 2>rep.err &&
	grep -Eq "^ +$fpid zf-leaker +3 +3 " rep.txt
'

test_done
