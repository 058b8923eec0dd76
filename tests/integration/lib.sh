# lib.sh - shared helpers for ppbridge's integration tests (sourced).
#
# Each test gets its own temp dir, starts real processes on loopback only,
# cleans them up by PID on exit, and dumps every log on failure. A missing
# peer (haproxy, python3, curl, openssl) is a hard failure (exit 99), never
# a skip: CI must not count an integration test that did not run.

set -u

: "${PPB_BIN:?PPB_BIN must point at the ppbridge binary}"
: "${PPB_SRCDIR:?PPB_SRCDIR must point at the source tree}"
PEERS="$PPB_SRCDIR/tests/integration/peers.py"
# A verbatim copy of ../shared/seed/haproxy-ocp.cfg (t_cli checks they agree).
SEED="$PPB_SRCDIR/tests/data/haproxy-ocp.cfg"
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ppb-$T_NAME.XXXXXX")
T_PIDS=""
T_PPB_PID=""
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

t_log() { printf '[%s] %s\n' "$T_NAME" "$*"; }

t_dump_logs() {
	for f in "$T_DIR"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $f (last 60 lines) -----"
		tail -n 60 "$f"
	done
}

t_cleanup() {
	local pid
	for pid in $T_PIDS; do
		kill "$pid" 2>/dev/null
	done
	# SIGTERM first; SIGKILL only for what is still there after 5 s.
	for pid in $T_PIDS; do
		poll 5 proc_gone "$pid" || kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	free_port_release
	if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T_DIR"; fi
}

# proc_alive PID: the process exists and has not exited (a zombie child
# the shell has not reaped yet counts as gone, where kill -0 would not).
proc_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
trap t_cleanup EXIT

fail() {
	t_log "FAIL: $*"
	t_dump_logs
	exit 1
}

hard_error() {
	t_log "ERROR: $*"
	exit 99
}

ok() { t_log "ok: $*"; }

need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			hard_error "'$tool' is required for integration tests (run contrib/test.sh to install it)"
	done
}

need python3 curl openssl haproxy
# A version manager's shim (pyenv's here) costs 0.7 s per python start, more
# than a second on a loaded machine; the tests start python hundreds of
# times. Put the interpreter's own directory first, for every child too.
PATH="$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH"
export PATH
[ -x "$PPB_BIN" ] || hard_error "ppbridge binary not found at $PPB_BIN"

# A TCP port free on loopback right now (the kernel picks it with bind(0)),
# reserved until this test ends in a directory shared by every test on
# the machine: a test running beside this one (make -j, another checkout)
# cannot be handed the same port before we bind it, and neither can a
# second call here. A reservation whose test is gone is taken over.
PPB_PORT_DIR=${PPB_PORT_DIR:-/tmp/ppb-ports}
free_port() {
	python3 - "$PPB_PORT_DIR" "$$" <<'EOF' || hard_error "free_port: no port could be reserved"
import os, shutil, socket, sys, time
top, owner = sys.argv[1], sys.argv[2]
os.makedirs(top, exist_ok=True)

def alive(path):
    try:
        pid = int(open(os.path.join(path, "pid")).read())
    except (OSError, ValueError):
        try:  # being made right now, unless its maker died a while ago
            return time.time() - os.stat(path).st_mtime < 60
        except OSError:
            return True
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True

for _ in range(200):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    path = os.path.join(top, str(port))
    try:
        os.mkdir(path)
    except FileExistsError:
        if alive(path):
            continue
        try:  # a dead test's reservation: one taker wins the rename
            gone = "%s.stale.%d" % (path, os.getpid())
            os.rename(path, gone)
            shutil.rmtree(gone, ignore_errors=True)
            os.mkdir(path)
        except OSError:
            continue
    with open(os.path.join(path, "pid"), "w") as f:
        f.write(owner)
    print(port)
    sys.exit(0)
sys.exit(1)
EOF
}

# Gives back this test's port reservations (t_cleanup).
free_port_release() {
	local d
	for d in "$PPB_PORT_DIR"/*; do
		[ "$(cat "$d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

# Run a command in the background with its output in $T_DIR/<name>.log.
start_bg() {
	local name=$1
	shift
	"$@" >"$T_DIR/$name.log" 2>&1 &
	T_PIDS="$T_PIDS $!"
	LAST_PID=$!
}

# wait_port HOST PORT [SECONDS]
wait_port() {
	local host=$1 port=$2 limit=${3:-10}
	python3 - "$host" "$port" "$limit" <<'EOF' || fail "nothing listens on $host:$port after ${limit}s"
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# Every wait below polls a condition until a deadline and then fails the
# test naming what did not happen: never a bare sleep, which a slow
# machine (ASan, busy cores) can outrun.
now_ms() { date +%s%3N; }

# poll SECONDS COMMAND...: run COMMAND (in this shell: a function may set
# variables) until it succeeds, 0; or until the deadline, 1. The one place
# the shell tests pause: every wait below is a condition polled by it.
poll() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND; fail naming WHAT.
wait_until() {
	local limit=$1 what=$2
	shift 2
	poll "$limit" "$@" || fail "$what after ${limit}s"
}

# wait_log FILE REGEX [SECONDS]: wait until the file has a matching line.
wait_log() {
	wait_until "${3:-10}" "no line matching '$2' in $(basename "$1")" grep -Eq -- "$2" "$1"
}

# wait_count FILE REGEX N [SECONDS]: wait until N lines match.
wait_count() {
	local file=$1 re=$2 n=$3 limit=${4:-10}
	poll "$limit" count_at_least "$file" "$re" "$n" ||
		fail "$(count_lines "$file" "$re") of $n lines matching '$re' in $(basename "$file") after ${limit}s"
}
count_at_least() { [ "$(count_lines "$1" "$2")" -ge "$3" ]; }

# port_open HOST PORT: something accepts there now (bash's /dev/tcp: no
# interpreter to start, for waits that are timed).
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_file FILE [SECONDS]: wait until the file (or socket) exists.
wait_file() {
	wait_until "${2:-10}" "no $(basename "$1")" test -e "$1"
}

# wait_exit PID [SECONDS]: wait until the process has exited.
wait_exit() {
	wait_until "${2:-10}" "process $1 still running" proc_gone "$1"
}
proc_gone() { ! proc_alive "$1"; }

# wait_refused HOST PORT [SECONDS]: wait until a connect is refused.
wait_refused() {
	local host=$1 port=$2 limit=${3:-10}
	python3 - "$host" "$port" "$limit" <<'EOF' || fail "$host:$port still accepts after ${limit}s"
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
EOF
}

# log_ms FILE REGEX: when the last matching line was logged, in ms since
# the epoch, from ppbridge's own timestamp ("[NOTICE] 2026-12-07T18:36:54.531
# (pid) : ..."). A duration taken this way holds no polling delay.
log_ms() {
	local ts
	ts=$(grep -E -- "$2" "$1" | tail -n 1 | awk '{print $2}')
	[ -n "$ts" ] || fail "no line matching '$2' in $(basename "$1")"
	date -d "${ts/T/ }" +%s%3N
}

# close_time HOST PORT [DATA]: connect, send DATA (Python escapes), read
# until the peer closes. Prints the milliseconds from the send to the
# close (the client's own wait, not its start-up), then the first line
# received, or CLOSED / RESET / TIMEOUT (15 s).
close_time() {
	python3 - "$@" <<'EOF'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
data = sys.argv[3] if len(sys.argv) > 3 else ""
data = data.encode("latin-1").decode("unicode_escape").encode("latin-1")
s = socket.create_connection((host, port), timeout=15)
s.sendall(data)
t0 = time.monotonic()
got, end = bytearray(), "CLOSED"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
except ConnectionResetError:
    end = "RESET"
except socket.timeout:
    end = "TIMEOUT"
ms = int((time.monotonic() - t0) * 1000)
print(ms, got.split(b"\n")[0].decode("latin-1").strip() or end)
EOF
}

# Stand-in servers.
start_ident() { # NAME ADDR:PORT
	start_bg "peer-$1" python3 "$PEERS" ident --listen "$2" --name "$1"
}
start_http() { # NAME ADDR:PORT [STATUS]
	start_bg "peer-$1" python3 "$PEERS" http --listen "$2" --name "$1" --status "${3:-200}"
}

# start_ppb CFG [extra args]: start ppbridge in the foreground (debug log).
start_ppb() {
	local cfg=$1
	shift
	start_bg ppbridge "$PPB_BIN" -f "$cfg" -d "$@"
	T_PPB_PID=$LAST_PID
	wait_log "$T_DIR/ppbridge.log" 'ppbridge .* started' 15
}

# stop_ppb: SIGTERM, wait, and fail on a bad exit or any sanitizer report.
stop_ppb() {
	[ -n "$T_PPB_PID" ] || return 0
	kill -TERM "$T_PPB_PID" 2>/dev/null
	local rc=0
	wait "$T_PPB_PID" || rc=$?
	T_PPB_PID=""
	check_sanitizers "$T_DIR/ppbridge.log"
	[ "$rc" -eq 0 ] || fail "ppbridge exited with status $rc"
}

check_sanitizers() {
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; then
		fail "sanitizer report in $(basename "$1")"
	fi
}

# A test CA and a server certificate for 127.0.0.1/localhost, made now.
make_certs() {
	local d=$T_DIR/pki
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ppbridge test CA" \
		-keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 || fail "openssl: CA"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$d/srv.key" -out "$d/srv.csr" >/dev/null 2>&1 || fail "openssl: CSR"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext.cnf" -out "$d/srv.crt" >/dev/null 2>&1 || fail "openssl: sign"
	cat "$d/srv.crt" "$d/srv.key" >"$d/srv.pem"
	# A second, unrelated CA for "wrong CA" cases.
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout "$d/other.key" -out "$d/other.crt" >/dev/null 2>&1 || fail "openssl: other CA"
	PKI=$d
}

# start_haproxy NAME CFGFILE: a real HAProxy 2.6 in the foreground.
start_haproxy() {
	start_bg "$1" haproxy -db -f "$2"
}

# count_lines FILE REGEX
count_lines() {
	grep -Ec -- "$2" "$1" 2>/dev/null || true
}
