#!/bin/sh
# deps.sh: make sure the packages vmsched builds, tests and demos with are
# installed. As root on Debian/Ubuntu it installs what is missing with
# apt-get; otherwise it prints the exact line that would (or the Homebrew
# line on macOS) and fails, so `make check` never runs half-equipped.
#
# usage: tools/deps.sh [--check]   (--check: report only, install nothing)
set -eu

# libvirt-daemon-system and libvirt-clients: tests/test_libvirt.py runs a
# real libvirtd (issue 12).
debs="build-essential pkg-config libsqlite3-dev sqlite3 libplist-dev libplist-utils
libcurl4-openssl-dev libssl-dev check python3 qemu-system-x86 clang libclang-rt-14-dev
mandoc bash-completion zsh python3-prometheus-client libvirt-daemon-system libvirt-clients"
brews="pkg-config sqlite libplist curl openssl check python qemu llvm mandoc
bash-completion zsh node libvirt"

if [ "$(uname -s)" = Darwin ]; then
	missing=
	for p in $brews; do
		brew list --versions "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	echo "deps.sh: missing:$missing" >&2
	echo "deps.sh: run: brew install$missing" >&2
	exit 1
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian-like system; install: $debs" | tr '\n' ' ' >&2
	echo >&2
	exit 1
fi

missing=
for p in $debs; do
	# clang's runtime package name follows its version; accept any.
	case $p in libclang-rt-14-dev)
		dpkg-query -W -f='${Status}\n' 'libclang-rt-*-dev' 2>/dev/null |
		    grep -q 'install ok installed' && continue ;;
	esac
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "${1:-}" = --check ] || [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run as root: apt-get update && $line" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
