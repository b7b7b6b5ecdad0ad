#!/bin/sh
# bench.sh: make bench. Measures the figures README quotes (issues 2 and 3),
# each on whole processes on this machine, and prints each next to its
# target; a figure that misses its target is reported, never a failure (a
# slow machine is not a bug). It fails only when it cannot measure, or when
# the daemon lost track of an exit (that is a bug).
#
#   store   a fresh database with 1,000 VMs and 1,000,000 history rows
#           (seeded through the db/ layer by bench-seed): median wall time
#           of vmsched list, list --json and log NAME --limit 50, and the
#           plan SQLite follows for log
#   daemon  1,000 VMs of a tiny static sleeper (bench-vm): time from
#           vmsched daemon's start until all are up, against a bare
#           fork+exec loop; the daemon's RSS; its CPU over an idle window;
#           restart latency (SIGKILL -> new pid recorded) with zero backoff;
#           how often a VM that exits 1 at once is spawned in its first
#           60 s with the defaults; a crash storm of 200 such VMs with zero
#           backoff and no rate limit: history rows per second, and every
#           spawned process checked against the run rows
#
# BENCH_QUICK=1 shrinks everything (100 VMs, 10,000 rows, windows of a few
# seconds) for a smoke test. Everything lives in one temporary directory;
# every process started here (the daemons, and every process running this
# run's copy of bench-vm) is killed and the directory removed on exit,
# whatever the exit.
#
# usage: sh tools/bench.sh VMSCHED TOOLDIR [RESULTS]
#   TOOLDIR holds bench-seed, bench-time, bench-vm and bench-forkexec;
#   RESULTS (default build/bench/results.txt) gets one "key value" line
#   per figure.

set -u

die() {
	echo "bench: $*" >&2
	if [ -s "${TMP:-/nonexistent}/daemon.log" ]; then
		echo "bench: the daemons' log ends:" >&2
		tail -n 20 "$TMP/daemon.log" >&2
	fi
	exit 1
}

note() {
	echo "bench: $*" >&2
}

[ $# -ge 2 ] || die "usage: sh tools/bench.sh VMSCHED TOOLDIR [RESULTS]"
abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}
VMSCHED=$(abspath "$1")
TOOLS=$(abspath "$2")
RESULTS=$(abspath "${3:-build/bench/results.txt}")
for f in "$VMSCHED" "$TOOLS/bench-seed" "$TOOLS/bench-time" \
    "$TOOLS/bench-vm" "$TOOLS/bench-forkexec"; do
	[ -x "$f" ] || die "$f: not built (make bench builds it)"
done

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	STORE_VMS=100 STORE_ROWS=10000 REPEAT=5
	FLEET=100 IDLE_S=3 RESTARTS=10 FIRST_S=5 STORM_VMS=20 STORM_S=3
else
	STORE_VMS=1000 STORE_ROWS=1000000 REPEAT=30
	FLEET=1000 IDLE_S=30 RESTARTS=50 FIRST_S=60 STORM_VMS=200 STORM_S=20
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmsched-bench.XXXXXX") ||
    die "cannot make a temporary directory"
DAEMONS=""

# Whether process $1 is gone (or a zombie nobody reaped yet).
gone() {
	[ ! -e "/proc/$1" ] && return 0
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z' && return 0
	[ ! -e "/proc/$1" ]
}

# Every live process running this run's bench-vm: our VMs, whoever
# started them (the daemons, the fork+exec baseline).
our_vms() {
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$TMP/bench-vm" ] &&
		    echo "${d#/proc/}"
	done
}

# SIGKILL the processes $@ and every VM of ours. A daemon killed mid-spawn
# may still exec one VM: wait for the daemons to be gone, then sweep twice.
kill_all() {
	for pid in "$@"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for pid in "$@"; do
		n=0
		while ! gone "$pid" && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	done
	for pass in 1 2; do
		for pid in $(our_vms); do
			kill -KILL "$pid" 2>/dev/null
		done
		[ $pass = 1 ] && sleep 0.1
	done
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	kill_all $DAEMONS
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

cp "$TOOLS/bench-vm" "$TMP/bench-vm" || die "cannot copy bench-vm"
mkdir -p "$(dirname "$RESULTS")" || die "cannot make $(dirname "$RESULTS")"
: >"$RESULTS" || die "cannot write $RESULTS"

now_ms() {
	date +%s%3N
}

# calc EXPR [FORMAT]: awk arithmetic, for the figures that are not
# integers.
calc() {
	awk "BEGIN { printf \"${2:-%g}\\n\", $1 }"
}

# verdict VALUE OP LIMIT: "met" or "MISSED", never a failure.
verdict() {
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = op == "<" ? v < l : op == "<=" ? v <= l : v == l
		print ok ? "met" : "MISSED"
	}'
}

# bt WHAT SUBCOMMAND ARG...: bench-time's output into OUT, or die saying
# what failed.
bt() {
	what=$1
	shift
	OUT=$("$TOOLS/bench-time" "$@") || die "$what failed"
}

# A broken promise (not a slow figure): reported at the end, and bench fails.
PROBLEMS=""
problem() {
	PROBLEMS="$PROBLEMS
  $*"
}

result() {
	echo "$1 $2" >>"$RESULTS"
}

# figure LABEL VALUE TARGET: one line of the summary.
figure() {
	printf '  %-46s %-22s %s\n' "$1" "$2" "$3"
}

# Start vmsched daemon on db $1 with options $2... in the background.
daemon_start() {
	db=$1
	shift
	"$VMSCHED" --db "$db" daemon "$@" >>"$TMP/daemon.log" 2>&1 &
	DAEMON=$!
	DAEMONS="$DAEMONS $DAEMON"
}

# SIGTERM the daemon $1 and wait (up to $2 s) for it to stop its VMs and
# exit. If it does not, kill it and every VM, and note the problem.
daemon_stop() {
	kill -TERM "$1" 2>/dev/null
	n=0
	while ! gone "$1" && [ $n -lt $(($2 * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if ! gone "$1"; then
		problem "a daemon ($3) was still running $2 s after SIGTERM"
		kill_all "$1"
	fi
	wait "$1" 2>/dev/null
	return 0
}

# Wait until db $1 has at least $2 runs; the first one's start into FIRST.
wait_runs() {
	n=0
	while :; do
		bt "counting runs in $1" count "$1" 0 9999999999999
		set -- "$1" "$2" $OUT
		[ "$3" -ge "$2" ] && break
		[ $n -ge 300 ] && die "no run recorded in $1 after 30 s"
		sleep 0.1
		n=$((n + 1))
	done
	FIRST=$6
}

echo "vmsched bench: $(nproc) cores, $(uname -r)${BENCH_QUICK:+, BENCH_QUICK=$BENCH_QUICK}"
result cores "$(nproc)"
result quick "${BENCH_QUICK:-0}"

# ---- store (issue 2) ----
runs=$((STORE_ROWS * 9 / 10))
events=$((STORE_ROWS - runs))
note "seeding $STORE_VMS VMs, $runs runs and $events events"
t0=$(now_ms)
"$TOOLS/bench-seed" -n "$STORE_VMS" -r "$runs" -e "$events" \
    "$TMP/store.db" >/dev/null || die "seeding the store failed"
seed_s=$(calc "($(now_ms) - $t0) / 1000" %.1f)
name=$(printf 'bench-%04d' $((STORE_VMS / 2)))
echo
echo "store: $STORE_VMS VMs, $STORE_ROWS history rows ($runs runs, $events events); seeded in $seed_s s"
result store.vms "$STORE_VMS"
result store.rows "$STORE_ROWS"
result store.seed_s "$seed_s"

store_median() {
	key=$1
	label=$2
	shift 2
	bt "$label" median "$REPEAT" "$VMSCHED" \
	    --db "$TMP/store.db" "$@"
	set -- $OUT
	result "store.$key.median_ms" "$1"
	result "store.$key.min_ms" "$2"
	result "store.$key.max_ms" "$3"
	figure "$label" "$1 ms" "(min $2, max $3; target < 20 ms: $(verdict "$1" "<" 20))"
}
echo "  median wall time of $REPEAT runs, whole processes:"
store_median list "vmsched list" list
store_median list_json "vmsched list --json" --json list
store_median log "vmsched log $name --limit 50" log "$name" --limit 50
bt "vmsched help" median "$REPEAT" "$VMSCHED" help
set -- $OUT
result store.startup_ms "$1"
figure "for scale: vmsched help (no database)" "$1 ms" "(process start and dynamic loading)"
bt "timing the queries in process" inproc "$TMP/store.db" "$name" \
    "$REPEAT"
set -- $OUT
result store.inproc.list_ms "$1"
result store.inproc.list_json_ms "$2"
result store.inproc.log_ms "$3"
figure "for scale: the same queries in one process" "$1 / $2 / $3 ms" "(list / list --json / log)"
"$TOOLS/bench-time" plan "$TMP/store.db" "$name" 50 >"$TMP/plan" ||
    die "reading the query plan failed"
uses=no
grep -q 'USING INDEX run_vm_started' "$TMP/plan" &&
    grep -q 'USING INDEX event_vm_time' "$TMP/plan" && uses=yes
result store.log_plan_uses_indexes "$uses"
echo "  query plan of vmsched log $name --limit 50 (uses run_vm_started and event_vm_time: $uses):"
sed 's/^/    /' "$TMP/plan"
rm -f "$TMP/store.db" "$TMP/store.db-wal" "$TMP/store.db-shm"

# ---- daemon (issue 3) ----
echo
echo "daemon: $FLEET VMs of a static sleeper (bench-vm sleep)"
note "defining $FLEET sleepers"
"$TOOLS/bench-seed" -n "$FLEET" -p always -b 0 -f 0 "$TMP/fleet.db" -- \
    "$TMP/bench-vm" sleep >/dev/null || die "defining the fleet failed"
note "fork+exec baseline"
base_ms=$("$TOOLS/bench-forkexec" "$FLEET" "$TMP/bench-vm" sleep) ||
    die "the fork+exec baseline failed"
note "starting the daemon"
bt "starting the daemon" daemon-up "$TMP/fleet.db" \
    "$FLEET" "$TMP/daemon.log" "$VMSCHED" --db "$TMP/fleet.db" daemon
set -- $OUT
DAEMON=$1
DAEMONS="$DAEMONS $DAEMON"
up_ms=$2
ratio=$(calc "$up_ms / $base_ms" %.2f)
result daemon.vms "$FLEET"
result daemon.forkexec_ms "$base_ms"
result daemon.up_ms "$up_ms"
result daemon.up_ratio "$ratio"
figure "all $FLEET up after daemon start" "$up_ms ms" "(fork+exec of $FLEET: $base_ms ms; ${ratio}x; target <= 2x: $(verdict "$ratio" "<=" 2))"

bt "reading /proc/$DAEMON" proc "$DAEMON"
set -- $OUT
rss=$1
rss_mib=$(calc "$rss / 1024" %.1f)
result daemon.rss_kib "$rss"
figure "daemon RSS with $FLEET VMs" "$rss_mib MiB" "(target < 16 MiB: $(verdict "$rss_mib" "<" 16))"

note "idle for $IDLE_S s"
cpu0=$2
sleep "$IDLE_S"
bt "reading /proc/$DAEMON" proc "$DAEMON"
set -- $OUT
idle=$(calc "$2 - $cpu0" %.4f)
result daemon.idle_s "$IDLE_S"
result daemon.idle_cpu_s "$idle"
figure "daemon CPU over $IDLE_S s idle" "$idle s" "(target < 0.05 s per 30 s: $(verdict "$(calc "$idle * 30 / $IDLE_S")" "<" 0.05))"

note "$RESTARTS restarts"
bt "measuring restarts" restart "$TMP/fleet.db" \
    "$RESTARTS"
set -- $OUT
result daemon.restart.median_ms "$1"
result daemon.restart.p90_ms "$2"
result daemon.restart.max_ms "$3"
result daemon.restart.count "$4"
result daemon.restart.timeouts "$5"
if [ "$4" -gt 0 ]; then
	figure "restart latency, median of $4" "$1 ms" \
	    "(p90 $2, max $3; target < 5 ms: $(verdict "$1" "<" 5))"
else
	figure "restart latency" "none seen" "(target < 5 ms: MISSED)"
fi
[ "$5" -eq 0 ] ||
    problem "$5 SIGKILLed VMs had no new pid recorded within 10 s"
bt "reading /proc/$DAEMON" proc "$DAEMON"
set -- $OUT
result daemon.rss_after_restarts_kib "$1"
note "stopping $FLEET VMs"
daemon_stop "$DAEMON" 120 "$FLEET sleepers"
rm -f "$TMP"/fleet.db*

# A VM that exits 1 at once, with every default: backoff 1 s doubling.
expect=0
t=0
d=1
while [ "$t" -lt "$FIRST_S" ]; do
	expect=$((expect + 1))
	t=$((t + d))
	d=$((d * 2))
done
note "a crasher with the defaults for $FIRST_S s"
"$TOOLS/bench-seed" -n 1 -x crash "$TMP/first.db" -- "$TMP/bench-vm" crash \
    "$TMP/first.pids" >/dev/null || die "defining the crasher failed"
daemon_start "$TMP/first.db"
wait_runs "$TMP/first.db" 1
end=$((FIRST + FIRST_S * 1000))
while [ "$(now_ms)" -le "$end" ]; do
	sleep 0.2
done
bt "counting the crasher's runs" count "$TMP/first.db" "$FIRST" "$end"
set -- $OUT
spawned=$1
daemon_stop "$DAEMON" 30 "one crasher"
result first.window_s "$FIRST_S"
result first.spawns "$spawned"
result first.expected "$expect"
figure "a VM exiting 1, spawns in its first $FIRST_S s" "$spawned" "(defaults: backoff 1 s doubling, +-10% jitter: $expect expected)"

# The storm: zero backoff, no breaker, no fleet rate limit.
note "crash storm: $STORM_VMS VMs for $STORM_S s"
"$TOOLS/bench-seed" -n "$STORM_VMS" -x storm -b 0 -f 0 "$TMP/storm.db" -- \
    "$TMP/bench-vm" crash "$TMP/storm.pids" >/dev/null ||
    die "defining the storm failed"
daemon_start "$TMP/storm.db" --max-restart-rate 0
wait_runs "$TMP/storm.db" 1
end=$((FIRST + STORM_S * 1000))
while [ "$(now_ms)" -le "$end" ]; do
	sleep 0.2
done
daemon_stop "$DAEMON" 30 "crash storm"
bt "counting the storm's runs" count "$TMP/storm.db" "$FIRST" "$end"
set -- $OUT
runs_s=$(calc "$1 / $STORM_S" %.0f)
events_s=$(calc "$3 / $STORM_S" %.0f)
bt "counting the storm's runs" count "$TMP/storm.db" 0 9999999999999
set -- $OUT
open=$2
[ -s "$TMP/storm.pids" ] || die "no storm VM ever ran"
bt "checking the storm's exits" unrecorded "$TMP/storm.db" \
    "$TMP/storm.pids"
set -- $OUT
lost=$(($3 + open))
result storm.vms "$STORM_VMS"
result storm.window_s "$STORM_S"
result storm.runs_per_s "$runs_s"
result storm.events_per_s "$events_s"
result storm.spawned "$1"
result storm.runs "$2"
result storm.open_runs "$open"
result storm.unrecorded "$lost"
figure "crash storm, $STORM_VMS VMs, $STORM_S s: history" "$runs_s runs/s" "(and $events_s events/s)"
figure "crash storm: exits not recorded" "$lost" "(of $1 processes spawned, $2 run rows, $open left open; target 0: $(verdict "$lost" "=" 0))"

[ "$lost" -eq 0 ] || problem "$lost exits not recorded in the crash storm"

echo
echo "results: $RESULTS"
[ -z "$PROBLEMS" ] || die "the daemon broke a promise:$PROBLEMS"
exit 0
