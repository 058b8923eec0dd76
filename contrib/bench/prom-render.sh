#!/bin/bash
# prom-render.sh - median render time of the Prometheus exposition
# (prom_render) for 100 backends x 10 servers (and 100 frontends).
#
#   contrib/bench/prom-render.sh [BUILDDIR] [RUNS]
#
# BUILDDIR is a configured build directory (default _build/release, made
# with a plain ./configure when missing: ASan builds are several times
# slower and say nothing about production). The target is a median under
# 5 ms on the 2-vCPU development machine.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/_build/release}
runs=${2:-500}

if [ ! -f "$build/Makefile" ]; then
	echo "prom-render: configuring $build (release)" >&2
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
	mkdir -p "$build"
	(cd "$build" && "$top/configure" >/dev/null)
fi
make -s -C "$build" contrib/bench/prom-render >&2
"$build/contrib/bench/prom-render" 100 10 "$runs"
