#!/usr/bin/env python3
"""End-to-end tests of the `mmf` command, run against the built binary.

    test_cli.py --mmf PATH/TO/mmf --work DIR CASE

runs test_CASE (tools/CMakeLists.txt registers each as the CTest test
cli_CASE). Objects are named after the case and this process's id, so the
cases can run in parallel with each other and with the library's tests;
each case removes what it made. Readiness of `mmf create --hold` is its
first line of output, never a sleep.
"""
import argparse
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys

MMF = ""
WORK = ""
CASE = ""
HERE = os.path.dirname(os.path.abspath(__file__))
MAN_PAGE = os.path.join(HERE, "..", "..", "docs", "mmf.1")

# Every command and its options, as `mmf help COMMAND` and the man page
# must document them.
OPTIONS = {
    "ls": ["--json"],
    "info": ["--json", "--name", "--path"],
    "create": ["--mode", "--keep", "--hold", "--file", "--mutex"],
    "read": ["--offset", "--length", "--hex", "--raw", "--name", "--path"],
    "write": ["--offset", "--data", "--file", "--sync", "--name", "--path"],
    "rm": ["--force", "--mutex"],
    "touch": [],
    "evict": [],
    "version": [],
    "help": [],
}


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(*args, data=None, cwd=None):
    """Runs mmf; returns (exit status, stdout bytes, stderr text)."""
    p = subprocess.run([MMF, *args], input=data, capture_output=True,
                       cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def ok(*args, data=None, cwd=None):
    """Runs mmf, which must succeed quietly on stderr; returns stdout."""
    rc, out, err = run(*args, data=data, cwd=cwd)
    check(rc == 0 and err == "",
          f"mmf {' '.join(args)}: exit {rc}, stderr {err!r}")
    return out


def text(*args, **kw):
    return ok(*args, **kw).decode()


def fails(args, status, message, data=None):
    """mmf must exit with `status`, print nothing on stdout and exactly the
    one line `message` (a str, or a compiled pattern) on stderr."""
    rc, out, err = run(*args, data=data)
    where = f"mmf {' '.join(args)}"
    check(rc == status, f"{where}: exit {rc}, not {status} ({err!r})")
    check(out == b"", f"{where}: stdout {out!r}")
    check(err.endswith("\n") and err.count("\n") == 1,
          f"{where}: not one line on stderr: {err!r}")
    line = err[:-1]
    if isinstance(message, str):
        check(line == message, f"{where}: stderr {line!r}, not {message!r}")
    else:
        check(message.fullmatch(line), f"{where}: stderr {line!r}")


def out_of_range(obj, what):
    """The message of a range the object cannot hold."""
    return f"mmf: {obj}: offset, size or position out of range: {what}"


def past_end(obj, verb, count, offset, size):
    return out_of_range(obj, f"{verb} {count} bytes at offset {offset} would "
                        f"pass the end (size {size})" +
                        ("; nothing written" if verb == "writing" else ""))


def name(tag=""):
    return f"cli-{CASE}{tag}-{os.getpid()}"


def listing():
    return json.loads(text("ls", "--json"))


def listed(n, kind=None):
    found = [o for o in listing() if o["name"] == n and
             (kind is None or o["kind"] == kind)]
    check(len(found) <= 1, f"{n} listed twice: {found}")
    return found[0] if found else None


def info_json(arg, *opts):
    return json.loads(text("info", arg, "--json", *opts))


def gone(n):
    fails(["info", n], 1, f"mmf: {n}: no such file or named object")
    check(listed(n) is None, f"{n} still listed")
    for leftover in (n, ".mmf-map." + n, ".mmf-mtx." + n):
        check(not os.path.exists("/dev/shm/" + leftover),
              f"/dev/shm/{leftover} left behind")


class Holder:
    """`mmf create ... --hold` in the background."""

    def __init__(self, *args):
        self.p = subprocess.Popen([MMF, "create", *args, "--hold"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.first = self.p.stdout.readline()  # printed once it holds
        if not self.first.startswith("holding "):
            self.p.kill()
            self.p.wait()
            raise Failure(f"mmf create {' '.join(args)} --hold: "
                          f"{self.first!r} {self.p.stderr.read()!r}")
        check(f"pid {self.p.pid}" in self.first, self.first)

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        """SIGTERM: releases cleanly and exits 0."""
        self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=60)
        check(self.p.returncode == 0 and err == "",
              f"holder: exit {self.p.returncode}, stderr {err!r}")
        check("released " in out, f"holder said {out!r}")

    def kill(self):
        self.p.kill()
        self.p.communicate(timeout=60)

    def close(self):
        if self.p.poll() is None:
            self.kill()
        self.p.stdout.close()
        self.p.stderr.close()


def workdir():
    d = os.path.join(WORK, f"{CASE}-{os.getpid()}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def hexdump(data, start=0):
    """The dump `mmf read --hex` prints, as hexdump -C does."""
    end = start + len(data)
    width = max(8, len(f"{end:x}"))
    lines, prev, starred = [], None, False
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16]
        if len(chunk) == 16 and chunk == prev:
            if not starred:
                lines.append("*")
            starred = True
            continue
        starred = False
        if len(chunk) == 16:
            prev = chunk
        cells = [f"{b:02x}" for b in chunk] + ["  "] * (16 - len(chunk))
        left, right = " ".join(cells[:8]), " ".join(cells[8:])
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
        lines.append(f"{start + i:0{width}x}  {left}  {right}  |{ascii_}|")
    if data:
        lines.append(f"{end:0{width}x}")
    return "".join(line + "\n" for line in lines)


# ---- the cases ----

def test_version():
    for args in (["version"], ["--version"], ["-V"]):
        out = text(*args)
        check(re.fullmatch(r"mmf \d+\.\d+\.\d+ \(libmmf \d+\.\d+\.\d+\)\n",
                           out), out)


def test_help():
    with open(MAN_PAGE, encoding="utf-8") as f:
        man = f.read().replace("\\-", "-").replace("\\fB", "") \
                      .replace("\\fR", "").replace("\\fI", "")
    overview = text("help")
    check(text("--help") == overview and text("-h") == overview, "mmf -h")
    for cmd, opts in OPTIONS.items():
        check(re.search(rf"^  {cmd} ", overview, re.M), f"help lists {cmd}")
        page = text("help", cmd)
        check(page.startswith(f"usage: mmf {cmd}"), page)
        check(text(cmd, "--help") == page and text(cmd, "-h") == page,
              f"mmf {cmd} --help")
        for opt in opts + ["--help"]:
            check(re.search(rf"^  (-h, )?{opt}\b", page, re.M),
                  f"mmf help {cmd} documents {opt}")
            check(opt in man, f"the man page documents {cmd} {opt}")
        check(re.search(rf"^\.SS {cmd}\b", man, re.M) or cmd == "help",
              f"the man page has a section on {cmd}")
        check(max(len(line) for line in page.splitlines()) < 80,
              f"mmf help {cmd} fits 80 columns")
    for said, in_man in (("NAME or PATH", ".SH NAMES AND PATHS"),
                         ("Exit status: 0", ".SH EXIT STATUS"),
                         ("0x hexadecimal", ".SH NUMBERS")):
        check(said in overview, f"mmf help: {said}")
        check(in_man in man, f"man page: {in_man}")


def test_hold_session():
    n = name()
    h = Holder(n, "64K", "--mode", "0660")
    try:
        check(f'holding map "{n}": 65536 bytes (64.0 KiB), mode 0660, '
              f"pid {h.pid}\n" == h.first, h.first)
        row = [line for line in text("ls").splitlines()
               if line.split()[0] == n]
        check(len(row) == 1 and row[0].split()[1:] ==
              ["map", "64.0", "KiB", "0660", row[0].split()[5], "1", "live"],
              f"ls: {row}")
        o = listed(n)
        check(o == {"name": n, "kind": "map", "size": 65536, "mode": "0660",
                    "owner": os.getuid(), "owner_name": o["owner_name"],
                    "holders": 1, "stale": False, "state": "live",
                    "path": None}, f"ls --json: {o}")
        desc = text("info", n)
        check(f"holders:  1 process: {h.pid} (mmf)\n" in desc, desc)
        check("state:    live\n" in desc and "size:     65536 bytes" in desc,
              desc)
        j = info_json(n)
        check(j["name"] == n and len(j["objects"]) == 1, j)
        check(j["objects"][0]["pids"] == [h.pid], j)

        # bytes in and out
        ok("write", n, "--offset", "0x10", "--data", "hello, world")
        check(ok("read", n, "--offset", "16", "--length", "12", "--raw") ==
              b"hello, world", "read back")
        blob = bytes(range(256)) * 4
        src = os.path.join(workdir(), "blob")
        with open(src, "wb") as f:
            f.write(blob)
        ok("write", n, "--offset", "1K", "--file", src)
        ok("write", n, "--offset", "2K", "-", data=blob[::-1])
        whole = ok("read", n)
        check(len(whole) == 65536, "read to the end")
        check(whole[16:28] == b"hello, world" and
              whole[1024:2048] == blob and whole[2048:3072] == blob[::-1],
              "written bytes")
        check(text("read", n, "--hex", "--length", "4K") ==
              hexdump(whole[:4096]), "hex dump")

        # refusals leave the bytes alone
        fails(["write", n, "--offset", "65530", "--data", "0123456789"], 1,
              past_end(n, "writing", 10, 65530, 65536))
        fails(["read", n, "--offset", "64K", "--length", "1"], 1,
              past_end(n, "reading", 1, 65536, 65536))
        check(ok("read", n) == whole, "unchanged after refusals")
        fails(["rm", n], 1,
              f"mmf: {n}: busy: held or in use elsewhere: held by 1 process: "
              f"{h.pid} (mmf); --force removes the name anyway (holders keep "
              f"their memory)")
        fails(["create", n, "1K", "--keep"], 1,
              f"mmf: {n}: file or named object already exists")
        check(listed(n)["holders"] == 1, "no holder left by the commands")
        h.stop()
        gone(n)
    finally:
        h.close()


def test_killed_holder():
    n = name()
    h = Holder(n, "4096")
    try:
        h.kill()
        o = listed(n)
        check(o is not None and o["stale"] and o["holders"] == 0 and
              o["state"] == "stale", f"after SIGKILL: {o}")
        desc = text("info", n)
        check("holders:  0 processes\n" in desc and
              "state:    stale (every holder died" in desc, desc)
        check(info_json(n)["objects"][0]["pids"] == [], "no pids")
        check(listed(n)["stale"], "info changes nothing")
        ok("rm", n)
        gone(n)
    finally:
        h.close()


def test_keep():
    n = name()
    try:
        out = text("create", n, "8K", "--keep", "--mode", "600")
        check(out == f'created map "{n}": 8192 bytes (8.0 KiB), mode 0600, '
              f"kept until 'mmf rm {n}'\n", out)
        o = listed(n)
        check(o["holders"] == 0 and not o["stale"] and o["state"] == "kept",
              f"kept: {o}")
        check("state:    kept (no holder" in text("info", n), "info kept")
        ok("write", n, "--offset", "8191", "--data", "Z")
        check(ok("read", n, "--offset", "8190") == b"\0Z", "kept bytes")
        ok("rm", n)
        gone(n)
        fails(["rm", n], 1, f"mmf: {n}: no such file or named object")
    finally:
        run("rm", n)


def test_rm_force():
    n = name()
    h = Holder(n, "1M")
    try:
        ok("write", n, "--data", "still mine")
        ok("rm", n, "--force")
        check(listed(n) is None, "removed while held")
        check(h.p.poll() is None, "the holder lives on")
        # The name is free again: a new map of it is a different one.
        ok("create", n, "4K", "--keep")
        check(ok("read", n, "--length", "10") == b"\0" * 10, "a new map")
        ok("rm", n)
        h.stop()
        gone(n)
    finally:
        h.close()
        run("rm", "--force", n)


def test_file_map():
    n = name()
    d = workdir()
    path = os.path.join(d, "data.bin")
    with open(path, "wb") as f:
        f.write(b"persisted!" + b"\0" * 9990)
    h = Holder(n, "--file", path)
    try:
        check(f'holding file map "{n}" of {path}: 10000 bytes' in h.first,
              h.first)
        o = listed(n)
        check(o["kind"] == "file_map" and o["path"] == os.path.realpath(path)
              and o["size"] == 10000 and o["holders"] == 1, f"ls: {o}")
        j = info_json(n)["objects"][0]
        r = j["residency"]
        check(r["pages"] == (10000 + r["page_size"] - 1) // r["page_size"] and
              0 <= r["resident_pages"] <= r["pages"], f"residency {r}")
        check(ok("read", n, "--length", "10") == b"persisted!", "read name")
        ok("write", n, "--offset", "9998", "--data", "ok")
        with open(path, "rb") as f:
            check(f.read()[9998:] == b"ok", "written through to the file")
        p = info_json(path)
        check(p["maps"] == [n] and p["kind"] == "file" and
              p["size"] == 10000, f"info PATH: {p}")
        check(f"maps:     {n}\n" in text("info", path), "info PATH text")
        h.stop()
        gone(n)
        check(os.path.exists(path), "the file stays")
    finally:
        h.close()


def test_mutex():
    n = name()
    h = Holder(n, "--mutex", "--mode", "0640")
    try:
        check(f'holding mutex "{n}", mode 0640, pid {h.pid}\n' == h.first,
              h.first)
        o = listed(n, "mutex")
        check(o["holders"] == 1 and o["mode"] == "0640" and o["size"] == 0,
              f"ls: {o}")
        check(listed(n, "map") is None, "no map of that name")
        desc = text("info", n)
        check("kind:     mutex\n" in desc and "size:" not in desc, desc)
        fails(["rm", n], 1, f"mmf: {n}: no such file or named object")
        fails(["rm", "--mutex", n], 1,
              f"mmf: {n}: busy: held or in use elsewhere: held by 1 process: "
              f"{h.pid} (mmf); a mutex's name lives exactly as long as its "
              f"holders")
        fails(["rm", "--mutex", "--force", n], 1,
              re.compile(rf"mmf: {n}: not supported: held by .*"))
        h.kill()
        check(listed(n, "mutex")["stale"], "stale after SIGKILL")
        ok("rm", "--mutex", n)
        gone(n)
    finally:
        h.close()


def test_file_io():
    d = workdir()
    path = os.path.join(d, "data.bin")
    data = bytes((i * 7) & 0xFF for i in range(20000))
    with open(path, "wb") as f:
        f.write(data)
    ok("write", path, "--offset", "100", "--data", "abc")
    data = data[:100] + b"abc" + data[103:]
    check(ok("read", path) == data, "whole file")
    check(ok("read", path, "--offset", "0x64", "--length", "3") == b"abc",
          "hex offset")
    check(ok("read", path, "--offset", "20000") == b"", "empty at the end")
    check(ok("read", path, "--offset", "5", "--length", "0") == b"",
          "--length 0")
    # Relative: a file that exists is a PATH, unless --name says otherwise.
    check(ok("read", "data.bin", "--length", "3", cwd=d) == data[:3],
          "relative path")
    fails(["read", "--name", "data.bin-" + str(os.getpid())], 1,
          f"mmf: data.bin-{os.getpid()}: no such file or named object")
    rc, _, err = run("read", "--name", "data.bin", cwd=d)
    check(rc == 1 and "no such file or named object" in err, err)

    empty = os.path.join(d, "empty")
    open(empty, "wb").close()
    check(ok("read", empty) == b"", "empty file")
    fails(["write", empty, "--data", "x"], 1,
          past_end(empty, "writing", 1, 0, 0))
    ok("write", empty, "--data", "")

    desc = text("info", path)
    check(re.search(r"^resident: \d+ of 5 pages \(", desc, re.M) and
          re.search(r"^          \[[Oo ]{5}\]$", desc, re.M), desc)
    ok("touch", path)
    r = info_json(path)["residency"]
    check(r["resident_pages"] == r["pages"] == 5 and
          r["resident_bytes"] == 20000, f"after touch: {r}")
    out = text("evict", path)
    check(re.fullmatch(rf"{re.escape(path)}: evicted; \d+ of 5 pages in the "
                       r"page cache \(\d+\.\d%\)\n", out), out)
    check(ok("read", path) == data, "evict keeps the data")
    check(text("touch", empty) == f"{empty}: loaded; 0 of 0 pages in the "
          "page cache (0.0%)\n", "touch empty")


def test_hexdump():
    d = workdir()
    path = os.path.join(d, "dump")
    data = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\n\t\x7f\x80\xff" + b"\0" * 100 + \
        b"end"
    with open(path, "wb") as f:
        f.write(data)
    check(text("read", path, "--hex") == hexdump(data), "hex dump")
    check(text("read", path, "--hex", "--offset", "3", "--length", "40") ==
          hexdump(data[3:43], 3), "hex dump of a range")
    check(text("read", path, "--hex", "--length", "0") == "", "empty dump")
    # Offsets beyond 32 bits widen the offset column (a sparse file).
    big = os.path.join(d, "big")
    with open(big, "wb") as f:
        f.truncate((1 << 32) + 32)
    ok("write", big, "--offset", "4G", "--data", "far")
    check(text("read", big, "--hex", "--offset", "0x100000000") ==
          hexdump(b"far" + b"\0" * 29, 1 << 32), "wide offsets")


def test_json_escaping():
    n = f'cli "quoted" \u0027x\u0027 {os.getpid()}'
    try:
        ok("create", n, "1K", "--keep")
        o = listed(n)
        check(o is not None and o["name"] == n, f"ls --json: {o}")
        check(info_json(n)["objects"][0]["name"] == n, "info --json")
        ok("write", n, "--data", "q")
        ok("rm", n)
        check(listed(n) is None, "removed")
    finally:
        run("rm", n)
    d = workdir()
    odd = os.path.join(d, 'a "b"\\c\td')
    with open(odd, "wb") as f:
        f.write(b"x")
    check(info_json(odd)["path"] == odd, "path escaped")


def test_numbers():
    n = name()
    try:
        for size, want in (("4096", 4096), ("0x1000", 4096), ("4K", 4096),
                           ("4k", 4096), ("0x2K", 2048), ("1M", 1 << 20),
                           ("1g", 1 << 30), ("0X10", 16)):
            ok("create", n, size, "--keep")
            check(listed(n)["size"] == want, f"size {size}")
            ok("rm", n)
        ok("create", n, "3K", "--keep")
        ok("write", n, "--offset", "0x800", "--data", "x")
        check(ok("read", n, "--offset", "2K", "--length", "0x1") == b"x",
              "offsets with suffixes")
        ok("write", n, "--offset=1K", "--data=y")
        check(ok("read", n, "--offset=1024", "--length=1") == b"y", "--opt=v")
        ok("rm", n)
    finally:
        run("rm", n)


def test_usage_errors():
    n = name()
    see = " (see 'mmf help create')"
    cases = [
        (["create", n, "12x", "--keep"], "invalid size '12x': unexpected 'x'"),
        (["create", n, "-1", "--keep"], "invalid size '-1': negative"),
        (["create", n, "-0x10", "--keep"], "invalid size '-0x10': negative"),
        (["create", n, "0x", "--keep"], "invalid size '0x': not a number"),
        (["create", n, "", "--keep"], "invalid size '': not a number"),
        (["create", n, " 1", "--keep"], "invalid size ' 1': not a number"),
        (["create", n, "1 ", "--keep"], "invalid size '1 ': unexpected ' '"),
        (["create", n, "+1", "--keep"], "invalid size '+1': not a number"),
        (["create", n, "1KB", "--keep"], "invalid size '1KB': unexpected 'B'"),
        (["create", n, "1T", "--keep"], "invalid size '1T': unexpected 'T'"),
        (["create", n, "99999999999999999999", "--keep"],
         "invalid size '99999999999999999999': too large (the limit is "
         "2^63 - 1)"),
        (["create", n, "0x8000000000000000", "--keep"],
         "invalid size '0x8000000000000000': too large (the limit is "
         "2^63 - 1)"),
        (["create", n, "8589934592G", "--keep"],
         "invalid size '8589934592G': too large (the limit is 2^63 - 1)"),
        (["create", n, "0", "--keep"],
         "invalid size '0': a map needs at least one byte"),
        (["create", n, "1K"],
         "a map without --keep lives only while held: add --keep or --hold"),
        (["create", n, "1K", "--keep", "--mode", "0999"],
         "invalid mode '0999': give octal permission bits from 0 to 0777"),
        (["create", n, "1K", "--keep", "--mode", "01000"],
         "invalid mode '01000': give octal permission bits from 0 to 0777"),
        (["create", n, "1K", "--keep", "--mode", ""],
         "invalid mode '': give octal permission bits from 0 to 0777"),
        (["create", n, "1K", "--keep", "--mode"],
         "option '--mode' needs a value (MODE)"),
        (["create", n, "1K", "--keep=yes"], "option '--keep' takes no value"),
        (["create", n, "1K", "--keep", "--bogus"], "unknown option '--bogus'"),
        (["create", n, "1K", "--keep", "-x"], "unknown option '-x'"),
        (["create", n, "1K", "extra", "--keep"], "unexpected argument 'extra'"),
        (["create", n, "--keep"],
         "missing SIZE (usage: mmf create NAME SIZE [--mode MODE] [--keep] "
         "[--hold] [--file PATH])"),
        (["create", n, "1K", "--mutex", "--hold"], "a mutex has no size"),
        (["create", n, "--mutex"], "a mutex lives only while held: add --hold"),
        (["create", n, "--mutex", "--keep", "--hold"],
         "--mutex goes with --hold and --mode only"),
        (["create", n, "1K", "--keep", "--file", "x/y"],
         "--keep does not apply to --file (the file stays anyway; its name "
         "lives while held)"),
    ]
    for args, message in cases:
        fails(args, 2, f"mmf create: {message}{see}")
        gone(n)

    def usage(cmd, args, message):
        fails([cmd, *args], 2, f"mmf {cmd}: {message} (see 'mmf help {cmd}')")

    usage("create", [], "missing argument (usage: mmf create NAME SIZE "
          "[--mode MODE] [--keep] [--hold] [--file PATH])")
    usage("read", [n, "--offset", "-1"], "invalid offset '-1': negative")
    usage("read", [n, "--offset", "--hex"],
          "invalid offset '--hex': not a number")
    usage("read", [n, "--length", "1Q"], "invalid length '1Q': unexpected 'Q'")
    usage("read", [n, "--offset", "0x8000000000000000"],
          "invalid offset '0x8000000000000000': too large (the limit is "
          "2^63 - 1)")
    usage("read", [n, "--offset", "4G", "--length", "0x7fffffffffffffff"],
          "offset + length is too large (the limit is 2^63 - 1)")
    usage("read", [n, "--hex", "--raw"], "--hex and --raw exclude each other")
    usage("read", [n, "--name", "--path"],
          "--name and --path exclude each other")
    usage("read", [n, "--offset"], "option '--offset' needs a value (N)")
    usage("write", [n, "--data", "x", "--file", "y"],
          "give exactly one of --data, --file or -")
    usage("write", [n], "give exactly one of --data, --file or -")
    usage("write", [n, "--data", "x", "-"],
          "give exactly one of --data, --file or -")
    usage("write", [n, "junk"], "unexpected argument 'junk'")
    usage("write", [n, "--offset", "1x", "--data", "x"],
          "invalid offset '1x': unexpected 'x'")
    usage("info", [n, "extra"], "unexpected argument 'extra'")
    usage("ls", ["extra"], "unexpected argument 'extra'")
    usage("ls", ["--json=1"], "option '--json' takes no value")
    usage("rm", ["a/b"], "'a/b' is a path; rm removes named objects")
    usage("rm", [], "missing argument (usage: mmf rm NAME [--force] "
          "[--mutex])")
    usage("touch", [], "missing argument (usage: mmf touch PATH)")
    usage("help", ["nosuch"], "unknown command 'nosuch'")
    fails([], 2, "mmf: missing command (see 'mmf help')")
    fails(["nosuch"], 2, "mmf: unknown command 'nosuch' (see 'mmf help')")
    fails(["--bogus"], 2, "mmf: unknown option '--bogus' (see 'mmf help')")
    gone(n)


def test_failures():
    n = name()
    d = workdir()
    missing = os.path.join(d, "missing")
    nothing = "no such file or named object"
    for args in (["info", n], ["read", n], ["write", n, "--data", "x"],
                 ["rm", n], ["rm", "--mutex", n]):
        fails(args, 1, f"mmf: {n}: {nothing}")
    for cmd in ("touch", "evict", "info", "read"):
        fails([cmd, missing], 1, f"mmf: {missing}: {nothing}")
    fails(["create", "a\\b", "1K", "--keep"], 1,
          "mmf: a\\b: invalid argument")
    fails(["read", d], 1, f"mmf: {d}: not supported")
    try:
        ok("create", n, "16", "--keep")
        ok("write", n, "--data", "0123456789abcdef")
        fails(["write", n, "--offset", "10", "--data", "0123456789"], 1,
              past_end(n, "writing", 10, 10, 16))
        fails(["write", n, "--offset", "17", "--data", ""], 1,
              out_of_range(n, "offset 17 is past the end (size 16)"))
        fails(["write", n, "-"], 1,
              out_of_range(n, "more than 16 bytes at offset 0 would pass the "
                           "end (size 16); nothing written"), data=b"x" * 17)
        fails(["write", n, "--offset", "8", "--file", missing], 1,
              f"mmf: {missing}: {nothing}")
        fails(["read", n, "--offset", "8", "--length", "9"], 1,
              past_end(n, "reading", 9, 8, 16))
        fails(["read", n, "--offset", "17"], 1,
              out_of_range(n, "offset 17 is past the end (size 16)"))
        fails(["create", n, "1K", "--keep"], 1,
              f"mmf: {n}: file or named object already exists")
        check(ok("read", n) == b"0123456789abcdef", "nothing written")
        ok("write", n, "-", data=b"x" * 16)
        check(ok("read", n) == b"x" * 16, "exactly full from stdin")
        ok("rm", n)
    finally:
        run("rm", n)


def test_tty():
    d = workdir()
    path = os.path.join(d, "data")
    with open(path, "wb") as f:
        f.write(b"tty\n")

    def on_tty(*args):
        """Runs mmf with stdout and stderr on a terminal."""
        master, slave = pty.openpty()
        p = subprocess.Popen([MMF, *args], stdout=slave, stderr=slave,
                             stdin=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            check(ready, "no output on the terminal")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        check(p.wait(timeout=60) == 0, f"mmf {' '.join(args)} on a tty")
        return out.decode().replace("\r\n", "\n")

    check(on_tty("read", path) == hexdump(b"tty\n"), "hex on a terminal")
    check(on_tty("read", path, "--raw") == "tty\n", "--raw on a terminal")
    check(ok("read", path) == b"tty\n", "raw into a pipe")
    big = os.path.join(d, "big")
    with open(big, "wb") as f:
        f.truncate(64 << 20)
    out = on_tty("touch", big)
    check(re.search(r"loading .*\[#{30}\] 100% 64\.0 MiB of 64\.0 MiB", out)
          and "loaded;" in out, f"progress bar: {out!r}")
    os.unlink(big)


def main():
    global MMF, WORK, CASE
    ap = argparse.ArgumentParser()
    ap.add_argument("--mmf", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case")
    args = ap.parse_args()
    MMF, WORK, CASE = os.path.abspath(args.mmf), args.work, args.case
    fn = globals().get("test_" + CASE)
    if fn is None:
        print(f"no case {CASE}", file=sys.stderr)
        return 2
    os.makedirs(WORK, exist_ok=True)
    try:
        fn()
    except Failure as e:
        print(f"FAIL {CASE}: {e}", file=sys.stderr)
        return 1
    shutil.rmtree(os.path.join(WORK, f"{CASE}-{os.getpid()}"),
                  ignore_errors=True)
    print(f"ok {CASE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
