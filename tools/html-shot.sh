#!/bin/sh
# Render an HTML page (the `zmtrace report --format html` output) to a PNG
# with headless Chromium, for screenshot tests and for looking at it:
#
#   tools/html-shot.sh HTML PNG [WIDTH HEIGHT]     (default 1280 2400)
#
# The screenshot is the window, not the whole page: give a HEIGHT that holds
# the page. Works as root in a container (no sandbox, no GPU, no D-Bus).
# Debian 12: apt-get install chromium-headless-shell (or chromium).
# ZM_CHROMIUM=/path/to/binary picks the browser; ZM_SHOT_TIMEOUT (seconds,
# default 60) bounds the run.
set -eu

usage() {
	echo "usage: $0 HTML PNG [WIDTH HEIGHT]" >&2
	exit 2
}

[ $# -eq 2 ] || [ $# -eq 4 ] || usage
html=$1
png=$2
width=${3:-1280}
height=${4:-2400}
case $width$height in
*[!0-9]*) usage ;;
esac
[ -r "$html" ] || { echo "$0: cannot read $html" >&2; exit 1; }

# The old headless shell first: smaller, made for this, and it prints no
# first-run noise. Full Chromium needs --headless to behave the same.
browser=
headless=
if [ -n "${ZM_CHROMIUM:-}" ]; then
	browser=$ZM_CHROMIUM
	case $browser in
	*headless*) ;;
	*) headless=--headless ;;
	esac
else
	for b in chromium-headless-shell /usr/lib/chromium/chromium-headless-shell \
		/usr/lib/chromium/headless_shell; do
		if command -v "$b" >/dev/null 2>&1; then
			browser=$b
			break
		fi
	done
	if [ -z "$browser" ]; then
		for b in chromium chromium-browser google-chrome; do
			if command -v "$b" >/dev/null 2>&1; then
				browser=$b
				headless=--headless
				break
			fi
		done
	fi
fi
if [ -z "$browser" ]; then
	echo "$0: no headless Chromium; apt-get install chromium-headless-shell" >&2
	exit 1
fi

case $html in
/*) url=file://$html ;;
*) url=file://$(pwd)/$html ;;
esac
case $png in
/*) out=$png ;;
*) out=$(pwd)/$png ;;
esac

# A profile of its own: nothing read from or left in $HOME, and two shots
# can run at once.
profile=$(mktemp -d "${TMPDIR:-/tmp}/zm-shot.XXXXXX")
log=$profile.log
trap 'rm -rf "$profile" "$log"' EXIT INT TERM
rm -f "$out"

# --no-sandbox: root in a container has no user namespace for the sandbox.
# --disable-dev-shm-usage: containers often have a tiny /dev/shm.
# --force-device-scale-factor=1: one CSS pixel is one PNG pixel.
# stdin from /dev/null and its chatter (D-Bus and GPU warnings on a bare
# container) in a log, shown only when the shot fails.
# shellcheck disable=SC2086 # $headless is empty or one word
if ! timeout -k 5 "${ZM_SHOT_TIMEOUT:-60}" "$browser" $headless \
	--no-sandbox --disable-gpu --disable-dev-shm-usage --disable-extensions \
	--no-first-run --no-default-browser-check --mute-audio \
	--hide-scrollbars --force-device-scale-factor=1 \
	--user-data-dir="$profile" \
	--window-size="$width,$height" --screenshot="$out" \
	"$url" </dev/null >"$log" 2>&1; then
	cat "$log" >&2
	echo "$0: $browser failed or timed out" >&2
	exit 1
fi
if [ ! -s "$out" ]; then
	cat "$log" >&2
	echo "$0: $browser wrote no screenshot" >&2
	exit 1
fi
