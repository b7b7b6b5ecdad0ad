# common.sh: what the repro scripts share. Each makes its own folder, runs
# chaos-vm VMs (their book is the truth), and kills on exit only what it
# started: the daemon by its pid, VMs by the pids their book names (and
# only while their argv still names the folder).
V=${VMSCHED:-./vmsched}
VM=${CHAOS_VM:-build/plain/tests/chaos-vm}
T=$(mktemp -d /tmp/vmsched-repro.XXXXXX)
mkdir -p "$T/vms/locks"
export VMSCHED_DB="$T/db/v.db"
D=
cleanup() {
	[ -n "$D" ] && kill -KILL "$D" 2>/dev/null
	for pid in $(awk '$1 == "S" { print $2 }' "$T/vms/book" 2>/dev/null); do
		{ tr '\0' ' ' < /proc/$pid/cmdline; } 2>/dev/null |
		    grep -q "$T/" && kill -KILL "$pid" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT INT TERM
vm() {	# vm NAME BEHAVIOUR [add options...]
	name=$1 behaviour=$2; shift 2
	$V add "$name" "$@" -- "$VM" "$T/vms" "$name" 1 "$behaviour" >/dev/null
}
daemon() { $V daemon >>"$T/daemon.log" 2>&1 & D=$!; }
# Processes of the book still running (not zombies).
live() {
	for pid in $(awk '$1 == "S" { print $2 }' "$T/vms/book" 2>/dev/null); do
		st=$(awk '{ sub(/.*\) /, ""); print $1 }' /proc/$pid/stat 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && echo "$pid"
	done
}
