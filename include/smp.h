/* smp.h - typed samples: fetches, converters and the expressions that chain
 * them (`src,ipmask(24)`), shared by conditions (acl.h) and log-format
 * values (sample.h). Pure: no sockets, no libevent, no runtime state but
 * what the caller hands over in a `struct smp_env`.
 *
 * A fetch and a converter are each one row of a table in smp.c (HAProxy's
 * sample_fetch_kw / sample_conv_kw idea, in our own shape): the name, the
 * arguments, the output type, what it reads, where it may be used, and its
 * function. Adding one is that row and its function.
 *
 * A fetch that has nothing to read (no ClientHello, no HTTP request, no
 * nbsrv callback: a NULL field of the environment) yields no value; a
 * condition on it does not match and a log-format value gets nothing, as
 * in HAProxy.
 */
#ifndef PPB_SMP_H
#define PPB_SMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg_userlist;

enum smp_type {
	SMP_T_BOOL = 0,
	SMP_T_INT,
	SMP_T_IP, /* IPv4 or IPv6; an IPv4-mapped IPv6 address comes as IPv4 */
	SMP_T_STR,
};

/* What a fetch reads, by context: bits 1u << enum smp_use. The first three
 * are acl.h's ACL_FETCH_* bits (acl_cond_fetches()) and must not move. */
enum smp_use {
	SMP_USE_SRC = 0,    /* connection: the client's address and port */
	SMP_USE_HELLO_SNI,  /* ClientHello: the server name, before termination */
	SMP_USE_HELLO_TYPE, /* ClientHello: the type of the first handshake message */
	SMP_USE_HTTP_URI,   /* HTTP request: its target (the path) */
	SMP_USE_STATE,      /* runtime state: servers' health (nbsrv) */
	SMP_USE_DST,        /* connection: the address the client connected to */
	SMP_USE_TLS_SNI,    /* TLS session: the server name the client sent */
	SMP_USE_HTTP_HDR,   /* HTTP request: header fields */
	SMP_USE_HTTP_AUTH,  /* HTTP request: its Basic credentials, and the userlists */
	SMP_USE_STK,        /* stick counters: the entries the stream tracks */
};

/* Where a fetch may be used (a row's `where`). */
#define SMP_IN_COND 0x1u  /* conditions: acl, if/unless */
#define SMP_IN_VALUE 0x2u /* log-format values: %[...] */

/* Row flags. */
#define SMP_F_ALIAS 0x1u /* another name of the row before it: not listed in messages */
#define SMP_F_HOST 0x2u  /* a host name: compared without case; "*.suffix" patterns */
#define SMP_F_LIST 0x4u  /* a comma-separated list: patterns match its elements one by one */

enum smp_arg_type {
	SMP_ARG_NONE = 0,
	SMP_ARG_HDR,     /* a header field name: an RFC 9110 token, at most 256 bytes */
	SMP_ARG_BACKEND, /* a backend name (the caller checks it exists: smp_expr_backends) */
	SMP_ARG_MASK4,   /* an IPv4 mask: 0..32 or dotted (255.255.255.0) */
	SMP_ARG_MASK6,   /* an IPv6 mask: 0..128 or an address (ffff:ffff::) */
	/* a userlist name (the caller checks it exists: smp_expr_userlists) */
	SMP_ARG_USERLIST,
	SMP_ARG_SC,    /* a stick counter number: 0, 1 or 2 (in i) */
	SMP_ARG_TABLE, /* a proxy that has a stick-table (the caller checks: smp_expr_names) */
};
#define SMP_MAX_ARGS 2

struct smp_arg {
	enum smp_arg_type type;
	char *str; /* HDR, BACKEND, USERLIST: the text (owned, NUL-terminated) */
	size_t len;
	uint8_t mask[16]; /* MASK4 (4 bytes), MASK6 (16), network byte order */
	int i;            /* SC: the counter number */
};

/* A sample: one value of one type. */
struct smp {
	enum smp_type type;
	int64_t i;                  /* BOOL (0 or 1), INT */
	struct sockaddr_storage ip; /* IP: AF_INET or AF_INET6, port kept */
	const char *str;            /* STR: not NUL-terminated, not owned */
	size_t len;
};

/* What a fetch reads, filled by the consumer (acl_cond_eval, sample_expand)
 * from its own context. NULL / 0 everywhere means "not available here". */
struct smp_env {
	const struct sockaddr *src;
	const struct sockaddr *dst;
	const char *hello_sni; /* the ClientHello's server name; NULL or "": none */
	int hello_type;        /* 0: no TLS handshake seen */
	const char *tls_sni;   /* the TLS session's server name */
	const char *uri;       /* the HTTP request-target as received (not NUL-terminated) */
	size_t uri_len;
	int (*hdr)(void *arg, const char *name, size_t name_len, const uint8_t **val,
	           size_t *val_len); /* > 0: found */
	void *hdr_arg;
	int (*nbsrv)(void *arg, const char *backend); /* < 0: unknown backend */
	void *nbsrv_arg;
	/* http_auth, http_auth_group: the Authorization header's value (not
	 * NUL-terminated; NULL: none) and the configuration's userlists (NULL:
	 * credentials are not looked at here, the fetches have no value) */
	const char *auth;
	size_t auth_len;
	const struct cfg_userlist *userlists;
	/* sc_*(<sc>[,<table>]) and src_*([<table>]): a stick table value
	 * (`data` is stktable.h's enum stk_data). sc >= 0: the entry the
	 * stream tracks with that counter (in `table` when named); sc < 0:
	 * the entry of `src` in `table` (NULL: the current proxy's). Returns
	 * 1 with *out filled, 0 when there is no value. */
	int (*stk)(void *arg, int sc, const char *table, int data, int64_t *out);
	void *stk_arg;
};

/* A fetch: one row of smp_fetch_kws[]. */
struct smp_fetch_kw {
	const char *name;
	enum smp_arg_type args[SMP_MAX_ARGS]; /* SMP_ARG_NONE after the last */
	int min_args;                         /* how many are mandatory */
	enum smp_type out;
	unsigned use;       /* what it reads: bits 1u << enum smp_use (0: nothing) */
	unsigned where;     /* SMP_IN_COND, SMP_IN_VALUE */
	unsigned flags;     /* SMP_F_* */
	int64_t vmin, vmax; /* INT: the values it can take, when vmax > vmin */
	/* 1 with *out filled, 0 when there is no value */
	int (*fetch)(const struct smp_arg *args, const struct smp_env *env, struct smp *out);
	const char *hint; /* added to "takes N argument(s)" errors */
	/* a family of rows listed once in messages ("sc_<data>(<sc>[,<table>])") */
	const char *family;
};

/* A converter: one row of smp_conv_kws[]. */
struct smp_conv_kw {
	const char *name;
	enum smp_arg_type args[SMP_MAX_ARGS];
	int min_args;
	enum smp_type in, out;
	/* 1 with *smp converted in place, 0 when there is no value */
	int (*conv)(const struct smp_arg *args, struct smp *smp);
};

struct smp_conv {
	const struct smp_conv_kw *kw;
	struct smp_arg args[SMP_MAX_ARGS];
	int nargs;
};

/* `fetch[(args)][,conv[(args)]]...`, compiled. */
struct smp_expr {
	const struct smp_fetch_kw *fetch;
	struct smp_arg args[SMP_MAX_ARGS];
	int nargs;
	struct smp_conv *convs;
	int nconvs;
};

/* The length of the fetch name at the start of `text` (up to '(' or ','). */
size_t smp_name_len(const char *text);
/* The row named name[0..len), or NULL. */
const struct smp_fetch_kw *smp_fetch_find(const char *name, size_t len);
const struct smp_conv_kw *smp_conv_find(const char *name, size_t len);
/* The i-th row (for tests and documentation checks), NULL past the end. */
const struct smp_fetch_kw *smp_fetch_kw_at(size_t i);
const struct smp_conv_kw *smp_conv_kw_at(size_t i);
/* "src, src_port, ..., req.hdr(<name>)": the fetches usable `where`
 * (aliases left out), into buf (always NUL-terminated). */
void smp_fetch_list(unsigned where, char *buf, size_t len);
void smp_conv_list(char *buf, size_t len);
/* "an address", "a string", ... */
const char *smp_type_name(enum smp_type t);

/* Parse an expression for use `where` (SMP_IN_COND or SMP_IN_VALUE).
 * Returns NULL with `err` filled. */
struct smp_expr *smp_expr_parse(const char *text, unsigned where, char *err, size_t errlen);
void smp_expr_free(struct smp_expr *e);
/* The type of the last step's output. */
enum smp_type smp_expr_type(const struct smp_expr *e);
/* What it reads: bits 1u << enum smp_use. */
unsigned smp_expr_uses(const struct smp_expr *e);
/* 1 with *out filled, 0 when the expression has no value here. */
int smp_expr_eval(const struct smp_expr *e, const struct smp_env *env, struct smp *out);
/* Call fn for every backend name the expression refers to, in order; a
 * non-zero return stops the walk and is returned. */
int smp_expr_backends(const struct smp_expr *e, int (*fn)(void *arg, const char *backend),
                      void *arg);
/* The same for any kind of named argument: SMP_ARG_BACKEND, SMP_ARG_TABLE
 * (sc_conn_cur(0,<table>), src_conn_cur(<table>)), ... */
int smp_expr_names(const struct smp_expr *e, enum smp_arg_type type,
                   int (*fn)(void *arg, const char *name), void *arg);
/* The same for userlist names (http_auth(<userlist>)). */
int smp_expr_userlists(const struct smp_expr *e, int (*fn)(void *arg, const char *userlist),
                       void *arg);

#endif
