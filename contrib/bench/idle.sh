#!/usr/bin/env bash
# SC2317: functions called indirectly (traps); SC2016: the single-quoted
# bash -c script expands its own positional parameters.
# shellcheck disable=SC2317,SC2016
# idle.sh - connections held and memory per idle connection, ppbridge vs HAProxy.
#
# Usage: bash contrib/bench/idle.sh [-h] [PPBRIDGE_BINARY]
#
# For every mode (tcp, http, https) it runs ppbridge and HAProxy alternately
# (ppbridge, haproxy, ppbridge, haproxy, ...), ROUNDS times each, with the same
# config.  Each run starts the proxy, opens and closes a few warm-up
# connections, reads the proxy's VmRSS, opens IDLE_CONNS connections through it
# (one request/echo on each, answered end to end, then idle), holds them,
# reads VmRSS and VmHWM again and closes them.  It prints how many were held
# and the median bytes per idle connection, (RSS held - RSS before) / held,
# plus the ppbridge/haproxy ratios.  See contrib/bench/README.md.
#
# Everything runs on loopback (127.0.0.1).  Every loop is bounded in count and
# time; every process started here is killed by pid on exit.

set -euo pipefail

PROG=${0##*/}
# shellcheck source=contrib/bench/lib.sh
. "$(dirname "$0")/lib.sh"

# ---- Settings (environment) ------------------------------------------------
IDLE_CONNS=${IDLE_CONNS:-10000}    # connections held per run
ROUNDS=${ROUNDS:-3}                # runs per proxy per mode
MODES=${MODES:-tcp http https}     # subset of: tcp http https
WARM_CONNS=${WARM_CONNS:-16}       # warm-up connections opened and closed first
HOLD=${HOLD:-2}                    # seconds the connections stay idle before the reading
CONCURRENCY=${CONCURRENCY:-200}    # connections being opened at the same time
OPEN_TIMEOUT=${OPEN_TIMEOUT:-60}   # seconds for opening all connections of one run
HTTP_REUSE=${HTTP_REUSE:-}         # http/https: "http-reuse" line for both proxies (default: none)
MAXCONN=${MAXCONN:-}               # proxy global maxconn (default: min(30000, fd limit))
NBTHREAD=${NBTHREAD:-1}            # proxy threads (same for both proxies)
BASE_PORT=${BASE_PORT:-18580}      # backends on BASE_PORT+1..+3, VIPs from BASE_PORT+10
HAPROXY_BIN=${HAPROXY_BIN:-haproxy}
PYTHON=${PYTHON:-python3}
IDLE_OUT=${IDLE_OUT:-}             # optional summary TSV
KEEP_TMP=${KEEP_TMP:-0}            # 1: keep the temp dir (configs, logs, client outputs)
STRICT=${STRICT:-0}                # 1: exit 3 when a target is missed
WANT_NOFILE=65536                  # open-file limit asked for the whole script
FD_RESERVE=64                      # fds kept aside per process (listeners, epoll, std*)

# ---- Small helpers -----------------------------------------------------------

usage() {
	sed -n '5,19p' "$0" | sed 's/^# \{0,1\}//'
	cat <<'EOF'

Environment (defaults in brackets):
  PPB_BIN       ppbridge binary [first argument, else /tmp/b-idle/ppbridge]
  HAPROXY_BIN   [haproxy]   PYTHON [python3]
  IDLE_CONNS [10000]  ROUNDS [3]  MODES ["tcp http https"]  WARM_CONNS [16]
  HOLD [2] s  CONCURRENCY [200]  OPEN_TIMEOUT [60] s  NBTHREAD [1]
  MAXCONN [min(30000, (open-file limit - 64) / 2)]  BASE_PORT [18580]
  HTTP_REUSE [none: the default]  adds "http-reuse VALUE" in modes http/https
  IDLE_OUT [none: summary TSV]  KEEP_TMP [0]  STRICT [0]
The script raises its open-file limit to 65536, or to the hard limit when it
cannot; a proxy needs 2 fds per connection, so IDLE_CONNS is scaled down (with
a warning) to what the limit allows.
EOF
}

is_int() { [[ ${1:-} =~ ^[0-9]+$ ]]; }


# min / max of the numeric arguments ("-" if none)
minof() {
	local v
	for v in "$@"; do is_num "$v" && printf '%s\n' "$v"; done |
		awk 'NR == 1 || $1 < m { m = $1 } END { if (NR == 0) print "-"; else print m }'
}


# ---- Arguments and dependencies ------------------------------------------------
PPB_BIN=${PPB_BIN:-/tmp/b-idle/ppbridge}
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) PPB_BIN=$1 ;;
	esac
	shift
done

for v in IDLE_CONNS ROUNDS WARM_CONNS HOLD CONCURRENCY OPEN_TIMEOUT NBTHREAD BASE_PORT; do
	is_int "${!v}" || die "$v must be a non-negative integer (got '${!v}')"
done
[ "$ROUNDS" -ge 1 ] || die "ROUNDS must be >= 1"
[ "$IDLE_CONNS" -ge 1 ] || die "IDLE_CONNS must be >= 1"
[ "$CONCURRENCY" -ge 1 ] || die "CONCURRENCY must be >= 1"
read -r -a SELECTED <<<"$MODES"
[ ${#SELECTED[@]} -gt 0 ] || die "MODES is empty"
for m in "${SELECTED[@]}"; do
	case $m in tcp | http | https) ;; *) die "unknown mode '$m' (known: tcp http https)" ;; esac
done

missing=()
command -v "$HAPROXY_BIN" >/dev/null 2>&1 || missing+=(haproxy)
command -v "$PYTHON" >/dev/null 2>&1 || missing+=(python3)
for t in awk sort timeout; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ ${#missing[@]} -gt 0 ] && die "missing: ${missing[*]} (Debian: apt-get install -y haproxy python3)"
[ -x "$PPB_BIN" ] || die "ppbridge binary not found or not executable: $PPB_BIN" \
	"(give it as first argument, or set PPB_BIN)"
PPB_BIN=$(command -v "$PPB_BIN" || echo "$PPB_BIN")
case $PPB_BIN in */*) ;; *) PPB_BIN=./$PPB_BIN ;; esac
HAPROXY_BIN=$(command -v "$HAPROXY_BIN")
HAVE_OPENSSL=1
command -v openssl >/dev/null 2>&1 || HAVE_OPENSSL=0

# ---- Open-file limit, number of connections, maxconn --------------------------
# The limit is inherited by the proxies, the backend and the client.  The
# proxy needs 2 fds per connection (client side, server side), plus a few.
if ! ulimit -n "$WANT_NOFILE" 2>/dev/null; then
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && hard=$WANT_NOFILE
	ulimit -n "$hard" 2>/dev/null ||
		die "cannot raise the open-file limit (soft $(ulimit -n), hard $(ulimit -Hn))"
	warn "cannot raise the open-file limit to $WANT_NOFILE (hard limit $(ulimit -Hn)); using $(ulimit -n)"
fi
FDLIM=$(ulimit -n)
[ "$FDLIM" = unlimited ] && FDLIM=$WANT_NOFILE
# HAProxy refuses to start (strict-limits) when 2 * maxconn + its own few fds
# exceed the limit; ppbridge warns and goes on.  Same maxconn for both.
if [ -z "$MAXCONN" ]; then
	MAXCONN=$(((FDLIM - FD_RESERVE) / 2))
	[ "$MAXCONN" -gt 30000 ] && MAXCONN=30000
elif ! is_int "$MAXCONN"; then
	die "MAXCONN must be an integer"
elif [ $((MAXCONN * 2 + FD_RESERVE)) -gt "$FDLIM" ]; then
	warn "MAXCONN=$MAXCONN needs about $((MAXCONN * 2 + FD_RESERVE)) fds, the limit is $FDLIM: haproxy will not start"
fi
# Warm-up server connections may stay idle in the proxy's pool, hence - WARM_CONNS.
NMAX=$(((FDLIM - FD_RESERVE - WARM_CONNS) / 2))
[ "$NMAX" -gt "$MAXCONN" ] && NMAX=$MAXCONN
[ "$NMAX" -ge 100 ] || die "open-file limit $FDLIM is too low (allows $NMAX connections)"
CONNS=$IDLE_CONNS
if [ "$CONNS" -gt "$NMAX" ]; then
	warn "IDLE_CONNS=$IDLE_CONNS needs about $((IDLE_CONNS * 2 + FD_RESERVE + WARM_CONNS)) fds per proxy," \
		"the open-file limit is $FDLIM: holding $NMAX connections instead"
	CONNS=$NMAX
fi
read -r plo phi </proc/sys/net/ipv4/ip_local_port_range || { plo=32768; phi=60999; }
if [ $((CONNS + WARM_CONNS)) -gt $((phi - plo)) ]; then
	warn "$((CONNS + WARM_CONNS)) connections may not fit the local port range $plo-$phi"
fi

# ---- Temp dir and cleanup ----------------------------------------------------
TMPD=$(mktemp -d /tmp/ppb-idle.XXXXXX)
STARTED_PIDS=()

stop_pid() { # PID: TERM, wait up to 5 s, then KILL
	local pid=$1 _
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		warn "pid $pid did not stop on TERM after 5s, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}; do stop_pid "$pid"; done
	if [ "$KEEP_TMP" = 1 ]; then
		warn "kept temp dir $TMPD"
	else
		rm -rf "$TMPD"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM



# ---- Python backend and client ---------------------------------------------------
# Backend: one asyncio process, three listeners: echo (tcp), HTTP/1.1
# keep-alive answering every request with a tiny 200 (http), the same over TLS
# (https).  Prints "ready" once it listens.
cat >"$TMPD/backend.py" <<'PY'
import asyncio, signal, ssl, sys

ECHO, HTTP, HTTPS = (int(a) for a in sys.argv[1:4])
CERT = sys.argv[4] if len(sys.argv) > 4 else ""
RESP = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"


class Echo(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t

    def data_received(self, d):
        self.t.write(d)


class Http(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t
        self.buf = b""

    def data_received(self, d):
        self.buf += d
        n = 0
        while n < 1000:                      # bounded: pipelined requests
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                break
            self.buf = self.buf[i + 4:]      # GET only: no request body
            self.t.write(RESP)
            n += 1
        if len(self.buf) > 65536:
            self.t.close()


async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    srv = [await loop.create_server(Echo, "127.0.0.1", ECHO, backlog=4096, reuse_address=True),
           await loop.create_server(Http, "127.0.0.1", HTTP, backlog=4096, reuse_address=True)]
    if CERT:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(CERT)
        srv.append(await loop.create_server(Http, "127.0.0.1", HTTPS, backlog=4096,
                                            reuse_address=True, ssl=ctx))
    print("ready", flush=True)
    await stop.wait()
    for s in srv:
        s.close()


asyncio.run(main())
PY

# Client: warm-up, "before" reading, N connections opened and answered, held
# HOLD s, "held" reading, abortive close.  The proxy's memory is read from
# /proc/PID/status of the proxy and its live descendants (summed).
# Output: one "RESULT key=value ..." line.
cat >"$TMPD/client.py" <<'PY'
import asyncio, collections, os, socket, ssl, struct, sys, time

MODE, PORT, PID, N, WARM, HOLD, CONC, OPEN_TIMEOUT = sys.argv[1:9]
PORT, PID, N, WARM, CONC = int(PORT), int(PID), int(N), int(WARM), int(CONC)
HOLD, OPEN_TIMEOUT = float(HOLD), float(OPEN_TIMEOUT)
CONN_TIMEOUT = 10.0
HTTP = MODE in ("http", "https")
MSG = b"GET / HTTP/1.1\r\nHost: idle.test\r\nUser-Agent: idle.sh\r\n\r\n" if HTTP else b"idle-ping\n"
CTX = None
if MODE == "https":
    CTX = ssl.create_default_context()
    CTX.check_hostname = False
    CTX.verify_mode = ssl.CERT_NONE


def tree(pid):
    out, todo = [], [pid]
    while todo and len(out) < 1000:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def mem():
    """(VmRSS kB, VmHWM kB, open fds) of the proxy tree, or None if it is gone."""
    rss = hwm = fds = 0
    pids = tree(PID)
    try:
        with open(f"/proc/{PID}/status"):
            pass
    except OSError:
        return None
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return rss, hwm, fds


class Conn(asyncio.Protocol):
    def __init__(self, fut):
        self.fut = fut
        self.buf = b""
        self.t = None
        self.closed = False
        self.late = 0

    def connection_made(self, t):
        self.t = t
        t.write(MSG)

    def data_received(self, d):
        if self.fut.done():
            self.late += len(d)          # nothing should arrive while idle
            return
        self.buf += d
        if not HTTP:
            if len(self.buf) >= len(MSG):
                if self.buf[:len(MSG)] == MSG:
                    self.fut.set_result(True)
                else:
                    self.fut.set_exception(ValueError("bad echo"))
            return
        i = self.buf.find(b"\r\n\r\n")
        if i < 0:
            if len(self.buf) > 65536:
                self.fut.set_exception(ValueError("huge head"))
            return
        head = self.buf[:i].decode("latin-1").split("\r\n")
        parts = head[0].split()
        if len(parts) < 2 or parts[1] != "200":
            self.fut.set_exception(ValueError("status " + (parts[1] if len(parts) > 1 else "?")))
            return
        cl = 0
        for h in head[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                cl = int(v.strip() or 0)
        if len(self.buf) - (i + 4) >= cl:
            self.fut.set_result(True)

    def eof_received(self):
        self.closed = True
        if not self.fut.done():
            self.fut.set_exception(ConnectionError("eof before answer"))
        return False

    def connection_lost(self, exc):
        self.closed = True
        if not self.fut.done():
            self.fut.set_exception(exc or ConnectionError("closed before answer"))


def reason(e):
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(e, OSError) and e.errno:
        import errno
        return errno.errorcode.get(e.errno, str(e.errno))
    s = str(e).replace(" ", "_").replace(",", ";")[:40]
    return type(e).__name__ + (":" + s if s else "")


async def open_one(loop, sem):
    async with sem:
        fut = loop.create_future()
        t = None
        try:
            kw = {"ssl": CTX, "ssl_handshake_timeout": CONN_TIMEOUT} if CTX else {}
            t, p = await asyncio.wait_for(
                loop.create_connection(lambda: Conn(fut), "127.0.0.1", PORT, **kw), CONN_TIMEOUT)
            await asyncio.wait_for(fut, CONN_TIMEOUT)
            return p, None
        except Exception as e:  # noqa: BLE001 - every failure is counted
            if t is not None:
                t.abort()
            return None, reason(e)


async def open_many(loop, n):
    sem = asyncio.Semaphore(CONC)
    tasks = [loop.create_task(open_one(loop, sem)) for _ in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=OPEN_TIMEOUT)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
    ok, why = [], collections.Counter()
    for t in tasks:
        if t in done and not t.cancelled() and t.exception() is None:
            p, r = t.result()
            if p is not None:
                ok.append(p)
            else:
                why[r] += 1
        else:
            why["open-deadline"] += 1
    return ok, why


def close_all(conns, abortive):
    for p in conns:
        if p.t is None or p.t.is_closing():
            continue
        if abortive:
            s = p.t.get_extra_info("socket")
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, AttributeError):
                pass
            p.t.abort()
        else:
            p.t.close()


async def main():
    loop = asyncio.get_running_loop()
    res = {}
    warm, wwhy = await open_many(loop, WARM)
    res["warm_ok"] = len(warm)
    close_all(warm, False)
    await asyncio.sleep(1.0)
    m = mem()
    if m is None:
        print("RESULT error=proxy-gone-before", flush=True)
        return 1
    res["rss_before"], res["hwm_before"], res["fds_before"] = m
    t0 = time.monotonic()
    conns, why = await open_many(loop, N)
    res["open_s"] = "%.1f" % (time.monotonic() - t0)
    await asyncio.sleep(HOLD)
    alive = [p for p in conns if not p.closed]
    if len(alive) < len(conns):
        why["closed-while-idle"] += len(conns) - len(alive)
    m = mem()
    res["held"] = len(alive)
    res["failed"] = N - len(alive)
    res["late_bytes"] = sum(p.late for p in conns)
    if m is None:
        res["error"] = "proxy-gone-held"
    else:
        res["rss_held"], res["hwm_held"], res["fds_held"] = m
    res["reasons"] = ",".join(f"{k}:{v}" for k, v in why.most_common(6)) or "-"
    res["warm_reasons"] = ",".join(f"{k}:{v}" for k, v in wwhy.most_common(3)) or "-"
    close_all(conns, True)
    await asyncio.sleep(0.2)
    print("RESULT " + " ".join(f"{k}={v}" for k, v in res.items()), flush=True)
    return 0


sys.exit(asyncio.run(main()))
PY

# ---- Backend -------------------------------------------------------------------
ECHO_PORT=$((BASE_PORT + 1))
HTTP_PORT=$((BASE_PORT + 2))
HTTPS_PORT=$((BASE_PORT + 3))
VIP_BASE=$((BASE_PORT + 10))
NRUNS=$((${#SELECTED[@]} * ROUNDS * 2))
for p in $ECHO_PORT $HTTP_PORT $HTTPS_PORT $(seq "$VIP_BASE" $((VIP_BASE + NRUNS - 1))); do
	port_open "$p" && die "port 127.0.0.1:$p is in use (set BASE_PORT)"
done

CERT=
if [[ " ${SELECTED[*]} " == *" https "* ]]; then
	if [ "$HAVE_OPENSSL" = 1 ] &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-subj /CN=idle.test -days 2 -keyout "$TMPD/key.pem" -out "$TMPD/crt.pem" \
			>"$TMPD/openssl.log" 2>&1; then
		cat "$TMPD/crt.pem" "$TMPD/key.pem" >"$TMPD/idle.pem"
		CERT=$TMPD/idle.pem
	else
		warn "openssl missing or failed: mode https skipped"
		tmp=()
		for m in "${SELECTED[@]}"; do [ "$m" = https ] || tmp+=("$m"); done
		SELECTED=(${tmp[@]+"${tmp[@]}"})
		[ ${#SELECTED[@]} -gt 0 ] || die "no mode left"
	fi
fi

# Private copy of ppbridge: a rebuild during the run does not disturb it.
mkdir -p "$TMPD/bin"
cp "$PPB_BIN" "$TMPD/bin/${PPB_BIN##*/}"
PPB_REAL=$PPB_BIN
PPB_BIN=$TMPD/bin/${PPB_BIN##*/}

("$PYTHON" "$TMPD/backend.py" "$ECHO_PORT" "$HTTP_PORT" "$HTTPS_PORT" "$CERT") \
	</dev/null >"$TMPD/backend.out" 2>"$TMPD/backend.err" &
BACKEND_PID=$!
STARTED_PIDS+=("$BACKEND_PID")
for _ in $(seq 1 100); do
	grep -q '^ready' "$TMPD/backend.out" 2>/dev/null && break
	kill -0 "$BACKEND_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q '^ready' "$TMPD/backend.out" 2>/dev/null || {
	sed -n '1,20p' "$TMPD/backend.err" >&2
	die "the Python backend did not start"
}

# ---- Proxies -----------------------------------------------------------------
backend_port() { case $1 in tcp) echo "$ECHO_PORT" ;; http) echo "$HTTP_PORT" ;; https) echo "$HTTPS_PORT" ;; esac; }

write_proxy_cfg() { # MODE VIP_PORT FILE
	local mode=$1 vip=$2 be
	be=$(backend_port "$mode")
	{
		cat <<EOF
# generated by $PROG for mode $mode; identical for ppbridge and haproxy
global
    maxconn $MAXCONN
    nbthread $NBTHREAD

defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

EOF
		case $mode in
		tcp)
			cat <<EOF
listen vip
    bind 127.0.0.1:$vip
    mode tcp
    server s1 127.0.0.1:$be
EOF
			;;
		http)
			cat <<EOF
listen vip
    bind 127.0.0.1:$vip
    mode http
    option forwardfor
    option http-keep-alive
${HTTP_REUSE:+    http-reuse $HTTP_REUSE
}    server s1 127.0.0.1:$be
EOF
			;;
		https)
			cat <<EOF
listen vip
    bind 127.0.0.1:$vip ssl crt $CERT
    mode http
    option forwardfor
    option http-keep-alive
${HTTP_REUSE:+    http-reuse $HTTP_REUSE
}    server s1 127.0.0.1:$be ssl verify none
EOF
			;;
		esac
	} >"$3"
}

proxy_bin() { case $1 in ppbridge) echo "$PPB_BIN" ;; haproxy) echo "$HAPROXY_BIN" ;; esac; }

PROXY_PID=
start_proxy() { # PROXY CFG LOG VIP
	local name=$1 cfg=$2 log=$3
	if [ "$name" = ppbridge ]; then
		("$PPB_BIN" -f "$cfg" -q) </dev/null >"$log" 2>&1 &
	else
		("$HAPROXY_BIN" -db -f "$cfg") </dev/null >"$log" 2>&1 &
	fi
	PROXY_PID=$!
	STARTED_PIDS+=("$PROXY_PID")
	wait_port "$4" "$PROXY_PID"
}

RUN=0
# One run: prints "held failed rss_before rss_held hwm fds_per_conn bytes_per_conn open_s reasons"
measure() { # MODE PROXY ROUND
	local mode=$1 name=$2 round=$3 d=$TMPD/$1 vip line
	local cfg log out
	vip=$((VIP_BASE + RUN))
	RUN=$((RUN + 1))
	cfg=$d/$name-$round.cfg log=$d/$name-$round.log out=$d/$name-$round.out
	write_proxy_cfg "$mode" "$vip" "$cfg"
	if ! start_proxy "$name" "$cfg" "$log" "$vip"; then
		warn "$mode/$name round $round: proxy did not start; log:"
		sed -n '1,20p' "$log" >&2
		stop_pid "$PROXY_PID"
		return 1
	fi
	timeout $((OPEN_TIMEOUT + HOLD + 40)) "$PYTHON" "$TMPD/client.py" "$mode" "$vip" "$PROXY_PID" \
		"$CONNS" "$WARM_CONNS" "$HOLD" "$CONCURRENCY" "$OPEN_TIMEOUT" </dev/null >"$out" 2>&1 || true
	if ! kill -0 "$PROXY_PID" 2>/dev/null; then
		warn "$mode/$name round $round: proxy died during the run; log:"
		sed -n '1,20p' "$log" >&2
		stop_pid "$PROXY_PID"
		return 1
	fi
	stop_pid "$PROXY_PID"
	line=$(grep -m1 '^RESULT ' "$out") || {
		warn "$mode/$name round $round: the client gave no result:"
		sed -n '1,20p' "$out" >&2
		return 1
	}
	awk -v n="$CONNS" '
	{
		for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); r[k] = v }
		if (r["error"] != "" || r["rss_held"] == "") exit 1
		held = r["held"] + 0
		bpc = held > 0 ? sprintf("%.0f", (r["rss_held"] - r["rss_before"]) * 1024 / held) : "-"
		fpc = held > 0 ? sprintf("%.2f", (r["fds_held"] - r["fds_before"]) / held) : "-"
		printf "%d %d %d %d %d %s %s %s %s %s\n", held, r["failed"], r["rss_before"], r["rss_held"],
			r["hwm_held"], fpc, bpc, r["open_s"], r["reasons"], r["warm_ok"]
	}' <<<"$line" || {
		warn "$mode/$name round $round: bad client result: $line"
		return 1
	}
}


# ---- Main --------------------------------------------------------------------
T_START=$(date +%s)
say "== ppbridge vs haproxy: idle connections held and memory per connection"
say "ppbridge: $PPB_REAL -q"
say "haproxy:  $HAPROXY_BIN -db  ($("$HAPROXY_BIN" -v 2>&1 | head -n 1))"
say "host: $(uname -sr), $(getconf _NPROCESSORS_ONLN) CPUs; open-file limit $FDLIM (hard $(ulimit -Hn))"
say "load: $CONNS connections per run (IDLE_CONNS=$IDLE_CONNS), warm-up $WARM_CONNS, held ${HOLD}s," \
	"maxconn $MAXCONN, nbthread $NBTHREAD, $ROUNDS rounds per proxy, alternating; modes: ${SELECTED[*]}"
[ -n "$HTTP_REUSE" ] && say "http/https: http-reuse $HTTP_REUSE"
say ""

if [ -n "$IDLE_OUT" ]; then
	printf 'mode\tproxy\tstatus\trounds\tconns\theld_min\tfailed\trss_before_kib\trss_held_kib\tbytes_per_conn\tfds_per_conn\thwm_kib\n' >"$IDLE_OUT"
fi

FAILED=0
MISSED=0
TARGET10K=met
declare -A S_LINE=() S_RATIO=()
for mode in "${SELECTED[@]}"; do
	d=$TMPD/$mode
	mkdir -p "$d"
	write_proxy_cfg "$mode" "$VIP_BASE" "$d/check.cfg"
	say "== mode $mode"
	skip=
	for name in ppbridge haproxy; do
		if ! timeout 10 "$(proxy_bin "$name")" -c -f "$d/check.cfg" </dev/null >"$d/$name-check.log" 2>&1; then
			skip="$name rejects the config ($(grep -m1 -v '^[[:space:]]*$' "$d/$name-check.log" | cut -c1-160))"
			break
		fi
	done
	if [ -n "$skip" ]; then
		say "SKIP $mode: $skip"
		say ""
		S_LINE[$mode]=skipped
		TARGET10K=MISSED
		continue
	fi

	declare -A R_HELD=() R_FAIL=() R_RB=() R_RH=() R_HWM=() R_FPC=() R_BPC=() R_OK=()
	for name in ppbridge haproxy; do
		R_HELD[$name]='' R_FAIL[$name]=0 R_RB[$name]='' R_RH[$name]='' R_HWM[$name]=''
		R_FPC[$name]='' R_BPC[$name]='' R_OK[$name]=0
	done
	for round in $(seq 1 "$ROUNDS"); do
		for name in ppbridge haproxy; do
			if res=$(measure "$mode" "$name" "$round"); then
				read -r held failed rb rh hwm fpc bpc opens reasons warmok <<<"$res"
				R_HELD[$name]+=" $held" R_RB[$name]+=" $rb" R_RH[$name]+=" $rh" R_HWM[$name]+=" $hwm"
				R_FPC[$name]+=" $fpc" R_BPC[$name]+=" $bpc"
				R_FAIL[$name]=$((R_FAIL[$name] + failed))
				R_OK[$name]=$((R_OK[$name] + 1))
				printf '  round %d %-8s  held %6d/%d  failed %5d  rss before %7d kB  held %7d kB  hwm %7d kB  fds/conn %5s  %7s B/conn  open %5ss\n' \
					"$round" "$name" "$held" "$CONNS" "$failed" "$rb" "$rh" "$hwm" "$fpc" "$bpc" "$opens"
				[ "$failed" -gt 0 ] && say "    failures: $reasons"
				[ "$warmok" -lt "$WARM_CONNS" ] && say "    warm-up: only $warmok of $WARM_CONNS connections answered"
			else
				FAILED=1
				R_FAIL[$name]=$((R_FAIL[$name] + CONNS))
				say "  round $round $name  FAILED"
			fi
		done
	done

	declare -A M_BPC=()
	for name in ppbridge haproxy; do
		# shellcheck disable=SC2086 # word splitting of the value lists is intended
		{
			M_BPC[$name]=$(median ${R_BPC[$name]})
			hmin=$(minof ${R_HELD[$name]})
			rb=$(median ${R_RB[$name]})
			rh=$(median ${R_RH[$name]})
			fpc=$(median ${R_FPC[$name]})
			hwm=$(maxof ${R_HWM[$name]})
		}
		status=ok
		[ "${R_OK[$name]}" -lt "$ROUNDS" ] && status=partial
		[ "${R_OK[$name]}" -eq 0 ] && status=failed
		S_LINE[$mode/$name]=$(printf '%-6s %-9s %13s %7s %16s %14s %11s %9s %10s' "$mode" "$name" \
			"$hmin/$CONNS" "${R_FAIL[$name]}" "$rb" "$rh" "${M_BPC[$name]}" "$fpc" "$hwm")
		if [ -n "$IDLE_OUT" ]; then
			printf '%s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$name" "$status" \
				"${R_OK[$name]}" "$CONNS" "$hmin" "${R_FAIL[$name]}" "$rb" "$rh" "${M_BPC[$name]}" \
				"$fpc" "$hwm" >>"$IDLE_OUT"
		fi
	done
	r=$(ratio "${M_BPC[ppbridge]}" "${M_BPC[haproxy]}")
	v=$(verdict "$r" "<=" 1.0)
	if [ "${R_FAIL[ppbridge]}" -gt 0 ] || [ "${R_OK[ppbridge]}" -lt "$ROUNDS" ]; then
		v="MISSED: ppbridge did not hold all connections"
	fi
	[ "$v" = met ] || MISSED=1
	[ "${R_FAIL[ppbridge]}" -eq 0 ] && [ "${R_OK[ppbridge]}" -eq "$ROUNDS" ] || TARGET10K=MISSED
	hnote=
	[ "${R_FAIL[haproxy]}" -gt 0 ] && hnote=" (haproxy failed ${R_FAIL[haproxy]})"
	S_RATIO[$mode]="ratio bytes/conn ppbridge/haproxy ($mode) = $r (target <= 1.0, all held) [$v]$hnote"
	[ -n "$IDLE_OUT" ] && printf '%s\tratio\t%s\t-\t-\t-\t-\t-\t-\t%s\t-\t-\n' "$mode" \
		"$([ "$r" = - ] && echo failed || echo ok)" "$r" >>"$IDLE_OUT"
	say ""
done

say "== summary (medians over $ROUNDS rounds; conns held: fewest in a round; failed: sum over rounds)"
printf '%-6s %-9s %13s %7s %16s %14s %11s %9s %10s\n' mode proxy "conns held" failed \
	"RSS before (kB)" "RSS held (kB)" "bytes/conn" "fds/conn" "peak (kB)"
for mode in "${SELECTED[@]}"; do
	if [ "${S_LINE[$mode]:-}" = skipped ]; then
		printf '%-6s skipped\n' "$mode"
		continue
	fi
	say "${S_LINE[$mode/ppbridge]}"
	say "${S_LINE[$mode/haproxy]}"
done
say ""
for mode in "${SELECTED[@]}"; do
	[ -n "${S_RATIO[$mode]:-}" ] && say "${S_RATIO[$mode]}"
done
if [ "$CONNS" -lt 10000 ]; then
	say "10k connections held (DESIGN): NOT MEASURED - only $CONNS per run" \
		"(IDLE_CONNS=$IDLE_CONNS, open-file limit $FDLIM allows $NMAX)" \
		"[ppbridge held all $CONNS: $([ "$TARGET10K" = met ] && echo yes || echo no)]"
	[ "$IDLE_CONNS" -ge 10000 ] && MISSED=1
else
	say "10k connections held (DESIGN): ppbridge held $CONNS in every round of every mode [$TARGET10K]"
	[ "$TARGET10K" = met ] || MISSED=1
fi
say "elapsed: $(($(date +%s) - T_START)) s"
[ -n "$IDLE_OUT" ] && say "summary TSV: $IDLE_OUT"
[ "$FAILED" = 1 ] && { warn "some runs failed"; exit 1; }
[ "$STRICT" = 1 ] && [ "$MISSED" = 1 ] && { warn "a target was missed"; exit 3; }
exit 0
