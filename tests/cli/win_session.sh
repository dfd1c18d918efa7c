#!/bin/sh
# mmf.exe under wine: a write and a read back through a file and through a
# named map held by another mmf.exe, the refusals, and `ls`.
#   win_session.sh WINE MMF_EXE WORK_DIR
wine=$1
mmf=$2
work=$3
export WINEDEBUG=-all

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# mmf ARGS...: runs mmf.exe; leaves its status in $rc, its output in out
# and err (carriage returns removed).
mmf() {
    "$wine" "$mmf" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    out=$(tr -d '\r' <"$work/out")
    err=$(tr -d '\r' <"$work/err")
}

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
head -c 4096 /dev/zero >data.bin || exit 1

mmf write data.bin --offset 100 --data hello
[ "$rc" = 0 ] || fail "write: $rc $err"
mmf read data.bin --offset 100 --length 5 --raw
[ "$rc" = 0 ] && [ "$out" = hello ] || fail "read: $rc '$out' $err"
[ "$(od -An -c -j100 -N5 data.bin | tr -d ' ')" = hello ] ||
    fail "the file does not hold the bytes"

mmf write data.bin --offset 4094 --data hello
[ "$rc" = 1 ] || fail "write past the end: $rc"
case $err in
"mmf: data.bin: offset, size or position out of range: writing 5 bytes"*) ;;
*) fail "write past the end said: $err" ;;
esac

mmf info data.bin
[ "$rc" = 0 ] || fail "info: $rc $err"
case $out in
*"size:     4096 bytes"*"resident: unknown (not supported)"*) ;;
*) fail "info said: $out" ;;
esac

# A named map held by a background mmf.exe, used by name.
name=cli-win-$$
"$wine" "$mmf" create "$name" 64K --hold >hold.out 2>&1 &
holder=$!
tries=0
until grep -q '^holding map' hold.out 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 600 ] && kill -0 $holder 2>/dev/null ||
        fail "create --hold: $(cat hold.out)"
    sleep 0.1
done
stop() {
    kill $holder 2>/dev/null
    wait $holder 2>/dev/null
}
trap stop EXIT

mmf write "$name" --offset 8 --data named
[ "$rc" = 0 ] || fail "write by name: $rc $err"
mmf read "$name" --offset 8 --length 5 --raw
[ "$rc" = 0 ] && [ "$out" = named ] || fail "read by name: $rc '$out' $err"
mmf info "$name"
[ "$rc" = 0 ] || fail "info by name: $rc $err"
case $out in
*"kind:     map"*"size:     65536 bytes"*) ;;
*) fail "info by name said: $out" ;;
esac
mmf rm "$name"
[ "$rc" = 1 ] && [ "$err" = "mmf: $name: not supported: this platform removes a name with its last handle only" ] ||
    fail "rm: $rc $err"

# Listing: the held map, or (where the platform cannot list) one line why.
mmf ls
if [ "$rc" = 0 ]; then
    echo "$out" | grep -q "^$name  *map  " || fail "ls: $out"
else
    [ "$rc" = 1 ] && [ "$err" = "mmf: ls: not supported: this platform cannot list named objects (use 'mmf info NAME' for one)" ] ||
        fail "ls: $rc $err"
fi

mmf create x 1Q --hold
[ "$rc" = 2 ] || fail "usage error: $rc $err"

echo "ok"
