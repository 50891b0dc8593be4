#!/bin/sh
# zmtrace next to the classic way: `ps -eo pid,ppid,stat,comm` polled every
# INTERVAL seconds, on one run of a zombie workload from tools/zombie_factory:
#   - "zf-leaker": leaks 5 zombies, holds them 3 s, then dies (init reaps);
#   - "zf-late":   60 children, each reaped 20 ms after it exits;
#   - "zf-middle": leaks 4 zombies and dies at once (orphaned to init).
# Prints what each saw: zombies, and the parent each blamed.
# Usage: tools/compare-ps.sh [INTERVAL]   (root; default 1)
set -eu
cd "$(dirname "$0")/.."
INTERVAL=${1:-1}
[ "$(id -u)" = 0 ] || { echo "compare-ps: needs root" >&2; exit 1; }
make -s zmtrace tools/zombie_factory >/dev/null
tmp=$(mktemp -d)
trap 'kill $zpid $ppid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

./zmtrace zombies --json >"$tmp/zm.json" 2>"$tmp/zm.err" &
zpid=$!
i=0; until grep -q 'zmtrace: tracing' "$tmp/zm.err"; do
	i=$((i + 1)); [ $i -lt 1000 ] || { echo "compare-ps: zmtrace did not start" >&2; exit 1; }
	sleep 0.01
done
# Each sample: zombie pid, ppid, stat, comm, and the parent's comm then.
( while :; do ps -eo pid=,ppid=,stat=,comm= |
	awk '{ comm[$1] = $4; if ($3 ~ /^Z/) z[$1] = $1 " " $2 " " $3 " " $4 " " $2 }
	     END { for (p in z) { split(z[p], f, " "); print z[p], (f[2] in comm ? comm[f[2]] : "?") } }'
	sleep "$INTERVAL"; done ) >"$tmp/ps.txt" &
ppid=$!

tools/zombie_factory leak 5 --hold-ms 3000 >/dev/null &
l=$!
tools/zombie_factory late 60 20 >/dev/null
tools/zombie_factory orphan 4 >/dev/null
wait $l
# Orphans are reaped by init, lazily here: wait for their reaps (bounded).
i=0; while [ "$(jq -s '[.[] | select(.event=="reap" and .parent_comm=="zf-middle")] | length' "$tmp/zm.json")" -lt 4 ] \
	&& [ $i -lt 150 ]; do i=$((i + 1)); sleep 0.1; done
sleep "$INTERVAL" # one more ps sample
kill $ppid; kill -INT $zpid; wait $zpid || true

echo "workload: zf-leaker leaks 5 (held 3 s), zf-late makes 60 reaped after 20 ms, zf-middle orphans 4"
echo
echo "ps polled every ${INTERVAL}s saw (distinct zombie pids, by the ppid ps showed):"
sort -u -k1,1n "$tmp/ps.txt" | awk '{ print $2, $6 }' | sort | uniq -c | while read -r n pp comm; do
	printf '  %3d zombies blamed on ppid %s (%s)\n' "$n" "$pp" "$comm"
done
echo "  total: $(sort -u -k1,1n "$tmp/ps.txt" | wc -l) zombies seen"
echo
echo "zmtrace saw (zombies by the parent at exit; reaper):"
jq -r 'select(.event=="reap") | "\(.parent_comm) \(.reaper_comm) \(.reparented)"' "$tmp/zm.json" |
	grep '^zf-' | sort | uniq -c | while read -r n parent reaper rep; do
	printf '  %3d zombies of %-10s reaped by %s%s\n' "$n" "$parent" "$reaper" \
		"$([ "$rep" = true ] && echo ' (reparented)')"
done
echo "  total: $(jq -r 'select(.event=="zombie") | .parent_comm' "$tmp/zm.json" | grep -c '^zf-') zombies of zf-* seen"
jq -r 'select(.event=="summary") | .parents[] | select(.comm | startswith("zf-")) |
  "  \(.comm): \(.zombies) made, max \(.zombie_ns_max / 1e6 | floor) ms, p50 \(.zombie_ns_p50 / 1e6 * 10 | floor / 10) ms"' "$tmp/zm.json"
