#!/bin/bash
# The installed example configuration (contrib/ppbridge.cfg.example) must
# parse: `ppbridge -c` on it with its placeholders filled in (VIPs and
# servers on loopback addresses, a throw-away certificate made here) says
# it is valid, and so is the demo's (contrib/demo/ppbridge-demo.cfg.in).
# Also:
#   - as shipped, with the placeholders, it is refused (fail closed: an
#     unedited /etc/ppbridge/ppbridge.cfg never starts);
#   - the admin socket it declares is the one the systemd unit's
#     ExecReload talks to.
# Offline: no network, no HAProxy (part of the unit tier, so of the RPM's
# %check). Needs the openssl command.
#
# Environment (set by the automake harness): PPB_SRCDIR, PPB_BIN.
# Exit: 0 pass, 1 fail, 77 skip (no openssl), 99 hard error.
set -u

SRCDIR=${PPB_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${PPB_BIN:-./ppbridge}
EXAMPLE=$SRCDIR/contrib/ppbridge.cfg.example
UNIT_IN=$SRCDIR/contrib/ppbridge.service.in

fail() {
	echo "t_example_cfg: FAIL: $*"
	exit 1
}
hard_error() {
	echo "t_example_cfg: $*" >&2
	exit 99
}
[ -r "$EXAMPLE" ] || hard_error "cannot read $EXAMPLE"
[ -r "$UNIT_IN" ] || hard_error "cannot read $UNIT_IN"
[ -x "$BIN" ] || hard_error "no ppbridge binary at $BIN (PPB_BIN)"
if ! command -v openssl >/dev/null 2>&1; then
	echo "t_example_cfg: SKIP: the openssl command is missing"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/t_example_cfg.XXXXXX") || hard_error "mktemp failed"
trap 'rm -rf "$TMP"' EXIT

# 1. The admin socket of the example is the unit's.
sock=$(awk '$1 == "stats" && $2 == "socket" {print $3; exit}' "$EXAMPLE")
[ -n "$sock" ] || fail "no 'stats socket' line in the example"
grep -q "^ExecReload=.* ctl $sock reload\$" "$UNIT_IN" ||
	fail "the unit's ExecReload does not use the example's admin socket $sock"
grep -q '^RuntimeDirectory=ppbridge$' "$UNIT_IN" && case $sock in /run/ppbridge/*) ;; *) false ;; esac ||
	fail "the admin socket $sock is not in the unit's RuntimeDirectory /run/ppbridge"
echo "t_example_cfg: ok: admin socket $sock matches the unit's ExecReload"

# 2. As shipped, the placeholders make it invalid, naming the lines.
if "$BIN" -c -q -f "$EXAMPLE" >"$TMP/raw.out" 2>&1; then
	fail "the example with its placeholders was accepted"
fi
grep -q 'x\.x\.x\.1' "$TMP/raw.out" || fail "the refusal does not name the placeholder VIP: $(cat "$TMP/raw.out")"
echo "t_example_cfg: ok: refused with its placeholders"

# 3. Filled in, it is valid. One PEM file: certificate then key, used as
# both the bind's crt and the servers' ca-file, as in the seed.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=*.apps.example.test" \
	-addext "subjectAltName=DNS:*.apps.example.test" \
	-keyout "$TMP/apps.key" -out "$TMP/apps.pem" >"$TMP/openssl.out" 2>&1 ||
	hard_error "openssl req failed: $(cat "$TMP/openssl.out")"
cat "$TMP/apps.pem" "$TMP/apps.key" >"$TMP/apps.crt"
sed -e 's/x\.x\.x\.\([0-9]\)/127.0.0.\1/g' \
	-e 's/master\([1-3]\)\.<your_subdomain>/127.0.1.\1/g' \
	-e 's/infra\([1-3]\)\.<your_subdomain>/127.0.2.\1/g' \
	-e 's|<machine_network_cidr>|10.0.0.0/24|g' \
	-e "s|<path_to_cert>\\.crt|$TMP/apps.crt|g" "$EXAMPLE" >"$TMP/ppbridge.cfg"
if grep -n 'x\.x\.x\|<your_subdomain>\|<path_to_cert>\|<machine_network_cidr>' "$TMP/ppbridge.cfg" | grep -v '^[0-9]*:[[:space:]]*#'; then
	fail "placeholders left after substitution (lines above)"
fi

cfg=$TMP/ppbridge.cfg
"$BIN" -c -f "$cfg" >"$TMP/check.out" 2>&1 ||
	fail "ppbridge -c refused the example: $(cat "$TMP/check.out")"
grep -q 'Configuration file is valid' "$TMP/check.out" ||
	fail "no 'Configuration file is valid': $(cat "$TMP/check.out")"
# The example sets every timeout: no "missing timeouts" warning.
if grep -q 'missing timeouts' "$TMP/check.out"; then
	fail "the example leaves timeouts out: $(grep 'missing timeouts' "$TMP/check.out")"
fi
echo "t_example_cfg: ok: ppbridge -c accepts the example with its placeholders filled in"

# 4. The checks OpenShift documents for a user-managed load balancer, and
# no warning at all (in particular not the one for TCP-only checks on 6443).
if grep -q '^\[WARNING\]' "$TMP/check.out"; then
	fail "warnings on the example: $(grep '^\[WARNING\]' "$TMP/check.out")"
fi
for want in 'option httpchk GET /readyz HTTP/1.0' 'option httpchk GET /healthz HTTP/1.0' \
	'option httpchk GET /healthz/ready HTTP/1.0' 'check port 1936 inter 10s rise 2 fall 2' \
	'check check-ssl verify none inter 10s rise 2 fall 2' 'timeout check 10s' \
	'tcp-request connection reject if !{ src <machine_network_cidr> }'; do
	grep -qF -- "$want" "$EXAMPLE" || fail "the example lacks '$want'"
done
if grep -v '^[[:space:]]*#' "$EXAMPLE" | grep -q 'check-send-proxy'; then
	fail "a check carries a PROXY header (the routers' 1936 never takes one)"
fi
echo "t_example_cfg: ok: the documented checks (6443 /readyz, 22623 /healthz, 1936 /healthz/ready)"

# 5. The example's monitoring listener (`listen stats`, what
# contrib/keepalived/check_ppbridge.sh asks) on 127.0.0.1:8404.
grep -q '^listen stats$' "$EXAMPLE" || fail "no 'listen stats' section in the example"
grep -q 'bind 127.0.0.1:8404$' "$EXAMPLE" || fail "the monitor listener is not on 127.0.0.1:8404"
grep -q '^    monitor-uri /healthz$' "$EXAMPLE" || fail "the monitor listener has no monitor-uri /healthz"

# 6. The demo's configuration (contrib/demo.sh runs it) stays valid too,
# as the demo uses it.
DEMO_IN=$SRCDIR/contrib/demo/ppbridge-demo.cfg.in
[ -r "$DEMO_IN" ] || hard_error "cannot read $DEMO_IN"
mkdir -p "$TMP/demo"
cp "$TMP/apps.crt" "$TMP/demo/apps.pem"
cp "$TMP/apps.pem" "$TMP/demo/ca.crt"
sed "s|@DEMO@|$TMP/demo|g" "$DEMO_IN" >"$TMP/demo/ppbridge.cfg"
"$BIN" -c -f "$TMP/demo/ppbridge.cfg" >"$TMP/demo.out" 2>&1 ||
	fail "ppbridge -c refused the demo's configuration: $(cat "$TMP/demo.out")"
if grep -q '^\[WARNING\]' "$TMP/demo.out"; then
	fail "warnings on the demo's configuration: $(grep '^\[WARNING\]' "$TMP/demo.out")"
fi
echo "t_example_cfg: ok: ppbridge -c accepts the demo's configuration"
exit 0
