#!/bin/bash
test_description='zmtrace rss: system memory samples every --interval, consistent with /proc/meminfo; the system verdict'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rss-lib.sh"

meminfo() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB$/\1/p" /proc/meminfo; }

test_expect '--interval 0.2 --duration 3: 15 samples 0.2 s apart, each consistent (used = apps + buffers + cache, total = MemTotal)' '
	rss_start --interval 0.2 --duration 3 -c zz-nothing &&
	zm_wait_exit 20 && expect_zm_rc 0 &&
	n=$(zmcount ".event == \"sysmem\"") &&
	diag "sysmem events: $n" &&
	expect_between "sysmem events in 3 s at 0.2 s (one at start, then one per interval)" 14 "$n" 16 &&
	gaps=$(zmall ".event == \"sysmem\"" .ts_ns | awk "NR > 1 { print int((\$1 - p) / 1000000) } { p = \$1 }") &&
	diag "gaps (ms): $(say $gaps)" &&
	for g in $gaps; do
		expect_between "gap between samples (ms)" 180 "$g" 300 || exit 1
	done &&
	mt=$(meminfo MemTotal) && st=$(meminfo SwapTotal) &&
	expect_eq "samples where used != app + buffers + cached" 0 \
		"$(zmcount ".event == \"sysmem\" and .used_kb != .app_kb + .buffers_kb + .cached_kb")" &&
	expect_eq "samples whose total_kb is not MemTotal ($mt)" 0 \
		"$(zmcount ".event == \"sysmem\" and .total_kb != $mt")" &&
	expect_eq "samples with used > total or swap used > SwapTotal ($st)" 0 \
		"$(zmcount ".event == \"sysmem\" and ([.used_kb > .total_kb, .swap_used_kb > $st] | any)")" &&
	expect_eq "the last line" summary "$(tail -n 1 zm.out | jq -r .event)" &&
	last=$(zmsel ".event == \"sysmem\"" | tail -n 1) &&
	pct=$(say "$last" | jq "(1000 * .app_kb / .used_kb | round) / 10") &&
	expect_eq "summary app_pct_of_used vs the last sample" "$pct" "$(zm_summary | jq .system.app_pct_of_used)" &&
	expect_eq "summary app_high vs app_pct_of_used >= 75" \
		"$(say "$pct" | awk "{ print (\$1 >= 75 ? \"true\" : \"false\") }")" "$(zm_summary | jq .system.app_high)" &&
	expect_eq "summary swap_rising (no swap moves here)" false "$(zm_summary | jq .system.swap_rising)" &&
	expect_eq "summary verdict" ok "$(zm_summary | jq -r .system.verdict)"
'

test_expect 'a sample agrees with /proc/meminfo read at about the same time (MemTotal - MemFree within 64 MiB)' '
	rss_start --interval 0.2 -c zz-nothing &&
	wait_for_zm ".event == \"sysmem\"" 2 &&
	mt=$(meminfo MemTotal) && mf=$(meminfo MemFree) &&
	wait_for_zm ".event == \"sysmem\"" 4 &&
	zm_stop &&
	used=$(zmsel ".event == \"sysmem\"" | sed -n 3p | jq .used_kb) &&
	expect_near "used_kb vs MemTotal - MemFree" $((mt - mf)) "$used" 65536
'

test_expect 'a 1 GiB allocation raises app_kb by about 1 GiB between two samples, and its end lowers it back (+-15%: other processes move too)' '
	rss_start --interval 0.2 -c zz-nothing &&
	wait_for_zm ".event == \"sysmem\"" 2 &&
	mw_start hold hold 1024 &&
	wait_for_json hold.out ".event == \"status\" and .what == \"full\"" &&
	t0=$(mw_status hold begin ts_ns) && t1=$(mw_status hold full ts_ns) &&
	wait_for_zm ".event == \"sysmem\" and .ts_ns > $t1" &&
	kill -USR1 "$(mw_pid hold)" &&
	mw_wait_exit hold &&
	t2=$(mw_status hold release ts_ns) && t3=$(mw_status hold exit ts_ns) &&
	wait_for_zm ".event == \"sysmem\" and .ts_ns > $t3 + 50000000" &&
	zm_stop &&
	before=$(zmsel ".event == \"sysmem\" and .ts_ns < $t0" | tail -n 1 | jq .app_kb) &&
	during=$(zmsel ".event == \"sysmem\" and .ts_ns > $t1" | head -n 1 | jq .app_kb) &&
	last=$(zmsel ".event == \"sysmem\" and .ts_ns < $t2" | tail -n 1 | jq .app_kb) &&
	after=$(zmsel ".event == \"sysmem\" and .ts_ns > $t3 + 50000000" | head -n 1 | jq .app_kb) &&
	diag "app_kb: last sample before the allocation $before, first after it $during; last before the release $last, first after the exit $after" &&
	expect_between "app_kb rise across the allocation (kB; 1 GiB = 1048576)" $((1048576 * 85 / 100)) $((during - before)) $((1048576 * 115 / 100)) &&
	expect_between "app_kb fall across the exit (kB)" $((1048576 * 85 / 100)) $((last - after)) $((1048576 * 115 / 100))
'

test_done
