#!/bin/bash
# Routing by the ClientHello before termination, as HAProxy users write it:
#   tcp-request inspect-delay / tcp-request content accept if
#   { req_ssl_hello_type 1 } / use_backend <be> if { req.ssl_sni -i ... }.
# A passthrough name (exact or *.suffix) reaches its backend - a real
# HAProxy 2.6 - with the client's own TLS session (the client sees that
# router's certificate), other names get X-Forwarded-For re-encryption by
# ppbridge. The ClientHello may come in several segments. In proxy-v2, the
# SNI read from the ClientHello is sent as the PP2 AUTHORITY TLV
# (proxy-v2-options authority), which the router reads back.
. "$PPB_SRCDIR/tests/integration/lib.sh"
make_certs

# A second server certificate, for the passthrough router, from the same CA.
openssl req -newkey rsa:2048 -nodes -subj "/CN=pass-router" \
	-keyout "$PKI/pass.key" -out "$PKI/pass.csr" >/dev/null 2>&1 || fail "openssl: CSR"
printf 'subjectAltName=DNS:oauth.test,DNS:*.pass.test\n' >"$PKI/pass.cnf"
openssl x509 -req -in "$PKI/pass.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
	-days 2 -extfile "$PKI/pass.cnf" -out "$PKI/pass.crt" >/dev/null 2>&1 || fail "openssl: sign"
cat "$PKI/pass.crt" "$PKI/pass.key" >"$PKI/pass.pem"

PF=$(free_port); PP=$(free_port); PA=$(free_port); PR=$(free_port); PX=$(free_port)
SOCK=$T_DIR/admin.sock
cat >"$T_DIR/routers.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend pass
    # the passthrough route's own TLS (oauth-openshift style), with PROXY
    bind 127.0.0.1:$PX ssl crt $PKI/pass.pem accept-proxy
    http-request return status 200 content-type text/plain lf-string "router=pass src=%[src] sni=%[ssl_fc_sni] auth=%[fc_pp_authority]\n"
frontend apps
    bind 127.0.0.1:$PR ssl crt $PKI/srv.pem
    http-request return status 200 content-type text/plain lf-string "router=apps src=%[src] xff=%[req.hdr(x-forwarded-for)]\n"
CFG
start_haproxy routers "$T_DIR/routers.cfg"
wait_port 127.0.0.1 "$PX"; wait_port 127.0.0.1 "$PR"

cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
defaults
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe-https
    mode http
    bind 127.0.0.1:$PF ssl crt $PKI/srv.pem
    option forwardfor
    http-request del-header X-Forwarded-For
    tcp-request inspect-delay 2s
    tcp-request content reject if { req.ssl_sni -i blocked.test }
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend be-pass if { req.ssl_sni -i oauth.test *.pass.test }
    default_backend be-apps
frontend fe-pp
    # a proxy-v2 VIP: TLS passed through, the SNI sent as AUTHORITY
    mode http
    bind 127.0.0.1:$PP ssl crt $PKI/srv.pem
    client-ip proxy-v2
    default_backend be-apps-pp
backend be-pass
    mode tcp
    server pass 127.0.0.1:$PX send-proxy-v2 check
backend be-apps
    mode http
    server apps 127.0.0.1:$PR ssl ca-file $PKI/ca.crt check
backend be-apps-pp
    mode http
    server pass 127.0.0.1:$PX ssl ca-file $PKI/ca.crt proxy-v2-options authority check
CFG
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.out" 2>&1 || { cat "$T_DIR/check.out"; fail "-c refused the SNI routing config"; }
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log

# client.py PORT SNI [CHUNK]: TLS to PORT with SNI, the ClientHello sent in
# CHUNK-byte pieces 30 ms apart; prints the peer certificate's CN and the
# answer's body.
cat >"$T_DIR/client.py" <<'PY'
import socket, ssl, sys, time
port, sni = int(sys.argv[1]), sys.argv[2]
chunk = int(sys.argv[3]) if len(sys.argv) > 3 else 0
ctx = ssl.create_default_context(cafile=sys.argv[4] if len(sys.argv) > 4 else None)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if chunk:
    # as large as a ClientHello with post-quantum key shares (~1.8 KB+):
    # a long ALPN list does it with the OpenSSL 3.0 at hand
    ctx.set_alpn_protocols(["x-ppbridge-test-%02d-" % i + "a" * 180 for i in range(8)] + ["http/1.1"])
sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.7", 0))
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname=sni)
def flush(split):
    data = out.read()
    if split and chunk:
        for i in range(0, len(data), chunk):
            sock.sendall(data[i:i + chunk])
            time.sleep(0.03)
    elif data:
        sock.sendall(data)
    return len(data)
first = True
while True:
    try:
        obj.do_handshake()
        flush(False)
        break
    except ssl.SSLWantReadError:
        n = flush(first)
        if first:
            print("hello=%d" % n, file=sys.stderr)
        first = False
        data = sock.recv(65536)
        if not data:
            print("closed during the handshake")
            sys.exit(2)
        inc.write(data)
cert = obj.getpeercert(binary_form=True)
import subprocess
cn = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"], input=cert,
                    capture_output=True).stdout.decode().strip()
obj.write(b"GET / HTTP/1.1\r\nHost: " + sni.encode() + b"\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n")
flush(False)
body = b""
while True:
    try:
        got = obj.read(65536)
        if not got:
            break
        body += got
    except ssl.SSLWantReadError:
        data = sock.recv(65536)
        if not data:
            break
        inc.write(data)
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
        break
print(cn)
print(body.split(b"\r\n\r\n", 1)[-1].decode().strip())
PY
# (a bound against a hang only: python alone can take seconds to start on
# a loaded machine; the socket operations have their own 5 s limit)
tls() { timeout 60 python3 "$T_DIR/client.py" "$@"; }

out=$(tls "$PF" oauth.test)
echo "$out" | grep -q 'CN *= *pass-router' || fail "oauth.test: not the passthrough router's certificate: $out"
echo "$out" | grep -Eq '^router=pass src=127.0.0.7 sni=oauth.test' || fail "oauth.test: $out"
ok "oauth.test passes through: the client sees the router's own certificate; PROXY carries its address"

out=$(tls "$PF" a.b.pass.test)
echo "$out" | grep -Eq '^router=pass src=127.0.0.7 sni=a.b.pass.test' || fail "*.pass.test: $out"
out=$(tls "$PF" pass.test)
echo "$out" | grep -Eq '^router=apps src=127.0.0.1 xff=127.0.0.7$' || fail "pass.test is not below *.pass.test: $out"
out=$(tls "$PF" OAuth.Test)
echo "$out" | grep -q '^router=pass' || fail "names compare without case: $out"
ok "*.pass.test matches names below it only; names compare without case"

out=$(tls "$PF" localhost)
echo "$out" | grep -q 'CN *= *localhost' || fail "other names: not ppbridge's certificate: $out"
echo "$out" | grep -Eq '^router=apps src=127.0.0.1 xff=127.0.0.7$' || fail "other names: $out"
ok "other names: terminated by ppbridge, X-Forwarded-For (client's own dropped), re-encrypted"

# A large ClientHello sent in 200-byte pieces: read whole before deciding.
out=$(tls "$PF" oauth.test 200 2>"$T_DIR/hello.txt")
hello=$(grep -o 'hello=[0-9]*' "$T_DIR/hello.txt")
echo "$out" | grep -Eq '^router=pass src=127.0.0.7' || fail "segmented ClientHello ($hello): $out"
out=$(tls "$PF" localhost 150)
echo "$out" | grep -Eq '^router=apps src=127.0.0.1 xff=127.0.0.7$' || fail "segmented, terminated: $out"
ok "a ClientHello in several segments ($hello bytes, 150-200 per segment) is read whole, both ways"

out=$(tls "$PF" blocked.test 2>&1)
echo "$out" | grep -q 'router=' && fail "blocked.test was let through: $out"
wait_log "$LOG" "rejected by 'tcp-request content reject' at .*ppb.cfg:14"
ok "tcp-request content reject closes the connection and logs file:line"

# Plain bytes where TLS is expected: not a ClientHello, the default path
# (ppbridge's TLS) refuses them as it always did.
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 30 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", '"$PF"'), timeout=3)
s.sendall(sys.stdin.buffer.read())
print(s.recv(100))' >/dev/null 2>&1
wait_log "$LOG" 'TLS handshake failed'
ok "non-TLS bytes go to the default path and fail its handshake (logged)"

# proxy-v2 passthrough: AUTHORITY from the ClientHello.
out=$(tls "$PP" oauth.test)
echo "$out" | grep -Eq '^router=pass src=127.0.0.7 sni=oauth.test auth=oauth.test$' ||
	fail "AUTHORITY TLV in passthrough: $out"
ok "proxy-v2 passthrough sends the ClientHello's SNI as PP2 AUTHORITY (the router reads fc_pp_authority)"

cat >"$T_DIR/bad.cfg" <<CFG
defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    mode http
    bind 127.0.0.1:$PF
    use_backend be-http if { req.ssl_sni -i x.test }
    tcp-request connection reject if { req.ssl_sni -i y.test }
    default_backend be-http
backend be-http
    mode http
    server s 127.0.0.1:1
CFG
out=$("$PPB_BIN" -c -f "$T_DIR/bad.cfg" 2>&1) && fail "-c accepted a bad SNI routing config"
echo "$out" | grep -q "bad.cfg:8: use_backend 'be-http': the backend must be 'mode tcp'" || fail "use_backend mode: $out"
echo "$out" | grep -q "bad.cfg:9: .*ClientHello is not read yet at connection time" || fail "connection-time SNI: $out"
ok "-c refuses an HTTP use_backend target and SNI at connection time, with file:line"
stop_ppb
ok "clean exit"
