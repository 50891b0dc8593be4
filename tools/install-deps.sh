#!/bin/sh
# Installs what zmtrace needs to build and test, on Debian/Ubuntu (as root);
# elsewhere prints the package list. Quiet and quick when all is there.
set -e
PKGS="make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config libcmocka-dev libncurses-dev jq tmux libcap2-bin util-linux procps strace python3 chromium-headless-shell"
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "zmtrace: not a Debian/Ubuntu system; install: $PKGS" >&2
	exit 0
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "zmtrace: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "zmtrace: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
