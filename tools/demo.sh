#!/bin/sh
# demo.sh: `make demo`. A sample fleet in a temporary database: a network
# VM that waits for the hypervisor's vmnet file (which appears 2 s in), a
# database VM after it, a web VM after that, and a VM that crashes at once.
# Shows the boot plan, the boot in waves, the crasher backed off until it
# is given up, its history, the events arriving at a webhook receiver on
# 127.0.0.1, and the shutdown. A real QEMU runs detached beside them (issue
# 12): added with --qemu, paused by suspend and resumed by start, powered
# down through its monitor at the shutdown. Takes about 30 seconds.
set -eu

VMSCHED=${VMSCHED:-./vmsched}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmsched-demo.XXXXXX")
export VMSCHED_DB="$tmp/vmsched.db"
daemon=
receiver=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" || true
	[ -n "$receiver" ] && kill "$receiver" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ vmsched %s\n' "$*"; "$VMSCHED" "$@"; }
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	n=$(($1 * 10)); shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "demo: timed out: $*" >&2; exit 1; }
		sleep 0.1
	done
}
state_is() { "$VMSCHED" --json show "$1" | grep -q "\"state\":\"$2\""; }

say "A sample fleet (database: $VMSCHED_DB)"
run add vmnet --order 10 --wait-path "$tmp/vmnet-bridge-vmnet0.pid" \
    --restart always -- sleep 3600
run add db --order 20 --after vmnet --up-delay 1s -- sleep 3600
run add web --order 30 --after db --restart always -- sleep 3600
run add crasher --order 30 --up-delay 1s --backoff-initial 250ms --max-failures 5 \
    -- sh -c 'echo "cannot open Test.vmx" >&2; exit 1'
qemu=$(command -v qemu-system-x86_64 || true)
if [ -n "$qemu" ]; then
	run add qemu-vm --order 15 --qemu --stop-timeout 3s --status-interval 1s \
	    -- qemu-system-x86_64 -machine none -nodefaults -display none
fi
run list

say "The boot plan: waves by order and --after, with gates"
run plan
if [ -n "$qemu" ]; then
	say "--qemu expanded into a detached definition: pid file, QMP socket, commands"
	"$VMSCHED" show qemu-vm | grep -E '^(command|driver|liveness|stop-cmd|suspend-cmd|resume-cmd|kill-cmd) '
fi

say "A webhook receiver on 127.0.0.1 (tests/webhook_receiver.py)"
python3 tests/webhook_receiver.py --log "$tmp/hooks.jsonl" \
    --port-file "$tmp/port" >/dev/null &
receiver=$!
wait_for 5 test -s "$tmp/port"
run webhook set "http://127.0.0.1:$(cat "$tmp/port")/hook" --secret demo \
    --events 'vm.up,vm.failed,vm.blocked,scheduler.*'

say "Boot: vmnet waits for the hypervisor's file, the rest follow in waves"
"$VMSCHED" daemon 2>"$tmp/daemon.log" &
daemon=$!
wait_for 5 state_is vmnet waiting
run list
echo "(the hypervisor comes up: creating vmnet-bridge-vmnet0.pid)"
sleep 2
touch "$tmp/vmnet-bridge-vmnet0.pid"
wait_for 10 state_is web up
run list
if [ -n "$qemu" ]; then
	say "The detached QEMU: suspend pauses it (QMP stop), start resumes it (cont)"
	wait_for 20 state_is qemu-vm up
	run suspend qemu-vm
	run qmp "$tmp/run/qemu-vm.qmp" query-status
	run start qemu-vm
	run qmp "$tmp/run/qemu-vm.qmp" query-status
	run log qemu-vm --limit 4
fi

say "The crasher is backed off (250ms, 500ms, 1s, 2s) and then given up"
wait_for 20 state_is crasher failed
run log crasher --limit 12

say "Events that reached the webhook receiver (signed, in order)"
wait_for 10 grep -q '"X-Vmsched-Event": "vm.failed"' "$tmp/hooks.jsonl"
# shellcheck disable=SC2016
python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = json.loads(r["body"])
    vm = (b.get("vm") or {}).get("name", "-")
    print("  #%-3s %-20s %-8s %s" % (b["id"], b["event"], vm,
          r["headers"].get("X-Vmsched-Signature-256", "")[:23] + "..."))
' "$tmp/hooks.jsonl"

say "Shutdown: the daemon stops the waves in reverse (QEMU: system_powerdown, then SIGTERM)"
kill -TERM "$daemon"
wait "$daemon" || true
daemon=
run list
run log --limit 8
echo
echo "The daemon's own log:"
sed 's/^/  /' "$tmp/daemon.log"
