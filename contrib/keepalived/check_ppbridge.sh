#!/bin/sh
# check_ppbridge.sh - keepalived's health check of the local ppbridge.
#
# Exit 0 when this host's ppbridge answers its monitor URI with a 2xx
# (monitor-uri /healthz of the `listen stats` section of
# /etc/ppbridge/ppbridge.cfg: 200 while it can serve, 503 once `monitor
# fail` says it cannot), non-zero otherwise: keepalived then lowers this
# host's priority and the VIPs move to the peer.
#
# Always ask this host's own monitor listener on 127.0.0.1, never a VIP:
# with net.ipv4.ip_nonlocal_bind=1 (see 90-ppbridge-nonlocal-bind.conf)
# both hosts bind the VIPs, but only the master holds them, so a request to
# a VIP from the backup leaves the host and is answered by the *master's*
# ppbridge. The backup would report the master's health as its own, and a
# dead ppbridge on the backup would never be noticed.
#
# Usage: check_ppbridge.sh [PORT [URI]]   (defaults: 8404 /healthz, the
# example configuration's). Needs curl. keepalived runs it as script_user
# (nobody): it only talks HTTP to loopback.
port=${1:-8404}
uri=${2:-/healthz}
exec curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:${port}${uri}"
