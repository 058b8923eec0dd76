#!/bin/bash
# The installed example configuration (contrib/ppbridge.cfg.example) must
# parse: `ppbridge -c` on it with its placeholders filled in (VIPs and
# servers on loopback addresses, a throw-away certificate made here) says
# it is valid. Also:
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
	-e "s|<path_to_cert>\\.crt|$TMP/apps.crt|g" "$EXAMPLE" >"$TMP/ppbridge.cfg"
if grep -n 'x\.x\.x\|<your_subdomain>\|<path_to_cert>' "$TMP/ppbridge.cfg" | grep -v '^[0-9]*:[[:space:]]*#'; then
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
exit 0
