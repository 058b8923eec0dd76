#!/usr/bin/env python3
"""Stand-in peers for ppbridge's integration tests and demo (loopback only).

Servers (run until killed):
  peers.py ident  --listen ADDR:PORT --name NAME
      TCP: greets each connection with "NAME <client-ip>:<client-port>\\n",
      then echoes every byte back; half-close is echoed as half-close.
  peers.py http   --listen ADDR:PORT --name NAME [--status N] [--cert PEM --key PEM]
      HTTP/1.x: answers every request with status N (default 200) and the
      body "NAME <client-ip>\\n"; keeps the connection alive when asked.
      With --cert/--key it serves HTTPS. With --show-xff the body says
      what a router would see: "NAME saw client IP (PROXY header: yes|no)
      X-Forwarded-For: VALUE|-". With --proxy-file FILE, while FILE exists
      every new connection must start with a PROXY v1 or v2 header (read
      before TLS, as a router with accept-proxy does; a connection without
      one is closed), and the client address is the header's source.

Clients (exit 0 on success, print one line per connection):
  peers.py probe  --connect ADDR:PORT [--src IP] [--count N] [--payload BYTES]
      Connects N times (optionally from source IP), reads the greeting,
      sends the payload and checks it is echoed back intact; prints the
      greeting's NAME and client address per connection.
  peers.py bulk   --connect ADDR:PORT --bytes N
      Sends N random bytes, half-closes, reads the echo until EOF and
      checks its SHA-256; prints the server name and the digest.
  peers.py raw    --connect ADDR:PORT [--src IP] [--pause S] [--wait-for TEXT] [--idle S]
                  [--half-close] PART...
      Sends each PART (Python string escapes allowed: \\r\\n, \\x00) with a
      pause between parts, then prints everything received until EOF (or
      "RESET" when the peer reset, "TIMEOUT" after --idle S, default 3, of
      silence). It reads as fast as the data comes, however much. With
      --wait-for, each part after the first waits until the bytes received
      so far hold TEXT (escapes allowed), e.g. the end of a 101's head.
  peers.py hold   --connect ADDR:PORT --seconds S [--ready FILE] [--until FILE]
      Keeps one connection open for S seconds, exchanging a line every
      0.2 s; exit 0 if every exchange succeeded. With --ready, FILE is made
      once the server's greeting came through (the whole path is up); with
      --until, the connection ends early once that FILE exists.
"""
import argparse
import hashlib
import os
import socket
import socketserver
import ssl
import sys
import threading
import time


def split_addr(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    return host, int(port)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, addr, handler, name, status, tls=None, echo=False, big=0, logfile=None,
                 close_after=False, proxy_file=None, show_xff=False):
        self.address_family = family_of(addr[0])
        self.proxy_file = proxy_file
        self.show_xff = show_xff
        self.logfile = logfile
        self.close_after = close_after
        self.echo = echo
        self.big = big
        self.name = name
        self.status = status
        self.tls = tls
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = super().get_request()
        pp = False
        if self.proxy_file and os.path.exists(self.proxy_file):
            sock.settimeout(5)
            try:
                src = read_proxy_header(sock)
            except (OSError, ValueError):
                src = None
            if src is None:
                sock.close()
                raise OSError("no valid PROXY header")
            if src != "LOCAL":
                addr = src
            pp = True
        addr = (addr[0], addr[1], pp)
        if self.tls:
            sock.settimeout(5)
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # a client that went away is not worth a traceback


class IdentHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        peer = self.client_address
        sock.sendall(("%s %s:%d\n" % (self.server.name, peer[0], peer[1])).encode())
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            sock.sendall(data)


def read_proxy_header(sock):
    """Reads exactly one PROXY v1 or v2 header; returns (ip, port), "LOCAL"
    (v2 LOCAL, v1 UNKNOWN: keep the socket's address) or None."""
    first = recv_exact(sock, 5)
    if first == b"PROXY":
        line = first
        while not line.endswith(b"\r\n"):
            if len(line) >= 107:
                return None
            c = sock.recv(1)
            if not c:
                return None
            line += c
        f = line[:-2].decode("ascii").split(" ")
        if f[1] == "UNKNOWN":
            return "LOCAL"
        if len(f) != 6 or f[1] not in ("TCP4", "TCP6"):
            return None
        return (f[2], int(f[4]))
    if first != b"\r\n\r\n\x00":
        return None  # neither signature: a router with accept-proxy resets it
    head = first + recv_exact(sock, 7)
    if head != b"\r\n\r\n\x00\r\nQUIT\n":
        return None
    ver_cmd, fam, length = recv_exact(sock, 1)[0], recv_exact(sock, 1)[0], 0
    length = int.from_bytes(recv_exact(sock, 2), "big")
    body = recv_exact(sock, length) if length else b""
    if ver_cmd == 0x20:
        return "LOCAL"
    if ver_cmd != 0x21:
        return None
    if fam == 0x11 and length >= 12:
        return (socket.inet_ntop(socket.AF_INET, body[0:4]), int.from_bytes(body[8:10], "big"))
    if fam == 0x21 and length >= 36:
        return (socket.inet_ntop(socket.AF_INET6, body[0:16]),
                int.from_bytes(body[32:34], "big"))
    return None


def note(server, text):
    if server.logfile:
        with open(server.logfile, "a") as f:
            f.write(text + "\n")


class WsHandler(socketserver.StreamRequestHandler):
    """Answers an Upgrade: websocket request with 101, then echoes bytes."""
    def handle(self):
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            c = self.rfile.read(1)
            if not c:
                return
            head += c
        note(self.server, "REQ " + head.split(b"\r\n")[0].decode("latin-1"))
        self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\n\r\n")
        self.wfile.flush()
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class HttpHandler(socketserver.StreamRequestHandler):
    def handle(self):
        note(self.server, "CONN")
        if self.server.tls:
            try:
                self.request.do_handshake()
            except (OSError, ssl.SSLError):
                return
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            note(self.server, "REQ " + line.decode("latin-1").strip())
            version = line.split()[-1].decode() if line.split() else "HTTP/1.0"
            keep = version == "HTTP/1.1"
            head = line
            length = 0
            chunked = False
            xff = []
            while True:
                h = self.rfile.readline(65536)
                head += h
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                lname = name.strip().lower()
                if lname == "connection":
                    keep = value.strip().lower() == "keep-alive" or (
                        keep and value.strip().lower() != "close")
                elif lname == "content-length":
                    length = int(value.strip())
                elif lname == "transfer-encoding":
                    chunked = "chunked" in value.lower()
                elif lname == "x-forwarded-for":
                    xff.append(value.strip())
            digest = hashlib.sha256()
            blen = 0
            if chunked:
                while True:
                    size_line = self.rfile.readline(65536)
                    head_size = int(size_line.split(b";")[0].strip(), 16)
                    if head_size == 0:
                        while True:
                            t = self.rfile.readline(65536)
                            head += b"TRAILER " + t
                            if t in (b"\r\n", b""):
                                break
                        break
                    data = self.rfile.read(head_size)
                    digest.update(data)
                    blen += len(data)
                    self.rfile.readline(65536)
            elif length:
                data = self.rfile.read(length)
                digest.update(data)
                blen = len(data)
            if self.server.echo:
                body = head + ("BODY %d %s\n" % (blen, digest.hexdigest())).encode()
            elif self.server.big:
                body = b"x" * self.server.big
            elif self.server.show_xff:
                body = ("%s saw client %s (PROXY header: %s) X-Forwarded-For: %s\n" % (
                    self.server.name, self.client_address[0],
                    "yes" if self.client_address[2] else "no",
                    ", ".join(xff) if xff else "-")).encode()
            else:
                body = ("%s %s\n" % (self.server.name, self.client_address[0])).encode()
            head = "HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n" % (
                self.server.status, len(body), "keep-alive" if keep else "close")
            self.wfile.write(head.encode() + body)
            self.wfile.flush()
            if not keep or self.server.close_after:
                return


def serve(args, handler):
    host, port = split_addr(args.listen)
    tls = None
    if getattr(args, "cert", None):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    srv = Server((host, port), handler, args.name, args.status, tls,
                 getattr(args, "echo", False), getattr(args, "big", 0),
                 getattr(args, "log", None), getattr(args, "close_after", False),
                 getattr(args, "proxy_file", None), getattr(args, "show_xff", False))
    srv.serve_forever()


def connect(addr, src=None, timeout=5.0):
    host, port = split_addr(addr)
    sock = socket.socket(family_of(host), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if src:
        sock.bind((src, 0))
    sock.connect((host, port))
    return sock


def read_line(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise IOError("connection closed before the greeting (got %r)" % buf)
        buf += chunk
    return buf.decode().strip()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise IOError("short read: %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def probe(args):
    payload = args.payload.encode()
    failures = 0
    for _ in range(args.count):
        try:
            sock = connect(args.connect, args.src)
            greeting = read_line(sock)
            sock.sendall(payload)
            echo = recv_exact(sock, len(payload))
            sock.close()
            if echo != payload:
                raise IOError("echo mismatch")
            print(greeting)
        except (OSError, IOError) as exc:
            failures += 1
            print("FAIL %s" % exc)
    sys.stdout.flush()
    return 1 if failures else 0


def bulk(args):
    data = os.urandom(args.bytes)
    want = hashlib.sha256(data).hexdigest()
    sock = connect(args.connect, timeout=30)
    greeting = read_line(sock)

    def sender():
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=sender)
    thread.start()
    got = hashlib.sha256()
    total = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got.update(chunk)
        total += len(chunk)
    thread.join()
    sock.close()
    ok = got.hexdigest() == want and total == args.bytes
    print("%s %d %s %s" % (greeting.split()[0], total, got.hexdigest(), "OK" if ok else "BAD"))
    return 0 if ok else 1


def unescape(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def raw(args):
    sock = connect(args.connect, args.src)
    # A bytearray grows in place: `bytes += chunk` copied all that came
    # before at each read, which made a 10 MB download a slow reader.
    got = bytearray()
    end = ""
    try:
        for i, part in enumerate(args.parts):
            if i and args.pause:
                time.sleep(args.pause)
            if i and args.wait_for:
                want = unescape(args.wait_for)
                sock.settimeout(10)
                while want not in got:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionResetError
                    got += chunk
            sock.sendall(unescape(part))
        if args.half_close:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(args.idle)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                end = "" if got else "CLOSED"
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        end = "RESET"
    except socket.timeout:
        end = "TIMEOUT"
    text = got.decode("latin-1")
    if text:
        print(text, end="" if text.endswith("\n") else "\n")
    if end:
        print(end)
    return 0


def hold(args):
    sock = connect(args.connect)
    read_line(sock)
    if args.ready:
        open(args.ready, "w").close()
    end = time.time() + args.seconds
    n = 0
    while time.time() < end and not (args.until and os.path.exists(args.until)):
        msg = ("ping %d\n" % n).encode()
        sock.sendall(msg)
        if recv_exact(sock, len(msg)) != msg:
            print("FAIL echo mismatch")
            return 1
        n += 1
        time.sleep(0.2)
    sock.close()
    print("held %d exchanges" % n)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ident", "http", "ws"):
        p = sub.add_parser(name)
        p.add_argument("--listen", required=True)
        p.add_argument("--name", default=name)
        p.add_argument("--status", type=int, default=200)
        p.add_argument("--cert")
        p.add_argument("--key")
        p.add_argument("--echo", action="store_true",
                       help="http: answer with the request head and the body's length and SHA-256")
        p.add_argument("--big", type=int, default=0, help="http: answer with this many bytes")
        p.add_argument("--log", help="append CONN / REQ lines to this file")
        p.add_argument("--close-after", action="store_true",
                       help="http: close after each response, whatever was said")
        p.add_argument("--proxy-file",
                       help="while this file exists, connections start with a PROXY header")
        p.add_argument("--show-xff", action="store_true",
                       help="http: answer with the client address, PROXY or not, and X-Forwarded-For")
    p = sub.add_parser("probe")
    p.add_argument("--connect", required=True)
    p.add_argument("--src")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--payload", default="hello through ppbridge\n")
    p = sub.add_parser("bulk")
    p.add_argument("--connect", required=True)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p = sub.add_parser("raw")
    p.add_argument("--connect", required=True)
    p.add_argument("--src")
    p.add_argument("--pause", type=float, default=0.0)
    p.add_argument("--wait-for", help="before each part after the first, wait for these bytes")
    p.add_argument("--idle", type=float, default=3.0, help="seconds of silence that end the read")
    p.add_argument("--half-close", action="store_true",
                   help="shutdown(SHUT_WR) after the last part")
    p.add_argument("parts", nargs="+")
    p = sub.add_parser("hold")
    p.add_argument("--connect", required=True)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--ready", help="made once the greeting came through")
    p.add_argument("--until", help="end early once this file exists")
    args = ap.parse_args()
    if args.cmd == "ident":
        serve(args, IdentHandler)
    elif args.cmd == "http":
        serve(args, HttpHandler)
    elif args.cmd == "ws":
        serve(args, WsHandler)
    elif args.cmd == "probe":
        sys.exit(probe(args))
    elif args.cmd == "bulk":
        sys.exit(bulk(args))
    elif args.cmd == "raw":
        sys.exit(raw(args))
    elif args.cmd == "hold":
        sys.exit(hold(args))


if __name__ == "__main__":
    main()
