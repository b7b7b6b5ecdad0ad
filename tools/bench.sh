#!/bin/sh
# bench.sh: make bench. Measures the figures README quotes (issue 2 item 9,
# issue 3 item 9), each on whole processes on this machine, and prints each
# next to its target. A figure that misses its target is reported, never a
# failure: a slow machine is not a bug. The bench fails when it cannot
# measure, or when the daemon breaks a promise (an exit it did not record,
# a restart that never came, a SIGTERM it did not honour): those are bugs.
#
#   store   a fresh database with 1,000 VMs and 1,000,000 history rows
#           (900,000 runs and 100,000 events, seeded through the db/ layer
#           by bench-seed): median wall time of vmsched list, list --json
#           and log NAME --limit 50, and the plan SQLite follows for log
#   daemon  1,000 VMs of a tiny static sleeper (bench-vm): time from the
#           daemon's start until all are up, against a bare fork+exec loop
#           (bench-forkexec); the daemon's RSS; its CPU over 30 s idle;
#           restart latency (SIGKILL -> new pid recorded) with zero backoff;
#           how often a VM that exits 1 at once is spawned in its first
#           60 s with the defaults; a crash storm of 200 such VMs with zero
#           backoff, no breaker and no rate limit for 20 s: history rows per
#           second, and every process spawned checked against the run rows
#
# BENCH_QUICK=1 shrinks everything (100 VMs, 10,000 rows, windows of a few
# seconds) for a smoke test (tests/test_bench.py). Everything lives in one
# temporary directory under $TMPDIR; on any exit, every process started
# here (the daemons, and whatever runs this run's copy of bench-vm) is
# killed by pid and the directory removed.
#
# usage: sh tools/bench.sh VMSCHED TOOLDIR [RESULTS]
#   TOOLDIR holds bench-seed, bench-time, bench-vm and bench-forkexec;
#   RESULTS (default build/bench/results.txt) gets one "key value" line
#   per figure.

set -u

note() {
	echo "bench: $*" >&2
}

die() {
	note "$*"
	if [ -s "${TMP:-/nonexistent}/daemon.log" ]; then
		note "the daemons' log ends:"
		tail -n 20 "$TMP/daemon.log" >&2
	fi
	exit 1
}

abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

[ $# -ge 2 ] || die "usage: sh tools/bench.sh VMSCHED TOOLDIR [RESULTS]"
VMSCHED=$(abspath "$1")
TOOLS=$(abspath "$2")
RESULTS=$(abspath "${3:-build/bench/results.txt}")
for f in "$VMSCHED" "$TOOLS/bench-seed" "$TOOLS/bench-time" \
    "$TOOLS/bench-vm" "$TOOLS/bench-forkexec"; do
	[ -x "$f" ] || die "$f: not built (make bench builds it)"
done

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	STORE_VMS=100 STORE_ROWS=10000 REPEAT=5
	FLEET=100 IDLE_S=3 RESTARTS=10 FIRST_S=5 STORM_VMS=20 STORM_S=3
else
	STORE_VMS=1000 STORE_ROWS=1000000 REPEAT=30
	FLEET=1000 IDLE_S=30 RESTARTS=50 FIRST_S=60 STORM_VMS=200 STORM_S=20
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmsched-bench.XXXXXX") ||
    die "cannot make a temporary directory"
DAEMONS=""		# every daemon started, by pid
PROBLEMS=""		# broken promises, reported at the end

# Whether process $1 is gone (or a zombie nobody has reaped yet).
gone() {
	[ -e "/proc/$1" ] || return 0
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z' &&
	    return 0
	[ ! -e "/proc/$1" ]
}

# The pids of live processes running this run's copy of bench-vm: our VMs,
# whoever started them (a daemon, the fork+exec baseline).
our_vms() {
	find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$TMP/bench-vm" \
	    2>/dev/null | cut -d/ -f3
}

# SIGKILL the processes $@, then every VM of ours. A daemon killed while
# spawning may still exec one VM: wait until the daemons are gone, then
# sweep twice.
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
		[ $pass = 2 ] || sleep 0.1
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
mkdir -p "$(dirname "$RESULTS")" && : >"$RESULTS" ||
    die "cannot write $RESULTS"

now_ms() {
	date +%s%3N
}

# calc EXPR [FORMAT]: awk's arithmetic, for figures that are not integers.
calc() {
	awk "BEGIN { printf \"${2:-%g}\\n\", $1 }"
}

# verdict VALUE OP LIMIT: "met" or "MISSED"; only ever printed.
verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
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

problem() {
	PROBLEMS="$PROBLEMS
  $*"
}

result() {
	echo "$1 $2" >>"$RESULTS"
}

# figure LABEL VALUE NOTE...: one line of the summary.
figure() {
	label=$1
	value=$2
	shift 2
	printf '  %-44s %-14s %s\n' "$label" "$value" "$*"
}

# daemon_start DB [OPTION...]: vmsched daemon in the background, as DAEMON.
daemon_start() {
	db=$1
	shift
	"$VMSCHED" --db "$db" daemon "$@" >>"$TMP/daemon.log" 2>&1 &
	DAEMON=$!
	DAEMONS="$DAEMONS $DAEMON"
}

# daemon_stop PID TIMEOUT WHAT: SIGTERM, and wait up to TIMEOUT s for the
# daemon to stop its VMs and exit; if it does not, note the problem and
# kill it and every VM.
daemon_stop() {
	kill -TERM "$1" 2>/dev/null
	n=0
	while ! gone "$1" && [ $n -lt $(($2 * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if ! gone "$1"; then
		problem "the daemon ($3) still ran $2 s after SIGTERM"
		kill_all "$1"
	fi
	wait "$1" 2>/dev/null
	return 0
}

# wait_first DB: wait until DB has a run; its start (Unix ms) into FIRST.
wait_first() {
	n=0
	while :; do
		bt "counting the runs of $1" count "$1" 0 9999999999999
		set -- "$1" $OUT
		[ "$2" -gt 0 ] && break
		[ $n -lt 300 ] || die "no run recorded in $1 after 30 s"
		sleep 0.1
		n=$((n + 1))
	done
	FIRST=$5
}

# until_ms T: sleep until Unix ms T.
until_ms() {
	while [ "$(now_ms)" -lt "$1" ]; do
		sleep 0.2
	done
}

commit=$(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null ||
    echo unknown)
echo "vmsched bench: $(nproc) cores, Linux $(uname -r), commit $commit" \
    "$([ "$QUICK" = 1 ] && echo "(BENCH_QUICK=1)")"
result cores "$(nproc)"
result commit "$commit"
result quick "$QUICK"

# ---- store (issue 2) ----
runs=$((STORE_ROWS * 9 / 10))
events=$((STORE_ROWS - runs))
note "seeding $STORE_VMS VMs, $runs runs and $events events"
t0=$(now_ms)
"$TOOLS/bench-seed" -n "$STORE_VMS" -r "$runs" -e "$events" \
    "$TMP/store.db" >/dev/null || die "seeding the store failed"
seed_s=$(calc "($(now_ms) - $t0) / 1000" %.1f)
name=$(printf 'bench-%04d' $((STORE_VMS / 2)))
result store.vms "$STORE_VMS"
result store.rows "$STORE_ROWS"
result store.seed_s "$seed_s"
echo
echo "store: $STORE_VMS VMs, $STORE_ROWS history rows" \
    "($runs runs, $events events), seeded in $seed_s s"
echo "  median wall time of $REPEAT runs, whole processes:"

# store_median KEY LABEL ARG...: time vmsched --db store.db ARG...
store_median() {
	key=$1
	label=$2
	shift 2
	bt "$label" median "$REPEAT" "$VMSCHED" --db "$TMP/store.db" "$@"
	set -- $OUT
	result "store.$key.median_ms" "$1"
	result "store.$key.min_ms" "$2"
	result "store.$key.max_ms" "$3"
	figure "$label" "$1 ms" \
	    "(min $2, max $3; target < 20 ms: $(verdict "$1" "<" 20))"
}
store_median list "vmsched list" list
store_median list_json "vmsched list --json" --json list
store_median log "vmsched log $name --limit 50" log "$name" --limit 50
bt "vmsched help" median "$REPEAT" "$VMSCHED" help
set -- $OUT
result store.startup_ms "$1"
figure "for scale: vmsched help (no database)" "$1 ms" \
    "(starting the process and loading its libraries)"
bt "timing the queries in one process" inproc "$TMP/store.db" "$name" \
    "$REPEAT"
set -- $OUT
result store.inproc.list_ms "$1"
result store.inproc.list_json_ms "$2"
result store.inproc.log_ms "$3"
figure "for scale: the same queries in one process" "$1 / $2 / $3 ms" \
    "(list / list --json / log: the SQL alone)"
bt "reading the query plan" plan "$TMP/store.db" "$name" 50
printf '%s\n' "$OUT" >"$TMP/plan"
uses=no
grep -q 'USING INDEX run_vm_started' "$TMP/plan" &&
    grep -q 'USING INDEX event_vm_time' "$TMP/plan" && uses=yes
result store.log_plan_uses_indexes "$uses"
echo "  query plan of vmsched log $name --limit 50" \
    "(run_vm_started and event_vm_time: $uses):"
sed 's/^/    /' "$TMP/plan"
rm -f "$TMP"/store.db*

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
bt "starting the daemon" daemon-up "$TMP/fleet.db" "$FLEET" \
    "$TMP/daemon.log" "$VMSCHED" --db "$TMP/fleet.db" daemon
set -- $OUT
DAEMON=$1
DAEMONS="$DAEMONS $DAEMON"
up_ms=$2
ratio=$(calc "$up_ms / $base_ms" %.2f)
result daemon.vms "$FLEET"
result daemon.forkexec_ms "$base_ms"
result daemon.up_ms "$up_ms"
result daemon.up_ratio "$ratio"
figure "all $FLEET up, from the daemon's start" "$up_ms ms" \
    "(fork+exec of $FLEET: $base_ms ms, so ${ratio}x;" \
    "target <= 2x: $(verdict "$ratio" "<=" 2))"

bt "reading /proc/$DAEMON" proc "$DAEMON"
set -- $OUT
rss_mib=$(calc "$1 / 1024" %.1f)
cpu0=$2
result daemon.rss_kib "$1"
figure "daemon RSS with $FLEET VMs" "$rss_mib MiB" \
    "(target < 16 MiB: $(verdict "$rss_mib" "<" 16))"

note "idle for $IDLE_S s"
sleep "$IDLE_S"
bt "reading /proc/$DAEMON" proc "$DAEMON"
set -- $OUT
idle=$(calc "$2 - $cpu0" %.4f)
result daemon.idle_s "$IDLE_S"
result daemon.idle_cpu_s "$idle"
figure "daemon CPU over $IDLE_S s idle" "$idle s" \
    "(target < 0.05 s per 30 s:" \
    "$(verdict "$(calc "$idle * 30 / $IDLE_S")" "<" 0.05))"

note "$RESTARTS restarts"
bt "measuring restarts" restart "$TMP/fleet.db" "$RESTARTS"
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
    problem "$5 VMs killed had no new pid recorded within 10 s"
bt "reading /proc/$DAEMON" proc "$DAEMON"
set -- $OUT
result daemon.rss_after_restarts_kib "$1"
note "stopping $FLEET VMs"
daemon_stop "$DAEMON" 120 "$FLEET sleepers"
rm -f "$TMP"/fleet.db*

# A VM that exits 1 at once, with every default: a backoff of 1 s that
# doubles, so starts at 0, 1, 3, 7, 15, 31, 63 s...
expect=0
t=0
d=1
while [ "$t" -lt "$FIRST_S" ]; do
	expect=$((expect + 1))
	t=$((t + d))
	d=$((d * 2))
done
note "a crasher with the defaults for $FIRST_S s"
"$TOOLS/bench-seed" -n 1 -x crash "$TMP/first.db" -- "$TMP/bench-vm" \
    crash "$TMP/first.pids" >/dev/null || die "defining the crasher failed"
daemon_start "$TMP/first.db"
wait_first "$TMP/first.db"
end=$((FIRST + FIRST_S * 1000))
until_ms "$end"
bt "counting the crasher's runs" count "$TMP/first.db" "$FIRST" "$end"
set -- $OUT
spawns=$1
daemon_stop "$DAEMON" 30 "one crasher"
result first.window_s "$FIRST_S"
result first.spawns "$spawns"
result first.expected "$expect"
figure "a VM exiting 1: spawns in its first $FIRST_S s" "$spawns" \
    "(defaults, backoff 1 s doubling +-10%: $expect expected)"

# The storm: zero backoff, no breaker, no fleet rate limit.
note "crash storm: $STORM_VMS VMs for $STORM_S s"
"$TOOLS/bench-seed" -n "$STORM_VMS" -x storm -b 0 -f 0 "$TMP/storm.db" -- \
    "$TMP/bench-vm" crash "$TMP/storm.pids" >/dev/null ||
    die "defining the storm failed"
daemon_start "$TMP/storm.db" --max-restart-rate 0
wait_first "$TMP/storm.db"
end=$((FIRST + STORM_S * 1000))
until_ms "$end"
daemon_stop "$DAEMON" 30 "crash storm"
bt "counting the storm's runs" count "$TMP/storm.db" "$FIRST" "$end"
set -- $OUT
runs_s=$(calc "$1 / $STORM_S" %.0f)
events_s=$(calc "$3 / $STORM_S" %.0f)
bt "counting the storm's runs" count "$TMP/storm.db" 0 9999999999999
set -- $OUT
open=$2
[ -s "$TMP/storm.pids" ] || die "no VM of the storm ever ran"
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
figure "crash storm, $STORM_VMS VMs, $STORM_S s: history" \
    "$runs_s runs/s" "(and $events_s events/s)"
figure "crash storm: exits not recorded" "$lost" \
    "(of $1 processes spawned: $2 run rows, $open left open;" \
    "target 0: $(verdict "$lost" "=" 0))"
[ "$lost" -eq 0 ] || problem "$lost exits not recorded in the crash storm"

echo
echo "results: $RESULTS"
[ -z "$PROBLEMS" ] || die "the daemon broke a promise:$PROBLEMS"
exit 0
