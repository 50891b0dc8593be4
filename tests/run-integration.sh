#!/bin/bash
# Run zmtrace's integration tests (tests/integration/t*.sh, or the scripts
# given as arguments) and print the total as the last line:
#   N passed, N failed, N skipped
# A script that dies without its "# tNN: passed=..." line counts as one
# failure. Exit status: 0 when nothing failed. Needs root and jq; see
# tests/lib.sh for the environment (ZMTRACE, ZF, ZM_TIMEOUT_SCALE, ...).
cd "$(dirname "$0")" || exit 1

if [ $# -eq 0 ]; then
	set -- integration/t[0-9]*.sh
fi

passed=0 failed=0 skipped=0 broken=
for script in "$@"; do
	[ -f "$script" ] || { echo "# no such script: $script"; failed=$((failed + 1)); continue; }
	echo "# --- $script"
	out=$(mktemp)
	bash "$script" 2>&1 | tee "$out"
	line=$(grep -E '^# [^ ]+: passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+$' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "# $script ended without its summary line"
		failed=$((failed + 1))
		broken="$broken $script"
		continue
	fi
	[[ $line =~ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+) ]]
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
	skipped=$((skipped + BASH_REMATCH[3]))
done
[ -n "$broken" ] && echo "# broken scripts:$broken"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
