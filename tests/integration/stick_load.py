#!/usr/bin/env python3
"""Clients and a server for t_stick.sh (loopback only). Every wait is
bounded; every result is one line on stdout.

  stick_load.py serve --listen ADDR:PORT
      HTTP/1.1 server on one thread (selectors): answers every request
      200 "ok\\n", keeps connections alive, holds hundreds at once.
  stick_load.py hold --connect ADDR:PORT --src IP --count N
                     [--other-src IP --other-count M] [--ready FILE]
                     [--until FILE] [--max S]
      Opens N connections from IP one after the other and keeps them all
      open; once they are, sends a GET on each and reads the answer.
      Then does the same with M connections from the other source while
      the N are still open. Prints
        ok=A refused=B first_refused=I last_refused=J kinds=RESET:x,CLOSED:y
        other_ok=C other_refused=D
      then makes FILE (--ready) and keeps the connections that answered
      open until --until FILE exists (or --max seconds, default 20).
  stick_load.py reqs --connect ADDR:PORT [--src IP ...] --count N
                     [--keepalive] [--path P]
      N GET requests, each on a fresh connection, or (--keepalive) on one
      connection for as long as the server keeps it open (a new one when it
      closes). With several --src, the requests go from each in turn
      (default: from 127.0.0.1, as every client here).
      Prints the statuses run-length encoded ("200x200 429x100"; RESET or
      CLOSED when a connection ended with no answer), then conns=K
      (connections opened) and ms=T (the whole run).
  stick_load.py once --connect ADDR:PORT [--src IP] [--path P] [--wait S] [--silent]
      One GET (--silent: nothing sent); reads until the peer closes.
      Prints "ms what bytes": what is the status line, or RESET / CLOSED
      (nothing received) / TIMEOUT (nothing at all within S seconds,
      default 3).
  stick_load.py admin SOCKET COMMAND [;; COMMAND]...
      Commands on an admin socket (HAProxy's or ppbridge's), one
      connection each, in turn; prints the answers one after the other,
      a line "@@ next" between two.
"""
import argparse
import os
import selectors
import socket
import sys
import time


def split_addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def connect(addr, src=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect(addr)
    return s


def request(path="/", close=False):
    return ("GET %s HTTP/1.1\r\nHost: stick\r\n%s\r\n" %
            (path, "Connection: close\r\n" if close else "")).encode()


class Reader:
    """Reads HTTP/1.1 responses (with Content-Length, or until close) off
    one socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def response(self):
        """(status, close): close when the server said so. Raises
        EOFError / ConnectionResetError / socket.timeout."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length, close = None, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and "close" in value:
                close = True
        if length is None:
            try:
                while True:
                    self._more()
            except (EOFError, ConnectionResetError):
                pass
            self.buf = b""
            return status, True
        while len(self.buf) < length:
            self._more()
        self.buf = self.buf[length:]
        return status, close


def outcome_of_error(e):
    if isinstance(e, ConnectionResetError) or isinstance(e, BrokenPipeError):
        return "RESET"
    if isinstance(e, EOFError):
        return "CLOSED"
    if isinstance(e, socket.timeout):
        return "TIMEOUT"
    return type(e).__name__


# ---- serve ----

def serve(args):
    host, port = split_addr(args.listen)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1024)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    bufs = {}
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
    while True:
        for key, _ in sel.select():
            if key.data is None:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                c.setblocking(False)
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ, "c")
                continue
            c = key.fileobj
            try:
                chunk = c.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(c)
                c.close()
                del bufs[c]
                continue
            bufs[c] += chunk
            close = False
            while b"\r\n\r\n" in bufs[c]:
                head, _, bufs[c] = bufs[c].partition(b"\r\n\r\n")
                try:
                    c.sendall(answer)
                except OSError:
                    close = True
                    break
                if b"connection: close" in head.lower():
                    close = True
                    break
            if close:
                sel.unregister(c)
                c.close()
                del bufs[c]


# ---- hold ----

def ask_all(socks):
    """Send a GET on every socket, then read each answer: (ok, refused
    indexes, kinds). A socket that is an exception already was refused
    while it connected."""
    errors = list(socks)
    for i, s in enumerate(socks):
        try:
            if not isinstance(s, Exception):
                s.sendall(request())
        except OSError as e:
            errors[i] = e  # the reset, reported by the send
    ok, refused, kinds = [], [], {}
    for i, s in enumerate(socks):
        try:
            if isinstance(errors[i], Exception):
                raise errors[i]
            status, _ = Reader(s).response()
            if status == 200:
                ok.append(i)
                continue
            kind = str(status)
        except (OSError, EOFError) as e:
            kind = outcome_of_error(e)
        refused.append(i)
        kinds[kind] = kinds.get(kind, 0) + 1
    return ok, refused, kinds


def open_all(addr, src, n):
    """n connections from src, one after the other; a connection refused
    or reset before connect() returned is kept as its exception."""
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(addr, src))
        except OSError as e:
            socks.append(e)
    return socks


def hold(args):
    addr = split_addr(args.connect)
    socks = open_all(addr, args.src, args.count)
    ok, refused, kinds = ask_all(socks)
    line = "ok=%d refused=%d first_refused=%s last_refused=%s kinds=%s" % (
        len(ok), len(refused), refused[0] if refused else "-", refused[-1] if refused else "-",
        ",".join("%s:%d" % kv for kv in sorted(kinds.items())) or "-")
    kept = [socks[i] for i in ok]
    if args.other_src:
        others = open_all(addr, args.other_src, args.other_count)
        ook, oref, _ = ask_all(others)
        line += " other_ok=%d other_refused=%d" % (len(ook), len(oref))
        kept += [others[i] for i in ook]
    print(line, flush=True)
    if args.ready:
        open(args.ready, "w").close()
    end = time.time() + args.max
    while time.time() < end and not (args.until and os.path.exists(args.until)):
        time.sleep(0.02)
    for s in socks:
        if not isinstance(s, Exception):
            s.close()


# ---- reqs ----

def rle(items):
    out = []
    for it in items:
        if out and out[-1][0] == it:
            out[-1][1] += 1
        else:
            out.append([it, 1])
    return " ".join("%sx%d" % (k, n) for k, n in out)


def reqs(args):
    addr = split_addr(args.connect)
    srcs = args.src or ["127.0.0.1"]
    statuses, conns = [], 0
    sock = reader = None
    t0 = time.monotonic()
    for i in range(args.count):
        src = srcs[i % len(srcs)]
        try:
            if sock is None:
                conns += 1
                sock = connect(addr, src)
                reader = Reader(sock)
            sock.sendall(request(args.path, close=not args.keepalive))
            status, close = reader.response()
            statuses.append(str(status))
        except (OSError, EOFError) as e:
            statuses.append(outcome_of_error(e))
            close = True
        if sock and (close or not args.keepalive):
            sock.close()
            sock = None
    if sock:
        sock.close()
    print("%s conns=%d ms=%d" % (rle(statuses), conns, (time.monotonic() - t0) * 1000))


# ---- once ----

def once(args):
    got, what = b"", None
    t0 = time.monotonic()
    try:
        s = connect(split_addr(args.connect), args.src, timeout=args.wait)
        if not args.silent:
            s.sendall(request(args.path, close=True))
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (OSError, EOFError) as e:
        what = outcome_of_error(e)
    ms = int((time.monotonic() - t0) * 1000)
    if got:
        what = got.split(b"\r\n")[0].decode("latin-1")
    print(ms, what or "CLOSED", len(got))


# ---- admin ----

def admin(args):
    commands, cur = [], []
    for word in args.command + [";;"]:
        if word == ";;":
            if cur:
                commands.append(" ".join(cur))
            cur = []
        else:
            cur.append(word)
    for i, command in enumerate(commands):
        if i:
            sys.stdout.write("@@ next\n")
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(args.socket)
        s.sendall((command + "\n").encode())
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        sys.stdout.write(out.decode("latin-1"))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--listen", required=True)
    p = sub.add_parser("hold")
    p.add_argument("--connect", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--other-src")
    p.add_argument("--other-count", type=int, default=5)
    p.add_argument("--ready")
    p.add_argument("--until")
    p.add_argument("--max", type=float, default=20.0)
    p = sub.add_parser("reqs")
    p.add_argument("--connect", required=True)
    p.add_argument("--src", action="append")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--keepalive", action="store_true")
    p.add_argument("--path", default="/")
    p = sub.add_parser("once")
    p.add_argument("--connect", required=True)
    p.add_argument("--src", default="127.0.0.1")
    p.add_argument("--path", default="/")
    p.add_argument("--wait", type=float, default=3.0)
    p.add_argument("--silent", action="store_true", help="send nothing, only listen")
    p = sub.add_parser("admin")
    p.add_argument("socket")
    p.add_argument("command", nargs="+")
    args = ap.parse_args()
    {"serve": serve, "hold": hold, "reqs": reqs, "once": once, "admin": admin}[args.cmd](args)


if __name__ == "__main__":
    main()
