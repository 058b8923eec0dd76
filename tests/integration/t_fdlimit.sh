#!/bin/bash
# Descriptor exhaustion and frontend maxconn: ppbridge's open-file limit is
# lowered while it runs (prlimit(2)) until accept() fails with EMFILE. It must
# not spin (CPU near idle while saturated), log at most about once a second,
# keep serving what it has, answer 503 when a request finds no socket for
# the server, not count a check it could not start against the server,
# refuse a reload it cannot read, and accept again as soon as descriptors
# free up. A frontend at its `maxconn` leaves new connections in the
# kernel's backlog and takes them as slots free. At start-up a maxconn the
# open-file limit cannot hold is lowered, with a warning.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PS=$(free_port); PT=$(free_port); PH=$(free_port); PM=$(free_port)
SOCK=$T_DIR/admin.sock
LOG=$T_DIR/ppbridge.log
start_http web "127.0.0.1:$PS"
start_ident tcp "127.0.0.1:$PT"
wait_port 127.0.0.1 "$PS"
wait_port 127.0.0.1 "$PT"
cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
    maxconn 1000
defaults
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    timeout http-request 30s
frontend web
    bind 127.0.0.1:$PH
    mode http
    option forwardfor
    default_backend web
backend web
    mode http
    server s1 127.0.0.1:$PS check inter 200ms fall 1 rise 1
listen limited
    bind 127.0.0.1:$PM
    mode tcp
    maxconn 3
    server t1 127.0.0.1:$PT
CFG

# ---- start-up: a maxconn the limit cannot hold is lowered ----
( ulimit -Sn 300 && ulimit -Hn 300 && exec "$PPB_BIN" -f "$T_DIR/ppb.cfg" -d ) >"$T_DIR/low.log" 2>&1 &
LOW=$!
T_PIDS="$T_PIDS $LOW"
wait_log "$T_DIR/low.log" 'ppbridge .* started' 15
grep -q 'maxconn 1000 needs 2256 descriptors but the open-file limit is 300: maxconn lowered to 112' \
	"$T_DIR/low.log" || fail "no maxconn warning: $(grep -i maxconn "$T_DIR/low.log")"
kill -TERM "$LOW"
wait "$LOW" || fail "the low-limit instance exited badly"
check_sanitizers "$T_DIR/low.log"
ok "start-up: maxconn 1000 lowered to 112 to fit ulimit -n 300, with a warning"

start_ppb "$T_DIR/ppb.cfg"
python3 - "$T_PPB_PID" "$PH" "$PM" "$LOG" "$SOCK" "$PPB_BIN" <<'PY' || fail "see above"
import os, re, resource, socket, subprocess, sys, time

pid, ph, pm, log, sock, ppb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
HZ = os.sysconf("SC_CLK_TCK")

def fail(msg):
    print("[t_fdlimit] FAIL:", msg)
    sys.exit(1)

def log_count(pattern):
    with open(log, errors="replace") as f:
        return sum(1 for line in f if re.search(pattern, line))

def wait_for(what, cond, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)

def cpu_seconds():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ

def nfds():
    return len(os.listdir(f"/proc/{pid}/fd"))

def get(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    s.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode(errors="replace")

def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)

# ---- frontend maxconn: the 4th connection waits in the backlog ----
held = [connect(pm) for _ in range(3)]
for s in held:
    s.settimeout(5)
    if not s.recv(100).startswith(b"tcp "):
        fail("a limited connection got no greeting")
fourth = connect(pm)
fourth.settimeout(1.0)
try:
    fourth.recv(100)
    fail("frontend maxconn 3: a 4th connection was accepted")
except socket.timeout:
    pass
stat = subprocess.run([ppb, "ctl", sock, "show stat"], capture_output=True, text=True).stdout
row = [l for l in stat.splitlines() if l.startswith("limited,FRONTEND,")]
if not row or row[0].split(",")[4] != "3":
    fail("show stat: scur of 'limited' is not 3: %s" % row)
held[0].close()
fourth.settimeout(5)
if not fourth.recv(100).startswith(b"tcp "):
    fail("the 4th connection was not taken when a slot freed")
for s in held[1:] + [fourth]:
    s.close()
print("[t_fdlimit] ok: frontend maxconn 3: the 4th connection waited in the backlog (scur 3), taken when one closed")

# ---- out of descriptors ----
if not get(connect(ph)).split(" ")[1:2] == ["200"]:
    fail("no 200 before the test")
base = nfds()
limits = resource.prlimit(pid, resource.RLIMIT_NOFILE)
resource.prlimit(pid, resource.RLIMIT_NOFILE, (base + 10, limits[1]))
clients = []
for _ in range(40):
    clients.append(connect(ph))  # the kernel completes them; ppbridge accepts what it can
wait_for("the accept pause line", lambda: log_count("accepting paused until a descriptor frees") >= 1)
t0, c0, lines0 = time.time(), cpu_seconds(), log_count("accepting paused")
time.sleep(2.0)  # measured: CPU and log lines while saturated
used = cpu_seconds() - c0
lines = log_count("accepting paused") - lines0
if used > 0.4:
    fail("saturated: %.2f s of CPU in %.1f s (spinning)" % (used, time.time() - t0))
if lines > 4:
    fail("%d 'accepting paused' lines in 2 s" % lines)
print("[t_fdlimit] ok: saturated at %d descriptors: %.2f s CPU in 2 s, %d log lines" % (nfds(), used, lines))

# A request on an accepted connection finds no socket for the server: 503.
status = get(clients[0])
if " 503 " not in status + " ":
    fail("no 503 without a server socket: %r" % status)
wait_for("the no-socket line", lambda: log_count("no socket for a connection to web/s1") >= 1)
# Health checks that could not start are not counted against the server.
wait_for("a skipped check", lambda: log_count("check web/s1: no descriptor .* not counted") >= 1)
if log_count("Server web/s1 is DOWN"):
    fail("the server went DOWN because ppbridge had no descriptor")
# A reload that cannot read its files is refused; the old config serves on.
os.kill(pid, 1)
wait_for("the refused reload", lambda: log_count("reload refused") >= 1)
print("[t_fdlimit] ok: 503 and a log line for a request with no server socket; checks skipped, not counted; reload refused")

# Descriptors free up: ppbridge accepts the connections that waited in
# the backlog and serves them (each needs one more descriptor for its
# server connection: three clients fit in the ten).
for s in clients[:37]:
    s.close()
ok = sum(1 for s in clients[37:] if get(s).split(" ")[1:2] == ["200"])
if ok != 3:
    fail("after descriptors freed, %d of 3 waiting connections were served" % ok)
for s in clients[37:]:
    s.close()
resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
ok = sum(1 for _ in range(20) if get(connect(ph)).split(" ")[1:2] == ["200"])
if ok != 20:
    fail("after the limit was raised, %d of 20 served" % ok)
if log_count("Server web/s1 is DOWN"):
    fail("the server went DOWN")
print("[t_fdlimit] ok: backlog connections served once descriptors freed; 20/20 after the limit was raised")
PY
kill -HUP "$T_PPB_PID"
wait_log "$LOG" 'reload: configuration reloaded' 10
ok "descriptor exhaustion handled; a reload succeeds once descriptors are back"
stop_ppb
