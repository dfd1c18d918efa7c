#!/usr/bin/env python3
"""Peer of mmf_bench: Python's mmap module on the benchmark's own file.

    peer_python.py rand FILE OFFSETS COUNT REPS
        COUNT random 8-byte reads at the first COUNT offsets of OFFSETS
        (native uint64 values), from one mmap of FILE.
    peer_python.py scan FILE OFFSETS COUNT REPS
        map FILE, sum its 8-byte words, unmap (COUNT and OFFSETS unused).

After one warm-up repetition it prints, for each of REPS repetitions, the
nanoseconds it took (CLOCK_MONOTONIC, measured here, so interpreter start-up
is not counted), one number per line.
"""
import array
import mmap
import os
import struct
import sys
import time


def now():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def rand_reads(path, offsets_path, count):
    offsets = array.array("Q")
    with open(offsets_path, "rb") as f:
        offsets.frombytes(f.read(count * 8))
    fd = os.open(path, os.O_RDONLY)
    mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    unpack = struct.Struct("=Q").unpack_from

    def once():
        total = 0
        t0 = now()
        for off in offsets:
            total += unpack(mm, off)[0]
        t1 = now()
        return t1 - t0, total

    return once


def scan(path):
    fd = os.open(path, os.O_RDONLY)

    def once():
        t0 = now()
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        with memoryview(mm) as raw, raw.cast("Q") as words:
            total = sum(words)
        mm.close()
        t1 = now()
        return t1 - t0, total

    return once


def main(argv):
    if len(argv) != 6 or argv[1] not in ("rand", "scan"):
        sys.stderr.write(__doc__)
        return 2
    mode, path, offsets_path = argv[1], argv[2], argv[3]
    count, reps = int(argv[4]), int(argv[5])
    once = rand_reads(path, offsets_path, count) if mode == "rand" else \
        scan(path)
    once()  # warm-up
    sink = 0
    for _ in range(reps):
        ns, total = once()
        sink ^= total
        print(ns, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
