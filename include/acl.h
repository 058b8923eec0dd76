/* acl.h - HAProxy-style conditions: `if|unless <terms>` (pure).
 *
 * One parser for every rule that takes a condition. A condition is an OR
 * (`||` or `or`) of AND-groups of terms; a term is an optional `!` and
 * either the name of an `acl` declared earlier in the section, a predefined
 * ACL (TRUE, FALSE, LOCALHOST), or an anonymous ACL in braces:
 * `{ src 10.0.0.0/8 ::1 }`. Several `acl` lines with one name are OR'ed,
 * as in HAProxy.
 *
 * An ACL is a sample expression (smp.h: a fetch and its converters,
 * `src,ipmask(24)`), a match method (`-m str|beg|end|sub|len|int|ip|bool|
 * found`, by default the one of the sample's type) and patterns, any of
 * which may match, from the words and from `-f <file>` (one per line).
 * Integer patterns take HAProxy's ranges (`1024:65535`, `:1023`) and
 * operators (`lt 2`, `ge 1`). Match methods, integer operators, derived
 * keywords (`path_beg`) and predefined ACLs are rows of tables in acl.c.
 */
#ifndef PPB_ACL_H
#define PPB_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct acl_match_kw;
struct acl_pat;
struct cfg_userlist;
struct smp_expr;

/* What a condition reads: acl_cond_fetches() returns bits 1u << these.
 * The values are smp.h's enum smp_use (acl.c checks it). */
enum acl_fetch {
	ACL_FETCH_SRC = 0,        /* the connection's source address: src, src_port */
	ACL_FETCH_SSL_SNI,        /* the ClientHello's server name: req.ssl_sni */
	ACL_FETCH_SSL_HELLO_TYPE, /* the ClientHello's type: req_ssl_hello_type */
	ACL_FETCH_HTTP_URI,       /* the HTTP request's target: path */
	ACL_FETCH_STATE,          /* runtime state: nbsrv(<backend>) */
	/* smp.h's SMP_USE_DST .. SMP_USE_HTTP_HDR (5..7) are log-format only */
	ACL_FETCH_HTTP_AUTH = 8, /* Basic credentials: http_auth, http_auth_group */
};
/* Conditions with these bits need the ClientHello (tcp-request content,
 * use_backend), the HTTP request (http-request rules), or the runtime
 * state callbacks of struct acl_ctx. */
#define ACL_NEEDS_CONTENT ((1u << ACL_FETCH_SSL_SNI) | (1u << ACL_FETCH_SSL_HELLO_TYPE))
#define ACL_NEEDS_SRC (1u << ACL_FETCH_SRC)
#define ACL_NEEDS_HTTP (1u << ACL_FETCH_HTTP_URI)
#define ACL_NEEDS_STATE (1u << ACL_FETCH_STATE)
/* Only `stats` rules, evaluated on the main thread from a copy of the
 * request, can have these: the worker threads never see credentials. */
#define ACL_NEEDS_HTTP_AUTH (1u << ACL_FETCH_HTTP_AUTH)

/* One ACL: a sample expression, a match method and the patterns any of
 * which may match. */
struct acl_expr {
	struct acl_expr *next; /* OR'ed with the next one of the same name */
	struct smp_expr *smp;
	const struct acl_match_kw *match;
	unsigned host; /* the fetch is a host name: "*.suffix" patterns in str matching */
	unsigned list; /* the fetch gives a comma-separated list: each element is matched */
	struct acl_pat *pats;
	int npats;
};

struct acl {
	struct acl *next;
	char *name;
	struct acl_expr *exprs;
};

struct acl_term {
	int negate;
	const struct acl *named;    /* declared with `acl` (not owned) */
	struct acl_expr *anonymous; /* `{ ... }` or a predefined ACL (owned) */
};

/* An AND-group of terms. */
struct acl_group {
	struct acl_term *terms;
	int nterms;
};

struct acl_cond {
	int unless;               /* `unless`: the result is inverted */
	struct acl_group *groups; /* OR'ed */
	int ngroups;
};

/* What a condition is evaluated against. Every field is optional: NULL
 * (or 0) means "not available here", and a fetch that needs it yields no
 * value, so that its ACL does not match (HAProxy's behaviour). */
struct acl_ctx {
	const struct sockaddr *src;
	const char *sni; /* lower-case, or NULL (no ClientHello, or no SNI in it) */
	int hello_type;  /* 0: no TLS handshake seen */
	/* path: the HTTP request-target as received, not NUL-terminated:
	 * "/a/b?q" or "http://host/a/b?q" (the path is taken from it) */
	const char *uri;
	size_t uri_len;
	/* nbsrv(<backend>): the usable servers of that backend, < 0 when
	 * there is no such backend */
	int (*nbsrv)(void *arg, const char *backend);
	void *nbsrv_arg;
	/* http_auth(<userlist>), http_auth_group(<userlist>): the request's
	 * Authorization header value as received (not NUL-terminated; NULL:
	 * none), and the userlists of the configuration the condition comes
	 * from (NULL: credentials are not looked at, the fetches have no
	 * value). Only `stats` rules fill them. */
	const char *authorization;
	size_t authorization_len;
	const struct cfg_userlist *userlists;
	/* sc_*() and src_*(): the stream's stick counters (smp.h's stk) */
	int (*stk)(void *arg, int sc, const char *table, int data, int64_t *out);
	void *stk_arg;
};

/* Parse `<fetch>[,<conv>...] [flags] <pattern>...` (e.g. "src 10.0.0.0/8
 * -f trusted.lst"). Returns NULL with `err` filled. */
struct acl_expr *acl_expr_parse(char *const *words, int nwords, char *err, size_t errlen);
void acl_expr_free(struct acl_expr *expr);

/* `acl <name> <fetch> <patterns>`: add to (or create) the named ACL in
 * `*list`. Returns 0, or -1 with `err` filled. */
int acl_declare(struct acl **list, const char *name, char *const *words, int nwords, char *err,
                size_t errlen);
const struct acl *acl_find(const struct acl *list, const char *name);
void acl_list_free(struct acl *list);

/* Parse a condition starting at its `if`/`unless` word. `named` are the
 * ACLs visible here (they take precedence over the predefined ones).
 * Returns NULL with `err` filled. */
struct acl_cond *acl_cond_parse(char *const *words, int nwords, const struct acl *named, char *err,
                                size_t errlen);
void acl_cond_free(struct acl_cond *cond);

/* What a condition reads: bits 1u << enum acl_fetch. */
unsigned acl_cond_fetches(const struct acl_cond *cond);

/* The backends a condition names (`nbsrv(<backend>)`), the named ACLs it
 * uses included, for the caller to check at configuration time: `fn` is
 * called once per reference, in order; a non-zero return stops the walk
 * and is returned. acl_list_backends() does the same for declared ACLs. */
int acl_cond_backends(const struct acl_cond *cond, int (*fn)(void *arg, const char *backend),
                      void *arg);
int acl_list_backends(const struct acl *list, int (*fn)(void *arg, const char *backend), void *arg);

/* The same for stick tables (`sc_conn_cur(0,<table>)`, `src_conn_rate(<table>)`). */
int acl_cond_tables(const struct acl_cond *cond, int (*fn)(void *arg, const char *table), void *arg);
int acl_list_tables(const struct acl *list, int (*fn)(void *arg, const char *table), void *arg);

/* The same for userlists (`http_auth(<userlist>)`, `http_auth_group(...)`):
 * fn(arg, userlist, NULL) once per reference, then, for http_auth_group
 * with the default `str` method, fn(arg, userlist, group) for each
 * pattern, so that the caller can check that the group exists. */
int acl_cond_userlists(const struct acl_cond *cond,
                       int (*fn)(void *arg, const char *userlist, const char *group), void *arg);
int acl_list_userlists(const struct acl *list,
                       int (*fn)(void *arg, const char *userlist, const char *group), void *arg);

/* 1 when the condition holds (a NULL condition always holds). */
int acl_cond_eval(const struct acl_cond *cond, const struct acl_ctx *ctx);

/* The i-th word of acl.c's tables (match methods, integer operators,
 * derived keywords, predefined ACLs), NULL past the end: for
 * documentation checks. */
const char *acl_word_at(size_t i);

#endif
