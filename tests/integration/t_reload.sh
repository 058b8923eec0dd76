#!/bin/bash
# Hitless reload (SIGHUP): under continuous load no connection fails or is
# refused; a broken configuration is refused and the old one keeps serving;
# listeners of unchanged addresses keep their sockets, new ones open,
# removed ones close; servers keep their UP/DOWN state; keep-alive
# connections move over with Connection: close on their next response.
. "$PPB_SRCDIR/tests/integration/lib.sh"

P1=$(free_port); P2=$(free_port); P3=$(free_port); PH=$(free_port)
PF=$(free_port); PX=$(free_port); PNEW=$(free_port)
start_ident s1 "127.0.0.1:$P1"
start_ident s2 "127.0.0.1:$P2"
start_ident s3 "127.0.0.1:$P3"
start_bg http python3 "$PEERS" http --listen "127.0.0.1:$PH" --name web
for p in $P1 $P2 $P3 $PH; do wait_port 127.0.0.1 "$p"; done

write_cfg() { # extra-bind-line, servers...
	local extra=$1
	shift
	{
		cat <<CFG
defaults
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen vip
    mode tcp
    bind 127.0.0.1:$PF
    balance roundrobin
CFG
		for s in "$@"; do echo "    $s"; done
		cat <<CFG
listen web
    mode http
    bind 127.0.0.1:$PX
    option forwardfor
    server web 127.0.0.1:$PH
$extra
CFG
	} >"$T_DIR/ppb.cfg.tmp"
	mv "$T_DIR/ppb.cfg.tmp" "$T_DIR/ppb.cfg"
}
reload() { # returns once the outcome (reloaded or refused) is logged
	local re='reload: configuration reloaded|reload refused' n
	n=$(count_lines "$T_DIR/ppbridge.log" "$re")
	kill -HUP "$T_PPB_PID"
	wait_count "$T_DIR/ppbridge.log" "$re" $((n + 1)) 15
}

write_cfg "" "server s1 127.0.0.1:$P1 check inter 200" "server s2 127.0.0.1:$P2 check inter 200"
start_ppb "$T_DIR/ppb.cfg"

# 1. Reloads under continuous load: zero failed or refused connections.
# The load runs from its first success (load.up) until all reloads are
# done (load.stop), 120 s at most: on a slow machine it can neither start
# after the first reload nor end before the last.
python3 - "127.0.0.1:$PF" 120 "$T_DIR/load.up" "$T_DIR/load.stop" >"$T_DIR/load.txt" 2>&1 <<'PY' &
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
end = time.time() + float(sys.argv[2])
up, stop = sys.argv[3], sys.argv[4]
ok = bad = 0
while time.time() < end and not os.path.exists(stop):
    try:
        s = socket.create_connection((host, int(port)), timeout=3)
        s.settimeout(3)
        greeting = s.recv(100)
        s.sendall(b"ping\n")
        echo = b""
        while len(echo) < 5:
            chunk = s.recv(100)
            if not chunk:
                break
            echo += chunk
        s.close()
        if greeting and echo == b"ping\n":
            ok += 1
            with open(up + ".tmp", "w") as f:  # load.up holds the good ones so far
                f.write("%d\n" % ok)
            os.replace(up + ".tmp", up)
        else:
            bad += 1
    except OSError as e:
        bad += 1
        print("error:", e)
print("ok=%d bad=%d" % (ok, bad))
PY
LOAD=$!
wait_file "$T_DIR/load.up" 15
# load_past N: N good connections so far.
load_past() { [ "$(cat "$T_DIR/load.up" 2>/dev/null || echo 0)" -ge "$1" ]; }
for i in 1 2 3 4 5; do
	# Load on every generation: some good connections since the last reload.
	want=$(($(cat "$T_DIR/load.up") + 10))
	wait_until 30 "the load stalled below $want good connections" load_past "$want"
	write_cfg "" "server s1 127.0.0.1:$P1 check inter 200 weight $i" "server s2 127.0.0.1:$P2 check inter 200"
	reload
done
touch "$T_DIR/load.stop"
wait "$LOAD"
grep -q '^ok=[1-9][0-9]* bad=0$' "$T_DIR/load.txt" || fail "connections failed during reloads: $(cat "$T_DIR/load.txt")"
[ "$(count_lines "$T_DIR/ppbridge.log" 'reload: configuration reloaded')" -eq 5 ] || fail "not 5 reloads"
ok "5 reloads under load: $(tail -n 1 "$T_DIR/load.txt" | cut -d' ' -f1) connections, none failed or refused"

# 2. A broken configuration is refused; the old one keeps serving.
cp "$T_DIR/ppb.cfg" "$T_DIR/good.cfg"
printf 'listen broken\n    frobnicate\n' >>"$T_DIR/ppb.cfg"
reload
wait_log "$T_DIR/ppbridge.log" 'reload refused, the running configuration keeps serving'
grep -q "ppb.cfg:[0-9]*: .*frobnicate" "$T_DIR/ppbridge.log" || fail "the refusal does not name file:line"
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 4) || fail "old config stopped serving: $out"
ok "broken config refused with file:line; the old one keeps serving"

# 3. Routing changes apply; a server keeps its DOWN state across reloads.
kill "$(pgrep -f "ident --listen 127.0.0.1:$P2")"
wait_log "$T_DIR/ppbridge.log" 'Server vip/s2 is DOWN'
write_cfg "" "server s2 127.0.0.1:$P2 check inter 5000" "server s3 127.0.0.1:$P3 check inter 200"
mark=$(wc -l <"$T_DIR/ppbridge.log")
reload
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 10) || fail "after reload: $out"
# Had s2 come back UP with the new generation, half of these would have
# tried it first: every one must have gone straight to s3 (no retry).
# Each access-log line is written as its connection closes, a little
# after the client is done: wait for the 10 of them.
after_lines() {
	tail -n "+$mark" "$T_DIR/ppbridge.log" | grep ' vip vip/' >"$T_DIR/after.log"
	[ "$(wc -l <"$T_DIR/after.log")" -ge 10 ]
}
wait_until 10 "missing access-log lines" after_lines
grep -v '/0$' "$T_DIR/after.log" && fail "connections retried: s2 was not kept DOWN"
grep -q 'Server vip/s2 is UP' "$T_DIR/ppbridge.log" && fail "s2 reported UP"
echo "$out" | grep -q '^s1 ' && fail "s1 was removed but still gets traffic"
echo "$out" | grep -q '^s3 ' || fail "the new server s3 gets no traffic"
ok "server s1 removed, s3 added; s2 stayed DOWN across the reload (10/10 served, none to s2)"

# 4. A new bind opens, and a keep-alive client moves over. Its first
# request is answered before the reload; its second one is begun before
# it (half a head: an idle connection of an older configuration is
# closed at the next tick, one with a request under way is not) and
# ended after it (the client waits for ka.go): its answer must say
# Connection: close, whatever the machine's speed.
python3 - "127.0.0.1:$PX" "$T_DIR/ka.go" >"$T_DIR/ka.txt" 2>&1 <<'PY' &
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
def recv():
    chunk = s.recv(4096)
    if not chunk:
        raise SystemExit("closed by ppbridge before an answer")
    return chunk
def answer():
    data = b""
    while b"\r\n\r\n" not in data:
        data += recv()
    head, _, body = data.partition(b"\r\n\r\n")
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
    while len(body) < length:
        body += recv()
    return "close" if "connection: close" in head.decode().lower() else "keep-alive"
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
print("first:", answer(), flush=True)
s.sendall(b"GET /second HTTP/1.1\r\n")
print("begun", flush=True)
end = time.time() + 30
while not os.path.exists(sys.argv[2]) and time.time() < end:
    time.sleep(0.05)
s.sendall(b"Host: x\r\n\r\n")
print("second:", answer())
PY
KA=$!
T_PIDS="$T_PIDS $KA"
wait_log "$T_DIR/ka.txt" '^begun'
write_cfg "listen extra
    mode tcp
    bind 127.0.0.1:$PNEW
    server s3 127.0.0.1:$P3" "server s3 127.0.0.1:$P3"
reload
# The worker takes the new generation on its own loop, after the log
# line; a connection served through the bind this reload added proves
# it has (one worker: nbthread is 1 here). Bash's own /dev/tcp: quick.
exec 3<>"/dev/tcp/127.0.0.1/$PNEW" || fail "new bind refused"
read -r -t 10 greeting <&3 || fail "new bind: no greeting"
exec 3<&-
case "$greeting" in "s3 "*) ;; *) fail "new bind: '$greeting'" ;; esac
touch "$T_DIR/ka.go"
wait "$KA" || fail "keep-alive client: $(cat "$T_DIR/ka.txt")"
grep -q '^first: keep-alive' "$T_DIR/ka.txt" || fail "keep-alive: $(cat "$T_DIR/ka.txt")"
grep -q '^second: close' "$T_DIR/ka.txt" || fail "no Connection: close after the reload: $(cat "$T_DIR/ka.txt")"
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PNEW") || fail "new bind: $out"
ok "new bind accepts; a keep-alive connection got Connection: close on its next response"

stop_ppb
ok "clean exit"
