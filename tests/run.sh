#!/bin/sh
# Runs every test and ends with one line: "N passed, N failed, N skipped".
#  - unit tests (cmocka, build/tests/*): the collector fed synthetic events;
#  - integration tests (tests/integration/t*.sh): the real BPF programs on
#    real workloads from tools/. They need root; without it they are skipped.
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0

for t in build/tests/*; do
	[ -x "$t" ] || continue
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
	# cmocka's TAP marks a skipped test "not ok N # SKIP" (others "ok ... # SKIP").
	p=$(printf '%s\n' "$out" | grep '^ok ' | grep -vc '# SKIP')
	f=$(printf '%s\n' "$out" | grep '^not ok ' | grep -vc '# SKIP')
	s=$(printf '%s\n' "$out" | grep -c '^\(not \)\{0,1\}ok .*# SKIP')
	printf '%s\n' "$out" | grep '^not ok ' | grep -v '# SKIP' | sed "s|^|$(basename "$t"): |"
	if [ "$s" -gt 0 ]; then
		echo "unit $(basename "$t"): $p passed, $f failed, $s skipped"
	else
		echo "unit $(basename "$t"): $p passed, $f failed"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "unit $(basename "$t"): ran no test (crashed?)"
		printf '%s\n' "$out" | tail -5
		fail=$((fail + 1))
	fi
done

if [ "$(id -u)" != 0 ]; then
	n=$(ls tests/integration/t*.sh 2>/dev/null | wc -l)
	echo "integration: skipped (needs root: the tests load BPF programs)"
	skip=$((skip + n))
else
	log=$(mktemp) || exit 1
	tests/run-integration.sh | tee "$log"
	line=$(tail -n 1 "$log")
	rm -f "$log"
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		echo "integration: no result line"
		fail=$((fail + 1))
	else
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	fi
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
