/* path.h - the client-IP path of one connection (pure).
 *
 * How the client's address reaches the server decides everything a
 * connection does after accept: whether its TLS is terminated here,
 * whether the HTTP loop rewrites X-Forwarded-For, whether a PROXY header
 * goes first and which, whether ppbridge speaks TLS to the server. One
 * value says it, set by stream code through strm_set_path() only; every
 * one of those questions is a function of it below.
 *
 * The value comes from the frontend's strategy at accept, and for
 * `client-ip auto` from the chosen server's detected mode; a use_backend
 * rule routing a ClientHello to a passthrough backend, and auto's
 * fallback after a refusal, change it. The choices are pure functions of
 * their inputs, unit-tested over every combination (test_path.c).
 */
#ifndef PPB_PATH_H
#define PPB_PATH_H

#include "cfg.h"

enum strm_path {
	STRM_PATH_PENDING = 0, /* client-ip auto: decided once the server is chosen */
	STRM_PATH_RELAY,       /* L4 as HAProxy: TLS terminated on a `ssl` bind, each
				* server's own send-proxy and ssl */
	STRM_PATH_PASS,        /* L4 passthrough: the client's bytes (TLS too) untouched,
				* nothing added, no TLS of ours to the server */
	STRM_PATH_PASS_PP1,    /* the same behind a PROXY v1 line */
	STRM_PATH_PASS_PP2,    /* the same behind a PROXY v2 header */
	STRM_PATH_PASS_SRV_PP, /* the same behind the header the server asks for (its
				* send-proxy; in auto what its probes found) */
	STRM_PATH_XFF,         /* the HTTP/1.1 loop: TLS terminated on a `ssl` bind,
				* X-Forwarded-For, each server's own ssl and send-proxy */
	STRM_PATH_COUNT
};

/* What the frontend's strategy means at accept. `derived` says the
 * strategy in force is the one HAProxy's semantics give the section (no
 * `client-ip` written, none switched at run time): a mode tcp section
 * then keeps its servers' own settings. */
enum strm_path path_at_accept(enum cfg_client_ip strategy, int derived, int fe_http);

/* client-ip auto, once the server is known: a server that takes PROXY
 * gets a passthrough behind a header of version `pp_version`; others get
 * the backend's own path (XFF for mode http, a plain passthrough for a
 * mode tcp backend, use_backend passthrough targets included). */
enum strm_path path_auto(int srv_takes_proxy, int be_http, int pp_version);

/* A use_backend rule sent the connection (by its ClientHello) to a
 * passthrough backend: the client's TLS goes through untouched, behind
 * the header the strategy asks for. In auto the server decides (PENDING). */
enum strm_path path_routed(enum cfg_client_ip strategy);

/* client-ip auto: the server refused the connection before answering,
 * after a PROXY header (`was_pp`) or without one; the other way. A mode
 * http backend takes the XFF path (never a silent loss of the client's
 * address); a mode tcp backend swaps header and no header. */
enum strm_path path_fallback(int was_pp, int be_http, int pp_version);

/* ---- what a path means ---- */

/* The HTTP loop runs (X-Forwarded-For). */
int path_is_http(enum strm_path p);
/* A `bind ... ssl` is terminated here (else the client's TLS passes through). */
int path_terminates_tls(enum strm_path p);
/* A server's `ssl` applies (else the bytes go to it as they are). */
int path_server_tls(enum strm_path p);
/* The PROXY version the path fixes (0 none, 1, 2), or -1 when the server
 * decides (its send-proxy, or in auto its detected mode). */
int path_fixed_pp(enum strm_path p);
/* Not decided yet, or decided. */
int path_decided(enum strm_path p);

const char *path_name(enum strm_path p);

#endif
