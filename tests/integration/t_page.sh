#!/bin/bash
# The stats page in a real browser: headless Chromium (Debian `chromium`)
# loads it from a loopback listener (`stats admin if LOCALHOST`, HAProxy's
# documented idiom, so the admin forms show without credentials) while a
# `client-ip auto` VIP fronts three real HAProxy 2.6 routers, one of them
# with accept-proxy. The DOM must hold the migration view (the VIP, its
# strategy, one router on PROXY and two plain, the share of the last
# minute's connections per path), a row per frontend, backend and server,
# and the admin forms; the screenshot is saved in the test's directory
# (doc/stats-page.png is refreshed from it by hand).
. "$PPB_SRCDIR/tests/integration/lib.sh"

CHROME=$(command -v chromium || command -v chromium-browser) ||
	fail "chromium is missing (contrib/test.sh installs it)"
PF=$(free_port); PS=$(free_port)
declare -A PR
for n in 1 2 3; do PR[$n]=$(free_port); done
SOCK=$T_DIR/admin.sock

for n in 1 2 3; do
	extra=""
	[ "$n" = 1 ] && extra=accept-proxy
	cat >"$T_DIR/r$n.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend http
    bind 127.0.0.1:${PR[$n]} $extra
    http-request return status 200 content-type text/plain lf-string "router=$n src=%[src]\n"
CFG
	start_haproxy "r$n" "$T_DIR/r$n.cfg"
done
for n in 1 2 3; do wait_port 127.0.0.1 "${PR[$n]}"; done

cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
defaults
    mode http
    option forwardfor
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend apps-http
    bind 127.0.0.1:$PF
    client-ip auto
    default_backend routers
backend routers
    balance roundrobin
    server r1 127.0.0.1:${PR[1]} check inter 200 fall 2 rise 1
    server r2 127.0.0.1:${PR[2]} check inter 200 fall 2 rise 1
    server r3 127.0.0.1:${PR[3]} check inter 200 fall 2 rise 1
listen stats
    bind 127.0.0.1:$PS
    stats uri /
    stats refresh 10s
    stats admin if LOCALHOST
CFG
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 || fail "ppbridge -c: $(cat "$T_DIR/check.log")"
start_ppb "$T_DIR/ppb.cfg"
wait_port 127.0.0.1 "$PS"
# auto has found each router's mode when show client-ip says so
modes() { "$PPB_BIN" ctl "$SOCK" show client-ip | awk '$1 ~ /^routers\// {print $2}' | sort | uniq -c | tr -s ' ' | xargs; }
modes_are() { [ "$(modes)" = "$1" ]; }
wait_until 15 "router modes detected (2 plain, 1 proxy; now: $(modes))" modes_are "2 plain 1 proxy"
# Traffic both ways, so the last minute has a share per path.
for i in $(seq 1 12); do
	curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PF/" || fail "request $i through the VIP failed"
done

"$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T_DIR/chrome" \
	--dump-dom "http://127.0.0.1:$PS/" >"$T_DIR/dom.html" 2>"$T_DIR/chrome.log" ||
	fail "chromium --dump-dom failed: $(tail -n 3 "$T_DIR/chrome.log")"
"$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T_DIR/chrome" \
	--hide-scrollbars --window-size=1280,1000 --screenshot="$T_DIR/stats-page.png" \
	"http://127.0.0.1:$PS/" >>"$T_DIR/chrome.log" 2>&1 || fail "chromium --screenshot failed"
[ -s "$T_DIR/stats-page.png" ] || fail "no screenshot"

# What the browser built (after parsing: a malformed page would not hold these).
python3 - "$T_DIR/dom.html" <<'PY' || fail "the DOM lacks what the page must show (see above)"
import sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.classes, self.forms, self.stack, self.text = set(), [], [], [], {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        self.classes.extend((a.get("class") or "").split())
        if tag == "form":
            self.forms.append(a)
        self.stack.append(a.get("id"))
    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.text[i] = self.text.get(i, "") + data

d = Dom()
d.feed(open(sys.argv[1]).read())
errors = []
def need(cond, what):
    if not cond:
        errors.append(what)
need("migration" in d.ids, "the migration view (#migration)")
mig = " ".join(d.text.get("migration", "").split())
need("apps-http" in mig, "the VIP in the migration view: " + mig[:200])
need("auto" in mig, "its strategy (auto) in the migration view")
need("fe-apps-http" in d.ids, "a row for frontend apps-http")
need(any(i.startswith("be-routers") for i in d.ids), "a row for backend routers")
need(sum(1 for c in d.classes if c == "srv") >= 3, "three server rows")
need(any(f.get("method", "").lower() == "post" for f in d.forms), "the admin forms (POST)")
need(d.forms and all((f.get("method") or "get").lower() == "post" for f in d.forms),
     "every form a POST (an action by GET would be a link anyone can plant)")
for e in errors:
    print("missing:", e)
sys.exit(1 if errors else 0)
PY
grep -q 'proxy' "$T_DIR/dom.html" && grep -q 'plain' "$T_DIR/dom.html" || fail "detected modes not shown"
ok "Chromium rendered the page: migration view, rows, admin forms; screenshot $T_DIR/stats-page.png"
[ -n "${PPB_KEEP_SCREENSHOT:-}" ] && cp "$T_DIR/stats-page.png" "$PPB_KEEP_SCREENSHOT"

stop_ppb
