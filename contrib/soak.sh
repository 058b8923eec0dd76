#!/usr/bin/env bash
# SC2317: functions called indirectly (traps, wait_until).
# shellcheck disable=SC2317
# soak.sh - a long soak of ppbridge: mixed load through an L4, an HTTP and an
# HTTPS re-encrypt VIP in front of three router stand-ins, with a reload and a
# client-ip flip every minute; checks that no request fails, that RSS does not
# drift, that descriptors come back, and (--asan) that the sanitizers are quiet.
#
# Usage: contrib/soak.sh [-d SECONDS | -m MINUTES] [--bin PATH] [--asan]
#                        [--rate RPS] [--threads N] [--csv FILE] [--keep] [-h]
#
#   -d, --duration S   load duration in seconds, 60..21600 [600]
#   -m, --minutes M    the same in minutes, 1..360
#   --bin PATH         ppbridge binary to soak [build _build/release (or
#                      _build/asan with --asan) in this tree and use it]
#   --asan             an ASan+UBSan build: judge sanitizer reports instead of
#                      RSS drift (ppbridge is stopped with SIGTERM at the end)
#   --rate RPS         total requests per second aimed at [300]
#   --threads N        ppbridge nbthread [2, as the packaged configuration]
#   --csv FILE         the RSS/descriptor samples [/tmp/ppb-soak-DATE-KIND.csv]
#   --keep             keep the temp dir (it is always kept when a verdict fails)
#
# Not part of CI. Loopback only (127.0.0.0/8), its own temp dir, every loop
# bounded in count and time, every process it starts stopped by pid on exit.
# Exit status: 0 every verdict met, 1 a verdict failed, 2 usage or setup error.
# See README.md (Soak test) for what it asserts and measured numbers.

set -euo pipefail

PROG=${0##*/}
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=contrib/bench/lib.sh
. "$SRCDIR/contrib/bench/lib.sh"

DURATION=600
PPB_BIN=
ASAN=0
RATE=300
THREADS=2
KEEP=0
CSV=
SAMPLE_EVERY=10      # seconds between RSS/fd samples
RELOAD_AT=20         # seconds into each minute: a reload (SIGHUP, admin reload, ...)
FLIP_AT=45           # seconds into each minute: set frontend ... client-ip xff / auto
RSS_LIMIT_PCT=10     # RSS at the end may exceed RSS after minute 1 by this much
FD_SETTLE=60         # seconds allowed for descriptors to come back after the load

usage() { sed -n '9,26p' "$0" | sed 's/^# \{0,1\}//'; }

is_int() { [[ ${1:-} =~ ^[0-9]+$ ]]; }

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		-d | --duration) is_int "${2:-}" || die "$1 needs seconds"; DURATION=$2; shift ;;
		-m | --minutes) is_int "${2:-}" || die "$1 needs minutes"; DURATION=$((10#$2 * 60)); shift ;;
		--bin) [ -n "${2:-}" ] || die "--bin needs a path"; PPB_BIN=$2; shift ;;
		--asan) ASAN=1 ;;
		--rate) is_int "${2:-}" || die "--rate needs a number"; RATE=$2; shift ;;
		--threads) is_int "${2:-}" || die "--threads needs a number"; THREADS=$2; shift ;;
		--csv) [ -n "${2:-}" ] || die "--csv needs a file"; CSV=$2; shift ;;
		--keep) KEEP=1 ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	DURATION=$((10#$DURATION))
	{ [ "$DURATION" -ge 60 ] && [ "$DURATION" -le 21600 ]; } || die "duration must be 60..21600 s"
	{ [ "$RATE" -ge 10 ] && [ "$RATE" -le 2000 ]; } || die "--rate must be 10..2000"
	{ [ "$THREADS" -ge 1 ] && [ "$THREADS" -le 16 ]; } || die "--threads must be 1..16"
}

check_tools() {
	local t missing=()
	for t in haproxy python3 openssl curl timeout awk; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing: ${missing[*]} (Debian: . contrib/deps.sh; deps_install test)"
}

# ---- Build -------------------------------------------------------------------
# Without --bin: configure (once) and make the kind of build asked for in
# _build/release or _build/asan; make is incremental, so the soaked binary
# always matches the tree.
build_ppbridge() {
	local kind=release dir flags=()
	[ "$ASAN" = 1 ] && { kind=asan; flags=(--enable-asan); }
	dir=$SRCDIR/_build/$kind
	say "building $kind in $dir"
	if [ ! -x "$SRCDIR/configure" ]; then
		(cd "$SRCDIR" && ./autogen.sh) >"$TMPD/build.log" 2>&1 || die "autogen failed: $TMPD/build.log"
	fi
	if [ ! -f "$dir/Makefile" ]; then
		mkdir -p "$dir"
		(cd "$dir" && ../../configure -q ${flags[@]+"${flags[@]}"}) >>"$TMPD/build.log" 2>&1 ||
			die "configure failed: $TMPD/build.log"
	fi
	# a dir configured the other way would soak the wrong binary
	if grep -q -- '--enable-asan' "$dir/config.status" 2>/dev/null; then
		[ "$ASAN" = 1 ] || die "$dir was configured with --enable-asan"
	else
		[ "$ASAN" = 0 ] || die "$dir was configured without --enable-asan"
	fi
	(cd "$dir" && make -j2 ppbridge) >>"$TMPD/build.log" 2>&1 || die "make failed: $TMPD/build.log"
	PPB_BIN=$dir/ppbridge
}

# ---- Processes ---------------------------------------------------------------
PIDS=()

stop_pid() { # PID [SECONDS]: TERM, wait up to SECONDS (5), then KILL
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { warn "pid $pid ignored TERM, killing"; kill -KILL "$pid" 2>/dev/null || true; }
	wait "$pid" 2>/dev/null || true
}

forget_pid() { # PID: reaped, so never signalled again (its number may be reused)
	local i
	for i in "${!PIDS[@]}"; do [ "${PIDS[i]}" != "$1" ] || unset 'PIDS[i]'; done
	PIDS=(${PIDS[@]+"${PIDS[@]}"})
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	# newest first: the load, then ppbridge, then the routers
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	if [ "$KEEP" = 1 ] || [ "$rc" != 0 ]; then
		warn "temp dir kept: $TMPD"
	else
		rm -rf "$TMPD"
	fi
	exit "$rc"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# wait_listen PORT PID: up to 30 s (lib.sh's wait_port gives 5, short on a
# busy machine with an ASan build) for PORT to accept while PID lives
wait_listen() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$2" 2>/dev/null || return 1
		port_open "$1" && return 0
		sleep 0.1
	done
	return 1
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

sleep_ms() { if [ "$1" -gt 0 ]; then sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; fi; }

# N distinct loopback ports, free now (the kernel picks them; all held
# until all are picked, so they differ)
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
PY
}

# ---- Certificates ------------------------------------------------------------
# One throwaway CA; the VIP's certificate (what clients see when ppbridge
# terminates) and the routers' (what they see in passthrough) both name
# localhost and 127.0.0.1, so the client verifies either.
make_certs() {
	local d=$TMPD/pki name
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=soak CA" \
		-keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 || die "openssl: CA"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext"
	for name in vip router; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=soak $name" -keyout "$d/$name.key" \
			-out "$d/$name.csr" >/dev/null 2>&1 || die "openssl: $name key"
		openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/san.ext" -out "$d/$name.crt" \
			>/dev/null 2>&1 || die "openssl: $name certificate"
		cat "$d/$name.crt" "$d/$name.key" >"$d/$name.pem"
	done
}

# ---- Routers -----------------------------------------------------------------
# Each router stand-in must take a connection both ways on one port, plain
# and behind a PROXY header. HAProxy 2.6's "bind ... accept-proxy" is strict,
# and "tcp-request connection expect-proxy" can only test layer-4 facts, not
# whether a header follows. So each router is one real HAProxy 2.6 process
# in two tiers: a mode tcp sniffer on the public port looks at the first
# bytes ("PROXY " = v1, the 12-byte signature = v2); a connection that starts
# with a header is relayed verbatim, any other one gets a PROXY v2 header
# from the sniffer (its source is ppbridge's address, as a plain router
# would see it); both land on a unix socket bound with accept-proxy, where
# the router proper (HTTP, or TLS with the router's certificate) answers 200
# with the source and the X-Forwarded-For it saw. Real HAProxy TLS and HTTP
# handling, no Python in the data path; ppbridge's auto probes see both ways
# succeed, so every router is "proxy" and the VIPs carry PROXY headers until
# a flip to xff terminates TLS and rewrites X-Forwarded-For instead.
router_cfg() { # N HTTP_PORT TLS_PORT
	local n=$1 d=$TMPD/r$1 side
	cat <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s
EOF
	for side in http:"$2" tls:"$3"; do
		cat <<EOF
frontend sniff-${side%%:*}
    mode tcp
    bind 127.0.0.1:${side#*:}
    tcp-request inspect-delay 5s
    tcp-request content accept if { req.len ge 12 }
    use_backend ${side%%:*}-relay if { req.payload(0,6) -m bin 50524f585920 }
    use_backend ${side%%:*}-relay if { req.payload(0,12) -m bin 0d0a0d0a000d0a515549540a }
    default_backend ${side%%:*}-add-header
backend ${side%%:*}-relay
    mode tcp
    server r unix@$d-${side%%:*}.sock
backend ${side%%:*}-add-header
    mode tcp
    server r unix@$d-${side%%:*}.sock send-proxy-v2
EOF
	done
	cat <<EOF
frontend router
    mode http
    timeout http-keep-alive 2s
    bind unix@$d-http.sock accept-proxy
    bind unix@$d-tls.sock accept-proxy ssl crt $TMPD/pki/router.pem
    http-request return status 200 content-type text/plain lf-string "router=$n src=%[src] xff=%[req.hdr(x-forwarded-for)]\n"
EOF
}

takes_both() { # ADDR:PORT [ssl]
	"$PPB_BIN" probe "$@" >"$TMPD/probe.txt" 2>&1 && grep -q 'takes both plain and PROXY' "$TMPD/probe.txt"
}

start_routers() {
	local n
	for n in 1 2 3; do
		router_cfg "$n" "${R_HTTP[n]}" "${R_TLS[n]}" >"$TMPD/r$n.cfg"
		haproxy -c -q -f "$TMPD/r$n.cfg" >"$TMPD/r$n.log" 2>&1 || die "router $n config: $TMPD/r$n.log"
		haproxy -db -f "$TMPD/r$n.cfg" </dev/null >>"$TMPD/r$n.log" 2>&1 &
		PIDS+=("$!")
		if ! { wait_listen "${R_HTTP[n]}" "$!" && wait_listen "${R_TLS[n]}" "$!"; }; then
			die "router $n did not start: $TMPD/r$n.log"
		fi
	done
	# ppbridge's own probe must find both ways open on every port
	for n in 1 2 3; do
		if ! { takes_both "127.0.0.1:${R_HTTP[n]}" && takes_both "127.0.0.1:${R_TLS[n]}" ssl; }; then
			die "router $n does not take both ways: $(cat "$TMPD/probe.txt")"
		fi
	done
}

# ---- ppbridge ----------------------------------------------------------------
servers() { # PORT-ARRAY-NAME OPTIONS
	local n port
	for n in 1 2 3; do
		port=$1[$n]
		echo "    server r$n 127.0.0.1:${!port} check $2"
	done
}

# The packaged configuration's shape (nbthread, state files, consistent
# source hashing, its timeouts), with client-ip auto on every VIP: the
# README asks for auto on the OAuth (L4) VIP too. No "forwardfor except
# 127.0.0.0/8": the clients here are on loopback.
ppb_cfg() {
	cat <<EOF
global
    nbthread $THREADS
    maxconn 4000
    stats socket $SOCK mode 600 level admin
    client-ip-state $TMPD/state/client-ip.state
    server-state-file $TMPD/state/server.state
    hard-stop-after 10s
defaults
    mode http
    load-server-state-from-file global
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout check 5s
    timeout http-request 10s
    timeout http-keep-alive 10s
    hash-type consistent
frontend fe-l4
    mode tcp
    bind 127.0.0.1:$P_L4
    client-ip auto
    default_backend be-l4
frontend fe-http
    bind 127.0.0.1:$P_HTTP
    option http-keep-alive
    option forwardfor
    http-request del-header X-Forwarded-For
    client-ip auto
    default_backend be-http
frontend fe-https
    bind 127.0.0.1:$P_HTTPS ssl crt $TMPD/pki/vip.pem
    option forwardfor
    http-request del-header X-Forwarded-For
    client-ip auto
    default_backend be-https
backend be-l4
    mode tcp
    balance source
$(servers R_TLS "")
backend be-http
    balance source
$(servers R_HTTP "")
backend be-https
    balance source
$(servers R_TLS "ssl verify required ca-file $TMPD/pki/ca.crt")
EOF
}

adm() { timeout 15 "$PPB_BIN" ctl "$SOCK" "$@"; }

# every server of every backend found to take PROXY
all_proxy() {
	[ "$(adm "show client-ip" 2>/dev/null | awk '$1 ~ /^be-/ && $2 == "proxy"' | wc -l)" = 9 ]
}

start_ppbridge() {
	mkdir -p "$TMPD/state"
	ppb_cfg >"$TMPD/ppbridge.cfg"
	"$PPB_BIN" -c -f "$TMPD/ppbridge.cfg" >"$TMPD/check.log" 2>&1 ||
		die "ppbridge -c refused the config: $(cat "$TMPD/check.log")"
	"$PPB_BIN" -f "$TMPD/ppbridge.cfg" </dev/null >"$LOG" 2>&1 &
	PPB_PID=$!
	PIDS+=("$PPB_PID")
	if ! { wait_listen "$P_L4" "$PPB_PID" && wait_listen "$P_HTTP" "$PPB_PID" &&
		wait_listen "$P_HTTPS" "$PPB_PID"; }; then
		die "ppbridge did not start: $(tail -n 20 "$LOG")"
	fi
	wait_until 30 all_proxy || die "auto did not find every router taking PROXY: $(adm "show client-ip")"
}

# One request per VIP before the load: a setup error shows here, plainly.
preflight() {
	local port scheme out
	for port in "$P_HTTP:http" "$P_HTTPS:https" "$P_L4:https"; do
		scheme=${port#*:}
		out=$(curl -sS --max-time 5 --cacert "$TMPD/pki/ca.crt" --interface 127.0.0.9 \
			--resolve "localhost:${port%%:*}:127.0.0.1" "$scheme://localhost:${port%%:*}/" 2>&1) ||
			die "preflight through 127.0.0.1:${port%%:*} failed: $out"
		[[ $out == *src=127.0.0.9* ]] || die "preflight: the router saw the wrong client: $out"
	done
}

# ---- Samples -----------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PPB_PID/status" 2>/dev/null || echo -; }

fd_count() { find "/proc/$PPB_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# The least descriptor count over 2 s: health checks and probes open
# sockets for milliseconds, and one of those must not count.
fd_settled() {
	local i n min=
	for i in $(seq 20); do
		n=$(fd_count)
		{ [ -z "$min" ] || [ "$n" -lt "$min" ]; } && min=$n
		[ "$i" -lt 20 ] && sleep 0.1
	done
	echo "$min"
}

load_totals() { # -> "requests failures" so far
	cat "$TMPD/progress" 2>/dev/null || echo "0 0"
}

sample() { # T: one CSV row
	local rss fds
	rss=$(rss_kib) fds=$(fd_count)
	printf '%s,%s,%s,%s,%s\n' "$1" "$(now_ms)" "$rss" "$fds" "$(load_totals | tr ' ' ',')" >>"$CSV"
	LAST_RSS=$rss
}

event() { # T TEXT: said, and logged with the time for matching failures with it
	printf '%s %s s: %s\n' "$(now_ms)" "$1" "${*:2}" >>"$TMPD/events.log"
	say "  [$(printf '%4d' "$1")s] ${*:2}"
}

# ---- Reloads and flips -------------------------------------------------------
reloads_logged() { grep -c 'reload: configuration reloaded' "$LOG" || true; }

reloaded_since() { [ "$(reloads_logged)" -gt "$1" ]; }

# SIGHUP answers nothing: its outcome is the log line of a done reload.
reload_sighup() {
	local before
	before=$(reloads_logged)
	kill -HUP "$PPB_PID"
	wait_until 30 reloaded_since "$before"
}

# The HTTP(S) VIPs' strategy in force is the last flip's (auto at first):
# a runtime choice must survive every reload.
strategy_kept() {
	local fe got
	for fe in fe-http fe-https; do
		got=$(adm "show frontends" 2>&1 | awk -v f="$fe" '$1 == f { print $(NF - 1) }')
		[ "$got" = "$CUR_CIP" ] || { echo "$fe is '$got', not $CUR_CIP"; return 1; }
	done
}

op_failed() { # T TEXT
	event "$1" "${*:2}"
	BAD_OPS=$((BAD_OPS + 1))
}

do_reload() { # T
	local how=SIGHUP out
	[ $((RELOADS % 2)) = 1 ] && how="admin reload"
	if [ "$how" = SIGHUP ]; then
		reload_sighup || { op_failed "$1" "reload ($how) FAILED: $(grep reload "$LOG" | tail -n 2)"; return; }
	else
		out=$(adm reload 2>&1) || { op_failed "$1" "reload ($how) FAILED: $out"; return; }
	fi
	RELOADS=$((RELOADS + 1))
	out=$(strategy_kept) || { op_failed "$1" "reload ($how) lost the runtime client-ip: $out"; return; }
	event "$1" "reload #$RELOADS ($how) done, client-ip $CUR_CIP kept"
}

do_flip() { # T
	local to=xff fe out
	[ $((FLIPS % 2)) = 1 ] && to=auto
	for fe in fe-http fe-https; do
		out=$(adm set frontend "$fe" client-ip "$to" 2>&1) ||
			{ op_failed "$1" "flip $fe -> $to FAILED: $out"; return; }
	done
	CUR_CIP=$to
	out=$(strategy_kept) || { op_failed "$1" "flip to $to not in force: $out"; return; }
	FLIPS=$((FLIPS + 1))
	event "$1" "flip #$FLIPS: fe-http and fe-https client-ip $to"
}

# ---- Load ----------------------------------------------------------------------
# The client is Python asyncio rather than wrk: it binds a different
# 127.0.0.x per connection and checks in every answer that the router saw
# that very address (PROXY source, or X-Forwarded-For after termination),
# and it logs each failure with its time, class and place on its connection,
# to be matched with the reloads and flips in events.log.
write_load_py() {
	cat >"$TMPD/load.py" <<'PY'
# load.py - soak.sh's client: four classes of paced requests through the
# VIPs, each answer checked (status 200 and the client's own address as the
# router saw it), every request and every failure counted.
import argparse, asyncio, os, ssl, time

ap = argparse.ArgumentParser()
ap.add_argument("--l4", type=int, required=True)
ap.add_argument("--http", type=int, required=True)
ap.add_argument("--https", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--rate", type=float, default=300.0)
ap.add_argument("--stop", required=True)
ap.add_argument("--limit", type=float, required=True)
ap.add_argument("--progress", required=True)
ap.add_argument("--fails", required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()

CTX = ssl.create_default_context(cafile=a.ca)
IO_TIMEOUT = 5.0
WORKERS = 2
# class: (port, tls, requests per connection, Connection: close, share of --rate)
CLASSES = {
    "l4":         (a.l4, True, 5, False, 0.20),   # TLS to the routers, passed through
    "http-ka":    (a.http, False, 10, False, 0.40),
    "http-close": (a.http, False, 1, True, 0.15),
    "https":      (a.https, True, 5, False, 0.25),  # terminated (xff) or passed through (auto)
}
KINDS = ("timeout", "reset", "eof", "tls", "connect", "status", "wrong-ip", "other")
stats = {c: dict(req=0, ok=0, fail=0, conns=0, proxy=0, xff=0, **{k: 0 for k in KINDS})
         for c in CLASSES}
fails = open(a.fails, "a", buffering=1)
seq = 0


class Fail(Exception):
    def __init__(self, kind, msg):
        super().__init__(msg)
        self.kind = kind


def classify(e):
    if isinstance(e, Fail):
        return e.kind
    if isinstance(e, asyncio.TimeoutError):
        return "timeout"
    if isinstance(e, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(e, asyncio.IncompleteReadError):
        return "eof"
    if isinstance(e, ssl.SSLError):
        return "tls"
    if isinstance(e, ConnectionRefusedError):
        return "connect"
    return "other"


async def read_response(r):
    """One response: (status code, headers dict, body)."""
    line = await r.readline()
    if not line:
        raise Fail("eof", "connection closed before the status line")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise Fail("other", "bad status line %r" % line[:80])
    hdrs = {}
    while True:
        h = await r.readline()
        if not h:
            raise Fail("eof", "connection closed in the headers")
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        hdrs[k.strip().lower()] = v.strip()
    body = await r.readexactly(int(hdrs.get("content-length", "0")))
    return int(parts[1]), hdrs, body.decode("latin-1")


def check_ip(cls, body, ip):
    """The router saw the client: as the PROXY source, or in X-Forwarded-For
    (exactly: the client's forged 6.6.6.6 must be gone)."""
    kv = dict(x.split("=", 1) for x in body.split() if "=" in x)
    if kv.get("src") == ip:
        return "proxy"
    if cls != "l4" and kv.get("src") == "127.0.0.1" and kv.get("xff") == ip:
        return "xff"
    raise Fail("wrong-ip", "client %s, router saw %r" % (ip, body.strip()))


async def one_conn(cls, ip):
    global seq
    port, tls, nreq, close, _ = CLASSES[cls]
    st = stats[cls]
    w = None
    done = 0
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", port, ssl=CTX if tls else None,
            server_hostname="localhost" if tls else None, local_addr=(ip, 0)), IO_TIMEOUT)
        st["conns"] += 1
        for i in range(nreq):
            seq += 1
            st["req"] += 1
            req = ("GET /soak/%s/%d HTTP/1.1\r\nHost: localhost\r\n"
                   "X-Forwarded-For: 6.6.6.6\r\n%s\r\n" %
                   (cls, seq, "Connection: close\r\n" if close else ""))
            w.write(req.encode())
            code, hdrs, body = await asyncio.wait_for(read_response(r), IO_TIMEOUT)
            if code != 200:
                raise Fail("status", "status %d" % code)
            st[check_ip(cls, body, ip)] += 1
            st["ok"] += 1
            done += 1
            if "close" in hdrs.get("connection", "").lower():
                break  # the proxy ends this connection (reload, flip): a new one next time
    except Exception as e:
        kind = classify(e)
        st["fail"] += 1
        st[kind] += 1
        fails.write("%d %s %s kind=%s req_on_conn=%d %s: %s\n" % (
            time.time() * 1000, cls, ip, kind, done + 1, type(e).__name__,
            str(e) or "nothing within %g s" % IO_TIMEOUT))
    finally:
        if w is not None:
            w.close()
            try:
                await asyncio.wait_for(w.wait_closed(), 2)
            except Exception:
                pass  # the answers are in; how the close went is not the question


async def worker(cls, k, end):
    port, tls, nreq, close, share = CLASSES[cls]
    # connections per second for this worker, paced from a fixed schedule
    period = nreq * WORKERS / (a.rate * share)
    n = k
    nxt = time.monotonic()
    while time.monotonic() < end and not os.path.exists(a.stop):
        ip = "127.0.0.%d" % (10 + n % 50)
        n += WORKERS
        await one_conn(cls, ip)
        nxt = max(nxt + period, time.monotonic() - period)
        await asyncio.sleep(max(0.0, nxt - time.monotonic()))


async def progress(end):
    while time.monotonic() < end + 10:
        tmp = a.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (sum(s["req"] for s in stats.values()),
                                  sum(s["fail"] for s in stats.values())))
        os.replace(tmp, a.progress)
        await asyncio.sleep(1)


async def main():
    end = time.monotonic() + a.limit
    prog = asyncio.ensure_future(progress(end))
    await asyncio.gather(*(worker(c, k, end) for c in CLASSES for k in range(WORKERS)))
    prog.cancel()
    with open(a.out, "w") as f:
        for c, st in stats.items():
            f.write("%s %s\n" % (c, " ".join("%s=%d" % kv for kv in st.items())))


asyncio.run(main())
PY
}

start_load() {
	write_load_py
	# the load stops on the stop file; the limit is only a backstop
	python3 "$TMPD/load.py" --l4 "$P_L4" --http "$P_HTTP" --https "$P_HTTPS" \
		--ca "$TMPD/pki/ca.crt" --rate "$RATE" --stop "$TMPD/stop" --limit $((DURATION + 60)) \
		--progress "$TMPD/progress" --fails "$TMPD/failures.log" --out "$TMPD/load.txt" \
		</dev/null >"$TMPD/load.log" 2>&1 &
	LOAD_PID=$!
	PIDS+=("$LOAD_PID")
}

stop_load() {
	local i
	touch "$TMPD/stop"
	# a connection in flight ends within its 5 s I/O timeouts plus a 2 s close
	for ((i = 0; i < 300; i++)); do
		kill -0 "$LOAD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$LOAD_PID" 2>/dev/null && { warn "the load did not stop in 30 s"; kill -KILL "$LOAD_PID"; }
	wait "$LOAD_PID" 2>/dev/null || warn "the load client failed: $(tail -n 5 "$TMPD/load.log")"
	forget_pid "$LOAD_PID"
	[ -s "$TMPD/load.txt" ] || die "no result from the load client: $(tail -n 20 "$TMPD/load.log")"
}

# ---- The soak ----------------------------------------------------------------
# A 1 s tick; each action has its next due time, so a slow tick (a busy
# machine) delays an action but never skips it: a sample every
# SAMPLE_EVERY s, a reload at RELOAD_AT and a flip at FLIP_AT s into each
# minute (none in the last 5 s), a progress line per minute. ppbridge and
# the load must stay alive throughout.
soak() {
	local t=0 t0 next_sample=$SAMPLE_EVERY next_reload=$RELOAD_AT next_flip=$FLIP_AT next_minute=60
	t0=$(now_ms)
	T0_MS=$t0
	sample 0
	while [ "$t" -lt "$DURATION" ]; do
		sleep_ms $((t0 + (t + 1) * 1000 - $(now_ms)))
		t=$((($(now_ms) - t0) / 1000))
		kill -0 "$PPB_PID" 2>/dev/null || { DIED=1; event "$t" "ppbridge DIED: $(tail -n 5 "$LOG")"; return; }
		kill -0 "$LOAD_PID" 2>/dev/null || die "the load client died: $(tail -n 20 "$TMPD/load.log")"
		if [ "$t" -ge "$next_sample" ]; then
			sample "$t"
			next_sample=$((next_sample + SAMPLE_EVERY))
			# "after minute 1": the first sample from 60 s on
			[ -n "$RSS_M1" ] || [ "$t" -lt 60 ] || RSS_M1=$LAST_RSS
		fi
		if [ "$t" -ge "$next_reload" ] && [ "$next_reload" -lt $((DURATION - 5)) ]; then
			do_reload "$t"
			next_reload=$((next_reload + 60))
		fi
		if [ "$t" -ge "$next_flip" ] && [ "$next_flip" -lt $((DURATION - 5)) ]; then
			do_flip "$t"
			next_flip=$((next_flip + 60))
		fi
		if [ "$t" -ge "$next_minute" ]; then
			read -r REQS FAILS < <(load_totals)
			say "  [$(printf '%4d' "$t")s] requests $REQS, failed $FAILS, RSS $LAST_RSS KiB, fds $(fd_count)"
			next_minute=$((next_minute + 60))
		fi
	done
	RSS_END=$LAST_RSS
	[ -n "$RSS_M1" ] || RSS_M1=$LAST_RSS
}

fds_back() { [ "$(fd_settled)" -le "$FD_START" ]; }

# After the load: idle connections close (the routers end kept-alive ones
# after 2 s), descriptors must come back to where they started.
settle() {
	wait_until "$FD_SETTLE" fds_back || true
	FD_END=$(fd_settled)
	RSS_IDLE=$(rss_kib)
	adm "show client-ip" >"$TMPD/show-client-ip.txt" 2>&1 || true
	adm "show info" >"$TMPD/show-info.txt" 2>&1 || true
}

# SIGTERM, then the exit status; ASan's leak check runs at exit, give it time.
stop_ppbridge() {
	local i
	kill -TERM "$PPB_PID" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		kill -0 "$PPB_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PPB_PID" 2>/dev/null && { warn "ppbridge ignored SIGTERM for 60 s"; kill -KILL "$PPB_PID"; }
	PPB_RC=0
	wait "$PPB_PID" || PPB_RC=$?
	forget_pid "$PPB_PID"
}

san_reports() { grep -Ec 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$LOG" || true; }

# ---- Report ------------------------------------------------------------------
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%+.1f\n", (a - b) * 100 / b }'; }

# The load's per-class lines as a table, and totals into REQS/FAILS.
class_table() {
	printf '  %-11s %9s %7s   %-52s %9s %9s\n' class requests failed \
		"failures by kind" "via PROXY" "via XFF"
	awk '{
		delete v
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		kinds = ""
		split("timeout reset eof tls connect status wrong-ip other", k, " ")
		for (i = 1; i <= 8; i++) if (v[k[i]] > 0) kinds = kinds k[i] "=" v[k[i]] " "
		if (kinds == "") kinds = "-"
		printf "  %-11s %9d %7d   %-52s %9d %9d\n", $1, v["req"], v["fail"], kinds, v["proxy"], v["xff"]
		req += v["req"]; fail += v["fail"]
	} END { printf "  %-11s %9d %7d\n", "total", req, fail }' "$TMPD/load.txt"
	read -r REQS FAILS < <(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "=")
		if (kv[1] == "req") r += kv[2]; if (kv[1] == "fail") f += kv[2] } }
		END { print r + 0, f + 0 }' "$TMPD/load.txt")
}

# Each failure (first 20) with the reload or flip that came last before it.
failure_context() {
	[ -s "$TMPD/failures.log" ] || return 0
	say "failed requests (first 20), each with the last event before it:"
	touch "$TMPD/events.log"
	awk -v t0="$T0_MS" 'NR == FNR { et[NR] = $1; $1 = ""; ev[NR] = $0; n = NR; next }
	     FNR <= 20 {
		last = "the start"; d = $1 - t0
		for (i = 1; i <= n; i++) if (et[i] <= $1) { last = "the event at" ev[i]; d = $1 - et[i] }
		t = $1; $1 = ""
		printf "  at %.3f s:%s\n      %d ms after %s\n", (t - t0) / 1000, $0, d, last
	     }' "$TMPD/events.log" "$TMPD/failures.log"
}

verdict_line() { # NAME OK(0/1/n/a) DETAIL
	local v=met
	case $2 in 1) ;; n/a) v="not judged" ;; *) v=FAILED; FAILED=1 ;; esac
	printf '  %-40s %-13s %s\n' "$1" "[$v]" "$3"
}

report() {
	local drift ok_rss=n/a ok_san=n/a sans=- kind=release
	[ "$ASAN" = 1 ] && kind="ASan+UBSan"
	drift=$(pct "$RSS_END" "$RSS_M1")
	say ""
	say "== soak result: $kind build, ${DURATION} s, nbthread $THREADS, aimed at $RATE req/s"
	class_table
	say "RSS after minute 1: $RSS_M1 KiB; at the end (under load): $RSS_END KiB; drift $drift %" \
		"(idle after the load: $RSS_IDLE KiB)"
	say "descriptors: $FD_START at the start, $FD_END at the end (idle, after the load)"
	say "reloads: $RELOADS (SIGHUP and admin reload alternately); flips: $FLIPS (auto <-> xff);" \
		"failed reloads/flips: $BAD_OPS"
	touch "$TMPD/show-client-ip.txt"
	say "paths since the last reload: $(awk '$1 ~ /^fe-/ { printf "%s %s xff=%s proxy=%s plain=%s retries=%s; ", $1, $2, $4, $5, $6, $7 }' \
		"$TMPD/show-client-ip.txt")"
	# from the log, as the counters of show client-ip start again at each reload
	say "auto's mode changes after the first detection: $(grep -Ec 'PROXY protocol .* Was: (proxy|plain)\.' "$LOG")," \
		"servers gone DOWN: $(grep -Ec 'Server .* is DOWN' "$LOG")"
	if [ "$ASAN" = 1 ]; then
		sans=$(san_reports)
		ok_san=$([ "$sans" = 0 ] && echo 1 || echo 0)
		say "sanitizer reports in the log: $sans"
	else
		ok_rss=0
		is_num "$RSS_END" && is_num "$RSS_M1" && ok_rss=$(awk -v e="$RSS_END" -v s="$RSS_M1" \
			-v l="$RSS_LIMIT_PCT" 'BEGIN { print (e <= s * (1 + l / 100)) ? 1 : 0 }')
	fi
	say "ppbridge exit status after SIGTERM: $PPB_RC"
	failure_context
	say ""
	say "verdicts:"
	FAILED=0
	verdict_line "zero failed requests" "$([ "$FAILS" = 0 ] && [ "$REQS" -gt 0 ] && echo 1 || echo 0)" \
		"$FAILS of $REQS"
	verdict_line "RSS at the end within ${RSS_LIMIT_PCT}% of minute 1" "$ok_rss" "$drift %"
	verdict_line "descriptors back to their start value" \
		"$(is_num "$FD_END" && [ "$FD_END" -le "$FD_START" ] && echo 1 || echo 0)" \
		"$FD_START -> $FD_END"
	verdict_line "zero sanitizer reports" "$ok_san" "$sans"
	verdict_line "every reload and flip done, clean exit" \
		"$([ "$BAD_OPS" = 0 ] && [ "$DIED" = 0 ] && [ "$PPB_RC" = 0 ] && echo 1 || echo 0)" \
		"$RELOADS reloads, $FLIPS flips, exit $PPB_RC"
	say "samples: $CSV"
}

# ---- Main --------------------------------------------------------------------
main() {
	parse_args "$@"
	check_tools
	TMPD=$(mktemp -d /tmp/ppb-soak.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[ -n "$PPB_BIN" ] || build_ppbridge
	[ -x "$PPB_BIN" ] || die "not an executable: $PPB_BIN"
	if [ "$ASAN" = 0 ] && grep -qa __asan_init "$PPB_BIN"; then
		warn "$PPB_BIN is an ASan build: --asan assumed"
		ASAN=1
	fi
	# a private copy: a rebuild during the soak does not touch the binary under test
	cp "$PPB_BIN" "$TMPD/ppbridge"
	PPB_BIN=$TMPD/ppbridge
	export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

	SOCK=$TMPD/admin.sock LOG=$TMPD/ppbridge.log
	# the samples outlive the temp dir
	[ -n "$CSV" ] || CSV=/tmp/ppb-soak-$(date +%Y%m%d-%H%M%S)-$([ "$ASAN" = 1 ] && echo asan || echo release).csv
	RELOADS=0 FLIPS=0 BAD_OPS=0 DIED=0 RSS_M1='' RSS_END='' LAST_RSS='' PPB_RC=- T0_MS=0 CUR_CIP=auto
	local ports
	read -r -a ports < <(free_ports 9)
	P_L4=${ports[0]} P_HTTP=${ports[1]} P_HTTPS=${ports[2]}
	R_HTTP=([1]=${ports[3]} [2]=${ports[4]} [3]=${ports[5]})
	R_TLS=([1]=${ports[6]} [2]=${ports[7]} [3]=${ports[8]})

	say "== $PROG: $("$PPB_BIN" -v 2>&1 | head -n 1), $([ "$ASAN" = 1 ] && echo ASan+UBSan || echo release)," \
		"${DURATION} s, temp dir $TMPD"
	make_certs
	start_routers
	start_ppbridge
	preflight
	FD_START=$(fd_settled)
	say "VIPs: L4 $P_L4, HTTP $P_HTTP, HTTPS $P_HTTPS; routers (http/tls): ${R_HTTP[*]} / ${R_TLS[*]};" \
		"descriptors at the start: $FD_START"
	echo "t_s,epoch_ms,rss_kib,fds,requests,failures" >"$CSV"
	start_load
	soak
	stop_load
	FD_END=- RSS_IDLE=-
	if kill -0 "$PPB_PID" 2>/dev/null; then settle; else DIED=1; fi
	stop_ppbridge
	report
	[ "$FAILED" = 0 ] || exit 1
	exit 0
}

main "$@"
