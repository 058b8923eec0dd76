/* acl.h - HAProxy-style conditions: `if|unless <terms>` (pure).
 *
 * One parser for every rule that takes a condition. A condition is an OR
 * (`||` or `or`) of AND-groups of terms; a term is an optional `!` and
 * either the name of an `acl` declared earlier in the section or an
 * anonymous ACL in braces: `{ src 10.0.0.0/8 ::1 }`. An ACL is a fetch
 * and its patterns (or `-f <file>` with one per line); several `acl`
 * lines with one name are OR'ed, as in HAProxy. Fetches: `src` (CIDRs),
 * `req.ssl_sni` (host names from the client's ClientHello: exact,
 * `*.suffix`, or with `-m end|beg`; always without case) and
 * `req_ssl_hello_type` (integers: 1 is a ClientHello).
 */
#ifndef PPB_ACL_H
#define PPB_ACL_H

#include <stddef.h>
#include <sys/socket.h>

struct net_cidr;

enum acl_fetch {
	ACL_FETCH_SRC = 0,          /* the connection's source address */
	ACL_FETCH_SSL_SNI,          /* req.ssl_sni: the ClientHello's server name */
	ACL_FETCH_SSL_HELLO_TYPE,   /* req_ssl_hello_type: 1 for a ClientHello */
};
#define ACL_NEEDS_CONTENT ((1u << ACL_FETCH_SSL_SNI) | (1u << ACL_FETCH_SSL_HELLO_TYPE))

enum acl_match {
	ACL_MATCH_STR = 0, /* exact; "*.suffix" matches the names below it */
	ACL_MATCH_END,
	ACL_MATCH_BEG,
};

/* One ACL: a fetch and the patterns any of which may match. */
struct acl_expr {
	struct acl_expr *next; /* OR'ed with the next one of the same name */
	enum acl_fetch fetch;
	struct net_cidr *nets; /* src */
	int nnets;
	char **strs;           /* req.ssl_sni, lower-case */
	int nstrs;
	enum acl_match match;
	int *ints;             /* req_ssl_hello_type */
	int nints;
};

struct acl {
	struct acl *next;
	char *name;
	struct acl_expr *exprs;
};

struct acl_term {
	int negate;
	const struct acl *named;     /* declared with `acl` (not owned) */
	struct acl_expr *anonymous;  /* `{ ... }` (owned) */
};

/* An AND-group of terms. */
struct acl_group {
	struct acl_term *terms;
	int nterms;
};

struct acl_cond {
	int unless; /* `unless`: the result is inverted */
	struct acl_group *groups; /* OR'ed */
	int ngroups;
};

/* What a condition is evaluated against. */
struct acl_ctx {
	const struct sockaddr *src;
	const char *sni;  /* lower-case, or NULL (no ClientHello, or no SNI in it) */
	int hello_type;   /* 0: no TLS handshake seen */
};

/* Parse `<fetch> <pattern>...` (e.g. "src 10.0.0.0/8 -f trusted.lst").
 * Returns NULL with `err` filled. */
struct acl_expr *acl_expr_parse(char *const *words, int nwords, char *err, size_t errlen);
void acl_expr_free(struct acl_expr *expr);

/* `acl <name> <fetch> <patterns>`: add to (or create) the named ACL in
 * `*list`. Returns 0, or -1 with `err` filled. */
int acl_declare(struct acl **list, const char *name, char *const *words, int nwords, char *err,
		size_t errlen);
const struct acl *acl_find(const struct acl *list, const char *name);
void acl_list_free(struct acl *list);

/* Parse a condition starting at its `if`/`unless` word. `named` are the
 * ACLs visible here. Returns NULL with `err` filled. */
struct acl_cond *acl_cond_parse(char *const *words, int nwords, const struct acl *named,
				char *err, size_t errlen);
void acl_cond_free(struct acl_cond *cond);

/* The fetches a condition uses: bits 1 << enum acl_fetch. */
unsigned acl_cond_fetches(const struct acl_cond *cond);

/* 1 when the condition holds (a NULL condition always holds). */
int acl_cond_eval(const struct acl_cond *cond, const struct acl_ctx *ctx);

#endif
