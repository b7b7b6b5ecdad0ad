#!/bin/sh
# The daemon acts on requests (and on adoptions) inside the SELECT that
# loads them; a write by anyone else meanwhile (here the daemon's own
# webhook sender) makes its BEGIN IMMEDIATE fail at once
# (SQLITE_BUSY_SNAPSHOT, no busy wait): "recording stopping: database is
# locked", and the change is lost. (chaos: crashes; one-run, run-closed,
# state.) Exit 1 while the defect shows.
. "$(dirname "$0")/common.sh"
python3 "$(dirname "$0")/../../webhook_receiver.py" --log "$T/req.jsonl" \
    --port-file "$T/port" --brief >/dev/null 2>&1 & R=$!
trap 'kill $R 2>/dev/null; cleanup' EXIT INT TERM
while [ ! -s "$T/port" ]; do sleep 0.05; done
$V webhook set "http://127.0.0.1:$(cat "$T/port")/"
for i in $(seq 1 60); do vm "vm$i" run --stop-timeout 1s; done
daemon; sleep 2
for round in 1 2 3; do
	for i in $(seq 1 60); do $V stop "vm$i" --no-wait; done; sleep 1
	for i in $(seq 1 60); do $V start "vm$i" --no-wait; done; sleep 1
done
sleep 2
notup=$($V list | awk 'NR > 1 && $4 != "up"' | wc -l)
kill -TERM $D; wait $D; D=
failed=$(grep -c 'database is locked' "$T/daemon.log")
echo "daemon writes that failed: $failed; VMs not up after start: $notup"
grep -m 3 'database is locked' "$T/daemon.log"
[ "$failed" -eq 0 ] && [ "$notup" -eq 0 ]
