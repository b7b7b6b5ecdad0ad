#!/bin/sh
# A VM that crash-loops without ever being up (and without giving up)
# holds every later boot wave for ever, past its --wait-timeout; the VMs
# it holds say "stopped" with no reason. (chaos: crashes; state.)
# Exit 1 while the defect shows.
. "$(dirname "$0")/common.sh"
vm loop exit:1:100 --order 10 --wait-timeout 1s --up-delay 1s \
    --max-failures 0 --backoff-initial 200ms --backoff-max 500ms
vm later run --order 20
daemon; sleep 5
state=$($V list | awk '$1 == "later" { print $4 }')
kill -TERM $D; wait $D; D=
echo "later (order 20), 5 s after boot, 4 s past the crash-looper's wait timeout: $state"
[ "$state" = up ]
