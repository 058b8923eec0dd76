/* stats_form.h - what a browser sends to the stats page (pure).
 *
 * Two parsers, no I/O, for the HTTP stats dispatcher:
 *
 * stats_uri_parse(): the options after the `stats uri` prefix, as HAProxy
 * 2.6 reads them: the request target must begin with the prefix (a plain
 * byte comparison, as HAProxy's: "/stats" also takes "/statsx"), then
 * each of ";csv", ";up", ";norefresh" and ";st=XXXX" counts wherever it
 * stands after the prefix, in any order, query string included. So
 * "/stats;csv;norefresh", "/stats;norefresh;csv" and, with HAProxy's
 * default `stats uri /haproxy?stats`, "/haproxy?stats;csv" all ask for
 * the CSV. An ";st=" code that is not one of HAProxy's reads as UNKN, as
 * HAProxy does. (";norefresh" only matters when `stats refresh` is set;
 * the renderer ignores it otherwise. HAProxy's ";typed", ";json" and
 * ";scope=" are not recognised: the caller serves the HTML page.)
 *
 * stats_form_parse(): an application/x-www-form-urlencoded POST body.
 * Either HAProxy's own admin form, field for field:
 *     s=<server>        one per ticked server, repeatable
 *     action=ready|drain|maint
 *     b=#<iid>          the backend: "#" and HAProxy's proxy id (1-based
 *                       declaration order), or its name (HAProxy 2.6
 *                       accepts both: proxy_be_by_name())
 * or ppbridge's client-IP switch of one frontend:
 *     action=set-client-ip
 *     fe=<frontend name>
 *     client_ip=none|xff|proxy-v1|proxy-v2|auto
 * Unknown fields are ignored (as HAProxy does); when a field comes twice
 * the last one wins (HAProxy reads the body backwards and keeps the first
 * it meets), except `s`, which accumulates.
 *
 * A POST, as HAProxy answers it (the dispatcher's part):
 *   not allowed (no `stats admin`)            -> st = DENY
 *   stats_form_parse() != OK                  -> st = stats_form_st(rc)
 *   SERVERS: stats_form_backend() == NULL     -> st = ERRP
 *            per server found in that backend, `set server <b>/<s> state
 *            <stats_form_action_name()>` at operator level; a name not in
 *            the backend counts as not altered (look it up first: never
 *            paste a form's name into a command line unchecked)
 *                                             -> st = stats_st_of_result()
 *   CLIENT_IP: `set frontend <fe> client-ip <name>` -> DONE, or ERRP
 * then "303 See Other" to <stats uri>;st=<stats_st_name(st)> (keeping
 * ;up and ;norefresh), whose page shows the result (stats_page_opts.st).
 */
#ifndef PPB_STATS_FORM_H
#define PPB_STATS_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h" /* enum cfg_client_ip */

struct cfg;
struct cfg_proxy;

#define STATS_FORM_MAX_BODY 16384  /* bytes of body */
#define STATS_FORM_MAX_FIELDS 256  /* name=value pairs */
#define STATS_FORM_MAX_LEN 128     /* bytes of one decoded name or value */
#define STATS_FORM_MAX_SERVERS 128 /* `s=` fields of one request */

/* HAProxy's result codes of the admin page (`;st=XXXX` after the POST's
 * redirection), in the order HAProxy declares them, INIT first (none). */
enum stats_st {
	STATS_ST_INIT = 0, /* no code: nothing to show */
	STATS_ST_DENY,     /* not allowed (POST without `stats admin`) */
	STATS_ST_DONE,     /* every server named was changed */
	STATS_ST_ERRP,     /* invalid parameters (action, backend, servers) */
	STATS_ST_EXCD,     /* too much data: retry with fewer servers */
	STATS_ST_NONE,     /* nothing to do (no server ticked) */
	STATS_ST_PART,     /* some servers changed, some not */
	STATS_ST_UNKN,     /* an ;st= code we do not know */
	STATS_ST_IVAL,     /* a method other than GET, HEAD and POST */
	STATS_ST_COUNT
};

/* The options of a stats request target. */
struct stats_uri {
	bool csv;         /* ;csv: `show stat`'s CSV instead of the page */
	bool up;          /* ;up: hide the servers that are DOWN */
	bool norefresh;   /* ;norefresh: no automatic refresh */
	enum stats_st st; /* ;st=XXXX, STATS_ST_INIT without */
};

/* `target` (the request target, `len` bytes, not NUL-terminated) against
 * the `stats uri` `prefix`: 0 with `out` filled when it is a stats
 * request, -1 when the target does not begin with the prefix. Pure. */
int stats_uri_parse(const char *target, size_t len, const char *prefix, struct stats_uri *out);

/* The four letters of a code ("DONE"), "" for INIT. */
const char *stats_st_name(enum stats_st st);

/* HAProxy's verdict after a server action: `total` servers were named,
 * `altered` of them changed (NONE, ERRP, DONE or PART). */
enum stats_st stats_st_of_result(int total, int altered);

/* What the form asks. */
enum stats_form_kind {
	STATS_FORM_SERVERS = 0, /* HAProxy's form: an action on servers of a backend */
	STATS_FORM_CLIENT_IP,   /* set-client-ip on one frontend */
};

/* The server actions ppbridge executes; their names are the words of
 * the admin socket's `set server <b>/<s> state <word>`. */
enum stats_form_action {
	STATS_ACT_READY = 0,
	STATS_ACT_DRAIN,
	STATS_ACT_MAINT,
};

struct stats_form {
	enum stats_form_kind kind;
	/* STATS_FORM_SERVERS */
	enum stats_form_action action;
	char backend[STATS_FORM_MAX_LEN + 1]; /* `b` as sent: "#<iid>" or a name */
	int nservers;
	char servers[STATS_FORM_MAX_SERVERS][STATS_FORM_MAX_LEN + 1];
	/* STATS_FORM_CLIENT_IP */
	char frontend[STATS_FORM_MAX_LEN + 1];
	enum cfg_client_ip client_ip;
};

/* Why a body was refused. Every one but OK maps to an `st` code with
 * stats_form_st(). */
enum stats_form_rc {
	STATS_FORM_OK = 0,
	STATS_FORM_E_TOO_BIG,     /* body over STATS_FORM_MAX_BODY          -> EXCD */
	STATS_FORM_E_FIELDS,      /* over STATS_FORM_MAX_FIELDS fields      -> EXCD */
	STATS_FORM_E_SERVERS,     /* over STATS_FORM_MAX_SERVERS `s` fields -> EXCD */
	STATS_FORM_E_LONG,        /* a name or value over STATS_FORM_MAX_LEN -> ERRP */
	STATS_FORM_E_ENCODING,    /* a bad %-escape, or %00                  -> ERRP */
	STATS_FORM_E_ACTION,      /* an action nobody knows                  -> ERRP */
	STATS_FORM_E_UNSUPPORTED, /* one of HAProxy's actions that ppbridge does not
	                           * have (shutdown, dhlth, ehlth, hrunn, hnolb, hmaint,
	                           * hdown, dagent, eagent, arunn, adown, and the old
	                           * enable, disable, start, stop)  -> ERRP */
	STATS_FORM_E_MISSING,     /* no action, no backend or no server      -> NONE */
	STATS_FORM_E_FRONTEND,    /* set-client-ip without `fe`              -> ERRP */
	STATS_FORM_E_STRATEGY,    /* set-client-ip without a known `client_ip` -> ERRP */
	STATS_FORM_RC_COUNT
};

/* Parse a body of `len` bytes (not NUL-terminated; may hold any byte).
 * Returns STATS_FORM_OK with `out` filled, or the reason. Pure. */
enum stats_form_rc stats_form_parse(const char *body, size_t len, struct stats_form *out);

/* The `st` code the page shows for a refused body (NONE, ERRP or EXCD;
 * INIT for OK: the action still has to run). */
enum stats_st stats_form_st(enum stats_form_rc rc);
/* A short English reason, for logs. */
const char *stats_form_strerror(enum stats_form_rc rc);
/* "ready", "drain", "maint". */
const char *stats_form_action_name(enum stats_form_action a);

/* The backend a form's `b` names in `cfg`: "#<iid>" by HAProxy's proxy id
 * (1-based position among frontends, backends and listens), else by
 * name; only sections that are backends (or listens). NULL when none. */
const struct cfg_proxy *stats_form_backend(const struct cfg *cfg, const char *b);

#endif
