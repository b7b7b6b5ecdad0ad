#!/bin/sh
# A daemon SIGKILLed between spawning a VM and recording its run leaves a
# process no run row names; the next daemon starts a second copy, and the
# first one outlives the final shutdown. (chaos: crashes; one-process,
# one-run, no-leftover.) Exit 1 while the defect shows.
. "$(dirname "$0")/common.sh"
for i in $(seq 1 50); do vm "vm$i" run; done
for try in 1 2 3 4 5; do
	daemon; sleep 0.0$((try * 2)); kill -KILL $D; wait $D 2>/dev/null
done
daemon; sleep 2
kill -TERM $D; wait $D; D=
dups=$(awk '$1 == "S" && $8 != 0' "$T/vms/book" | wc -l)
norun=0
for pid in $(awk '$1 == "S" { print $2 }' "$T/vms/book"); do
	[ -z "$(sqlite3 "$VMSCHED_DB" "SELECT id FROM run WHERE pid = $pid")" ] &&
	    norun=$((norun + 1))
done
left=$(live | wc -l)
echo "started a second copy: $dups; processes without a run row: $norun;" \
    "still running after SIGTERM: $left"
[ "$dups" -eq 0 ] && [ "$norun" -eq 0 ] && [ "$left" -eq 0 ]
