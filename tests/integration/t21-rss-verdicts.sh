#!/bin/bash
test_description='zmtrace rss leak verdicts: steady and stepped growth are suspects; sawtooth, plateau and a stopped ramp are not'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rss-lib.sh"

# One zmtrace run of 14 s serves every test: five shapes at once, each a
# process of its own, under `zmtrace rss -- sh -c '...'`. The first test
# that needs it makes it, in $SHARED; later ones read it.
SHARED=$TRASH/shapes
SECS=14

shapes_run() {
	[ -f "$SHARED/complete" ] && return 0
	[ -f "$SHARED/failed" ] && { diag "the shared run failed (see the first test)"; return 1; }
	mkdir -p "$SHARED" && cd "$SHARED" || return 1
	touch failed # until complete
	# shellcheck disable=SC2016
	ZM_RUN_TIMEOUT=50 rss_run -- sh -c '
		m=$0 s=$1
		"$m" -o "$PWD/grow.out" grow 4 "$s" &
		"$m" -o "$PWD/steps.out" steps 8 2 "$s" &
		"$m" -o "$PWD/sawtooth.out" sawtooth 32 3 "$s" &
		"$m" -o "$PWD/plateau.out" plateau 64 "$s" &
		"$m" -o "$PWD/stopped.out" --name mw-stopped --tail-ms $((s * 500)) grow 4 $((s / 2)) &
		wait' "$MW" "$SECS" || return 1
	expect_zm_rc 0 || return 1
	for w in grow steps sawtooth plateau stopped; do
		[ "$(jget "$w.out" '.event == "status" and .what == "exit"' .pid)" = "$(mw_pid "$w")" ] ||
			{ diag "workload $w did not finish"; mw_diag "$w"; return 1; }
	done
	rm -f failed
	touch complete
}

# entry W: the summary entry of workload W (in $SHARED)
entry() { (cd "$SHARED" && rss_summary_of "$(mw_pid "$1")"); }
# field W KEY
field() { entry "$1" | jq -r ".$2"; }
# the measured growth rate of W in kB/s, from its own /proc reads
true_rate() {
	(cd "$SHARED" && jq -rs --arg a "$2" --arg b "$3" '
		(map(select(.event == "status" and .what == $a)) | first) as $x |
		(map(select(.event == "status" and .what == $b)) | first) as $y |
		(($y.vmrss_kb - $x.vmrss_kb) / (($y.ts_ns - $x.ts_ns) / 1e9)) | floor' "$1.out")
}
expect_verdict() { # W SUSPECT WHY...
	local w=$1 sus=$2 e got
	shift 2
	e=$(entry "$w")
	diag "$w: $e"
	[ -n "$e" ] || { diag "no summary entry for $w"; return 1; }
	expect_eq "$w leak_suspect" "$sus" "$(say "$e" | jq .leak_suspect)" || return 1
	got=$(say "$e" | jq -r .why)
	for why; do [ "$got" = "$why" ] && return 0; done
	diag "$w why: expected one of [$*], got '$got'"
	return 1
}

test_expect "a steady grower (4 MiB/s for $SECS s) is a suspect, with the slope it grew at (within 20%)" '
	shapes_run &&
	expect_verdict grow true "steady growth" &&
	rate=$(true_rate grow begin end) &&
	slope=$(field grow rss_slope_kb_s | cut -d. -f1) &&
	vslope=$(field grow vsize_slope_kb_s | cut -d. -f1) &&
	diag "measured rate $rate kB/s; rss slope $slope, vsize slope $vslope kB/s" &&
	expect_between "rss_slope_kb_s vs the nominal 4096 kB/s" $((4096 * 8 / 10)) "$slope" $((4096 * 12 / 10)) &&
	expect_between "rss_slope_kb_s vs the measured rate" $((rate * 8 / 10)) "$slope" $((rate * 12 / 10)) &&
	expect_between "vsize_slope_kb_s vs the measured rate" $((rate * 8 / 10)) "$vslope" $((rate * 12 / 10)) &&
	expect_le "rss_r2 x100" 95 "$(field grow rss_r2 | awk "{ printf \"%d\", \$1 * 100 }")" &&
	expect_le "span_s" $((SECS - 1)) "$(field grow span_s | cut -d. -f1)"
'

test_expect 'a staircase (+8 MiB every 2 s, never freed) is a suspect, with a positive slope near 4 MiB/s' '
	shapes_run &&
	expect_verdict steps true "grows in steps, never frees" "steady growth" &&
	slope=$(field steps rss_slope_kb_s | cut -d. -f1) &&
	expect_between "rss_slope_kb_s vs 8 MiB / 2 s (+- 25%)" $((4096 * 3 / 4)) "$slope" $((4096 * 5 / 4)) &&
	expect_le "rss_r2 x100" 80 "$(field steps rss_r2 | awk "{ printf \"%d\", \$1 * 100 }")"
'

test_expect 'a sawtooth (up to 32 MiB and freed every 3 s) is not a suspect' '
	shapes_run &&
	expect_verdict sawtooth false "frees memory (sawtooth)" &&
	peaks=$(cd "$SHARED" && jcount sawtooth.out ".what == \"peak\"") &&
	expect_eq "cycles the workload completed" 4 "$peaks" &&
	expect_le "rss_kb_max covers a top of the sawtooth (32 MiB)" 32768 "$(field sawtooth rss_kb_max)"
'

test_expect 'a plateau (64 MiB at once, then flat) is not a suspect (flat, or a start-up ramp that stopped)' '
	shapes_run &&
	expect_verdict plateau false "flat" "grew, then stopped" &&
	expect_near "rss_kb_last vs VmRSS at the end" "$(cd "$SHARED" && mw_status plateau end vmrss_kb)" \
		"$(field plateau rss_kb_last)" $((1024 + PCPU_SLOP_KB))
'

test_expect "a ramp that stopped halfway (4 MiB/s for $((SECS / 2)) s, then flat) is not a suspect" '
	shapes_run &&
	expect_verdict stopped false "grew, then stopped"
'

test_expect 'exactly the grower and the staircase are suspects (not the shell that ran them)' '
	shapes_run &&
	want=$(cd "$SHARED" && printf "%s\n" "$(mw_pid grow)" "$(mw_pid steps)" | sort -n | tr "\n" " ") &&
	got=$(cd "$SHARED" && zm_summary | jq -r ".processes[] | select(.leak_suspect) | .pid" | sort -n | tr "\n" " ") &&
	expect_eq "suspect pids" "$want" "$got" &&
	expect_eq "lost events" 0 "$(cd "$SHARED" && zm_summary | jq .lost_events)"
'

test_done
