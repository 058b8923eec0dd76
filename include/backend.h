/* backend.h - backends, servers' runtime state, and server selection.
 *
 * A `struct be` is the runtime side of one backend section. Worker threads
 * select servers concurrently; the main thread (health checks, admin)
 * writes server state. State shared across threads is atomic, so selection
 * takes no lock: it reads each server's `usable` flag and counters.
 *
 * Selection is deterministic for `balance source`: the same client address
 * maps to the same server across restarts and across two ppbridge hosts
 * with the same configuration (the hash has no random seed).
 */
#ifndef PPB_BACKEND_H
#define PPB_BACKEND_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "health.h"

struct cfg_proxy;
struct cfg_server;
struct chk;
struct tls_client;

/* `client-ip auto`: does this server take a PROXY header on its data
 * port? Set by the probes (detect.c) and, at once, by the data path when
 * a connection proves the other way. */
enum srv_pp_mode {
	SRV_PP_UNKNOWN = -1, /* not probed yet: connections take the XFF/plain path */
	SRV_PP_PLAIN = 0,
	SRV_PP_PROXY = 1,
};

/* be->check_pp: the data-port checks send PROXY as each server's detected mode says. */
#define BE_CHECK_PP_AUTO 3

struct det;

struct srv {
	const struct cfg_server *conf;
	struct be *be;
	atomic_int up;            /* health verdict: 1 UP, 0 DOWN */
	atomic_int maint;         /* administratively disabled (`disabled`, admin socket) */
	atomic_int drain;         /* admin: no new connections, checks go on */
	atomic_int weight;        /* runtime weight, from the config; the admin may change it */
	atomic_uint cur_conns;    /* live connections to this server */
	atomic_ullong total_conns;
	atomic_ullong conn_failures; /* connect errors and timeouts */
	atomic_ullong bytes_in;   /* server -> client */
	atomic_ullong bytes_out;  /* client -> server */
	struct health health;     /* main thread only */
	struct chk *chk;          /* main thread only */
	char *last_check;         /* main thread only: last check outcome */
	struct tls_client *tls;   /* `ssl`: context and session cache (gen.c owns it) */
	atomic_int pp_mode;       /* enum srv_pp_mode */
	atomic_ullong pp_mode_changes;
	struct det *det;          /* main thread only: `client-ip auto` probes */
	atomic_llong last_change; /* time() of the last srv_state_changed(), or of start */
};

struct be_ring_point {
	uint32_t hash;
	int srv_index;
};

struct be {
	const struct cfg_proxy *conf;
	struct srv *srvs;
	int nsrv;
	atomic_uint rr_cursor;
	atomic_int check_pp;   /* -1: checks follow the servers' settings; 1/2: PROXY v1/v2;
				* BE_CHECK_PP_AUTO: per server, as detected */
	struct be_ring_point *ring; /* hash-type consistent */
	int nring;
	atomic_uint state_changes; /* bumped by every change of a server's kept state */
};

int be_init(struct be *be, const struct cfg_proxy *conf);
void be_destroy(struct be *be);

/* The weight selection uses now (the admin socket may change it; the
 * consistent-hash ring keeps the configured proportions). */
int srv_weight(const struct srv *srv);

/* Can this server take a new connection now? */
int srv_usable(const struct srv *srv);

/* HAProxy's nbsrv: the usable active servers, or the usable backup ones
 * when no active one is left. */
int be_nbsrv(const struct be *be);

/* Choose a server for a client. `tried` has one flag per server (may be
 * NULL): servers already tried for this connection are skipped. Returns
 * NULL when no server is usable. Backup servers are used only when no
 * active server is usable. */
struct srv *be_select(struct be *be, const struct sockaddr *client, const unsigned char *tried);

/* The hash of a client address that `balance source` uses (port ignored,
 * IPv4-mapped IPv6 hashed as IPv4). */
uint32_t be_hash_addr(const struct sockaddr *sa);

/* A server's state worth keeping changed (UP/DOWN, maintenance, drain,
 * weight, PROXY mode): the server-state file is written again. Any thread. */
void srv_state_changed(struct srv *srv);

/* Record a health-check outcome from the main thread; logs every UP/DOWN
 * transition once, with `reason`. */
void srv_check_result(struct srv *srv, int success, const char *reason);

/* Record what a server was found to take (any thread); logs a change
 * once, with `why`. Returns 1 when the mode changed. */
int srv_set_pp_mode(struct srv *srv, enum srv_pp_mode mode, const char *why);
enum srv_pp_mode srv_pp_mode(const struct srv *srv);
const char *srv_pp_mode_name(enum srv_pp_mode mode);

#endif
