/* gen.h - a configuration generation: the parsed config plus the runtime
 * objects built from it (frontends, backends). Reference-counted: every
 * live stream holds the generation it started with, so a reload can swap
 * in a new one while old connections finish on the old one.
 */
#ifndef PPB_GEN_H
#define PPB_GEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy_proto.h"

struct cfg;
struct cfg_proxy;
struct be;
struct tls_bind;

/* Termination classes counted per frontend. */
struct fe_counters {
	atomic_ullong conns;      /* accepted */
	atomic_ullong no_server;  /* refused: no usable server */
	atomic_ullong conn_fail;  /* every server attempt failed */
	atomic_ullong bytes_in;   /* client -> server */
	atomic_ullong bytes_out;  /* server -> client */
	atomic_ullong rejected;   /* refused by `tcp-request connection reject` */
	atomic_ullong denied_req; /* refused by `http-request deny` or `tarpit` */
	/* PROXY header failures on accept: the codec's classes, plus a client
	 * that stayed silent (timeout) or closed before a full header. */
	atomic_ullong pp_errors[PP_ERR_COUNT];
	atomic_ullong pp_timeout;
	atomic_ullong pp_closed;
	atomic_ullong pp_accepted;
	/* `accept-proxy optional` binds: trusted sources with a header and
	 * without one, untrusted ones (plain), and untrusted ones refused for
	 * starting with a PROXY signature (spoof attempts). */
	atomic_ullong pp_opt_with;
	atomic_ullong pp_opt_without;
	atomic_ullong pp_opt_untrusted;
	atomic_ullong pp_opt_spoof;
	atomic_ullong http_errors; /* requests refused as invalid (4xx) */
	/* The client-IP path each accepted connection took, and how often
	 * `client-ip auto` had to retry a connection the other way. */
	atomic_ullong path_xff;    /* terminated (or plain HTTP), X-Forwarded-For */
	atomic_ullong path_proxy;  /* passed through behind a PROXY header */
	atomic_ullong path_plain;  /* passed through as they came */
	atomic_ullong auto_retries;
	atomic_ullong switches;    /* runtime strategy changes */
	atomic_ullong tls_handshakes; /* client TLS handshakes completed (bind ... ssl) */
	atomic_ullong tls_resumed;    /* of which resumed a session */
	/* Out of descriptors: accept() failed (EMFILE/ENFILE), or a server
	 * connection could not get a socket (the client got 503 or a close). */
	atomic_ullong fd_exhausted;
};

/* A bind and the TLS it terminates (NULL without `ssl`). */
struct fe_bind {
	const struct cfg_bind *conf;
	struct tls_bind *tls;
};

/* Where a frontend's client-IP strategy in force came from. */
enum fe_cip_from {
	FE_CIP_CONFIG = 0,     /* the configuration (written, or HAProxy's semantics) */
	FE_CIP_RUNTIME,        /* `set frontend ... client-ip` (maybe before a reload) */
	FE_CIP_STATE_FILE,     /* `client-ip-state`, read at start-up */
};

struct fe {
	const struct cfg_proxy *conf;
	struct be *be;
	struct be **use_bes;     /* the `use_backend` targets, in the rules' order */
	struct fe_bind *binds;
	int nbinds;
	atomic_uint cur_conns;   /* live connections (frontend `maxconn` holds accepts at it) */
	atomic_int client_ip;    /* enum cfg_client_ip in force: config, derived, or runtime */
	enum fe_cip_from cip_from; /* main thread only */
	struct fe_counters ctr;
};

/* A proxy's stick table (stktable.h): kept across reloads while its
 * definition is the same (gen_tables.c). */
struct gen_table {
	const struct cfg_proxy *px;
	struct stktable *t;
};

struct gen {
	atomic_int refs;
	struct cfg *cfg;
	struct be *bes;
	int nbe;     /* the backends and listens of the configuration */
	int nbe_own; /* after them in `bes`: the empty backends of frontends
	              * that answer everything themselves (`frontend stats`);
	              * no list, no lookup by name shows them */
	struct fe *fes;
	int nfe;
	struct gen_table *tables;
	int ntables;
};

/* The stick table of a proxy of this generation (NULL: it has none). */
struct stktable *gen_table_of(const struct gen *gen, const struct cfg_proxy *px);
struct stktable *gen_table_named(const struct gen *gen, const char *name);
/* Build the generation's tables, taking over the previous generation's
 * entries where a table's definition did not change (gen_tables.c).
 * Main thread. */
int gen_tables_build(struct gen *gen);
void gen_tables_free(struct gen *gen);
/* The tables' clock: milliseconds, monotonic, coarse (a vDSO read). */
uint32_t gen_tables_now(void);
/* Drop expired entries of every live table (main thread, periodically). */
void gen_tables_purge(void);

/* Build a generation from a finished, resolved config, TLS contexts
 * included (certificates and CA files are loaded here, so a bad one fails
 * the whole generation); takes ownership of `cfg` (freed with the
 * generation, or at once on failure). Warnings (an expired certificate)
 * go to the log. */
struct gen *gen_new(struct cfg *cfg, char *err, size_t errlen);
struct gen *gen_ref(struct gen *gen);

/* The strategy a frontend's configuration means: `client-ip` when written,
 * else HAProxy's semantics (mode http: xff; mode tcp whose servers all
 * send-proxy[-v2]: proxy-v1/v2; else none). */
enum cfg_client_ip gen_config_client_ip(const struct cfg_proxy *fe);
/* Make `st` the frontend's strategy (checks of its backends follow; a
 * backend shared by several frontends follows the most demanding one). */
void gen_set_client_ip(struct gen *gen, struct fe *fe, enum cfg_client_ip st);
/* Can this frontend take strategy `st`? (xff needs mode http.) */
int gen_client_ip_allowed(const struct fe *fe, enum cfg_client_ip st);
const char *gen_cip_from_name(enum fe_cip_from from);
/* nbsrv(<backend>) for a condition (struct acl_ctx's callback, `arg` a
 * struct gen *): the usable servers of that backend now, -1 when the
 * generation has no backend by that name. */
int gen_nbsrv(void *arg, const char *backend);
void gen_unref(struct gen *gen);

#endif
