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
	for pid in $T_PIDS; do
		kill "$pid" 2>/dev/null
	done
	sleep 0.1
	for pid in $T_PIDS; do
		kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T_DIR"; fi
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
[ -x "$PPB_BIN" ] || hard_error "ppbridge binary not found at $PPB_BIN"

# A TCP port free on loopback right now (the kernel picks it).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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

# wait_log FILE REGEX [SECONDS]: wait until the file has a matching line.
wait_log() {
	local file=$1 re=$2 limit=${3:-10} i=0
	while [ "$i" -lt $((limit * 20)) ]; do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	fail "no line matching '$re' in $(basename "$file") after ${limit}s"
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
