#!/usr/bin/env python3
"""Misbehaving peers and load/attack clients for ppbridge's fault tests
(t_faults.sh, t_slow.sh) and contrib/bench/hostile.sh. Loopback only.

Servers (run until killed; each prints "ready" on stdout once listening):
  faults.py http --listen ADDR:PORT --name NAME [--fault KIND --every N] [--log FILE]
      HTTP/1.1 keep-alive, answers 200 "NAME <request-id>\\n". Every Nth
      request it receives (its own count) it misbehaves instead:
        rst      alternately rst-head (RST before any response byte) and
                 rst-mid (the head and 100 of 1000 body bytes, then RST)
        hang     reads the request and never answers
      A request with "X-Fault: rst-head|rst-mid|hang" gets that, once per
      X-Req-Id (a replay of it is served), whatever --every says.
      --log gets one line per request: "<action> <method> <id> <conn> <nth>"
      (nth: the request's position on its server connection, 1 = fresh).
  faults.py tcp --listen ADDR:PORT --name NAME [--every N] [--log FILE]
      Greets "NAME\\n" and echoes; every Nth connection it echoes half of
      the first read, then resets (SO_LINGER 0).
  faults.py blackhole --listen ADDR:PORT
      listen(fd, 0) and one connection of its own left in the accept queue,
      never accepted: the queue is full, so every further SYN is dropped.

Clients:
  faults.py load --connect ADDR:PORT --out FILE [--conns K] [--requests N]
                 [--duration S] [--pause MS] [--host H] [--stop-file F]
      K keep-alive connections (threads), GET and POST alternately, each
      with a unique X-Req-Id. FILE gets one line per request:
      "<id> <method> <t_start> <t_end> <outcome> <server>", outcome being
      the status, CLOSED (no response), INCOMPLETE (cut mid-body), RESET,
      TIMEOUT. Stops after N requests, S seconds or once F exists.
      Prints "requests=N ok=N failed=N".
  faults.py ports N
      Prints N distinct free TCP ports on 127.0.0.1 (one interpreter start).
  faults.py waitports SECONDS PORT...
      Waits until every PORT accepts on 127.0.0.1; exit 1 after SECONDS.
  faults.py seq --connect ADDR:PORT STEP...
      Requests in order on one keep-alive connection, STEP being
      METHOD:ID[:FAULT] (FAULT sent as X-Fault) or NEW (a new connection).
      Prints "<id> <status or exception>" per request.
  faults.py tcpload --connect ADDR:PORT --count N [--conns K]
      N connections (K at a time): greeting, 2000 bytes echoed back.
      Prints one line per connection "<n> <greeting-or-FAIL>" then a total.
  faults.py slow --connect ADDR:PORT --kind KIND --count N [...]
      N attacking connections of one KIND, all in one epoll loop:
        loris      a request head, one byte per --interval seconds (default 1)
        hello      a TLS ClientHello, one byte per --interval
        idletls    a complete TLS handshake, then silence
        proxy      a PROXY v1 header, one byte per --interval
      Several --kind/--connect/--count[/--interval] groups may be given
      (repeat the options in order; the last --interval given repeats).
      --reconnect replaces every connection the server closes (a sustained
      attack; it comes back one interval later); --status FILE tells the
      progress twice a second. SIGTERM ends the attack with its report. Runs until every connection is closed or
      --duration ends; prints one RESULT line per group with how many were
      opened, closed (by EOF or reset), their close times after the open
      (min/p50/p90/max ms; idletls: after the handshake) and the shortest
      after the TCP connect, what the first bytes received said, and how
      many are still open.
"""
import argparse
import collections
import errno
import heapq
import os
import resource
import selectors
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import http.client


def split_addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def ready():
    print("ready", flush=True)


def append_line(path, lock, text):
    if not path:
        return
    with lock:
        with open(path, "a") as f:
            f.write(text + "\n")


def listener(addr, backlog=128):
    host, port = split_addr(addr)
    ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(backlog)
    return ls


def reset(sock):
    """Close with a TCP RST: SO_LINGER on, timeout 0."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


# ---- misbehaving HTTP server ---------------------------------------------

class HttpFaults:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0    # requests seen, for --every
        self.resets = 0   # alternates rst-head / rst-mid
        self.conns = 0
        self.faulted = set()  # request ids that got their X-Fault

    def action(self, asked=None, rid="-"):
        with self.lock:
            if asked in ("rst-head", "rst-mid", "hang"):
                # Asked by the request: once per request id, so that a replay
                # of it is served.
                if rid not in self.faulted:
                    self.faulted.add(rid)
                    return asked
                return "ok"
            self.count += 1
            if not self.args.fault or self.count % self.args.every:
                return "ok"
            if self.args.fault == "hang":
                return "hang"
            self.resets += 1
            return "rst-head" if self.resets % 2 else "rst-mid"

    def read_head(self, f):
        line = f.readline(65536)
        if not line:
            return None
        head = {"_line": line.decode("latin-1").split()}
        while True:
            h = f.readline(65536)
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            head[name.strip().lower()] = value.strip()
        return head

    def serve_conn(self, sock):
        with self.lock:
            self.conns += 1
            conn = self.conns
        f = sock.makefile("rb")
        nth = 0
        try:
            while True:
                head = self.read_head(f)
                if head is None or len(head["_line"]) < 3:
                    return
                nth += 1
                length = int(head.get("content-length", "0") or 0)
                if length:
                    f.read(length)
                method, rid = head["_line"][0], head.get("x-req-id", "-")
                act = self.action(head.get("x-fault"), rid)
                append_line(self.args.log, self.lock, "%s %s %s %d %d" % (act, method, rid, conn, nth))
                if act == "rst-head":
                    reset(sock)
                    return
                if act == "rst-mid":
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
                    time.sleep(0.05)  # let the partial answer travel on before the reset
                    reset(sock)
                    return
                if act == "hang":
                    while sock.recv(65536):  # until the proxy gives up on us
                        pass
                    return
                body = ("%s %s\n" % (self.args.name, rid)).encode()
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def run(self):
        ls = listener(self.args.listen)
        ready()
        while True:
            sock, _ = ls.accept()
            threading.Thread(target=self.serve_conn, args=(sock,), daemon=True).start()


def tcp_server(args):
    ls = listener(args.listen)
    lock = threading.Lock()
    seen = [0]

    def serve(sock, n):
        try:
            sock.sendall(("%s\n" % args.name).encode())
            data = sock.recv(65536)
            if args.every and n % args.every == 0:
                append_line(args.log, lock, "rst %d" % n)
                sock.sendall(data[:len(data) // 2])
                time.sleep(0.05)
                reset(sock)
                return
            append_line(args.log, lock, "ok %d" % n)
            while data:
                sock.sendall(data)
                data = sock.recv(65536)
            sock.close()
        except OSError:
            sock.close()

    ready()
    while True:
        sock, _ = ls.accept()
        with lock:
            seen[0] += 1
            n = seen[0]
        threading.Thread(target=serve, args=(sock, n), daemon=True).start()


def blackhole(args):
    ls = listener(args.listen, backlog=0)
    held = socket.create_connection(ls.getsockname()[:2], timeout=2)  # fills the queue
    ready()
    while held:
        time.sleep(3600)


# ---- HTTP load --------------------------------------------------------------

def one_request(conn, method, rid, host):
    body = b"posted-by-faults.py" if method == "POST" else None
    headers = {"Host": host, "X-Req-Id": rid}
    try:
        conn.request(method, "/r/" + rid, body=body, headers=headers)
        resp = conn.getresponse()
    except http.client.RemoteDisconnected:
        return "CLOSED", "-"
    except ConnectionResetError:
        return "RESET", "-"
    except (socket.timeout, TimeoutError):
        return "TIMEOUT", "-"
    except OSError as e:
        return "ERR-" + errno.errorcode.get(e.errno or 0, "x"), "-"
    try:
        data = resp.read()
    except http.client.IncompleteRead:
        return "INCOMPLETE", "-"
    except ConnectionResetError:
        return "INCOMPLETE", "-"
    except (socket.timeout, TimeoutError):
        return "TIMEOUT", "-"
    words = data.split()
    server = words[0].decode("latin-1") if resp.status == 200 and words else "-"
    return str(resp.status), server


def load(args):
    host, port = split_addr(args.connect)
    lock = threading.Lock()
    end = time.time() + args.duration
    budget = [args.requests]
    results = []

    def worker(k):
        conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
        i = 0
        while time.time() < end and not (args.stop_file and os.path.exists(args.stop_file)):
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            i += 1
            method = "GET" if i % 2 else "POST"
            rid = "c%d-%d" % (k, i)
            t0 = time.time()
            outcome, server = one_request(conn, method, rid, args.host)
            t1 = time.time()
            with lock:
                results.append("%s %s %.3f %.3f %s %s" % (rid, method, t0, t1, outcome, server))
            if outcome != "200":
                conn.close()  # a failed exchange: start over on a new connection
            if args.pause:
                time.sleep(args.pause / 1000.0)
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.duration + 2 * args.timeout + 5)
    with open(args.out, "w") as f:
        f.write("\n".join(results) + ("\n" if results else ""))
    ok = sum(1 for r in results if r.split()[4] == "200")
    print("requests=%d ok=%d failed=%d" % (len(results), ok, len(results) - ok))
    return 0


def seq(args):
    """Requests in order on keep-alive connections: METHOD:ID[:FAULT], NEW
    starts a new connection. Prints "<id> <outcome>" per request."""
    host, port = split_addr(args.connect)
    conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
    for step in args.steps:
        if step == "NEW":
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
            continue
        method, rid, fault = (step.split(":") + [""])[:3]
        headers = {"Host": "faults.test", "X-Req-Id": rid}
        if fault:
            headers["X-Fault"] = fault
        body = b"posted-by-faults.py" if method == "POST" else None
        try:
            conn.request(method, "/s/" + rid, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            outcome = str(resp.status)
        except (OSError, http.client.HTTPException) as e:
            outcome = type(e).__name__
        print("%s %s" % (rid, outcome), flush=True)
        if outcome != "200":
            conn.close()
    conn.close()
    return 0


def tcpload(args):
    host, port = split_addr(args.connect)
    payload = os.urandom(2000)
    lock = threading.Lock()
    todo = list(range(1, args.count + 1))
    lines = []

    def one(n):
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                f = s.makefile("rb")
                greeting = f.readline().decode("latin-1").strip()
                if not greeting:
                    raise IOError("no greeting")
                s.sendall(payload)
                got = f.read(len(payload))
                if got != payload:
                    raise IOError("echo: %d of %d bytes" % (len(got), len(payload)))
                return greeting
        except (OSError, IOError) as e:
            return "FAIL " + str(e).replace("\n", " ")[:60]

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop(0)
            r = one(n)
            with lock:
                lines.append("%d %s" % (n, r))

    threads = [threading.Thread(target=worker) for _ in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for line in sorted(lines, key=lambda x: int(x.split()[0])):
        print(line)
    bad = sum(1 for x in lines if " FAIL" in x)
    print("connections=%d ok=%d failed=%d" % (len(lines), len(lines) - bad, bad))
    return 0


# ---- slow and hostile clients ------------------------------------------------

LORIS = (b"GET /slow HTTP/1.1\r\nHost: slow.test\r\nUser-Agent: loris\r\n" +
         b"".join(b"X-Pad-%d: %s\r\n" % (i, b"y" * 40) for i in range(200)))
PROXY_V1 = b"PROXY TCP4 192.0.2.10 192.0.2.20 40000 443\r\n"


def client_hello():
    """The bytes of a real ClientHello, made with memory BIOs."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(incoming, outgoing, server_hostname="slow.test")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class Conn:
    __slots__ = ("group", "kind", "addr", "sock", "state", "t_conn", "t_open", "t_close", "how",
                 "first", "sent", "tls")

    def __init__(self, group, kind, addr, sock):
        self.group = group  # which --kind/--connect/--count triple
        self.addr = addr
        self.kind = kind
        self.sock = sock
        self.state = "connecting"
        self.t_conn = None  # TCP established
        self.t_open = None  # attacking from then on (idletls: handshake done)
        self.t_close = None
        self.how = ""
        self.first = b""
        self.sent = 0
        self.tls = None


class Attack:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.hello = client_hello()
        self.tlsctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.tlsctx.check_hostname = False
        self.tlsctx.verify_mode = ssl.CERT_NONE
        self.conns = []
        self.drip = []   # heap of (next send time, seq, conn)
        self.later = []  # heap of (time, seq, (group, kind, addr)): reconnects
        self.seq = 0
        self.stop = False
        self.pending = []                # (kind, addr) still to open
        self.interval = {}
        intervals = args.interval or [1.0]
        for i, (kind, addr, count) in enumerate(zip(args.kind, args.connect, args.count)):
            self.pending += [(i, kind, split_addr(addr))] * count
            self.interval[i] = intervals[min(i, len(intervals) - 1)]
        self.connecting = 0
        self.live = 0      # connections not closed yet
        self.opened = 0    # connections that reached their attack phase
        self.deadline = time.monotonic() + args.duration

    def payload(self, kind):
        return {"loris": LORIS, "hello": self.hello, "proxy": PROXY_V1}.get(kind, b"")

    def open_some(self):
        now = time.monotonic()
        while self.later and self.later[0][0] <= now:
            self.pending.append(heapq.heappop(self.later)[2])
        while self.pending and self.connecting < self.args.parallel:
            group, kind, addr = self.pending.pop(0)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            c = Conn(group, kind, addr, s)
            self.conns.append(c)
            self.live += 1
            try:
                s.connect(addr)
            except BlockingIOError:
                pass
            except OSError as e:
                self.finish(c, "connect-" + errno.errorcode.get(e.errno or 0, "x"))
                continue
            self.connecting += 1
            self.sel.register(s, selectors.EVENT_WRITE, c)

    def finish(self, c, how):
        if c.state == "closed":
            return
        if c.state == "connecting":
            self.connecting -= 1
        elif self.args.reconnect and time.monotonic() < self.deadline:
            # An attacker comes back, at its own pace (one interval later:
            # a client refused at once must not turn into a connect flood).
            heapq.heappush(self.later, (time.monotonic() + self.interval[c.group], self.seq,
                                        (c.group, c.kind, c.addr)))
            self.seq += 1
        c.state = "closed"
        self.live -= 1
        c.t_close = time.monotonic()
        c.how = how
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        try:
            c.sock.close()
        except OSError:
            pass

    def established(self, c):
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.finish(c, "connect-" + errno.errorcode.get(err, str(err)))
            return
        self.connecting -= 1
        c.t_conn = c.t_open = time.monotonic()
        if c.kind == "idletls":
            c.state = "handshake"
            self.sel.unregister(c.sock)  # wrap_socket() detaches it
            c.tls = c.sock = self.tlsctx.wrap_socket(c.sock, server_hostname="slow.test",
                                                     do_handshake_on_connect=False)
            self.sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
            self.handshake(c)
            return
        c.state = "open"
        self.opened += 1
        self.sel.modify(c.sock, selectors.EVENT_READ, c)
        self.send_byte(c)

    def handshake(self, c):
        try:
            c.tls.do_handshake()
        except ssl.SSLWantReadError:
            self.sel.modify(c.sock, selectors.EVENT_READ, c)
            return
        except ssl.SSLWantWriteError:
            self.sel.modify(c.sock, selectors.EVENT_WRITE, c)
            return
        except (ssl.SSLError, OSError) as e:
            self.finish(c, "hs-failed-" + type(e).__name__)
            return
        c.state = "open"
        self.opened += 1
        c.t_open = time.monotonic()  # its idle time starts now
        self.sel.modify(c.sock, selectors.EVENT_READ, c)

    def send_byte(self, c):
        data = self.payload(c.kind)
        if not data:
            return
        if c.sent >= len(data):
            return  # all sent (loris: 10 kB, hours at one byte a second)
        try:
            n = c.sock.send(data[c.sent:c.sent + 1])
            c.sent += n
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            self.finish(c, "send-" + errno.errorcode.get(e.errno or 0, "x"))
            return
        self.seq += 1
        heapq.heappush(self.drip, (time.monotonic() + self.interval[c.group], self.seq, c))

    def readable(self, c):
        if c.state == "handshake":
            self.handshake(c)
            return
        try:
            if c.tls:
                data = c.tls.recv(4096)
            else:
                data = c.sock.recv(4096)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return  # a TLS 1.3 session ticket, or nothing yet
        except ConnectionResetError:
            self.finish(c, "reset")
            return
        except (ssl.SSLError, OSError) as e:
            self.finish(c, "eof" if isinstance(e, (ssl.SSLEOFError, ssl.SSLZeroReturnError))
                        else "err-" + type(e).__name__)
            return
        if not data:
            self.finish(c, "eof")
            return
        if not c.first:
            c.first = data[:40]

    def status(self):
        with open(self.args.status + ".tmp", "w") as f:
            f.write("opened=%d live=%d closed=%d\n" % (self.opened, self.live,
                                                        len(self.conns) - self.live))
        os.replace(self.args.status + ".tmp", self.args.status)

    def run(self):
        next_status = 0.0
        while time.monotonic() < self.deadline and not self.stop:
            if self.args.status and time.monotonic() >= next_status:
                self.status()
                next_status = time.monotonic() + 0.5
            self.open_some()
            now = time.monotonic()
            while self.drip and self.drip[0][0] <= now:
                _, _, c = heapq.heappop(self.drip)
                if c.state == "open":
                    self.send_byte(c)
            wait = 0.1
            if self.drip:
                wait = max(0.0, min(wait, self.drip[0][0] - now))
            for key, mask in self.sel.select(wait):
                c = key.data
                if c.state == "connecting":
                    self.established(c)
                elif c.state == "handshake":
                    self.handshake(c)
                elif mask & selectors.EVENT_READ:
                    self.readable(c)
            if not self.pending and not self.later and self.live == 0:
                break
        self.report()
        if self.args.status:
            self.status()

    def report(self):
        for group, kind in enumerate(self.args.kind):
            cs = [c for c in self.conns if c.group == group]
            opened = [c for c in cs if c.t_open is not None]
            closed = sorted((c.t_close - c.t_open) * 1000 for c in opened if c.state == "closed")
            from_conn = [(c.t_close - c.t_conn) * 1000 for c in opened if c.state == "closed"]
            hows = collections.Counter(c.how for c in opened if c.state == "closed")
            firsts = collections.Counter(
                (c.first.split(b"\r\n")[0].decode("latin-1").replace(" ", "_") or "-")
                for c in opened if c.state == "closed")
            failed = collections.Counter(c.how for c in cs if c.t_open is None)

            def pct(p):
                return "%.0f" % closed[min(len(closed) - 1, int(p * len(closed)))] if closed else "-"
            print("RESULT kind=%s wanted=%d opened=%d open_failed=%d closed=%d still_open=%d "
                  "close_ms_min=%s close_ms_p50=%s close_ms_p90=%s close_ms_max=%s "
                  "from_connect_ms_min=%s how=%s first=%s%s"
                  % (kind, len(cs), len(opened), len(cs) - len(opened), len(closed),
                     len(opened) - len(closed), "%.0f" % closed[0] if closed else "-",
                     pct(0.5), pct(0.9), "%.0f" % closed[-1] if closed else "-",
                     "%.0f" % min(from_conn) if from_conn else "-",
                     ",".join("%s:%d" % kv for kv in hows.most_common()) or "-",
                     ",".join("%s:%d" % kv for kv in firsts.most_common(3)) or "-",
                     (" open_errors=" + ",".join("%s:%d" % kv for kv in failed.most_common(3)))
                     if failed else ""), flush=True)


def slow(args):
    if not (len(args.kind) == len(args.connect) == len(args.count)):
        sys.exit("slow: give --kind, --connect and --count the same number of times")
    attack = Attack(args)

    def stop(signum, frame):
        attack.stop = True  # report what was seen so far, then exit

    signal.signal(signal.SIGTERM, stop)
    t0 = time.monotonic()
    attack.run()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("ATTACKER seconds=%.1f cpu_s=%.1f max_rss_kb=%d" % (time.monotonic() - t0,
          ru.ru_utime + ru.ru_stime, ru.ru_maxrss), flush=True)
    return 0


def ports(args):
    socks = []
    for _ in range(args.n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    return 0


def waitports(args):
    end = time.time() + args.seconds
    todo = list(args.port)
    while todo and time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", todo[0]), timeout=0.5).close()
            todo.pop(0)
        except OSError:
            time.sleep(0.05)
    if todo:
        print("nothing listens on 127.0.0.1:%s" % ",".join(map(str, todo)))
    return 1 if todo else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("http")
    p.add_argument("--listen", required=True)
    p.add_argument("--name", default="faulty")
    p.add_argument("--fault", choices=("rst", "hang"))
    p.add_argument("--every", type=int, default=4)
    p.add_argument("--log")
    p = sub.add_parser("tcp")
    p.add_argument("--listen", required=True)
    p.add_argument("--name", default="tcpfault")
    p.add_argument("--every", type=int, default=0)
    p.add_argument("--log")
    p = sub.add_parser("blackhole")
    p.add_argument("--listen", required=True)
    p = sub.add_parser("load")
    p.add_argument("--connect", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--conns", type=int, default=3)
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--pause", type=float, default=0.0, help="ms between two requests of a connection")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--host", default="faults.test")
    p.add_argument("--stop-file", help="stop early once this file exists")
    p = sub.add_parser("ports")
    p.add_argument("n", type=int)
    p = sub.add_parser("waitports")
    p.add_argument("seconds", type=float)
    p.add_argument("port", type=int, nargs="+")
    p = sub.add_parser("seq")
    p.add_argument("--connect", required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("steps", nargs="+")
    p = sub.add_parser("tcpload")
    p.add_argument("--connect", required=True)
    p.add_argument("--count", type=int, default=30)
    p.add_argument("--conns", type=int, default=3)
    p = sub.add_parser("slow")
    p.add_argument("--connect", action="append", required=True)
    p.add_argument("--kind", action="append", required=True,
                   choices=("loris", "hello", "idletls", "proxy"))
    p.add_argument("--count", action="append", type=int, required=True)
    p.add_argument("--interval", type=float, action="append",
                   help="seconds between two bytes (default 1; one per --kind, the last repeats)")
    p.add_argument("--parallel", type=int, default=256, help="connects in progress at once")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--reconnect", action="store_true",
                   help="open a new connection for each one the server closes")
    p.add_argument("--status", help="rewrite 'opened= live= closed=' in this file twice a second")
    args = ap.parse_args()
    if args.cmd == "http":
        HttpFaults(args).run()
    elif args.cmd == "tcp":
        tcp_server(args)
    elif args.cmd == "blackhole":
        blackhole(args)
    elif args.cmd == "load":
        sys.exit(load(args))
    elif args.cmd == "ports":
        sys.exit(ports(args))
    elif args.cmd == "waitports":
        sys.exit(waitports(args))
    elif args.cmd == "seq":
        sys.exit(seq(args))
    elif args.cmd == "tcpload":
        sys.exit(tcpload(args))
    elif args.cmd == "slow":
        sys.exit(slow(args))


if __name__ == "__main__":
    main()
