#!/bin/sh
# Runs smoke_fault under wine and truncates its file from the host once it
# is mapped (Windows refuses to truncate a mapped file; Linux does not).
#     run_fault.sh WINE EXE
wine=$1
exe=$2
f=mmf-fault-$$.dat
rm -f "$f" "$f.ready"
WINEDEBUG=-all "$wine" "$exe" "$f" &
pid=$!
i=0
while [ ! -e "$f.ready" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
if [ ! -e "$f.ready" ]; then
    kill $pid 2>/dev/null
    echo "smoke_fault never mapped its file"
    exit 1
fi
truncate -s 8192 "$f"
wait $pid
rc=$?
rm -f "$f" "$f.ready"
exit $rc
